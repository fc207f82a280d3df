#!/bin/sh
# test.sh - the whole test suite, as CI runs it: installs what is missing,
# builds with warnings as errors, runs unit and integration tests, runs
# them again under AddressSanitizer + UBSan, and checks the distribution.
#
#   scripts/test.sh            everything
#   QUICK=1 scripts/test.sh    skip the sanitizer run and distcheck
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
"$top/scripts/deps.sh"

step "build (gcc, -Werror)"
autoreconf -fi
mkdir -p build/gcc
(cd build/gcc && "$top/configure" -q --enable-werror CC=gcc &&
    make -s -j"$jobs" && make -s -j"$jobs" check) || {
    for f in build/gcc/tests/*/*.log build/gcc/test-suite.log; do
        [ -f "$f" ] && { echo "== $f"; tail -n 60 "$f"; }
    done
    exit 1
}

if [ "${QUICK:-0}" = 1 ]; then
    echo "QUICK=1: sanitizers and distcheck skipped"
    exit 0
fi

step "build and test under ASan + UBSan (clang)"
mkdir -p build/asan
# Every report goes to a file (the integration tests put their daemons'
# in their own directory and fail on them: tests/integration/sanlog.sh);
# whatever lands here fails the run too.
san=$top/build/asan/san-reports
rm -rf "$san" && mkdir -p "$san"
(cd build/asan && "$top/configure" -q --enable-werror --enable-sanitizers CC=clang &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$san/asan \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan \
    make -s -j"$jobs" check) || {
    for f in build/asan/tests/*/*.log build/asan/test-suite.log "$san"/*; do
        [ -f "$f" ] && { echo "== $f"; tail -n 60 "$f"; }
    done
    exit 1
}
for f in "$san"/*; do
    [ -s "$f" ] || continue
    echo "== sanitizer report $f"; head -n 80 "$f"; san_bad=1
done
[ -z "${san_bad:-}" ] || { echo "sanitizer reports (above)"; exit 1; }

step "make distcheck"
(cd build/gcc && make -s distcheck) || {
    # the tarball's build is left in place on failure: show why
    for f in build/gcc/rrcloud-*/_build/sub/tests/*/*.log; do
        [ -f "$f" ] && grep -q '^FAIL' "$f" && { echo "== $f"; tail -n 60 "$f"; }
    done
    exit 1
}
echo "all tests passed"
