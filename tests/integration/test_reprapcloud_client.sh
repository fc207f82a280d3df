#!/bin/sh
# test_reprapcloud_client.sh - RepRapCloud 0.019's own client (its rrcloud
# script and *.cloud wrappers, github.com/Spiritdude/RepRapCloud), replayed
# request by request through nginx, and its answers read the way it reads
# them.  What it sends (its subs postServer, acquireFileIn, myExecRemote
# and the info branch):
#   * one `curl -s -F k=v ...` to http://HOST:PORT, no path, fields in Perl
#     hash order (random: shuffled here); inputs are first copied to its own
#     tasks/in/<uniq>.<ext> and uploaded from there (file name <uniq>.<ext>),
#     text from its command line as tasks/in/<uniq> without an extension
#     (or with whatever followed the text's last dot);
#   * `rrcloud info`: for each stored task whose status is busy, the same
#     kind of POST with service=info and id=; once complete it downloads
#     the `out:` value as a path, and always tasks/log/ID;
#   * the *.cloud wrappers POST (with an extra `in` field), then poll the
#     same way and give up if the first poll does not say complete or
#     failed.
# It parses every answer with ^([^\s:]+): (\S.+)\s*$, so a value shorter
# than two characters is dropped, and it polls only what it stored as busy:
# the answer to a submission must say "status: busy" (the true state is in
# "state:"), info must say complete or failed at the end, queued must read
# busy and cancelled failed.  (Its meta and kill never reach a server: kill
# is tested here as a POSTed service=kill.)
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v perl >/dev/null || skip "no perl (the client's parse rule, the nap service)"
command -v shuf >/dev/null || skip "no shuf (the client's random field order)"
LISTEN=$builddir/tests/tools/rr-listen
[ -x "$LISTEN" ] || skip "rr-listen not built (make tests/tools/rr-listen)"

# The shipped services, one that writes its result and a log line (cp -v),
# and one that sleeps argN seconds (for queued, busy and kill).
SVC=$T/services
mkdir -p "$SVC"
cp "$SRCDIR"/services/*.conf "$SVC/"
cat >"$SVC/cpv.conf" <<EOF
description = cp -v: a result and a log line (test service)
path = /usr/bin:/bin
cmd = cp -v
fileOut = \$id.txt
output = \$fileOut
inputTypes = txt
EOF
cat >"$SVC/nap.conf" <<EOF
description = sleep argN seconds (test service)
path = /usr/bin:/bin
cmd = perl -e sleep(shift)
noOutput = yes
inputTypes = txt
options = [0-9]*
timeout = 60
EOF
STACK_SERVICES_DIR=$SVC
STACK_CONF_EXTRA="runner_slots = 1
kill_grace = 1s"
export STACK_SERVICES_DIR STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

# The client's working directory: it keeps its copies and downloads here.
C=$T/client
mkdir -p "$C/tasks/in" "$C/tasks/out" "$C/tasks/log"
D=$SRCDIR/tests/data

# rrc_uniq: an id like the client's uniq(): <sec>-<%05d>-<%06d>.
rrc_uniq() {
    r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    printf '%s-%05d-%06d' "$(date +%s)" $((r % 100000)) $((r / 100000 % 1000000))
}

# rrc_copy SRC: the client's acquireFileIn for a local file: a copy in
# tasks/in/<uniq>.<ext>; prints that relative path.
rrc_copy() {
    ext=${1##*.}
    p=tasks/in/$(rrc_uniq).$ext
    cp "$1" "$C/$p"
    echo "$p"
}

# rrc_text TEXT: acquireFileIn for text from the command line: the text
# (no newline added) in tasks/in/<uniq>, plus ".X" if the text matches
# /\.([^.]+)$/; prints the relative path.
rrc_text() {
    p=tasks/in/$(rrc_uniq)
    case $1 in
    *.*) tail=${1##*.}; [ -n "$tail" ] && p=$p.$tail ;;
    esac
    printf '%s' "$1" >"$C/$p"
    echo "$p"
}

# rrc_post OUT K=V...: the client's postServer: every field as -F, a value
# naming an existing file (but not for `in`) as an upload -F k=@path, in a
# random order, one curl from the client's directory to http://HOST:PORT;
# the answer goes to OUT.
rrc_post() {
    out=$1; shift
    fields=$(mktemp "$T/fields.XXXXXX")
    printf '%s\n' "$@" | shuf >"$fields"
    set --
    while IFS= read -r kv; do
        k=${kv%%=*}; v=${kv#*=}
        if [ "$k" != in ] && [ -f "$C/$v" ]; then
            set -- "$@" -F "$k=@$v"
        else
            set -- "$@" -F "$kv"
        fi
    done <"$fields"
    rm -f "$fields"
    echo "   curl -s $* $BASE" >>"$T/requests"
    (cd "$C" && curl -s "$@" "$BASE") >"$out"
}

# rrc_field FILE KEY: KEY as the client's string2meta reads FILE (the last
# line wins; "" when absent or shorter than two characters).
rrc_field() {
    perl -ne 'BEGIN { $k = shift @ARGV } chomp;
              $v = $2 if /^([^\s:]+): (\S.+)\s*$/ && $1 eq $k;
              END { print $v if defined $v }' "$2" "$1"
}

# rrc_get PATH: getRemoteFile: curl -s http://HOST:PORT/PATH -o PATH in the
# client's directory; prints the HTTP status.
rrc_get() {
    (cd "$C" && curl -s -o "$1" -w '%{http_code}' "$BASE/$1")
}

# rrc_poll ID OUT: one info poll (POST service=info, id=ID).
rrc_poll() { rrc_post "$2" service=info "id=$1"; }

# rrc_submit DESC SERVICE K=V...: a submission; checks what the client
# needs of the answer (an id, status busy) and that state says how it
# ended; sets ID and OUT (the out: value).
rrc_submit() {
    d=$1; svc=$2; shift 2
    rrc_post "$T/sub" "service=$svc" "$@"
    ID=$(rrc_field "$T/sub" id)
    OUT=$(rrc_field "$T/sub" out)
    check "$d: the client finds an id in: $(head -c 300 "$T/sub")" [ -n "$ID" ]
    expect_eq "$d: submit answer says busy" busy "$(rrc_field "$T/sub" status)"
}

# === rrcloud --s=HOST echo note.txt, later rrcloud info ===================
printf 'a note for the cloud\n' >"$T/note.txt"
in=$(rrc_copy "$T/note.txt")
rrc_submit "echo note.txt" echo "fileIn0=$in"
expect_eq "echo note.txt: the true state" complete "$(rrc_field "$T/sub" state)"
expect_eq "echo note.txt: out" "tasks/out/$ID" "$OUT"
expect_eq "echo note.txt: exitCode 0 is too short for the client" "" \
    "$(rrc_field "$T/sub" exitCode)"
expect_eq "echo note.txt: the input kept its type" in0.txt "$(rrc_field "$T/sub" in)"
rrc_poll "$ID" "$T/info"
expect_eq "info: complete" complete "$(rrc_field "$T/info" status)"
expect_eq "info: state" complete "$(rrc_field "$T/info" state)"
expect_eq "info: the result downloads" 200 "$(rrc_get "$OUT")"
expect_eq "info: result content" "a note for the cloud" "$(cat "$C/$OUT")"
expect_eq "info: the log downloads" 200 "$(rrc_get "tasks/log/$ID")"

# a task whose command writes a log line
in=$(rrc_copy "$T/note.txt")
rrc_submit "cpv note.txt" cpv "fileIn0=$in"
rrc_poll "$ID" "$T/info"
expect_eq "cpv: info complete" complete "$(rrc_field "$T/info" status)"
expect_eq "cpv: result downloads" 200 "$(rrc_get "$OUT")"
expect_eq "cpv: result content" "a note for the cloud" "$(cat "$C/$OUT")"
expect_eq "cpv: log downloads" 200 "$(rrc_get "tasks/log/$ID")"
expect_contains "cpv: log content" "$(cat "$C/tasks/log/$ID")" "in0.txt"

# === text as input: rrcloud echo "hello world" ==============================
in=$(rrc_text "hello world")
check "text input: uploaded without an extension ($in)" [ "${in#*.}" = "$in" ]
rrc_submit "echo \"hello world\"" echo "fileIn0=$in"
expect_eq "text input: state" complete "$(rrc_field "$T/sub" state)"
expect_eq "text input: stored as text" in0.txt "$(rrc_field "$T/sub" in)"
rrc_poll "$ID" "$T/info"
expect_eq "text input: info complete" complete "$(rrc_field "$T/info" status)"
expect_eq "text input: result downloads" 200 "$(rrc_get "$OUT")"
expect_eq "text input: result content" "hello world" "$(cat "$C/$OUT")"

# text with a dot: the client names it <uniq>.<text after the last dot>
in=$(rrc_text "layer height 0.2 mm")
expect_eq "dotted text: its upload name" "2 mm" "${in##*.}"
rrc_submit "echo \"layer height 0.2 mm\"" echo "fileIn0=$in"
expect_eq "dotted text: state" complete "$(rrc_field "$T/sub" state)"
expect_eq "dotted text: stored as text" in0.txt "$(rrc_field "$T/sub" in)"

# text that fits no input type of the service
printf '\211PNG\r\n\032\n\000\000\000\015IHDR\000\000\000\001\000\000\000\001\010\002\000\000\000\220wS\336\000\000\000\000IEND\256B`\202' \
    >"$C/tasks/in/png-$$"
code=$(cd "$C" && curl -s -o "$T/body" -w '%{http_code}' -F service=openscad \
    -F "fileIn0=@tasks/in/png-$$" "$BASE")
expect_eq "extension-less PNG for openscad: 415" 415 "$code"
expect_contains "415 names the field and the types" "$(body)" "fileIn0: "
expect_contains "415 names the accepted types" "$(body)" "openscad takes: scad"
check "415: the client finds no id" [ -z "$(rrc_field "$T/body" id)" ]

# === --notifier=URL ========================================================
start_listener "$T/notify.log"
in=$(rrc_copy "$T/note.txt")
rrc_submit "--notifier" echo "fileIn0=$in" \
    "notifier=http://127.0.0.1:$LPORT/done?task=\$id&ip=\$myip"
expect_eq "notifier: substituted in the answer" \
    "http://127.0.0.1:$LPORT/done?task=$ID&ip=127.0.0.1" "$(rrc_field "$T/sub" notifier)"
i=0
while ! grep -q "^GET /done?task=$ID&ip=127.0.0.1 " "$T/notify.log" 2>/dev/null &&
      [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
check "notifier: called with the task id" grep -q "^GET /done?task=$ID&ip=127.0.0.1 " "$T/notify.log"

# === the *.cloud wrappers: POST, then the first poll must be final =========
# wrapper SERVICE LOCAL-OUT K=V...: myExecRemote.
wrapper() {
    svc=$1; lout=$2; shift 2
    ins=""
    for kv in "$@"; do
        case $kv in fileIn*) ins="${ins:+$ins,}${kv#*=}" ;; esac
    done
    rrc_post "$T/sub" "service=$svc" "$@" "in=$ins"
    ID=$(rrc_field "$T/sub" id)
    OUT=$(rrc_field "$T/sub" out)
    check "$svc.cloud: an id" [ -n "$ID" ]
    rrc_poll "$ID" "$T/info"
    st=$(rrc_field "$T/info" status)
    expect_eq "$svc.cloud: the first poll says complete" complete "$st"
    expect_eq "$svc.cloud: result downloads" 200 "$(rrc_get "$OUT")"
    expect_eq "$svc.cloud: log downloads" 200 "$(rrc_get "tasks/log/$ID")"
    cp "$C/$OUT" "$lout"
}
wrapper cpv "$T/copy.txt" "fileIn0=$(rrc_copy "$T/note.txt")"
expect_eq "cpv wrapper: result" "a note for the cloud" "$(cat "$T/copy.txt")"
if command -v openscad >/dev/null; then
    wrapper openscad "$T/cube.stl" "fileIn0=$(rrc_copy "$D/cube.scad")"
    expect_eq "openscad.cloud cube.scad -ocube.stl: an STL" solid \
        "$(head -c 5 "$T/cube.stl")"
    # rrcloud openscad "cube(10); sphere(6);": scad from the command line
    in=$(rrc_text "cube(10); sphere(6);")
    rrc_submit "openscad text" openscad "fileIn0=$in"
    expect_eq "openscad text: stored as scad" in0.scad "$(rrc_field "$T/sub" in)"
    expect_eq "openscad text: state" complete "$(rrc_field "$T/sub" state)"
else
    echo "SKIP: openscad not installed"
fi
if command -v slic3r >/dev/null; then
    # slic3r.cloud --load=slicer.ini cube.stl --output=cube.gcode
    wrapper slic3r "$T/cube.gcode" "fileIn0=$(rrc_copy "$D/slicer.ini")" \
        prearg0=--load= "fileIn1=$(rrc_copy "$D/cube.stl")"
    expect_contains "slic3r.cloud: G-code" "$(head -c 2000 "$T/cube.gcode")" "G1"
else
    echo "SKIP: slic3r not installed"
fi

# === queued reads busy; kill (by POST); cancelled reads failed =============
# One runner slot: the first nap is busy, the second waits.  Both POSTs
# are held like the client's.
(rrc_post "$T/held1" service=nap "fileIn0=$(rrc_copy "$T/note.txt")" arg0=30) &
EXTRA_PIDS="$EXTRA_PIDS $!"; h1=$!
i=0
while [ -z "$(curl -s "$BASE/api/v1/tasks?status=busy" | sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p')" ] &&
      [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
busy=$(curl -s "$BASE/api/v1/tasks?status=busy" | sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p')
check "a nap task is busy" [ -n "$busy" ]
(rrc_post "$T/held2" service=nap "fileIn0=$(rrc_copy "$T/note.txt")" arg0=30) &
EXTRA_PIDS="$EXTRA_PIDS $!"; h2=$!
i=0
while [ -z "$(curl -s "$BASE/api/v1/tasks?status=queued" | sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p')" ] &&
      [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
queued=$(curl -s "$BASE/api/v1/tasks?status=queued" | sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p')
check "a nap task waits" [ -n "$queued" ]

rrc_poll "$queued" "$T/info"
expect_eq "queued: status reads busy" busy "$(rrc_field "$T/info" status)"
expect_eq "queued: state says queued" queued "$(rrc_field "$T/info" state)"
expect_contains "queued: JSON keeps queued" \
    "$(curl -s "$BASE/?service=info&id=$queued&format=json")" '"status": "queued"'
expect_contains "queued: /api/v1 keeps queued" \
    "$(curl -s "$BASE/api/v1/tasks/$queued")" '"status":"queued"'
rrc_poll "$busy" "$T/info"
expect_eq "busy: status" busy "$(rrc_field "$T/info" status)"
expect_eq "busy: state" busy "$(rrc_field "$T/info" state)"

rrc_post "$T/kill" service=kill "id=$queued"
expect_eq "kill queued: the answer names it" "$queued" "$(rrc_field "$T/kill" id)"
expect_eq "kill queued: status reads failed" failed "$(rrc_field "$T/kill" status)"
expect_eq "kill queued: state says cancelled" cancelled "$(rrc_field "$T/kill" state)"
rrc_post "$T/kill" service=kill "id=$busy"
expect_eq "kill busy: the answer names it" "$busy" "$(rrc_field "$T/kill" id)"
expect_eq "busy task cancelled" cancelled "$(wait_status "$busy" cancelled 20)"
wait "$h1"; wait "$h2"
for h in held1 held2; do
    expect_eq "$h: the held answer came" 1 "$(grep -c '^id: ' "$T/$h")"
    expect_eq "$h: a held answer says busy, as RepRapCloud's CGI did" busy \
        "$(rrc_field "$T/$h" status)"
    expect_eq "$h: its state says cancelled" cancelled "$(rrc_field "$T/$h" state)"
done
rrc_poll "$busy" "$T/info"
expect_eq "cancelled: status reads failed" failed "$(rrc_field "$T/info" status)"
expect_eq "cancelled: state" cancelled "$(rrc_field "$T/info" state)"
expect_eq "cancelled: the log downloads" 200 "$(rrc_get "tasks/log/$busy")"
expect_contains "cancelled: JSON keeps cancelled" \
    "$(curl -s "$BASE/?service=info&id=$busy&format=json")" '"status": "cancelled"'
expect_contains "cancelled: /api/v1 keeps cancelled" \
    "$(curl -s "$BASE/api/v1/tasks/$busy")" '"status":"cancelled"'
expect_contains "cancelled: the page keeps cancelled" \
    "$(curl -s -A 'Mozilla/5.0' -H 'Accept: text/html' "$BASE/?service=info&id=$busy")" \
    '<td>cancelled</td>'
lst=$(curl -s "$BASE/?service=info")
expect_contains "text list: cancelled reads failed" "$lst" "status: failed"
expect_contains "text list: with its state" "$lst" "state: cancelled"
expect_not_contains "text list: no status word the client does not know" "$lst" \
    "status: cancelled"

# === ids of the shape in RepRapCloud's README ================================
U2=1361982308-837500
code=$(cd "$C" && curl -s -o "$T/body" -w '%{http_code}' -F service=info -F "id=$U2" "$BASE")
expect_eq "unknown two-part id: 404" 404 "$code"
check "unknown two-part id: no id for the client" [ -z "$(rrc_field "$T/body" id)" ]
expect_eq "unknown two-part id: log 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/tasks/log/$U2")"
expect_eq "unknown two-part id: result 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/tasks/out/$U2.stl")"
code=$(cd "$C" && curl -s -o "$T/body" -w '%{http_code}' -F service=kill -F "id=$U2" "$BASE")
expect_eq "kill of an unknown two-part id: 404" 404 "$code"

if [ "$failures" -gt 0 ]; then
    echo "--- requests sent (field order as shuffled):"
    cat "$T/requests"
fi
