#!/bin/sh
# test_slice_cache.sh - cached G-code of model jobs does not fill the spool
# (slice_cache_max, spool_quota), on the real stack with a slicer that
# writes 300 KB of G-code at once:
#   - a model job is sliced and its G-code cached; the job is cancelled and
#     purged (max_data_retention = 1s): the cache alone references the
#     G-code, and the spool still counts it;
#   - an upload that would not fit under spool_quota is refused with 507,
#     and rrcloud-fcgi wakes rrcloudd, which evicts the cached slice no job
#     needs (its blob file goes 10 s after its last reference): the same
#     upload then fits; one larger than the quota itself evicts nothing;
#   - a cached slice a queued job needs is never evicted, however full the
#     spool.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
D="$top_srcdir/tests/data"

# --- a profile whose slicer writes 300 KB of G-code (content by layer height) -
mkdir -p "$T/services" "$T/profiles" "$T/bin"
cp "$top_srcdir"/services/echo.conf "$top_srcdir"/services/print.conf \
    "$T/services/"
cp "$top_srcdir"/profiles/mk3s* "$T/profiles/"
cat >"$T/bin/bigslicer" <<'EOF'
#!/bin/sh
out= lh=
for a; do case $a in --output=*) out=${a#--output=} ;;
                     --layer-height=*) lh=${a#--layer-height=} ;; esac; done
{ printf '; bigslicer %s\nG28\n' "$lh"
  i=0; while [ $i -lt 10000 ]; do
      printf 'G1 X10 Y10 Z0.2 E1 ; pad pad\n'; i=$((i + 1)); done
} >"$out"
EOF
chmod +x "$T/bin/bigslicer"
sed -e "s|^path = .*|path = $T/bin:/usr/bin:/bin|" \
    -e 's|^cmd = .*|cmd = bigslicer --export-gcode --post-process=/bin/true|' \
    -e 's|^description = .*|description = a slicer of much G-code|' \
    "$top_srcdir/services/prusa-slicer.conf" >"$T/services/bigslicer.conf"
grep -qs '^sandboxRead' "$top_srcdir"/services/*.conf &&
    echo "sandboxRead = $T/bin" >>"$T/services/bigslicer.conf"
sed -e 's/^slicer = .*/slicer = bigslicer/' \
    "$top_srcdir/profiles/mk3s.conf" >"$T/profiles/big.conf"
rm "$T/profiles/mk3s.conf"

ADMIN=adm-cache-test-0123456789abcdef0123456789
ENROLL=enr-cache-test-0123456789abcdef0123456789
STACK_SERVICES_DIR="$T/services"
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
profiles_dir = $T/profiles
spool_quota = 700K
max_data_retention = 1s
purge_interval = 1s"
export STACK_CONF_EXTRA STACK_SERVICES_DIR
failures=1
stack_start nginx
failures=0

J='Content-Type: application/json'
AH="Authorization: Bearer $ADMIN"
api() { # METHOD PATH [curl args...]: JSON answer on stdout
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "$AH" "$@" "$BASE/api/v1$p"
}
code() { # METHOD PATH [curl args...]: the status only (body in $T/body)
    m=$1; p=$2; shift 2
    curl -s -m 30 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p"
}
expect_eq "a printer of profile big enrolls" 201 \
    "$(code POST /api/v1/printers -H "Authorization: Bearer $ENROLL" -H "$J" \
       -d '{"name":"b1","region":"eu","profile":"big","queues":["default"]}')"

sliced() { # JOB: its one slice is ready
    [ "$(api GET "/jobs/$1" | jq -r '.slices[0].state')" = ready ]
}
model_job() { # LAYER_HEIGHT: a model job, its id in $MJ, its G-code in $SHA
    MJ=$(curl -s -m 30 -H "$AH" -F "model=@$D/cube.stl" \
         -F "override.layer_height=$1" "$BASE/api/v1/queues/default/jobs" |
         jq -r '.id // empty')
    [ -n "$MJ" ] || { fail "a model job at layer height $1"; return; }
    until_ok 30 sliced "$MJ" || fail "job $MJ was not sliced"
    SHA=$(api GET "/jobs/$MJ" | jq -r '.files[0].sha256')
}
blob_file() { find "$STACK" -path '*blobs*' -type f -name "$(echo "$1" | cut -c3-)"; }
job_gone() { [ "$(code GET "/api/v1/jobs/$1" -H "$AH")" = 404 ]; }
# Every task purged (max_data_retention = 1s): the spool holds blobs only.
no_tasks() { [ "$(api GET '/tasks?limit=1000' | jq '.tasks | length')" = 0 ]; }

# --- the cache alone holds a slice: a refused upload evicts it ---------------
model_job 0.2; J1=$MJ; S1=$SHA
check "the G-code is a blob file in the spool" [ -n "$(blob_file "$S1")" ]
api POST "/jobs/$J1/cancel" -H "$J" -d '{}' >/dev/null
until_ok 30 job_gone "$J1" || fail "job $J1 was not purged"
until_ok 30 no_tasks || fail "the slicing task was not purged"
check "... which the cache keeps after its job is gone" [ -n "$(blob_file "$S1")" ]
# larger than spool_quota itself: no eviction can make it fit, so
# rrcloud-fcgi does not wake rrcloudd (any client could flush the cache)
head -c 800000 /dev/zero | tr '\0' 'a' >"$T/huge.txt"
expect_eq "an upload larger than spool_quota: 507" 507 \
    "$(code POST / -H "$AH" -F service=echo -F async=1 -F "fileIn0=@$T/huge.txt")"
# rrcloudd takes a 507's wake before it starts a task queued after it
printf 'x\n' >"$T/small.txt"
out=$(curl -s -m 30 -H "$AH" -F service=echo -F "fileIn0=@$T/small.txt" "$BASE/")
expect_contains "a small task after it runs" "$out" "state: complete"
grep -q "refused for spool_quota" "$STACK/log/rrcloudd.log"
check "... and nothing was evicted for it" [ $? -ne 0 ]
check "... the cached slice's file stays" [ -n "$(blob_file "$S1")" ]
until_ok 30 no_tasks || fail "the small task was not purged"
head -c 450000 /dev/zero | tr '\0' 'a' >"$T/big.txt"
expect_eq "an upload that does not fit under spool_quota: 507" 507 \
    "$(code POST / -H "$AH" -F service=echo -F async=1 -F "fileIn0=@$T/big.txt")"
expect_contains "... naming the quota" "$(cat "$T/body")" "spool_quota"
evicted() { [ -z "$(blob_file "$1")" ]; }
# its blob's file goes once its short grace (10 s) has passed
until_ok 30 evicted "$S1" ||
    fail "the cached slice no job needs was not evicted after the 507"
expect_eq "... then the same upload fits" 200 \
    "$(code POST / -H "$AH" -F service=echo -F async=1 -F "fileIn0=@$T/big.txt")"
grep -q "evicted 1 cached slice(s).*refused for spool_quota" \
    "$STACK/log/rrcloudd.log"
check "rrcloudd says why it evicted" [ $? -eq 0 ]

# --- a slice a queued job needs stays, however full the spool -----------------
until_ok 30 no_tasks || fail "the echo task was not purged"
model_job 0.3; J2=$MJ; S2=$SHA
until_ok 30 no_tasks || fail "the slicing task was not purged"
expect_eq "the upload does not fit beside it: 507" 507 \
    "$(code POST / -H "$AH" -F service=echo -F async=1 -F "fileIn0=@$T/big.txt")"
# rrcloudd takes the 507's wake before it starts a task queued after it
out=$(curl -s -m 30 -H "$AH" -F service=echo -F "fileIn0=@$T/small.txt" "$BASE/")
expect_contains "a small task after it runs" "$out" "state: complete"
check "the G-code of queued job $J2 stays" [ -n "$(blob_file "$S2")" ]
expect_eq "... and the job still has it" "ready $S2" \
    "$(api GET "/jobs/$J2" | jq -r '"\(.slices[0].state) \(.files[0].sha256)"')"
expect_eq "... so the upload still does not fit: 507" 507 \
    "$(code POST / -H "$AH" -F service=echo -F async=1 -F "fileIn0=@$T/big.txt")"
