#!/bin/sh
# test_fleet_scope.sh - printers act only for themselves: a printer token
# may report its own zrok share URL (https://prn-ID.NAMESPACE of its
# assigned frontend) or one that fleet_share_patterns allows, and nothing
# else (another printer's share, another host, loopback or private
# addresses); it may not change its queues or policy.  Every refusal is a
# 4xx naming the field, and nothing is written.  The stack runs with
# rrcloud's default deny list (no loopback allowed).
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || skip "no jq"
[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"

ADMIN=adm-scope-test-0123456789abcdef0123456789
ENROLL=enr-scope-test-0123456789abcdef0123456789
STACK_ALLOW_LOCAL=0
# No canary: the frontend counts as healthy, and nothing here dials it.
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
fleet_poll_interval = 1
fleet_share_patterns = https://moon-\$id.lan.example/*
enroll_queues = farm
frontend = fe1 eu https://fe1.fleet.test namespace=eu1.fleet.test"
export STACK_CONF_EXTRA STACK_ALLOW_LOCAL
failures=1
stack_start nginx
failures=0

J='Content-Type: application/json'
api() { # METHOD PATH TOKEN [JSON]
    http_status "$1" "$BASE/api/v1$2" -H "Authorization: Bearer $3" -H "$J" \
        ${4:+-d "$4"}
}

code=$(api POST /queues "$ADMIN" '{"name":"farm"}')
expect_eq "queue farm created" 201 "$code"
code=$(api POST /queues "$ADMIN" '{"name":"secret"}')
expect_eq "queue secret created" 201 "$code"
for n in 1 2; do
    code=$(api POST /printers "$ENROLL" "{\"name\":\"p$n\",\"region\":\"eu\",\"queues\":[\"farm\"]}")
    expect_eq "printer $n enrolled" 201 "$code"
    eval "ID$n=\$(body | jq -r .id)"
    eval "TOK$n=\$(body | jq -r .token)"
done
expect_eq "enrolled on fe1's namespace" "eu1.fleet.test" "$(body | jq -r .namespace)"
nprinters=$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/api/v1/printers" | jq '.printers | length')
code=$(api POST /printers "$ENROLL" '{"name":"spy","region":"eu","queues":["farm","secret"]}')
expect_eq "the enroll token may not subscribe a printer to queue secret" 403 "$code"
expect_contains "... naming queues and enroll_queues" "$(body)" \
    '"field":"queues","message":"queues: an enrollment may ask only for enroll_queues (farm), not '"'secret'"
expect_eq "... and no printer was made" "$nprinters" \
    "$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/api/v1/printers" | jq '.printers | length')"
code=$(api POST /printers "$ADMIN" '{"name":"vault-1","region":"eu","queues":["secret"]}')
expect_eq "an operator (admin) enrolls into it" 201 "$code"

# share DESC WANT URL [METHOD PATH]: printer 1 reports URL.
share() {
    code=$(api "${4:-PUT}" "/printers/$ID1/${5:-share}" "$TOK1" "{\"share_url\":\"$3\"}")
    expect_eq "$1: status" "$2" "$code"
    [ "$2" = 200 ] || expect_contains "$1: names share_url" "$(body)" "share_url"
}
# wait_grep FILE TEXT [TENTHS] (TEXT fixed; -E: a regex): 0 once in FILE.
wait_grep() {
    mode=-F
    [ "$1" = -E ] && { mode=-E; shift; }
    i=0
    while ! grep -q "$mode" -- "$2" "$1" 2>/dev/null; do
        [ $i -ge "${3:-100}" ] && return 1
        sleep 0.1; i=$((i + 1))
    done
    return 0
}
stored() { api GET "/printers/$ID1" "$ADMIN" >/dev/null; body | jq -r .share_url; }

share "its own zrok share" 200 "https://prn-$ID1.eu1.fleet.test"
share "its own zrok share, trailing slash" 200 "https://prn-$ID1.eu1.fleet.test/"
share "its own share under fe1's URL" 200 "https://prn-$ID1.fe1.fleet.test"
share "a fleet_share_patterns match" 200 "https://moon-$ID1.lan.example/"
kept=$(stored)
for u in "https://prn-$ID2.eu1.fleet.test" "https://moon-$ID2.lan.example/" \
         "https://prn-$ID1.other.fleet.test" "http://prn-$ID1.eu1.fleet.test" \
         "https://prn-$ID1.eu1.fleet.test/x" "https://evil.example/" \
         "http://127.0.0.1:7125" "http://2130706433:7125" "http://[::1]:7125" \
         "http://localhost:7125" "http://169.254.169.254/" "http://192.168.1.20:7125"; do
    share "share $u" 400 "$u"
    share "heartbeat share $u" 400 "$u" POST heartbeat
done
expect_eq "refused share URLs wrote nothing" "$kept" "$(stored)"
code=$(api PUT "/printers/$ID2/share" "$TOK1" "{\"share_url\":\"https://prn-$ID2.eu1.fleet.test\"}")
expect_eq "a printer token for another printer: 403" 403 "$code"

# Operators may point a share elsewhere, but not at denied addresses.
code=$(api PUT "/printers/$ID1/share" "$ADMIN" '{"share_url":"https://moonraker.example.org/"}')
expect_eq "admin sets an off-pattern share" 200 "$code"
code=$(api PUT "/printers/$ID1/share" "$ADMIN" '{"share_url":"http://127.0.0.1:7125"}')
expect_eq "admin: loopback share refused" 400 "$code"
expect_contains "admin: loopback share names the class" "$(body)" "loopback"
expect_eq "admin's refused share wrote nothing" "https://moonraker.example.org/" "$(stored)"

# --- queues and policy: operators only ---------------------------------
for f in '"queues":["secret"]' '"auto_eject":true' '"tags":["fast"]' \
         '"region":"us"' '"site":"lab2"'; do
    name=$(printf '%s' "$f" | sed 's/^"\([a-z_]*\)".*/\1/')
    code=$(api PATCH "/printers/$ID1" "$TOK1" "{\"material\":\"petg\",$f}")
    expect_eq "printer token sets $name: 403" 403 "$code"
    expect_contains "printer token sets $name: names it" "$(body)" "\"field\":\"$name\""
done
api GET "/printers/$ID1" "$ADMIN" >/dev/null
expect_eq "queues unchanged" '["farm"]' "$(body | jq -c .queues)"
expect_eq "material unchanged (nothing written)" "" "$(body | jq -r '.material // ""')"
code=$(api PATCH "/printers/$ID1" "$TOK1" '{"material":"petg","colour":"red"}')
expect_eq "printer token reports its material" 200 "$code"
code=$(api PATCH "/printers/$ID1" "$ADMIN" '{"queues":["farm","secret"],"auto_eject":true}')
expect_eq "the operator changes queues and policy" 200 "$code"
expect_eq "queues changed by the operator" '["farm","secret"]' "$(body | jq -c .queues)"

# --- names that resolve to loopback: refused where the connection is made --
# A name other than localhost is not resolved when a URL is accepted, so
# this needs one that /etc/hosts (or DNS) maps to a loopback address.
HN=$(hostname)
case $(getent hosts "$HN" 2>/dev/null | awk '{ print $1; exit }') in
127.*|::1)
    code=$(api PUT "/printers/$ID2/share" "$ADMIN" "{\"share_url\":\"http://$HN:9/p/2\"}")
    expect_eq "admin sets a share by a name ($HN)" 200 "$code"
    check "the poller refuses to call it" wait_grep -E "$STACK/log/rrcloudd.log" \
        "printer $ID2 .*refused: the share URL's host is a loopback address" 100
    printf 'hello\n' >"$T/hello.txt"
    id=$(curl -s -m 10 -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" \
        --form-string "notifier=http://$HN:9/done?secret=q-$$" "$BASE/" | sed -n 's/^id: //p')
    check "a notifier by name is accepted" [ -n "$id" ]
    check "rrcloudd refuses the delivery for good" wait_grep "$STACK/log/rrcloudd.log" \
        "notify: task $id attempt 1: http://$HN:9/done: refused: the host is a loopback address (not in notifier_allow); giving up" 100
    m=$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/metrics" | grep '^rrcloud_notifications')
    expect_contains "metrics count the failure" "$m" 'rrcloud_notifications{state="failed"} 1'
    expect_not_contains "metrics name no target" "$m" "$HN"
    ;;
*) echo "-- $HN does not resolve to loopback: the connect-time checks are skipped" ;;
esac

# --- a job's notifier is checked like a task's ------------------------------
for n in 'http://127.0.0.1:8000/x' 'http://0x7f000001/x' 'http://[::1]/x' \
         'http://localhost/x' 'http://169.254.169.254/x' 'http://10.1.1.1/x'; do
    code=$(http_status POST "$BASE/api/v1/queues/farm/jobs" -H "Authorization: Bearer $ADMIN" \
        -F "file=@$top_srcdir/tests/data/small.gcode" --form-string "notifier=$n")
    expect_eq "job notifier $n: 400" 400 "$code"
    expect_contains "job notifier $n: names notifier" "$(body)" '"field":"notifier"'
done
api GET "/jobs" "$ADMIN" >/dev/null
expect_eq "no job was created" '[]' "$(body | jq -c '.jobs')"
