#!/bin/sh
# test_pipeline.sh - task pipelines through POST /: then=SERVICE,... with
# per-stage options (thenN.argM); each stage a task linked to the next, the
# output of one the input of the next; info of any stage shows the chain;
# the notifier is called once, when the chain ends; a failed stage ends the
# chain; cancelling any stage cancels every stage not yet ended; a bad chain
# is a 4xx naming the field, with nothing written.  The real openscad ->
# slic3r chain runs when both programs are installed.
. "$(dirname "$0")/lib.sh"

command -v perl >/dev/null || skip "no perl (the test services use it)"
LISTEN=$builddir/tests/tools/rr-listen
[ -x "$LISTEN" ] || skip "rr-listen not built (make tests/tools/rr-listen)"

# The shipped services plus napcp (sleeps arg0 seconds, then copies its
# input: a slow stage with an output) and nope (always fails).
SVC=$T/services
mkdir -p "$SVC"
cp "$SRCDIR"/services/*.conf "$SVC/"
cp -r "$SRCDIR"/services/curaengine "$SVC/"
cat >"$SVC/napcp.conf" <<'EOF'
description = sleep arg0 seconds, then copy the input (test service)
path = /usr/bin:/bin
cmd = perl -e sleep(shift);exec("cp",@ARGV)
fileOut = $id.txt
inputTypes = txt
options = [0-9]*
timeout = 60
EOF
sed -e 's/^description = .*/description = napcp, re-run after a crash (test service)/' \
    "$SVC/napcp.conf" >"$SVC/napcpr.conf"
echo "rerun = yes" >>"$SVC/napcpr.conf"
cat >"$SVC/nope.conf" <<'EOF'
description = always fails (test service)
path = /usr/bin:/bin
cmd = false
fileOut = $id.txt
inputTypes = txt
timeout = 60
EOF
STACK_SERVICES_DIR=$SVC
STACK_CONF_EXTRA="runner_slots = 2
kill_grace = 1s
max_queued = 6"
export STACK_SERVICES_DIR STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

printf 'hello pipeline\n' >"$T/hello.txt"

section() { echo "-- $(date +%T) $*"; }
# jget ID KEY: a value of the task's RepRapCloud JSON record.
jget() {
    curl -s -m 5 "$BASE/?service=info&id=$1&format=json" |
        sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"
}
# stage_ids ID: the ids of ID's chain, one per line, in order.
stage_ids() {
    jget "$1" chain | tr ',' '\n' | awk '{ print $1 }'
}
wait_grep() {
    i=0
    while ! grep -q -F -- "$2" "$1" 2>/dev/null; do
        [ $i -ge "${3:-100}" ] && return 1
        sleep 0.1; i=$((i + 1))
    done
    return 0
}
# wait_st ID WANT [SECONDS]: wait_status by the task's own status (the
# API record of a stage also holds its chain's stages' states).
wait_st() {
    i=0; lim=$(( ${3:-30} * 10 ))
    while [ $i -lt $lim ]; do
        st=$(jget "$1" status)
        case $st in
        "$2"|complete|failed|cancelled) echo "$st"; return 0 ;;
        esac
        sleep 0.1; i=$((i + 1))
    done
    echo "${st:-none}"
}
ntasks() { ls "$STACK/spool/tasks" 2>/dev/null | wc -l | tr -d ' '; }

# --- a synchronous chain: the answer is the last stage's, when all ended ----
section "echo -> echo -> echo, held until the chain ends"
start_listener "$T/n1.log"
out=$(curl -s -m 30 -F service=echo -F then=echo,echo -F "fileIn0=@$T/hello.txt" \
    --form-string "notifier=http://127.0.0.1:$LPORT/done/\$id" "$BASE/")
expect_contains "held answer: the last stage" "$out" "stage: 2"
expect_contains "last stage complete" "$out" "state: complete"
expect_contains "the chain is complete" "$out" "chainStatus: complete"
last=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
first=$(printf '%s\n' "$out" | sed -n 's/^chain: \([0-9-]*\) .*/\1/p')
check "the chain names its first stage" [ -n "$first" -a "$first" != "$last" ]
expect_eq "the output went through every stage" "hello pipeline" "$(curl -s "$BASE/tasks/out/$last")"
expect_contains "a later stage's input is the previous output" "$out" "in: in0.txt"
n=$(stage_ids "$first" | wc -l | tr -d ' ')
expect_eq "info on the first stage shows 3 stages" 3 "$n"
s1=$(stage_ids "$first" | sed -n 2p)
o0="$STACK/spool/tasks/$first/$first" i1="$STACK/spool/tasks/$s1/in0.txt"
check "stage 0's result and stage 1's input both there" [ -f "$o0" -a -f "$i1" ]
check "stage 1's input is a copy, not stage 0's result's inode" \
    [ "$(stat -c %i "$o0")" != "$(stat -c %i "$i1")" -a "$(stat -c %h "$o0")" = 1 ]
out=$(curl -s "$BASE/?service=info&id=$first")
expect_contains "first stage: stage 0" "$out" "stage: 0"
expect_contains "first stage: the whole chain, complete" "$out" "chainStatus: complete"
expect_contains "first stage: the last stage in the chain" "$out" "$last echo complete"
out=$(curl -s "$BASE/api/v1/tasks/$first")
expect_contains "API: the chain's state" "$out" "\"chain\":{\"id\":\"$first\",\"stage\":0,\"status\":\"complete\",\"stages\":[{\"id\":\"$first\",\"service\":\"echo\",\"status\":\"complete\"}"
out=$(curl -s -A 'Mozilla/5.0' -H 'Accept: text/html' "$BASE/?service=info&id=$first")
expect_contains "HTML: the chain" "$out" "<th>chain</th>"
out=$(curl -s -F service=echo -F "fileIn0=@$T/hello.txt" "$BASE/api/v1/tasks")
expect_contains "API: a task alone has no chain" "$out" '"chain":null'
check "the chain's notifier is called, under its first stage's id" wait_grep "$T/n1.log" "GET /done/$first" 50
# A task alone afterwards: its call comes after any late call for the chain.
aid=$(curl -s -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" \
    --form-string "notifier=http://127.0.0.1:$LPORT/done/\$id" "$BASE/" | sed -n 's/^id: //p')
check "the next task's notifier is called" wait_grep "$T/n1.log" "GET /done/$aid" 50
expect_eq "the chain's notifier is called once" 1 "$(grep -c "^GET /done/$first" "$T/n1.log")"
expect_eq "and never for its later stages" 0 "$(grep -c "^GET /done/$last" "$T/n1.log")"

# --- async: the first stage at once, with its chain ------------------------
section "async chain with per-stage options"
out=$(curl -s -F service=echo -F then=napcp,echo -F then1.arg0=1 -F async=1 \
    -F "fileIn0=@$T/hello.txt" "$BASE/")
expect_contains "async answers with the first stage" "$out" "stage: 0"
aid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
set -- $(stage_ids "$aid")
expect_eq "three stages" 3 "$#"
expect_eq "stage 2 completes" complete "$(wait_st "$3" complete 20)"
expect_contains "stage 1 got its own option" "$(jget "$2" cmd)" " 1 in0.txt $2.txt"
expect_eq "and passed the input on" "hello pipeline" "$(curl -s "$BASE/tasks/out/$3")"

# --- a failed stage ends the chain -------------------------------------------
section "a failed stage cancels the stages after it"
start_listener "$T/n2.log"
out=$(curl -s -m 30 -F service=echo -F then=nope,echo -F "fileIn0=@$T/hello.txt" \
    --form-string "notifier=http://127.0.0.1:$LPORT/fail/\$id" -F format=json "$BASE/")
expect_contains "held answer: the last stage, cancelled" "$out" '"status": "cancelled"'
expect_contains "the chain failed" "$out" '"chainStatus": "failed"'
fid=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"chain": "\([0-9-]*\) .*/\1/p')
set -- $(stage_ids "$fid")
expect_eq "stage 1 failed" failed "$(jget "$2" status)"
expect_contains "stage 2's reason names stage 1" "$(jget "$3" error)" "stage 1 (nope $2) failed: exit code 1"
expect_eq "stage 2 never ran" "" "$(jget "$3" stime)"
check "the failed chain's notifier is called" wait_grep "$T/n2.log" "GET /fail/$fid" 50

# --- cancelling one stage cancels every stage ---------------------------------
section "cancel of a later stage stops the busy first one and the rest"
start_listener "$T/n3.log"
out=$(curl -s -F service=napcp -F arg0=30 -F then=echo,napcp -F then2.arg0=30 -F async=1 \
    --form-string "notifier=http://127.0.0.1:$LPORT/cancel/\$id" -F "fileIn0=@$T/hello.txt" "$BASE/")
cid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
set -- $(stage_ids "$cid")
expect_eq "stage 0 starts" busy "$(wait_st "$cid" busy 10)"
code=$(http_status POST "$BASE/api/v1/tasks/$3/cancel" -d '')
expect_eq "cancel of stage 2 is accepted" 202 "$code"
expect_eq "stage 0 (busy) cancelled" cancelled "$(wait_st "$1" cancelled 10)"
expect_eq "stage 1 cancelled" cancelled "$(jget "$2" status)"
expect_eq "stage 2 cancelled" cancelled "$(jget "$3" status)"
expect_eq "stage 1 never ran" "" "$(jget "$2" stime)"
expect_eq "the chain is cancelled" cancelled "$(jget "$cid" chainStatus)"
check "the cancelled chain's notifier is called" wait_grep "$T/n3.log" "GET /cancel/$cid" 50
# a stage whose chain ended: cancelling again changes nothing
code=$(http_status POST "$BASE/api/v1/tasks/$2/cancel" -d '')
expect_eq "cancelling an ended chain again is answered" 202 "$code"
sleep 0.5   # a second call would have been queued by now; none must come
expect_eq "the notifier is called once" 1 "$(grep -c "^GET /cancel/" "$T/n3.log")"

section "cancel of the busy middle stage: the first stays complete"
out=$(curl -s -F service=echo -F then=napcp,echo -F then1.arg0=30 -F async=1 \
    -F "fileIn0=@$T/hello.txt" "$BASE/")
mid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
set -- $(stage_ids "$mid")
expect_eq "stage 1 starts" busy "$(wait_st "$2" busy 10)"
out=$(curl -s -F service=cancel -F "id=$mid" "$BASE/")
expect_eq "stage 1 (busy) cancelled" cancelled "$(wait_st "$2" cancelled 10)"
expect_eq "stage 2 cancelled" cancelled "$(jget "$3" status)"
expect_eq "stage 0 stays complete" complete "$(jget "$1" status)"

# --- kill -9 of rrcloudd in the middle of a chain -----------------------------
section "kill -9 of rrcloudd with a stage busy, then restart"
kn=$(curl -s -F service=echo -F then=napcp,echo -F then1.arg0=30 -F async=1 \
    -F "fileIn0=@$T/hello.txt" "$BASE/" | sed -n 's/^id: //p')
set -- $(stage_ids "$kn")
kn1=$2 kn2=$3
kr=$(curl -s -F service=echo -F then=napcpr,echo -F then1.arg0=3 -F async=1 \
    -F "fileIn0=@$T/hello.txt" "$BASE/" | sed -n 's/^id: //p')
set -- $(stage_ids "$kr")
kr1=$2 kr2=$3
expect_eq "never-re-run stage busy" busy "$(wait_st "$kn1" busy 10)"
expect_eq "re-runnable stage busy" busy "$(wait_st "$kr1" busy 10)"
rrcloudd_stop KILL || fail "rrcloudd did not die"
rrcloudd_start
expect_eq "the stage not re-run ends failed" failed "$(wait_st "$kn1" failed 20)"
expect_eq "and the stage after it is cancelled" cancelled "$(jget "$kn2" status)"
expect_contains "naming it" "$(jget "$kn2" error)" "stage 1 (napcp $kn1) failed: rrcloudd stopped while the task ran"
expect_eq "the re-run stage's chain goes on to its end" complete "$(wait_st "$kr2" complete 20)"
expect_eq "with the output through both" "hello pipeline" "$(curl -s "$BASE/tasks/out/$kr2")"

# --- bad chains: a 4xx naming the field, and nothing written -----------------
section "bad chains"
before=$(ntasks)
# rej DESC STATUS FIELD-PATTERN curl-args...
rej() {
    desc=$1; want=$2; pat=$3; shift 3
    code=$(http_status POST "$BASE/" -F format=json "$@")
    expect_eq "$desc: status" "$want" "$code"
    if ! body | grep -Eq "$pat"; then fail "$desc: '$pat' not in $(body | head -c 300)"; else pass; fi
}
rej "unknown service" 400 '"field":"then".*unknown service .nosuch' \
    -F service=echo -F then=nosuch -F "fileIn0=@$T/hello.txt"
rej "echo of .txt then openscad" 400 '"field":"then".*openscad \(stage 1\) does not take \.txt, the output of echo' \
    -F service=echo -F then=openscad -F "fileIn0=@$T/hello.txt"
rej "openscad then openscad" 400 '"field":"then".*openscad \(stage 1\) does not take \.stl' \
    -F service=openscad -F then=openscad -F "fileIn0=@$SRCDIR/tests/data/cube.scad"
rej "slic3r then openscad (stage 2)" 400 '"field":"then".*openscad \(stage 2\) does not take \.gcode' \
    -F service=openscad -F then=slic3r,openscad -F "fileIn0=@$SRCDIR/tests/data/cube.scad"
rej "a print stage without a key that may print" 401 '"field":"Authorization"' \
    -F service=echo -F then=print -F "fileIn0=@$SRCDIR/tests/data/small.gcode"
rej "a model into a print stage" 400 '"field":"then".*print \(stage 1\) prints G-code, and openscad writes \.stl' \
    -F service=openscad -F then=print -F "fileIn0=@$SRCDIR/tests/data/cube.scad"
rej "a stage after a print" 400 '"field":"then".*print writes no file' \
    -F service=echo -F then=print,echo -F "fileIn0=@$SRCDIR/tests/data/small.gcode"
rej "empty then" 400 '"field":"then"' -F service=echo -F then= -F "fileIn0=@$T/hello.txt"
rej "an empty name" 400 '"field":"then".*empty service name' \
    -F service=echo -F then=echo,,echo -F "fileIn0=@$T/hello.txt"
rej "too many stages" 400 '"field":"then".*more than 7' \
    -F service=echo -F then=echo,echo,echo,echo,echo,echo,echo,echo -F "fileIn0=@$T/hello.txt"
rej "an option the stage does not allow" 400 '"field":"then1.arg0"' \
    -F service=echo -F then=slic3r -F then1.arg0=--bogus=1 -F "fileIn0=@$SRCDIR/tests/data/cube.stl"
rej "an option for a stage the chain lacks" 400 '"field":"then2.arg0".*no stage 2' \
    -F service=echo -F then=napcp -F then2.arg0=1 -F "fileIn0=@$T/hello.txt"
rej "stage options without then" 400 '"field":"then1.arg0"' \
    -F service=echo -F then1.arg0=1 -F "fileIn0=@$T/hello.txt"
rej "a stage field that is not an option" 400 '"field":"then1.fileIn0"' \
    -F service=echo -F then=echo -F then1.fileIn0=x -F "fileIn0=@$T/hello.txt"
rej "then0 is not a stage" 400 '"field":"then0.arg0".*not a stage field' \
    -F service=echo -F then=echo -F then0.arg0=1 -F "fileIn0=@$T/hello.txt"
rej "a shell character in a stage option" 400 '"field":"then1.arg0"' \
    -F service=echo -F then=napcp --form-string 'then1.arg0=1;rm' -F "fileIn0=@$T/hello.txt"
code=$(http_status POST "$BASE/" -F service=echo -F then=echo,echo,echo,echo,echo,echo \
    -F "fileIn0=@$T/hello.txt")
expect_eq "a pipeline longer than max_queued is refused" 503 "$code"
expect_contains "saying why" "$(body)" "a pipeline queues one per stage"
expect_eq "no task written by a bad chain" "$before" "$(ntasks)"
expect_eq "no spool leftovers" "" "$(ls "$STACK/spool/tmp" 2>/dev/null)"

# --- the CLI asks for a chain -------------------------------------------------
section "rrcloud --then"
RR="$builddir/rrcloud"
out=$(cd "$T" && "$RR" --s="$BASE" --async echo hello.txt --then=napcp,echo --then1=1 2>&1)
cid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
check "--async prints the first stage's id" [ -n "$cid" ]
set -- $(stage_ids "$cid")
expect_eq "the CLI's chain has three stages" 3 "$#"
expect_eq "its last stage completes" complete "$(wait_st "$3" complete 20)"
expect_contains "--then1 reached stage 1" "$(jget "$2" cmd)" " 1 in0.txt $2.txt"
out=$(cd "$T" && "$RR" --s="$BASE" echo hello.txt --then=nosuch 2>&1)
expect_eq "a bad chain is refused (exit 4)" 4 "$?"
expect_contains "and the message names then" "$out" "then: unknown service 'nosuch'"
out=$(cd "$T" && "$RR" --local echo hello.txt --then=echo 2>&1)
expect_eq "--then with --local is a usage error" 2 "$?"
out=$(cd "$T" && "$RR" --s="$BASE" echo hello.txt --then1=1 2>&1)
expect_eq "--thenN without --then is a usage error" 2 "$?"
# SERVICE.cloud takes them among its arguments (it has no options)
mkdir -p "$T/cloud/home"
ln -s "$RR" "$T/cloud/echo.cloud"
cp "$T/hello.txt" "$T/cloud/"
printf 'servers = 127.0.0.1:%s\n' "$PORT" >"$T/cloud/rrcloudrc"
chmod 600 "$T/cloud/rrcloudrc"
out=$(cd "$T/cloud" && HOME="$T/cloud/home" ./echo.cloud hello.txt --then=napcp --then1=1 2>&1)
expect_eq "echo.cloud hello.txt --then=napcp runs the chain" 0 "$?"
check "the server got the chain" grep -q "then napcp, client waits" "$STACK/log/fcgi.log"

# --- the real thing: scad -> stl -> gcode ------------------------------------
if command -v openscad >/dev/null && command -v slic3r >/dev/null; then
    section "openscad -> slic3r with a stage option"
    out=$(curl -s -m 120 -F service=openscad -F then=slic3r \
        -F then1.arg0=--layer-height=0.3 -F "fileIn0=@$SRCDIR/tests/data/cube.scad" "$BASE/")
    expect_contains "the G-code stage completes" "$out" "state: complete"
    expect_contains "the chain completes" "$out" "chainStatus: complete"
    gid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
    curl -s -o "$T/cube.gcode" "$BASE/tasks/out/$gid.gcode"
    check "real G-code came out" grep -q '^G1 ' "$T/cube.gcode"
    check "sliced with the stage's layer height" grep -q '^; layer_height = 0.3' "$T/cube.gcode"
    expect_contains "slic3r took openscad's STL" "$out" "in: in0.stl"
    cp "$SRCDIR/tests/data/cube.scad" "$T/cube.scad"
    out=$(cd "$T" && "$RR" --s="$BASE" --quiet openscad cube.scad --then=slic3r \
        --then1=--layer-height=0.3 2>&1)
    expect_eq "rrcloud openscad --then=slic3r exits 0" 0 "$?"
    check "and writes the last stage's G-code as cube.gcode" grep -q '^; layer_height = 0.3' "$T/cube.gcode"
else
    echo "-- openscad or slic3r not installed: the real chain is not run"
fi
