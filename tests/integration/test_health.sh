#!/bin/sh
# test_health.sh - /healthz tells the truth, through real nginx: 200 on a
# running stack; 503 naming the cause when rrcloudd was stopped, when it
# was killed (kill -9), when its heartbeat is old (SIGSTOP), when another
# connection holds the database's write lock, and when the spool's disk
# has less than min_free_space free; 200 again each time the cause is gone.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v sqlite3 >/dev/null || skip "no sqlite3 (it holds the write lock)"
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

# wait_health CODE [SECONDS [TEXT]]: polls /healthz until it answers CODE
# (with TEXT in its body, if given), at most SECONDS (15); the last
# answer's body is in $T/body.
wait_health() {
    i=0
    while [ $i -lt $(( ${2:-15} * 10 )) ]; do
        code=$(http_status GET "$BASE/healthz")
        [ "$code" = "$1" ] && { [ -z "${3:-}" ] || grep -qF "$3" "$T/body"; } &&
            return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# Starts rrcloudd as scripts/stack.sh does, in a subshell so that init,
# not this shell, reaps it (a zombie would still answer kill -0).
start_daemon() {
    ("$BUILDDIR/rrcloudd" -c "$STACK/rrcloud.conf" -f >>"$STACK/log/rrcloudd.log" 2>&1 &
     echo $! >"$STACK/rrcloudd.pid")
}
stop_daemon() { # signal
    pid=$(cat "$STACK/rrcloudd.pid")
    rrcloudd_stop "$1" || fail "rrcloudd $pid did not stop on SIG$1"
}
# Starts rrcloud-fcgi again (after a change of rrcloud.conf).
restart_fcgi() {
    kill "$(cat "$STACK/fcgi.pid")"
    i=0
    while [ -S "$STACK/fcgi.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    ("$BUILDDIR/rrcloud-fcgi" -c "$STACK/rrcloud.conf" >>"$STACK/log/fcgi.log" 2>&1 &
     echo $! >"$STACK/fcgi.pid")
    i=0
    while [ ! -S "$STACK/fcgi.sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}

# --- a running stack --------------------------------------------------------
check "healthy stack answers 200" wait_health 200
expect_contains "status ok" "$(body)" '"status":"ok"'
expect_contains "no problems" "$(body)" '"problems":[]'
expect_contains "rrcloudd ok" "$(body)" '"rrcloudd":"ok"'
expect_contains "free space of the spool shown" "$(body)" '"spool":'

# --- rrcloudd stopped, then killed ------------------------------------------
stop_daemon TERM
check "stopped rrcloudd: 503" wait_health 503
expect_contains "names a stopped rrcloudd" "$(body)" 'rrcloudd not running: it stopped'
expect_contains "status error" "$(body)" '"status":"error"'
start_daemon
check "restarted rrcloudd: 200" wait_health 200

stop_daemon KILL
code=$(http_status GET "$BASE/healthz")
expect_eq "killed rrcloudd: 503 at once" 503 "$code"
expect_contains "names the gone process" "$(body)" "rrcloudd not running: its process $pid is gone"
start_daemon
check "restarted after kill -9: 200" wait_health 200

# A stuck rrcloudd (SIGSTOP): its process is there, its heartbeat ages.
pid=$(cat "$STACK/rrcloudd.pid")
kill -STOP "$pid"
# The heartbeat is stale 10 s after the last one, at most 12 s from now.
# (Stopped inside a write, it also holds the database's lock: /healthz
# says so at once, and names the heartbeat too once it is old.)
check "stuck rrcloudd: 503 once its heartbeat is 10 s old" \
    wait_health 503 30 "its last heartbeat"
expect_contains "names the old heartbeat" "$(body)" "rrcloudd not running: its last heartbeat (pid $pid on "
kill -CONT "$pid"
check "rrcloudd going again: 200" wait_health 200

# --- the write lock held elsewhere --------------------------------------------
# sqlite3 takes the lock when it reads the first line and holds it while
# it waits for the second, which comes once /healthz has seen the lock.
mkfifo "$T/lock.in"
sqlite3 "$STACK/rrcloud.db" <"$T/lock.in" >"$T/lock.out" 2>&1 &
EXTRA_PIDS="${EXTRA_PIDS:-} $!"
exec 8>"$T/lock.in"
printf '.timeout 5000\nBEGIN IMMEDIATE;\n' >&8
check "write lock held: 503" wait_health 503
expect_contains "names the unwritable database" "$(body)" 'database unwritable: '
expect_contains "says why" "$(body)" 'locked'
echo 'ROLLBACK;' >&8
exec 8>&-
check "write lock gone: 200" wait_health 200

# --- free space under the floor ---------------------------------------------
avail=$(df -Pk "$STACK/spool" | awk 'NR == 2 { print $4 }')
cp "$STACK/rrcloud.conf" "$T/rrcloud.conf.orig"
echo "min_free_space = $((avail + 1048576))K" >>"$STACK/rrcloud.conf"
restart_fcgi
check "spool disk under min_free_space: 503" wait_health 503
expect_contains "names the free space" "$(body)" 'free space under min_free_space: '
expect_contains "names the spool" "$(body)" "$STACK/spool has"
cp "$T/rrcloud.conf.orig" "$STACK/rrcloud.conf"
restart_fcgi
check "floor back to the default: 200" wait_health 200
