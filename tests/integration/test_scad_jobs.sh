#!/bin/sh
# test_scad_jobs.sh - SCAD model jobs (issue 10 part 2): a job may carry a
# .scad, which rrcloudd renders once with the real openscad service (a
# relay task in the slicing concurrency) and then slices per profile with
# the real PrusaSlicer, on a simulated farm of mk3s and voron24-0.4:
#   - model=@cube.scad through /api/v1/queues/Q/jobs renders, slices and
#     prints on both printers;
#   - a second identical job renders and slices nothing (the caches);
#   - a scad that does not parse, and one including a file not sent,
#     fail the job with openscad's last line, in the job and its events;
#   - its variables (define.NAME = a number, openscad's -D) render into
#     the STL and key the render cache; bad ones are a 400 naming them;
#   - service=print with fileIn0=@x.scad through POST /, and print.cloud
#     x.scad, print;
#   - rrcloud print x.scad --override layer_height=0.15 --profile=mk3s
#     prints with the override in its G-code;
#   - the web page's form sends a .scad job the server takes (its request
#     built by www/fleet.js under node) and shows the job's slices;
#   - renders and slices never ran more at once than
#     fleet_slice_concurrency (1);
#   - a job cancelled mid-render cancels its render, unless a twin (the
#     same source) waits for it: the twin then takes its STL;
#   - kill -9 of rrcloudd mid-render: after its restart the render ends
#     and the job prints.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
command -v prusa-slicer >/dev/null || skip "no prusa-slicer"
command -v openscad >/dev/null || skip "no openscad"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
RR=${RRCLOUD:-$builddir/rrcloud}
[ -x "$RR" ] || skip "rrcloud not found (set RRCLOUD)"
D="$top_srcdir/tests/data"

mkdir -p "$T/services" "$T/profiles"
cp "$top_srcdir"/services/*.conf "$T/services/"
cp -r "$top_srcdir/services/curaengine" "$T/services/" 2>/dev/null
cp "$top_srcdir"/profiles/* "$T/profiles/"

# --- the farm: an mk3s and a voron, prints of 60 simulated s ------------------
sim_start --printers=3 --time-scale=60 --print-seconds=60

ADMIN=adm-scad-test-0123456789abcdef01234567890
ENROLL=enr-scad-test-0123456789abcdef01234567890
STACK_SERVICES_DIR="$T/services"
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
profiles_dir = $T/profiles
fleet_poll_interval = 1
fleet_slice_concurrency = 1
frontend = fe1 eu $SIMURL capacity=10 canary=$SIMURL/p/3/server/info"
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

n=1
for prof in mk3s voron24-0.4; do
    out=$(curl -s -m 10 -H "Authorization: Bearer $ENROLL" -H "$J" \
        -d "{\"name\":\"$prof-1\",\"region\":\"eu\",\"profile\":\"$prof\",
             \"material\":\"pla\",\"queues\":[\"default\"],
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
ready2() { [ "$(api GET /printers | jq '[.printers[] | select(.state == "ready")] | length')" = 2 ]; }
until_ok 30 ready2 || fail "the printers never became ready"

ntasks() { api GET "/tasks?limit=1000" | jq '.tasks | length'; }
job_done() { # ID: the job is final
    s=$(api GET "/jobs/$1" | jq -r .state)
    [ "$s" = complete ] || [ "$s" = failed ] || [ "$s" = cancelled ]
}
gcode_of() { # JOB-JSON PROFILE: the path of its G-code blob
    sha=$(jq -r --arg p "$2" '.files[] | select(.profile == $p) | .sha256' "$1")
    find "$STACK" -path '*blobs*' -type f -name "$(echo "$sha" | cut -c3-)" | head -1
}

# --- a .scad job: rendered once, sliced per profile, printed -------------------
expect_eq "a .scad model job of 2 copies: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$D/cube.scad" \
       -F copies=2)"
J1=$(body | jq -r .id)
expect_eq "... shows its model, the source" "cube.scad $(sha256sum "$D/cube.scad" | cut -c1-64)" \
    "$(body | jq -r '"\(.model.filename) \(.model.sha256)"')"
expect_eq "... and its render, by openscad" openscad \
    "$(body | jq -r .render.service)"
until_ok 180 job_done "$J1" || fail "job $J1 did not end"
api GET "/jobs/$J1" >"$T/j1.json"
expect_eq "the job printed both copies" "complete 2" \
    "$(jq -r '"\(.state) \(.copies_by_state.complete)"' "$T/j1.json")"
expect_eq "... rendered, and sliced for mk3s and voron" \
    "ready mk3s:ready voron24-0.4:ready" \
    "$(jq -r '"\(.render.state) \([.slices[] | "\(.profile):\(.state)"] | join(" "))"' "$T/j1.json")"
R1=$(jq -r .render.task "$T/j1.json")
api GET "/tasks/$R1" >"$T/r1.json"
expect_eq "the render was a relay task of openscad, by rrcloudd-slicer" \
    "openscad rrcloudd-slicer complete" \
    "$(jq -r '"\(.service) \(.client) \(.status)"' "$T/r1.json")"
STL=$(jq -r .render.sha256 "$T/j1.json")
stl=$(find "$STACK" -path '*blobs*' -type f -name "$(echo "$STL" | cut -c3-)" | head -1)
expect_eq "... its STL is stored once by content" "$STL" \
    "$(sha256sum "$stl" 2>/dev/null | cut -c1-64)"
expect_contains "... an STL of the 20 mm cube" "$(grep -c 'vertex' "$stl")" 36
for prof in mk3s voron24-0.4; do
    f=$(gcode_of "$T/j1.json" "$prof")
    expect_contains "$prof: real G-code from the rendered cube" \
        "$(grep -m1 '^; generated by PrusaSlicer' "$f" 2>/dev/null)" "PrusaSlicer"
    expect_eq "$prof: ... named after the model" "cube-$prof.gcode" \
        "$(jq -r --arg p "$prof" '.files[] | select(.profile == $p) | .filename' "$T/j1.json")"
done
expect_eq "... one copy on each printer" \
    "$(printf '%s\n' "$P_mk3s" "$P_voron24_0_4" | sort -n | tr '\n' ' ')" \
    "$(jq -r '[.attempts[] | select(.state == "complete") | .printer] | sort | map(tostring) | join(" ")' "$T/j1.json") "
api GET "/events?limit=1000" >"$T/ev1.json"
expect_eq "the render's events" "render_started render_ready" \
    "$(jq -r --argjson j "$J1" '[.events[] | select(.job == $j and (.kind | startswith("render")))] | sort_by(.id) | map(.kind) | join(" ")' "$T/ev1.json")"

# --- the same .scad again: nothing rendered, nothing sliced ----------------------
tasks_before=$(ntasks)
expect_eq "the same .scad again: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$D/cube.scad")"
J2=$(body | jq -r .id)
until_ok 120 job_done "$J2" || fail "job $J2 did not end"
api GET "/jobs/$J2" >"$T/j2.json"
expect_eq "... it printed, its STL from the render cache (no task)" \
    "complete ready $STL -" \
    "$(jq -r '"\(.state) \(.render.state) \(.render.sha256) \(.render.task // "-")"' "$T/j2.json")"
expect_eq "... the very same G-code" \
    "$(jq -c '[.files[] | .sha256]' "$T/j1.json")" \
    "$(jq -c '[.files[] | .sha256]' "$T/j2.json")"
expect_eq "... and no task at all: no render, no slice" "$tasks_before" \
    "$(ntasks)"

# --- a .scad that does not render fails the job, with openscad's words -----------
printf 'cube([10, 10, 10]\n' >"$T/broken.scad"
expect_eq "a .scad with a syntax error: 201 (it is rendered later)" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/broken.scad")"
J3=$(body | jq -r .id)
until_ok 60 job_done "$J3" || fail "job $J3 did not end"
api GET "/jobs/$J3" >"$T/j3.json"
expect_eq "... the job failed, its render too, nothing sliced" "failed failed 0" \
    "$(jq -r '"\(.state) \(.render.state) \(.slices | length)"' "$T/j3.json")"
expect_contains "... saying why: openscad's last line" \
    "$(jq -r .reason "$T/j3.json")" "Can't parse file 'in0.scad'!"
expect_contains "... as the render failed" "$(jq -r .reason "$T/j3.json")" \
    "the model did not render (openscad task "
api GET "/events?limit=1000" >"$T/ev3.json"
expect_contains "... and in its events" \
    "$(jq -r --argjson j "$J3" '.events[] | select(.job == $j and .kind == "render_failed") | .message' "$T/ev3.json")" \
    "Can't parse file 'in0.scad'!"
# a scad that includes a file it was not sent cannot work
printf 'include <parts.scad>\ncube(5);\n' >"$T/incl.scad"
expect_eq "a .scad including a file not sent: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/incl.scad")"
J4=$(body | jq -r .id)
until_ok 60 job_done "$J4" || fail "job $J4 did not end"
api GET "/jobs/$J4" >"$T/j4.json"
expect_eq "... failed" failed "$(jq -r .state "$T/j4.json")"
expect_contains "... the include openscad could not open" \
    "$(jq -r .reason "$T/j4.json")" "Can't open include file 'parts.scad'"

# --- bad input stays a 4xx naming the field ----------------------------------------
expect_eq "a .scad with an override no profile allows: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.scad" -F override.fan_speed=50)"
expect_contains "... naming the field" "$(body)" '"field":"override.fan_speed"'
printf '<?xml version="1.0"?><amf unit="millimeter"></amf>\n' >"$T/part.amf"
expect_eq "a model type no job carries (amf): 415" 415 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/part.amf")"
expect_contains "... naming the field and the types" "$(body)" \
    '"field":"model","message":"model: '"'part.amf'"' is not a model a job may carry (stl, obj, 3mf, scad)'

expect_eq "a variable on an STL: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.stl" -F define.size=30)"
expect_contains "... naming it" "$(body)" \
    '"field":"define.size","message":"define.size: only a .scad model takes variables"'
expect_eq "a variable that is no number: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.scad" -F 'define.size="a"')"
expect_contains "... naming it" "$(body)" '"field":"define.size","message":"define.size: a variable is'
expect_eq "a variable named as an OpenSCAD word: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "model=@$D/cube.scad" -F define.module=3)"
expect_contains "... naming it" "$(body)" '"field":"define.module"'
expect_eq "a variable on a G-code job: 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" \
       -F "file=@$D/small.gcode" -F define.size=3)"
expect_contains "... naming it" "$(body)" \
    '"field":"define.size","message":"define.size: only a model job'
expect_eq "an override on a G-code print through POST /: 400" 400 \
    "$(code POST / -H "$AH" -F service=print -F format=json \
       -F "fileIn0=@$D/small.gcode" -F override.layer_height=0.2)"
expect_contains "... naming it" "$(body)" '"field":"override.layer_height"'

# --- variables: -DNAME=VALUE, and a render cached per value ------------------------------
printf 'size = 10;\ncube([size, size, 5]);\n' >"$T/param.scad"
stl_max_x() { # JOB-JSON: the largest x of its STL's vertices
    f=$(find "$STACK" -path '*blobs*' -type f -name "$(jq -r .render.sha256 "$1" | cut -c3-)" | head -1)
    awk '$1 == "vertex" && $2 > m { m = $2 } END { print m + 0 }' "$f"
}
expect_eq "a .scad with define.size=40: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/param.scad" \
       -F define.size=40 -F profile=mk3s)"
J10=$(body | jq -r .id)
until_ok 120 job_done "$J10" || fail "job $J10 did not end"
api GET "/jobs/$J10" >"$T/j10.json"
expect_eq "... printed, its variable shown" 'complete {"size":"40"}' \
    "$(jq -c -j '"\(.state) "' "$T/j10.json"; jq -c .render.defines "$T/j10.json")"
expect_eq "... rendered 40 mm wide" 40 "$(stl_max_x "$T/j10.json")"
tasks_before=$(ntasks)
code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/param.scad" \
    -F define.size=40 -F profile=mk3s >/dev/null
J11=$(body | jq -r .id)
code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/param.scad" \
    -F define.size=25 -F profile=mk3s >/dev/null
J12=$(body | jq -r .id)
until_ok 120 job_done "$J11" || fail "job $J11 did not end"
until_ok 120 job_done "$J12" || fail "job $J12 did not end"
expect_eq "the same variable again: the cached STL, no task" \
    "complete $(jq -r .render.sha256 "$T/j10.json") -" \
    "$(api GET "/jobs/$J11" | jq -r '"\(.state) \(.render.sha256) \(.render.task // "-")"')"
api GET "/jobs/$J12" >"$T/j12.json"
expect_eq "another value: rendered again, 25 mm wide" "complete 25" \
    "$(jq -r .state "$T/j12.json") $(stl_max_x "$T/j12.json")"
expect_eq "... a render and a slice were all the tasks" "$((tasks_before + 2))" \
    "$(ntasks)"

# --- service=print with fileIn0=@x.scad through RepRapCloud's POST -------------------
printf '// a plate\ncube([30, 20, 4]);\n' >"$T/plate.scad"
out=$(curl -s -m 30 -H "$AH" -F service=print -F format=json \
      -F "fileIn0=@$T/plate.scad" -F profile=voron24-0.4 -F material=pla \
      "$BASE/")
T5=$(printf '%s' "$out" | jq -r '.id // empty')
check "service=print took a .scad: $out" [ -n "$T5" ]
J5=$(printf '%s' "$out" | jq -r '.job // empty')
until_ok 120 job_done "$J5" || fail "job $J5 did not end"
api GET "/jobs/$J5" >"$T/j5.json"
expect_eq "... rendered and printed on the voron" \
    "complete in0.scad ready voron24-0.4 $P_voron24_0_4" \
    "$(jq -r '"\(.state) \(.model.filename) \(.render.state) \([.files[].profile] | join(",")) \([.attempts[] | select(.state == "complete") | .printer] | map(tostring) | join(","))"' "$T/j5.json")"
expect_contains "... from the plate's STL (30 mm wide)" \
    "$(grep -c 'vertex' "$(find "$STACK" -path '*blobs*' -type f -name "$(jq -r .render.sha256 "$T/j5.json" | cut -c3-)" | head -1)")" 36
WAIT_AUTH="$AH"
expect_eq "... and its task completed with its job" complete \
    "$(wait_status "$T5" complete 30)"

# --- rrcloud print x.scad --override --profile ------------------------------------------
printf 'r = 6;\ncylinder(h = 8, r = r);\n' >"$T/peg.scad"
out=$(HOME="$T" "$RR" --s="127.0.0.1:$PORT" --token="$ADMIN" print \
      "$T/peg.scad" --override layer_height=0.15 --profile=mk3s \
      --define r=7 --material=pla --timeout=120 2>&1)
expect_eq "rrcloud print peg.scad --override ... --define r=7 --profile=mk3s: exit 0" 0 $?
expect_contains "... it said the model was rendered" "$out" "model ready by openscad"
expect_contains "... and sliced for mk3s" "$out" "profile mk3s: ready"
expect_contains "... and the copy complete" "$out" "complete: 1 copy"
T6=$(printf '%s\n' "$out" | grep -oE '[0-9]{10}-[0-9]+-[0-9]+' | head -1)
J6=$(api GET "/tasks/$T6" | jq -r '.job // empty')
api GET "/jobs/$J6" >"$T/j6.json"
expect_eq "... a job with the override and variable, sliced for mk3s only" \
    '{"layer_height":"0.15"} {"r":"7"} mk3s' \
    "$(jq -c -j '.overrides' "$T/j6.json"; printf ' '; jq -c -j '.render.defines' "$T/j6.json"; jq -r '" \([.slices[].profile] | join(","))"' "$T/j6.json")"
expect_eq "... whose G-code has the override" "; layer_height = 0.15" \
    "$(grep '^; layer_height = ' "$(gcode_of "$T/j6.json" mk3s)" 2>/dev/null)"
out=$(HOME="$T" "$RR" --s="127.0.0.1:$PORT" --token="$ADMIN" print \
      "$T/peg.scad" --override layer_height 2>&1)
expect_eq "rrcloud print with an --override that is no NAME=VALUE: exit 2" 2 $?
expect_contains "... saying so" "$out" "bad --override 'layer_height'"
expect_eq "rrcloud print --override fan_speed=50: the server's 400" \
    "override.fan_speed" \
    "$(HOME="$T" "$RR" --s="127.0.0.1:$PORT" --token="$ADMIN" print \
       "$T/peg.scad" --override fan_speed=50 2>&1 | grep -o 'override\.fan_speed' | head -1)"

# --- print.cloud x.scad: the wrapper, its server and key from ~/.rrcloudrc ---------------
ln -s "$RR" "$T/print.cloud"
printf 'servers = 127.0.0.1:%s\nkey = %s\n' "$PORT" "$ADMIN" >"$T/.rrcloudrc"
chmod 600 "$T/.rrcloudrc"
out=$(cd "$T" && HOME="$T" ./print.cloud "$D/cube.scad" --copies=2 --timeout=120 2>&1)
expect_eq "print.cloud cube.scad --copies=2: exit 0" 0 $?
expect_contains "... both copies complete" "$out" "complete: 2 copies"
T8=$(printf '%s\n' "$out" | grep -oE '[0-9]{10}-[0-9]+-[0-9]+' | head -1)
expect_eq "... a .scad job, its STL from the render cache" "in0.scad ready $STL" \
    "$(api GET "/jobs/$(api GET "/tasks/$T8" | jq -r '.job // empty')" | jq -r '"\(.model.filename) \(.render.state) \(.render.sha256)"')"

# --- the web page: a form that sends a model job, a view of its slices -----------------
curl -s -m 10 -o "$T/index.html" "$BASE/www/index.html"
# the page's scripts, in index.html's order (test_status.sh checks it)
scripts=$(sed -n 's|^<script src="/www/\([a-z]*\.js\)" defer></script>$|\1|p' "$T/index.html")
expect_contains "page: the print form's script" "$(echo $scripts)" "fleet.js"
for s in $scripts; do
    expect_eq "page: /www/$s served" 200 \
        "$(curl -s -m 10 -o "$T/$s" -w '%{http_code}' "$BASE/www/$s")"
done
for id in job-file job-queue job-copies job-material job-profile job-overrides; do
    expect_contains "page: a labelled $id" "$(cat "$T/index.html")" "<label for=\"$id\">"
done
expect_contains "page: the file may be a .scad" "$(grep -A1 'id="job-file"' "$T/index.html")" ".scad"
expect_contains "page: the job's slices table" "$(cat "$T/index.html")" 'id="slices-table"'
for k in j.slices excluded_profiles j.render; do
    expect_contains "page script shows $k" "$(cat "$T/fleet.js")" "$k"
done
if command -v node >/dev/null; then
    # the fields the page sends for a .scad with copies, material, an override
    printf 'size = 8;\ncube([size, size, 3]);\n' >"$T/tile.scad"
    cat >"$T/fields.js" <<'JS'
global.window = {};
global.document = { readyState: 'loading', addEventListener: function () {} };
process.argv.slice(2).forEach(function (f) { require(f); });
var r = window.rrcloud.fleet.jobFields({ fileName: 'tile.scad', queue: 'default',
    copies: '2', material: 'PLA', profile: 'mk3s',
    overrides: 'layer_height=0.15\n', defines: 'size=12' });
console.log(r.url);
r.fields.forEach(function (f) { console.log(f[0] + '=' + (f[1] === null ? '@FILE' : f[1])); });
JS
    # all the page's scripts, in order, as a browser loads them
    set --
    for s in $scripts; do set -- "$@" "$T/$s"; done
    node "$T/fields.js" "$@" >"$T/fields.out" 2>&1
    expect_eq "page: the request it builds" \
        "/api/v1/queues/default/jobs copies=2 material=PLA profile=mk3s override.layer_height=0.15 define.size=12 model=@FILE" \
        "$(tr '\n' ' ' <"$T/fields.out" | sed 's/ $//')"
    set --
    while IFS= read -r f; do
        case $f in /*) ;; *=@FILE) set -- "$@" -F "${f%=@FILE}=@$T/tile.scad" ;;
                   *) set -- "$@" -F "$f" ;; esac
    done <"$T/fields.out"
    expect_eq "page: the server takes it: 201" 201 \
        "$(code POST "$(head -1 "$T/fields.out")" -H "$AH" "$@")"
    J7=$(body | jq -r .id)
    until_ok 120 job_done "$J7" || fail "job $J7 did not end"
    expect_eq "... rendered with its variable, sliced for mk3s with the override, 2 copies printed" \
        'complete ready {"size":"12"} mk3s:ready {"layer_height":"0.15"} 2' \
        "$(api GET "/jobs/$J7" | jq -c -r '"\(.state) \(.render.state) \(.render.defines | tojson) \([.slices[] | "\(.profile):\(.state)"] | join(" ")) \(.overrides | tojson) \(.copies_by_state.complete)"')"
fi

# --- renders and slices shared fleet_slice_concurrency (1) ---------------------------
api GET "/tasks?limit=1000" >"$T/tasks.json"
expect_eq "renders and slices never overlapped" "" \
    "$(jq -r '[.tasks[] | select(.client == "rrcloudd-slicer")] | sort_by(.started) | . as $t | range(1; length) | select($t[.].started < $t[. - 1].ended) | $t[.].id' "$T/tasks.json")"
check "... of several renders" [ "$(jq '[.tasks[] | select(.client == "rrcloudd-slicer" and .service == "openscad")] | length' "$T/tasks.json")" -ge 5 ]

# --- a job cancelled mid-render: its render task is cancelled too ---------------------
# four unioned spheres: seconds of CGAL, long enough to act in
printf 'for (i = [0:3]) translate([i * 2, 0, 0]) sphere(3, $fn = 40);\n' \
    >"$T/beads.scad"
expect_eq "a .scad that takes its time to render: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/beads.scad" \
       -F profile=mk3s)"
J9=$(body | jq -r .id)
rendering() { [ "$(api GET "/jobs/$J9" | jq -r .render.state)" = rendering ] &&
              R9=$(api GET "/jobs/$J9" | jq -r .render.task) &&
              [ "$(api GET "/tasks/$R9" | jq -r .status)" = busy ]; }
until_ok 60 rendering || fail "job $J9 never started rendering"
api POST "/jobs/$J9/cancel" -H "$J" -d '{"reason":"changed my mind"}' >/dev/null
task_over() { [ "$(api GET "/tasks/$R9" | jq -r .status)" = cancelled ]; }
until_ok 30 task_over || fail "render task $R9 went on after its job was cancelled"
expect_eq "... the job cancelled, and its render with it" \
    "cancelled cancelled cancelled" \
    "$(api GET "/jobs/$J9" | jq -r '"\(.state) \(.render.state)"') $(api GET "/tasks/$R9" | jq -r .status)"

# --- a twin waits for the render: cancelling the job that started it keeps it --------
# (a source of its own: the sections below want beads.scad not cached)
printf 'for (i = [0:4]) translate([i * 2, 0, 0]) sphere(3, $fn = 40);\n' \
    >"$T/beads5.scad"
for n in 10 11; do
    expect_eq "a slow .scad, job $n of two the same: 201" 201 \
        "$(code POST /api/v1/queues/default/jobs -H "$AH" \
           -F "model=@$T/beads5.scad" -F profile=mk3s)"
    eval "J$n=\$(body | jq -r .id)"
done
renders_by() { # JOB TASK: the job's render is task TASK, busy
    [ "$(api GET "/jobs/$1" | jq -r '"\(.render.state) \(.render.task)"')" = \
      "rendering $2" ] && [ "$(api GET "/tasks/$2" | jq -r .status)" = busy ]; }
first_renders() { R10=$(api GET "/jobs/$J10" | jq -r .render.task) &&
                  [ -n "$R10" ] && [ "$R10" != null ] && renders_by "$J10" "$R10"; }
until_ok 60 first_renders || fail "job $J10 never started rendering"
until_ok 30 renders_by "$J11" "$R10" ||
    fail "job $J11 does not wait for the render task $R10 of its twin"
api POST "/jobs/$J10/cancel" -H "$J" -d '{"reason":"changed my mind"}' >/dev/null
twin_rendered() { [ "$(api GET "/jobs/$J11" | jq -r .render.state)" = ready ]; }
until_ok 120 twin_rendered || fail "job $J11 was not rendered"
expect_eq "... cancelling $J10 did not cancel the render $J11 waited for" \
    "complete $R10 cancelled" \
    "$(api GET "/tasks/$R10" | jq -r .status) $(api GET "/jobs/$J11" | jq -r .render.task) $(api GET "/jobs/$J10" | jq -r .state)"
api POST "/jobs/$J11/cancel" -H "$J" -d '{"reason":"seen enough"}' >/dev/null

# --- kill -9 of rrcloudd mid-render, then its restart ------------------------------------
expect_eq "the same slow .scad again: 201" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$AH" -F "model=@$T/beads.scad" \
       -F profile=mk3s)"
J9=$(body | jq -r .id)
rendering() { [ "$(api GET "/jobs/$J9" | jq -r .render.state)" = rendering ] &&
              R9=$(api GET "/jobs/$J9" | jq -r .render.task) &&
              [ "$(api GET "/tasks/$R9" | jq -r .status)" = busy ]; }
until_ok 60 rendering || fail "job $J9 never started rendering"
rrcloudd_stop KILL || fail "rrcloudd did not die"
rrcloudd_start
until_ok 180 job_done "$J9" || fail "job $J9 did not end after the restart"
api GET "/jobs/$J9" >"$T/j9.json"
expect_eq "after the restart the render ended, the slice too, and it printed" \
    "complete ready $R9 mk3s:ready" \
    "$(jq -r '"\(.state) \(.render.state) \(.render.task) \([.slices[] | "\(.profile):\(.state)"] | join(" "))"' "$T/j9.json")"
expect_eq "... its render task ran again to completion" complete \
    "$(api GET "/tasks/$R9" | jq -r .status)"
