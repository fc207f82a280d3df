#!/bin/sh
# services_real.sh - every shipped service against the real Debian program:
# openscad, slic3r, prusa-slicer, CuraEngine, printcore (through a socat pty
# pair to tests/integration/fw_responder), plus echo.  Each task is run by
# svc_exec exactly as the conf says (argv, PATH, rlimits, task directory).
#
# Environment: top_srcdir or srcdir (default .), SVC_EXEC and FW_RESPONDER
# (built helpers, default $builddir/tests/integration/...).  Exit 77 (skip) when a
# program is missing, so "make check" passes on machines without slicers.
set -u
srcdir=${top_srcdir:-${srcdir:-.}}
SVC_EXEC=${SVC_EXEC:-${builddir:-.}/tests/integration/svc_exec}
FW_RESPONDER=${FW_RESPONDER:-${builddir:-.}/tests/integration/fw_responder}
SERVICES="$srcdir/services"
DATA="$srcdir/tests/data"

for p in openscad slic3r prusa-slicer CuraEngine printcore socat; do
    command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done

WORK=$(mktemp -d /tmp/rrcloud-services.XXXXXX) || exit 1
SOCAT_PID=
FW_PID=
cleanup() {
    [ -n "$FW_PID" ] && kill "$FW_PID" 2>/dev/null
    [ -n "$SOCAT_PID" ] && kill "$SOCAT_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail=0

# run NAME CHECK_GREP svc_exec-args...: one task in its own directory
run() {
    name=$1; want=$2; shift 2
    dir="$WORK/$name"
    mkdir -p "$dir"
    if out=$("$SVC_EXEC" -d "${SVCDIR:-$SERVICES}" -s "$name" -t "$dir" "$@" 2>&1); then
        file=$(echo "$out" | sed -n 's/^ok [0-9.]* //p')
        secs=$(echo "$out" | sed -n 's/^ok \([0-9.]*\) .*/\1/p')
        if [ "$file" != "-" ] && ! grep -q "$want" "$file"; then
            echo "FAIL $name: output lacks '$want'"; fail=1; return
        fi
        echo "ok   $name (${secs}s): $(echo "$out" | sed -n 's/^cmd: //p')"
    else
        echo "FAIL $name: $out"; sed 's/^/    log: /' "$dir/log" 2>/dev/null | tail -5
        fail=1
    fi
}

run echo "G28" -i "$DATA/small.gcode"
run openscad "facet normal" -i "$DATA/cube.scad"
run slic3r "^G1 " -a --layer-height=0.3 -a --fill-density=15% \
    -P --load= -i "$DATA/slicer.ini" -i "$DATA/cube.stl"
run prusa-slicer "^G1 " -a --layer-height=0.3 \
    -P --load= -i "$DATA/slicer.ini" -i "$DATA/cube_bin.stl"
run prusa-slicer "^G1 " -i "$DATA/cube.3mf"
run curaengine "^G1 " -a layer_height=0.3 -a adhesion_type=brim -i "$DATA/cube.stl"

# printrun: printcore talks to a pty whose other end is our fake firmware.
# The shipped conf only allows /dev/ttyUSB* and /dev/ttyACM*; this run uses
# a copy that allows the pty link in $WORK instead.
socat pty,raw,echo=0,link="$WORK/ttyFAKE" pty,raw,echo=0,link="$WORK/ttyFW" \
    2>"$WORK/socat.log" &
SOCAT_PID=$!
i=0
while [ ! -e "$WORK/ttyFW" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$FW_RESPONDER" -o "$WORK/received.txt" -t 60 "$WORK/ttyFW" 2>"$WORK/fw.log" &
FW_PID=$!
mkdir -p "$WORK/svc"
sed -e "s#^options = .*#options = $WORK/ttyFAKE#" -e "s#^requireOption = .*#requireOption = $WORK/ttyFAKE#" "$SERVICES/printrun.conf" >"$WORK/svc/printrun.conf"
SVCDIR="$WORK/svc" run printrun "" -a "$WORK/ttyFAKE" -i "$DATA/small.gcode"
sed 's/;.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$DATA/small.gcode" | grep . >"$WORK/sent.txt"
grep -v -E '^M1(05|10)' "$WORK/received.txt" >"$WORK/got.txt" 2>/dev/null
if cmp -s "$WORK/sent.txt" "$WORK/got.txt"; then
    echo "ok   printrun: firmware received all $(wc -l <"$WORK/sent.txt") G-code lines"
else
    echo "FAIL printrun: firmware received $(wc -l <"$WORK/got.txt") of $(wc -l <"$WORK/sent.txt") lines"
    fail=1
fi
exit $fail
