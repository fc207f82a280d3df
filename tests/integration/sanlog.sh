# sanlog.sh - sanitizer reports to files, and a test that fails on them
# (sourced by lib.sh and by the tests that do without it).
#
# Under --enable-sanitizers a daemon that hits a memory error or undefined
# behaviour writes its report to stderr, which the tests send to log files
# nobody reads; and a report from a thread of a daemon that goes on (or
# UBSan built to recover) fails nothing.  san_setup sends every sanitized
# process the test starts (rrcloudd, rrcloud-fcgi, rrcloud-printersim, the
# CLI) to DIR/asan.PID and DIR/ubsan.PID instead, options appended to the
# caller's own (the last of a name wins); san_check prints each report and
# fails if there is one.  Programs built without sanitizers ignore all this.

san_setup() { # dir
    SAN_DIR=$1
    mkdir -p "$SAN_DIR"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$SAN_DIR/asan"
    # UBSan only prints and goes on unless told to stop.
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$SAN_DIR/ubsan:print_stacktrace=1:halt_on_error=1"
    export ASAN_OPTIONS UBSAN_OPTIONS SAN_DIR
}

# Call once the processes have ended (their leak check runs at exit).
san_check() {
    san_found=0
    for f in "$SAN_DIR"/asan.* "$SAN_DIR"/ubsan.*; do
        [ -s "$f" ] || continue
        san_found=$((san_found + 1))
        echo "== sanitizer report $f:"
        head -n 80 "$f"
    done
    [ "$san_found" -eq 0 ]
}
