#!/bin/sh
# test_profiles.sh - printer profiles (profiles/ beside services/): the
# API and the CLI list the shipped ones to a key that may print, and
# refuse others; a printer naming an unknown profile is 400 naming the
# field; and every shipped profile, for every material it lists, is
# sliced by its real slicer through the relay with its own config files
# and an override mapped through its allowlist, the G-code naming the
# profile's bed, nozzle, material and the override's value.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
RR=${RRCLOUD:-$builddir/rrcloud}
[ -x "$RR" ] || skip "$RR not built"

ADMIN=adm-profiles-test-0123456789abcdef0123456789
ENROLL=enr-profiles-test-0123456789abcdef0123456789
# No profiles_dir: the shipped profiles beside services_dir are used.
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL"
export STACK_CONF_EXTRA
stack_start nginx
P="$top_srcdir/profiles"
D="$top_srcdir/tests/data"

code() { # METHOD PATH [curl args...]: the status only (body in $T/body)
    m=$1; p=$2; shift 2
    curl -s -m 10 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p"
}
bearer() { echo "Authorization: Bearer $1"; }
J='Content-Type: application/json'
USER=$(curl -s -m 10 -H "$(bearer "$ADMIN")" -H "$J" \
       -d '{"name":"maker"}' "$BASE/api/v1/users" >/dev/null &&
       curl -s -m 10 -H "$(bearer "$ADMIN")" -H "$J" \
       -d '{"role":"user","name":"maker-key","user":"maker"}' \
       "$BASE/api/v1/keys" | jq -r '.key // empty')
check "a user key made" [ -n "$USER" ]

# ---- the API lists them, to keys that may print -----------------------------
expect_eq "a user key lists the profiles" 200 \
    "$(code GET /api/v1/profiles -H "$(bearer "$USER")")"
cp "$T/body" "$T/profiles.json"
expect_eq "the shipped profiles, in name order" "ender3 mk3s voron24-0.4" \
    "$(jq -r '[.profiles[].name] | join(" ")' "$T/profiles.json")"
expect_eq "mk3s: slicer, bed, height, nozzle" "prusa-slicer 250x210 210 0.4" \
    "$(jq -r '.profiles[1] | "\(.slicer) \(.bed.x)x\(.bed.y) \(.height) \(.nozzle)"' "$T/profiles.json")"
expect_eq "voron24-0.4: bed" "350x350 340" \
    "$(jq -r '.profiles[2] | "\(.bed.x)x\(.bed.y) \(.height)"' "$T/profiles.json")"
expect_eq "ender3: CuraEngine, its bed, height, nozzle" "curaengine 220x220 250 0.4" \
    "$(jq -r '.profiles[0] | "\(.slicer) \(.bed.x)x\(.bed.y) \(.height) \(.nozzle)"' "$T/profiles.json")"
expect_eq "materials and the default" "petg,pla pla" \
    "$(jq -r '.profiles[1] | "\(.materials | join(",")) \(.default_material)"' "$T/profiles.json")"
expect_eq "an override maps to the slicer's option" "--fill-density=\$value" \
    "$(jq -r '.profiles[1].overrides.infill' "$T/profiles.json")"
check "each has a SHA-256" [ "$(jq -r '[.profiles[].sha256 | length] | join(",")' "$T/profiles.json")" = "64,64,64" ]
expect_eq "one profile" 200 \
    "$(code GET /api/v1/profiles/voron24-0.4 -H "$(bearer "$USER")")"
expect_eq "... is the listed one" "$(jq -c '.profiles[2]' "$T/profiles.json")" \
    "$(jq -c . "$T/body")"
expect_eq "an unknown profile is 404" 404 \
    "$(code GET /api/v1/profiles/ender5 -H "$(bearer "$USER")")"
expect_contains "... naming the field" "$(body)" \
    '"field":"profile","message":"profile: no printer profile '"'ender5'"
expect_eq "profiles are read-only" 405 \
    "$(code POST /api/v1/profiles -H "$(bearer "$ADMIN")" -H "$J" -d '{}')"
expect_eq "anonymous: 401" 401 "$(code GET /api/v1/profiles)"
expect_eq "the enroll token may not read them: 403" 403 \
    "$(code GET /api/v1/profiles -H "$(bearer "$ENROLL")")"
expect_contains "... naming who may" "$(body)" "a key that may print"

# ---- printers name a shipped profile ------------------------------------------
expect_eq "a printer of an unknown profile is 400" 400 \
    "$(code POST /api/v1/printers -H "$(bearer "$ENROLL")" -H "$J" \
       -d '{"name":"e3","region":"eu","profile":"ender5"}')"
expect_contains "... naming the field and the profiles" "$(body)" \
    '"field":"profile","message":"profile: no printer profile '"'ender5'"' (profiles: ender3, mk3s, voron24-0.4)"'
expect_eq "... and none was made" 0 \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/printers" | jq '.printers | length')"
expect_eq "a printer of profile MK3S (lowercased) enrolls" 201 \
    "$(code POST /api/v1/printers -H "$(bearer "$ENROLL")" -H "$J" \
       -d '{"name":"m1","region":"eu","profile":"MK3S","material":"petg"}')"
ID=$(body | jq -r .id)
expect_eq "... as mk3s" mk3s \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/printers/$ID" | jq -r .profile)"
expect_eq "changing it to an unknown profile is 400" 400 \
    "$(code PATCH /api/v1/printers/$ID -H "$(bearer "$ADMIN")" -H "$J" \
       -d '{"profile":"voron"}')"
expect_contains "... naming the field" "$(body)" '"field":"profile"'
expect_eq "... and to the other profile is fine" 200 \
    "$(code PATCH /api/v1/printers/$ID -H "$(bearer "$ADMIN")" -H "$J" \
       -d '{"profile":"voron24-0.4"}')"
expect_eq "... now voron24-0.4" voron24-0.4 "$(body | jq -r .profile)"

# ---- jobs are for a shipped profile (or any) ----------------------------------------
G="$D/small.gcode"
expect_eq "a job with a file for an unknown profile is 400" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$USER")" \
       -F "file_ender5=@$G")"
expect_contains "... naming the field" "$(body)" \
    '"field":"profile","message":"profile: no printer profile '"'ender5'"
expect_eq "... so is one through the JSON API" 400 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$USER")" -H "$J" \
       -d '{"files":[{"sha256":"'"$(sha256sum "$G" | cut -c1-64)"'","profile":"ender5"}]}')"
expect_contains "... naming the field" "$(body)" '"field":"profile"'
expect_eq "... and service=print with profile=ender5" 400 \
    "$(code POST / -H "$(bearer "$USER")" -F service=print -F format=json \
       -F "fileIn0=@$G" -F profile=ender5)"
expect_contains "... naming the field" "$(body)" \
    '"field":"profile","message":"profile: no printer profile '"'ender5'"
expect_eq "no job was made" 0 \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/jobs" | jq '.jobs | length')"
expect_eq "a job for a shipped profile a printer has is taken" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$USER")" \
       -F "file_voron24-0.4=@$G")"
expect_eq "... the one job" 1 \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/jobs" | jq '.jobs | length')"

# ---- the CLI lists them ---------------------------------------------------------
S="--s=127.0.0.1:$PORT"
out=$(HOME="$T" "$RR" "$S" --token="$USER" profiles 2>&1)
expect_eq "rrcloud profiles: exit 0" 0 $?
expect_contains "rrcloud profiles: a header" "$out" "PROFILE"
expect_contains "rrcloud profiles: mk3s, its slicer and bed" "$out" \
    "mk3s         prusa-slicer  250x210x210"
expect_contains "rrcloud profiles: voron24-0.4 and its bed" "$out" \
    "voron24-0.4  prusa-slicer  350x350x340"
expect_contains "rrcloud profiles: ender3, CuraEngine's" "$out" \
    "ender3       curaengine    220x220x250"
out=$(HOME="$T" "$RR" "$S" --token="$USER" profile mk3s 2>&1)
expect_eq "rrcloud profile mk3s: exit 0" 0 $?
expect_contains "rrcloud profile mk3s: its config" "$out" "config: mk3s.ini"
out=$(HOME="$T" "$RR" "$S" --token="$USER" profile ender5 2>&1)
check "rrcloud profile ender5 fails" [ $? -ne 0 ]
expect_contains "... saying why" "$out" "no printer profile 'ender5'"
out=$(HOME="$T" "$RR" "$S" --token="$ENROLL" profiles 2>&1)
check "rrcloud profiles with the enroll token fails" [ $? -ne 0 ]
expect_contains "... saying who may" "$out" "a key that may print"

# ---- every shipped profile, sliced for real through the relay ---------------------
# The relay's slicer service takes the profile's config and then the
# material's with its argInput (prearg --load= for PrusaSlicer, -j for
# CuraEngine), the model last, and the job's override as the option the
# profile maps it to.  (Slicing on demand submits exactly this.)
# PrusaSlicer writes its settings as "; key = value" comments at the end;
# CuraEngine writes none, so the ender3 profile's start G-code and its
# material's extruder start code name them in the same form, and the
# extrusions of its layers must be centred on that bed (its header's
# ;MINX.. are placeholders when CuraEngine runs without Cura).
# slice PROFILE MATERIAL: checks the G-code names bed, nozzle, material.
slice() {
    prof=$1; mat=$2
    jq -e --arg p "$prof" '.profiles[] | select(.name == $p)' \
        "$T/profiles.json" >"$T/p.json" || { fail "$prof: not listed"; return; }
    svc=$(jq -r .slicer "$T/p.json")
    prog=$svc; [ "$svc" = curaengine ] && prog=CuraEngine
    command -v "$prog" >/dev/null || { echo "SKIP: $prog not installed"; return; }
    cfg=$(jq -r .config "$T/p.json")
    mfile=$(sed -n "s/^material\\.$mat *= *//p" "$P/$prof.conf")
    opt=$(jq -r '.overrides.layer_height' "$T/p.json" | sed 's/\$value/0.15/')
    pre=--load=; [ "$svc" = curaengine ] && pre=-j
    out=$(curl -s -m 120 -H "$(bearer "$USER")" -F "service=$svc" \
          -F "prearg0=$pre" -F "fileIn0=@$P/$cfg" \
          -F "prearg1=$pre" -F "fileIn1=@$P/$mfile" \
          -F "fileIn2=@$D/cube.stl" -F "arg0=$opt" "$BASE/")
    expect_contains "$prof/$mat: sliced" "$out" "state: complete"
    rel=$(printf '%s\n' "$out" | sed -n 's/^out: //p')
    [ -n "$rel" ] || rel=$(curl -s -H "$(bearer "$USER")" \
        "$BASE/?service=info&id=$(printf '%s\n' "$out" | sed -n 's/^id: //p')" |
        sed -n 's/^out: //p')
    curl -s -H "$(bearer "$USER")" -o "$T/$prof-$mat.gcode" "$BASE/$rel"
    g="$T/$prof-$mat.gcode"
    check "$prof/$mat: real G-code" grep -q '^G1 ' "$g"
    x=$(jq -r .bed.x "$T/p.json"); y=$(jq -r .bed.y "$T/p.json")
    expect_eq "$prof/$mat: the G-code names the profile's bed" \
        "; bed_shape = 0x0,${x}x0,${x}x${y},0x${y}" \
        "$(grep '^; bed_shape = ' "$g")"
    expect_eq "$prof/$mat: ... and its nozzle" \
        "; nozzle_diameter = $(jq -r .nozzle "$T/p.json")" \
        "$(grep '^; nozzle_diameter = ' "$g")"
    expect_eq "$prof/$mat: ... and the material" \
        "; filament_type = $(echo "$mat" | tr a-z A-Z)" \
        "$(grep '^; filament_type = ' "$g")"
    if [ "$svc" = curaengine ]; then
        expect_eq "$prof/$mat: ... and the override" ";Layer height: 0.15" \
            "$(grep '^;Layer height: ' "$g")"
        expect_eq "$prof/$mat: the print is centred on that bed" \
            "$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.0f %.0f", x / 2, y / 2 }')" \
            "$(awk '/^;LAYER:/ { on = 1 }
                    on && /^G1 / && / E/ { for (i = 2; i <= NF; i++) {
                        v = substr($i, 2) + 0
                        if ($i ~ /^X/) { if (!nx || v < a) a = v; if (!nx || v > b) b = v; nx = 1 }
                        if ($i ~ /^Y/) { if (!ny || v < c) c = v; if (!ny || v > d) d = v; ny = 1 } } }
                    END { printf "%.0f %.0f", (a + b) / 2, (c + d) / 2 }' "$g")"
        return
    fi
    expect_eq "$prof/$mat: ... and the override" "; layer_height = 0.15" \
        "$(grep '^; layer_height = ' "$g")"
}
n=0
for prof in $(jq -r '.profiles[].name' "$T/profiles.json"); do
    for mat in $(jq -r --arg p "$prof" \
                 '.profiles[] | select(.name == $p) | .materials[]' \
                 "$T/profiles.json"); do
        slice "$prof" "$mat"
        n=$((n + 1))
    done
done
expect_eq "every profile x material sliced" 6 "$n"

# ---- what the slicer says, on the job: rrcloudd reads the G-code's comments ----
g="$T/voron24-0.4-pla.gcode"   # a printer of this profile is enrolled
if [ -s "$g" ]; then
    jid=$(curl -s -H "$(bearer "$USER")" -F "file_voron24-0.4=@$g" \
          "$BASE/api/v1/queues/default/jobs" | jq -r '.id // empty')
    check "a job of voron24-0.4/PLA G-code" [ -n "$jid" ]
    meta_read() {
        curl -s -H "$(bearer "$USER")" "$BASE/api/v1/jobs/$jid" \
            >"$T/job.json"
        [ "$(jq -r '.files[0].slicer' "$T/job.json")" != null ]
    }
    i=0; while [ $i -lt 100 ] && ! meta_read; do sleep 0.1; i=$((i + 1)); done
    want_t=$(sed -n 's/^; estimated printing time (normal mode) = //p' "$g" |
             awk '{ s = 0; for (i = 1; i <= NF; i++) { v = $i + 0;
                    u = substr($i, length($i)); if (u == "d") v *= 86400;
                    else if (u == "h") v *= 3600; else if (u == "m") v *= 60;
                    s += v } print s }')
    expect_eq "the job shows the slicer's estimated time (s)" "$want_t" \
        "$(jq '.files[0].estimated_time' "$T/job.json")"
    num() { awk '{ printf "%.2f", $1 }'; }
    expect_eq "... the filament it uses (mm)" \
        "$(sed -n 's/^; filament used \[mm\] = //p' "$g" | num)" \
        "$(jq '.files[0].filament_mm' "$T/job.json" | num)"
    expect_eq "... and its weight (g), the material's density being set" \
        "$(sed -n 's/^; total filament used \[g\] = //p' "$g" | num)" \
        "$(jq '.files[0].filament_g' "$T/job.json" | num)"
    expect_contains "... and which slicer made it" \
        "$(jq -r '.files[0].slicer' "$T/job.json")" "PrusaSlicer"
    HOME=$T "$builddir/rrcloud" --s="127.0.0.1:$PORT" --token="$USER" \
        job "$jid" >"$T/job.txt" 2>&1
    expect_contains "rrcloud job says it too" "$(cat "$T/job.txt")" \
        "bytes; about $(sed -n 's/^; estimated printing time (normal mode) = //p' "$g" | sed 's/ 0*\([0-9]\)/ \1/g')"
fi

# ---- a model job for ender3: rrcloudd slices it with CuraEngine on demand -------
if command -v CuraEngine >/dev/null; then
    expect_eq "an ender3 printer enrolls" 201 \
        "$(code POST /api/v1/printers -H "$(bearer "$ENROLL")" -H "$J" \
           -d '{"name":"e1","region":"eu","profile":"ender3","queues":["default"]}')"
    expect_eq "a model job for ender3 only: 201" 201 \
        "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$USER")" \
           -F "model=@$D/cube.stl" -F profile=ender3 -F material=petg \
           -F override.layer_height=0.15 -F override.supports=yes)"
    mj=$(jq -r .id "$T/body")
    slice_ended() {
        curl -s -H "$(bearer "$USER")" "$BASE/api/v1/jobs/$mj" >"$T/mj.json"
        jq -e '.slices[0].state == "ready" or .slices[0].state == "excluded"' \
            "$T/mj.json" >/dev/null
    }
    i=0; while [ $i -lt 300 ] && ! slice_ended; do sleep 0.2; i=$((i + 1)); done
    expect_eq "rrcloudd sliced it with CuraEngine" "ender3 ready" \
        "$(jq -r '.slices[0] | "\(.profile) \(.state) \(.reason // "")"' "$T/mj.json" | sed 's/ $//')"
    f=$(find "$STACK" -path '*blobs*' -type f \
        -name "$(jq -r '.files[0].sha256' "$T/mj.json" | cut -c3-)")
    expect_eq "... its G-code names the bed, the material, the override" \
        ";Layer height: 0.15|; bed_shape = 0x0,220x0,220x220,0x220|; filament_type = PETG" \
        "$(grep -e '^; bed_shape' -e '^; filament_type' -e '^;Layer height' "$f" | paste -sd'|')"
    # the CLI sends a JSON settings file after -j as a config (prearg -j)
    HOME="$T" "$RR" "$S" --token="$USER" curaengine -j "$P/ender3.json" \
        -j "$P/ender3-pla.json" "$D/cube.stl" layer_height=0.3 \
        -o "$T/cli.gcode" >"$T/cli.out" 2>&1
    expect_eq "rrcloud curaengine -j ender3.json -j ender3-pla.json: exit 0" \
        0 $?
    expect_eq "... G-code for the ender3 bed in PLA" \
        ";Layer height: 0.3|; bed_shape = 0x0,220x0,220x220,0x220|; filament_type = PLA" \
        "$(grep -e '^; bed_shape' -e '^; filament_type' -e '^;Layer height' "$T/cli.gcode" | paste -sd'|')"
fi

# ---- rrcloud-fcgi refuses to start on a bad profile, naming file and key ------
FCGI=$builddir/rrcloud-fcgi
fcgi_start() { # profiles_dir line: rrcloud-fcgi's exit status, stderr in $T/err
    cat >"$T/bad.conf" <<EOC
spool_dir = $T/badspool
database = $T/bad.db
services_dir = $top_srcdir/services
$1
EOC
    timeout 10 "$FCGI" -c "$T/bad.conf" -s "$T/bad.sock" >"$T/err" 2>&1
}
mkdir -p "$T/badprof"
cp "$P/mk3s.ini" "$P/mk3s-pla.ini" "$P/mk3s-petg.ini" "$T/badprof/"
sed 's/^slicer = prusa-slicer/slicer = cura/' "$P/mk3s.conf" >"$T/badprof/mk3s.conf"
fcgi_start "profiles_dir = $T/badprof"
expect_eq "an unknown slicer stops rrcloud-fcgi" 1 $?
expect_contains "... naming the file and key" "$(cat "$T/err")" \
    "$T/badprof/mk3s.conf: slicer: no slicer service 'cura'"
sed 's/^override.brim = .*/override.brim = --brim-ears=$value/' "$P/mk3s.conf" \
    >"$T/badprof/mk3s.conf"
fcgi_start "profiles_dir = $T/badprof"
expect_eq "an override the slicer service does not allow stops it" 1 $?
expect_contains "... naming the file and key" "$(cat "$T/err")" \
    "mk3s.conf: override.brim: '--brim-ears=\$value' is not an option slicer prusa-slicer allows"
fcgi_start "profiles_dir = $T/nothere"
expect_eq "a profiles_dir that is not there stops it" 1 $?
expect_contains "... naming it" "$(cat "$T/err")" "$T/nothere: No such file"

# ---- services of one's own, no profiles beside them: none, any name goes ------
mkdir -p "$T/own/services"
cp "$top_srcdir/services/echo.conf" "$top_srcdir/services/print.conf" \
    "$T/own/services/"
stack_stop
STACK="$T/stack2"
STACK_SERVICES_DIR="$T/own/services" "$top_srcdir/scripts/stack.sh" start \
    "$STACK" "$PORT" nginx >/dev/null || { fail "second stack did not start"; exit 1; }
expect_eq "no profiles beside services_dir: an empty list" 0 \
    "$(curl -s -H "$(bearer "$USER")" "$BASE/api/v1/profiles" | jq '.profiles | length')"
expect_eq "... and a printer names any profile" 201 \
    "$(code POST /api/v1/printers -H "$(bearer "$ENROLL")" -H "$J" \
       -d '{"name":"e3","region":"eu","profile":"ender5"}')"
