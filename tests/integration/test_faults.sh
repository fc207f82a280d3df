#!/bin/sh
# test_faults.sh - what goes wrong while tasks run, through real nginx:
# notifier callbacks (delivered, retried after a 500, kept across a restart
# of rrcloudd while the listener was down), a service timeout, cancel of a
# queued and of a busy task (its whole process group goes), kill -9 of
# rrcloudd mid-task and its restart (every task ends final, nothing lost,
# the orphans are killed), and held synchronous submissions that must not
# starve other requests.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v perl >/dev/null || skip "no perl (the test services sleep with it)"
command -v pgrep >/dev/null || skip "no pgrep"
LISTEN=$builddir/tests/tools/rr-listen
[ -x "$LISTEN" ] || skip "rr-listen not built (make tests/tools/rr-listen)"

# The shipped services plus three that sleep for argN seconds in two
# processes (a forked pair, so killing "the task" must mean its group).
SVC=$T/services
mkdir -p "$SVC"
cp "$SRCDIR"/services/*.conf "$SVC/"
for name in sleep nap napr; do
    case $name in
    sleep) timeout=; rerun=no ;;    # the timeout test: default_timeout
    nap) timeout=60; rerun=no ;;    # never re-run after a crash
    napr) timeout=60; rerun=yes ;;  # re-run after a crash
    esac
    cat >"$SVC/$name.conf" <<EOF
description = sleep argN seconds (test service)
path = /usr/bin:/bin
cmd = perl -e fork;sleep(shift)
noOutput = yes
inputTypes = txt
options = [0-9]*
${timeout:+timeout = $timeout}
rerun = $rerun
EOF
done
STACK_SERVICES_DIR=$SVC
STACK_CONF_EXTRA="runner_slots = 4
default_timeout = 2s
kill_grace = 1s
notifier_backoff = 1s
notifier_retries = 10"
export STACK_SERVICES_DIR STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

printf 'hello rrcloud\n' >"$T/hello.txt"

# submit SERVICE [SECONDS] [curl args...]: async submission, prints the id.
submit() {
    svc=$1; shift
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        secs=$1; shift
        set -- -F "arg0=$secs" "$@"
    fi
    curl -s -m 10 -F "service=$svc" -F async=1 -F "fileIn0=@$T/hello.txt" "$@" "$BASE/" |
        sed -n 's/^id: //p'
}
# jget ID KEY: a value of the task's RepRapCloud JSON record.
jget() {
    curl -s -m 5 "$BASE/?service=info&id=$1&format=json" |
        sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"
}
# alive PGID: how many live (not zombie) processes are in the group.
alive() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l | tr -d ' '
}
# wait_pid ID: waits until the busy task has a pid; prints it.
wait_pid() {
    i=0
    while [ $i -lt 50 ]; do
        p=$(jget "$1" pid)
        [ -n "$p" ] && { echo "$p"; return 0; }
        case $(jget "$1" status) in complete|failed|cancelled) return 1 ;; esac
        sleep 0.1; i=$((i + 1))
    done
}
# wait_gone PGID [TENTHS]: 0 once no live process is left in the group.
wait_gone() {
    i=0
    while [ "$(alive "$1")" != 0 ]; do
        [ $i -ge "${2:-50}" ] && return 1
        sleep 0.1; i=$((i + 1))
    done
    return 0
}
# wait_grep FILE TEXT [TENTHS]: 0 once TEXT is in FILE.
wait_grep() {
    i=0
    while ! grep -q -F -- "$2" "$1" 2>/dev/null; do
        [ $i -ge "${3:-100}" ] && return 1
        sleep 0.1; i=$((i + 1))
    done
    return 0
}

section() { echo "-- $(date +%T) $*"; }

# --- notifier: delivered with $id substituted -----------------------------------
section "notifier: delivered with \$id substituted"
start_listener "$T/n1.log"
check "rr-listen gives a port" [ -n "$LPORT" ]
# With a password in the URL, which the log must never show.
id=$(submit echo --form-string "notifier=http://hook:pw-$$-secret@127.0.0.1:$LPORT/done?task=\$id&from=\$myip")
expect_eq "notified task completes" complete "$(wait_status "$id" complete 20)"
check "notifier delivered" wait_grep "$T/n1.log" "/done?task=$id&from=127.0.0.1" 50
check "rrcloudd logged the delivery" wait_grep "$STACK/log/rrcloudd.log" "notify: task $id attempt 1: http://127.0.0.1:$LPORT/done: HTTP 200" 50
expect_eq "no userinfo in any log" "" "$(grep -rl "pw-$$-secret" "$STACK/log/" || true)"
expect_contains "notifier names the task in a header" "$(cat "$T/n1.log")" "X-Rrcloud-Task: $id"
expect_eq "notifier called once" 1 "$(grep -c "^GET /done?task=$id" "$T/n1.log")"

# --- notifier: 500 first, then 200: retried after notifier_backoff ---------------
section "notifier: 500 first, then 200: retried after notifier_backoff"
start_listener "$T/n2.log" 500,200
id2=$(submit echo --form-string "notifier=http://127.0.0.1:$LPORT/retry/\$id")
expect_eq "task with a failing notifier completes" complete "$(wait_status "$id2" complete 20)"
i=0
while [ "$(grep -c "/retry/$id2" "$T/n2.log")" -lt 2 ] && [ $i -lt 80 ]; do
    sleep 0.1; i=$((i + 1))
done
expect_eq "two attempts reached the listener" 2 "$(grep -c "/retry/$id2" "$T/n2.log")"
check "rrcloudd logged the delivery" wait_grep "$STACK/log/rrcloudd.log" "notify: task $id2 attempt 2" 30
expect_contains "second attempt delivered" \
    "$(grep "notify: task $id2 attempt 2" "$STACK/log/rrcloudd.log")" "delivered"

# --- timeout: a sleep 30 under default_timeout = 2s (the service sets none) ----------
section "timeout: a sleep 30 under default_timeout = 2s (the service sets none)"
t0=$(date +%s)
out=$(curl -s -m 30 -F service=sleep -F arg0=30 -F "fileIn0=@$T/hello.txt" "$BASE/")
t1=$(date +%s)
expect_contains "timed-out task failed" "$out" "state: failed"
expect_contains "reason names the timeout" "$out" "timed out after 2 s"
check "timeout ended it within a few seconds ($((t1 - t0)) s)" [ $((t1 - t0)) -le 6 ]

# --- no GET changes anything: kill by GET is refused, the task runs on -----------------
section "no GET changes anything: kill by GET is refused, the task runs on"
g1=$(submit nap 1)
expect_eq "nap task $g1 is busy" busy "$(wait_status "$g1" busy 10)"
code=$(curl -s -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$BASE/?service=kill&id=$g1")
expect_eq "GET kill: 405" 405 "$code"
expect_contains "GET kill: Allow names POST" "$(tr -d '\r' <"$T/hdr")" "Allow: POST"
expect_contains "GET kill: the answer names the method" "$(body)" "use POST, not GET"
expect_eq "a task killed by GET still completes" complete "$(wait_status "$g1" complete 10)"

# --- cancel: a busy task (its process group goes) and a queued one ----------------------
section "cancel: a busy task (its process group goes) and a queued one"
b1=$(submit nap 30); b2=$(submit nap 30); b3=$(submit nap 30); b4=$(submit nap 30)
q1=$(submit nap 30)
for b in $b1 $b2 $b3 $b4; do
    expect_eq "nap task $b is busy" busy "$(wait_status "$b" busy 10)"
done
expect_eq "fifth task waits for a slot" queued "$(wait_status "$q1" queued 1)"
pg=$(wait_pid "$b1")
check "busy task shows its pid" [ -n "$pg" ]
api=$(curl -s "$BASE/api/v1/tasks/$b1")
expect_contains "the task API shows the same pid" "$api" "\"pid\":${pg:-x},"
expect_contains "a run task has no job" "$api" '"job":null'
expect_contains "a queued task has no pid" \
    "$(curl -s "$BASE/api/v1/tasks/$q1")" '"pid":null'
expect_eq "busy task's group has both processes" 2 "$(alive "${pg:-0}")"
out=$(curl -s -X POST -d '' "$BASE/api/v1/tasks/$q1/cancel")
expect_contains "cancel queued: answered" "$out" "\"id\":\"$q1\""
expect_eq "queued task cancelled" cancelled "$(wait_status "$q1" cancelled 5)"
out=$(curl -s "$BASE/?service=info&id=$q1")
expect_not_contains "cancelled queued task never started" "$out" "stime:"
out=$(curl -s -F service=cancel -F "id=$b1" "$BASE/")
expect_eq "busy task cancelled" cancelled "$(wait_status "$b1" cancelled 10)"
check "cancelled task's process group is gone" wait_gone "${pg:-0}" 30
expect_contains "reason says cancelled" "$(curl -s "$BASE/?service=info&id=$b1")" "error: cancelled by client"
for b in $b2 $b3 $b4; do
    curl -s -o /dev/null -X DELETE "$BASE/api/v1/tasks/$b"
done
for b in $b2 $b3 $b4; do
    expect_eq "cleanup cancel $b" cancelled "$(wait_status "$b" cancelled 10)"
done
out=$(curl -s -X POST -d '' "$BASE/api/v1/tasks/$b1/cancel")
expect_contains "cancelling a cancelled task leaves it alone" "$out" '"status":"cancelled"'

# --- kill -9 of rrcloudd mid-task, then restart ----------------------------------------
section "kill -9 of rrcloudd mid-task, then restart"
k1=$(submit nap 30)     # busy, never re-run: must end failed with a reason
k2=$(submit napr 4)     # busy, re-run after the crash
k3=$(submit napr 4)
k4=$(submit napr 4)
k5=$(submit echo)       # queued behind them
k6=$(submit echo)
pgs=""
for k in $k1 $k2 $k3 $k4; do
    expect_eq "before the crash: $k busy" busy "$(wait_status "$k" busy 10)"
    p=$(wait_pid "$k")
    pgs="$pgs ${p:-0}"
done
rrcloudd_stop KILL || fail "rrcloudd did not die"
set -- $pgs
expect_eq "the crash left the never-re-run task's group behind" 2 "$(alive "$1")"
k7=$(submit echo)       # accepted while rrcloudd is down
check "submission accepted while rrcloudd is down" [ -n "$k7" ]
expect_eq "it waits" queued "$(wait_status "$k7" queued 1)"
rrcloudd_start
for p in $pgs; do
    check "orphaned process group $p killed at restart" wait_gone "$p" 50
done
expect_eq "never-re-run task ends failed" failed "$(wait_status "$k1" failed 20)"
out=$(curl -s "$BASE/?service=info&id=$k1")
expect_contains "its reason is stated" "$out" "error: rrcloudd stopped while the task ran"
for k in $k2 $k3 $k4; do
    expect_eq "re-runnable task $k completes" complete "$(wait_status "$k" complete 20)"
    expect_contains "task $k ran twice" "$(curl -s "$BASE/api/v1/tasks/$k")" '"runs":2'
done
for k in $k5 $k6 $k7; do
    expect_eq "queued task $k completes" complete "$(wait_status "$k" complete 20)"
done
expect_eq "queued task's result is there" "hello rrcloud" "$(curl -s "$BASE/tasks/out/$k5")"
n=$(curl -s "$BASE/api/v1/tasks?status=busy" | grep -c '"id"')
expect_eq "nothing left busy" 0 "$n"
n=$(curl -s "$BASE/api/v1/tasks?status=queued" | grep -c '"id"')
expect_eq "nothing left queued" 0 "$n"

# --- a notifier pending across a restart (listener down, then up) -------------------------
section "a notifier pending across a restart (listener down, then up)"
PPORT=$(free_port)
pid3=$(submit echo --form-string "notifier=http://127.0.0.1:$PPORT/late/\$id")
expect_eq "task with an unreachable notifier completes" complete "$(wait_status "$pid3" complete 20)"
check "first delivery made" wait_grep "$STACK/log/rrcloudd.log" "notify: task $pid3 attempt 1:" 50
expect_contains "first delivery failed, to be retried" \
    "$(grep -F "notify: task $pid3 attempt 1:" "$STACK/log/rrcloudd.log")" "retry in"
rrcloudd_stop KILL || fail "rrcloudd did not die"
start_listener "$T/n3.log"
# The listener comes up on the port the notifier names (rr-listen picks its
# own port, so socat forwards).
socat "TCP-LISTEN:$PPORT,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$LPORT" 2>/dev/null &
EXTRA_PIDS="$EXTRA_PIDS $!"
rrcloudd_start
check "pending notifier delivered after the restart" wait_grep "$T/n3.log" "/late/$pid3" 150

# --- held synchronous submissions do not starve other requests -------------------------------
section "held synchronous submissions do not starve other requests"
i=0
while [ $i -lt 50 ]; do
    curl -s -m 60 -F service=nap -F arg0=1 -F "fileIn0=@$T/hello.txt" "$BASE/" >"$T/held.$i" 2>&1 &
    HELD="${HELD:-} $!"
    i=$((i + 1))
done
# Let them all reach the server and most of them wait.
i=0
while [ "$(curl -s "$BASE/api/v1/tasks?status=queued&limit=1000" | grep -o '"id"' | wc -l)" -lt 30 ] && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
queued=$(curl -s "$BASE/api/v1/tasks?status=queued&limit=1000" | grep -o '"id"' | wc -l | tr -d ' ')
check "held submissions are waiting ($queued queued)" [ "$queued" -ge 30 ]
t=$(curl -s -o "$T/body" -w '%{time_total}' "$BASE/?service=info&id=$k5")
expect_contains "info answers while 50 are held" "$(body)" "status: complete"
check "info answered in < 1 s while they wait (${t} s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'
t=$(curl -s -o "$T/body" -w '%{time_total}' "$BASE/?service=meta")
check "meta answered in < 1 s while they wait (${t} s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'
t=$(curl -s -o "$T/body" -w '%{time_total}' -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/")
check "an async submission answered in < 1 s while they wait (${t} s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'
for p in $HELD; do wait "$p"; done
n=$(grep -l '^state: complete' "$T"/held.* | wc -l | tr -d ' ')
expect_eq "every held submission answered with its final state" 50 "$n"
