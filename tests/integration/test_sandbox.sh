#!/bin/sh
# test_sandbox.sh - a task's command is confined, through real nginx: an
# OpenSCAD input that imports another task's upload, includes /etc/passwd
# or the database; a test service (escape.pl) that reads another task's
# file, /etc/passwd and the database, writes outside its directory, opens
# a TCP connection, may signal rrcloudd and leave the task's process group.  Each task ends failed, with
# the refusal in its reason, and nothing outside changed.  A task row
# whose argv was changed in the database is refused by rrcloudd.  A
# sandbox that cannot be had (a bad mode, root or an unknown user as the
# sandbox user, a spool it cannot reach) stops rrcloudd at start.  Last,
# the same escapes with sandbox = off succeed: the checks above can fail.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v perl >/dev/null || skip "no perl (the escape service is Perl)"
command -v sqlite3 >/dev/null || skip "no sqlite3 (to change a stored argv)"
command -v openscad >/dev/null || skip "no openscad"

# The shipped services plus escape: its input's one line says what to try.
SVC=$T/services
mkdir -p "$SVC"
cp "$SRCDIR"/services/*.conf "$SVC/"
cat >"$SVC/escape.pl" <<'EOF'
# escape.pl WHAT-FILE: tries "read PATH", "write PATH", "connect PORT",
# "chmod" (its directory 03777, a file 0666), "exec PATH", "signal PID"
# (signal 0: only whether a signal would go through) or "setsid" (a child
# leaves the task's process group, as a daemon would).
open(my $in, '<', $ARGV[0]) or die "input: $!\n";
my ($what, $arg) = split ' ', scalar(<$in>);
if ($what eq 'read') {
    open(my $f, '<', $arg) or die "read $arg: $!\n";
    defined(my $l = <$f>) or die "read $arg: empty\n";
    print "read $arg: $l";
} elsif ($what eq 'write') {
    open(my $f, '>', $arg) or die "write $arg: $!\n";
    print $f "escaped\n";
    close($f) or die "write $arg: $!\n";
    print "wrote $arg\n";
} elsif ($what eq 'connect') {
    require Socket;
    socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0)
        or die "socket: $!\n";
    connect($s, Socket::pack_sockaddr_in($arg, Socket::inet_aton('127.0.0.1')))
        or die "connect 127.0.0.1:$arg: $!\n";
    print "connected to $arg\n";
} elsif ($what eq 'chmod') {
    # Landlock does not govern chmod: open the directory and a file to all.
    open(my $f, '>', 'open.txt') or die "write open.txt: $!\n";
    close($f);
    chmod(0666, 'open.txt') or die "chmod open.txt: $!\n";
    chmod(03777, '.') or die "chmod .: $!\n";
    print "opened\n";
} elsif ($what eq 'exec') {
    exec($arg) or die "exec $arg: $!\n";
} elsif ($what eq 'signal') {
    kill(0, $arg) or die "signal $arg: $!\n";
    print "may signal $arg\n";
} elsif ($what eq 'setsid') {
    require POSIX;
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        POSIX::_exit(POSIX::setsid() >= 0 ? 0 : $! + 0);
    }
    waitpid($pid, 0);
    if ($? != 0) {
        $! = $? >> 8;
        die "setsid: $!\n";
    }
    print "left the process group\n";
} else {
    die "unknown $what\n";
}
EOF
cat >"$SVC/escape.conf" <<EOF
description = tries to leave its sandbox (test service)
path = /usr/bin:/bin
cmd = perl \$confDir/escape.pl
sandboxRead = \$confDir/escape.pl
noOutput = yes
inputTypes = txt
timeout = 30
EOF
# escapew: escape with a sandboxWrite directory holding a program that
# everyone may run (outside $T, which the sandbox user cannot enter).
WDIR=$(mktemp -d /tmp/rrcloud-wdir.XXXXXX)
chmod 755 "$WDIR"
printf '#!/bin/sh\necho ran\n' >"$WDIR/run.sh"
chmod 755 "$WDIR/run.sh"
sed -e 's/^description = .*/description = escape with a sandboxWrite (test service)/' \
    "$SVC/escape.conf" >"$SVC/escapew.conf"
echo "sandboxWrite = $WDIR" >>"$SVC/escapew.conf"
STACK_SERVICES_DIR=$SVC
export STACK_SERVICES_DIR
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

# run SERVICE FILE: a held submission; prints the task id.
run() {
    curl -s -m 60 -F "service=$1" -F "fileIn0=@$2" "$BASE/" | sed -n 's/^id: //p'
}
# jget ID KEY: a value of the task's RepRapCloud JSON record.
jget() {
    curl -s -m 5 "$BASE/?service=info&id=$1&format=json" |
        sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"
}
# try WHAT: the escape service with that line; prints the task id.
try() {
    printf '%s\n' "$*" >"$T/what.txt"
    run escape "$T/what.txt"
}
# refused DESC ID WORDS: the task failed and its reason has WORDS.
refused() {
    expect_eq "$1: task failed" failed "$(jget "$2" status)"
    expect_contains "$1: the reason says why" "$(jget "$2" error)" "$3"
}

section() { echo "-- $(date +%T) $*"; }

section "a sandbox that cannot be had stops rrcloudd at start, saying why"
# bad_conf NAME LINE: a conf of its own (spool, database, sockets) plus LINE.
bad_conf() {
    mkdir -p "$T/$1"
    cat >"$T/$1/rrcloud.conf" <<EOC
spool_dir = $T/$1/spool
database = $T/$1/rrcloud.db
services_dir = $SVC
fcgi_socket = $T/$1/fcgi.sock
wake_socket = $T/$1/rrcloudd.sock
$2
EOC
}
bad_conf badmode "sandbox = maybe"
"$builddir/rrcloudd" -f -c "$T/badmode/rrcloud.conf" >"$T/out" 2>&1
expect_eq "sandbox = maybe: rrcloudd exits 1" 1 $?
expect_contains "it names the key" "$(cat "$T/out")" "sandbox must be required, auto or off"
if [ "$(id -u)" = 0 ]; then
    bad_conf rootuser "sandbox_user = root"
    "$builddir/rrcloudd" -f -c "$T/rootuser/rrcloud.conf" >"$T/out" 2>&1
    expect_eq "sandbox_user = root: rrcloudd exits 1" 1 $?
    expect_contains "it says why" "$(cat "$T/out")" "sandbox_user root: uid or gid 0 is no sandbox"
    bad_conf nouser "sandbox_user = rrcloud-no-such-user"
    "$builddir/rrcloudd" -f -c "$T/nouser/rrcloud.conf" >"$T/out" 2>&1
    expect_eq "an unknown sandbox_user: rrcloudd exits 1" 1 $?
    expect_contains "it names the user" "$(cat "$T/out")" "sandbox_user rrcloud-no-such-user: no such user"
    # The sandbox user must pass through every directory above the spool.
    bad_conf closed ""
    mkdir -p "$T/closed/spool"
    chmod 700 "$T/closed"
    "$builddir/rrcloudd" -f -c "$T/closed/rrcloud.conf" >"$T/out" 2>&1
    expect_eq "a spool the sandbox user cannot reach: rrcloudd exits 1" 1 $?
    expect_contains "it names the directory" "$(cat "$T/out")" \
        "sandbox_user nobody cannot reach $T/closed/spool/tasks: every directory above it must be searchable (x) by that user"
fi

section "rrcloudd says what it enforces"
check "the log names the sandbox" grep -q "sandbox required: Landlock ABI" "$STACK/log/rrcloudd.log"

section "a task that stays inside works"
other=$(run echo "$SRCDIR/tests/data/cube.stl")
expect_eq "another client's task completes" complete "$(jget "$other" status)"
other_in=$STACK/spool/tasks/$other/in0.stl
check "its upload is there" [ -s "$other_in" ]
id=$(try write own.txt)
expect_eq "writing in its own directory works" complete "$(jget "$id" status)"

section "OpenSCAD: import() of another task's upload, include of system files"
printf 'import("%s");\n' "$other_in" >"$T/imp.scad"
id=$(run openscad "$T/imp.scad")
refused "import of another task's file" "$id" "Permission denied"
for f in /etc/passwd "$STACK/rrcloud.db" /etc/no-such-file; do
    printf 'include <%s>\ncube(1);\n' "$f" >"$T/inc.scad"
    id=$(run openscad "$T/inc.scad")
    refused "include <$f>" "$id" "Can't open include file '$f'"
    expect_not_contains "include <$f>: no content in the log" \
        "$(curl -s "$BASE/tasks/log/$id")" "root:"
done

section "reading what is not its own"
for f in "$other_in" /etc/passwd "$STACK/rrcloud.db" "$STACK/rrcloud.conf"; do
    id=$(try read "$f")
    refused "read $f" "$id" "read $f: Permission denied"
done

id=$(try read /etc/passwd)
expect_eq "the whole reason: exit code (Perl's errno) and the log's last line" \
    "exit code 13; log: read /etc/passwd: Permission denied" "$(jget "$id" error)"

section "writing outside its directory"
for f in "$T/escaped" "$STACK/spool/tasks/$other/escaped" /tmp/rrcloud-escaped-$$; do
    id=$(try write "$f")
    refused "write $f" "$id" "write $f: Permission denied"
    check "$f was not written" [ ! -e "$f" ]
done

section "a sandboxWrite path is written, never executed from"
printf 'exec %s\n' "$WDIR/run.sh" >"$T/what.txt"
id=$(run escapew "$T/what.txt")
refused "exec from a sandboxWrite path" "$id" "exec $WDIR/run.sh: Permission denied"
rm -rf "$WDIR"

section "network and signals"
id=$(try connect "$PORT")
refused "a TCP connection to the web server" "$id" "socket: Permission denied"
dpid=$(cat "$STACK/rrcloudd.pid")
id=$(try signal "$dpid")
refused "a signal to rrcloudd" "$id" "signal $dpid: Operation not permitted"
check "rrcloudd is still running" kill -0 "$dpid"
id=$(try setsid)
refused "a child leaving the task's process group" "$id" "setsid: Operation not permitted"

section "the task directory is rrcloudd's again after the run"
id=$(try chmod)
expect_eq "a task that opens its directory to all completes" complete "$(jget "$id" status)"
expect_eq "its directory's mode is reset (no o+w, setgid or sticky)" 750 \
    "$(stat -c %a "$STACK/spool/tasks/$id")"
expect_eq "its file's mode is reset (no o+w)" 640 \
    "$(stat -c %a "$STACK/spool/tasks/$id/open.txt")"
expect_eq "no file of the sandbox user left" "" \
    "$(find "$STACK/spool/tasks" -user nobody 2>/dev/null | head -n 3)"

section "a changed argv in the database is refused"
rrcloudd_stop TERM || fail "rrcloudd did not stop"
printf 'hello\n' >"$T/hello.txt"
submit_async() {
    curl -s -m 10 -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/" |
        sed -n 's/^id: //p'
}
a=$(submit_async)
b=$(submit_async)
expect_eq "queued while rrcloudd is down" queued "$(jget "$a" status)"
sqlite3 "$STACK/rrcloud.db" \
    "UPDATE tasks SET argv_json = '[\"/bin/sh\",\"-c\",\"id >$T/owned\"]' WHERE id = '$a';
     UPDATE tasks SET argv_json = '[\"cp\",\"/etc/passwd\",\"$b\"]' WHERE id = '$b';"
rrcloudd_start
expect_eq "a shell instead of cp: failed" failed "$(wait_status "$a" failed 30)"
expect_contains "its reason" "$(jget "$a" error)" \
    "refused the stored command line: word 0 ('/bin/sh') is not service echo's command"
check "the shell never ran" [ ! -e "$T/owned" ]
expect_eq "cp of /etc/passwd: failed" failed "$(wait_status "$b" failed 30)"
expect_contains "its reason" "$(jget "$b" error)" "refused the stored command line"
expect_eq "no result" "" "$(jget "$b" sizeOut)"
c=$(run echo "$T/hello.txt")
expect_eq "an untouched task still runs" complete "$(jget "$c" status)"

section "without the sandbox the same escapes work (the checks can fail)"
rrcloudd_stop TERM || fail "rrcloudd did not stop"
echo "sandbox = off" >>"$STACK/rrcloud.conf"
rrcloudd_start
id=$(try read /etc/passwd)
expect_eq "sandbox off: /etc/passwd is read" complete "$(jget "$id" status)"
id=$(try write "$T/escaped")
expect_eq "sandbox off: a file outside is written" complete "$(jget "$id" status)"
id=$(try setsid)
expect_eq "sandbox off: a child leaves the process group" complete "$(jget "$id" status)"
check "sandbox off: the log says so" grep -q "sandbox off: task commands run unconfined" "$STACK/log/rrcloudd.log"
