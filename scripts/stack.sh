#!/bin/sh
# stack.sh - start or stop a complete rrcloud stack on loopback:
# web server (nginx or lighttpd, using conf/ files) -> rrcloud-fcgi -> SQLite
# + spool <- rrcloudd.  Used by the quick start and by the integration tests.
#
#   scripts/stack.sh start DIR [PORT [nginx|lighttpd]]
#   scripts/stack.sh stop DIR
#   scripts/stack.sh printersim DIR PORT [SIMULATOR OPTIONS...]
#   scripts/stack.sh frontend DIR NAME PORT UPSTREAM_PORT
#   scripts/stack.sh frontend-stop DIR NAME
#   scripts/stack.sh client DIR PORT
#
# "client" puts the client where a stack's user finds it: DIR/bin/rrcloud
# (a link to BUILDDIR's) with the *.cloud links beside it, as make install
# makes them, and DIR/rrcloudrc naming 127.0.0.1:PORT (with the token in
# DIR/admin.token, if there is one).  The client reads ./rrcloudrc only if
# it is its user's and nobody else may write it, so run it from DIR.
# "printersim" starts rrcloud-printersim on PORT (stopped with the stack);
# "frontend" starts an nginx reverse proxy on PORT in front of
# 127.0.0.1:UPSTREAM_PORT, the stand-in for a zrok frontend in the fleet
# tests (stopped with the stack, or alone with frontend-stop).
#
# Environment: BUILDDIR (programs, default: the source tree), SRCDIR (conf/,
# services/, www/), STACK_CONF_EXTRA (lines appended to rrcloud.conf),
# STACK_SERVICES_DIR (another services directory), STACK_ALLOW_LOCAL (1,
# the default: notifiers and share URLs may reach loopback, where the
# tests' listeners and simulators are, and printers may report any
# http://127.0.0.1:PORT/p/N share URL (the simulator's), and enrollments
# may ask for any queue; 0: rrcloud's own defaults, which deny loopback and
# private addresses and let enrollments ask for queue "default" only).
set -eu
# The conf holds tokens, the database Moonraker keys: nothing here is for
# other users.  The web server runs as this user, so owner and group do.
umask 027

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILDDIR=${BUILDDIR:-$SRCDIR}

die() { echo "stack.sh: $*" >&2; exit 1; }

find_prog() {
    for p in "$@"; do
        command -v "$p" 2>/dev/null && return 0
        [ -x "/usr/sbin/$p" ] && { echo "/usr/sbin/$p"; return 0; }
    done
    return 1
}

wait_http() { # url tries
    i=0
    while [ $i -lt "$2" ]; do
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

start_bg() { # name command...
    name=$1; shift
    # A sanitizer build's reports go to files of their own (DIR/log/
    # asan.PID, ubsan.PID), unless the caller chose (tests/integration/
    # sanlog.sh); UBSan stops at its first report.
    case ${ASAN_OPTIONS:-} in *log_path=*) ;; *)
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$DIR/log/asan" ;;
    esac
    case ${UBSAN_OPTIONS:-} in *log_path=*) ;; *)
        UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$DIR/log/ubsan:print_stacktrace=1:halt_on_error=1" ;;
    esac
    export ASAN_OPTIONS UBSAN_OPTIONS
    "$@" >>"$DIR/log/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
}

# sandbox_reads DIR: whether rrcloudd's sandbox user (nobody) may read
# DIR by its path (yes when that cannot be told).
sandbox_reads() {
    command -v setpriv >/dev/null 2>&1 || return 0
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
        test -r "$1" -a -x "$1" 2>/dev/null
}

write_conf() {
    : >"$DIR/rrcloud.conf"
    chmod 600 "$DIR/rrcloud.conf"   # it may hold tokens
    cat >"$DIR/rrcloud.conf" <<EOC
spool_dir = $DIR/spool
database = $DIR/rrcloud.db
services_dir = ${STACK_SERVICES_DIR:-$SRCDIR/services}
www_dir = $SRCDIR/www
fcgi_socket = $DIR/fcgi.sock
wake_socket = $DIR/rrcloudd.sock
EOC
    if [ "${STACK_ALLOW_LOCAL:-1}" = 1 ]; then
        cat >>"$DIR/rrcloud.conf" <<EOC
notifier_allow = 127.0.0.0/8, ::1/128
fleet_share_allow = 127.0.0.0/8, ::1/128
fleet_share_patterns = http://127.0.0.1:*/p/*
enroll_queues = *
EOC
    fi
    if [ -n "${STACK_CONF_EXTRA:-}" ]; then
        printf '%s\n' "$STACK_CONF_EXTRA" >>"$DIR/rrcloud.conf"
    fi
}

fill() { # template output
    sed -e "s|@LISTEN@|127.0.0.1:$PORT|g" -e "s|@PORT@|$PORT|g" \
        -e "s|@FCGI_SOCKET@|$DIR/fcgi.sock|g" -e "s|@SPOOL_DIR@|$DIR/spool|g" \
        -e "s|@WWW_DIR@|$SRCDIR/www|g" -e "s|@MAX_BODY@|$MAX_BODY|g" \
        -e "s|@MAX_BODY_KB@|$((MAX_BODY_BYTES / 1024))|g" "$1" >"$2"
}

start_nginx() {
    nginx=$(find_prog nginx) || die "nginx not found (apt-get install nginx-light)"
    mkdir -p "$DIR/nginx/tmp"
    fill "$SRCDIR/conf/nginx/rrcloud.conf" "$DIR/nginx/site.conf"
    user=""
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$DIR/nginx/nginx.conf" <<EOC
$user
worker_processes 2;
pid $DIR/nginx/nginx.pid;
error_log $DIR/log/nginx-error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    include $DIR/nginx/site.conf;
}
EOC
    "$nginx" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" \
        -g "daemon off;" >>"$DIR/log/nginx.log" 2>&1 &
    echo $! >"$DIR/web.pid"
}

start_lighttpd() {
    lighttpd=$(find_prog lighttpd) || die "lighttpd not found (apt-get install lighttpd)"
    mkdir -p "$DIR/lighttpd/up"
    fill "$SRCDIR/conf/lighttpd/rrcloud.conf" "$DIR/lighttpd/site.conf"
    cat >"$DIR/lighttpd/lighttpd.conf" <<EOC
server.document-root = "$SRCDIR/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$DIR/log/lighttpd-error.log"
server.upload-dirs = ( "$DIR/lighttpd/up" )
# As nginx's worker_connections above: room for a thousand slow clients
# (README "Slow clients").
server.max-fds = 8192
include "$DIR/lighttpd/site.conf"
EOC
    "$lighttpd" -D -f "$DIR/lighttpd/lighttpd.conf" >>"$DIR/log/lighttpd.log" 2>&1 &
    echo $! >"$DIR/web.pid"
}

stop_pid() {
    f=$DIR/$1.pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

start_printersim() { # port options...
    port=$1; shift
    mkdir -p "$DIR/log"
    start_bg printersim "$BUILDDIR/rrcloud-printersim" --port="$port" "$@"
    wait_http "http://127.0.0.1:$port/sim/stats" 100 ||
        { cat "$DIR/log/printersim.log" >&2; die "rrcloud-printersim did not start"; }
}

start_frontend() { # name port upstream-port
    nginx=$(find_prog nginx) || die "nginx not found (apt-get install nginx-light)"
    fdir=$DIR/frontend-$1
    mkdir -p "$fdir/tmp" "$DIR/log"
    user=""
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$fdir/nginx.conf" <<EOC
$user
worker_processes 1;
pid $fdir/nginx.pid;
error_log $DIR/log/frontend-$1-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $fdir/tmp/body;
    proxy_temp_path $fdir/tmp/proxy;
    fastcgi_temp_path $fdir/tmp/fastcgi;
    uwsgi_temp_path $fdir/tmp/uwsgi;
    scgi_temp_path $fdir/tmp/scgi;
    upstream backend { server 127.0.0.1:$3; keepalive 64; }
    server {
        listen 127.0.0.1:$2;
        client_max_body_size 1g;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
        }
    }
}
EOC
    "$nginx" -c "$fdir/nginx.conf" -p "$fdir" -g "daemon off;" \
        >>"$DIR/log/frontend-$1.log" 2>&1 &
    echo $! >"$DIR/frontend-$1.pid"
    i=0
    until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/" 2>/dev/null; do
        [ $i -lt 100 ] || die "frontend $1 on port $2 did not start"
        sleep 0.05; i=$((i + 1))
    done
}

# The links make install makes (Makefile.am: CLOUD_LINKS).
CLOUD_LINKS="openscad slic3r prusa-slicer curaengine printrun print echo"

write_client() {
    mkdir -p "$DIR/bin"
    ln -sf "$BUILDDIR/rrcloud" "$DIR/bin/rrcloud"
    for w in $CLOUD_LINKS; do
        ln -sf rrcloud "$DIR/bin/$w.cloud"
    done
    tok=""
    [ -s "$DIR/admin.token" ] && tok="token = $(cat "$DIR/admin.token")"
    # It may hold the admin token: private from the first byte.
    (umask 077 && cat >"$DIR/rrcloudrc.tmp" <<EOR
# Written by scripts/stack.sh for the stack on port $PORT.  rrcloud and the
# *.cloud links read ./rrcloudrc: run them from this directory.
servers = 127.0.0.1:$PORT
$tok
EOR
    ) && mv "$DIR/rrcloudrc.tmp" "$DIR/rrcloudrc"
}

cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: stack.sh start|stop DIR [PORT [nginx|lighttpd]]"
case $cmd in
start)
    PORT=${3:-4468}; WEB=${4:-nginx}
    MAX_BODY=${STACK_MAX_BODY:-1g}
    MAX_BODY_BYTES=${STACK_MAX_BODY_BYTES:-1073741824}
    mkdir -p "$DIR/log"
    DIR=$(cd "$DIR" && pwd)
    # As root, rrcloudd runs task commands as sandbox_user (nobody), who
    # must pass through DIR to its task directory (search, not read), and
    # read what a service names by its path below services_dir
    # (CuraEngine's definition): a source tree in a private directory (a
    # clone under /root) has its services and profiles copied beside the
    # stack.
    if [ "$(id -u)" = 0 ]; then
        chmod o+x "$DIR"
        if [ -z "${STACK_SERVICES_DIR:-}" ] &&
           ! sandbox_reads "$SRCDIR/services"; then
            rm -rf "$DIR/services" "$DIR/profiles"
            cp -R "$SRCDIR/services" "$DIR/services"
            [ ! -d "$SRCDIR/profiles" ] || cp -R "$SRCDIR/profiles" "$DIR/profiles"
            chmod -R o+rX "$DIR/services"
            STACK_SERVICES_DIR=$DIR/services
        fi
    fi
    write_conf
    start_bg rrcloudd "$BUILDDIR/rrcloudd" -c "$DIR/rrcloud.conf" -f
    start_bg fcgi "$BUILDDIR/rrcloud-fcgi" -c "$DIR/rrcloud.conf"
    i=0
    # Until the socket is there, or rrcloud-fcgi has given up (a conf error
    # such as a weak token stops it at once: no need to wait 20 s).
    while [ ! -S "$DIR/fcgi.sock" ] && [ $i -lt 400 ] &&
          kill -0 "$(cat "$DIR/fcgi.pid")" 2>/dev/null; do
        sleep 0.05; i=$((i + 1))
    done
    [ -S "$DIR/fcgi.sock" ] || { cat "$DIR/log/fcgi.log" >&2; die "rrcloud-fcgi did not start"; }
    case $WEB in
    nginx) start_nginx ;;
    lighttpd) start_lighttpd ;;
    *) die "unknown web server $WEB" ;;
    esac
    wait_http "http://127.0.0.1:$PORT/healthz" 100 ||
        { cat "$DIR"/log/*.log >&2; die "stack on port $PORT did not answer"; }
    ;;
stop)
    DIR=$(cd "$DIR" && pwd)
    stop_pid web
    stop_pid fcgi
    stop_pid rrcloudd
    for f in "$DIR"/frontend-*.pid; do
        [ -f "$f" ] || continue
        n=${f##*/}
        stop_pid "${n%.pid}"
    done
    stop_pid printersim
    ;;
printersim)
    [ $# -ge 3 ] || die "usage: stack.sh printersim DIR PORT [OPTIONS...]"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    port=$3; shift 3
    start_printersim "$port" "$@"
    ;;
frontend)
    [ $# -eq 5 ] || die "usage: stack.sh frontend DIR NAME PORT UPSTREAM_PORT"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    start_frontend "$3" "$4" "$5"
    ;;
frontend-stop)
    [ $# -eq 3 ] || die "usage: stack.sh frontend-stop DIR NAME"
    DIR=$(cd "$DIR" && pwd)
    stop_pid "frontend-$3"
    ;;
client)
    [ $# -eq 3 ] || die "usage: stack.sh client DIR PORT"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    PORT=$3
    write_client
    ;;
*)
    die "unknown command $cmd"
    ;;
esac
