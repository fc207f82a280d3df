#!/bin/sh
# test_model_jobs.sh - models as print jobs, sliced on demand for each
# printer profile (issue 10 parts 2 and 3), on a simulated farm of three
# profiles: the shipped mk3s (250x210x210) and voron24-0.4 (350x350x340),
# sliced by the real PrusaSlicer, and "broken", whose slicer always fails.
#   - bad input is a 4xx naming the field and writes nothing: an unknown
#     profile, an override a profile does not allow, a model type no
#     job may carry (through the jobs API and service=print; SCAD jobs
#     are test_scad_jobs.sh's);
#   - a cube prints on mk3s and voron, each copy with the G-code of its
#     printer's profile, while the failing slice excludes "broken" with
#     the slicer's reason (in the job and its events);
#   - a second job of the same cube slices nothing (the cache);
#   - a model 300 mm wide is excluded from mk3s (bed too small) and
#     prints only on the voron;
#   - a job only "broken" may take fails, saying why;
#   - service=print with fileIn0=@cube.stl through POST / prints;
#   - kill -9 of rrcloudd mid-slice: after its restart the slice ends and
#     the job prints;
#   - cancelling a job stops its slicing task, unless another job waits
#     for the same slice.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
command -v prusa-slicer >/dev/null || skip "no prusa-slicer"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
D="$top_srcdir/tests/data"

# --- services and profiles: the shipped ones plus "broken" -------------------
mkdir -p "$T/services" "$T/profiles" "$T/bin"
cp "$top_srcdir"/services/*.conf "$T/services/"
cp -r "$top_srcdir/services/curaengine" "$T/services/" 2>/dev/null
cp "$top_srcdir"/profiles/* "$T/profiles/"
cat >"$T/bin/failslicer" <<'EOF'
#!/bin/sh
echo "failslicer: $*"
echo "Error: the model is not manifold (simulated)" >&2
exit 1
EOF
chmod +x "$T/bin/failslicer"
sed -e "s|^path = .*|path = $T/bin:/usr/bin:/bin|" \
    -e 's|^cmd = .*|cmd = failslicer --export-gcode --post-process=/bin/true|' \
    -e 's|^description = .*|description = a slicer that always fails|' \
    "$top_srcdir/services/prusa-slicer.conf" >"$T/services/failslicer.conf"
# Where task commands run sandboxed, the sandbox must let it run that.
grep -qs '^sandboxRead' "$top_srcdir"/services/*.conf &&
    echo "sandboxRead = $T/bin" >>"$T/services/failslicer.conf"
# slowslicer: takes 3 s (60 s at layer height 0.3: the cancel test's),
# then writes a little G-code where it is told
cat >"$T/bin/slowslicer" <<'EOF'
#!/bin/sh
out= nap=3
for a; do case $a in --output=*) out=${a#--output=} ;;
                     --layer-height=0.3) nap=60 ;; esac; done
sleep $nap
printf '; slowslicer\nG28\nG1 X10 Y10 Z0.2 E1\n' >"$out"
EOF
chmod +x "$T/bin/slowslicer"
sed -e "s|^path = .*|path = $T/bin:/usr/bin:/bin|" \
    -e 's|^cmd = .*|cmd = slowslicer --export-gcode --post-process=/bin/true|' \
    -e 's|^description = .*|description = a slicer that takes its time|' \
    "$top_srcdir/services/prusa-slicer.conf" >"$T/services/slowslicer.conf"
grep -qs '^sandboxRead' "$top_srcdir"/services/*.conf &&
    echo "sandboxRead = $T/bin" >>"$T/services/slowslicer.conf"
sed -e 's/^slicer = .*/slicer = slowslicer/' \
    -e 's/^description = .*/description = a printer whose slicer is slow/' \
    "$top_srcdir/profiles/mk3s.conf" >"$T/profiles/slow.conf"
sed -e 's/^slicer = .*/slicer = failslicer/' \
    -e 's/^description = .*/description = a printer whose slicer fails/' \
    -e '/^override.brim/d' "$top_srcdir/profiles/mk3s.conf" \
    >"$T/profiles/broken.conf"

# --- the farm: one printer of each profile, prints of 60 simulated s --------
sim_start --printers=5 --time-scale=60 --print-seconds=60

ADMIN=adm-model-test-0123456789abcdef0123456789
ENROLL=enr-model-test-0123456789abcdef0123456789
STACK_SERVICES_DIR="$T/services"
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
profiles_dir = $T/profiles
fleet_poll_interval = 1
fleet_slice_concurrency = 1
frontend = fe1 eu $SIMURL capacity=10 canary=$SIMURL/p/5/server/info"
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

# the slow printer serves a queue of its own (the restart test's)
api POST /queues -H "$J" -d '{"name":"slowq"}' >/dev/null
n=1
for prof in mk3s voron24-0.4 broken slow; do
    q=default; who=$ENROLL
    [ "$prof" = slow ] && { q=slowq; who=$ADMIN; }
    out=$(curl -s -m 10 -H "Authorization: Bearer $who" -H "$J" \
        -d "{\"name\":\"$prof-1\",\"region\":\"eu\",\"profile\":\"$prof\",
             \"material\":\"pla\",\"queues\":[\"$q\"],
             \"auto_eject\":true}" "$BASE/api/v1/printers")
    id=$(printf '%s' "$out" | jq -r '.id // empty')
    tok=$(printf '%s' "$out" | jq -r '.token // empty')
    [ -n "$id" ] || { fail "enroll $prof: $out"; exit 1; }
    eval "P_$(echo "$prof" | tr -c 'a-z0-9\n' _)=$id"
    curl -s -m 10 -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H "$J" -d "{\"share_url\":\"$SIMURL/p/$n\"}" \
        "$BASE/api/v1/printers/$id/share"
    n=$((n + 1))
done
ready4() { [ "$(api GET /printers | jq '[.printers[] | select(.state == "ready")] | length')" = 4 ]; }
until_ok 30 ready4 || fail "the printers never became ready"

njobs() { api GET "/jobs?limit=1000" | jq '.jobs | length'; }
ntasks() { api GET "/tasks?limit=1000" | jq '.tasks | length'; }

# --- bad input: 4xx naming the field, nothing written -----------------------
expect_eq "a model job for an unknown profile: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F profile=ender5)"
expect_contains "... naming the field" "$(body)" \
    '"field":"profile","message":"profile: no printer profile '"'ender5'"
expect_eq "an override a profile does not allow: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F override.brim=3)"
expect_contains "... naming the field and the profile" "$(body)" \
    '"field":"override.brim","message":"override.brim: profile broken allows no override '"'brim'"
expect_eq "an override no profile knows: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F override.fan_speed=50)"
expect_contains "... naming it" "$(body)" '"field":"override.fan_speed"'
printf '<?xml version="1.0"?><amf unit="millimeter"></amf>\n' >"$T/part.amf"
expect_eq "a model type no job carries (amf): 415" 415 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/part.amf")"
expect_contains "... naming the field and the types" "$(body)" \
    '"field":"model","message":"model: '"'part.amf'"' is not a model a job may carry (stl, obj, 3mf, scad)'
printf 'not a model at all, whatever its name says\n' >"$T/junk.stl"
expect_eq "a model that is not what its name says: 415" 415 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/junk.stl")"
expect_contains "... naming the field" "$(body)" '"field":"model","message":"model: '
# its bytes are left to the purge (a concurrent upload of the same bytes
# may be about to use the file): recorded, unreferenced
junk=$(sha256sum "$T/junk.stl" | cut -c1-64)
expect_eq "... and its bytes wait for the purge" 1 \
    "$(find "$STACK" -path '*blobs*' -type f -name "$(echo "$junk" | cut -c3-)" | wc -l)"
if command -v sqlite3 >/dev/null; then
    expect_eq "... recorded with no reference" 0 \
        "$(sqlite3 "$STACK/rrcloud.db" "SELECT refcount FROM blobs WHERE sha256 = '$junk'")"
fi
expect_eq "... also as the file part: 415" 415 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "file=@$T/part.amf")"
expect_contains "... naming the field" "$(body)" '"field":"file"'
expect_eq "... and as service=print's fileIn0: 415" 415 \
    "$(code POST / -H "$AH" -F service=print -F format=json \
       -F "fileIn0=@$T/part.amf")"
expect_contains "... naming the field" "$(body)" '"field":"fileIn0"'
expect_eq "service=print with an override no profile allows: 400" 400 \
    "$(code POST / -H "$AH" -F service=print -F format=json \
       -F "fileIn0=@$D/cube.stl" -F override.fan_speed=50)"
expect_contains "... naming the field" "$(body)" '"field":"override.fan_speed"'
expect_eq "no job was written" 0 "$(njobs)"
expect_eq "no task was written" 0 "$(ntasks)"

# --- a cube for every profile: mk3s and voron print, broken is excluded ------
job_done() { # ID: the job is final
    s=$(api GET "/jobs/$1" | jq -r .state)
    [ "$s" = complete ] || [ "$s" = failed ] || [ "$s" = cancelled ]
}
sliced() { # ID N: N slices are ready or excluded
    [ "$(api GET "/jobs/$1" | jq '[.slices[] | select(.state == "ready" or .state == "excluded")] | length')" = "$2" ]
}
expect_eq "a model job of 2 copies: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$D/cube.stl" \
       -F copies=2 -F override.layer_height=0.15)"
J1=$(body | jq -r .id)
expect_eq "... shows its model" "cube.stl $(sha256sum "$D/cube.stl" | cut -c1-64)" \
    "$(body | jq -r '"\(.model.filename) \(.model.sha256)"')"
expect_eq "... and its overrides" '{"layer_height":"0.15"}' \
    "$(body | jq -c .overrides)"
expect_eq "... sliced for the profiles' default material" pla \
    "$(body | jq -r .material)"
until_ok 120 sliced "$J1" 3 || fail "job $J1 was never sliced for 3 profiles"
api GET "/jobs/$J1" >"$T/j1.json"
expect_eq "mk3s and voron ready, broken excluded" \
    "broken:excluded mk3s:ready voron24-0.4:ready" \
    "$(jq -r '[.slices[] | "\(.profile):\(.state)"] | join(" ")' "$T/j1.json")"
expect_contains "the failed slice's reason is the slicer's" \
    "$(jq -r '.excluded_profiles[] | select(.profile == "broken") | .reason' "$T/j1.json")" \
    "Error: the model is not manifold (simulated)"
expect_eq "the job has a file per printable profile" "mk3s voron24-0.4" \
    "$(jq -r '[.files[].profile] | join(" ")' "$T/j1.json")"
api GET "/events?limit=1000" >"$T/ev1.json"
expect_contains "the exclusion is an event" \
    "$(jq -r --argjson j "$J1" '.events[] | select(.job == $j and .kind == "slice_excluded") | .message' "$T/ev1.json")" \
    "profile broken excluded: slicing failed"
# the G-code a printer got names its profile's bed
for prof in mk3s voron24-0.4; do
    sha=$(jq -r --arg p "$prof" '.files[] | select(.profile == $p) | .sha256' "$T/j1.json")
    f="$STACK/spool/blobs/$(echo "$sha" | cut -c1-2)/$(echo "$sha" | cut -c3-)"
    [ -f "$f" ] || f=$(find "$STACK" -path "*blobs*" -name "$(echo "$sha" | cut -c3-)" | head -1)
    x=$(jq -r --arg p "$prof" '.profiles[] | select(.name == $p) | .bed.x' \
        "$(api GET /profiles >"$T/prof.json"; echo "$T/prof.json")")
    expect_contains "$prof: its G-code is for its bed" \
        "$(grep '^; bed_shape = ' "$f" 2>/dev/null)" "${x}x0"
    expect_eq "$prof: ... with the job's override" "; layer_height = 0.15" \
        "$(grep '^; layer_height = ' "$f" 2>/dev/null)"
done
until_ok 120 job_done "$J1" || fail "job $J1 did not end"
api GET "/jobs/$J1" >"$T/j1.json"
expect_eq "both copies complete" "complete 2" \
    "$(jq -r '"\(.state) \(.copies_by_state.complete)"' "$T/j1.json")"
expect_eq "... one on mk3s, one on the voron, none on broken" \
    "$(printf '%s\n' "$P_mk3s" "$P_voron24_0_4" | sort -n | tr '\n' ' ')" \
    "$(jq -r '[.attempts[] | select(.state == "complete") | .printer] | sort | map(tostring) | join(" ")' "$T/j1.json") "

# --- cache: the same cube again slices nothing --------------------------------
tasks_before=$(ntasks)
expect_eq "the same model again: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$D/cube.stl" \
       -F override.layer_height=0.15)"
J2=$(body | jq -r .id)
until_ok 60 sliced "$J2" 3 || fail "job $J2 was never planned"
api GET "/jobs/$J2" >"$T/j2.json"
expect_eq "... mk3s and voron ready from the cache (no task)" \
    "mk3s:ready: voron24-0.4:ready:" \
    "$(jq -r '[.slices[] | select(.state == "ready") | "\(.profile):\(.state):\(.task // "")"] | join(" ")' "$T/j2.json")"
expect_eq "... the very same G-code" \
    "$(jq -c '[.files[] | .sha256]' "$T/j1.json")" \
    "$(jq -c '[.files[] | .sha256]' "$T/j2.json")"
# broken is sliced again (a failure is not cached): one task at most
expect_eq "... and no slicing task but broken's retry" \
    "$((tasks_before + 1))" "$(ntasks)"
until_ok 120 job_done "$J2" || fail "job $J2 did not end"

# --- too big for the mk3s: prints only on the voron ----------------------------
box() { # W D H: an ASCII STL box
    awk -v w="$1" -v d="$2" -v h="$3" 'BEGIN {
        print "solid box"
        split("0 0 0,w 0 0,w d 0,0 d 0,0 0 h,w 0 h,w d h,0 d h", v, ",")
        split("1 3 2,1 4 3,5 6 7,5 7 8,1 2 6,1 6 5,2 3 7,2 7 6,3 4 8,3 8 7,4 1 5,4 5 8", f, ",")
        for (i = 1; i <= 12; i++) {
            split(f[i], t, " ")
            print "facet normal 0 0 0"; print "outer loop"
            for (k = 1; k <= 3; k++) {
                split(v[t[k]], c, " ")
                x = c[1] == "w" ? w : c[1]; y = c[2] == "d" ? d : c[2]
                z = c[3] == "h" ? h : c[3]
                print "vertex " x " " y " " z
            }
            print "endloop"; print "endfacet"
        }
        print "endsolid box" }'
}
box 300 20 10 >"$T/bar300.stl"
expect_eq "a bar 300 mm long: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$T/bar300.stl" -F profile=mk3s,voron24-0.4)"
J3=$(body | jq -r .id)
until_ok 120 sliced "$J3" 2 || fail "job $J3 was never sliced"
api GET "/jobs/$J3" >"$T/j3.json"
expect_eq "only the profiles it may be sliced for" "mk3s:excluded voron24-0.4:ready" \
    "$(jq -r '[.slices[] | "\(.profile):\(.state)"] | join(" ")' "$T/j3.json")"
expect_eq "mk3s excluded: larger than its bed" \
    "the model (300.0 x 20.0 x 10.0 mm) is larger than the bed of mk3s (250 x 210 x 210 mm)" \
    "$(jq -r '.excluded_profiles[0].reason' "$T/j3.json")"
until_ok 120 job_done "$J3" || fail "job $J3 did not end"
api GET "/jobs/$J3" >"$T/j3.json"
expect_eq "... and it printed on the voron" "complete $P_voron24_0_4" \
    "$(jq -r '"\(.state) \([.attempts[].printer] | map(tostring) | join(","))"' "$T/j3.json")"

# --- nothing can take it: the job fails, saying why ------------------------------
expect_eq "a model only broken may slice: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F profile=broken)"
J4=$(body | jq -r .id)
until_ok 120 job_done "$J4" || fail "job $J4 did not end"
api GET "/jobs/$J4" >"$T/j4.json"
expect_eq "... failed" failed "$(jq -r .state "$T/j4.json")"
expect_contains "... because no profile can take the model" \
    "$(jq -r .reason "$T/j4.json")" \
    "no printer profile can take the model: broken: slicing failed"

# --- service=print with a model through RepRapCloud's POST ------------------------
# voron's default material is petg, which no printer here has loaded
expect_eq "a model sliced for petg, which no printer loads: 422" 422 \
    "$(code POST / -H "$AH" -F service=print -F format=json \
       -F "fileIn0=@$D/cube_bin.stl" -F profile=voron24-0.4)"
expect_contains "... naming the field" "$(body)" \
    '"field":"material","message":"material: no printer could ever take this job: no printer of queue default loads material petg (loaded: pla)"'
out=$(curl -s -m 30 -H "$AH" -F service=print -F format=json \
      -F "fileIn0=@$D/cube_bin.stl" -F profile=voron24-0.4 -F material=pla \
      "$BASE/")
T5=$(printf '%s' "$out" | jq -r '.id // empty')
check "service=print took a binary STL: $out" [ -n "$T5" ]
J5=$(printf '%s' "$out" | jq -r '.job // empty')
until_ok 120 job_done "$J5" || fail "job $J5 did not end"
api GET "/jobs/$J5" >"$T/j5.json"
expect_eq "... printed on the voron from the model (named as the task input)" \
    "complete in0.stl voron24-0.4" \
    "$(jq -r '"\(.state) \(.model.filename) \([.files[].profile] | join(","))"' "$T/j5.json")"
WAIT_AUTH="$AH"
expect_eq "... and its task completed with its job" complete \
    "$(wait_status "$T5" complete 30)"

# --- print.cloud / rrcloud print with a model ------------------------------------
RR=${RRCLOUD:-$builddir/rrcloud}
if [ -x "$RR" ]; then
    out=$(HOME="$T" "$RR" --s="127.0.0.1:$PORT" --token="$ADMIN" print \
          "$D/cube.stl" --material=pla --async 2>&1)
    expect_eq "rrcloud print cube.stl --async: exit 0 ($out)" 0 $?
    T6=$(printf '%s\n' "$out" | grep -oE '[0-9]{10}-[0-9]+-[0-9]+' | head -1)
    J6=$(api GET "/tasks/$T6" | jq -r '.job // empty')
    check "... a model job ($T6, job $J6)" [ -n "$J6" ]
    [ -n "$J6" ] && until_ok 120 job_done "$J6"
    expect_eq "... printed, sliced for mk3s and voron (no overrides: a new key)" \
        "complete in0.stl mk3s:ready voron24-0.4:ready" \
        "$(api GET "/jobs/$J6" | jq -r '"\(.state) \(.model.filename) \([.slices[] | select(.state == "ready") | "\(.profile):\(.state)"] | join(" "))"')"
fi

# --- at most fleet_slice_concurrency (1) slicing tasks at once --------------------
api GET "/tasks?limit=1000" >"$T/tasks.json"
expect_eq "slicing tasks never overlapped (fleet_slice_concurrency = 1)" "" \
    "$(jq -r '[.tasks[] | select(.client == "rrcloudd-slicer")] | sort_by(.started) | . as $t | range(1; length) | select($t[.].started < $t[. - 1].ended) | $t[.].id' "$T/tasks.json")"
check "... of several" [ "$(jq '[.tasks[] | select(.client == "rrcloudd-slicer")] | length' "$T/tasks.json")" -ge 5 ]

# --- kill -9 of rrcloudd mid-slice, then its restart ------------------------------
expect_eq "a model for the slow profile only: 201" 201 \
    "$(code POST /api/v1/queues/slowq/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F profile=slow)"
J7=$(body | jq -r .id)
slicing() { [ "$(api GET "/jobs/$J7" | jq -r '.slices[0].state')" = slicing ] &&
            T7=$(api GET "/jobs/$J7" | jq -r '.slices[0].task') &&
            [ "$(api GET "/tasks/$T7" | jq -r .status)" = busy ]; }
until_ok 30 slicing || fail "job $J7 never started slicing"
rrcloudd_stop KILL || fail "rrcloudd did not die"
rrcloudd_start
until_ok 60 job_done "$J7" || fail "job $J7 did not end after the restart"
api GET "/jobs/$J7" >"$T/j7.json"
expect_eq "after the restart the slice ended and the job printed on slow" \
    "complete slow:ready $P_slow" \
    "$(jq -r '"\(.state) \([.slices[] | "\(.profile):\(.state)"] | join(" ")) \([.attempts[] | select(.state == "complete") | .printer] | map(tostring) | join(","))"' "$T/j7.json")"
expect_eq "... with the slicer's G-code" "; slowslicer" \
    "$(f=$(find "$STACK" -path '*blobs*' -type f -name "$(jq -r '.files[0].sha256' "$T/j7.json" | cut -c3-)"); head -1 "$f")"

# --- cancelling a model job cancels its slicing, unless a twin job waits -----
slicing_busy() { # JOB: its slice is slicing and its task busy (task id in $TS)
    [ "$(api GET "/jobs/$1" | jq -r '.slices[0].state')" = slicing ] &&
        TS=$(api GET "/jobs/$1" | jq -r '.slices[0].task') &&
        [ "$(api GET "/tasks/$TS" | jq -r .status)" = busy ]
}
task_is() { [ "$(api GET "/tasks/$1" | jq -r .status)" = "$2" ]; }
slice_is() { [ "$(api GET "/jobs/$1" | jq -r '.slices[0].state')" = "$2" ]; }
new_slow_job() { # LAYER_HEIGHT: a job for the slow profile, its id in $JS
    JS=$(curl -s -m 30 -H "$AH" -F "model=@$D/cube.stl" -F profile=slow \
         -F "override.layer_height=$1" "$BASE/api/v1/queues/slowq/jobs" |
         jq -r '.id // empty')
    [ -n "$JS" ] || fail "a job for the slow profile at layer height $1"
}

# a twin: B waits for A's slice (same key); cancelling A leaves it running
nslicer() { api GET "/tasks?limit=1000" | jq '[.tasks[] | select(.client == "rrcloudd-slicer")] | length'; }
n0=$(nslicer)
new_slow_job 0.11; JA=$JS
until_ok 30 slicing_busy "$JA" || fail "job $JA never started slicing"
TA=$TS
new_slow_job 0.11; JB=$JS
until_ok 30 slice_is "$JB" pending || fail "job $JB was never planned"
api POST "/jobs/$JA/cancel" -H "$J" -d '{"reason":"test"}' >/dev/null
until_ok 30 job_done "$JB" || fail "job $JB did not end"
expect_eq "a cancelled job's slice another job waits for is made, once" \
    "complete complete ready $((n0 + 1))" \
    "$(api GET "/tasks/$TA" | jq -r .status) $(api GET "/jobs/$JB" |
       jq -r '"\(.state) \(.slices[0].state)"') $(nslicer)"

# alone: cancelling the job stops its slicer (60 s) at once
new_slow_job 0.3; JC=$JS
until_ok 30 slicing_busy "$JC" || fail "job $JC never started slicing"
TC=$TS
api POST "/jobs/$JC/cancel" -H "$J" -d '{"reason":"test"}' >/dev/null
until_ok 20 task_is "$TC" cancelled ||
    fail "the slicing task $TC of cancelled job $JC: $(api GET "/tasks/$TC" | jq -r .status), not cancelled"
expect_eq "... and its slice waits, pending, with no task" "pending null" \
    "$(api GET "/jobs/$JC" | jq -r '"\(.slices[0].state) \(.slices[0].task)"')"
api GET "/events?limit=1000" >"$T/ev_cancel.json"
expect_eq "... saying why in the job's events" \
    "no job needs this slice any more" \
    "$(jq -r --argjson j "$JC" '.events[] | select(.job == $j and .kind == "slice_cancelled") | .message' "$T/ev_cancel.json")"
