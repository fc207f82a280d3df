#!/bin/sh
# test_fleet_faults.sh - what a real Moonraker showed, replayed on the
# simulator (rrcloud-printersim), four printers reached directly:
#   1. Moonraker unreachable while a job arrives: the upload fails, the
#      printer goes offline (events say so, and that it came back), is not
#      quarantined and prints the copy once back; the rr-*.gcode file is
#      deleted from the printer after the print.
#   2. an operator's cancel of the current print (POST /printers/ID/cancel)
#      is no printer failure: the copy waits for the bed to be cleared and
#      then prints there again;
#   3. a job whose only printer failed it says why (waiting_reason, one
#      job_waiting event), prints there once an operator released the
#      printer, and fails after fleet_unplaceable_timeout if nobody does;
#   4. a print started on Moonraker directly leaves the bed to be cleared:
#      no job goes onto it; a print task waiting there and cancelled through
#      the relay (service=kill) calls its notifier.
# Simulated time runs at real speed with 600 s prints: the test moves the
# simulator's clock to end prints when it wants them ended.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
LISTEN=$builddir/tests/tools/rr-listen
[ -x "$LISTEN" ] || skip "rr-listen not built"
BUILDDIR=$(cd "$(dirname "$SIM")" && pwd)
export BUILDDIR

ADM="Authorization: Bearer adm-faults-test-0123456789abcdef0123456789"
STACKSH=$top_srcdir/scripts/stack.sh
STACK=$T/stack
SIM_PORT=$(free_port)
"$STACKSH" printersim "$STACK" "$SIM_PORT" --printers=4 --time-scale=1 \
    --print-seconds=600 --jitter=0 --hang-ms=10000 ||
    { echo "simulator did not start"; exit 99; }
SIMURL=http://127.0.0.1:$SIM_PORT

"$LISTEN" "$T/notify.log" >"$T/listen.port" 2>/dev/null &
EXTRA_PIDS="$!"
i=0
while [ ! -s "$T/listen.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
LPORT=$(cat "$T/listen.port")

STACK_CONF_EXTRA="admin_token = adm-faults-test-0123456789abcdef0123456789
enroll_token = enr-faults-test-0123456789abcdef0123456789
fleet_poll_interval = 1s
fleet_offline_backoff = 2s
fleet_request_timeout = 5s
fleet_upload_timeout = 2s
fleet_lease = 120s
fleet_fail_per_printer = 1
fleet_fail_printers = 3
fleet_quarantine_after = 1
fleet_unplaceable_timeout = 10s"
export STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

api() { # METHOD PATH [curl args...]: JSON answer on stdout
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "$ADM" "$@" "$BASE/api/v1$p"
}
sim_ctl() { curl -s -m 5 -o /dev/null -X POST "$SIMURL/sim/printers/$1/$2"; }
advance() { curl -s -m 5 -o /dev/null -X POST "$SIMURL/sim/clock?advance=$1"; }
until_true() { # SECONDS command...: retries the command every 0.2 s
    lim=$(( $1 * 5 )); shift; i=0
    while [ $i -lt $lim ]; do
        "$@" && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
pfield() { api GET "/printers/$1" | jq -r ".$2"; }
jfield() { api GET "/jobs/$1" | jq -r ".$2"; }
is_printer() { [ "$(pfield "$1" state)" = "$2" ]; }
is_job() { [ "$(jfield "$1" state)" = "$2" ]; }
is_sim() { [ "$(curl -s "$SIMURL/sim/printers/$1" | jq -r .result.print_state)" = "$2" ]; }
rr_files() { # SIMID: our files on that printer
    curl -s "$SIMURL/p/$1/server/files/list" | jq -r '.result[].path' | grep '^rr-'
}
no_rr_files() { [ -z "$(rr_files "$1")" ]; }
events() { # all events as "kind printer job message" lines
    api GET "/events?since=0&limit=1000" |
        jq -r '.events[] | "\(.kind) \(.printer) \(.job) \(.message)"'
}
submit_to() { # PRINTER: a one-copy job for that printer, prints its id
    curl -s -m 20 -H "$ADM" -F "file=@$T/part.gcode" -F copies=1 \
        -F "printer=$1" "$BASE/api/v1/queues/default/jobs" | jq -r '.id // empty'
}

# ---- four printers, reached without a tunnel; 2 and 4 keep their beds ------
for n in 1 2 3 4; do
    eject=true; [ $n -eq 2 ] || [ $n -eq 4 ] && eject=false
    out=$(curl -s -m 10 -H "Authorization: Bearer enr-faults-test-0123456789abcdef0123456789" \
        -H 'Content-Type: application/json' -d "{\"name\":\"sim$n\",
        \"queues\":[\"default\"],\"auto_eject\":$eject}" "$BASE/api/v1/printers")
    id=$(printf "%s" "$out" | jq -r '.id // empty')
    expect_eq "printer $n enrolled" "$n" "$id"
    api PUT "/printers/$n/share" -H 'Content-Type: application/json' \
        -d "{\"share_url\":\"$SIMURL/p/$n\"}" >/dev/null
done
for n in 1 2 3 4; do
    check "printer $n ready" until_true 15 is_printer $n ready
done
printf 'G28\nG1 Z5 F600\nG1 X10 Y10 E1\n' >"$T/part.gcode"

# ---- 1. unreachable during the upload ---------------------------------------
# The printer answered its last poll; now it holds every request (the
# next poll waits its 5 s timeout) and a job arrives: the upload times out.
sim_ctl 1 "offline?mode=hang"
j1=$(submit_to 1)
check "job for printer 1 accepted" test -n "$j1"
check "printer 1 seen offline" until_true 10 is_printer 1 offline
att=$(api GET "/jobs/$j1" | jq -r '.attempts[0] | "\(.state) \(.reason)"')
expect_contains "the attempt was lost on the upload" "$att" "lost upload failed"
expect_eq "not quarantined" false "$(pfield 1 quarantined)"
expect_eq "no failure counted" 0 "$(pfield 1 consecutive_failures)"
expect_eq "the copy waits" 1 "$(api GET "/jobs/$j1" | jq .copies_by_state.queued)"
sim_ctl 1 online
check "printer 1 prints the copy once back" until_true 20 is_sim 1 printing
expect_eq "our file is on the printer while it prints" 1 "$(rr_files 1 | wc -l)"
advance 700
check "job on printer 1 completes" until_true 15 is_job "$j1" complete
check "its rr-*.gcode is deleted from the printer" until_true 10 no_rr_files 1
ev=$(events)
expect_contains "offline event" "$ev" "printer_offline 1 null offline: unreachable"
expect_contains "back online event" "$ev" "printer_online 1 null online (was offline: unreachable)"
expect_eq "one offline event for one outage" 1 \
    "$(printf '%s\n' "$ev" | grep -c '^printer_offline 1 ')"

# ---- 2. an operator cancels the current print --------------------------------
j4=$(submit_to 4)
check "printer 4 prints" until_true 20 is_sim 4 printing
f4=$(rr_files 4)
api POST "/printers/4/cancel" -d '' >/dev/null
check "the print is cancelled" until_true 15 is_sim 4 cancelled
check "printer 4 waits for its bed" until_true 10 is_printer 4 needs_clearing
att=$(api GET "/jobs/$j4" | jq -r '.attempts[0] | "\(.state) \(.reason)"')
expect_eq "the attempt is cancelled, not failed" \
    "cancelled cancelled at the printer" "$att"
expect_eq "the job still wants its copy" "printing 1" \
    "$(api GET "/jobs/$j4" | jq -r '"\(.state) \(.copies_by_state.queued)"')"
expect_eq "no failure counted on printer 4" 0 "$(pfield 4 consecutive_failures)"
expect_eq "not quarantined for a cancel" false "$(pfield 4 quarantined)"
check "the cancelled file is deleted" until_true 10 \
    sh -c "! curl -s '$SIMURL/p/4/server/files/list' | grep -q '$f4'"
api POST "/printers/4/cleared" -d '' >/dev/null
check "cleared, printer 4 prints the copy again" until_true 20 is_sim 4 printing
advance 700
check "job on printer 4 completes" until_true 15 is_job "$j4" complete
expect_eq "never waiting" null "$(jfield "$j4" waiting_reason)"

# ---- 3. the only printer failed the job ---------------------------------------
# It fails the print and is quarantined (fleet_quarantine_after = 1): the
# job waits and says why; the operator releases the printer, which
# forgives it the job's failure, and the job prints there.
sim_ctl 3 "fail-next?mode=error&at=0.1"
j3=$(submit_to 3)
check "printer 3 prints" until_true 20 is_sim 3 printing
advance 100
has_reason() { [ "$(jfield "$1" waiting_reason)" != null ]; }
check "the stuck job says why" until_true 15 has_reason "$j3"
why=$(jfield "$j3" waiting_reason)
expect_contains "the reason names the failure" "$why" "printer 3 failed it"
expect_contains "and the quarantine" "$why" "is quarantined"
cli_jobs=$(HOME=$T RRCLOUD_TOKEN=${ADM#Authorization: Bearer } "$builddir/rrcloud" \
    --s="127.0.0.1:$PORT" jobs 2>&1)
expect_contains "rrcloud jobs shows why it waits" "$cli_jobs" "printer 3 failed it"
api POST "/printers/3/release" -d '' >/dev/null
check "released, printer 3 prints the job again" until_true 20 is_sim 3 printing
no_reason() { [ "$(jfield "$1" waiting_reason)" = null ]; }
check "it waits no more" until_true 10 no_reason "$j3"
advance 700
check "job on printer 3 completes" until_true 15 is_job "$j3" complete
ev=$(events)
expect_contains "forgiven event" "$ev" "forgiven 3 null 1 failure of waiting jobs forgiven"
expect_eq "one job_waiting event" 1 \
    "$(printf '%s\n' "$ev" | grep -c "^job_waiting null $j3 ")"
# The same again, and nobody looks: the job fails after the timeout.
sim_ctl 3 "fail-next?mode=error&at=0.1"
j5=$(submit_to 3)
check "printer 3 prints the next job" until_true 20 is_sim 3 printing
advance 100
check "that one waits too" until_true 15 has_reason "$j5"
check "then it fails (fleet_unplaceable_timeout)" until_true 25 is_job "$j5" failed
expect_contains "its reason says so" "$(jfield "$j5" reason)" "fleet_unplaceable_timeout"

# ---- 4. a print started at the printer, a relay cancel ------------------------
curl -s -o /dev/null -F "file=@$T/part.gcode;filename=own.gcode" \
    "$SIMURL/p/2/server/files/upload"
curl -s -o /dev/null -X POST "$SIMURL/p/2/printer/print/start?filename=own.gcode"
check "rrcloud sees printer 2 printing" until_true 10 is_printer 2 printing
advance 700
check "the finished print leaves the bed to clear" until_true 10 \
    is_printer 2 needs_clearing
expect_eq "needs_clearing" true "$(pfield 2 needs_clearing)"
expect_contains "external_print event" "$(events)" "external_print 2 null"
# (a print needs a key that may print; its task is that key's owner's)
out=$(curl -s -m 10 -H "$ADM" -F service=print -F "fileIn0=@$T/part.gcode" -F printer=2 \
      -F async=1 -F "notifier=http://127.0.0.1:$LPORT/done?id=\$id" \
      -F format=json "$BASE/")
tid=$(printf "%s" "$out" | jq -r '.id // empty')
check "print task accepted" test -n "$tid"
tj=$(curl -s -H "$ADM" "$BASE/api/v1/tasks/$tid" | jq -r '.job // empty')
check "the task names its job" test -n "$tj"
# Nothing may happen: a round comes within a second of the job (fleet
# wake), so three are plenty to see it send nothing to the occupied bed.
sleep 3
expect_eq "nothing sent onto the occupied bed" "queued" "$(jfield "$tj" state)"
check "no file of ours on printer 2" no_rr_files 2
expect_eq "the print task waits with its job" queued \
    "$(curl -s -H "$ADM" "$BASE/api/v1/tasks/$tid" | jq -r .status)"
curl -s -o /dev/null -H "$ADM" -F service=kill -F "id=$tid" "$BASE/"
notified() { grep -q "/done?id=$tid" "$T/notify.log" 2>/dev/null; }
check "the cancelled print task calls its notifier" until_true 15 notified
expect_eq "the task is cancelled" cancelled \
    "$(WAIT_AUTH="$ADM" wait_status "$tid" cancelled 10)"
expect_eq "its job is cancelled" cancelled "$(jfield "$tj" state)"

kill $EXTRA_PIDS 2>/dev/null
EXTRA_PIDS=""
finish
