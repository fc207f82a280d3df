#!/bin/sh
# test_stack_client.sh - what the quick start leaves its user: "stack.sh
# client" puts rrcloud and the *.cloud links in DIR/bin and writes
# DIR/rrcloudrc, and from DIR a link reaches the stack (not a local tool),
# the result lands in DIR, and the fleet commands carry the admin token.
# Exit: 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
[ -x "$builddir/rrcloud" ] || skip "$builddir/rrcloud not built"

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
STACK_CONF_EXTRA="admin_token = $TOKEN"
export STACK_CONF_EXTRA
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0
# No ~/.rrcloudrc of the machine's user may take part.
mkdir -p "$T/home"
HOME=$T/home
export HOME
printf '%s' "$TOKEN" >"$STACK/admin.token"

"$top_srcdir/scripts/stack.sh" client "$STACK" "$PORT"
check "stack.sh client succeeds" [ $? -eq 0 ]
check "bin/rrcloud runs" "$STACK/bin/rrcloud" --version
for w in openscad slic3r prusa-slicer curaengine printrun print echo; do
    expect_eq "bin/$w.cloud links to rrcloud" rrcloud "$(readlink "$STACK/bin/$w.cloud")"
done
expect_eq "rrcloudrc names the stack" "servers = 127.0.0.1:$PORT" \
    "$(grep '^servers' "$STACK/rrcloudrc")"
expect_eq "rrcloudrc holds the admin token" "token = $TOKEN" \
    "$(grep '^token' "$STACK/rrcloudrc")"
expect_eq "rrcloudrc is private (it holds a token)" 600 \
    "$(stat -c %a "$STACK/rrcloudrc")"

cd "$STACK" || exit 99
printf 'hello from the quick start\n' >notes.txt
bin/echo.cloud notes.txt >"$T/out" 2>"$T/err"
expect_eq "echo.cloud exits 0" 0 $?
expect_contains "echo.cloud ran a task on the stack" "$(cat "$T/err")" "complete"
expect_eq "the result is in DIR" "hello from the quick start" "$(cat notes.out 2>/dev/null)"
# rrcloudrc's token goes with every call: the task is that key's owner's.
info=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/?service=info")
expect_contains "the stack knows the task" "$info" "service: echo"
expect_not_contains "an anonymous caller does not see it" \
    "$(curl -s "$BASE/?service=info")" "service: echo"
bin/rrcloud printers >"$T/out" 2>"$T/err"
expect_eq "rrcloud printers with rrcloudrc's token exits 0" 0 $?
(cd "$T/home" && "$STACK/bin/rrcloud" --s="127.0.0.1:$PORT" printers) \
    >"$T/out" 2>"$T/err"
check "without rrcloudrc's token rrcloud printers is refused" [ $? -ne 0 ]
# Run again (as quickstart.sh does at each start): links and file replaced.
"$top_srcdir/scripts/stack.sh" client "$STACK" "$PORT"
check "stack.sh client runs again over its own files" [ $? -eq 0 ]
check "no temporary file left" [ ! -e "$STACK/rrcloudrc.tmp" ]
