#!/bin/sh
# test_fairness.sh - fair share and floors, through real nginx, with two
# (and more) clients on loopback addresses of their own (curl --interface):
# one client's queue of slow tasks delays another's task by at most one
# task per runner slot; a client's held requests and queued tasks have
# limits (429, nothing written); uploads that do not fit under spool_quota
# or would leave less than min_free_space free are refused with 507 before
# their body is read or while it streams (relay, fleet and OctoPrint
# uploads), leaving nothing behind; SPOOL/tmp parts of a process that is
# gone are removed by rrcloudd's timer and when rrcloud-fcgi starts, a
# live process's kept.  A pipeline counts against client_max_queued by its
# first stage: its later stages, held, count once they are passed their
# input.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v perl >/dev/null || skip "no perl (the test service sleeps with it)"
# Loopback addresses besides 127.0.0.1 are the clients.
curl -s -o /dev/null --interface 127.0.0.2 http://127.0.0.1:1/ 2>/dev/null
[ $? -ne 45 ] || skip "cannot bind 127.0.0.2"

A=127.0.0.2; B=127.0.0.3; C=127.0.0.4; D=127.0.0.5; E=127.0.0.6; F=127.0.0.7
ADMIN=adm-fairness-0123456789abcdef0123456789
ADM="Authorization: Bearer $ADMIN"
OCTO=octo-fairness-0123456789abcdef0123456789
SVC=$T/services
mkdir -p "$SVC"
cat >"$SVC/nap.conf" <<'EOF'
description = sleep arg0 seconds (test service)
path = /usr/bin:/bin
cmd = perl -e sleep(shift)
noOutput = yes
inputTypes = txt
options = [0-9]*
timeout = 60
EOF
cat >"$SVC/copy.conf" <<'EOF'
description = copy the input to the output, a pipeline's stage (test service)
path = /usr/bin:/bin
cmd = cp
inputTypes = txt
timeout = 60
EOF
STACK_SERVICES_DIR=$SVC
STACK_MAX_BODY=0   # nginx leaves body sizes to rrcloud-fcgi
STACK_CONF_EXTRA="admin_token = $ADMIN
octoprint_key = $OCTO queue=default name=slicer
runner_slots = 2
client_max_queued = 8
client_max_held = 1
spool_quota = 100K
max_body_size = 16T
tmp_sweep_interval = 1s"
export STACK_SERVICES_DIR STACK_MAX_BODY STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

printf 'hello rrcloud\n' >"$T/hello.txt"
head -c 200000 /dev/zero | tr '\0' 'x' >"$T/big.txt"
{ printf 'G28\n'; head -c 200000 /dev/zero | tr '\0' ';'; printf '\nG1 X1\n'; } \
    >"$T/big.gcode"

# submit ADDR SECONDS [curl args...]: an async nap task from ADDR; its id.
submit() {
    addr=$1; secs=$2; shift 2
    curl -s -m 10 --interface "$addr" -F service=nap -F async=1 \
        -F "arg0=$secs" -F "fileIn0=@$T/hello.txt" "$@" "$BASE/" |
        sed -n 's/^id: //p'
}
# post ADDR [curl args...]: a submission from ADDR; prints the status.
post() {
    addr=$1; shift
    curl -s -m 20 -o "$T/body" -w '%{http_code}' --interface "$addr" "$@" "$BASE/"
}
# field ADDR ID KEY: a number or word of the task's JSON record.
field() {
    curl -s -m 5 --interface "$1" "$BASE/api/v1/tasks/$2" |
        sed -n "s/.*\"$3\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}
# wait_final ADDR ID: until the task has ended (at most 30 s).
wait_final() {
    i=0
    while [ $i -lt 300 ]; do
        case $(field "$1" "$2" status) in complete|failed|cancelled) return 0 ;; esac
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
tasks_of() { # ADDR: how many tasks the client has
    curl -s -m 5 --interface "$1" "$BASE/api/v1/tasks" | grep -o '"id":"' | wc -l | tr -d ' '
}
task_dirs() { ls "$STACK/spool/tasks" | wc -l | tr -d ' '; }
tmp_entries() { ls "$STACK/spool/tmp" | wc -l | tr -d ' '; }

# --- round-robin: A's queue of 8 slow tasks, then B's one ------------------------
ids=""
for n in 1 2 3 4 5 6 7 8; do
    ids="$ids $(submit $A 1)"
done
expect_eq "A's eight tasks accepted" 8 "$(echo $ids | wc -w | tr -d ' ')"
bid=$(submit $B 0)
check "B's task accepted" test -n "$bid"
check "B's task ends" wait_final $B "$bid"
expect_eq "B's task completed" complete "$(field $B "$bid" status)"
bcreated=$(field $B "$bid" created)
bstarted=$(field $B "$bid" started)
# A's tasks started after B's was queued and before it started: at most
# one per slot (2).  In submission order B would wait for all of A's.
ahead=0
for id in $ids; do
    s=$(field $A "$id" started)
    [ -n "$s" ] && [ "$s" != null ] || continue
    if awk -v s="$s" -v c="$bcreated" -v b="$bstarted" 'BEGIN { exit !(s > c && s < b) }'; then
        ahead=$((ahead + 1))
    fi
done
check "at most one of A's tasks per slot started before B's ($ahead)" test "$ahead" -le 2
for id in $ids; do wait_final $A "$id" || fail "A's task $id did not end"; done

# --- held requests per client (client_max_held = 1) ------------------------------
curl -s -m 30 --interface $E -F service=nap -F arg0=3 -F "fileIn0=@$T/hello.txt" \
    "$BASE/" >"$T/held1" &
held_pid=$!
busy_of() { curl -s -m 5 --interface "$1" "$BASE/api/v1/tasks" | grep -q '"status":"busy"'; }
i=0; while ! busy_of $E && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "E's synchronous task is running, its request held" busy_of $E
before=$(tasks_of $E)
expect_eq "a second held request from E is 429" 429 \
    "$(post $E -F service=nap -F arg0=0 -F "fileIn0=@$T/hello.txt")"
expect_contains "... naming the limit and its value" "$(body)" "client_max_held"
expect_contains "... its value" "$(body)" "limit of 1"
expect_eq "... and nothing was written" "$before" "$(tasks_of $E)"
expect_eq "E may still submit async" 200 \
    "$(post $E -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/hello.txt")"
expect_eq "F's held request is not E's" 200 \
    "$(post $F -F service=nap -F arg0=0 -F "fileIn0=@$T/hello.txt")"
check "... and answers when its task ends" grep -q '^state: complete' "$T/body"
wait "$held_pid"
check "E's held request answered when its task ended" grep -q '^state: complete' "$T/held1"

# --- spool_quota (100K): 507 before the body, while it streams, fleet uploads ----
dirs=$(task_dirs)
expect_eq "an upload over spool_quota is 507" 507 \
    "$(post $C -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/big.txt")"
expect_contains "... naming the quota and its value" "$(body)" "spool_quota: the spool holds"
expect_contains "... its value" "$(body)" "quota of 102400"
expect_eq "chunked (no Content-Length): 507 while it streams" 507 \
    "$(post $C -H 'Transfer-Encoding: chunked' -F service=nap -F async=1 -F arg0=0 \
        -F "fileIn0=@$T/big.txt")"
expect_contains "... naming the quota" "$(body)" "spool_quota"
code=$(curl -s -m 20 -o "$T/body" -w '%{http_code}' -H "$ADM" -F "file=@$T/big.gcode" \
    -F copies=1 "$BASE/api/v1/queues/default/jobs")
expect_eq "a fleet upload over spool_quota is 507" 507 "$code"
expect_contains "... naming the quota" "$(body)" "spool_quota"
code=$(curl -s -m 20 -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $OCTO" \
    -F "file=@$T/big.gcode" "$BASE/api/files/local")
expect_eq "an OctoPrint upload over spool_quota is 507" 507 "$code"
expect_contains "... naming the quota" "$(body)" "spool_quota"
expect_eq "no task was written" "$dirs" "$(task_dirs)"
expect_eq "no part is left in spool/tmp" 0 "$(tmp_entries)"
expect_eq "a small upload still fits" 200 \
    "$(post $C -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/hello.txt")"

# --- SPOOL/tmp: parts of a process that is gone go on rrcloudd's timer ------------
dead=$(sh -c 'echo $$')
mkdir "$STACK/spool/tmp/task-$dead-AbCdEf"
printf 'part' >"$STACK/spool/tmp/task-$dead-AbCdEf/up-0"
printf 'part' >"$STACK/spool/tmp/up-$dead-GhIjKl"
printf 'live' >"$STACK/spool/tmp/up-$$-MnOpQr"   # this shell's: alive
gone() { i=0; while [ -e "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; [ ! -e "$1" ]; }
check "rrcloudd's timer removes a dead process's task directory" \
    gone "$STACK/spool/tmp/task-$dead-AbCdEf"
check "... and its upload" gone "$STACK/spool/tmp/up-$dead-GhIjKl"
check "a live process's part is kept" test -e "$STACK/spool/tmp/up-$$-MnOpQr"
rm -f "$STACK/spool/tmp/up-$$-MnOpQr"

# --- rrcloud-fcgi's start removes them too (rrcloudd stopped: only it can) ------
stop_pid() { # NAME: stops the stack's process NAME and waits for it
    pid=$(cat "$STACK/$1.pid")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_pid rrcloudd
stop_pid fcgi
printf 'part' >"$STACK/spool/tmp/up-$dead-StUvWx"
printf 'live' >"$STACK/spool/tmp/up-$$-YzAbCd"
# From here: no quota, so the free-space floor is what refuses.
sed -i '/^spool_quota/d' "$STACK/rrcloud.conf"
rm -f "$STACK/fcgi.sock"
"$BUILDDIR/rrcloud-fcgi" -c "$STACK/rrcloud.conf" >>"$STACK/log/fcgi.log" 2>&1 &
echo $! >"$STACK/fcgi.pid"
i=0; while [ ! -S "$STACK/fcgi.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "rrcloud-fcgi restarted" test -S "$STACK/fcgi.sock"
check "its start removed the dead process's part" test ! -e "$STACK/spool/tmp/up-$dead-StUvWx"
check "... kept the live one's" test -e "$STACK/spool/tmp/up-$$-YzAbCd"
expect_contains "... and said so" "$(cat "$STACK/log/fcgi.log")" "removed 1 stale upload(s)"
rm -f "$STACK/spool/tmp/up-$$-YzAbCd"

# --- min_free_space: a body larger than the free space is refused unread --------
# (Content-Length says 8 TiB; the 40 KiB sent are never read.  They are
# more than rrcloud-fcgi's gate waits for before a thread takes an upload,
# PEEK_READY_BYTES: a body that sent less and stopped would wait there.)
huge=8796093022208
{ printf -- '--xx\r\n'; head -c 40960 /dev/zero | tr '\0' x; } >"$T/start.bin"
free=$(df -B1 --output=avail "$STACK/spool" | tail -1 | tr -d ' ')
if [ "$free" -lt "$huge" ]; then
    expect_eq "an upload that would leave less than min_free_space is 507" 507 \
        "$(post $C -H "Content-Length: $huge" -H 'Content-Type: multipart/form-data; boundary=xx' \
            --data-binary "@$T/start.bin")"
    expect_contains "... naming the floor" "$(body)" "min_free_space: the spool's disk has"
    code=$(curl -s -m 20 -o "$T/body" -w '%{http_code}' -H "$ADM" \
        -H "Content-Length: $huge" -H 'Content-Type: multipart/form-data; boundary=xx' \
        --data-binary "@$T/start.bin" "$BASE/api/v1/queues/default/jobs")
    expect_eq "the same for a fleet upload" 507 "$code"
    expect_contains "... naming the floor" "$(body)" "min_free_space"
    expect_eq "no part is left in spool/tmp" 0 "$(tmp_entries)"
fi

# --- queued tasks per client (client_max_queued = 8; rrcloudd is stopped) -------
n=0
for k in 1 2 3 4 5 6 7 8; do
    [ -n "$(submit $D 0)" ] && n=$((n + 1))
done
expect_eq "D queues eight" 8 "$n"
dirs=$(task_dirs)
expect_eq "a ninth is 429" 429 \
    "$(post $D -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/hello.txt")"
expect_contains "... naming the limit" "$(body)" "client_max_queued"
expect_contains "... and its value" "$(body)" "limit of 8"
expect_eq "... nothing was written" "$dirs" "$(task_dirs)"
expect_eq "... D still has eight" 8 "$(tasks_of $D)"
expect_eq "a large one is refused before its body (429)" 429 \
    "$(post $D -H 'Expect:' -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/big.txt")"
expect_eq "D may still ask service=info by POST" 200 "$(post $D -F service=info)"
expect_eq "another client is not held back" 200 \
    "$(post $C -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/hello.txt")"

# --- a pipeline counts by its first stage; its held stages do not count ----------
dirs=$(task_dirs)
expect_eq "D's pipeline is 429 too" 429 \
    "$(post $D -F service=copy -F then=copy,copy -F async=1 -F "fileIn0=@$T/hello.txt")"
expect_contains "... naming the limit" "$(body)" "client_max_queued"
expect_eq "... none of its stages was written" "$dirs" "$(task_dirs)"
expect_eq "F's pipeline of three stages is accepted" 200 \
    "$(post $F -F service=copy -F then=copy,copy -F async=1 -F "fileIn0=@$T/hello.txt")"
expect_eq "... three task directories" $((dirs + 3)) "$(task_dirs)"
n=0
for k in 1 2 3 4 5 6 7; do
    [ -n "$(submit $F 0)" ] && n=$((n + 1))
done
expect_eq "... its held stages leave F seven tasks more" 7 "$n"
expect_eq "... and then F is at its limit (429)" 429 \
    "$(post $F -F service=nap -F async=1 -F arg0=0 -F "fileIn0=@$T/hello.txt")"
