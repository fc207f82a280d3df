#!/bin/sh
# test_hardening.sh - what an attacker tried, refused: a weak token in the
# conf stops start-up and says why, so does a slicer service that does not
# force --post-process; the database is private and the spool
# has nothing for other users; wrong tokens in a row get 429 for that
# address only, while a right token from another address still works.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "no nginx"
# Another loopback address for "another client".
curl -s -o /dev/null --max-time 2 --interface 127.0.0.2 http://127.0.0.1:1/ 2>/dev/null
[ $? -ne 45 ] || skip "cannot send from 127.0.0.2"

rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
ADMIN=$(rand)
ENROLL=$(rand)
OCTO=$(rand)

# --- a weak token stops both programs and the stack, naming the key -------------
printf 'admin_token = %s\nenroll_token = enroll-me\n' "$ADMIN" >"$T/weak.conf"
"$builddir/rrcloud-fcgi" -c "$T/weak.conf" >"$T/out" 2>&1
expect_eq "rrcloud-fcgi with a weak enroll_token exits 1" 1 $?
expect_contains "it names the key" "$(cat "$T/out")" "enroll_token: entry 1 is 9 characters"
expect_contains "it names the minimum" "$(cat "$T/out")" "at least 32"
expect_not_contains "it does not print the token" "$(cat "$T/out")" "enroll-me"
"$builddir/rrcloudd" -f -c "$T/weak.conf" >"$T/out" 2>&1
expect_eq "rrcloudd with a weak enroll_token exits 1" 1 $?
expect_contains "rrcloudd names the key" "$(cat "$T/out")" "enroll_token"

STACK_CONF_EXTRA="admin_token = adm-short" "$top_srcdir/scripts/stack.sh" \
    start "$T/weak" "$(free_port)" nginx >"$T/out" 2>&1
expect_eq "a stack with a weak admin_token does not start" 1 $?
expect_contains "and says why" "$(cat "$T/out")" "admin_token: entry 1 is 9 characters; a token needs at least 32"
"$top_srcdir/scripts/stack.sh" stop "$T/weak" >/dev/null 2>&1

# --- a slicer service that does not force --post-process is refused at load -----
mkdir -p "$T/svc"
printf 'cmd = prusa-slicer --export-gcode\ninputTypes = stl, 3mf\n' >"$T/svc/myslicer.conf"
printf 'services_dir = %s\n' "$T/svc" >"$T/svc.conf"
"$builddir/rrcloud-fcgi" -c "$T/svc.conf" >"$T/out" 2>&1
expect_eq "rrcloud-fcgi with a slicer service without --post-process exits 1" 1 $?
expect_contains "it names the file and the flag" "$(cat "$T/out")" \
    "myslicer.conf: cmd: a slicer service must force --post-process"
"$builddir/rrcloudd" -f -c "$T/svc.conf" >"$T/out" 2>&1
expect_eq "rrcloudd refuses it too" 1 $?
expect_contains "rrcloudd names the file" "$(cat "$T/out")" "myslicer.conf"

# --- the real stack --------------------------------------------------------------
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
octoprint_key = $OCTO queue=default
auth_fail_limit = 10
auth_fail_window = 60s"
export STACK_CONF_EXTRA
stack_start nginx

# --- files: the database owner-only, nothing for others in the spool -----------
printf 'hello rrcloud\n' >"$T/hello.txt"
out=$(curl -s -F service=echo -F "fileIn0=@$T/hello.txt" "$BASE/")
id=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
check "a task ran" [ -n "$id" ]
expect_eq "its result is still served by the web server" "hello rrcloud" \
    "$(curl -s "$BASE/tasks/out/$id")"
expect_eq "the database is 0600" 600 "$(stat -c %a "$STACK/rrcloud.db")"
for f in "$STACK/rrcloud.db-wal" "$STACK/rrcloud.db-shm"; do
    [ -e "$f" ] && expect_eq "${f##*/} is 0600" 600 "$(stat -c %a "$f")"
done
expect_eq "the conf (tokens) is 0600" 600 "$(stat -c %a "$STACK/rrcloud.conf")"
check "the spool has files" [ -n "$(find "$STACK/spool" -type f | head -n 1)" ]
expect_eq "nothing in the spool others may read or write" "" \
    "$(find "$STACK/spool" -perm /o=rw | head -n 3)"
# As root, rrcloudd's sandbox_user passes through the spool and tasks/ to
# its task's directory (search only); nothing below is open to others.
expect_eq "nothing else in the spool others may search" "" \
    "$(find "$STACK/spool" -mindepth 1 -perm /o=x ! -path "$STACK/spool/tasks" | head -n 3)"
want=750
[ "$(id -u)" = 0 ] && want=751
expect_eq "the spool is 0$want" $want "$(stat -c %a "$STACK/spool")"

# --- failed authentication: limited per address ------------------------------
codes=""
for i in $(seq 1 20); do
    c=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
        -H "Authorization: Bearer wrong-$i-$(rand)" "$BASE/api/v1/printers")
    codes="$codes $c"
done
expect_eq "20 wrong tokens: 10 refused, then blocked" \
    " 401 401 401 401 401 401 401 401 401 401 429 429 429 429 429 429 429 429 429 429" "$codes"
expect_contains "429 says when to try again" "$(tr -d '\r' <"$T/hdr")" "Retry-After: "
expect_contains "429 names the limit" "$(body)" "auth_fail_limit 10 in auth_fail_window 60s"
expect_contains "429 names the field" "$(body)" '"field":"Authorization"'
expect_eq "the right token from the blocked address is not even checked" 429 \
    "$(http_status GET "$BASE/api/v1/printers" -H "Authorization: Bearer $ADMIN")"
expect_eq "an OctoPrint key from the blocked address: 429 too" 429 \
    "$(http_status GET "$BASE/api/job" -H "X-Api-Key: $OCTO")"
expect_eq "the right token from another address works" 200 \
    "$(http_status GET "$BASE/api/v1/printers" --interface 127.0.0.2 -H "Authorization: Bearer $ADMIN")"
expect_eq "an OctoPrint key from another address works" 200 \
    "$(http_status GET "$BASE/api/job" --interface 127.0.0.2 -H "X-Api-Key: $OCTO")"
expect_eq "the blocked address still uses the relay without a token" 200 \
    "$(http_status GET "$BASE/?service=meta")"
check "rrcloud-fcgi logged the block" \
    grep -q "auth: 127.0.0.1 blocked for 60s after 10 failed" "$STACK/log/fcgi.log"

# Wrong enrollment and OctoPrint keys count alike; a right token in
# between does not wipe the count.
for i in $(seq 1 5); do
    curl -s -o /dev/null --interface 127.0.0.3 -H "X-Api-Key: nope-$i" "$BASE/api/job"
    curl -s -o /dev/null --interface 127.0.0.3 -H "Authorization: Bearer $ADMIN" "$BASE/api/v1/printers"
    curl -s -o /dev/null --interface 127.0.0.3 -X POST -H "Authorization: Bearer enr-$i" \
        -H 'Content-Type: application/json' -d '{}' "$BASE/api/v1/printers"
done
expect_eq "10 wrong keys of any kind block, right ones between them or not" 429 \
    "$(http_status GET "$BASE/api/v1/printers" --interface 127.0.0.3 -H "Authorization: Bearer $ADMIN")"
