#!/bin/sh
# test_fleet.sh - the fleet end to end, the way a farm runs it: 50
# simulated Moonraker printers (rrcloud-printersim) behind 3 zrok
# frontends (stand-ins: nginx reverse proxies), enrolled through the API,
# an agent loop (heartbeats, moves, "bed cleared"), and 200 copies of jobs
# with mixed materials and profiles.  All must complete on printers of the
# right material and profile, and no copy may be printed twice (the
# simulator's own print history is the witness).  Then faults: printers
# that fail a print, one whose Klippy shuts down, printers offline
# mid-print (back within the lease, and one past it), and a frontend whose
# nginx stops.  In the end every copy is complete or failed with a reason,
# and the retries visibly went to other printers.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
BUILDDIR=$(cd "$(dirname "$SIM")" && pwd)
export BUILDDIR

NP=50                  # printers; sim printer 51 is the frontends' canary
ADM="Authorization: Bearer adm-fleet-test-0123456789abcdef0123456789"
STACKSH=$top_srcdir/scripts/stack.sh
STACK=$T/stack

SIM_PORT=$(free_port)
FE_PORTS=""
for k in 1 2 3; do
    p=$(free_port)
    while [ "$p" = "$SIM_PORT" ] || echo " $FE_PORTS " | grep -q " $p "; do
        p=$((p + 1))
    done
    FE_PORTS="$FE_PORTS $p"
done
set -- $FE_PORTS
FE1=$1 FE2=$2 FE3=$3

# Simulated time runs 30x: a 180 s print takes about 6 s here.
"$STACKSH" printersim "$STACK" "$SIM_PORT" --printers=$((NP + 1)) \
    --time-scale=30 --print-seconds=180 --jitter=0.2 --seed=3 ||
    { echo "simulator did not start"; exit 99; }
for k in 1 2 3; do
    eval port=\$FE$k
    "$STACKSH" frontend "$STACK" "fe$k" "$port" "$SIM_PORT" ||
        { echo "frontend fe$k did not start"; exit 99; }
done
SIMURL=http://127.0.0.1:$SIM_PORT

canary() { echo "canary=http://127.0.0.1:$1/p/$((NP + 1))/server/info"; }
STACK_CONF_EXTRA="admin_token = adm-fleet-test-0123456789abcdef0123456789
enroll_token = enr-fleet-test-0123456789abcdef0123456789
fleet_poll_interval = 1s
fleet_offline_backoff = 4s
fleet_request_timeout = 5s
fleet_lease = 30s
fleet_fail_per_printer = 1
fleet_fail_printers = 3
fleet_quarantine_after = 0
frontend_check_interval = 1s
frontend_fail_threshold = 2
frontend_grace = 2s
frontend = fe1 eu http://127.0.0.1:$FE1 capacity=30 $(canary "$FE1")
frontend = fe2 eu http://127.0.0.1:$FE2 capacity=30 $(canary "$FE2")
frontend = fe3 eu http://127.0.0.1:$FE3 capacity=30 $(canary "$FE3")"
export STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

api() { # METHOD PATH [curl args...]: JSON answer on stdout
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "$ADM" "$@" "$BASE/api/v1$p"
}

# ---- enrollment: 50 printers, materials x profiles, 10 without auto-eject --
MATS="pla petg abs"
mkdir -p "$T/p"
i=1
while [ $i -le $NP ]; do
    mat=$(echo $MATS | cut -d' ' -f$(( (i - 1) % 3 + 1 )))
    prof=mk3s; [ $((i % 2)) -eq 0 ] && prof=voron24-0.4
    eject=true; [ $i -le 10 ] && eject=false
    out=$(curl -s -m 10 -H "Authorization: Bearer enr-fleet-test-0123456789abcdef0123456789" \
        -H 'Content-Type: application/json' -d "{\"name\":\"sim$i\",
        \"region\":\"eu\",\"material\":\"$mat\",\"profile\":\"$prof\",
        \"queues\":[\"default\"],\"auto_eject\":$eject}" "$BASE/api/v1/printers")
    id=$(printf "%s" "$out" | jq -r '.id // empty')
    tok=$(printf "%s" "$out" | jq -r '.token // empty')
    feurl=$(printf "%s" "$out" | jq -r '.frontend.url // empty')
    if [ -z "$id" ] || [ -z "$tok" ] || [ -z "$feurl" ]; then
        fail "enroll printer $i: $out"
        break
    fi
    # the agent's part: share Moonraker through the assigned frontend
    echo "$i $tok" >"$T/p/$id"
    curl -s -m 10 -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"share_url\":\"$feurl/p/$i\"}" "$BASE/api/v1/printers/$id/share"
    i=$((i + 1))
done
n=$(api GET "/printers?limit=1000" | jq '.printers | length')
expect_eq "printers enrolled" "$NP" "$n"
per_fe=$(api GET "/printers?limit=1000" | jq -r '[.printers[].frontend] | group_by(.) | map(length) | map(tostring) | join(" ")')
expect_eq "printers spread over the 3 frontends" "17 17 16" "$per_fe"

# The agent loop: heartbeats (moving when told), and "bed cleared" for
# printers without auto-eject, as an operator would.
agent() {
    while :; do
        for f in "$T"/p/*; do
            id=${f##*/}
            read -r sim tok <"$f"
            hb=$(curl -s -m 5 -X POST -H "Authorization: Bearer $tok" \
                 -H 'Content-Type: application/json' -d '{}' \
                 "$BASE/api/v1/printers/$id/heartbeat")
            if [ "$(printf "%s" "$hb" | jq -r '.move // false')" = true ]; then
                feurl=$(printf "%s" "$hb" | jq -r '.frontend.url')
                curl -s -m 5 -o /dev/null -X PUT \
                    -H "Authorization: Bearer $tok" \
                    -H 'Content-Type: application/json' \
                    -d "{\"share_url\":\"$feurl/p/$sim\"}" \
                    "$BASE/api/v1/printers/$id/share"
                echo "$id $feurl" >>"$T/moves"
            fi
        done
        for id in $(api GET "/printers?state=needs_clearing&limit=1000" |
                    jq -r '.printers[].id'); do
            api POST "/printers/$id/cleared" -d '' >/dev/null
        done
        sleep 0.5
    done
}
agent >/dev/null 2>&1 &
EXTRA_PIDS="$!"

# ---- 200 copies: 40 jobs of 5, mixed materials and profiles ---------------
printf 'G28\nG1 Z5 F600\nG1 X10 Y10 E1\n' >"$T/any.gcode"
printf '; for mk3\nG28\nG1 X20 E2\n' >"$T/mk3.gcode"
printf '; for voron\nG28\nG1 X30 E3\n' >"$T/voron.gcode"
j=0
while [ $j -lt 40 ]; do
    mat=$(echo $MATS | cut -d' ' -f$(( j % 3 + 1 )))
    case $((j % 4)) in
    0) files="-F file=@$T/any.gcode" ;;
    1) files="-F file_mk3s=@$T/mk3.gcode -F file_voron24-0.4=@$T/voron.gcode" ;;
    2) files="-F file_mk3s=@$T/mk3.gcode" ;;
    3) files="-F file_voron24-0.4=@$T/voron.gcode" ;;
    esac
    out=$(curl -s -m 20 -H "$ADM" $files -F copies=5 -F "material=$mat" \
          -F "name=job$j" "$BASE/api/v1/queues/default/jobs")
    id=$(printf "%s" "$out" | jq -r '.id // empty')
    [ -n "$id" ] || { fail "submit job $j: $out"; break; }
    echo "$id" >>"$T/jobs"
    j=$((j + 1))
done
check "40 jobs accepted" test "$(wc -l <"$T/jobs")" -eq 40

# ---- faults, injected while the farm works ---------------------------------
sim_ctl() { curl -s -m 5 -o /dev/null -X POST "$SIMURL/sim/printers/$1/$2"; }
# Five printers fail their next print half-way, one shuts Klippy down.
for s in 3 8 13 21 34; do sim_ctl "$s" "fail-next?mode=error&at=0.5"; done
sim_ctl 27 "fail-next?mode=shutdown&at=0.3"
sleep 3
# Three printers (not behind fe1, which dies next) drop off the network
# mid-print and return within the lease.
for s in 5 18 42; do sim_ctl "$s" offline; done
# One goes away for longer than the lease and loses its print meanwhile
# (Klippy shutdown while unreachable): its copy must move, but only after
# the lease ended.
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$SIMURL/sim/printers/44" |
        jq -r .result.print_state)" != printing ]; do
    sleep 0.1; i=$((i + 1))
done
sim_ctl 44 offline
sim_ctl 44 shutdown
sleep 6
for s in 5 18 42; do sim_ctl "$s" online; done
# A frontend dies: its printers must be moved to the others.
"$STACKSH" frontend-stop "$STACK" fe1
sleep 36
sim_ctl 44 online

# ---- wait for the end --------------------------------------------------------
deadline=$(( $(date +%s) + 300 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
    active=$(api GET "/jobs?limit=1000" |
             jq '[.jobs[] | select(.state != "complete" and .state != "failed" and .state != "cancelled")] | length')
    [ "$active" = 0 ] && break
    sleep 2
done
expect_eq "every job ended" 0 "$active"

api GET "/jobs?limit=1000" >"$T/jobs.json"
for id in $(cat "$T/jobs"); do
    api GET "/jobs/$id" >"$T/job-$id.json"
done
api GET "/printers?limit=1000" >"$T/printers.json"
since=0
: >"$T/events.txt"
while :; do   # pages of 1000
    page=$(api GET "/events?since=$since&limit=1000")
    n=$(printf "%s" "$page" | jq '.events | length')
    [ "${n:-0}" -gt 0 ] || { [ "$since" = 0 ] && echo "# events: $page"; break; }
    printf "%s" "$page" | jq -r '.events[] | "\(.kind) \(.printer) \(.job) \(.message)"' >>"$T/events.txt"
    since=$(printf "%s" "$page" | jq '.events[-1].id')
done
curl -s "$SIMURL/sim/history" >"$T/history.json"

# Every copy complete, or failed with a reason.
bad=$(jq -r '.jobs[] | select(.copies_by_state.complete + .copies_by_state.failed != .copies) | .id' "$T/jobs.json")
expect_eq "every copy complete or failed" "" "$bad"
noreason=$(for id in $(cat "$T/jobs"); do
    jq -r '.attempts | group_by(.copy)[] | select(all(.state != "complete")) |
           select(all((.reason // "") == "")) | .[0].copy' "$T/job-$id.json"
done)
expect_eq "failed copies say why" "" "$noreason"
done_copies=$(jq '[.jobs[].copies_by_state.complete] | add' "$T/jobs.json")
failed_copies=$(jq '[.jobs[].copies_by_state.failed] | add' "$T/jobs.json")
echo "# $done_copies copies complete, $failed_copies failed"
check "most copies complete" test "$done_copies" -ge 190

# Each attempt ran on a printer with the job's material and a file for
# its profile; failed attempts say why.
jq -r '.printers[] | "\(.id) \(.material) \(.profile)"' "$T/printers.json" \
    >"$T/pmat"
for id in $(cat "$T/jobs"); do
    jq -r '. as $j | .attempts[] | "\(.printer) \($j.material) \(.state)"' \
        "$T/job-$id.json"
done >"$T/attempts"
wrong=$(awk 'NR==FNR { mat[$1] = $2; next } mat[$1] != $2 { print }' \
        "$T/pmat" "$T/attempts")
expect_eq "material respected" "" "$wrong"
noreason=$(for id in $(cat "$T/jobs"); do
    jq -r '.attempts[] | select((.state == "failed" or .state == "lost") and
           (.reason // "") == "") | .id' "$T/job-$id.json"
done)
expect_eq "failed attempts carry a reason" "" "$noreason"
for id in $(cat "$T/jobs"); do
    jq -r '. as $j | .files | map(.profile) | join(",") as $fp |
           $j.attempts[] | "\(.printer) \($fp)"' "$T/job-$id.json"
done >"$T/profiles"
wrongp=$(awk 'NR==FNR { prof[$1] = $3; next }
              $2 != "" && index("," $2 ",", "," prof[$1] ",") == 0 { print }' \
         "$T/pmat" "$T/profiles")
expect_eq "profile respected" "" "$wrongp"

# No copy printed twice: the simulator completed each (job, copy) once.
twice=$(jq -r '.result.jobs[] | select(.status == "completed") | .filename' \
        "$T/history.json" | sed -n 's/^\(.*\/\)\{0,1\}rr-\([0-9]*\)-\([0-9]*\)-[0-9]*\.gcode$/\2-\3/p' |
        sort | uniq -d)
expect_eq "no copy printed twice" "" "$twice"
printed=$(jq -r '.result.jobs[] | select(.status == "completed") | .filename' \
          "$T/history.json" | grep -c '^rr-')
expect_eq "every complete copy printed exactly once" "$done_copies" "$printed"

# Retries moved to other printers: a copy that failed or was lost on one
# printer completed on another.
for id in $(cat "$T/jobs"); do
    jq -r '.attempts | group_by(.copy)[] |
           select(any(.state == "failed" or .state == "lost")) |
           [(map(select(.state == "failed" or .state == "lost") | .printer)),
            (map(select(.state == "complete") | .printer))] |
           select(.[1] | length > 0) |
           select((.[1][0] as $ok | .[0] | index($ok)) == null) | "moved"' \
        "$T/job-$id.json"
done >"$T/moved"
check "retries completed on other printers" test "$(grep -c moved "$T/moved")" -ge 3
ev=$(cat "$T/events.txt")
expect_contains "print errors seen" "$ev" "print error"
expect_contains "klippy shutdown seen" "$ev" "shutdown"
expect_contains "lease expiry seen" "$ev" "lease expired"
check "printers moved off the dead frontend" test -s "$T/moves"
on_fe1=$(jq '[.printers[] | select(.frontend == "fe1")] | length' "$T/printers.json")
expect_eq "no printer left on fe1" 0 "$on_fe1"
fe=$(api GET "/frontends")
expect_contains "fe1 unhealthy" "$(printf "%s" "$fe" | jq -c '.frontends[] | select(.name == "fe1") | .healthy')" "false"

# ---- operator commands, a kill -9 of rrcloudd, a job cancel -----------------
P=7
pmat=$(api GET "/printers/$P" | jq -r .material)
wait_job() { # ID STATE SECONDS
    i=0
    while [ $i -lt $(( $3 * 5 )) ]; do
        st=$(api GET "/jobs/$1" | jq -r .state)
        [ "$st" = "$2" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    echo "# job $1 is $st, not $2"
    return 1
}
wait_sim() { # SIMID STATE SECONDS
    i=0
    while [ $i -lt $(( $3 * 5 )) ]; do
        st=$(curl -s "$SIMURL/sim/printers/$1" | jq -r .result.print_state)
        [ "$st" = "$2" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    echo "# sim printer $1 is $st, not $2"
    return 1
}
submit_to() { # PRINTER: a one-copy job for that printer, prints its id
    curl -s -m 20 -H "$ADM" -F "file=@$T/any.gcode" -F copies=1 \
        -F "material=$pmat" -F "printer=$1" "$BASE/api/v1/queues/default/jobs" |
        jq -r '.id // empty'
}
job=$(submit_to $P)
check "job for printer $P accepted" test -n "$job"
check "it prints" wait_job "$job" printing 20
check "the simulator prints it" wait_sim $P printing 10
api POST "/printers/$P/pause" -d '' >/dev/null
check "pause reaches the printer" wait_sim $P paused 10
# rrcloudd dies hard while the print is paused, and comes back after
# longer than the lease (30 s): the print is still ours, not lost
rrcloudd_stop KILL || fail "rrcloudd did not die"
sleep 32
rrcloudd_start
sleep 2
expect_eq "still paused after the restart" paused \
    "$(curl -s "$SIMURL/sim/printers/$P" | jq -r .result.print_state)"
api POST "/printers/$P/resume" -d '' >/dev/null
check "resume reaches the printer" wait_sim $P printing 10
check "the job completes after the restart" wait_job "$job" complete 60
n=$(jq -n --argjson h "$(curl -s "$SIMURL/sim/printers/$P/history")" \
    --arg f "rr-$job-0-" '[$h.result[] | select(.filename | startswith($f))] | length')
expect_eq "printed once across the restart" 1 "$n"
job2=$(submit_to $P)
check "second job prints" wait_job "$job2" printing 30
api POST "/jobs/$job2/cancel" -d '{"reason":"test cancel"}' >/dev/null
check "cancelled job ends" wait_job "$job2" cancelled 20
st=$(curl -s "$SIMURL/sim/printers/$P/history" |
     jq -r --arg f "rr-$job2-0-" '.result[] | select(.filename | startswith($f)) | .status')
expect_eq "the printer cancelled the print" cancelled "$st"

kill $EXTRA_PIDS 2>/dev/null
EXTRA_PIDS=""
finish
