#!/bin/sh
# test_printersim.sh - drives rrcloud-printersim with real curl, the way a
# fleet router talks to Moonraker (reference/moonraker.md 12), and checks
# response shapes, status codes, the print state machine, faults and the
# /sim control API.
#
# Binary: $RRCLOUD_PRINTERSIM, else $builddir/rrcloud-printersim.
# Exit: 0 pass, 1 fail, 77 skip (binary or curl missing).
set -u

builddir=${builddir:-.}
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
if [ ! -x "$SIM" ]; then
    echo "SKIP: $SIM not found (set RRCLOUD_PRINTERSIM)"
    exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl missing"; exit 77; }

TMP=$(mktemp -d) || exit 1
PIDS=""
. "$(dirname "$0")/sanlog.sh"
san_setup "$TMP/san"
cleanup() {
    rc=$?
    for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    san_check || { echo "not ok - sanitizer reports (above)"; rc=1; }
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1));
           echo "#   status=$CODE body=$(head -c 400 "$TMP/body")"; }
# check DESC COMMAND...: one test line
check()  { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
has()    { grep -qF -- "$1" "$TMP/body"; }
code()   { [ "$CODE" = "$1" ]; }

# req METHOD URL [curl args]: sets CODE, body in $TMP/body, headers in
# $TMP/hdr, curl's exit status in CURLRC
req() {
    m=$1; u=$2; shift 2
    CODE=$(curl -s -m 10 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
           -X "$m" "$@" "$u")
    CURLRC=$?
}

# start_sim NAME ARGS...: starts a simulator, sets PORT and BASE
start_sim() {
    name=$1; shift
    "$SIM" --port=0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SIMPID=$!
    PIDS="$PIDS $SIMPID"
    i=0
    while [ $i -lt 50 ]; do
        PORT=$(sed -n 's/^rrcloud-printersim: listening on http:\/\/127\.0\.0\.1:\([0-9]*\), .*/\1/p' \
               "$TMP/$name.out")
        [ -n "$PORT" ] && break
        sleep 0.1; i=$((i + 1))
    done
    if [ -z "$PORT" ]; then
        echo "Bail out! simulator $name did not start"; cat "$TMP/$name.err"
        exit 1
    fi
    BASE=http://127.0.0.1:$PORT
}

# wait_for URL TEXT [SECONDS]: polls until the body contains TEXT
wait_for() {
    i=0; lim=$(( ${3:-10} * 10 ))
    while [ $i -lt $lim ]; do
        req GET "$1"
        has "$2" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

printf 'G28\nG1 Z5 F600\nG1 X10 Y10 E1\n' >"$TMP/cube.gcode"
Q='printer/objects/query'

# --------------------------------------------------------------- main sim
start_sim main --printers=20 --time-scale=100 --print-seconds=100 \
    --seed=7 --max-upload=64K --hang-ms=3000
P1=$BASE/p/1
check "banner names port and printer range" \
    grep -q "^rrcloud-printersim: listening on http://127.0.0.1:$PORT, 20 printers at /p/1 .. /p/20\$" \
    "$TMP/main.out"

req GET "$P1/server/info"
check "server/info 200 ready" eval 'code 200 && has "\"klippy_connected\":true" && has "\"klippy_state\":\"ready\""'
check "server/info versions and components" eval 'has "\"api_version\":[1,5,0]" && has "\"moonraker_version\":" && has "\"octoprint_compat\""'
req GET "$P1/printer/info"
check "printer/info state ready" eval 'code 200 && has "\"state\":\"ready\"" && has "\"software_version\":"'

req GET "$P1/$Q?webhooks&print_stats&virtual_sdcard&extruder&heater_bed&display_status"
check "objects/query has all requested objects" eval 'code 200 && has "{\"result\":{\"eventtime\":" && has "\"webhooks\":{\"state\":\"ready\"" && has "\"virtual_sdcard\":{" && has "\"extruder\":{" && has "\"heater_bed\":{" && has "\"display_status\":{"'
check "idle print_stats shape" eval 'has "\"state\":\"standby\"" && has "\"info\":{\"total_layer\":null,\"current_layer\":null}"'
req GET "$P1/$Q?print_stats=state,filename"
check "attribute list filters fields" has '"status":{"print_stats":{"state":"standby","filename":""}}}'
req POST "$P1/$Q" -H 'Content-Type: application/json' \
    -d '{"objects":{"webhooks":["state"],"nosuch":null}}'
check "POST objects/query with JSON body" has '"status":{"webhooks":{"state":"ready"},"nosuch":{}}}'

# upload with print=true -> printing -> complete
req POST "$P1/server/files/upload" -F "file=@$TMP/cube.gcode" \
    -F path=fleet/job1 -F print=true
check "upload print=true: 201 unwrapped, started" eval 'code 201 && has "\"action\":\"create_file\"" && has "\"path\":\"fleet/job1/cube.gcode\"" && has "\"print_started\":true" && has "\"print_queued\":false" && ! has "\"result\""'
check "upload Location header" grep -qi "^Location: http://127.0.0.1:$PORT/p/1/server/files/gcodes/fleet/job1/cube.gcode" "$TMP/hdr"
req GET "$P1/$Q?print_stats=state,filename&virtual_sdcard=is_active"
check "status printing our file" has '"print_stats":{"state":"printing","filename":"fleet/job1/cube.gcode"},"virtual_sdcard":{"is_active":true}'
req POST "$P1/printer/print/start?filename=fleet/job1/cube.gcode"
check "start while printing: 400 SD busy" eval 'code 400 && has "\"error\":{\"code\":400,\"message\":\"SD busy\""'
req POST "$P1/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=fleet/job1
check "upload over the printing file: 403" code 403
req GET "$P1/$Q?extruder=target&heater_bed=target"
check "heaters targeted while printing" has '"extruder":{"target":210.0},"heater_bed":{"target":60.0}'
check "print completes after time-scale" \
    wait_for "$P1/$Q?print_stats=state&virtual_sdcard=progress,is_active" \
    '"print_stats":{"state":"complete"}' 15
check "complete: progress 1.0, inactive" has '"virtual_sdcard":{"progress":1.0,"is_active":false}'
req GET "$P1/server/history/list?limit=1"
check "history newest job completed" eval 'code 200 && has "\"filename\":\"fleet/job1/cube.gcode\",\"status\":\"completed\""'
req GET "$P1/server/files/list?root=gcodes"
check "files/list has the upload" eval 'code 200 && has "{\"path\":\"fleet/job1/cube.gcode\",\"modified\":"'
req GET "$P1/server/files/metadata?filename=fleet/job1/cube.gcode"
check "metadata known file" eval 'code 200 && has "\"estimated_time\":" && has "\"job_id\":\"000001\""'

# errors
req GET "$P1/server/files/metadata?filename=nosuch.gcode"
check "metadata unknown file: 404" eval 'code 404 && has "\"error\":{\"code\":404"'
req POST "$P1/printer/print/start?filename=nosuch.gcode"
check "start unknown file: 400 Unable to open file" eval 'code 400 && has "Unable to open file"'
req GET "$P1/server/nosuch"
check "unknown endpoint: 404" code 404
req GET "$BASE/p/999/server/info"
check "unknown printer: 404" code 404
head -c 100000 /dev/zero >"$TMP/big.gcode"
req POST "$P1/server/files/upload" -F "file=@$TMP/big.gcode"
check "upload over --max-upload: 413" code 413
SHA=$(sha256sum "$TMP/cube.gcode" 2>/dev/null | cut -d' ' -f1)
if [ -n "$SHA" ]; then
    req POST "$P1/server/files/upload" -F "file=@$TMP/cube.gcode" \
        -F "checksum=$SHA" -F path=sum
    check "matching checksum: 201" code 201
    req POST "$P1/server/files/upload" -F "file=@$TMP/cube.gcode" \
        -F checksum=0000000000000000000000000000000000000000000000000000000000000000
    check "checksum mismatch: 422" code 422
fi

# two-step dispatch, pause/resume/cancel (time frozen by a long print)
P2=$BASE/p/2
req POST "$P2/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=fleet/job2
check "upload without print: not started" eval 'code 201 && has "\"print_started\":false"'
req POST "$P2/printer/print/start" -H 'Content-Type: application/json' \
    -d '{"filename":"fleet/job2/cube.gcode"}'
check "print/start JSON body: ok" eval 'code 200 && has "{\"result\":\"ok\"}"'
req POST "$P2/printer/print/pause"
req GET "$P2/$Q?print_stats=state&pause_resume"
check "pause -> paused" has '"print_stats":{"state":"paused"},"pause_resume":{"is_paused":true}'
req POST "$P2/printer/print/resume"
req GET "$P2/$Q?print_stats=state"
check "resume -> printing" has '"print_stats":{"state":"printing"}'
req POST "$P2/printer/print/cancel"
req GET "$P2/$Q?print_stats=state,filename&virtual_sdcard=progress"
check "cancel -> cancelled, progress reset" has '"print_stats":{"state":"cancelled","filename":"fleet/job2/cube.gcode"},"virtual_sdcard":{"progress":0.0}'

# injected job error
P3=$BASE/p/3
req POST "$BASE/sim/printers/3/fail-next?mode=error&at=0.1"
check "control fail-next: ok" code 200
req POST "$P3/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=fleet/job3 \
    -F print=true
check "print that fails ends in error with message" \
    wait_for "$P3/$Q?print_stats=state,message" '"state":"error","message":"' 10
req GET "$P3/server/history/list"
check "history records error" has '"status":"error"'

# klippy shutdown: emergency stop while printing, then firmware_restart
P4=$BASE/p/4
req POST "$P4/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=fleet/job4 \
    -F print=true
req POST "$P4/printer/emergency_stop"
check "emergency_stop: ok" code 200
req GET "$P4/server/info"
check "server/info klippy_state shutdown" has '"klippy_state":"shutdown"'
req GET "$P4/$Q?webhooks=state"
check "webhooks state shutdown" has '"webhooks":{"state":"shutdown"}'
req POST "$P4/printer/print/start?filename=cube.gcode"
check "start while shut down: 400" code 400
req GET "$P4/server/history/list?limit=1"
check "history records klippy_shutdown" has '"status":"klippy_shutdown"'
req POST "$P4/printer/firmware_restart"
check "firmware_restart: ok" code 200
check "klippy ready again after restart" \
    wait_for "$P4/server/info" '"klippy_state":"ready"' 10

# klippy disconnected (control API)
P5=$BASE/p/5
req POST "$BASE/sim/printers/5/shutdown"
req GET "$P5/$Q?webhooks=state"
check "control shutdown: webhooks shutdown" has '"webhooks":{"state":"shutdown"}'
req POST "$BASE/sim/printers/5/disconnect"
req GET "$P5/server/info"
check "disconnected: klippy_connected false" has '"klippy_connected":false,"klippy_state":"disconnected"'
req POST "$P5/printer/print/start?filename=cube.gcode"
check "start while disconnected: 503 Klippy Host not connected" eval 'code 503 && has "Klippy Host not connected"'
req GET "$P5/printer/info"
check "printer/info while disconnected: 404" code 404
req GET "$P5/$Q?webhooks"
check "objects/query while disconnected: 404" code 404
req POST "$BASE/sim/printers/5/connect"
check "reconnect -> ready" wait_for "$P5/server/info" '"klippy_state":"ready"' 10

# offline faults
P6=$BASE/p/6
req POST "$BASE/sim/printers/6/offline?mode=drop"
req GET "$P6/server/info"
check "offline drop: connection closed, no answer" eval '[ "$CODE" = 000 ] && { [ "$CURLRC" -eq 52 ] || [ "$CURLRC" -eq 56 ]; }'
req GET "$P1/server/info"
check "other printers still answer" code 200
req POST "$BASE/sim/printers/6/offline?mode=502"
req GET "$P6/server/info"
check "offline 502: empty body" eval 'code 502 && [ ! -s "$TMP/body" ]'
req POST "$BASE/sim/printers/6/offline?mode=hang"
CODE=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$P6/server/info")
CURLRC=$?
check "offline hang: client times out" eval '[ "$CURLRC" -eq 28 ]'
req POST "$BASE/sim/printers/6/online"
req GET "$P6/server/info"
check "back online: 200" code 200

# latency without blocking others
req POST "$BASE/sim/printers/7/latency?ms=800"
curl -s -o /dev/null -w '%{time_total}\n' "$BASE/p/7/server/info" \
    >"$TMP/slow" &
sleep 0.1
T=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/p/8/server/info")
wait $!
check "latency delays its printer" awk '{ exit !($1 >= 0.75) }' "$TMP/slow"
check "latency does not block other printers" \
    awk -v t="$T" 'BEGIN { exit !(t < 0.5) }'

# form bodies, uploads through added latency, eject
P11=$BASE/p/11
req POST "$BASE/sim/printers/11/latency?ms=300"
req POST "$P11/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=fleet/job11
check "upload through added latency" eval 'code 201 && has "\"path\":\"fleet/job11/cube.gcode\""'
req POST "$P11/printer/print/start" -d filename=fleet/job11/cube.gcode
check "print/start with a form body" code 200
req POST "$P11/printer/print/cancel"
req POST "$BASE/sim/printers/11/eject"
req GET "$P11/$Q?print_stats=state,filename"
check "control eject -> standby, no file" has '"print_stats":{"state":"standby","filename":""}'
req POST "$BASE/sim/printers/all/latency?ms=-1"
check "control action on all printers" code 200

# OctoPrint emulation
req GET "$BASE/p/9/api/version"
check "octoprint /api/version" eval 'code 200 && has "\"api\":\"0.1\""'
req POST "$BASE/p/9/api/files/local" -F "file=@$TMP/cube.gcode" \
    -F path=fleet/job9 -F print=true
check "octoprint upload: 201 and started" eval 'code 201 && has "\"print_started\":true"'
check "octoprint Location" grep -qi "^Location: .*/p/9/api/files/moonraker/gcodes/fleet/job9/cube.gcode" "$TMP/hdr"

# control API: history and duplicate detection
req GET "$BASE/sim/printers/1/history"
check "control history of printer 1" eval 'code 200 && has "\"filename\":\"fleet/job1/cube.gcode\"" && has "\"status\":\"completed\""'
req GET "$BASE/sim/history"
check "no file printed twice yet" has '"duplicates":[]'
P10=$BASE/p/10
req POST "$P10/server/files/upload" -F "file=@$TMP/cube.gcode" -F path=dup \
    -F print=true
for bad in abc 5x inf 1e300 -3; do
    req POST "$BASE/sim/clock?advance=$bad"
    check "clock advance=$bad: 400 naming it" eval 'code 400 && has advance'
done
req POST "$BASE/sim/clock?advance=1000"
check "clock advance=1000: 200" code 200
wait_for "$P10/$Q?print_stats=state" '"state":"complete"' 5
req POST "$P10/printer/print/start?filename=dup/cube.gcode"
req GET "$BASE/sim/history"
check "second print of a file is reported" has '"duplicates":["dup/cube.gcode"]'
req GET "$BASE/sim/printers/10"
check "control printer state" eval 'code 200 && has "\"print_state\":\"printing\"" && has "\"prints_started\":2"'
req GET "$BASE/sim/stats"
check "control stats" eval 'code 200 && has "\"printers\":20" && has "\"prints_completed\":" && has "\"uploads\":"'

# clean shutdown on SIGTERM
kill -TERM "$SIMPID"
i=0
while kill -0 "$SIMPID" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
check "SIGTERM stops the simulator" eval '! kill -0 "$SIMPID" 2>/dev/null'
wait "$SIMPID"
rc=$?
check "exit status 0 (got $rc)" [ "$rc" -eq 0 ]
timeout 5 "$SIM" --port=0 --max-upload=17179869185G >/dev/null 2>&1
rc=$?
check "a --max-upload that overflows is a usage error (exit $rc)" [ "$rc" -eq 2 ]

# ------------------------------------------------------------ api key sim
start_sim key --printers=2 --api-key=0123456789abcdef0123456789abcdef
req GET "$BASE/p/1/server/info"
check "missing X-Api-Key: 401" eval 'code 401 && has "\"error\":{\"code\":401,\"message\":\"Unauthorized\""'
req GET "$BASE/p/1/server/info" -H 'X-Api-Key: wrong'
check "wrong X-Api-Key: 401" code 401
req GET "$BASE/p/1/server/info" \
    -H 'X-Api-Key: 0123456789abcdef0123456789abcdef'
check "right X-Api-Key: 200" code 200
req GET "$BASE/p/1/access/info"
check "access/info needs no key" eval 'code 200 && has "\"login_required\":false"'
req POST "$BASE/p/1/server/files/upload" -F "file=@$TMP/cube.gcode"
check "upload without key: 401" code 401

# ------------------------------------------------- random faults by option
start_sim rates --printers=3 --time-scale=1000 --print-seconds=60 \
    --fail-rate=1 --seed=3
req POST "$BASE/p/2/server/files/upload" -F "file=@$TMP/cube.gcode" \
    -F print=true
check "--fail-rate=1: the print ends in error" \
    wait_for "$BASE/p/2/$Q?print_stats=state" '"state":"error"' 10
start_sim dark --printers=3 --time-scale=1000 --print-seconds=60 \
    --offline-rate=1 --offline-mode=502 --klippy-shutdown-rate=1
req GET "$BASE/p/1/server/info"
check "--offline-rate=1: printers are offline (502)" code 502
req GET "$BASE/sim/stats"
check "control API answers while printers are offline" has '"offline_now":3'
req POST "$BASE/sim/printers/1/online"
req POST "$BASE/p/1/server/files/upload" -F "file=@$TMP/cube.gcode" \
    -F print=true
check "--klippy-shutdown-rate=1: the print ends in a shutdown" \
    wait_for "$BASE/p/1/server/info" '"klippy_state":"shutdown"' 10

for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=""
check "no sanitizer reports (sanlog.sh)" san_check

echo "1..$n"
[ "$fails" -eq 0 ] || { echo "# $fails failed"; exit 1; }
exit 0
