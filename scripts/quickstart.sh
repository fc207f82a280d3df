#!/bin/sh
# quickstart.sh - from a fresh Debian 12 machine to a running rrcloud on
# http://127.0.0.1:4468/ : installs missing packages, builds, starts nginx ->
# rrcloud-fcgi -> SQLite + spool <- rrcloudd, and (when no printers are
# configured) a simulated fleet of Moonraker printers it enrolls itself.
# Everything it makes is under run/ (or /var/lib/rrcloud-quickstart when
# the clone is in a directory closed to others): the stack's data and logs, the client
# (run/bin/rrcloud and its *.cloud links) and run/rrcloudrc naming this
# server, which the client reads from the current directory (so the
# commands it suggests run from run/).
# Stays in the foreground; Ctrl-C stops everything.
#
#   scripts/quickstart.sh [PORT]       (run as root for the package install)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PORT=${1:-4468}
RUN=${RRCLOUD_RUN:-$top/run}
BUILD=$top/build/quick
# As root, rrcloudd runs task commands as its sandbox user (nobody), who
# must pass through the stack's directory to each task's: a clone in a
# private directory (under /root) keeps its stack in /var/lib instead.
if [ -z "${RRCLOUD_RUN:-}" ] && [ "$(id -u)" = 0 ] &&
   command -v setpriv >/dev/null 2>&1 &&
   ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$top"; then
    RUN=/var/lib/rrcloud-quickstart
    echo "quickstart: $top is closed to the sandbox user nobody: the stack" \
         "lives in $RUN"
fi

"$top/scripts/deps.sh"

if [ ! -x "$BUILD/rrcloud-fcgi" ] || [ -n "$(find "$top/src" -newer "$BUILD/rrcloud-fcgi" -name '*.[ch]' | head -n 1)" ]; then
    echo "quickstart: building in $BUILD"
    (cd "$top" && autoreconf -fi >/dev/null 2>&1)
    mkdir -p "$BUILD"
    (cd "$BUILD" && "$top/configure" -q && make -s -j"$(nproc)")
fi

mkdir -p "$RUN"
export BUILDDIR="$BUILD" SRCDIR="$top"
# Tokens for the fleet API, made once per run directory.
for t in admin enroll; do
    [ -s "$RUN/$t.token" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$RUN/$t.token"
done
# The client in run/bin and run/rrcloudrc (with the admin token).
"$top/scripts/stack.sh" client "$RUN" "$PORT"
# rrcloud's defaults: notifiers may not reach loopback or private hosts
# (add "notifier_allow = 192.168.1.0/24" to RRCLOUD_CONF_EXTRA for a LAN
# receiver).  The demo's simulated printers live on 127.0.0.1, so their
# share URLs are allowed there.
STACK_ALLOW_LOCAL=0
STACK_CONF_EXTRA="admin_token = $(cat "$RUN/admin.token")
enroll_token = $(cat "$RUN/enroll.token")"
if [ "${RRCLOUD_PRINTERS:-}" != 0 ]; then
    STACK_CONF_EXTRA="$STACK_CONF_EXTRA
fleet_share_allow = 127.0.0.1/32
fleet_share_patterns = http://127.0.0.1:*/p/*"
fi
STACK_CONF_EXTRA="$STACK_CONF_EXTRA${RRCLOUD_CONF_EXTRA:+
$RRCLOUD_CONF_EXTRA}"
export STACK_CONF_EXTRA STACK_ALLOW_LOCAL
"$top/scripts/stack.sh" stop "$RUN" >/dev/null 2>&1 || true
# shellcheck disable=SC2064
trap "\"$top/scripts/stack.sh\" stop \"$RUN\"; echo; echo 'rrcloud stopped.'" EXIT INT TERM
"$top/scripts/stack.sh" start "$RUN" "$PORT" nginx
# No printers configured (RRCLOUD_PRINTERS=0 turns the demo off): simulate.
if [ "${RRCLOUD_PRINTERS:-}" != 0 ]; then
    "$top/scripts/demo-fleet.sh" "$RUN" "$PORT" ||
        echo "quickstart: the demo fleet did not start (see $RUN/log)"
fi

B="http://127.0.0.1:$PORT"
D=$top/tests/data
cat <<EOT

rrcloud is running on $B/   (logs: $RUN/log/, data: $RUN/)

Try it with curl:
  curl -F service=openscad -F fileIn0=@$D/cube.scad $B/
  curl "$B/?service=info&format=json"
  curl "$B/?service=meta"

Try it with the client (run/rrcloudrc names this server; results land in run/):
  cd $RUN
  bin/openscad.cloud $D/cube.scad -ocube.stl -Dsize=20
  bin/slic3r.cloud cube.stl --output=cube.gcode --layer-height=0.3
  bin/prusa-slicer.cloud $D/cube.3mf --output=cube-prusa.gcode
  bin/curaengine.cloud cube.stl -o cube-cura.gcode layer_height=0.2
  bin/rrcloud info

Print on the simulated fleet (queue "default", pla and petg printers):
  bin/print.cloud $D/small.gcode --queue=default --copies=2 --material=pla
  bin/rrcloud printers
  curl -H "Authorization: Bearer \$(cat $RUN/admin.token)" -F service=print -F fileIn0=@$D/small.gcode -F copies=4 -F material=pla -F async=1 $B/
  curl -H "Authorization: Bearer \$(cat $RUN/admin.token)" $B/api/v1/printers
  curl -H "Authorization: Bearer \$(cat $RUN/admin.token)" $B/metrics
  bin/rrcloud key create --role=user --name=me    (users and keys: README "Security")
  open $B/ in a browser (Fleet tab: paste the admin token)

Press Ctrl-C to stop.
EOT
# Stay in the foreground while the stack runs.
while kill -0 "$(cat "$RUN/web.pid")" 2>/dev/null; do sleep 2; done
