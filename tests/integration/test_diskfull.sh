#!/bin/sh
# test_diskfull.sh - a full disk, for real: the stack lives on a 16 MiB
# tmpfs (so this needs root and mount(8); it is skipped where mounting is
# not allowed).  With the disk filled, /healthz answers 503 naming the
# free space, and 200 once it is freed; an upload that would leave less
# than min_free_space free is refused with 507 before its body is read, or
# while it streams, leaving nothing behind; rrcloudd started on the full disk
# does not exit: it says why it waits, starts when space returns, and then
# runs tasks.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
[ "$(id -u)" = 0 ] || skip "not root (mounts a tmpfs)"
STACK=$T/stack
mkdir -p "$STACK"
mount -t tmpfs -o size=16m tmpfs "$STACK" 2>/dev/null || skip "cannot mount a tmpfs here"
# lib.sh's finish stops the stack, then prints the logs of a failure:
# keep them when the tmpfs goes.
stack_stop() {
    "$top_srcdir/scripts/stack.sh" stop "$STACK" >/dev/null 2>&1
    for p in ${MY_PIDS:-}; do kill "$p" 2>/dev/null; done
    mkdir -p "$T/log"
    cp "$STACK"/log/*.log "$T/log/" 2>/dev/null
    umount "$STACK" 2>/dev/null || umount -l "$STACK"
    mkdir -p "$STACK/log"
    cp "$T"/log/*.log "$STACK/log/" 2>/dev/null
    return 0
}
STACK_CONF_EXTRA="min_free_space = 4M"
export STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

# wait_health CODE: polls /healthz until it answers CODE (at most 15 s).
wait_health() {
    i=0
    while [ $i -lt 150 ]; do
        code=$(http_status GET "$BASE/healthz")
        [ "$code" = "$1" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# wait_log FILE TEXT: polls FILE until it holds TEXT (at most 20 s).
wait_log() {
    i=0
    while [ $i -lt 200 ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
fill() { dd if=/dev/zero of="$STACK/fill" bs=64k 2>/dev/null; sync; }
stop_pid() {
    pid=$(cat "$STACK/$1.pid")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# --- a full disk under a running stack ----------------------------------------
check "stack healthy on the tmpfs" wait_health 200
fill
check "full disk: 503" wait_health 503
expect_contains "names the free space" "$(body)" "free space under min_free_space: $STACK/spool has"
rm -f "$STACK/fill"
check "space back: 200" wait_health 200

# --- uploads refused before the disk is full (min_free_space = 4M) -------------
printf 'hello rrcloud\n' >"$T/hello.txt"
head -c 1500000 /dev/urandom | base64 -w 76 >"$T/2m.txt"    # 2 MB of text
head -c 2250000 /dev/urandom | base64 -w 76 >"$T/3m.txt"    # 3 MB
head -c 3750000 /dev/urandom | base64 -w 76 >"$T/5m.txt"    # 5 MB
kept=$(curl -s -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/" | sed -n 's/^id: //p')
expect_eq "a task accepted before" complete "$(wait_status "$kept" complete 20)"
# leave LEFT bytes free on the tmpfs
fill_to() {
    avail=$(df -B1 --output=avail "$STACK" | tail -1 | tr -d ' ')
    dd if=/dev/zero of="$STACK/fill" bs=64k count=$(( (avail - $1) / 65536 )) 2>/dev/null
    sync
}
ntasks() { ls "$STACK/spool/tasks" | wc -l | tr -d ' '; }
fill_to $((6 << 20))
before=$(ntasks)
code=$(http_status POST "$BASE/" -F service=echo -F async=1 -F "fileIn0=@$T/3m.txt")
check "6M free, 3 MB would leave less than 4M: 507 at once" test "$code" = 507
expect_contains "... naming the floor" "$(body)" "min_free_space: the spool's disk has"
code=$(http_status POST "$BASE/" -H 'Transfer-Encoding: chunked' -F service=echo \
    -F async=1 -F "fileIn0=@$T/5m.txt")
check "5 MB without a Content-Length: 507 while it streams" test "$code" = 507
expect_contains "... naming the floor" "$(body)" "min_free_space"
expect_eq "no task was written" "$before" "$(ntasks)"
expect_eq "no part is left in spool/tmp" "" "$(ls "$STACK/spool/tmp")"
expect_eq "the task accepted before is still there" complete "$(wait_status "$kept" complete 5)"
check "... with its files" test "$(ls "$STACK/spool/tasks/$kept" | wc -l)" -ge 2
rm -f "$STACK/fill"
code=$(http_status POST "$BASE/" -F service=echo -F async=1 -F "fileIn0=@$T/2m.txt")
expect_eq "with the space back, the first upload is taken" 200 "$code"

# --- rrcloudd started on a full disk ------------------------------------------
# With no process left on the database, opening it needs new files (its
# -shm), which a full disk refuses.
stop_pid fcgi
rrcloudd_stop TERM || fail "rrcloudd did not stop"
fill
("$BUILDDIR/rrcloudd" -c "$STACK/rrcloud.conf" -f >"$T/rrcloudd.log" 2>&1 &
 echo $! >"$T/rrcloudd.pid")
dpid=$(cat "$T/rrcloudd.pid")
MY_PIDS=$dpid
check "rrcloudd says it waits" wait_log "$T/rrcloudd.log" "rrcloudd waits for the spool and the database"
expect_contains "it names the free space" "$(cat "$T/rrcloudd.log")" "bytes free, under min_free_space"
check "rrcloudd is still running on the full disk" kill -0 "$dpid"
rm -f "$STACK/fill"
echo "$dpid" >"$STACK/rrcloudd.pid"
check "rrcloudd starts once space returns" wait_log "$T/rrcloudd.log" "rrcloudd .* ready"
check "rrcloudd still running" kill -0 "$dpid"
("$BUILDDIR/rrcloud-fcgi" -c "$STACK/rrcloud.conf" >>"$STACK/log/fcgi.log" 2>&1 &
 echo $! >"$STACK/fcgi.pid")
check "stack healthy again" wait_health 200
printf 'hello rrcloud\n' >"$T/hello.txt"
id=$(curl -s -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/" | sed -n 's/^id: //p')
expect_eq "a task runs after the late start" complete "$(wait_status "$id" complete 20)"
cp "$T/rrcloudd.log" "$STACK/log/rrcloudd-full.log"
