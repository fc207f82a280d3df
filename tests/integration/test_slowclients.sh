#!/bin/sh
# test_slowclients.sh - slow clients (issue 9), behind nginx and lighttpd:
# with 200 trickling connections (headers and bodies, from 50 loopback
# addresses, well above fcgi_threads and body_threads) and a body that
# starts at full speed and then trickles,
#   - info, meta, healthz and /api/v1/tasks all answer (none times out at
#     5 s: the bound is generous, the point is that they answer at all);
#   - a well-behaved upload succeeds and its task completes;
#   - the whole-body deadline fires: 408 naming body_timeout, both for
#     bodies waiting at rrcloud-fcgi's gate and for one a body thread was
#     reading; no partial file is left in the spool and no task is made.
#   - with bodies that came in a burst and then trickle holding every body
#     thread, a good upload still gets one: stalled bodies are cut (408)
#     while uploads wait, long before their body_timeout.
#   - with rrcloud-fcgi's descriptor table full of waiting bodies, its
#     workers wait instead of ending: reads answer once the attack is over.
#   - uploads aborted while at the gate let go of their connection at once,
#     not at body_timeout.
#   - an upload queued for a body thread that could not open its store
#     gets another one without waiting for the next upload.
#   - a body thread that cannot watch an upload (no descriptor) answers
#     503 with Retry-After rather than read a body nothing can cut.
#   - what is not one FastCGI request on rrcloud-fcgi's socket is closed
#     at once, and the gate goes on cutting bodies.
# The shorter sibling of bench/bench_slow.sh.
. "$(dirname "$0")/lib.sh"

SC=$builddir/bench/slowclient
[ -x "$SC" ] || skip "bench/slowclient not built (make check builds it)"

# Until rrcloud-fcgi holds at least $1 connections (the attack is on), at
# most 20 s.
wait_fcgi_conns() {
    i=0
    while [ "$(ls "/proc/$(cat "$STACK/fcgi.pid")/fd" | wc -l)" -lt "$1" ]; do
        [ $i -lt 200 ] || return 1
        sleep 0.1; i=$((i + 1))
    done
}

# Until file $1 has a line (the attacker has finished), at most 40 s.
wait_line() {
    i=0
    while ! [ -s "$1" ]; do
        [ $i -lt 400 ] || return 1
        sleep 0.1; i=$((i + 1))
    done
}

run() { # web-server
    web=$1
    STACK_CONF_EXTRA="fcgi_threads = 2
body_threads = 2
body_timeout = 3" stack_start "$web"
    head -c 750000 /dev/urandom | base64 >"$T/good.txt"

    "$SC" attack "$PORT" 200 6 --gap 1 --addrs 50 >"$T/trickle-$web.out" &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    # One body at full speed for 64 KiB (a body thread takes it), then
    # trickling: body_threads 2 leaves the other for the good upload.
    "$SC" attack "$PORT" 1 6 --mode body --burst 65536 --gap 1 \
        --addrs 1 >"$T/burst-$web.out" &
    EXTRA_PIDS="$EXTRA_PIDS $!"
    # 100 of the 200 trickle bodies, at the gate (the others trickle their
    # header at the web server).
    check "$web: the trickling bodies reach rrcloud-fcgi" wait_fcgi_conns 100

    out=$("$SC" probe "$PORT" 40 '/?service=meta' /healthz /api/v1/tasks \
          '/?service=info&format=json')
    expect_eq "$web: reads answered 200 under attack" 40 \
        "$(printf '%s\n' "$out" | awk '$2 == 200' | wc -l)"
    printf '%s\n' "$out" | sort -g | tail -n 1 | sed "s/^/$web slowest read (ms): /"

    out=$(curl -s --max-time 60 -F service=echo -F "fileIn0=@$T/good.txt" \
          "$BASE/")
    expect_contains "$web: a good upload during the attack completes" \
        "$out" "state: complete"
    id=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
    curl -s --max-time 30 -o "$T/good.out" "$BASE/tasks/out/$id"
    check "$web: the good upload came through whole" \
        cmp -s "$T/good.txt" "$T/good.out"

    # A body that stops short waits at the gate; its 408 names the key.
    out=$(printf 'abc' | curl -s --max-time 20 -H 'Content-Length: 1000' \
          -H 'Content-Type: application/octet-stream' --data-binary @- \
          "$BASE/?service=echo&format=json")
    expect_contains "$web: the gate's 408 names body_timeout as its field" \
        "$out" '"field":"body_timeout"'

    check "$web: trickle attacker finished" wait_line "$T/trickle-$web.out"
    check "$web: burst attacker finished" wait_line "$T/burst-$web.out"
    tr=$(cat "$T/trickle-$web.out"); bu=$(cat "$T/burst-$web.out")
    echo "$web trickle: $tr"
    echo "$web burst: $bu"
    n408=$(printf '%s' "$tr" | sed -n 's/.*status408 \([0-9]*\).*/\1/p')
    check "$web: bodies at the gate got 408 ($tr)" [ "${n408:-0}" -ge 50 ]
    expect_contains "$web: the 408 names the limit" "$tr" \
        "request body not complete within 3 s (body_timeout)"
    n408=$(printf '%s' "$bu" | sed -n 's/.*status408 \([0-9]*\).*/\1/p')
    check "$web: a body thread's read was cut with 408 ($bu)" \
        [ "${n408:-0}" -ge 1 ]
    expect_contains "$web: that 408 names the limit" "$bu" "(body_timeout)"
    n5=$(printf '%s\n%s\n' "$tr" "$bu" | sed -n 's/.*status5xx \([0-9]*\).*/\1/p' | tr -d '\n')
    expect_eq "$web: no 5xx to the attackers" 00 "$n5"

    # Only the good upload made a task, and no partial upload is left.
    n=$(curl -s "$BASE/api/v1/tasks?limit=1000" | grep -o '"id":' | wc -l)
    expect_eq "$web: tasks made" 1 "$n"
    # The last cut body's handler may still be cleaning up as the
    # attacker ends: wait for it, at most 10 s.
    i=0
    while [ -n "$(find "$STACK/spool/tmp" -mindepth 1 | head -n 1)" ] &&
          [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    left=$(find "$STACK/spool/tmp" -mindepth 1 | head -n 3)
    expect_eq "$web: nothing left in spool/tmp" "" "$left"
    stack_stop
    rm -rf "$STACK"
}

threads() { awk '/^Threads:/ {print $2}' "/proc/$(cat "$STACK/fcgi.pid")/status"; }

# Until rrcloud-fcgi runs at least $1 threads, at most 20 s.
wait_threads() {
    i=0
    while [ "$(threads)" -lt "$1" ]; do
        [ $i -lt 200 ] || return 1
        sleep 0.1; i=$((i + 1))
    done
}

preempt() {
    STACK_CONF_EXTRA="fcgi_threads = 2
body_threads = 2
body_timeout = 120" stack_start nginx
    head -c 750000 /dev/urandom | base64 >"$T/good.txt"
    base=$(threads)
    "$SC" attack "$PORT" 2 100 --mode body --burst 65536 --gap 1 \
        --addrs 2 >"$T/preempt.out" &
    apid=$!
    EXTRA_PIDS="$EXTRA_PIDS $apid"
    # Body threads start only when every one is busy: both are held.
    check "both body threads are held" wait_threads $((base + 2))
    out=$(curl -s --max-time 40 -F service=echo -F "fileIn0=@$T/good.txt" \
          "$BASE/")
    expect_contains "a good upload gets a body thread held by a stalled one" \
        "$out" "state: complete"
    kill "$apid"
    check "the burst attacker finished" wait_line "$T/preempt.out"
    echo "preempt: $(cat "$T/preempt.out")"
    expect_contains "the stalled body was cut with a 408 saying why" \
        "$(cat "$T/preempt.out")" "request body stalled (under 32 KiB in 2 s)"
    stack_stop
    rm -rf "$STACK"
}

fds() { ls "/proc/$(cat "$STACK/fcgi.pid")/fd" | wc -l; }

# Until rrcloud-fcgi holds at most $1 descriptors, at most 10 s.
wait_fds_below() {
    i=0
    while [ "$(fds)" -gt "$1" ]; do
        [ $i -lt 100 ] || return 1
        sleep 0.1; i=$((i + 1))
    done
}

# An aborted upload: nginx closes the upstream connection with part of the
# body unread there, so the gate's peek sees data, not end of file.  The
# gate used to keep such a connection until its body_timeout (120 s here).
aborted() {
    STACK_CONF_EXTRA="fcgi_threads = 2
body_timeout = 120" stack_start nginx
    base=$(fds)
    "$SC" attack "$PORT" 30 3 --mode body --gap 1 --addrs 5 \
        >"$T/aborted.out" &
    EXTRA_PIDS="${EXTRA_PIDS:-} $!"
    check "aborted: the trickling bodies reach rrcloud-fcgi" \
        wait_fcgi_conns $((base + 25))
    check "aborted: the attacker finished" wait_line "$T/aborted.out"
    check "aborted: the gate lets go of the aborted uploads \
(from $base)" wait_fds_below $((base + 2))
    stack_stop
    rm -rf "$STACK"
}

# Bytes on rrcloud-fcgi's socket that are not one request: a parameters'
# end with no BEGIN_REQUEST before it, or one of another request id.
# Taken for a request, each would have got its 408 at body_timeout from
# libfcgi on the gate thread, which then waits for a request that never
# comes, and no later body would be cut.  They are closed at once (the
# socket stays open on our side: socat ends only when rrcloud-fcgi
# closes), and the gate goes on cutting bodies.  So is, at body_timeout,
# a request that stops in the middle of parameters too long for the gate
# to look at.
not_requests() {
    STACK_CONF_EXTRA="body_timeout = 2" stack_start nginx
    printf '\001\004\000\001\000\000\000\000' >"$T/bad-noBEGIN"
    printf '\001\001\000\001\000\010\000\000\000\001\000\000\000\000\000\000' \
        >"$T/bad-otherid"
    printf '\001\004\000\002\000\000\000\000' >>"$T/bad-otherid"
    # A request whose parameters run past what the gate looks at (libfcgi
    # reads them), then stop: cut at body_timeout like a body.
    { printf '\001\001\000\001\000\010\000\000\000\001\000\000\000\000\000\000'
      for i in 1 2; do
          printf '\001\004\000\001\377\377\000\000'
          head -c 65535 /dev/zero | tr '\0' x
      done; } >"$T/bad-stalled"
    # An FCGI_GET_VALUES probe (FCGI_MPXS_CONNS), which libfcgi would read
    # and then wait on.
    printf '\001\011\000\000\000\021\000\000\017\000FCGI_MPXS_CONNS' \
        >"$T/bad-probe"
    pids=
    for b in noBEGIN otherid stalled probe; do
        (timeout 25 socat -t 1 "OPEN:$T/bad-$b,ignoreeof" \
             "UNIX-CONNECT:$STACK/fcgi.sock" >/dev/null 2>&1
         echo $? >"$T/bad-$b.rc") &
        pids="$pids $!"
    done
    out=$(printf 'abc' | curl -s --max-time 10 -H 'Content-Length: 1000' \
          -H 'Content-Type: application/octet-stream' --data-binary @- \
          "$BASE/?service=echo&format=json")
    expect_contains "not requests on the socket: the gate still cuts a \
short body meanwhile (408)" "$out" '"field":"body_timeout"'
    for p in $pids; do wait "$p"; done
    # socat ends 0 on the end of file, 1 on a broken pipe (it was still
    # writing), 124 if timeout had to stop it: nobody closed.
    for b in noBEGIN otherid stalled probe; do
        rc=$(cat "$T/bad-$b.rc")
        expect_eq "not a request ($b): rrcloud-fcgi closes it unanswered" \
            closed "$(case $rc in 0|1) echo closed ;; *) echo "socat $rc" ;; esac)"
    done
    expect_eq "... saying so once a minute" 1 \
        "$(grep -c 'not one FastCGI responder request' "$STACK/log/fcgi.log")"
    stack_stop
    rm -rf "$STACK"
}

# Until file $2 has a line with $1, at most 20 s.
wait_log() {
    i=0
    while ! grep -q "$1" "$2"; do
        [ $i -lt 200 ] || return 1
        sleep 0.1; i=$((i + 1))
    done
}

# The descriptor limit that leaves rrcloud-fcgi room for one more: the
# lowest free number, plus one.
one_fd_more() {
    ls "/proc/$(cat "$STACK/fcgi.pid")/fd" | sort -n |
        awk 'BEGIN { n = 0 } $1 == n { n++ } END { print n + 1 }'
}

# A body thread that cannot open its store (no descriptor left) ends; the
# upload it was started for stayed queued until another upload came (here
# none: until body_timeout, 120 s).
body_thread_lost() {
    command -v prlimit >/dev/null || { echo "no prlimit: skipped"; return 0; }
    STACK_CONF_EXTRA="fcgi_threads = 2
body_threads = 1
body_timeout = 120" stack_start nginx
    head -c 750000 /dev/urandom | base64 >"$T/good.txt"
    pid=$(cat "$STACK/fcgi.pid")
    soft=$(prlimit --pid "$pid" --nofile --noheadings --output SOFT)
    # Room for the upload's connection, none for the store.
    prlimit --pid "$pid" --nofile="$(one_fd_more)":
    curl -s --max-time 30 -F service=echo -F "fileIn0=@$T/good.txt" \
        "$BASE/" >"$T/lost.out" &
    cpid=$!
    check "lost: a body thread could not open its store" \
        wait_log "body thread:" "$STACK/log/fcgi.log"
    prlimit --pid "$pid" --nofile="$soft":
    wait "$cpid"
    expect_contains "lost: the queued upload gets another body thread" \
        "$(cat "$T/lost.out")" "state: complete"
    stack_stop
    rm -rf "$STACK"
}

# A body thread that cannot dup the upload's connection (to watch it) has
# nothing to cut its read at body_timeout: 503 with Retry-After instead.
no_watch() {
    command -v prlimit >/dev/null || { echo "no prlimit: skipped"; return 0; }
    STACK_CONF_EXTRA="fcgi_threads = 2
body_threads = 1
body_timeout = 120" stack_start nginx
    head -c 750000 /dev/urandom | base64 >"$T/good.txt"
    # The body thread starts and opens its store.
    out=$(curl -s --max-time 30 -F service=echo -F "fileIn0=@$T/good.txt" \
          "$BASE/")
    expect_contains "no_watch: an upload starts the body thread" \
        "$out" "state: complete"
    pid=$(cat "$STACK/fcgi.pid")
    soft=$(prlimit --pid "$pid" --nofile --noheadings --output SOFT)
    # Room for the upload's connection, none for its dup.
    prlimit --pid "$pid" --nofile="$(one_fd_more)":
    curl -s -D "$T/nowatch.hdr" -o "$T/nowatch.out" --max-time 30 \
        -F service=echo -F "fileIn0=@$T/good.txt" "$BASE/"
    prlimit --pid "$pid" --nofile="$soft":
    expect_contains "no_watch: 503 without a watch" \
        "$(head -n 1 "$T/nowatch.hdr")" " 503"
    expect_contains "no_watch: with Retry-After" "$(cat "$T/nowatch.hdr")" \
        "Retry-After: 5"
    stack_stop
    rm -rf "$STACK"
}

# libfcgi's accept returned an error on a full descriptor table, and the
# worker that got it ended for good.
fd_exhaustion() {
    command -v prlimit >/dev/null || { echo "no prlimit: skipped"; return 0; }
    STACK_CONF_EXTRA="fcgi_threads = 2
body_timeout = 2" stack_start nginx
    prlimit --pid "$(cat "$STACK/fcgi.pid")" --nofile=80:80
    "$SC" attack "$PORT" 150 4 --mode body --gap 1 --addrs 30 >"$T/fds.out"
    echo "descriptors: $(cat "$T/fds.out")"
    check "rrcloud-fcgi ran out of descriptors" \
        grep -q "accept: Too many open files" "$STACK/log/fcgi.log"
    out=$("$SC" probe "$PORT" 10 /healthz '/?service=meta' --timeout 10)
    expect_eq "reads answer after the descriptors are back" 10 \
        "$(printf '%s\n' "$out" | awk '$2 == 200' | wc -l)"
    stack_stop
    rm -rf "$STACK"
}

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    run nginx
    not_requests
    aborted
    body_thread_lost
    no_watch
    preempt
    fd_exhaustion
else
    echo "nginx not installed: skipped"
fi
if command -v lighttpd >/dev/null || [ -x /usr/sbin/lighttpd ]; then
    run lighttpd
else
    echo "lighttpd not installed: skipped"
fi
