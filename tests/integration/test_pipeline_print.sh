#!/bin/sh
# test_pipeline_print.sh - a pipeline that ends in a print: scad -> stl ->
# gcode -> print through POST / on the simulator (rrcloud-printersim, two
# printers reached directly).  The print stage's job fields come as
# thenN.queue, thenN.copies...; its job is made when the G-code exists, and
# the print stage follows it like any service=print task.  Also: a print
# stage's bad job field is a 4xx naming it, a print stage needs a key that
# may print, and cancelling a chain cancels its print job.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v openscad >/dev/null || skip "no openscad"
command -v slic3r >/dev/null || skip "no slic3r"
command -v jq >/dev/null || skip "no jq"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
BUILDDIR=$(cd "$(dirname "$SIM")" && pwd)
export BUILDDIR

TOKEN=adm-pipeline-test-0123456789abcdef0123456789
ADM="Authorization: Bearer $TOKEN"
ENR=enr-pipeline-test-0123456789abcdef0123456789
STACK=$T/stack
SIM_PORT=$(free_port)
# 30 s prints: the test moves the simulator's clock to end them.
"$top_srcdir/scripts/stack.sh" printersim "$STACK" "$SIM_PORT" --printers=2 \
    --time-scale=1 --print-seconds=30 --jitter=0 ||
    { echo "simulator did not start"; exit 99; }
SIMURL=http://127.0.0.1:$SIM_PORT

STACK_CONF_EXTRA="admin_token = $TOKEN
enroll_token = $ENR
fleet_poll_interval = 1s"
export STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

section() { echo "-- $(date +%T) $*"; }
until_true() { # SECONDS command...: retries the command every 0.2 s
    lim=$(( $1 * 5 )); shift; i=0
    while [ $i -lt $lim ]; do
        "$@" && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
# jget ID KEY: a value of the task's RepRapCloud JSON record (as admin).
jget() {
    curl -s -m 5 -H "$ADM" "$BASE/?service=info&id=$1&format=json" |
        sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"
}
stage_ids() { jget "$1" chain | tr ',' '\n' | awk '{ print $1 }'; }
is_task() { [ "$(jget "$1" status)" = "$2" ]; }
sim_state() { # SIMID: print_state of that simulated printer
    curl -s "$SIMURL/sim/printers/$1" | sed -n 's/.*"print_state": *"\([a-z]*\)".*/\1/p'
}
is_sim() { [ "$(sim_state "$1")" = "$2" ]; }
advance() { curl -s -m 5 -o /dev/null -X POST "$SIMURL/sim/clock?advance=$1"; }
job_state() { # JOB
    curl -s -m 5 -H "$ADM" "$BASE/api/v1/jobs/$1" | jq -r .state
}
is_job() { [ "$(job_state "$1")" = "$2" ]; }

section "two simulated printers"
for n in 1 2; do
    out=$(curl -s -m 10 -H "Authorization: Bearer $ENR" -H 'Content-Type: application/json' \
        -d "{\"name\":\"sim$n\",\"queues\":[\"default\"],\"auto_eject\":true}" \
        "$BASE/api/v1/printers")
    expect_contains "printer $n enrolled" "$out" "\"id\":$n"
    curl -s -m 10 -o /dev/null -X PUT -H "$ADM" -H 'Content-Type: application/json' \
        -d "{\"share_url\":\"$SIMURL/p/$n\"}" "$BASE/api/v1/printers/$n/share"
done
is_ready() { curl -s -H "$ADM" "$BASE/api/v1/printers/$1" | grep -q '"state":"ready"'; }
for n in 1 2; do
    check "printer $n ready" until_true 15 is_ready $n
done

section "scad -> stl -> gcode -> print"
out=$(curl -s -m 60 -H "$ADM" -F service=openscad -F then=slic3r,print \
    -F then1.arg0=--layer-height=0.3 -F then2.copies=1 -F then2.queue=default \
    -F async=1 -F "fileIn0=@$SRCDIR/tests/data/cube.scad" "$BASE/")
first=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
check "the chain is accepted" [ -n "$first" ]
set -- $(stage_ids "$first")
expect_eq "three stages" 3 "$#"
g=$2 p=$3
check "the G-code stage completes" until_true 60 is_task "$g" complete
check "the print stage gets its job" until_true 10 sh -c "[ -n \"\$(curl -s -H '$ADM' '$BASE/api/v1/tasks/$p' | sed -n 's/.*\"job\":\\([0-9]*\\).*/\\1/p')\" ]"
job=$(curl -s -H "$ADM" "$BASE/api/v1/tasks/$p" | sed -n 's/.*"job":\([0-9]*\).*/\1/p')
expect_eq "the print stage's job" 1 "$job"
expect_eq "the job prints the G-code stage's output" \
    "$(curl -s -H "$ADM" "$BASE/tasks/out/$g.gcode" | sha256sum | cut -c1-64)" \
    "$(curl -s -H "$ADM" "$BASE/api/v1/jobs/$job" | jq -r '.files[0].sha256')"
expect_eq "which is the print stage's input" in0.gcode "$(jget "$p" in)"
printing() { is_sim 1 printing || is_sim 2 printing; }
check "a simulated printer prints the chain's G-code" until_true 20 printing
check "the print stage is busy while it prints" until_true 10 is_task "$p" busy
advance 60
check "the print completes" until_true 20 is_job "$job" complete
check "the print stage completes with its job" until_true 20 is_task "$p" complete
expect_eq "the chain is complete" complete "$(jget "$first" chainStatus)"

section "bad print stages"
code=$(http_status POST "$BASE/" -H "$ADM" -F format=json -F service=openscad \
    -F then=slic3r,print -F then2.copies=0 -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "then2.copies=0 is refused" 400 "$code"
expect_contains "naming then2.copies" "$(body)" '"field":"then2.copies"'
code=$(http_status POST "$BASE/" -H "$ADM" -F format=json -F service=openscad \
    -F then=slic3r,print -F then2.queue=nosuch -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "an unknown queue is 404" 404 "$code"
expect_contains "naming then2.queue" "$(body)" '"field":"then2.queue"'
# the store's feasibility check names the stage's field too
code=$(http_status POST "$BASE/api/v1/queues" -H "$ADM" \
    -H 'Content-Type: application/json' --data '{"name":"empty"}')
expect_eq "a queue no printer serves" 201 "$code"
code=$(http_status POST "$BASE/" -H "$ADM" -F format=json -F service=openscad \
    -F then=slic3r,print -F then2.queue=empty \
    -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "a print stage no printer can take is 422" 422 "$code"
expect_contains "naming then2.queue" "$(body)" '"field":"then2.queue"'
code=$(http_status POST "$BASE/" -H "$ADM" -F format=json -F service=openscad \
    -F then=slic3r -F then1.queue=default -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "a job field on a stage that does not print" 400 "$code"
expect_contains "naming it" "$(body)" '"field":"then1.queue"'
code=$(http_status POST "$BASE/" -H "$ADM" -F format=json -F service=openscad \
    -F then=slic3r,print,echo -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "nothing after a print" 400 "$code"
expect_contains "print writes no file" "$(body)" "print writes no file for a next stage"
code=$(http_status POST "$BASE/" -F format=json -F service=openscad \
    -F then=slic3r,print -F "fileIn0=@$SRCDIR/tests/data/cube.scad")
expect_eq "a print stage needs a key that may print" 401 "$code"

section "cancel of a chain with a print stage"
out=$(curl -s -m 60 -H "$ADM" -F service=openscad -F then=slic3r,print \
    -F async=1 -F "fileIn0=@$SRCDIR/tests/data/cube.scad" "$BASE/")
first=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
set -- $(stage_ids "$first")
p=$3
check "the print stage gets its job" until_true 60 sh -c "curl -s -H '$ADM' '$BASE/api/v1/tasks/$p' | grep -q '\"job\":[0-9]'"
job=$(curl -s -H "$ADM" "$BASE/api/v1/tasks/$p" | sed -n 's/.*"job":\([0-9]*\).*/\1/p')
check "it prints" until_true 20 printing
code=$(http_status POST "$BASE/api/v1/tasks/$first/cancel" -H "$ADM" -d '')
expect_eq "cancel through the first stage" 202 "$code"
check "the print job is cancelled" until_true 20 is_job "$job" cancelled
check "the print stage is cancelled" until_true 20 is_task "$p" cancelled
check "the printers stop" until_true 20 sh -c "! { curl -s '$SIMURL/sim/printers/1' | grep -q '\"print_state\": *\"printing\"' || curl -s '$SIMURL/sim/printers/2' | grep -q '\"print_state\": *\"printing\"'; }"
