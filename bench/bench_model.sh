#!/bin/bash
# bench_model.sh - models as print jobs (issue 10): slicing on demand for
# every printer profile, on a simulated farm, against the slicer alone.
#
#   bench/bench_model.sh            (from the source tree, after make)
#
# It starts rrcloud-printersim with 10 printers per profile, the stack with
# scripts/stack.sh (nginx -> rrcloud-fcgi -> SQLite <- rrcloudd) with its
# own services and profiles directories, and enrolls the printers (PLA,
# auto-eject, queue "default").  Three profiles: the shipped ones, and where
# fewer than three are shipped, copies of mk3s under another name with
# another bed (mk3s-b240: 240 x 200 mm), so the content cache shares
# nothing between them.  The model is a sphere (bench/sphere_stl.awk,
# r = 20 mm, 1.6 MB ASCII STL) that PrusaSlicer slices in a few seconds;
# each job gets its own copy of it (another name on its "solid" line:
# the same geometry, other bytes), so it is a model the cache has not
# seen.  Measured, BENCH_RUNS times each, medians:
#   1. one model job of BENCH_COPIES copies into the farm (3 profiles x 10
#      printers): from submission (the client's clock before the upload)
#      to the first print start (the attempt's "started", when the
#      printer's print/start answered), against the slicer's own time for
#      that model: the slicing task's very command line (argv from the
#      store), run by hand on copies of its inputs, for the profile that
#      printed first.  Target: under 1 s of overhead above the slice.
#      Where the time went, from the store: planning, queueing, the slicer
#      under rrcloudd, its end seen, dispatch, upload and start.
#   2. the same model again (a second identical job): slicing tasks
#      created (0 expected), profiles served from the cache, and the time
#      to the first print start.
#   3. while slicing runs at its concurrency limit (a feeder keeps model
#      jobs of distinct models queued), info requests/s (wrk on
#      GET /?service=info&id=...&format=json, as bench_relay.sh) and
#      submission start latency: the time to the answer of an async relay
#      POST (service=stamp, as bench_relay.sh), and the command's start;
#      against the same without slicing.  Each run measures without, then
#      with; the slicer's share of the window at the limit is shown.
#
# Environment (defaults in brackets):
#   BENCH_RUNS [3]  BENCH_PER_PROFILE [10] printers  BENCH_COPIES [30]
#   BENCH_RADIUS [20] BENCH_BANDS [48]  the sphere (mm; bands)
#   BENCH_PRINT_SECONDS [5]   simulated print time (real seconds; the
#                             simulator runs 60 times faster than real)
#   BENCH_SLICE_CONCURRENCY   fleet_slice_concurrency [rrcloud's default, 1]
#   BENCH_DURATION [10s]  BENCH_THREADS [2]  BENCH_CONNS [32]   wrk
#   BENCH_LAT [30]            relay POSTs per phase and run (0.2 s apart)
#   BENCH_HAND [3]            hand runs of the slicer per run (median)
#   BENCH_DIR                 work directory [mktemp -d /tmp/rrmodel.XXXXXX]
#   BENCH_KEEP [0]            1: keep it (logs, database, per-run files)
#   BENCH_RESULTS             also write the result table to this file
#   BENCH_MAX_LOAD            first wait (up to BENCH_LOAD_WAIT [600] s) for
#                             the 1-minute load average to fall below this
#   BUILDDIR, SRCDIR          as for scripts/stack.sh
# Needs nginx, curl, jq, sqlite3, prusa-slicer (the shipped profiles'
# slicer); wrk for 3 (else a loop of curl, slower: its figures are then
# only comparable with each other).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
BUILDDIR=${BUILDDIR:-$SRCDIR}
export SRCDIR BUILDDIR   # for scripts/stack.sh
RUNS=${BENCH_RUNS:-3}
PER=${BENCH_PER_PROFILE:-10}
COPIES=${BENCH_COPIES:-30}
RADIUS=${BENCH_RADIUS:-20}
BANDS=${BENCH_BANDS:-48}
PRINT_S=${BENCH_PRINT_SECONDS:-5}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
LAT=${BENCH_LAT:-30}
HAND=${BENCH_HAND:-3}
KEEP=${BENCH_KEEP:-0}
NPROF=3
ADM=adm-bench-model-0123456789abcdef0123456789
ENR=enr-bench-model-0123456789abcdef0123456789

die() { echo "bench_model.sh: $*" >&2; exit 1; }
say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for p in curl jq sqlite3 awk ss; do
    command -v "$p" >/dev/null 2>&1 || die "$p not found"
done
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || die "nginx not found"
for p in rrcloudd rrcloud-fcgi rrcloud-printersim; do
    [ -x "$BUILDDIR/$p" ] || die "$BUILDDIR/$p not built (make, or set BUILDDIR)"
done
HAVE_WRK=0
command -v wrk >/dev/null 2>&1 && HAVE_WRK=1

DIR=${BENCH_DIR:-$(mktemp -d /tmp/rrmodel.XXXXXX)}
mkdir -p "$DIR"
# as root, task commands run as the sandbox user (nobody): it must pass
# through DIR to the stack's task directories (search, not read)
[ "$(id -u)" != 0 ] || chmod o+x "$DIR"
DIR=$(cd "$DIR" && pwd)
STACK=$DIR/stack
FEEDER_PID=""

cleanup() {
    set +e
    [ -n "$FEEDER_PID" ] && kill "$FEEDER_PID" 2>/dev/null
    [ -d "$STACK" ] && "$SRCDIR/scripts/stack.sh" stop "$STACK" >/dev/null 2>&1
    if [ "$KEEP" = 1 ]; then
        rm -rf "$STACK/spool/tasks" "$STACK/spool/blobs" "$DIR"/models
        echo "bench_model.sh: kept $DIR" >&2
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers ----------------------------------------------------------------

now() { echo "$EPOCHREALTIME"; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan";
    else printf "%.3f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p90() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit}
    i = int(NR * 0.9); if (i < NR * 0.9) i++; printf "%.3f\n", v[i]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
sub_() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
ms() { awk -v s="$1" 'BEGIN {printf "%.0f", s * 1000}'; }
runs() { paste -sd' ' "$1"; }
col() { cut -d' ' -f"$2" "$DIR/$1" | median; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_port() { # after: a port number to stay above
    local p=$(( $1 + 1 + RANDOM % 97 ))
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}

# The store, read only (rrcloudd and rrcloud-fcgi write it).
sq() { sqlite3 -cmd '.timeout 5000' "file:$STACK/rrcloud.db?mode=ro" "$1"; }

B() { echo "http://127.0.0.1:$PORT$1"; }
get() { curl -fsS --max-time 30 "$(B "$1")"; }
api() { # METHOD PATH [curl args...]
    local m=$1 p=$2
    shift 2
    curl -sS --max-time 60 -X "$m" -H "Authorization: Bearer $ADM" "$@" \
        "$(B "/api/v1$p")"
}

# until_true SECONDS WHAT COMMAND...: COMMAND every 0.1 s until it succeeds
until_true() {
    local n=$(( $1 * 10 )) what=$2
    shift 2
    while ! "$@"; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || die "timed out: $what"
        sleep 0.1
    done
}

# model NAME: a copy of the sphere under NAME (other bytes, same slicing)
model() {
    local f=$DIR/models/$1.stl
    { echo "solid $1"; tail -n +2 "$DIR/models/base.stl"; } >"$f"
    echo "$f"
}

# submit_model FILE [COPIES]: a model job into queue default; its id
submit_model() {
    local out
    out=$(api POST /queues/default/jobs -F "model=@$1" -F material=pla \
          -F copies="${2:-1}") || die "model job not accepted"
    echo "$out" | jq -er .id || die "model job not accepted: $out"
}

nready() { api GET "/printers?limit=1000" |
    jq '[.printers[] | select(.state == "ready")] | length'; }
farm_ready() { [ "$(nready)" = "$NPRINTERS" ]; }
job_state() { api GET "/jobs/$1" | jq -r .state; }
job_done() { case $(job_state "$1") in complete|failed|cancelled) return 0 ;; esac; return 1; }
started() { [ -n "$(sq "SELECT 1 FROM attempts WHERE job_id = $1 AND started > 0 LIMIT 1")" ]; }
slicer_tasks() { sq "SELECT COUNT(*) FROM tasks WHERE client = 'rrcloudd-slicer'"; }
# slices waiting (of open jobs: a pending row of an ended job never
# starts) or slicing (their task still running), counting each unplanned
# job as NPROF
slices_open() {
    sq "SELECT (SELECT COUNT(*) FROM job_slices s JOIN jobs j ON j.id =
        s.job_id WHERE (s.state = 0 AND j.state IN (0, 1)) OR (s.state = 1
        AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id AND
        t.status < 2))) +
        $NPROF * (SELECT COUNT(*) FROM jobs WHERE model_sha256 != '' AND
        slice_planned = 0 AND state IN (0, 1))"
}
# slicing tasks running now (a slice whose task has started)
slices_running() {
    sq "SELECT COUNT(*) FROM job_slices s JOIN tasks t ON t.id = s.task_id
        WHERE s.state = 1 AND t.status = 1"
}
no_slicing() { [ "$(slices_open)" = 0 ]; }
at_limit() { [ "$(slices_running)" -ge "$SLICE_LIMIT" ]; }

# first_start JOB: "started profile attempt_created upload_at printer" of
# the job's first print start
first_start() {
    sq "SELECT printf('%.6f %s %.6f %.6f %d', a.started, p.profile, a.created,
        a.upload_at, a.printer_id) FROM attempts a JOIN printers p ON
        p.id = a.printer_id WHERE a.job_id = $1 AND a.started > 0
        ORDER BY a.started LIMIT 1" | tr '|' ' '
}

# hand_slice JOB PROFILE: seconds the slicing task of JOB for PROFILE
# takes run by hand (median of HAND runs): its argv from the store, in a
# directory holding copies of its inputs, with its service's PATH
hand_slice() {
    local id svc path w t0 t1 i k
    id=$(sq "SELECT task_id FROM job_slices WHERE job_id = $1 AND profile = '$2'")
    [ -n "$id" ] || die "job $1 has no slicing task for $2"
    svc=$(sq "SELECT service FROM tasks WHERE id = '$id'")
    path=$(sed -n 's/^path *= *//p' "$DIR/services/$svc.conf")
    w=$DIR/hand/$id
    rm -rf "$w"; mkdir -p "$w"
    for i in $(sq "SELECT inputs FROM tasks WHERE id = '$id'" | tr ',' ' '); do
        cp "$STACK/spool/tasks/$id/$i" "$w/$i"
    done
    mapfile -t argv < <(sq "SELECT argv_json FROM tasks WHERE id = '$id'" | jq -r '.[]')
    : >"$DIR/hand/times"
    for k in $(seq "$HAND"); do
        t0=$(now)
        (cd "$w" && PATH=$path exec "${argv[@]}") >"$DIR/hand/log" 2>&1 ||
            die "hand slice of $2 failed: $(tail -n 3 "$DIR/hand/log")"
        t1=$(now)
        echo "$t1 $t0" | awk '{printf "%.3f\n", $1 - $2}' >>"$DIR/hand/times"
    done
    rm -rf "$w"
    median <"$DIR/hand/times"
}

# ---- setup ------------------------------------------------------------------

if [ -n "${BENCH_MAX_LOAD:-}" ]; then
    i=0
    while awk -v m="$BENCH_MAX_LOAD" '{exit !($1 > m)}' /proc/loadavg &&
          [ $i -lt "${BENCH_LOAD_WAIT:-600}" ]; do
        [ $((i % 60)) = 0 ] && say "load average $(cut -d' ' -f1 /proc/loadavg) > $BENCH_MAX_LOAD: waiting"
        sleep 5; i=$((i + 5))
    done
fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
T_BEGIN=$(date -u '+%Y-%m-%d %H:%M')
say "work directory $DIR"

# services and profiles of our own: the shipped ones, plus copies of mk3s
# with another bed until there are three profiles
mkdir -p "$DIR/services" "$DIR/profiles" "$DIR/models" "$DIR/hand"
cp -R "$SRCDIR"/services/. "$DIR/services/"
cp -R "$SRCDIR"/profiles/. "$DIR/profiles/"
PROFILES=$(cd "$DIR/profiles" && ls -- *.conf | sed 's/\.conf$//' | sort | head -n "$NPROF")
add_profile() { # NAME WIDTH DEPTH: mk3s with another bed
    sed -e "s/^bed = .*/bed = $2x$3/" -e "s/^config = .*/config = $1.ini/" \
        -e "s/^description = .*/description = bench: mk3s with a $2x$3 bed/" \
        "$DIR/profiles/mk3s.conf" >"$DIR/profiles/$1.conf"
    sed -e "s/^bed_shape = .*/bed_shape = 0x0,$2x0,$2x$3,0x$3/" \
        -e "s/^printer_notes = .*/printer_notes = rrcloud profile $1 (bench)/" \
        "$DIR/profiles/mk3s.ini" >"$DIR/profiles/$1.ini"
}
w=240; d=200
while [ "$(echo "$PROFILES" | wc -w)" -lt "$NPROF" ]; do
    [ -f "$DIR/profiles/mk3s.conf" ] || die "fewer than $NPROF profiles and no mk3s to copy"
    add_profile "mk3s-b$w" "$w" "$d"
    PROFILES="$PROFILES mk3s-b$w"
    w=$((w - 10)); d=$((d - 10))
done
PROFILES=$(echo $PROFILES)
[ "$(id -u)" != 0 ] || chmod -R o+rX "$DIR/services" "$DIR/profiles"
NPRINTERS=$((PER * NPROF))
awk -v r="$RADIUS" -v n="$BANDS" -v name=base -f "$here/sphere_stl.awk" \
    >"$DIR/models/base.stl"
echo now >"$DIR/now.txt"
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

SIM_PORT=$(pick_port 20000)
PORT=$(pick_port "$SIM_PORT")
SIMURL=http://127.0.0.1:$SIM_PORT
say "simulator: $NPRINTERS printers on :$SIM_PORT; profiles $PROFILES"
"$SRCDIR/scripts/stack.sh" printersim "$STACK" "$SIM_PORT" \
    --printers="$NPRINTERS" --time-scale=60 --print-seconds=$((PRINT_S * 60)) \
    --log-level=warn
STACK_SERVICES_DIR=$DIR/services \
STACK_CONF_EXTRA="admin_token = $ADM
enroll_token = $ENR
profiles_dir = $DIR/profiles
fleet_poll_interval = 1
max_queued = 1000000
client_max_queued = 0
${BENCH_SLICE_CONCURRENCY:+fleet_slice_concurrency = $BENCH_SLICE_CONCURRENCY}
frontend = bench local $SIMURL capacity=$((NPRINTERS * 2)) canary=$SIMURL/p/1/server/info" \
    "$SRCDIR/scripts/stack.sh" start "$STACK" "$PORT" nginx >/dev/null ||
    die "stack did not start"
SLICE_LIMIT=${BENCH_SLICE_CONCURRENCY:-1}
RUNNER_SLOTS=2
FCGI_PID=$(cat "$STACK/fcgi.pid")

# the farm: printer i has profile (i - 1) % 3, all PLA
api POST /queues -H 'Content-Type: application/json' -d '{"name":"default"}' \
    -o /dev/null 2>/dev/null || true
set -- $PROFILES
for i in $(seq "$NPRINTERS"); do
    eval "prof=\${$(( (i - 1) % NPROF + 1 ))}"
    out=$(curl -sS -H "Authorization: Bearer $ENR" -H 'Content-Type: application/json' \
        -d "{\"name\":\"m$i\",\"region\":\"local\",\"profile\":\"$prof\",
             \"material\":\"pla\",\"queues\":[\"default\"],\"auto_eject\":true}" \
        "$(B /api/v1/printers)")
    pid=$(echo "$out" | jq -r '.id // empty')
    tok=$(echo "$out" | jq -r '.token // empty')
    [ -n "$pid" ] && [ -n "$tok" ] || die "enrolling m$i: $out"
    curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' -d "{\"share_url\":\"$SIMURL/p/$i\"}" \
        "$(B "/api/v1/printers/$pid/share")" || die "share URL of m$i"
done
until_true 60 "$NPRINTERS printers ready" farm_ready
say "$NPRINTERS printers ready"

# a complete task to ask about
ID=$(curl -fsS -F service=stamp -F format=json -F "fileIn0=@$DIR/now.txt" \
     "$(B /)" | jq -r .id)
[ -n "$ID" ] && [ "$(get "/?service=info&id=$ID&format=json" | jq -r .status)" = complete ] ||
    die "stamp task failed"
INFO_PATH="/?service=info&id=$ID&format=json"
SIZE=$(get "$INFO_PATH" | wc -c)

# ---- 1 and 2: a model job, then the same again --------------------------------

# wait_job_and_farm JOB: its copies all ended and every printer ready again
wait_job_and_farm() {
    until_true 600 "job $1 to end" job_done "$1"
    [ "$(job_state "$1")" = complete ] || die "job $1 ended $(job_state "$1")"
    until_true 120 "the farm to be ready again" farm_ready
}

: >"$DIR/r-first"; : >"$DIR/r-cache"
for r in $(seq 0 "$RUNS"); do   # round 0 warms up and is not counted
    say "1. $([ "$r" = 0 ] && echo "warm-up" || echo "run $r"): a new model, $COPIES copies, $NPROF profiles x $PER printers"
    until_true 300 "slicing to end" no_slicing
    f=$(model "run$r")
    t0=$(now)
    J=$(submit_model "$f" "$COPIES")
    until_true 600 "job $J's first print start" started "$J"
    set -- $(first_start "$J")
    st=$1 prof=$2 acr=$3 upl=$4
    first=$(sub_ "$st" "$t0")
    # where the time went (that profile's slice)
    set -- $(sq "SELECT printf('%.6f %.6f %.6f %.6f %.6f %.6f', j.created,
        t.ctime, t.stime, t.etime, s.updated, 0) FROM jobs j JOIN job_slices s
        ON s.job_id = j.id JOIN tasks t ON t.id = s.task_id WHERE j.id = $J
        AND s.profile = '$prof'")
    created=$1 tc=$2 ts=$3 te=$4 rdy=$5
    wait_job_and_farm "$J"
    hand=$(hand_slice "$J" "$prof")
    over=$(sub_ "$first" "$hand")
    # first hand, run r: submit->created, created->task, task queued,
    # slicer under rrcloudd, end->ready, ready->attempt, attempt->upload,
    # upload->started
    echo "$first $hand $over $(sub_ "$created" "$t0") $(sub_ "$tc" "$created")" \
         "$(sub_ "$ts" "$tc") $(sub_ "$te" "$ts") $(sub_ "$rdy" "$te")" \
         "$(sub_ "$acr" "$rdy") $(sub_ "$upl" "$acr") $(sub_ "$st" "$upl") $prof" \
         "$(sub_ "$first" "$(sub_ "$te" "$ts")")" >>"$DIR/r-first"
    say "   first print start $first s after submission ($prof); slicer by hand $hand s;" \
        "overhead $over s"

    say "2. $([ "$r" = 0 ] && echo "warm-up" || echo "run $r"): the same model again"
    n0=$(slicer_tasks)
    t0=$(now)
    J2=$(submit_model "$f" "$COPIES")
    until_true 600 "job $J2's first print start" started "$J2"
    set -- $(first_start "$J2")
    first2=$(sub_ "$1" "$t0")
    wait_job_and_farm "$J2"
    n1=$(slicer_tasks)
    hits=$(api GET "/jobs/$J2" | jq '[.slices[] | select(.state == "ready" and ((.task // "") == ""))] | length')
    nsl=$(api GET "/jobs/$J2" | jq '.slices | length')
    echo "$first2 $((n1 - n0)) $hits $nsl" >>"$DIR/r-cache"
    say "   first print start $first2 s; slicing tasks $((n1 - n0)); from the cache $hits of $nsl"
    [ "$r" != 0 ] || { : >"$DIR/r-first"; : >"$DIR/r-cache"; }
done

# ---- 3. info and submissions, without and with slicing ----------------------

HZ=$(getconf CLK_TCK)
cpu_ticks() { cut -d')' -f2 "/proc/$1/stat" | awk '{print $12 + $13}'; }

# info_rate NAME: GET info requests/s for DURATION (wrk, else curl)
info_rate() {
    local out=$DIR/wrk-$1.txt secs
    if [ "$HAVE_WRK" = 1 ]; then
        wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$(B "$INFO_PATH")" >>"$out" 2>&1 ||
            die "wrk failed, see $out"
        awk '/^Requests\/sec/ {v = $2} END {print v}' "$out"
    else
        secs=${DURATION%s}
        local t0 n=0 end
        t0=$(now)
        end=$(awk -v a="$t0" -v s="$secs" 'BEGIN {print a + s}')
        while awk -v e="$end" -v n="$(now)" 'BEGIN {exit !(n < e)}'; do
            curl -fsS -o /dev/null "$(B "$INFO_PATH")" "$(B "$INFO_PATH")" \
                "$(B "$INFO_PATH")" "$(B "$INFO_PATH")" || die "info failed"
            n=$((n + 4))
        done
        awk -v n="$n" -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", n / (b - a)}'
    fi
}

# post_latency NAME: LAT async stamp POSTs, 0.2 s apart; per POST "answer_ms
# start_ms" (time to the answer, ctime -> the command's start) into DIR/NAME
post_latency() {
    local i out code tt id ids=$DIR/ids-$1 tts=$DIR/tt-$1 res=$DIR/$2 c t
    : >"$ids"; : >"$tts"
    for i in $(seq "$LAT"); do
        out=$(curl -sS -o "$DIR/post.json" -w '%{http_code} %{time_total}' \
            -F service=stamp -F async=1 -F format=json -F "fileIn0=@$DIR/now.txt" "$(B /)")
        set -- $out
        code=$1 tt=$2
        case $code in 200|201|202) ;; *) die "relay POST answered $code: $(cat "$DIR/post.json")" ;; esac
        jq -r .id "$DIR/post.json" >>"$ids"
        echo "$tt" >>"$tts"
        sleep 0.2
    done
    paste -d' ' "$tts" "$ids" | while read -r tt id; do
        i=0
        until [ "$(get "/?service=info&id=$id&format=json" | jq -r .status)" = complete ]; do
            i=$((i + 1)); [ $i -lt 600 ] || die "stamp task $id did not complete"
            sleep 0.1
        done
        c=$(get "/?service=info&id=$id&format=json" | jq -r .ctime)
        t=$(get "/tasks/log/$id" | grep -E '^[0-9]+\.[0-9]+$' | head -n1)
        [ -n "$t" ] || die "task $id: no time in its log"
        awk -v tt="$tt" -v c="$c" -v t="$t" 'BEGIN {printf "%.2f %.2f\n", tt * 1000, (t - c) * 1000}'
    done >"$res"
}

# the feeder: keeps more slices open than the limit runs, each job a model
# of its own (distinct bytes: no cache hits), until DIR/feeder.stop
feeder() {
    local k=0 f
    while [ ! -e "$DIR/feeder.stop" ]; do
        if [ "$(slices_open)" -le "$NPROF" ]; then
            k=$((k + 1))
            f=$(model "feed-$1-$k")
            submit_model "$f" 1 >/dev/null
        fi
        sleep 0.5
    done
}
# sampler: whether slicing is at its limit, every 0.5 s, into DIR/FILE
sampler() {
    while [ ! -e "$DIR/feeder.stop" ]; do
        slices_running >>"$DIR/$1"
        sleep 0.5
    done
}

say "3. info (${DURATION} of wrk -c$CONNS) and $LAT relay POSTs, without then with slicing, $RUNS x"
: >"$DIR/r-info-idle"; : >"$DIR/r-info-busy"
: >"$DIR/lat-idle"; : >"$DIR/lat-busy"; : >"$DIR/at-limit"
for r in $(seq "$RUNS"); do
    until_true 300 "slicing to end" no_slicing
    c0=$(cpu_ticks "$FCGI_PID")
    info_rate idle >>"$DIR/r-info-idle"
    post_latency idle "lat-idle-$r"
    cat "$DIR/lat-idle-$r" >>"$DIR/lat-idle"

    rm -f "$DIR/feeder.stop"
    feeder "$r" &
    FEEDER_PID=$!
    until_true 120 "slicing to reach its limit" at_limit
    sampler "samples-$r" &
    SAMPLER_PID=$!
    info_rate busy >>"$DIR/r-info-busy"
    post_latency busy "lat-busy-$r"
    cat "$DIR/lat-busy-$r" >>"$DIR/lat-busy"
    touch "$DIR/feeder.stop"
    wait "$FEEDER_PID" "$SAMPLER_PID" || true
    FEEDER_PID=""
    awk -v l="$SLICE_LIMIT" '{n++; if ($1 >= l) k++} END {printf "%.2f\n", n ? k / n : 0}' \
        "$DIR/samples-$r" >>"$DIR/at-limit"
    say "   run $r: info $(tail -n1 "$DIR/r-info-idle") vs $(tail -n1 "$DIR/r-info-busy") req/s;" \
        "POST answer median $(cut -d' ' -f1 "$DIR/lat-idle-$r" | median) vs" \
        "$(cut -d' ' -f1 "$DIR/lat-busy-$r" | median) ms; slicing at its limit" \
        "$(tail -n1 "$DIR/at-limit") of the window"
done
FEED_JOBS=$(sq "SELECT COUNT(*) FROM jobs WHERE model_name LIKE 'feed-%'")
FEED_FAILED=$(sq "SELECT COUNT(*) FROM jobs WHERE model_name LIKE 'feed-%' AND state = 3")

# ---- results -------------------------------------------------------------------

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "MISSED"}'; }
F=$(col r-first 1); H=$(col r-first 2); O=$(col r-first 3)
C=$(col r-cache 1)
IA=$(median <"$DIR/r-info-idle" | cut -d. -f1); IB=$(median <"$DIR/r-info-busy" | cut -d. -f1)
ms1() { awk '{printf "%.1f\n", $1}'; }
LA=$(cut -d' ' -f1 "$DIR/lat-idle" | median | ms1); LB=$(cut -d' ' -f1 "$DIR/lat-busy" | median | ms1)
LA9=$(cut -d' ' -f1 "$DIR/lat-idle" | p90 | ms1); LB9=$(cut -d' ' -f1 "$DIR/lat-busy" | p90 | ms1)
SA=$(cut -d' ' -f2 "$DIR/lat-idle" | median | ms1); SB=$(cut -d' ' -f2 "$DIR/lat-busy" | median | ms1)
SA9=$(cut -d' ' -f2 "$DIR/lat-idle" | p90 | ms1); SB9=$(cut -d' ' -f2 "$DIR/lat-busy" | p90 | ms1)
CACHE_TASKS=$(awk '{s += $2} END {print s + 0}' "$DIR/r-cache")
CACHE_HITS=$(awk '{h += $3; n += $4} END {printf "%d of %d", h, n}' "$DIR/r-cache")
CACHE_RATIO=$(awk '{h += $3; n += $4} END {printf "%.2f", n ? h / n : 0}' "$DIR/r-cache")
stepcol() { cut -d' ' -f"$1" "$DIR/r-first" | median | xargs -I{} awk -v s={} 'BEGIN {printf "%.0f", s * 1000}'; }

report() {
    echo "rrcloud model-job benchmark, $T_BEGIN-$(date -u '+%H:%M UTC'), rrcloud $("$BUILDDIR/rrcloud-fcgi" -V | cut -d' ' -f2)"
    echo "machine: $(nproc) cores ($CPU_MODEL), shared with other work;" \
        "load average before $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "farm: $NPROF profiles ($PROFILES) x $PER simulated printers; model: sphere r $RADIUS mm," \
        "$(wc -c <"$DIR/models/base.stl") bytes ASCII STL; $RUNS runs, medians;" \
        "fleet_slice_concurrency $SLICE_LIMIT of $RUNNER_SLOTS runner slots"
    echo
    printf '%-54s %10s  %s\n' "1. one new model job, $COPIES copies (s)" "median" "runs"
    printf '%-54s %10s  %s\n' "submission -> first print start" "$F" "$(cut -d' ' -f1 "$DIR/r-first" | runs -)"
    printf '%-54s %10s  %s\n' "the slicer by hand, same argv (profile printed first)" "$H" "$(cut -d' ' -f2 "$DIR/r-first" | runs -) ($(cut -d' ' -f12 "$DIR/r-first" | sort | uniq -c | awk '{printf "%s%s x%d", s, $2, $1; s = ", "}'))"
    printf '%-54s %10s  target < 1 s: %s\n' "overhead above the slice" "$O" "$(verdict "$O" 1 "<")"
    printf '%-54s %10s  %s\n' "  ratio first start / slice by hand" "$(ratio "$F" "$H")" ""
    printf '%-54s %10s  %s\n' "first start less the slicer's run under rrcloudd" "$(col r-first 13)" \
        "(rrcloud's own steps; the slicer under rrcloudd: $(col r-first 7) s)"
    echo "  where the time went (ms, medians): upload of the model $(stepcol 4), planned and" \
         "task written $(stepcol 5), task queued $(stepcol 6), slicer under rrcloudd $(stepcol 7)," \
         "its end seen $(stepcol 8), scheduled $(stepcol 9), G-code upload $(stepcol 10), print/start $(stepcol 11)"
    echo
    printf '%-54s %10s  %s\n' "2. the same model again (s)" "median" "runs"
    printf '%-54s %10s  %s\n' "submission -> first print start" "$C" "$(cut -d' ' -f1 "$DIR/r-cache" | runs -)"
    printf '%-54s %10s  %s\n' "  against the first job's" "$(ratio "$C" "$F")" ""
    printf '%-54s %10s  target 0: %s\n' "slicing tasks created" "$CACHE_TASKS" "$([ "$CACHE_TASKS" = 0 ] && echo met || echo MISSED)"
    printf '%-54s %10s  %s\n' "cache hit ratio (profiles served from the cache)" "$CACHE_RATIO" "$CACHE_HITS"
    echo
    printf '%-54s %10s %10s %6s  %s\n' "3. with slicing at its limit" "without" "with" "ratio" "runs (without | with)"
    printf '%-54s %10s %10s %6s  %s | %s\n' "GET info (req/s, $([ "$HAVE_WRK" = 1 ] && echo "wrk -c$CONNS" || echo "curl loop"))" \
        "$IA" "$IB" "$(ratio "$IB" "$IA")" "$(cut -d. -f1 "$DIR/r-info-idle" | runs -)" "$(cut -d. -f1 "$DIR/r-info-busy" | runs -)"
    printf '%-54s %10s %10s %6s  p90 %s | %s\n' "relay POST async, time to its answer (ms)" "$LA" "$LB" "$(ratio "$LB" "$LA")" "$LA9" "$LB9"
    printf '%-54s %10s %10s %6s  p90 %s | %s\n' "  its command's start after submission (ms)" "$SA" "$SB" "$(ratio "$SB" "$SA")" "$SA9" "$SB9"
    printf '%-54s %10s  %s\n' "  share of the window slicing ran at its limit" "$(median <"$DIR/at-limit")" \
        "runs $(runs "$DIR/at-limit"); $FEED_JOBS feeder jobs, $FEED_FAILED failed"
}
report >"$DIR/results.txt"
echo
cat "$DIR/results.txt"
[ -n "${BENCH_RESULTS:-}" ] && cp "$DIR/results.txt" "$BENCH_RESULTS"
exit 0
