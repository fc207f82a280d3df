#!/bin/sh
# quickstart.sh - from a fresh Debian 12 machine to a running rrcloud on
# http://127.0.0.1:4468/ : installs missing packages, builds, starts nginx ->
# rrcloud-fcgi -> SQLite + spool <- rrcloudd, and (when no printers are
# configured) a simulated fleet of Moonraker printers it enrolls itself.
# Stays in the foreground; Ctrl-C stops everything.
#
#   scripts/quickstart.sh [PORT]       (run as root for the package install)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PORT=${1:-4468}
RUN=${RRCLOUD_RUN:-$top/run}
BUILD=$top/build/quick

"$top/scripts/deps.sh"

if [ ! -x "$BUILD/rrcloud-fcgi" ] || [ -n "$(find "$top/src" -newer "$BUILD/rrcloud-fcgi" -name '*.[ch]' | head -n 1)" ]; then
    echo "quickstart: building in $BUILD"
    (cd "$top" && autoreconf -fi >/dev/null 2>&1)
    mkdir -p "$BUILD"
    (cd "$BUILD" && "$top/configure" -q && make -s -j"$(nproc)")
fi

mkdir -p "$RUN"
export BUILDDIR="$BUILD" SRCDIR="$top"
"$top/scripts/stack.sh" stop "$RUN" >/dev/null 2>&1 || true
# shellcheck disable=SC2064
trap "\"$top/scripts/stack.sh\" stop \"$RUN\"; echo; echo 'rrcloud stopped.'" EXIT INT TERM
"$top/scripts/stack.sh" start "$RUN" "$PORT" nginx
if [ -x "$top/scripts/demo-fleet.sh" ]; then
    "$top/scripts/demo-fleet.sh" "$RUN" "$PORT" || echo "quickstart: the demo fleet did not start (see $RUN/log)"
fi

B="http://127.0.0.1:$PORT"
cat <<EOT

rrcloud is running on $B/   (logs: $RUN/log/, data: $RUN/)

Try it:
  curl -F service=openscad -F fileIn0=@$top/tests/data/cube.scad $B/
  curl "$B/?service=info&format=json"
  curl "$B/?service=meta"
  $BUILD/rrcloud --s=127.0.0.1:$PORT slic3r $top/tests/data/cube.stl --output=/tmp/cube.gcode
  open $B/ in a browser

Press Ctrl-C to stop.
EOT
# Stay in the foreground while the stack runs.
while kill -0 "$(cat "$RUN/web.pid")" 2>/dev/null; do sleep 2; done
