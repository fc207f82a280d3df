#!/bin/bash
# bench_relay.sh - rrcloud's relay benchmarks, all in one run behind one nginx.
#
#   bench/bench_relay.sh            (from the source tree, after make)
#
# It starts the whole stack with scripts/stack.sh (nginx with
# conf/nginx/rrcloud.conf -> rrcloud-fcgi -> SQLite + spool <- rrcloudd),
# then reloads that same nginx with a main config that also holds a baseline
# server on a second port: a static file, the minimal libfcgi responder
# (bench/minimal_fcgi.c) and an upload sink that only writes the body to a
# file.  Measured:
#   1. GET requests/s (wrk): static file of the size of the info JSON answer
#      (the ceiling), minimal responder with a body of that size (the FastCGI
#      ceiling), rrcloud GET /?service=info&id=ID&format=json;
#   2. async echo submissions (1 KiB multipart file, async=1) requests/s,
#      then every accepted task is checked to have completed (via the API);
#   3. a 1 GiB upload: nginx writing the body to a file itself
#      (client_body_in_file_only) vs rrcloud (multipart, async=1), MiB/s,
#      their ratio round by round (the two back to back, in turn first,
#      each file removed after) and rrcloud-fcgi's peak RSS;
#   4. time from submission (task ctime) to the service command starting,
#      sequential and concurrent submissions.
# Medians over BENCH_RUNS runs; the runs of the things compared are
# interleaved so that drift of a shared machine hits them alike.
#
# Environment (defaults in brackets):
#   BENCH_RUNS [3]  BENCH_DURATION [10s]  BENCH_THREADS [2]  BENCH_CONNS [32]
#   BENCH_UPLOAD_MIB [1024]   size of the upload
#   BENCH_UPLOAD_RUNS [5]     upload runs (page-cache writes vary a lot on a
#                             shared VM: more runs than the rest)
#   BENCH_UPLOAD_FILE         reuse this upload file (a binary STL of
#                             84 + 50 n bytes); it is then not deleted
#   BENCH_LAT_SEQ [50]  BENCH_LAT_CONC [20]   start-latency submissions
#   BENCH_FCGI_THREADS [8]    minimal responder threads (rrcloud-fcgi's
#                             default fcgi_threads)
#   BENCH_DIR                 work directory [mktemp -d /tmp/rrbench.XXXXXX]
#   BENCH_KEEP [0]            1: keep the work directory (logs, wrk output,
#                             rrcloud-fcgi's smaps before the upload)
#   BENCH_RESULTS             also write the result table to this file
#   BENCH_MAX_LOAD            first wait (up to BENCH_LOAD_WAIT [600] s) for
#                             the 1-minute load average to fall below this
#   BUILDDIR, SRCDIR          as for scripts/stack.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILDDIR=${BUILDDIR:-$SRCDIR}
export SRCDIR BUILDDIR   # for scripts/stack.sh
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
UPLOAD_MIB=${BENCH_UPLOAD_MIB:-1024}
UPRUNS=${BENCH_UPLOAD_RUNS:-5}
LAT_SEQ=${BENCH_LAT_SEQ:-50}
LAT_CONC=${BENCH_LAT_CONC:-20}
FCGI_THREADS=${BENCH_FCGI_THREADS:-8}
KEEP=${BENCH_KEEP:-0}

die() { echo "bench_relay.sh: $*" >&2; exit 1; }
say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for p in wrk curl nginx ss awk gcc; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
        die "$p not found"
done
[ -x "$BUILDDIR/rrcloud-fcgi" ] && [ -x "$BUILDDIR/rrcloudd" ] ||
    die "build first: (cd $BUILDDIR && make -j2)"

DIR=${BENCH_DIR:-$(mktemp -d /tmp/rrbench.XXXXXX)}
# as root, task commands run as the sandbox user (nobody): it must pass
# through DIR to the stack's task directories (search, not read)
[ "$(id -u)" != 0 ] || chmod o+x "$DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
STACK=$DIR/stack
MINI_PID=""
UPLOAD=""
UPLOAD_OWNED=0

cleanup() {
    set +e
    [ -n "$MINI_PID" ] && kill -9 "$MINI_PID" 2>/dev/null   # libfcgi catches SIGTERM
    [ -d "$STACK" ] && "$SRCDIR/scripts/stack.sh" stop "$STACK" >/dev/null 2>&1
    [ "$UPLOAD_OWNED" = 1 ] && rm -f "$UPLOAD"
    if [ "$KEEP" = 1 ]; then
        rm -rf "$STACK/spool/tasks" "$DIR/nginx-up"
        echo "bench_relay.sh: kept $DIR" >&2
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers ----------------------------------------------------------------

now() { echo "$EPOCHREALTIME"; }

# median and 90th percentile (nearest rank) of the numbers on stdin
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan";
    else printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p90() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit}
    i = int(NR * 0.9); if (i < NR * 0.9) i++; printf "%.2f\n", v[i]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_port() { # after: a port number to stay above
    local p=$(( $1 + 1 + RANDOM % 97 ))
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}

# CPU time (clock ticks) of the given pids, summed
cpu_ticks() {
    local t=0 pid f
    for pid in "$@"; do
        f=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null) || continue
        t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
    done
    echo "$t"
}
nginx_workers() { pgrep -P "$WEB_PID" | tr '\n' ' '; }

# wrk_run NAME URL [wrk args...]: one run; prints "req/s requests errors
# resp_us nginx_us": CPU time per request of the responder (pids in
# RESP_PID) and of nginx's workers.
wrk_run() {
    local name=$1 url=$2 out c0 c1 n0 n1 rps n err ngx
    shift 2
    out=$DIR/wrk-$name.txt
    ngx=$(nginx_workers)
    c0=$(cpu_ticks $RESP_PID); n0=$(cpu_ticks $ngx)
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" "$url" >>"$out" 2>&1 ||
        die "wrk failed, see $out"
    c1=$(cpu_ticks $RESP_PID); n1=$(cpu_ticks $ngx)
    rps=$(awk '/^Requests\/sec/ {v = $2} END {print v}' "$out")
    n=$(awk '/requests in/ {v = $1} END {print v}' "$out")
    err=$(tac "$out" | awk '/^Running/ {exit} /Non-2xx/ {e += $NF}
        /Socket errors/ {gsub(",", ""); e += $4 + $6 + $8 + $10} END {print e + 0}')
    echo "$rps $n $err $(per_req $((c1 - c0)) "$n") $(per_req $((n1 - n0)) "$n")"
}
per_req() { awk -v c="$1" -v n="$2" -v hz="$HZ" 'BEGIN {printf "%.0f", (n > 0 ? c * 1e6 / hz / n : 0)}'; }

get() { curl -fsS --max-time 30 "http://127.0.0.1:$PORT$1"; }
json_str() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
json_num() { sed -n "s/.*\"$1\": *\"\\{0,1\\}\\([0-9.]*\\).*/\\1/p" | head -n 1; }

# tasks of one status, counted through the JSON API (pages of 1000)
count_status() {
    local off=0 n total=0
    while :; do
        n=$(get "/api/v1/tasks?status=$1&limit=1000&offset=$off" |
            grep -o '"id":' | wc -l)
        total=$((total + n))
        [ "$n" -lt 1000 ] && break
        off=$((off + 1000))
    done
    echo "$total"
}

# waits until no task is queued or busy; prints the seconds it took
wait_idle() { # timeout_seconds
    local t0 m q b
    t0=$(now)
    while :; do
        m=$(get "/?service=meta&format=json")
        q=$(echo "$m" | json_num queued)
        b=$(echo "$m" | json_num busy)
        [ "${q:-1}" = 0 ] && [ "${b:-1}" = 0 ] && break
        awk -v a="$t0" -v b="$(now)" -v l="$1" 'BEGIN {exit !(b - a > l)}' &&
            die "tasks still queued ($q) or busy ($b) after $1 s"
        sleep 0.2
    done
    awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'
}

task_status() { get "/?service=info&id=$1&format=json" | json_str status; }
wait_task() { # id
    local i=0 s
    while [ $i -lt 600 ]; do
        s=$(task_status "$1")
        case $s in complete|failed|cancelled) echo "$s"; return 0 ;; esac
        sleep 0.05; i=$((i + 1))
    done
    die "task $1 did not end"
}

# ---- setup ------------------------------------------------------------------

HZ=$(getconf CLK_TCK)
if [ -n "${BENCH_MAX_LOAD:-}" ]; then
    # a shared machine: wait a while for others' work to calm down
    i=0
    while awk -v m="$BENCH_MAX_LOAD" '{exit !($1 > m)}' /proc/loadavg &&
          [ $i -lt "${BENCH_LOAD_WAIT:-600}" ]; do
        [ $((i % 60)) = 0 ] && say "load average $(cut -d' ' -f1 /proc/loadavg) > $BENCH_MAX_LOAD: waiting"
        sleep 5; i=$((i + 5))
    done
fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
say "work directory $DIR"

# the minimal responder: use a built one, else build it here
MINI=$BUILDDIR/bench/minimal_fcgi
if [ ! -x "$MINI" ] || [ "$SRCDIR/bench/minimal_fcgi.c" -nt "$MINI" ]; then
    MINI=$DIR/minimal_fcgi
    gcc -O2 -o "$MINI" "$SRCDIR/bench/minimal_fcgi.c" -lfcgi -lpthread ||
        die "cannot build minimal_fcgi (apt-get install libfcgi-dev)"
fi

# bench-only services next to a copy of echo
mkdir -p "$DIR/services"
cp "$SRCDIR/services/echo.conf" "$DIR/services/"
cat >"$DIR/services/stamp.conf" <<'EOC'
# bench only: prints when it started (stdout goes to the task log).  The
# input holds the line "now", and date -f prints that date for each line.
description = bench: print the start time
path = /usr/bin:/bin
cmd = date +%s.%N -f
noOutput = yes
inputTypes = txt
inputMin = 1
inputMax = 1
timeout = 10
EOC
cat >"$DIR/services/sink.conf" <<'EOC'
# bench only: takes a large binary STL and does nothing with it
description = bench: accept one model, run /bin/true
path = /usr/bin:/bin
cmd = true
noOutput = yes
inputTypes = stl
inputMin = 1
inputMax = 1
timeout = 60
EOC

PORT=$(pick_port 20000)
BPORT=$(pick_port "$PORT")
say "starting the stack on 127.0.0.1:$PORT (baselines on :$BPORT)"
STACK_SERVICES_DIR=$DIR/services \
STACK_MAX_BODY=2g STACK_MAX_BODY_BYTES=2147483648 \
STACK_CONF_EXTRA="max_body_size = 2G
max_queued = 1000000
client_max_queued = 0" \
    "$SRCDIR/scripts/stack.sh" start "$STACK" "$PORT" nginx >/dev/null ||
    die "stack did not start"
WEB_PID=$(cat "$STACK/web.pid")
FCGI_PID=$(cat "$STACK/fcgi.pid")
ss -Hltnp "sport = :$PORT" | grep -q "pid=$WEB_PID," ||
    die "port $PORT is not our nginx (taken meanwhile?)"

# one complete task to ask about, and the size of its info answer
ID=$(curl -fsS -F service=echo -F format=json -F "fileIn0=@$here/echo_submit.lua;filename=info.txt" \
    "http://127.0.0.1:$PORT/" | json_str id)
[ -n "$ID" ] && [ "$(task_status "$ID")" = complete ] || die "echo task failed"
INFO_PATH="/?service=info&id=$ID&format=json"
get "$INFO_PATH" >"$DIR/info.json"
SIZE=$(wc -c <"$DIR/info.json")
mkdir -p "$DIR/www" "$DIR/nginx-up"
cp "$DIR/info.json" "$DIR/www/info.json"   # the static file: the same bytes

"$MINI" "$DIR/minimal.sock" "$SIZE" "$FCGI_THREADS" >"$DIR/minimal.log" 2>&1 &
MINI_PID=$!

# nginx: the stack's own main config plus the baseline server, then reload
cat >"$DIR/nginx-bench.conf" <<EOC
# bench_relay.sh baselines, beside the rrcloud site of the same nginx
server {
    listen 127.0.0.1:$BPORT;
    server_name _;
    client_max_body_size 0;
    location = /_bench { return 200 "$DIR\n"; }
    # (a) the ceiling: a static file of the size of the info answer
    location = /info.json { root $DIR/www; }
    # (b) the FastCGI ceiling: as the rrcloud site passes requests
    location = /minimal {
        include /etc/nginx/fastcgi_params;
        fastcgi_param DOCUMENT_URI \$uri;
        fastcgi_pass unix:$DIR/minimal.sock;
    }
    # upload ceiling: nginx reads the body into a file and answers 204 (the
    # body has to be read by a handler to be written: proxy_pass does,
    # "return" would discard it unread)
    location = /upload {
        client_body_in_file_only on;
        client_body_buffer_size 1m;   # as the rrcloud site: a fair ceiling
        client_body_temp_path $DIR/nginx-up;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_pass http://127.0.0.1:$BPORT/_204;
    }
    location = /_204 { return 204; }
}
EOC
sed -i "s|^\\( *include $STACK/nginx/site.conf;\\)\$|\\1\\n    include $DIR/nginx-bench.conf;|" \
    "$STACK/nginx/nginx.conf"
grep -q "nginx-bench.conf" "$STACK/nginx/nginx.conf" || die "cannot extend nginx.conf"
nginx -t -q -c "$STACK/nginx/nginx.conf" -p "$STACK/nginx" 2>>"$DIR/nginx-t.log" ||
    die "bench nginx config is wrong: $(cat "$DIR/nginx-t.log")"
kill -HUP "$WEB_PID"
i=0
until [ "$(curl -fsS "http://127.0.0.1:$BPORT/_bench" 2>/dev/null)" = "$DIR" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || die "nginx did not take the bench config"
    sleep 0.1
done
ss -Hltnp "sport = :$BPORT" | grep -q "pid=$WEB_PID," || die "port $BPORT is not ours"
sleep 0.5   # let the old workers go
[ "$(curl -fsS "http://127.0.0.1:$BPORT/minimal" | wc -c)" = "$SIZE" ] ||
    die "minimal responder does not answer"

# ---- 1. GET: static, minimal responder, rrcloud info ----------------------------

say "1. GET requests/s, $RUNS x (static, minimal, info), wrk -t$THREADS -c$CONNS -d$DURATION"
: >"$DIR/r-static"; : >"$DIR/r-minimal"; : >"$DIR/r-info"
for r in $(seq "$RUNS"); do
    RESP_PID=""
    wrk_run static "http://127.0.0.1:$BPORT/info.json" >>"$DIR/r-static"
    RESP_PID=$MINI_PID
    wrk_run minimal "http://127.0.0.1:$BPORT/minimal" >>"$DIR/r-minimal"
    RESP_PID=$FCGI_PID
    wrk_run info "http://127.0.0.1:$PORT$INFO_PATH" >>"$DIR/r-info"
    say "   run $r: static $(cut -d' ' -f1 "$DIR/r-static" | tail -n1)," \
        "minimal $(cut -d' ' -f1 "$DIR/r-minimal" | tail -n1)," \
        "info $(cut -d' ' -f1 "$DIR/r-info" | tail -n1)"
done
kill -9 "$MINI_PID" 2>/dev/null; wait "$MINI_PID" 2>/dev/null || true; MINI_PID=""

# ---- 2. async echo submissions --------------------------------------------------

say "2. async echo submissions (1 KiB multipart), $RUNS x wrk, queue drained after each"
D_PID=$(cat "$STACK/rrcloudd.pid")
dcpu0=$(cpu_ticks "$D_PID")
done0=$(count_status complete)
all0=$(get "/?service=meta&format=json" | json_num tasks)
: >"$DIR/r-echo"; : >"$DIR/r-drain"
accepted=0
for r in $(seq "$RUNS"); do
    RESP_PID=$FCGI_PID
    n0=$(get "/?service=meta&format=json" | json_num tasks)
    t0=$(now)
    line=$(wrk_run echo "http://127.0.0.1:$PORT/" -s "$here/echo_submit.lua")
    echo "$line" >>"$DIR/r-echo"
    set -- $line
    accepted=$((accepted + $2 - $3))
    d=$(wait_idle 1800)
    n1=$(get "/?service=meta&format=json" | json_num tasks)
    # rrcloudd's rate: tasks of this run over the time from wrk's start to
    # an empty queue
    echo "$d $(awk -v n=$((n1 - n0)) -v a="$t0" -v b="$(now)" \
        'BEGIN {printf "%.0f", n / (b - a)}')" >>"$DIR/r-drain"
    say "   run $r: $1 req/s, $2 answered, $3 errors; queue empty $d s after wrk"
done
done1=$(count_status complete)
all1=$(get "/?service=meta&format=json" | json_num tasks)
ECHO_CREATED=$((all1 - all0))   # wrk does not count requests cut off at its end
D_CPU_US=$(awk -v c=$(( $(cpu_ticks "$D_PID") - dcpu0 )) -v n="$ECHO_CREATED" -v hz="$HZ" \
    'BEGIN {printf "%.0f", (n > 0 ? c * 1e6 / hz / n : 0)}')
ECHO_COMPLETE=$((done1 - done0))
ECHO_FAILED=$(count_status failed)
ECHO_CANCELLED=$(count_status cancelled)
say "   accepted $accepted (answered), created $ECHO_CREATED, completed $ECHO_COMPLETE, failed $ECHO_FAILED"

# ---- 3. upload ---------------------------------------------------------------

if [ -n "${BENCH_UPLOAD_FILE:-}" ]; then
    UPLOAD=$BENCH_UPLOAD_FILE
    [ -f "$UPLOAD" ] || die "no file $UPLOAD"
else
    # A binary STL (80-byte header, triangle count, 50 bytes per triangle) of
    # random bytes, so that it passes the sink service's type check.
    UPLOAD=$DIR/upload.stl
    UPLOAD_OWNED=1
    ntri=$(( (UPLOAD_MIB * 1048576 - 84) / 50 ))
    say "3. generating a $UPLOAD_MIB MiB upload ($((84 + 50 * ntri)) bytes, binary STL)"
    {
        printf '%-80s' "rrcloud bench upload, $ntri random triangles"
        printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((ntri & 255)) \
            $((ntri >> 8 & 255)) $((ntri >> 16 & 255)) $((ntri >> 24 & 255)))"
        head -c $((50 * ntri)) /dev/urandom
    } >"$UPLOAD"
fi
UPSIZE=$(stat -c %s "$UPLOAD")
cat "$UPLOAD" >/dev/null    # in the page cache for every run

# rrcloud-fcgi's resident set while $1 lives, sampled: "max_VmRSS
# max_RssAnon" in KiB
rss_sample() {
    local max=0 amax=0 v a
    while kill -0 "$1" 2>/dev/null; do
        read -r v a < <(awk '/^VmRSS/ {v = $2} /^RssAnon/ {a = $2} END {print v, a}' \
            "/proc/$FCGI_PID/status")
        [ "${v:-0}" -gt "$max" ] && max=$v
        [ "${a:-0}" -gt "$amax" ] && amax=$a
        sleep 0.02
    done
    echo "$max $amax"
}

say "3. upload $UPSIZE bytes, $UPRUNS x (nginx alone, rrcloud) after one untimed round"
: >"$DIR/r-up-nginx"; : >"$DIR/r-up-rr"; : >"$DIR/r-up-rss"
RSS_IDLE=$(awk '/^VmRSS/ {v = $2} /^RssAnon/ {a = $2} END {print v " (anon " a ")"}' \
    "/proc/$FCGI_PID/status")
# Where the idle resident set is, for whoever keeps the work directory.
cp "/proc/$FCGI_PID/smaps" "$DIR/fcgi-smaps-idle" 2>/dev/null || true
# up_nginx: one upload to nginx alone, its MiB/s appended to r-up-nginx.
up_nginx() {
    rm -f "$DIR"/nginx-up/*
    sync
    out=$(curl -sS -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' \
        -X POST -T "$UPLOAD" -w '%{http_code} %{size_upload} %{time_total}' \
        "http://127.0.0.1:$BPORT/upload")
    set -- $out
    [ "$1" = 204 ] || die "nginx upload answered $1"
    [ "$(stat -c %s "$DIR"/nginx-up/* | head -n1)" = "$UPSIZE" ] ||
        die "nginx did not write the body to a file"
    awk -v n="$2" -v t="$3" 'BEGIN {printf "%.1f\n", n / t / 1048576}' >>"$DIR/r-up-nginx"
    rm -f "$DIR"/nginx-up/*
    sync
}
# up_rr: one upload to rrcloud, its MiB/s to r-up-rr, RSS to r-up-rss;
# the task's files are removed after, as nginx's file is.
up_rr() {
    echo 5 >"/proc/$FCGI_PID/clear_refs" 2>/dev/null || true  # resets VmHWM
    curl -sS -o "$DIR/up.json" -H 'Expect:' -F service=sink -F async=1 -F format=json \
        -F "fileIn0=@$UPLOAD;filename=bench.stl;type=application/octet-stream" \
        -w '%{http_code} %{size_upload} %{time_total}' \
        "http://127.0.0.1:$PORT/" >"$DIR/up.out" &
    cpid=$!
    rss=$(rss_sample $cpid)   # "VmRSS RssAnon"
    wait $cpid || die "rrcloud upload: curl failed"
    read -r code sent secs <"$DIR/up.out" || true   # no newline at its end
    set -- "$code" "$sent" "$secs"
    [ "$1" = 200 ] || [ "$1" = 201 ] || [ "$1" = 202 ] ||
        die "rrcloud upload answered $1: $(cat "$DIR/up.json")"
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$FCGI_PID/status")
    uid=$(json_str id <"$DIR/up.json")
    st=$(wait_task "$uid")
    [ "$st" = complete ] || die "upload task $uid ended $st"
    awk -v n="$2" -v t="$3" 'BEGIN {printf "%.1f\n", n / t / 1048576}' >>"$DIR/r-up-rr"
    echo "$rss $hwm" >>"$DIR/r-up-rss"   # VmRSS RssAnon VmHWM
    rm -rf "$STACK/spool/tasks/$uid"
    sync
}
for r in $(seq 0 "$UPRUNS"); do  # round 0 warms up and is not counted
    # Odd rounds go rrcloud first: drift of a shared machine (page-cache
    # pressure, neighbours) falls on both sides alike.
    if [ $((r % 2)) = 1 ]; then up_rr; up_nginx; else up_nginx; up_rr; fi
    say "   $([ "$r" = 0 ] && echo "warm-up" || echo "run $r"): nginx $(tail -n1 "$DIR/r-up-nginx") MiB/s," \
        "rrcloud $(tail -n1 "$DIR/r-up-rr") MiB/s, rrcloud-fcgi VmRSS/RssAnon max $rss KiB, VmHWM $hwm KiB"
    if [ "$r" = 0 ]; then
        : >"$DIR/r-up-nginx"; : >"$DIR/r-up-rr"; : >"$DIR/r-up-rss"
    fi
done

# ---- 4. start latency ---------------------------------------------------------

# submit_stamp OUTFILE: one async submission of the stamp service
submit_stamp() {
    curl -fsS -F service=stamp -F async=1 -F format=json -F "fileIn0=@$DIR/now.txt" \
        "http://127.0.0.1:$PORT/" >"$1"
}
# latencies FILE_OF_IDS: per task "ctime->stime ctime->command" in ms
latencies() {
    local id info c s t
    while read -r id; do
        wait_task "$id" >/dev/null
        info=$(get "/?service=info&id=$id&format=json")
        c=$(echo "$info" | json_num ctime)
        s=$(echo "$info" | json_num stime)
        t=$(get "/tasks/log/$id" | grep -E '^[0-9]+\.[0-9]+$' | head -n1)
        [ -n "$t" ] || die "task $id: no time in its log"
        awk -v c="$c" -v s="$s" -v t="$t" 'BEGIN {printf "%.2f %.2f\n", (s - c) * 1000, (t - c) * 1000}'
    done <"$2" >"$1"
}

echo now >"$DIR/now.txt"
say "4. start latency: $LAT_SEQ sequential submissions (0.2 s apart), $LAT_CONC at once"
: >"$DIR/ids-seq"
for i in $(seq "$LAT_SEQ"); do
    submit_stamp "$DIR/stamp.json"
    json_str id <"$DIR/stamp.json" >>"$DIR/ids-seq"
    sleep 0.2
done
latencies "$DIR/lat-seq" "$DIR/ids-seq"
pids=""
for i in $(seq "$LAT_CONC"); do
    submit_stamp "$DIR/stamp-$i.json" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || die "concurrent submission failed"; done
for i in $(seq "$LAT_CONC"); do json_str id <"$DIR/stamp-$i.json"; done >"$DIR/ids-conc"
latencies "$DIR/lat-conc" "$DIR/ids-conc"

# ---- results -------------------------------------------------------------------

# every created task completed; wrk's answered count may miss up to its
# connections' worth per run (requests in flight when it stops)
if [ "$ECHO_COMPLETE" = "$ECHO_CREATED" ] && [ "$ECHO_FAILED" = 0 ] &&
   [ "$ECHO_CANCELLED" = 0 ] && [ "$ECHO_CREATED" -ge "$accepted" ] &&
   [ "$ECHO_CREATED" -le $((accepted + CONNS * RUNS)) ]; then
    ECHO_OK="all completed"
else
    ECHO_OK="MISMATCH"
fi
col() { cut -d' ' -f"$2" "$DIR/$1" | median; }
coli() { col "$@" | cut -d. -f1; }   # whole microseconds
S=$(col r-static 1); M=$(col r-minimal 1); I=$(col r-info 1); E=$(col r-echo 1)
UN=$(median <"$DIR/r-up-nginx"); UR=$(median <"$DIR/r-up-rr")
# Each round's two uploads ran back to back: the median of their ratios
# cancels the machine's drift between rounds, which the medians of the two
# sides apart do not.
UP=$(paste -d' ' "$DIR/r-up-rr" "$DIR/r-up-nginx" |
     awk '$2 > 0 {printf "%.3f\n", $1 / $2}' | median)
UPRUNS_R=$(paste -d' ' "$DIR/r-up-rr" "$DIR/r-up-nginx" |
     awk '$2 > 0 {printf "%.2f ", $1 / $2}')
RSSMAX=$(cut -d' ' -f1 "$DIR/r-up-rss" | sort -n | tail -n1)
ANONMAX=$(cut -d' ' -f2 "$DIR/r-up-rss" | sort -n | tail -n1)
HWMMAX=$(cut -d' ' -f3 "$DIR/r-up-rss" | sort -n | tail -n1)
[ "$HWMMAX" -gt "$RSSMAX" ] && RSSMAX=$HWMMAX
# where the resident set is: libmagic's database is mapped once per handle
MAGIC=$(awk '/^[0-9a-f]+-/ {m = ($6 ~ /magic\.mgc$/)} m && /^Rss:/ {r += $2; n++}
    END {printf "%d KiB in %d mappings", r, n}' "/proc/$FCGI_PID/smaps")
PSS=$(awk '/^Pss:/ {print $2}' "/proc/$FCGI_PID/smaps_rollup")
errs() { awk '{e += $3} END {print e + 0}' "$DIR/$1"; }
runs() { cut -d' ' -f1 "$DIR/$1" | tr '\n' ' ' | sed 's/ $//'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "MISSED"}'; }
LSM=$(cut -d' ' -f2 "$DIR/lat-seq" | median); LSP=$(cut -d' ' -f2 "$DIR/lat-seq" | p90)
LCM=$(cut -d' ' -f2 "$DIR/lat-conc" | median); LCP=$(cut -d' ' -f2 "$DIR/lat-conc" | p90)
LCX=$(cut -d' ' -f2 "$DIR/lat-conc" | sort -g | tail -n1)
DSM=$(cut -d' ' -f1 "$DIR/lat-seq" | median); DCM=$(cut -d' ' -f1 "$DIR/lat-conc" | median)

report() {
    echo "rrcloud relay benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), rrcloud $("$BUILDDIR/rrcloud-fcgi" -V | cut -d' ' -f2)"
    echo "machine: $(nproc) cores ($CPU_MODEL), shared with other work;" \
        "load average before $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "wrk -t$THREADS -c$CONNS -d$DURATION, $RUNS runs each (interleaved), medians;" \
        "nginx $(nginx -v 2>&1 | sed 's|.*/||'), 2 workers; info answer $SIZE bytes"
    echo
    printf '%-50s %12s  %s\n' "GET (requests/s)" "median" "runs | errors | CPU us/req, medians: responder + nginx"
    printf '%-50s %12s  %s | %s | %s\n' "(a) nginx static file, $SIZE B" "$S" "$(runs r-static)" "$(errs r-static)" "- + $(coli r-static 5)"
    printf '%-50s %12s  %s | %s | %s\n' "(b) minimal libfcgi responder, $FCGI_THREADS threads" "$M" "$(runs r-minimal)" "$(errs r-minimal)" "$(coli r-minimal 4) + $(coli r-minimal 5)"
    printf '%-50s %12s  %s | %s | %s\n' "(c) rrcloud ?service=info&id=...&format=json" "$I" "$(runs r-info)" "$(errs r-info)" "$(coli r-info 4) + $(coli r-info 5)"
    printf '%-50s %12s  target >= 0.83: %s\n' "(c)/(b)" "$(ratio "$I" "$M")" "$(verdict "$(ratio "$I" "$M")" 0.83 ">=")"
    printf '%-50s %12s\n' "(b)/(a)" "$(ratio "$M" "$S")"
    printf '%-50s %12s\n' "(c)/(a)" "$(ratio "$I" "$S")"
    echo
    printf '%-50s %12s  %s | %s | %s\n' "async echo submissions, 1 KiB multipart (req/s)" "$E" "$(runs r-echo)" "$(errs r-echo)" "CPU us/req: rrcloud-fcgi $(coli r-echo 4) + nginx $(coli r-echo 5)"
    printf '%-50s %12s  queue empty %s s after wrk ended\n' "  tasks run by rrcloudd, wrk start to empty queue (tasks/s)" "$(cut -d' ' -f2 "$DIR/r-drain" | median)" "$(cut -d' ' -f1 "$DIR/r-drain" | tr '\n' ' ')"
    printf '%-50s %12s  (its own CPU; the cp children not counted)\n' "  rrcloudd CPU per task (us)" "$D_CPU_US"
    printf '%-50s %12s  tasks created %s, completed %s, failed %s, cancelled %s: %s\n' \
        "  accepted submissions (2xx answers)" "$accepted" \
        "$ECHO_CREATED" "$ECHO_COMPLETE" "$ECHO_FAILED" "$ECHO_CANCELLED" "$ECHO_OK"
    echo
    printf '%-50s %12s  %s\n' "upload $UPSIZE B (MiB/s)" "median" "runs"
    printf '%-50s %12s  %s\n' "nginx alone, body to a file (ceiling)" "$UN" "$(tr '\n' ' ' <"$DIR/r-up-nginx")"
    printf '%-50s %12s  %s\n' "rrcloud POST / multipart, async=1" "$UR" "$(tr '\n' ' ' <"$DIR/r-up-rr")"
    printf '%-50s %12s  %s\n' "rrcloud / nginx alone, per round (median)" "$UP" "$UPRUNS_R"
    printf '%-50s %12s  target >= 0.90 (per round): %s\n' "rrcloud / nginx alone, of the medians" "$(ratio "$UR" "$UN")" "$(verdict "$UP" 0.90 ">=")"
    printf '%-50s %12s  target < 32 MiB: %s; idle before: %s KiB\n' "rrcloud-fcgi peak RSS while uploading (KiB)" "$RSSMAX" \
        "$(verdict "$RSSMAX" 32768 "<")" "$RSS_IDLE"
    printf '%-50s %12s  Pss %s KiB; magic.mgc: %s\n' "  of which anonymous (peak RssAnon, KiB)" "$ANONMAX" "$PSS" "$MAGIC"
    echo
    printf '%-50s %12s  %s\n' "submission -> command start (ms)" "median" "p90 | ctime->stime median (rrcloudd claims it)"
    printf '%-50s %12s  %s | %s   target < 50 ms: %s\n' "$LAT_SEQ sequential async submissions" "$LSM" "$LSP" "$DSM" "$(verdict "$LSP" 50 "<")"
    printf '%-50s %12s  %s | %s   max %s\n' "$LAT_CONC submitted at once" "$LCM" "$LCP" "$DCM" "$LCX"
}
report >"$DIR/results.txt"
echo
cat "$DIR/results.txt"
[ -n "${BENCH_RESULTS:-}" ] && cp "$DIR/results.txt" "$BENCH_RESULTS"
exit 0
