#!/bin/sh
# test_relay.sh - RepRapCloud's HTTP interface end to end through a real web
# server (WEB=nginx or lighttpd; see test_relay_nginx.sh and
# test_relay_lighttpd.sh): submit sync and async, info in text, JSON and
# HTML, results and logs, meta, cancel, the JSON API, CORS.
. "$(dirname "$0")/lib.sh"

WEB=${WEB:-nginx}
case $WEB in
nginx) [ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "no nginx" ;;
lighttpd) [ -n "${LIGHTTPD:-}" ] || [ -x /usr/sbin/lighttpd ] || skip "no lighttpd" ;;
esac
stack_start "$WEB"

printf 'hello rrcloud\n' >"$T/hello.txt"

# --- synchronous submission: the answer comes when the task has ended ----
out=$(curl -s -F service=echo -F "fileIn0=@$T/hello.txt" "$BASE/")
expect_contains "sync submit answers the final state" "$out" "state: complete"
# RepRapCloud's client polls (and downloads) only what its POST said is busy
expect_contains "sync submit's status is RepRapCloud's busy" "$out" "status: busy"
id=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
check "sync submit gives an id" [ -n "$id" ]
expect_contains "text record has sizeOut" "$out" "sizeOut: 14"
expect_contains "text record has out" "$out" "out: tasks/out/$id"
expect_contains "cmd is the argv" "$out" "cmd: cp in0.txt $id"

# --- the result and the log, served by the web server after the lookup ---
res=$(curl -s "$BASE/tasks/out/$id")
expect_eq "result bytes" "hello rrcloud" "$res"
code=$(http_status GET "$BASE/tasks/log/$id")
expect_eq "log is served" 200 "$code"
code=$(http_status GET "$BASE/tasks/out/$id.stl")
expect_eq "wrong output name is 404" 404 "$code"
code=$(http_status GET "$BASE/_spool/tasks/$id/in0.txt")
expect_eq "spool is not reachable directly" 404 "$code"

# --- async, by field and by Prefer header ----------------------------------
out=$(curl -s -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/")
expect_contains "async answers at once" "$out" "state: queued"
expect_contains "async: queued reads busy in text" "$out" "status: busy"
aid=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
expect_eq "async task completes" complete "$(wait_status "$aid" complete 20)"
out=$(curl -s -H 'Prefer: respond-async' -F service=echo -F format=json \
    -F "fileIn0=@$T/hello.txt" "$BASE/")
expect_contains "Prefer: respond-async gives JSON at once" "$out" '"status": "queued"'

# --- a browser form with a second file input left empty (filename="") ------
: >"$T/empty"
out=$(curl -s -F service=echo -F format=json -F "fileIn0=@$T/hello.txt" \
    -F "fileIn1=@$T/empty;filename=" "$BASE/")
expect_contains "an empty file input is no input" "$out" '"in": "in0.txt"'
expect_contains "and the task runs" "$out" '"status": "complete"'

# --- inline content (jQuery's $.post sends urlencoded fields) ----------------
out=$(curl -s --data-urlencode 'service=echo' --data-urlencode 'fileIn0=inline body' \
    --data-urlencode format=json "$BASE/")
expect_contains "urlencoded inline content runs" "$out" '"status": "complete"'
iid=$(printf '%s\n' "$out" | sed -n 's/.*"id": "\([0-9-]*\)".*/\1/p')
expect_eq "inline content is the input" "inline body" "$(curl -s "$BASE/tasks/out/$iid")"

# --- info in the three formats ------------------------------------------------
out=$(curl -s "$BASE/?service=info&id=$id")
expect_contains "info text" "$out" "status: complete"
expect_contains "info text has the true state" "$out" "state: complete"
out=$(curl -s "$BASE/?service=info&id=$id&format=json")
expect_contains "info json" "$out" "\"id\": \"$id\""
out=$(curl -s -H 'Accept: application/json' "$BASE/?service=info&id=$id")
expect_contains "Accept: application/json" "$out" "\"status\": \"complete\""
out=$(curl -s -A 'Mozilla/5.0' -H 'Accept: text/html' "$BASE/?service=info&id=$id")
expect_contains "browsers get a page" "$out" "<table"
out=$(curl -s "$BASE/?service=info&format=json")
expect_contains "list of this client's tasks" "$out" "$id"
out=$(curl -s -X POST -F service=info -F "id=$id" "$BASE/")
expect_contains "info by POST (RepRapCloud's client does this)" "$out" "id: $id"

hdr=$(curl -s -D - -o /dev/null "$BASE/?service=info&id=$id")
expect_contains "CORS header" "$hdr" "Access-Control-Allow-Origin: *"

# --- meta ---------------------------------------------------------------------------
out=$(curl -s "$BASE/?service=meta")
expect_contains "meta lists services" "$out" "services: "
expect_contains "meta lists echo" "$out" "echo"
expect_contains "meta has uptime" "$out" "uptime: 0d"
out=$(curl -s "$BASE/?service=meta&format=json")
expect_contains "meta json" "$out" '"version": "rrcloud'

# --- the JSON API ---------------------------------------------------------------------
code=$(http_status POST "$BASE/api/v1/tasks" -F service=echo -F "fileIn0=@$T/hello.txt")
expect_eq "api create is 201" 201 "$code"
apid=$(sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p' "$T/body")
expect_eq "api task completes" complete "$(wait_status "$apid" complete 20)"
out=$(curl -s "$BASE/api/v1/tasks?status=complete&limit=5")
expect_contains "api list" "$out" '"tasks":['
out=$(curl -s "$BASE/api/v1/services")
expect_contains "api services describe argInput" "$out" '"argInput":"--load="'
code=$(http_status GET "$BASE/api/v1/tasks/1700000000-00000-000000")
expect_eq "api unknown task is 404" 404 "$code"
code=$(http_status GET "$BASE/healthz")
expect_eq "healthz" 200 "$code"

# --- cancel of a task that has ended (busy and queued ones: test_faults.sh) ---------
out=$(curl -s -X POST -d "" "$BASE/api/v1/tasks/$apid/cancel")
expect_contains "cancelling a final task leaves it alone" "$out" '"status":"complete"'
