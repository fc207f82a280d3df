#!/bin/sh
# test_services_http.sh - every shipped command service end to end through
# nginx with curl and the real Debian program: echo, openscad, slic3r,
# prusa-slicer, curaengine, and printrun (printcore) against a socat
# pseudo-terminal with tests/integration/fw_responder as the firmware.
# Each: a synchronous submission answers complete, info says complete, the
# result and the log download.  A service whose program is missing is
# skipped alone (and counted); if all are, the test is skipped (77).
# (service=print is a fleet job, not a command: see the fleet tests.)
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
D=$SRCDIR/tests/data
FW=$builddir/tests/integration/fw_responder

skipped=""
ran=0
have() { # service program...: 0 if every program is there, else counts a skip
    svc=$1; shift
    for p in "$@"; do
        if ! command -v "$p" >/dev/null 2>&1 && [ ! -x "$p" ]; then
            echo "SKIP: service $svc: $p not installed"
            skipped="$skipped $svc"
            return 1
        fi
    done
    ran=$((ran + 1))
    return 0
}

# printrun needs a serial device the shipped conf allows (/dev/ttyUSB*):
# as root, socat's pty link goes right there, so the shipped printrun.conf
# is tested unchanged.  Otherwise a copy of the services directory whose
# printrun.conf allows the link in $T instead.
TTY=""
if have printrun printcore socat "$FW"; then
    if [ "$(id -u)" = 0 ] && [ -w /dev ]; then
        TTY=/dev/ttyUSBrrtest$$
    else
        TTY=$T/ttyUSBfake
        mkdir -p "$T/services"
        cp -r "$SRCDIR"/services/* "$T/services/"
        sed -e "s#^options = .*#options = $TTY, --baud=*#" -e "s#^requireOption = .*#requireOption = $TTY#" \
            -e "s#^sandboxDevice = .*#sandboxDevice = $TTY#" \
            "$SRCDIR/services/printrun.conf" \
            >"$T/services/printrun.conf"
        STACK_SERVICES_DIR=$T/services
        export STACK_SERVICES_DIR
        echo "note: not root: printrun uses a copy of printrun.conf allowing $TTY"
    fi
fi
cleanup_tty() {
    case $TTY in /dev/ttyUSBrrtest*) rm -f "$TTY" ;; esac
}

failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

# run_service NAME WANT_RESULT_TEST curl-args...: one synchronous task.
# WANT is a shell function applied to the downloaded result (or "none").
run_service() {
    name=$1; want=$2; shift 2
    out=$(curl -s -m 120 -F "service=$name" "$@" "$BASE/")
    id=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
    expect_contains "$name: sync submission answers complete" "$out" "state: complete"
    if [ -z "$id" ]; then
        fail "$name: no id in: $(printf '%s' "$out" | head -c 400)"
        return 1
    fi
    info=$(curl -s "$BASE/?service=info&id=$id")
    expect_contains "$name: info says complete" "$info" "status: complete"
    expect_contains "$name: exit code 0" "$info" "exitCode: 0"
    json=$(curl -s "$BASE/api/v1/tasks/$id")
    expect_contains "$name: JSON API says complete" "$json" '"status":"complete"'
    code=$(curl -s -o "$T/$name.log" -w '%{http_code}' "$BASE/tasks/log/$id")
    expect_eq "$name: log downloads" 200 "$code"
    if [ "$want" = none ]; then
        expect_not_contains "$name: no result for a noOutput service" "$info" "out: "
        return 0
    fi
    rel=$(printf '%s\n' "$info" | sed -n 's/^out: //p')
    check "$name: info names the result" [ -n "$rel" ]
    code=$(curl -s -o "$T/$name.out" -w '%{http_code}' "$BASE/$rel")
    expect_eq "$name: result downloads" 200 "$code"
    size=$(printf '%s\n' "$info" | sed -n 's/^sizeOut: //p')
    expect_eq "$name: downloaded size is sizeOut" "$size" "$(wc -c <"$T/$name.out" | tr -d ' ')"
    check "$name: result is right" "$want" "$T/$name.out"
}

is_stl() { # ASCII ("solid") or binary (84 + 50 x triangles bytes)
    if head -c 5 "$1" | grep -q '^solid'; then
        grep -q 'facet normal' "$1"
        return
    fi
    n=$(od -An -tu4 -j80 -N4 "$1" | tr -d ' ')
    [ "$(wc -c <"$1")" -eq $((84 + 50 * n)) ] && [ "$n" -gt 0 ]
}
is_gcode() { grep -q '^G1 ' "$1"; }
is_text() { [ "$(cat "$1")" = "$(cat "$D/small.gcode")" ]; }

# --- echo -------------------------------------------------------------------------
run_service echo is_text -F "fileIn0=@$D/small.gcode"

# --- openscad: .scad -> STL ----------------------------------------------------
if have openscad openscad; then
    run_service openscad is_stl -F "fileIn0=@$D/cube.scad"
    run_service openscad is_stl -F "fileIn0=@$D/cube.scad" -F arg0=-Dsize=12
fi

# --- slic3r: --load=config + model -> G-code -----------------------------------
if have slic3r slic3r; then
    run_service slic3r is_gcode -F prearg0=--load= -F "fileIn0=@$D/slicer.ini" \
        -F "fileIn1=@$D/cube.stl" -F arg0=--layer-height=0.3
    check "slic3r: option reached the slicer" grep -q '^; layer_height = 0.3' "$T/slic3r.out"
fi

# --- prusa-slicer --------------------------------------------------------------------
if have prusa-slicer prusa-slicer; then
    run_service prusa-slicer is_gcode -F prearg0=--load= -F "fileIn0=@$D/slicer.ini" \
        -F "fileIn1=@$D/cube_bin.stl" -F arg0=--layer-height=0.3
    run_service prusa-slicer is_gcode -F "fileIn0=@$D/cube.3mf"
    # cube.3mf plus a thumbnail (as PrusaSlicer writes one): five entries
    # make libmagic say "Microsoft OOXML" (application/octet-stream).  It is
    # still a 3MF, by its zip directory.
    python3 -c 'import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        z.writestr(n, src.read(n))
    z.writestr("Metadata/thumbnail.png", b"")' "$D/cube.3mf" "$T/ooxml.3mf"
    command -v file >/dev/null && check "prusa-slicer: libmagic does not call ooxml.3mf a zip" \
        sh -c '[ "$(file -b --mime-type "$1")" != application/zip ]' sh "$T/ooxml.3mf"
    run_service prusa-slicer is_gcode -F "fileIn0=@$T/ooxml.3mf"
fi

# --- curaengine: settings go after -s -----------------------------------------------
if have curaengine CuraEngine; then
    run_service curaengine is_gcode -F "fileIn0=@$D/cube.stl" \
        -F arg0=layer_height=0.3 -F arg1=adhesion_type=brim
    expect_contains "curaengine: the command carries -s settings" "$out" "-s layer_height=0.3"
fi

# --- printrun: printcore -> pty -> fw_responder ------------------------------------------
if [ -n "$TTY" ]; then
    # No port given: refused at once, naming the field it goes in.
    code=$(curl -s -o "$T/noport.txt" -w '%{http_code}' -F service=printrun \
        -F "fileIn0=@$D/small.gcode" -F arg0=--baud=250000 "$BASE/")
    expect_eq "printrun: no port: 400" 400 "$code"
    expect_contains "printrun: no port: names the field" "$(cat "$T/noport.txt")" \
        "arg1: service printrun needs an option matching"
    # Nothing at the port yet: printcore exits 0, but the task printed
    # nothing and says why.
    out=$(curl -s -m 60 -F service=printrun -F "fileIn0=@$D/small.gcode" \
        -F "arg0=$TTY" "$BASE/")
    expect_contains "printrun: missing port: failed" "$out" "state: failed"
    expect_contains "printrun: missing port: exit code 0" "$out" "exitCode: 0"
    expect_contains "printrun: missing port: the reason is printcore's" "$out" \
        "error: log: Could not connect to $TTY at baudrate"
    # As root, the pty is what a USB serial adapter is: root:dialout 0660
    # (the sandbox user reaches it through the device's group).
    perm=""
    [ "$(id -u)" = 0 ] && getent group dialout >/dev/null && perm=",perm=0660,group=dialout"
    socat "pty,raw,echo=0,link=$TTY$perm" "pty,raw,echo=0,link=$T/ttyFW" 2>"$T/socat.log" &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    i=0
    while { [ ! -e "$T/ttyFW" ] || [ ! -e "$TTY" ]; } && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    "$FW" -o "$T/received.txt" -t 60 "$T/ttyFW" 2>"$T/fw.log" &
    EXTRA_PIDS="$EXTRA_PIDS $!"
    run_service printrun none -F "fileIn0=@$D/small.gcode" -F "arg0=$TTY"
    sed 's/;.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$D/small.gcode" | grep . >"$T/sent.txt"
    # printcore adds its own M105/M110 around the file.
    grep -v -E '^M1(05|10)' "$T/received.txt" >"$T/got.txt" 2>/dev/null
    expect_eq "printrun: firmware received every G-code line" \
        "$(cat "$T/sent.txt")" "$(cat "$T/got.txt")"
    expect_contains "printrun: log shows printcore's progress" "$(cat "$T/printrun.log")" "Progress"
    cleanup_tty
fi
cleanup_tty

if [ -n "$skipped" ]; then
    echo "skipped services (program missing):$skipped"
fi
if [ "$ran" = 0 ]; then
    stack_stop
    skip "no service program installed"
fi
echo "services run: $((ran + 1)) (echo included), skipped: $(echo $skipped | wc -w | tr -d ' ')"
