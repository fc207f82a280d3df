#!/bin/bash
# bench_fleet.sh - the fleet's data plane at scale: rrcloudd polling 10,000
# simulated Moonraker printers every 2 s while they print a queue of jobs.
#
#   bench/bench_fleet.sh            (from the source tree, after make)
#
# It starts rrcloud-printersim with N printers (at most 10,000; printer 1
# doubles as the frontend's canary), the stack with scripts/stack.sh (nginx ->
# rrcloud-fcgi -> SQLite <- rrcloudd) with one frontend in front of the
# simulator, enrolls N printers through the API (each under its own host
# name, pN.localhost, as zrok gives each printer its own name, so rrcloudd
# keeps one connection per printer), submits JOBS jobs of COPIES copies
# (one G-code blob; all printers auto-eject, so each takes its next job as
# soon as a print ends), lets it run WARMUP seconds, then measures for
# WINDOW seconds:
#   - rrcloudd CPU (% of one core: utime + stime over the window) and RSS
#     (at the end, and the peak);
#   - status polls per second the simulator answered, against N / interval;
#   - dispatch latency, printer seen ready -> upload started (the store's
#     upload_at - ready_at of each attempt dispatched in the window, from
#     the job's submission when that came later): p50, p99, max; the cold
#     start (every printer idle when the jobs arrive, so the first 10,000
#     go out at once) is shown apart.
#
# Environment (defaults in brackets):
#   BENCH_PRINTERS [10000]  BENCH_POLL_INTERVAL [2] s
#   BENCH_PRINT_SECONDS [60] simulated print time (30% jitter)
#   BENCH_JOBS [6000]  BENCH_COPIES [5]
#   BENCH_WARMUP [120] s  BENCH_WINDOW [60] s
#   BENCH_DIR   work directory [mktemp -d /tmp/rrfleet.XXXXXX]
#   BENCH_KEEP [0]  1: keep it (logs, database)
#   BUILDDIR, SRCDIR  as for scripts/stack.sh
# Needs nginx, curl (7.66+ for --parallel), jq and sqlite3.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILDDIR=${BUILDDIR:-$SRCDIR}
export SRCDIR BUILDDIR
N=${BENCH_PRINTERS:-10000}
INTERVAL=${BENCH_POLL_INTERVAL:-2}
PRINT_S=${BENCH_PRINT_SECONDS:-60}
JOBS=${BENCH_JOBS:-6000}
COPIES=${BENCH_COPIES:-5}
WARMUP=${BENCH_WARMUP:-120}
WINDOW=${BENCH_WINDOW:-60}
KEEP=${BENCH_KEEP:-0}
STACKSH=$SRCDIR/scripts/stack.sh
ENR=enr-bench-0123456789abcdef0123456789
ADM=adm-bench-0123456789abcdef0123456789

die() { echo "bench_fleet.sh: $*" >&2; exit 1; }
say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for p in curl jq sqlite3; do
    command -v "$p" >/dev/null 2>&1 || die "$p not found"
done
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || die "nginx not found"
for p in rrcloudd rrcloud-fcgi rrcloud-printersim; do
    [ -x "$BUILDDIR/$p" ] || die "$BUILDDIR/$p not built (make, or set BUILDDIR)"
done
# One socket per printer on both sides: lift the soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((N + 1000)) ] ||
    say "warning: open files limit $(ulimit -n) is low for $N printers"

DIR=${BENCH_DIR:-$(mktemp -d /tmp/rrfleet.XXXXXX)}
# as root, task commands run as the sandbox user (nobody): it must pass
# through DIR to the stack's task directories (search, not read)
[ "$(id -u)" != 0 ] || chmod o+x "$DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
cleanup() {
    "$STACKSH" stop "$DIR/stack" >/dev/null 2>&1 || true
    if [ "$KEEP" = 1 ]; then say "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}
SIM_PORT=$(free_port)
PORT=$(free_port)
[ "$PORT" != "$SIM_PORT" ] || PORT=$((PORT + 1))
BASE=http://127.0.0.1:$PORT
SIMURL=http://127.0.0.1:$SIM_PORT

say "simulator: $N printers on port $SIM_PORT"
"$STACKSH" printersim "$DIR/stack" "$SIM_PORT" --printers="$N" \
    --max-connections=$((N + 2000)) --time-scale=1 \
    --print-seconds="$PRINT_S" --jitter=0.3 --log-level=warn

STACK_CONF_EXTRA="admin_token = $ADM
enroll_token = $ENR
fleet_poll_interval = ${INTERVAL}s
fleet_max_connections = $((N + 1000))
fleet_lease = 600s
frontend = bench local http://127.0.0.1:$SIM_PORT capacity=$((N * 2)) canary=$SIMURL/p/1/server/info"
export STACK_CONF_EXTRA
say "stack on port $PORT"
"$STACKSH" start "$DIR/stack" "$PORT" nginx
RRPID=$(cat "$DIR/stack/rrcloudd.pid")

# ---- enrollment: one request per printer, 8 at a time ----------------------
say "enrolling $N printers"
cfg=$DIR/enroll.curl
awk -v n="$N" -v base="$BASE" -v tok="$ENR" -v port="$SIM_PORT" 'BEGIN {
    for (i = 1; i <= n; i++) {
        if (i > 1) print "next"
        printf "url = \"%s/api/v1/printers\"\n", base
        printf "header = \"Authorization: Bearer %s\"\n", tok
        print "header = \"Content-Type: application/json\""
        printf "data = \"{\\\"name\\\":\\\"b%d\\\",\\\"region\\\":\\\"local\\\",", i
        printf "\\\"queues\\\":[\\\"default\\\"],\\\"auto_eject\\\":true,"
        printf "\\\"share_url\\\":\\\"http://p%d.localhost:%s/p/%d\\\"}\"\n", i, port, i
        print "output = \"/dev/null\""
    }
}' >"$cfg"
t0=$(date +%s)
curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg"
n=$(curl -s -H "Authorization: Bearer $ADM" "$BASE/api/v1/printers?limit=10000" | jq ".printers | length")
[ "$n" = "$N" ] || die "$n of $N printers enrolled"
say "enrolled in $(( $(date +%s) - t0 )) s"

# ---- jobs: the G-code once, then jobs that name its blob ----------------------
head -c 20000 /dev/zero | tr '\0' 'G' | fold -w 60 | sed 's/^/G1 X1 ; /' \
    >"$DIR/part.gcode"
say "submitting $JOBS jobs of $COPIES copies"
sha=$(curl -s -H "Authorization: Bearer $ADM" -F "file=@$DIR/part.gcode" \
      -F copies="$COPIES" "$BASE/api/v1/queues/default/jobs" |
      jq -r '.files[0].sha256')
[ ${#sha} = 64 ] || die "first job not accepted"
cfg=$DIR/jobs.curl
awk -v n="$JOBS" -v base="$BASE" -v tok="$ADM" -v sha="$sha" -v c="$COPIES" 'BEGIN {
    for (i = 2; i <= n; i++) {
        if (i > 2) print "next"
        printf "url = \"%s/api/v1/queues/default/jobs\"\n", base
        printf "header = \"Authorization: Bearer %s\"\n", tok
        print "header = \"Content-Type: application/json\""
        printf "data = \"{\\\"files\\\":[{\\\"sha256\\\":\\\"%s\\\",", sha
        printf "\\\"filename\\\":\\\"part.gcode\\\"}],\\\"copies\\\":%d}\"\n", c
        print "output = \"/dev/null\""
    }
}' >"$cfg"
T_JOBS=$(date +%s.%N)
curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg"
say "jobs in; warming up for $WARMUP s"
sleep "$WARMUP"

# ---- the window ------------------------------------------------------------------
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$RRPID/stat"; }
reqs() { curl -s "$SIMURL/sim/stats" | jq .result.printer_requests; }
c0=$(cpu); r0=$(reqs); w0=$(date +%s.%N)
say "measuring for $WINDOW s"
sleep "$WINDOW"
c1=$(cpu); r1=$(reqs); w1=$(date +%s.%N)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$RRPID/status")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$RRPID/status")
cpu_pct=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" -v s="$w0" -v e="$w1" \
          'BEGIN { printf "%.0f", 100 * (b - a) / t / (e - s) }')
rps=$(awk -v a="$r0" -v b="$r1" -v s="$w0" -v e="$w1" \
      'BEGIN { printf "%.0f", (b - a) / (e - s) }')

# Dispatch latency from the store (read-only).
lat() { # FROM TO: p50 p99 max count of attempts created in [FROM, TO)
    # from the later of "printer ready" and "job submitted": a printer
    # that was idle before there was work did not wait for the dispatcher
    sqlite3 "file:$DIR/stack/rrcloud.db?mode=ro" \
        "SELECT (a.upload_at - MAX(a.ready_at, j.created)) * 1000 FROM
         attempts a JOIN jobs j ON j.id = a.job_id WHERE a.upload_at > 0 AND
         a.ready_at > 0 AND a.created >= $1 AND a.created < $2 ORDER BY 1" |
    awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - 0"; exit }
        p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
        printf "%.0f %.0f %.0f %d\n", p50, p99, v[NR], NR }'
}
set -- $(lat "$w0" "$w1")
L50=$1 L99=$2 LMAX=$3 LN=$4
cold_end=$(awk -v t="$T_JOBS" 'BEGIN { printf "%.3f", t + 30 }')
set -- $(lat 0 "$cold_end")
C50=$1 C99=$2 CMAX=$3 CN=$4
stats=$(grep 'polls/s' "$DIR/stack/log/rrcloudd.log" | tail -n 1 | sed 's/.*fleet: //')

cat <<EOT

rrcloud fleet benchmark: $N printers, status poll every $INTERVAL s,
prints of ${PRINT_S} s (+-30%, simulated), $JOBS jobs x $COPIES copies, $(nproc) CPUs

  rrcloudd CPU                      $cpu_pct % of one core (window of ${WINDOW} s)
  rrcloudd RSS                      $((rss / 1024)) MiB now, $((hwm / 1024)) MiB peak
  printer requests answered         $rps /s (polls due: $((N / INTERVAL)) /s)
  ready -> upload started (steady)  p50 $L50 ms, p99 $L99 ms, max $LMAX ms ($LN dispatches)
  ready -> upload started (cold)    p50 $C50 ms, p99 $C99 ms, max $CMAX ms ($CN dispatches: every printer ready at once)
  rrcloudd's own count              $stats
EOT
