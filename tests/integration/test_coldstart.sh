#!/bin/sh
# test_coldstart.sh - cold starts that never fail: rrcloudd and three
# rrcloud-fcgi processes (the real programs, started as scripts/stack.sh
# starts them) open one new database at the same moment, 50 times, while
# busy loops load the machine.  Each time every process must come up
# (each logs "ready" once all its connections are open) and stay up with
# no error logged, and the schema must be the one a single process
# creates alone.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null || skip "no sqlite3 (the schema check reads the database with it)"
[ -x "$builddir/rrcloudd" ] && [ -x "$builddir/rrcloud-fcgi" ] ||
    skip "rrcloudd or rrcloud-fcgi not built"
# One round in about 40 failed before store_open retried (5 of 200 on a
# loaded 2-core machine): 150 rounds (15-25 s) catch that nearly always.
ROUNDS=${COLDSTART_ROUNDS:-150}
FCGIS=${COLDSTART_FCGI:-3}

write_conf() { # dir
    cat >"$1/rrcloud.conf" <<EOC
spool_dir = $1/spool
database = $1/rrcloud.db
services_dir = $SRCDIR/services
www_dir = $SRCDIR/www
fcgi_socket = $1/fcgi.sock
wake_socket = $1/rrcloudd.sock
fcgi_threads = 4
EOC
}

# The schema as sqlite_master and user_version show it.
schema() {
    sqlite3 "$1" "PRAGMA user_version; SELECT type, name, sql FROM sqlite_master ORDER BY name;" 2>&1
}

# up LOG PID: 0 once LOG says "ready", 1 if PID is gone.
up() {
    grep -q ' ready' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    return 2
}

# launch NAME PROGRAM ARGS...: starts PROGRAM in the background the way
# scripts/stack.sh does, logging to $D/log/NAME.log; adds "NAME:PID" to
# $procs.
launch() {
    name=$1; shift
    "$@" >>"$D/log/$name.log" 2>&1 &
    procs="$procs $name:$!"
}

# The reference: one process alone on a new database.
R=$T/ref
mkdir -p "$R"
write_conf "$R"
"$builddir/rrcloudd" -c "$R/rrcloud.conf" --once >"$R/rrcloudd.log" 2>&1 ||
    { cat "$R/rrcloudd.log"; fail "rrcloudd --once alone on a new database"; exit 1; }
ref=$(schema "$R/rrcloud.db")
expect_contains "reference schema has the tasks table" "$ref" "table|tasks|"
expect_contains "reference schema has the fleet" "$ref" "table|attempts|"

# Load: one busy loop per core and one more, as on a busy CI machine.
n=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
i=0
while [ $i -le "$n" ]; do
    sh -c 'while :; do :; done' &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    i=$((i + 1))
done

bad=0
waited=0
start=$(date +%s)
r=1
while [ $r -le "$ROUNDS" ]; do
    D=$T/r$r
    mkdir -p "$D/log"
    write_conf "$D"
    procs=
    launch rrcloudd "$builddir/rrcloudd" -c "$D/rrcloud.conf" -f
    k=1
    while [ $k -le "$FCGIS" ]; do
        launch "fcgi$k" "$builddir/rrcloud-fcgi" -c "$D/rrcloud.conf" \
            -s "$D/fcgi$k.sock"
        k=$((k + 1))
    done
    # Up means "ready" logged; give each at most 30 s (the store's own
    # retries are bounded well below that).
    state=
    i=0
    while [ $i -lt 1500 ]; do
        state=
        for p in $procs; do
            up "$D/log/${p%%:*}.log" "${p#*:}"
            state="$state$?"
        done
        case $state in *1*) break ;; *2*) ;; *) break ;; esac
        sleep 0.02
        i=$((i + 1))
    done
    ok=1
    for p in $procs; do
        kill -0 "${p#*:}" 2>/dev/null || { fail "round $r: ${p%%:*} exited at start"; ok=0; }
    done
    case $state in *[12]*) false ;; esac || { fail "round $r: not every process became ready ($state)"; ok=0; }
    if grep -h '\] error: ' "$D"/log/*.log >"$D/errors"; then
        fail "round $r: errors at start: $(head -c 400 "$D/errors")"
        ok=0
    fi
    if [ $ok = 1 ]; then
        got=$(schema "$D/rrcloud.db")
        [ "$got" = "$ref" ] || { fail "round $r: schema differs from a single start's"; ok=0; }
    fi
    for p in $procs; do kill "${p#*:}" 2>/dev/null; done
    for p in $procs; do wait "${p#*:}" 2>/dev/null; done
    waited=$((waited + $(cat "$D"/log/*.log | grep -c 'trying again')))
    if [ $ok = 1 ]; then
        pass
        rm -rf "$D"
    else
        bad=$((bad + 1))
        for f in "$D"/log/*.log; do echo "== $f"; tail -n 5 "$f"; done
    fi
    r=$((r + 1))
done
echo "$bad of $ROUNDS cold starts failed, $waited processes waited for another" \
    "($(( $(date +%s) - start )) s)"
