# lib.sh - shared helpers for the integration tests (sourced).
#
# Each test starts its own stack (scripts/stack.sh) in a fresh directory on
# a free loopback port and stops it on exit.  Environment from make check:
# top_srcdir, builddir, NGINX, LIGHTTPD.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${builddir:=$top_srcdir}"
export SRCDIR="$top_srcdir" BUILDDIR="$builddir"

failures=0
checks=0
T=$(mktemp -d /tmp/rrcloud-test.XXXXXX)
# Task commands may run as rrcloudd's sandbox_user, who passes through
# here to the stack's spool (search only, no listing).
chmod o+x "$T"
. "$top_srcdir/tests/integration/sanlog.sh"
san_setup "$T/san"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { checks=$((checks + 1)); }
check() { # description command...
    desc=$1; shift
    if "$@"; then pass; else fail "$desc"; fi
}
expect_eq() { # description expected actual
    if [ "$2" = "$3" ]; then pass; else fail "$1: expected '$2', got '$3'"; fi
}
expect_contains() { # description haystack needle
    case $2 in
    *"$3"*) pass ;;
    *) fail "$1: '$3' not in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
expect_not_contains() {
    case $2 in
    *"$3"*) fail "$1: '$3' unexpectedly in: $(printf '%s' "$2" | head -c 300)" ;;
    *) pass ;;
    esac
}

free_port() {
    # A random port below the ephemeral range that nothing listens on.
    while :; do
        p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
    done
}

stack_start() { # web-server
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    STACK="$T/stack"
    "$top_srcdir/scripts/stack.sh" start "$STACK" "$PORT" "${1:-nginx}" ||
        { echo "stack did not start"; exit 99; }
}

# start_listener LOG [STATUSES]: tests/tools/rr-listen in the background
# (stopped by finish), logging each request to LOG; sets LPORT.
start_listener() {
    "$builddir/tests/tools/rr-listen" "$1" ${2:+"$2"} >"$1.port" &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    _i=0
    while [ ! -s "$1.port" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    LPORT=$(head -n 1 "$1.port")
}

stack_stop() {
    [ -n "${STACK:-}" ] && "$top_srcdir/scripts/stack.sh" stop "$STACK" >/dev/null 2>&1
    return 0
}

finish() {
    rc=$?
    [ "$rc" -eq 77 ] && { stack_stop; exit 77; }
    # An exit with an error status (a stack that did not start, a failed
    # command under set -e) is a failure even if no check failed.
    if [ "$rc" -ne 0 ] && [ "$failures" -eq 0 ]; then
        fail "test script exited with status $rc"
    fi
    stack_stop
    for p in ${EXTRA_PIDS:-}; do kill "$p" 2>/dev/null; done
    # Their reports are written as they exit.
    for p in ${EXTRA_PIDS:-}; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
    done
    san_check || fail "sanitizer reports (above) from the programs under test"
    if [ "$failures" -gt 0 ]; then
        echo "--- logs in $T"
        for f in "$T"/stack/log/*.log; do
            [ -f "$f" ] && { echo "== $f"; tail -n 40 "$f"; }
        done
        echo "$failures of $((checks + failures)) checks FAILED"
        exit 1
    fi
    echo "all $checks checks passed"
    rm -rf "$T"
    exit 0
}
trap finish EXIT
trap 'fail "interrupted"; exit 1' INT TERM HUP

# until_ok SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds
# (at most SECONDS); its status.
until_ok() {
    n=$(( $1 * 5 )); shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.2; n=$((n - 1))
    done
    return 1
}

# rrcloudd_stop SIGNAL: signals the stack's rrcloudd and waits (10 s at
# most) until its spool lock is free, which is what a new one needs.  The
# process's state is not enough: after a kill -9 its main thread shows as
# a zombie while the other threads still exit, holding its files.
rrcloudd_stop() {
    kill "-$1" "$(cat "$STACK/rrcloudd.pid")"
    until_ok 10 flock -n "$STACK/spool/rrcloudd.lock" true
}
# rrcloudd_start: a new rrcloudd on the stack's conf (stack_stop stops it).
rrcloudd_start() {
    "$builddir/rrcloudd" -c "$STACK/rrcloud.conf" -f >>"$STACK/log/rrcloudd.log" 2>&1 &
    echo $! >"$STACK/rrcloudd.pid"
}

# sim_start SIMULATOR-OPTIONS...: starts rrcloud-printersim ($SIM, else the
# build's) on a port of its choosing, stopped with the test; sets SIMPORT
# and SIMURL.
sim_start() {
    "${SIM:-$builddir/rrcloud-printersim}" --port=0 "$@" \
        >"$T/sim.out" 2>"$T/sim.err" &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    until_ok 10 grep -qs 'listening on' "$T/sim.out" ||
        { cat "$T/sim.err"; echo "simulator did not start"; exit 99; }
    SIMPORT=$(sed -n 's/^rrcloud-printersim: listening on http:\/\/127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$T/sim.out")
    SIMURL=http://127.0.0.1:$SIMPORT
}

# http_status METHOD URL [curl args...]: prints the status code only.
http_status() {
    m=$1; u=$2; shift 2
    curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$u" "$@"
}
body() { cat "$T/body"; }

# wait_status ID WANT [SECONDS]: polls the JSON API until the task's
# status is WANT (or a final status); prints the final status.  A keyed
# task is its owner's: WAIT_AUTH="Authorization: Bearer KEY".
wait_status() {
    i=0; lim=$(( ${3:-30} * 10 ))
    while [ $i -lt $lim ]; do
        st=$(curl -s ${WAIT_AUTH:+-H "$WAIT_AUTH"} "$BASE/api/v1/tasks/$1" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
        case $st in
        "$2"|complete|failed|cancelled) echo "$st"; return 0 ;;
        esac
        sleep 0.1; i=$((i + 1))
    done
    echo "${st:-none}"
}
