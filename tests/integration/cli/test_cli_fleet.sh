#!/bin/sh
# test_cli_fleet.sh - the rrcloud client's fleet commands against a real
# stack (nginx, rrcloud-fcgi, rrcloudd) and rrcloud-printersim: printers
# enrolled as the agent would, then rrcloud printers/queues/jobs/job, the
# token from --token, RRCLOUD_TOKEN and rrcloudrc, missing and wrong tokens
# (exit 4), print --async and print.cloud, refused prints, printer
# maintenance on/off, and - when rrcloudd runs the fleet loop - a print of
# two copies followed to the end (exit 0) and one that fails everywhere
# (exit 1).
#
# Binaries: $RRCLOUD (else $builddir/rrcloud), $RRCLOUD_PRINTERSIM (else
# $builddir/rrcloud-printersim).  Exit 0 pass, 1 fail, 77 skip.

# Skips come before lib.sh: its exit trap counts any other status as a
# failure.
: "${builddir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
RR=${RRCLOUD:-$builddir/rrcloud}
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
for need in "$RR" "$SIM"; do
    [ -x "$need" ] || { echo "SKIP: $need not built"; exit 77; }
done
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl missing"; exit 77; }
. "$(dirname "$0")/../lib.sh"

rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
ADMIN=adm-$(rand)
ENROLL=enr-$(rand)
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
fleet_poll_interval = 1"
export STACK_CONF_EXTRA
stack_start nginx

W="$T/work"
mkdir -p "$W/bin" "$W/home"
cd "$W" || exit 99
export HOME="$W/home"
unset RRCLOUD_TOKEN
ln -s "$RR" bin/print.cloud
cp "$top_srcdir/tests/data/small.gcode" part.gcode
S="--s=127.0.0.1:$PORT"

# run WANT-RC command...: output in $T/out and $T/err
run() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    expect_eq "exit status of: $*" "$want" "$got"
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }

# --- the simulator: 3 printers, a 600 s print takes 3 s ------------------
"$SIM" --port=0 --printers=3 --time-scale=200 --print-seconds=600 \
    >"$T/sim.out" 2>"$T/sim.err" &
EXTRA_PIDS=$!
i=0
while [ $i -lt 50 ]; do
    SIMPORT=$(sed -n 's/^rrcloud-printersim: listening on http:\/\/127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$T/sim.out")
    [ -n "$SIMPORT" ] && break
    sleep 0.1; i=$((i + 1))
done
[ -n "$SIMPORT" ] || { cat "$T/sim.err"; echo "simulator did not start"; exit 99; }
SIMURL="http://127.0.0.1:$SIMPORT"

# --- a queue, and three printers enrolled as the agent does ----------------
code=$(http_status POST "$BASE/api/v1/queues" -H "Authorization: Bearer $ADMIN" \
       -H 'Content-Type: application/json' -d '{"name":"farm"}')
expect_eq "queue created" 201 "$code"
IDS=""
for n in 1 2 3; do
    code=$(http_status POST "$BASE/api/v1/printers" \
           -H "Authorization: Bearer $ENROLL" -H 'Content-Type: application/json' \
           -d "{\"name\":\"sim-$n\",\"queues\":[\"farm\"],\"material\":\"pla\",\"auto_eject\":true}")
    expect_eq "printer $n enrolled" 201 "$code"
    id=$(body | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
    tok=$(body | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    code=$(http_status PUT "$BASE/api/v1/printers/$id/share" \
           -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
           -d "{\"share_url\":\"$SIMURL/p/$n\"}")
    expect_eq "printer $n reported its share URL" 200 "$code"
    IDS="$IDS $id"
    PTOKEN=$tok
done
# a share URL without its //host is refused, as a notifier's is
for bad in 'http:/x' 'http:///x' 'ftp://x/'; do
    code=$(http_status PUT "$BASE/api/v1/printers/$id/share" \
           -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
           -d "{\"share_url\":\"$bad\"}")
    expect_eq "share_url $bad: 400" 400 "$code"
    expect_contains "share_url $bad: names it" "$(body)" "share_url"
done
set -- $IDS
P1=$1; P3=$3

# --- printers: the token three ways, missing and wrong ones ---------------
run 0 "$RR" "$S" --token="$ADMIN" printers
expect_contains "printers lists sim-1" "$(out)" "sim-1"
expect_contains "printers lists sim-3" "$(out)" "sim-3"
expect_contains "printers shows the share URL" "$(out)" "$SIMURL/p/2"
expect_contains "printers has a header" "$(out)" "LAST SEEN"
expect_eq "one line per printer and a header" 4 "$(out | wc -l | tr -d ' ')"
run 0 env RRCLOUD_TOKEN="$ADMIN" "$RR" "$S" printers --json
expect_contains "printers --json" "$(out)" '"printers"'
expect_contains "printers --json has the queue" "$(out)" '"farm"'
printf 'token = %s\n' "$ADMIN" >"$HOME/.rrcloudrc"
run 0 "$RR" "$S" printers --queue=farm
expect_contains "token from rrcloudrc" "$(out)" "sim-2"
rm -f "$HOME/.rrcloudrc"
run 4 "$RR" "$S" printers
expect_contains "a missing token says how to give one" "$(err)" "--token"
run 4 "$RR" "$S" printers --token=wrong-token
expect_contains "a wrong token is refused" "$(err)" "refused the token"
expect_not_contains "the token is not echoed" "$(err)" "wrong-token"
run 4 "$RR" "$S" --token="$PTOKEN" printers
expect_contains "a printer token is no admin token" "$(err)" "403"
run 2 "$RR" "$S" printers --token='two words'
run 2 "$RR" "$S" printers --copies=2
export RRCLOUD_TOKEN="$ADMIN"

run 0 "$RR" "$S" queues
expect_contains "queues lists farm" "$(out)" "farm"
expect_eq "farm has the 3 printers" 3 "$(out | awk '$1 == "farm" { print $2 }')"
run 0 "$RR" "$S" printer "$P1"
expect_contains "printer shows one" "$(out)" "name: sim-1"
run 4 "$RR" "$S" printer 999999
run 2 "$RR" "$S" printer x1

# --- end to end: rrcloudd's fleet loop makes the printers ready ---------------
ready=0
i=0
while [ $i -lt 100 ]; do
    "$RR" "$S" printers --json >"$T/p.json" 2>/dev/null
    [ "$(grep -c '"state": "ready"' "$T/p.json")" -eq 3 ] && { ready=1; break; }
    sleep 0.2; i=$((i + 1))
done
if [ $ready -eq 0 ]; then
    fail "the fleet's printers never became ready"
else
    run 0 timeout 120 "$RR" "$S" --timeout=100 print part.gcode --copies=2 \
        --queue=farm
    expect_contains "print follows the job to its end" "$(err)" "complete: 2 copies"
    expect_contains "print shows the copies' printers" "$(err)" "on printer"
    job=$(sed -n 's/^print .* is job \([0-9]*\)$/\1/p' "$T/err")
    check "print names its job" [ -n "$job" ]
    run 0 "$RR" "$S" job "$job"
    expect_contains "job is complete" "$(out)" "state: complete"
    expect_eq "two complete attempts" 2 "$(out | grep -c ' complete ')"
    curl -s "$SIMURL/sim/history" >"$T/hist"
    expect_contains "no copy printed twice" "$(cat "$T/hist")" '"duplicates":[]'
    expect_contains "two prints started" "$(cat "$T/hist")" '"count":2'
    # every printer fails its next print: the job fails after M printers
    curl -s -X POST "$SIMURL/sim/printers/all/fail-next?mode=error" >/dev/null
    run 1 timeout 120 "$RR" "$S" --timeout=100 print part.gcode --queue=farm
    expect_contains "a failed print says so" "$(err)" "failed"
fi

# --- print --async, print.cloud, jobs, job ------------------------------------
run 0 "$RR" "$S" print part.gcode --copies 2 --queue farm --material=pla --async
id=$(sed -n 's/^id: //p' "$T/out")
check "print --async prints an id" [ -n "$id" ]
run 0 "$RR" "$S" info "$id"
expect_contains "the print is a task" "$(out)" "service: print"
run 0 "$RR" "$S" jobs --queue=farm
expect_contains "jobs lists it" "$(out)" "task $id"
job=$(out | awk -v t="$id" '$0 ~ "task " t { print $1 }')
check "the job is found by its task" [ -n "$job" ]
run 0 "$RR" "$S" jobs --json
expect_contains "jobs --json" "$(out)" "\"task\": \"$id\""
# the task names its job: RepRapCloud's text and JSON, and the task API
# (to its owner: the key that printed it)
expect_contains "info names the job" \
    "$(curl -s -H "Authorization: Bearer $ADMIN" \
       "http://127.0.0.1:$PORT/?service=info&id=$id")" "job: $job"
expect_contains "the task API names the job" \
    "$(curl -s -H "Authorization: Bearer $ADMIN" \
       "http://127.0.0.1:$PORT/api/v1/tasks/$id")" "\"job\":$job,"
expect_contains "another caller does not see it" \
    "$(curl -s "http://127.0.0.1:$PORT/api/v1/tasks/$id")" "404"
run 0 "$RR" "$S" job "$job"
expect_contains "job shows its copies" "$(out)" "copies: 2"
expect_contains "job shows its file" "$(out)" "file: "
run 0 "$RR" "$S" --json job "$job"
expect_contains "job --json has attempts" "$(out)" '"attempts"'
printf 'servers = 127.0.0.1:%s\n' "$PORT" >"$HOME/.rrcloudrc"
run 0 bin/print.cloud part.gcode --queue=farm --async
check "print.cloud --async prints an id" grep -q '^id: ' "$T/out"
rm -f "$HOME/.rrcloudrc"

# --- refused prints ----------------------------------------------------------------
run 4 "$RR" "$S" print part.gcode --queue=farm --material=abs --async
expect_contains "no printer loads abs: told at once" "$(err)" "no printer could ever take"
run 4 "$RR" "$S" print part.gcode --queue=nosuch --async
expect_contains "unknown queue" "$(err)" "nosuch"
run 2 "$RR" "$S" print missing.gcode --queue=farm
run 2 "$RR" "$S" print part.gcode --copies=0
run 2 "$RR" "$S" print part.gcode --queue='a b'
run 2 "$RR" "$S" print
run 2 "$RR" --local print part.gcode

# --- printer maintenance on and off -------------------------------------------------
run 0 "$RR" "$S" printer "$P3" maintenance on --reason="new nozzle"
expect_contains "maintenance on answers" "$(out)" "maintenance"
run 0 "$RR" "$S" printer "$P3" --json
expect_contains "the printer is in maintenance" "$(tr -d ' ' <"$T/out")" '"maintenance":true'
expect_contains "with the reason" "$(out)" "new nozzle"
run 0 "$RR" "$S" printer "$P3" maintenance off
run 0 "$RR" "$S" printer "$P3" --json
expect_contains "maintenance off" "$(tr -d ' ' <"$T/out")" '"maintenance":false'
run 2 "$RR" "$S" printer "$P3" maintenance
run 2 "$RR" "$S" printer "$P3" frobnicate
run 4 "$RR" "$S" printer "$P3" maintenance on --token=wrong-token
