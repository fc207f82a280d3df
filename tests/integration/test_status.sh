#!/bin/sh
# test_status.sh - what a printer is doing, on every surface: two
# simulated Moonraker printers (rrcloud-printersim with its clock stopped,
# moved only by /sim/clock) print a file sent through the OctoPrint upload
# API, and the print's progress, print time, time left, heater
# temperatures and file show - and move as the simulated clock moves - in
# /api/v1/printers and /api/v1/printers/ID, rrcloud printers and rrcloud
# printer ID, /metrics (whose whole output Prometheus's own promtool must
# accept, before and during the print) and OctoPrint's /api/job and
# /api/printer.  rrcloud printer ID pause / resume print the state after
# the command took effect.
#
# Nothing here waits for time to pass: every wait is for a state the
# simulator's clock was moved to (bounded).
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
RR=${RRCLOUD:-$builddir/rrcloud}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
[ -x "$RR" ] || skip "rrcloud not found (set RRCLOUD)"
# scripts/deps.sh installs Debian's prometheus: its absence is a failure.
PROMTOOL=$(command -v promtool)
if [ -z "$PROMTOOL" ]; then
    fail "promtool not found (Debian package prometheus; scripts/deps.sh)"
    exit 1
fi

# --- the simulator: its clock stands still (1 ms per second) -------------
sim_start --printers=2 --time-scale=0.001 --print-seconds=1000
advance() { curl -s -m 10 -X POST "$SIMURL/sim/clock?advance=$1" >/dev/null; }

ADMIN=adm-status-test-0123456789abcdef0123456789
OCTO=octo-status-test-0123456789abcdef0123456789
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = enr-status-test-0123456789abcdef0123456789
octoprint_key = $OCTO queue=default name=slicer
fleet_poll_interval = 1
fleet_status_interval = 0
frontend = fe1 eu $SIMURL capacity=10 canary=$SIMURL/p/1/server/info"
export STACK_CONF_EXTRA
stack_start nginx

api() { # METHOD PATH [curl args...]: JSON answer on stdout
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "Authorization: Bearer $ADMIN" "$@" \
        "$BASE/api/v1$p"
}
promcheck() { # DESCRIPTION: /metrics must pass promtool without a remark
    curl -s -m 10 -H "Authorization: Bearer $ADMIN" "$BASE/metrics" \
        >"$T/metrics"
    if "$PROMTOOL" check metrics <"$T/metrics" >"$T/promtool" 2>&1; then
        pass
    else
        fail "$1: promtool: $(head -c 600 "$T/promtool")"
    fi
    expect_eq "$1: no promtool remarks" "" "$(cat "$T/promtool")"
    # promtool's parser takes samples under another family's HELP/TYPE:
    # each family's HELP and TYPE once, right before its own samples
    awk '/^# HELP/ { help[$3]++ } /^# TYPE/ { fam = $3; if (seen[fam]++) print "twice " fam
             if (!help[fam]) print "no help " fam; next }
         /^#/ { next }
         { name = $0; sub(/[{ ].*/, "", name); base = name
           sub(/_(bucket|sum|count)$/, "", base)
           if (name != fam && base != fam) print "stray " name " under " fam }' \
        "$T/metrics" >"$T/grouping"
    expect_eq "$1: families grouped" "" "$(cat "$T/grouping")"
}
sample() { # METRIC LABELS: the value of one sample in $T/metrics
    grep -F "$1{$2} " "$T/metrics" | awk '{ print $2 }'
}

for n in 1 2; do
    # the second name needs escaping in a label value
    nm=desk-1; [ $n = 2 ] && nm='desk-2 \"q\\z\"'
    out=$(curl -s -m 10 -H "Authorization: Bearer enr-status-test-0123456789abcdef0123456789" \
        -H 'Content-Type: application/json' \
        -d "{\"name\":\"$nm\",\"region\":\"eu\",\"queues\":[\"default\"],\"auto_eject\":true}" \
        "$BASE/api/v1/printers")
    id=$(printf '%s' "$out" | jq -r '.id // empty')
    tok=$(printf '%s' "$out" | jq -r '.token // empty')
    [ -n "$id" ] || { fail "enroll printer $n: $out"; exit 1; }
    curl -s -m 10 -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"share_url\":\"$SIMURL/p/$n\"}" "$BASE/api/v1/printers/$id/share"
done

ready2() { [ "$(api GET /printers | jq '[.printers[] | select(.state == "ready")] | length')" = 2 ]; }
until_ok 30 ready2 || fail "the printers never became ready"

# --- idle: temperatures known, no print ------------------------------------
P=$(api GET /printers | jq -r '.printers[0].id')
idle=$(api GET "/printers/$P")
expect_eq "idle: no file" null "$(printf '%s' "$idle" | jq -c .file)"
expect_eq "idle: no progress" null "$(printf '%s' "$idle" | jq -c .progress)"
expect_eq "idle: no time left" null "$(printf '%s' "$idle" | jq -c .time_left)"
expect_eq "idle: extruder at room temperature, target 0" "25 0" \
    "$(printf '%s' "$idle" | jq -r '"\(.extruder.temperature | floor) \(.extruder.target)"')"
check "idle: status time" [ "$(printf '%s' "$idle" | jq '.status_at > 0')" = true ]
promcheck "idle fleet"
expect_eq "metrics: idle extruder target" 0 \
    "$(sample rrcloud_printer_target_temperature_celsius "printer=\"$P\",heater=\"extruder\"")"
expect_eq "metrics: no progress while idle" "" \
    "$(sample rrcloud_printer_progress_ratio "printer=\"$P\"")"
expect_eq "metrics: printer info" 1 \
    "$(grep -E "^rrcloud_printer_info\{printer=\"$P\",name=\"desk-1\"\} " "$T/metrics" | awk '{ print $2 }')"
expect_eq "metrics: a name escaped" 1 \
    "$(grep -cF 'name="desk-2 \"q\\z\""} 1' "$T/metrics")"
octo_job=$(curl -s -m 10 -H "X-Api-Key: $OCTO" "$BASE/api/job")
expect_eq "octoprint job: nothing yet" "Operational null" \
    "$(printf '%s' "$octo_job" | jq -r '"\(.state) \(.progress.completion)"')"

# --- a print, sent the way a slicer sends it ---------------------------------
printf 'G28\nG1 X10 Y10 E1\nG1 X20 E2\n' >"$T/benchy.gcode"
code=$(http_status POST "$BASE/api/files/local" -H "X-Api-Key: $OCTO" \
       -F "file=@$T/benchy.gcode" -F print=true)
expect_eq "octoprint upload accepted" 201 "$code"

printing() {
    api GET /printers >"$T/pl"
    P=$(jq -r '[.printers[] | select(.state == "printing" and .file != null)][0].id // empty' "$T/pl")
    [ -n "$P" ]
}
until_ok 30 printing || { fail "no printer started the print"; exit 1; }
file=$(api GET "/printers/$P" | jq -r .file)
expect_contains "the file is our attempt's" "$file" "rr-"
# 100 simulated seconds: heated up (25 -> 60 deg C at 1.5/s), then printing
advance 100
moved() { # KEY MIN: the printer's KEY above MIN
    v=$(api GET "/printers/$P" | jq -r ".$1 // 0")
    awk -v a="$v" -v b="$2" 'BEGIN { exit !(a > b) }'
}
until_ok 30 moved progress 0 || fail "progress never moved from 0"
one=$(api GET "/printers/$P")
p1=$(printf '%s' "$one" | jq .progress)
d1=$(printf '%s' "$one" | jq .print_duration)
expect_eq "heaters at their targets" "60 60" \
    "$(printf '%s' "$one" | jq -r '"\(.bed.temperature | round) \(.bed.target)"')"
check "extruder target set" [ "$(printf '%s' "$one" | jq '.extruder.target > 0')" = true ]
check "progress is a ratio" [ "$(printf '%s' "$one" | jq '.progress > 0 and .progress < 1')" = true ]
check "print time known" [ "$(printf '%s' "$one" | jq '.print_duration > 0')" = true ]
check "time left from progress and print time" [ "$(printf '%s' "$one" | jq \
    '(.time_left - (.print_duration / .progress - .print_duration)) | fabs < 2')" = true ]
expect_eq "print state" printing "$(printf '%s' "$one" | jq -r .print_state)"

advance 200
until_ok 30 moved progress "$p1" || fail "progress did not move with the clock"
two=$(api GET "/printers/$P")
check "print time moved" [ "$(printf '%s' "$two" | jq ".print_duration > $d1")" = true ]
check "time left shrank" [ "$(printf '%s' "$two" | jq ".time_left < $(printf '%s' "$one" | jq .time_left)")" = true ]
expect_eq "the list shows the same" "$(printf '%s' "$two" | jq -c '[.progress, .time_left, .file]')" \
    "$(api GET /printers | jq -c ".printers[] | select(.id == $P) | [.progress, .time_left, .file]")"

# --- metrics --------------------------------------------------------------------
promcheck "printing fleet"
expect_eq "metrics: progress" "$(printf '%s' "$two" | jq .progress)" \
    "$(sample rrcloud_printer_progress_ratio "printer=\"$P\"")"
expect_eq "metrics: print time" "$(printf '%s' "$two" | jq .print_duration)" \
    "$(sample rrcloud_printer_print_duration_seconds "printer=\"$P\"")"
expect_eq "metrics: time left" "$(printf '%s' "$two" | jq .time_left)" \
    "$(sample rrcloud_printer_time_left_seconds "printer=\"$P\"")"
expect_eq "metrics: bed" "$(printf '%s' "$two" | jq .bed.temperature)" \
    "$(sample rrcloud_printer_temperature_celsius "printer=\"$P\",heater=\"bed\"")"

# --- the CLI -----------------------------------------------------------------------
S="--s=127.0.0.1:$PORT"
"$RR" "$S" --token="$ADMIN" printers >"$T/out" 2>"$T/err"
expect_eq "rrcloud printers" 0 $?
pct=$(printf '%s' "$two" | jq -r '.progress * 1000 | round / 10 | tostring')
case $pct in *.*) ;; *) pct="$pct.0" ;; esac
row=$(awk -v id="$P" '$1 == id' "$T/out")
expect_contains "printers: header" "$(head -1 "$T/out")" "PROGRESS"
expect_contains "printers: progress" "$row" "$pct%"
expect_contains "printers: file" "$row" "$file"
expect_contains "printers: bed" "$row" "60.0/60"
"$RR" "$S" --token="$ADMIN" printer "$P" >"$T/out" 2>"$T/err"
expect_contains "printer: progress" "$(cat "$T/out")" "progress: $pct%"
expect_contains "printer: file" "$(cat "$T/out")" "file: $file"
expect_contains "printer: time left" "$(cat "$T/out")" "time_left: "
expect_contains "printer: status time, local" "$(cat "$T/out")" "status_at: 20"

# --- the web page: its printer table has the columns, its scripts the fields
curl -s -m 10 -o "$T/index.html" "$BASE/www/index.html"
expect_contains "page: print column" "$(cat "$T/index.html")" "<th>print</th>"
# its scripts share window.rrcloud: common.js first, page.js (the start) last
scripts=$(sed -n 's|^<script src="/www/\([a-z]*\.js\)" defer></script>$|\1|p' "$T/index.html")
expect_eq "page: its scripts, deferred, in order" "common.js tasks.js fleet.js page.js" \
    "$(echo $scripts)"
for s in $scripts; do
    expect_eq "page: /www/$s served" 200 \
        "$(curl -s -m 10 -o "$T/$s" -w '%{http_code}' "$BASE/www/$s")"
done
for k in progress time_left extruder bed; do
    expect_contains "page script shows $k" "$(cat "$T/fleet.js")" "p.$k"
done
if command -v node >/dev/null; then
    set --
    for s in $scripts; do set -- "$@" "$T/$s"; done
    node "$top_srcdir/tests/integration/page_dom.js" "$BASE" "$ADMIN" "$T/index.html" "$@" \
        >"$T/dom.out" 2>&1
    expect_eq "page: started in a DOM, every tab shown: exit 0" 0 $?
    dom() { sed -n "s/^$1: //p" "$T/dom.out"; }
    expect_eq "page: no error shown" "fleet-error: tasks-error: meta-error:" \
        "$(grep -E '^(fleet|tasks|meta)-error:' "$T/dom.out" | sed 's/ *$//' | paste -sd ' ')"
    # the scheduler picked either printer: $P prints
    busy=$(api GET "/printers/$P" | jq -r .name | cut -d' ' -f1)
    idle=desk-1; [ "$busy" = desk-1 ] && idle=desk-2
    expect_eq "page: printers, the print first" "$busy printing | $idle ready" \
        "$(dom printer | grep desk | sed 's/^\(desk-[12]\).*#[0-9]* | \([a-z]*\) |.*/\1 \2/' |
           paste -sd '|' | sed 's/|/ | /')"
    expect_contains "page: the print's progress" "$(dom printer | grep "^$busy")" "$pct%"
    expect_contains "page: the share URL a link" "$(dom link)" "$SIMURL/p/1"
    expect_contains "page: a name with markup shown as text" "$(dom printer)" \
        '<img src=x onerror=alert(1)> #999 | ready'
    expect_contains "page: a javascript: share URL shown as text" \
        "$(dom printer | grep '#999')" '| javascript:alert(1) |'
    expect_not_contains "page: ... and never a link" "$(dom link)" "javascript:"
    expect_contains "page: frontends" "$(dom frontend)" "fe1 | eu | healthy"
    expect_contains "page: queues" "$(dom queue)" "default | 0 | 2"
    expect_contains "page: services to choose" "$(dom services)" "echo"
    expect_contains "page: the server's summary" "$(dom meta)" "rrcloud "
    expect_eq "page: the tasks tab shown after its click" "#tasks true false false" \
        "$(dom tab)"
fi

# --- OctoPrint's view ---------------------------------------------------------------
octo_job=$(curl -s -m 10 -H "X-Api-Key: $OCTO" "$BASE/api/job")
expect_eq "octoprint job state" Printing "$(printf '%s' "$octo_job" | jq -r .state)"
expect_eq "octoprint job file" benchy.gcode "$(printf '%s' "$octo_job" | jq -r .job.file.name)"
expect_eq "octoprint completion in percent" \
    "$(printf '%s' "$two" | jq '.progress * 100 | round')" \
    "$(printf '%s' "$octo_job" | jq '.progress.completion | round')"
expect_eq "octoprint print time" "$(printf '%s' "$two" | jq .print_duration)" \
    "$(printf '%s' "$octo_job" | jq .progress.printTime)"
expect_eq "octoprint time left" "$(printf '%s' "$two" | jq .time_left)" \
    "$(printf '%s' "$octo_job" | jq .progress.printTimeLeft)"
expect_eq "octoprint estimated print time" \
    "$(printf '%s' "$octo_job" | jq '.progress.printTime + .progress.printTimeLeft')" \
    "$(printf '%s' "$octo_job" | jq .job.estimatedPrintTime)"
octo_pr=$(curl -s -m 10 -H "X-Api-Key: $OCTO" "$BASE/api/printer")
expect_eq "octoprint bed" "$(printf '%s' "$two" | jq -c '[.bed.temperature, .bed.target]')" \
    "$(printf '%s' "$octo_pr" | jq -c '[.temperature.bed.actual, .temperature.bed.target]')"
expect_eq "octoprint tool0 target" "$(printf '%s' "$two" | jq .extruder.target)" \
    "$(printf '%s' "$octo_pr" | jq .temperature.tool0.target)"
expect_eq "octoprint flags" "Printing true false" \
    "$(printf '%s' "$octo_pr" | jq -r '"\(.state.text) \(.state.flags.printing) \(.state.flags.ready)"')"

# --- pause and resume: the state after the command ----------------------------------
"$RR" "$S" --token="$ADMIN" printer "$P" pause >"$T/out" 2>"$T/err"
expect_eq "pause exit status" 0 $?
expect_contains "pause shows the printer paused" "$(cat "$T/out")" ": paused"
expect_not_contains "pause is no longer pending" "$(cat "$T/out")" "pending"
expect_eq "the API agrees" paused "$(api GET "/printers/$P" | jq -r .state)"
octo_pr=$(curl -s -m 10 -H "X-Api-Key: $OCTO" "$BASE/api/printer")
expect_eq "octoprint paused" "Paused true" \
    "$(printf '%s' "$octo_pr" | jq -r '"\(.state.text) \(.state.flags.paused)"')"
"$RR" "$S" --token="$ADMIN" printer "$P" resume >"$T/out" 2>"$T/err"
expect_eq "resume exit status" 0 $?
expect_contains "resume shows the printer printing" "$(cat "$T/out")" ": printing"
expect_eq "the API agrees again" printing "$(api GET "/printers/$P" | jq -r .state)"

# --- the end: complete, time left gone ---------------------------------------------
advance 2000
done_() { [ "$(api GET "/printers/$P" | jq -r .print_state)" = complete ]; }
until_ok 30 done_ || fail "the print never completed"
fin=$(api GET "/printers/$P")
expect_eq "complete: progress 1, no time left" "1 null" \
    "$(printf '%s' "$fin" | jq -r '"\(.progress) \(.time_left)"')"
promcheck "after the print"
expect_eq "metrics: the ended attempt counted" 1 \
    "$(sample rrcloud_attempts_total 'result="complete"')"
expect_eq "metrics: the frontend's printers" 2 \
    "$(sample rrcloud_frontend_printers 'frontend="fe1",kind="assigned"')"
octo_job=$(curl -s -m 10 -H "X-Api-Key: $OCTO" "$BASE/api/job")
expect_eq "octoprint: ready again" Operational "$(printf '%s' "$octo_job" | jq -r .state)"

# --- cancel: the line shows the printer no longer printing ------------------------
code=$(http_status POST "$BASE/api/files/local" -H "X-Api-Key: $OCTO" \
       -F "file=@$T/benchy.gcode")
expect_eq "second upload accepted" 201 "$code"
until_ok 30 printing || fail "no printer started the second print"
"$RR" "$S" --token="$ADMIN" printer "$P" cancel >"$T/out" 2>"$T/err"
expect_eq "cancel exit status" 0 $?
expect_not_contains "cancel: no longer printing" "$(cat "$T/out")" ": printing"
expect_not_contains "cancel: not pending" "$(cat "$T/out")" "pending"
expect_eq "cancel: the printer's print state" cancelled \
    "$(api GET "/printers/$P" | jq -r .print_state)"
