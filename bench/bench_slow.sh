#!/bin/bash
# bench_slow.sh - reads and uploads while 1,000 slow clients trickle.
#
#   bench/bench_slow.sh            (from the source tree, after make check
#                                   has built bench/slowclient)
#
# It starts the stack with scripts/stack.sh (nginx with conf/nginx/rrcloud.conf
# -> rrcloud-fcgi with its default fcgi_threads, body_threads and
# body_timeout) and adds to the same nginx the "nginx alone" upload sink of
# bench_relay.sh (the body written to a file by nginx itself).  Then, first
# without and then under attack, it measures:
#   1. latency of sequential reads from 127.0.0.1, one connection each,
#      cycling through info (one task, JSON), meta and healthz: p50, p99, max;
#   2. upload of BENCH_UPLOAD_MIB: nginx alone and rrcloud (multipart,
#      async=1), MiB/s, medians.
# The attack (bench/slowclient attack): BENCH_CONNS connections, half a
# request header that never ends, half a multipart POST declaring 1 MB and
# sending one byte every BENCH_GAP seconds, each reopened when the server
# closes it.  They come from BENCH_ADDRS addresses 127.0.0.2... so that
# nginx's per-address limit (64 uploads at once) does not refuse them: the
# test is of what gets past the web server.
#
# Environment (defaults in brackets):
#   BENCH_CONNS [1000]  BENCH_ADDRS [250]  BENCH_GAP [2]
#   BENCH_PROBES [3000]       reads per phase
#   BENCH_BURST [0]           a third phase: the attack plus this many
#                             bodies that send 64 KiB at once, then trickle
#                             (they take body threads; see README "Slow
#                             clients")
#   BENCH_UPLOAD_MIB [256]    BENCH_UPLOAD_RUNS [3]
#   BENCH_DIR [mktemp -d /tmp/rrslow.XXXXXX]  BENCH_KEEP [0]
#   BENCH_RESULTS             also write the result table to this file
#   BUILDDIR, SRCDIR          as for scripts/stack.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILDDIR=${BUILDDIR:-$SRCDIR}
export SRCDIR BUILDDIR
CONNS=${BENCH_CONNS:-1000}
ADDRS=${BENCH_ADDRS:-250}
GAP=${BENCH_GAP:-2}
PROBES=${BENCH_PROBES:-3000}
UPLOAD_MIB=${BENCH_UPLOAD_MIB:-256}
UPRUNS=${BENCH_UPLOAD_RUNS:-3}
KEEP=${BENCH_KEEP:-0}
BURST=${BENCH_BURST:-0}
BURST_PID=""
SC=$BUILDDIR/bench/slowclient

die() { echo "bench_slow.sh: $*" >&2; exit 1; }
say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for p in curl nginx ss awk; do
    command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || die "$p not found"
done
[ -x "$BUILDDIR/rrcloud-fcgi" ] || die "build first: (cd $BUILDDIR && make -j2)"
[ -x "$SC" ] || die "no $SC: (cd $BUILDDIR && make bench/slowclient)"

DIR=${BENCH_DIR:-$(mktemp -d /tmp/rrslow.XXXXXX)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
STACK=$DIR/stack
ATTACK_PID=""

cleanup() {
    set +e
    [ -n "$ATTACK_PID" ] && kill "$ATTACK_PID" 2>/dev/null
    [ -n "$BURST_PID" ] && kill "$BURST_PID" 2>/dev/null
    [ -d "$STACK" ] && "$SRCDIR/scripts/stack.sh" stop "$STACK" >/dev/null 2>&1
    if [ "$KEEP" = 1 ]; then
        rm -rf "$STACK/spool/tasks" "$DIR/nginx-up" "$DIR/upload.stl"
        echo "bench_slow.sh: kept $DIR" >&2
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_port() {
    local p=$(( $1 + 1 + RANDOM % 97 ))
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
get() { curl -fsS --max-time 30 "http://127.0.0.1:$PORT$1"; }
json_str() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan";
    else printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# "p50 p99 max answered timeouts" of a probe output (ms status path lines;
# a timeout counts as its 5000 ms)
lat_stats() {
    sort -g -k1,1 "$1" | awk '{v[NR] = $1; if ($2 == 0) t++} END {
        i50 = int(NR * 0.5); if (i50 < NR * 0.5) i50++;
        i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++;
        printf "%.2f %.2f %.2f %d %d\n", v[i50], v[i99], v[NR], NR - t, t}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
fcgi_fds() { ls "/proc/$FCGI_PID/fd" | wc -l; }

# ---- setup ------------------------------------------------------------------

mkdir -p "$DIR/services" "$DIR/nginx-up"
cp "$SRCDIR/services/echo.conf" "$DIR/services/"
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
say "starting the stack on 127.0.0.1:$PORT (nginx alone on :$BPORT), work directory $DIR"
STACK_SERVICES_DIR=$DIR/services STACK_CONF_EXTRA="max_queued = 1000000" \
    "$SRCDIR/scripts/stack.sh" start "$STACK" "$PORT" nginx >/dev/null ||
    die "stack did not start"
WEB_PID=$(cat "$STACK/web.pid")
FCGI_PID=$(cat "$STACK/fcgi.pid")
printf 'bench\n' >"$DIR/in.txt"
ID=$(curl -fsS -F service=echo -F format=json -F "fileIn0=@$DIR/in.txt" \
    "http://127.0.0.1:$PORT/" | json_str id)
[ -n "$ID" ] || die "echo task failed"
PATHS="/?service=info&id=$ID&format=json /?service=meta&format=json /healthz"

cat >"$DIR/nginx-bench.conf" <<EOC
# bench_slow.sh: nginx alone, as in bench_relay.sh
server {
    listen 127.0.0.1:$BPORT;
    server_name _;
    client_max_body_size 0;
    location = /_bench { return 200 "$DIR\n"; }
    location = /upload {
        client_body_in_file_only on;
        client_body_buffer_size 1m;
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
kill -HUP "$WEB_PID"
i=0
until [ "$(curl -fsS "http://127.0.0.1:$BPORT/_bench" 2>/dev/null)" = "$DIR" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || die "nginx did not take the bench config"
    sleep 0.1
done
sleep 0.5   # let the old workers go

UPLOAD=$DIR/upload.stl
ntri=$(( (UPLOAD_MIB * 1048576 - 84) / 50 ))
{
    printf '%-80s' "rrcloud bench upload, $ntri random triangles"
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((ntri & 255)) \
        $((ntri >> 8 & 255)) $((ntri >> 16 & 255)) $((ntri >> 24 & 255)))"
    head -c $((50 * ntri)) /dev/urandom
} >"$UPLOAD"
UPSIZE=$(stat -c %s "$UPLOAD")

# ---- phases -----------------------------------------------------------------

probe() { # name
    # shellcheck disable=SC2086
    "$SC" probe "$PORT" "$PROBES" $PATHS >"$DIR/probe-$1"
    lat_stats "$DIR/probe-$1"
}

upload_round() { # name
    local out
    rm -f "$DIR"/nginx-up/*
    out=$(curl -sS -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' \
        -X POST -T "$UPLOAD" -w '%{http_code} %{size_upload} %{time_total}' \
        "http://127.0.0.1:$BPORT/upload")
    set -- $out
    [ "$1" = 204 ] || die "nginx upload answered $1"
    awk -v n="$2" -v t="$3" 'BEGIN {printf "%.1f\n", n / t / 1048576}' >>"$DIR/up-nginx-$NAME"
    rm -f "$DIR"/nginx-up/*
    out=$(curl -sS -o "$DIR/up.json" -H 'Expect:' -F service=sink -F async=1 -F format=json \
        -F "fileIn0=@$UPLOAD;filename=bench.stl;type=application/octet-stream" \
        -w '%{http_code} %{size_upload} %{time_total}' "http://127.0.0.1:$PORT/")
    set -- $out
    [ "$1" = 201 ] || [ "$1" = 202 ] || [ "$1" = 200 ] ||
        die "rrcloud upload answered $1: $(cat "$DIR/up.json")"
    awk -v n="$2" -v t="$3" 'BEGIN {printf "%.1f\n", n / t / 1048576}' >>"$DIR/up-rr-$NAME"
}

phase() { # name
    NAME=$1
    : >"$DIR/up-nginx-$NAME"; : >"$DIR/up-rr-$NAME"
    say "   $PROBES reads"
    LAT=$(probe "$NAME")
    say "   reads p50 p99 max (ms) answered timeouts: $LAT"
    cat "$UPLOAD" >/dev/null
    for r in $(seq 0 "$UPRUNS"); do   # round 0 warms up
        upload_round
        [ "$r" = 0 ] && : >"$DIR/up-nginx-$NAME" && : >"$DIR/up-rr-$NAME"
    done
    UPN=$(median <"$DIR/up-nginx-$NAME"); UPR=$(median <"$DIR/up-rr-$NAME")
    say "   upload MiB/s: nginx alone $UPN ($(tr '\n' ' ' <"$DIR/up-nginx-$NAME")), rrcloud $UPR ($(tr '\n' ' ' <"$DIR/up-rr-$NAME"))"
    case $NAME in
    quiet) LAT_quiet=$LAT UPN_quiet=$UPN UPR_quiet=$UPR ;;
    attack) LAT_attack=$LAT UPN_attack=$UPN UPR_attack=$UPR ;;
    burst) LAT_burst=$LAT UPN_burst=$UPN UPR_burst=$UPR ;;
    esac
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "1. without attack"
phase quiet

say "2. attack: $CONNS connections (half headers, half bodies) from $ADDRS addresses, a byte every $GAP s each"
"$SC" attack "$PORT" "$CONNS" 100000 --gap "$GAP" --addrs "$ADDRS" >"$DIR/attack.out" &
ATTACK_PID=$!
i=0
while [ "$(fcgi_fds)" -lt $((CONNS * 45 / 100)) ]; do
    i=$((i + 1)); [ $i -lt 600 ] || die "the attack did not reach rrcloud-fcgi ($(fcgi_fds) descriptors)"
    sleep 0.1
done
HELD0=$(fcgi_fds)
NGX_CONNS=$(ss -Htn state established "sport = :$PORT" | wc -l)
say "   rrcloud-fcgi holds $HELD0 descriptors, nginx $NGX_CONNS client connections"
phase attack
HELD1=$(fcgi_fds)
if [ "$BURST" -gt 0 ]; then
    say "3. the attack plus $BURST bodies that send 64 KiB at once, then trickle"
    "$SC" attack "$PORT" "$BURST" 100000 --mode body --burst 65536 --gap "$GAP" \
        --addrs "$BURST" >"$DIR/burst.out" &
    BURST_PID=$!
    sleep 3   # let them take the body threads (a bench, not a test)
    phase burst
    kill "$BURST_PID"; wait "$BURST_PID" 2>/dev/null || true; BURST_PID=""
fi
kill "$ATTACK_PID"; wait "$ATTACK_PID" 2>/dev/null || true; ATTACK_PID=""
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$FCGI_PID/status")

# ---- results ----------------------------------------------------------------

set -- $LAT_quiet; Q50=$1 Q99=$2 QMAX=$3 QOK=$4 QTO=$5
set -- $LAT_attack; A50=$1 A99=$2 AMAX=$3 AOK=$4 ATO=$5
met() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {ok = (op == "<") ? v < t : v >= t;
    print ok ? "met" : "NOT met"}'; }
{
    echo "bench_slow.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load before $LOAD0"
    echo "attack: $CONNS connections (headers and bodies) from $ADDRS addresses, a byte per $GAP s each"
    echo "        rrcloud-fcgi held $HELD0 -> $HELD1 descriptors, nginx $NGX_CONNS connections; $(tail -n 2 "$DIR/attack.out" | tr '\n' ' ')"
    printf '%-44s %8s %8s %8s %s\n' "reads (info, meta, healthz), ms" p50 p99 max "answered/timed out (5 s)"
    printf '%-44s %8s %8s %8s %s\n' "without attack" "$Q50" "$Q99" "$QMAX" "$QOK/$QTO"
    printf '%-44s %8s %8s %8s %s\n' "under attack" "$A50" "$A99" "$AMAX" "$AOK/$ATO"
    printf '%-44s %8s  target < 50 ms: %s\n' "p99 under attack" "$A99" "$(met "$A99" 50 "<")"
    printf '%-44s %8s  p99 under attack / without\n' "" "$(ratio "$A99" "$Q99")"
    printf '%-44s %8s %8s\n' "upload $UPSIZE B, MiB/s (median of $UPRUNS)" quiet attack
    printf '%-44s %8s %8s\n' "nginx alone" "$UPN_quiet" "$UPN_attack"
    printf '%-44s %8s %8s\n' "rrcloud" "$UPR_quiet" "$UPR_attack"
    printf '%-44s %8s\n' "rrcloud / nginx alone, both quiet" "$(ratio "$UPR_quiet" "$UPN_quiet")"
    R=$(ratio "$UPR_attack" "$UPN_attack")
    printf '%-44s %8s  target >= 0.9: %s\n' "rrcloud / nginx alone, both under attack" "$R" "$(met "$R" 0.9 ">=")"
    printf '%-44s %8s\n' "rrcloud under attack / nginx alone quiet" "$(ratio "$UPR_attack" "$UPN_quiet")"
    printf '%-44s %8s\n' "rrcloud under attack / rrcloud quiet" "$(ratio "$UPR_attack" "$UPR_quiet")"
    if [ "$BURST" -gt 0 ]; then
        set -- $LAT_burst
        echo "with $BURST bursting bodies too: $(tail -n 2 "$DIR/burst.out" | tr '\n' ' ')"
        printf '%-44s %8s %8s %8s %s\n' "  reads" "$1" "$2" "$3" "$4/$5"
        printf '%-44s %8s  nginx alone %s\n' "  rrcloud upload MiB/s" "$UPR_burst" "$UPN_burst"
    fi
    printf '%-44s %8s\n' "rrcloud-fcgi RSS after the attack (KiB)" "$RSS"
} | tee "${BENCH_RESULTS:-/dev/null}"
