#!/bin/sh
# deps.sh - installs the Debian 12 packages rrcloud builds, tests and runs
# with (only those missing).  Run as root.
set -eu

PKGS="build-essential autoconf automake pkg-config clang
libfcgi-dev libfcgi-bin libcurl4-openssl-dev libjansson-dev libmagic-dev
libmagic-mgc libsqlite3-dev sqlite3 libssl-dev zlib1g-dev libmicrohttpd-dev check
libsubunit-dev curl jq socat nginx-light lighttpd wrk python3 iproute2 procps perl
openscad slic3r prusa-slicer cura-engine printrun prometheus libcgi-pm-perl
nodejs"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps.sh: all packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Another apt (unattended-upgrades, a first-boot job) may hold the dpkg or
# the lists lock: wait for it (up to LOCK_WAIT seconds) instead of failing
# at once.  apt-get install waits by itself with DPkg::Lock::Timeout; apt
# 2.6's update does not (it fails at once on /var/lib/apt/lists/lock), so
# it is retried while its error is the lock.
LOCK_WAIT=${LOCK_WAIT:-600}
apt_update() {
    waited=0
    while ! apt-get update -qq 2>"$errf"; do
        if ! grep -q 'Could not get lock' "$errf" || [ "$waited" -ge "$LOCK_WAIT" ]; then
            cat "$errf" >&2
            return 1
        fi
        [ "$waited" = 0 ] && echo "deps.sh: another apt holds the lock; waiting" >&2
        sleep 5
        waited=$((waited + 5))
    done
    cat "$errf" >&2
}
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT
apt_update
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" install -y -qq $missing >/dev/null
# The packaged web servers must not hold our test ports or run as services
# (prometheus is here for its promtool: tests/integration/test_status.sh).
for s in nginx lighttpd prometheus prometheus-node-exporter; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$s" >/dev/null 2>&1 || true
    fi
    service "$s" stop >/dev/null 2>&1 || true
done
