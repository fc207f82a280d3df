#!/bin/sh
# test_owners.sh - identity and ownership, tried as an attacker on the same
# machine would: users and keys with roles (admin, operator, user, app),
# the role matrix against every endpoint class (relay, tasks, jobs,
# queues, printers, profiles, frontends, keys, events, metrics), another client's
# task (a second loopback address, or another key) is 404 on read,
# download, cancel and listing; expired and revoked keys are 401; a
# printer token on another printer is 403; anonymous print is refused and
# writes nothing; an app's end users are kept apart; anonymous relay
# tasks only from anonymous_networks.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
# A second loopback address to be "another client" (Linux routes all of
# 127/8 to lo).
curl -s -o /dev/null --interface 127.0.0.2 http://127.0.0.1:1/ 2>/dev/null
[ $? -eq 45 ] && skip "cannot bind 127.0.0.2"

ADMIN=adm-owners-test-0123456789abcdef0123456789
ENROLL=enr-owners-test-0123456789abcdef0123456789
# 127.0.0.1 may submit anonymously; 127.0.0.2 may not (and is a second
# client for reading).  info_all_clients opens anonymous tasks to every
# anonymous caller in anonymous_networks, and to no one else.
STACK_CONF_EXTRA="admin_token = $ADMIN
enroll_token = $ENROLL
anonymous_networks = 127.0.0.1/32
info_all_clients = yes"
export STACK_CONF_EXTRA
stack_start nginx

B="--interface 127.0.0.2"
printf 'hello\n' >"$T/hello.txt"
printf 'G28\nG1 X10\n' >"$T/part.gcode"

# code METHOD PATH [curl args...]: the status only (body in $T/body)
code() {
    m=$1; p=$2; shift 2
    curl -s -m 10 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p"
}
bearer() { echo "Authorization: Bearer $1"; }
admin() { # METHOD PATH [curl args...]: JSON answer
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "$(bearer "$ADMIN")" "$@" "$BASE/api/v1$p"
}
mkkey() { # JSON: the key
    admin POST /keys -H 'Content-Type: application/json' -d "$1" |
        jq -r '.key // empty'
}

# ---- users and keys -----------------------------------------------------------
expect_contains "admin creates a user" \
    "$(admin POST /users -d '{"name":"alice"}')" '"name":"alice"'
admin POST /users -d '{"name":"bob"}' >/dev/null
admin POST /users -d '{"name":"appco"}' >/dev/null
expect_eq "a user name twice is 409" 409 \
    "$(code POST /api/v1/users -H "$(bearer "$ADMIN")" -d '{"name":"bob"}')"
# Owners are one namespace: the bootstrap admin_token owns as "admin", a
# key without a user as its name, a user's keys as the user.
expect_eq "a user named admin is 400" 400 \
    "$(code POST /api/v1/users -H "$(bearer "$ADMIN")" -d '{"name":"admin"}')"
expect_contains "... naming the field" "$(body)" '"field":"name"'
expect_eq "so is a key named admin without a user" 400 \
    "$(code POST /api/v1/keys -H "$(bearer "$ADMIN")" -d '{"role":"admin","name":"admin"}')"
expect_eq "a key without a user named as a user is 409" 409 \
    "$(code POST /api/v1/keys -H "$(bearer "$ADMIN")" -d '{"role":"user","name":"bob"}')"
expect_contains "... saying why" "$(body)" "owns what it makes by its name"
mkkey '{"role":"operator","name":"ops-erin"}' >/dev/null
expect_eq "a user named as a key without a user is 409" 409 \
    "$(code POST /api/v1/users -H "$(bearer "$ADMIN")" -d '{"name":"ops-erin"}')"
expect_eq "... and nothing was written" 0 \
    "$(admin GET /users | jq '[.users[] | select(.name == "ops-erin")] | length')"
ALICE=$(mkkey '{"role":"user","name":"alice-key","user":"alice"}')
BOB=$(mkkey '{"role":"user","name":"bob-key","user":"bob"}')
OPER=$(mkkey '{"role":"operator","name":"ops"}')
APP=$(mkkey '{"role":"app","name":"appco-key","user":"appco"}')
ADM2=$(mkkey '{"role":"admin","name":"root2"}')
check "keys are rrk_<id>_<secret>" \
    expr "$ALICE" : 'rrk_[0-9a-f]\{12\}_[0-9a-f]\{40\}$'
check "every key made" [ -n "$BOB" ] && [ -n "$OPER" ] && [ -n "$APP" ] &&
    [ -n "$ADM2" ]
expect_eq "a key for no user is 404 naming user" 404 \
    "$(code POST /api/v1/keys -H "$(bearer "$ADMIN")" \
        -d '{"role":"user","name":"x","user":"nobody"}')"
expect_contains "... naming the field" "$(body)" '"field":"user"'
expect_eq "an unknown role is 400" 400 \
    "$(code POST /api/v1/keys -H "$(bearer "$ADMIN")" \
        -d '{"role":"root","name":"y"}')"
list=$(admin GET /keys)
expect_contains "keys are listed" "$list" '"name":"alice-key"'
expect_not_contains "a key is shown only once" "$list" "$ALICE"
expect_not_contains "no secret in the list" "$list" '"key"'
expect_contains "users with their keys" "$(admin GET /users)" \
    '{"name":"alice","created"'

# enrol two printers (for the printer token and job checks)
enroll() { # name [queue]
    curl -s -m 10 -H "$(bearer "$ENROLL")" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$1\",\"region\":\"eu\",\"queues\":[\"${2:-default}\"]}" \
        "$BASE/api/v1/printers"
}
out=$(enroll p1); P1=$(printf '%s' "$out" | jq -r .id)
T1=$(printf '%s' "$out" | jq -r .token)
out=$(enroll p2); P2=$(printf '%s' "$out" | jq -r .id)
check "two printers enrolled" [ -n "$P1" ] && [ -n "$P2" ] && [ -n "$T1" ]
# and one that serves only queue "vault", which no user key reaches
admin POST /queues -d '{"name":"vault"}' >/dev/null
out=$(enroll p3 vault); P3=$(printf '%s' "$out" | jq -r .id)
check "a vault printer enrolled" [ -n "$P3" ]

# ---- the role matrix ------------------------------------------------------------
# Each row: what, method, path, body; then the expected status for
# anonymous, printer token, enroll token, user, app, operator, admin.
# A call that is allowed meets a bad body (400) or a missing thing (404),
# so nothing is made by the matrix.
SVC='-F service=nosuch'
matrix() { # what method path body codes...
    what=$1; m=$2; p=$3; d=$4; shift 4
    for who in anon printer enroll user app operator admin; do
        case $who in
        anon) h="X-None: 1" ;;
        printer) h=$(bearer "$T1") ;;
        enroll) h=$(bearer "$ENROLL") ;;
        user) h=$(bearer "$ALICE") ;;
        app) h=$(bearer "$APP") ;;
        operator) h=$(bearer "$OPER") ;;
        admin) h=$(bearer "$ADM2") ;;
        esac
        if [ "$d" = form ]; then
            got=$(code "$m" "$p" -H "$h" $SVC)
        elif [ -n "$d" ]; then
            got=$(code "$m" "$p" -H "$h" -H 'Content-Type: application/json' \
                  -d "$d")
        else
            got=$(code "$m" "$p" -H "$h")
        fi
        expect_eq "$what as $who" "$1" "$got"
        case $1 in
        401|403) # JSON names the field; /metrics's text the key it needs
            case $(body) in
            *'"field":"Authorization"'*|*key*) pass ;;
            *) fail "$what as $who: refusal names nothing: $(body)" ;;
            esac ;;
        esac
        shift
    done
}
#                                                   anon prn enr usr app op  adm
matrix "relay submit" POST / form                    400 403 403 400 400 400 400
matrix "task list" GET /api/v1/tasks ''              200 200 200 200 200 200 200
matrix "print job" POST /api/v1/queues/default/jobs '{}' \
                                                     401 403 403 400 400 400 400
matrix "job list" GET /api/v1/jobs ''                401 403 403 200 200 200 200
matrix "queue list" GET /api/v1/queues ''            401 403 403 200 200 200 200
matrix "queue create" POST /api/v1/queues '{}'       401 403 403 403 403 400 400
matrix "printer list" GET /api/v1/printers ''        401 403 403 403 403 200 200
matrix "profile list" GET /api/v1/profiles ''        401 403 403 200 200 200 200
matrix "printer change" PATCH /api/v1/printers/$P2 '{"tags":7}' \
                                                     401 403 403 403 403 400 400
matrix "enroll" POST /api/v1/printers '[1]' \
                                                     401 403 400 403 403 400 400
matrix "frontend list" GET /api/v1/frontends ''      401 403 403 403 403 200 200
matrix "key list" GET /api/v1/keys ''                401 403 403 403 403 403 200
matrix "user create" POST /api/v1/users '{}'         401 403 403 403 403 403 400
matrix "events" GET /api/v1/events ''                401 403 403 403 403 200 200
matrix "metrics" GET /metrics ''                     401 403 403 403 403 200 200
expect_eq "the bootstrap admin_token still works" 200 \
    "$(code GET /api/v1/keys -H "$(bearer "$ADMIN")")"
expect_eq "X-Api-Key works as well" 200 \
    "$(code GET /api/v1/jobs -H "X-Api-Key: $ALICE")"
expect_eq "an unknown key is 401, not anonymous" 401 \
    "$(code GET /api/v1/tasks -H "$(bearer rrk_000000000000_00)")"

# ---- a printer token acts only for its own printer ---------------------------
expect_eq "printer token on its printer" 200 \
    "$(code GET /api/v1/printers/$P1 -H "$(bearer "$T1")")"
expect_eq "printer token on another printer is 403" 403 \
    "$(code GET /api/v1/printers/$P2 -H "$(bearer "$T1")")"
expect_eq "... also for its heartbeat" 403 \
    "$(code POST /api/v1/printers/$P2/heartbeat -H "$(bearer "$T1")" -d '{}')"

# ---- anonymous relay tasks: one loopback address's are not another's --------
out=$(curl -s -F service=echo -F async=1 -F format=json \
      -F "notifier=http://127.0.0.1:9/cb?secret=s3cr3t" \
      -F "fileIn0=@$T/hello.txt" "$BASE/")
A=$(printf '%s' "$out" | jq -r '.id // empty')
check "anonymous task from 127.0.0.1" [ -n "$A" ]
expect_eq "it is done" complete "$(wait_status "$A" complete 20)"
expect_eq "127.0.0.1 reads it" 200 "$(code GET /api/v1/tasks/$A)"
expect_eq "127.0.0.2 gets 404 reading it" 404 "$(code GET /api/v1/tasks/$A $B)"
expect_eq "... with service=info" 404 "$(code GET "/?service=info&id=$A" $B)"
# Each worker keeps an ended task it read for a second: the cached record
# is checked against the caller all the same.  The owner's reads reach
# every worker (they take turns), then the other caller's follow at once.
urls=""
for i in $(seq 24); do urls="$urls -o /dev/null $BASE/?service=info&id=$A"; done
owner=$(curl -s -w '%{http_code}\n' $urls | sort | uniq -c | tr -s ' ')
other=$(curl -s -w '%{http_code}\n' $B $urls | sort | uniq -c | tr -s ' ')
expect_eq "its owner reads it 24 times in a row" " 24 200" "$owner"
expect_eq "... and right after, 127.0.0.2 gets 404 each time (the workers' cache)" \
    " 24 404" "$other"
expect_eq "... cancelling it (DELETE)" 404 "$(code DELETE /api/v1/tasks/$A $B)"
expect_eq "... cancelling it (POST cancel)" 404 \
    "$(code POST /api/v1/tasks/$A/cancel $B)"
expect_eq "... cancelling it by GET (service=kill): no GET changes state" 405 \
    "$(code GET "/?service=kill&id=$A" $B)"
# (RepRapCloud's POSTs count as submissions: not from 127.0.0.2 unkeyed)
expect_eq "... cancelling it (POST service=kill, unkeyed)" 401 \
    "$(code POST / $B -F service=kill -F id=$A)"
expect_eq "... cancelling it (POST service=kill, another key)" 404 \
    "$(code POST / $B -H "$(bearer "$ALICE")" -F service=kill -F id=$A)"
expect_not_contains "127.0.0.2's task list lacks it" \
    "$(curl -s $B "$BASE/api/v1/tasks")" "$A"
expect_not_contains "... and the notifier's secret" \
    "$(curl -s $B "$BASE/api/v1/tasks")" "s3cr3t"
expect_not_contains "127.0.0.2's info list lacks it" \
    "$(curl -s $B "$BASE/?service=info")" "$A"
expect_contains "127.0.0.1's list has it" \
    "$(curl -s "$BASE/api/v1/tasks")" "$A"
# An anonymous task's result and log are plain links (RepRapCloud clients
# have nothing else): whoever has the unguessable id may fetch them.
outname=$(curl -s "$BASE/api/v1/tasks/$A" | jq -r '.output // empty' |
          sed 's|.*/tasks/out/||')
expect_eq "an anonymous result is a plain link" 200 \
    "$(code GET "/tasks/out/$outname" $B)"
expect_eq "127.0.0.2 may not submit anonymously (not in anonymous_networks)" \
    401 "$(code POST / $B -F service=echo -F "fileIn0=@$T/hello.txt")"
expect_contains "... and is told why" "$(body)" "anonymous_networks"
expect_eq "... but may with a key" 200 \
    "$(code POST / $B -H "$(bearer "$BOB")" -F service=echo -F async=1 \
       -F "fileIn0=@$T/hello.txt")"

# ---- keyed tasks: only their owner (and admins) ---------------------------------
keyed_wait() { # KEY ID: waits for the task to end
    i=0
    while [ $i -lt 200 ]; do
        st=$(curl -s -H "$(bearer "$1")" "$BASE/api/v1/tasks/$2" | jq -r .status)
        case $st in complete|failed|cancelled) echo "$st"; return ;; esac
        sleep 0.1; i=$((i + 1))
    done
    echo "$st"
}
out=$(curl -s -H "$(bearer "$ALICE")" -F service=echo -F async=1 \
      -F format=json -F "fileIn0=@$T/hello.txt" "$BASE/")
K=$(printf '%s' "$out" | jq -r '.id // empty')
check "alice's task" [ -n "$K" ]
expect_eq "alice's task ends" complete "$(keyed_wait "$ALICE" "$K")"
outname=$(curl -s -H "$(bearer "$ALICE")" "$BASE/api/v1/tasks/$K" |
          jq -r '.output // empty' | sed 's|.*/tasks/out/||')
for who in bob anon operator; do
    case $who in
    bob) h=$(bearer "$BOB") ;; anon) h="X-None: 1" ;; operator) h=$(bearer "$OPER") ;;
    esac
    expect_eq "$who: alice's task is 404" 404 "$(code GET /api/v1/tasks/$K -H "$h")"
    expect_eq "$who: alice's result is 404" 404 \
        "$(code GET "/tasks/out/$outname" -H "$h")"
    expect_eq "$who: alice's log is 404" 404 "$(code GET /tasks/log/$K -H "$h")"
    expect_eq "$who: cancelling alice's task is 404" 404 \
        "$(code DELETE /api/v1/tasks/$K -H "$h")"
    expect_not_contains "$who: alice's task not listed" \
        "$(curl -s -H "$h" "$BASE/api/v1/tasks")" "$K"
done
expect_eq "alice downloads her result" 200 \
    "$(code GET "/tasks/out/$outname" -H "$(bearer "$ALICE")")"
expect_eq "alice reads her log" 200 "$(code GET /tasks/log/$K -H "$(bearer "$ALICE")")"
expect_contains "alice's list has it" \
    "$(curl -s -H "$(bearer "$ALICE")" "$BASE/api/v1/tasks")" "$K"
expect_not_contains "alice's list lacks the anonymous task" \
    "$(curl -s -H "$(bearer "$ALICE")" "$BASE/api/v1/tasks")" "$A"
expect_contains "an admin sees every task" \
    "$(curl -s -H "$(bearer "$ADM2")" "$BASE/api/v1/tasks")" "$K"

# ---- an app's end users are kept apart ------------------------------------------
out=$(curl -s -H "$(bearer "$APP")" -H 'X-On-Behalf-Of: u1' -F service=echo \
      -F async=1 -F format=json -F "fileIn0=@$T/hello.txt" "$BASE/")
U1=$(printf '%s' "$out" | jq -r '.id // empty')
check "app task for u1" [ -n "$U1" ]
expect_eq "u2 cannot read u1's task" 404 \
    "$(code GET /api/v1/tasks/$U1 -H "$(bearer "$APP")" -H 'X-On-Behalf-Of: u2')"
expect_eq "u1 can" 200 \
    "$(code GET /api/v1/tasks/$U1 -H "$(bearer "$APP")" -H 'X-On-Behalf-Of: u1')"
expect_contains "browsers may send X-On-Behalf-Of (CORS preflight)" \
    "$(curl -s -i -X OPTIONS "$BASE/api/v1/tasks")" "X-On-Behalf-Of"
expect_eq "a bad end-user name is 401 naming the header" 401 \
    "$(code GET /api/v1/tasks -H "$(bearer "$APP")" -H 'X-On-Behalf-Of: a b')"
expect_contains "... named" "$(body)" "X-On-Behalf-Of"
# A malformed end-user name is no guessed key: twelve of them (over
# auth_fail_limit) do not lock the app's address out.
i=0
while [ $i -lt 12 ]; do
    curl -s -o /dev/null --interface 127.0.0.5 -H "$(bearer "$APP")" \
        -H "X-On-Behalf-Of: bad/name$i" "$BASE/api/v1/tasks"
    i=$((i + 1))
done
expect_eq "the app key still works from there" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.5 \
       -H "$(bearer "$APP")" -H 'X-On-Behalf-Of: u1' "$BASE/api/v1/tasks")"

# ---- print jobs: always a key; owners see their own ----------------------------
ntasks=$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/tasks" | jq '.tasks | length')
expect_eq "anonymous service=print is 401" 401 \
    "$(code POST / -F service=print -F "fileIn0=@$T/part.gcode" -F async=1)"
expect_eq "anonymous job upload is 401" 401 \
    "$(code POST /api/v1/queues/default/jobs -F "file=@$T/part.gcode")"
expect_eq "anonymous job aimed at a printer is 401" 401 \
    "$(code POST /api/v1/queues/default/jobs -F "file=@$T/part.gcode" \
       -F printer=$P1 -F copies=1000 -F priority=100)"
expect_eq "nothing was written" "$ntasks" \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/tasks" | jq '.tasks | length')"
expect_eq "no job was made" 0 \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/jobs" | jq .count)"
expect_eq "alice's print job" 201 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$ALICE")" \
       -F "file=@$T/part.gcode" -F 'notifier=http://al:pw@127.0.0.1:9/j?tok=jsecret')"
J=$(jq -r '.id // empty' "$T/body")
expect_eq "alice sees her job's notifier whole" "http://al:pw@127.0.0.1:9/j?tok=jsecret" \
    "$(curl -s -H "$(bearer "$ALICE")" "$BASE/api/v1/jobs/$J" | jq -r .notifier)"
expect_eq "the operator sees where it goes, not its secrets" "http://127.0.0.1:9/j" \
    "$(curl -s -H "$(bearer "$OPER")" "$BASE/api/v1/jobs/$J" | jq -r .notifier)"
expect_not_contains "... in the job list either" \
    "$(curl -s -H "$(bearer "$OPER")" "$BASE/api/v1/jobs")" "jsecret"
expect_eq "bob: alice's job is 404" 404 "$(code GET /api/v1/jobs/$J -H "$(bearer "$BOB")")"
expect_eq "bob: cancelling it is 404" 404 \
    "$(code POST /api/v1/jobs/$J/cancel -H "$(bearer "$BOB")" -d '{}')"
expect_eq "bob's job list is empty" 0 \
    "$(curl -s -H "$(bearer "$BOB")" "$BASE/api/v1/jobs" | jq .count)"
expect_eq "alice may not reorder (operators do)" 403 \
    "$(code POST /api/v1/jobs/$J/move -H "$(bearer "$ALICE")" -d '{"priority":9}')"
expect_eq "the operator sees it" 200 "$(code GET /api/v1/jobs/$J -H "$(bearer "$OPER")")"
expect_eq "alice cancels her job" 200 \
    "$(code POST /api/v1/jobs/$J/cancel -H "$(bearer "$ALICE")" -d '{}')"
njobs=$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/jobs" | jq .count)
expect_eq "alice aims at a printer outside the queue: 404" 404 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$ALICE")" \
       -F "file=@$T/part.gcode" -F printer=$P3)"
expect_contains "... naming the printer" "$(body)" \
    "no printer $P3 serves queue 'default'"
expect_eq "... as for a printer that does not exist" 404 \
    "$(code POST /api/v1/queues/default/jobs -H "$(bearer "$ALICE")" \
       -F "file=@$T/part.gcode" -F printer=999999)"
expect_eq "... and through the relay (service=print)" 404 \
    "$(code POST / -H "$(bearer "$ALICE")" -F service=print -F async=1 \
       -F "fileIn0=@$T/part.gcode" -F printer=$P3)"
expect_eq "no job was made for it" "$njobs" \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/jobs" | jq .count)"

# ---- expired and revoked keys: 401 ------------------------------------------------
SHORT=$(mkkey '{"role":"user","name":"short","user":"bob","expires_in":1}')
expect_eq "a fresh key works" 200 "$(code GET /api/v1/jobs -H "$(bearer "$SHORT")")"
expired() { [ "$(code GET /api/v1/jobs -H "$(bearer "$SHORT")")" = 401 ]; }
i=0; while [ $i -lt 30 ] && ! expired; do sleep 0.1; i=$((i + 1)); done
check "an expired key is 401" expired
expect_contains "... saying so" "$(body)" "expired"
expect_eq "revoke bob's key" 204 \
    "$(code POST /api/v1/keys/bob-key/revoke -H "$(bearer "$ADMIN")")"
expect_eq "a revoked key is 401" 401 "$(code GET /api/v1/tasks -H "$(bearer "$BOB")")"
expect_contains "... saying so" "$(body)" "revoked"
expect_eq "revoking twice is 409" 409 \
    "$(code POST /api/v1/keys/bob-key/revoke -H "$(bearer "$ADMIN")")"
expect_eq "a revoked key submits nothing" 401 \
    "$(code POST / -H "$(bearer "$BOB")" -F service=echo -F "fileIn0=@$T/hello.txt")"
expect_eq "the list shows it revoked" true \
    "$(admin GET /keys | jq '.keys[] | select(.name == "bob-key") | .revoked')"
expect_eq "delete a key" 204 "$(code DELETE /api/v1/keys/short -H "$(bearer "$ADMIN")")"
expect_eq "a deleted key is 401" 401 "$(code GET /api/v1/jobs -H "$(bearer "$SHORT")")"

# ---- the CLI: users, keys, login -------------------------------------------------
RR=${RRCLOUD:-$builddir/rrcloud}
mkdir -p "$T/home"
export HOME="$T/home"
unset RRCLOUD_TOKEN
S="--s=127.0.0.1:$PORT"
"$RR" "$S" --token="$ADMIN" user create carol >"$T/out" 2>"$T/err"
expect_eq "rrcloud user create" 0 $?
"$RR" "$S" --token="$ADMIN" key create --role=user --name=carol-cli \
    --user=carol --expires=30d --max-copies=2 --queues=default \
    >"$T/out" 2>"$T/err"
expect_eq "rrcloud key create" 0 $?
CAROL=$(sed -n 's/^key: //p' "$T/out")
check "the key is printed once, by create" \
    expr "$CAROL" : 'rrk_[0-9a-f]\{12\}_[0-9a-f]\{40\}$'
expect_contains "... saying so" "$(cat "$T/err")" "shown this once"
"$RR" "$S" --token="$ADMIN" key list >"$T/out" 2>"$T/err"
expect_eq "rrcloud key list" 0 $?
expect_contains "the list names it" "$(cat "$T/out")" "carol-cli"
expect_not_contains "the list never shows a key" "$(cat "$T/out")" "$CAROL"
"$RR" "$S" --token="$ALICE" key list >"$T/out" 2>"$T/err"
expect_eq "a user key may not list keys (exit 4)" 4 $?
"$RR" "$S" key create --role=user >"$T/out" 2>"$T/err"
expect_eq "key create without --name is a usage error" 2 $?
"$RR" "$S" key create --role=user --name=x --expires=soon >"$T/out" 2>"$T/err"
expect_eq "a bad --expires is a usage error" 2 $?
printf '%s\n' "$CAROL" | "$RR" "$S" login >"$T/out" 2>"$T/err"
expect_eq "rrcloud login" 0 $?
expect_eq "~/.rrcloudrc holds the key" "key = $CAROL" \
    "$(grep '^key' "$HOME/.rrcloudrc")"
expect_eq "~/.rrcloudrc is private" 600 "$(stat -c %a "$HOME/.rrcloudrc")"
expect_not_contains "login does not print the key" \
    "$(cat "$T/out" "$T/err")" "$CAROL"
printf 'rrk_000000000000_0000\n' | "$RR" "$S" login >"$T/out" 2>"$T/err"
expect_eq "login with an unknown key is refused (exit 4)" 4 $?
expect_eq "... and keeps the stored key" "key = $CAROL" \
    "$(grep '^key' "$HOME/.rrcloudrc")"
# the stored key goes with every call: carol's task is carol's
printf 'from carol\n' >"$T/carol.txt"
(cd "$T" && "$RR" "$S" --async echo carol.txt) >"$T/out" 2>"$T/err"
CT=$(sed -n 's/^id: //p' "$T/out")
check "carol submits with her stored key" [ -n "$CT" ]
expect_eq "anonymous 127.0.0.1 gets 404 for it" 404 "$(code GET /api/v1/tasks/$CT)"
expect_eq "carol's key reads it" 200 \
    "$(code GET /api/v1/tasks/$CT -H "$(bearer "$CAROL")")"
"$RR" "$S" info "$CT" >"$T/out" 2>"$T/err"
expect_eq "rrcloud info with the stored key" 0 $?
# The stored key goes only to the servers it belongs to: not to a
# SERVICE.servers of rrcloudrc without its own SERVICE.key.
start_listener "$T/other.log"
cp "$HOME/.rrcloudrc" "$T/rc.saved"
printf 'servers = 127.0.0.1:%s\necho.servers = 127.0.0.1:%s\n' "$PORT" "$LPORT" \
    >>"$HOME/.rrcloudrc"
(cd "$T" && "$RR" --async echo carol.txt) >"$T/out" 2>"$T/err"
check "echo went to echo.servers" [ -s "$T/other.log" ]
expect_not_contains "... without the stored key" "$(cat "$T/other.log")" "$CAROL"
"$RR" info "$CT" >"$T/out" 2>"$T/err"
expect_eq "rrcloud info takes the key to servers" 0 $?
: >"$T/other.log"
printf 'echo.key = %s\n' "$CAROL" >>"$HOME/.rrcloudrc"
(cd "$T" && "$RR" --async echo carol.txt) >"$T/out" 2>"$T/err"
expect_contains "echo.key goes to echo.servers" "$(cat "$T/other.log")" \
    "Bearer $CAROL"
cp "$T/rc.saved" "$HOME/.rrcloudrc"
"$RR" "$S" --token="$ADMIN" key revoke carol-cli >"$T/out" 2>"$T/err"
expect_eq "rrcloud key revoke" 0 $?
"$RR" "$S" info "$CT" >"$T/out" 2>"$T/err"
check "a revoked stored key is refused" [ $? -ne 0 ]

# ---- per-key limits ------------------------------------------------------------------
admin POST /queues -d '{"name":"farm"}' >/dev/null
LIM=$(mkkey '{"role":"user","name":"limited","user":"alice","queues":"default","max_copies":2,"max_priority":5,"max_queued":1}')
check "a key with limits" [ -n "$LIM" ]
expect_contains "its limits are listed" "$(admin GET /keys)" \
    '"queues":"default","created"'
lim_job() { # extra curl args: the status of a job upload with LIM
    code POST /api/v1/queues/${Q:-default}/jobs -H "$(bearer "$LIM")" \
        -F "file=@$T/part.gcode" "$@"
}
expect_eq "a queue not among its queues is 403" 403 "$(Q=farm lim_job)"
expect_contains "... naming the field" "$(body)" '"field":"queue"'
expect_eq "more copies than max_copies is 403" 403 "$(lim_job -F copies=3)"
expect_contains "... naming the field and limit" "$(body)" "max_copies"
expect_eq "a priority over max_priority is 403" 403 "$(lim_job -F priority=6)"
expect_contains "... naming the limit" "$(body)" "max_priority"
expect_eq "service=print over max_copies is 403" 403 \
    "$(code POST / -H "$(bearer "$LIM")" -F service=print -F copies=3 \
       -F "fileIn0=@$T/part.gcode" -F async=1)"
expect_eq "within its limits: 201" 201 "$(lim_job -F copies=2 -F priority=5)"
expect_eq "a second open job over max_queued is 429" 429 "$(lim_job)"
expect_contains "... naming the limit" "$(body)" '"field":"max_queued"'
expect_eq "... and so is a relay task" 429 \
    "$(code POST / -H "$(bearer "$LIM")" -F service=echo -F "fileIn0=@$T/hello.txt")"
expect_eq "nothing more was written: one open job" 1 \
    "$(curl -s -H "$(bearer "$LIM")" "$BASE/api/v1/jobs?state=queued" | jq .count)"
# An app key's max_queued counts all its end users: a fresh X-On-Behalf-Of
# per request does not escape it.
admin POST /users -d '{"name":"applim"}' >/dev/null
APPLIM=$(mkkey '{"role":"app","name":"applim-key","user":"applim","max_queued":1}')
app_job() { # END-USER
    code POST /api/v1/queues/default/jobs -H "$(bearer "$APPLIM")" \
        -H "X-On-Behalf-Of: $1" -F "file=@$T/part.gcode"
}
expect_eq "the app's first job (end user e1)" 201 "$(app_job e1)"
expect_eq "a second, for end user e2, is over the key's max_queued" 429 "$(app_job e2)"
# Submissions that arrive together do not all pass max_queued: the count
# is made again in the transaction that writes the job (REST jobs and
# service=print alike).
admin POST /users -d '{"name":"racer"}' >/dev/null
RACE=$(mkkey '{"role":"user","name":"racer-key","user":"racer","queues":"default","max_queued":3}')
pids=
for i in 1 2 3 4 5 6 7 8; do
    if [ $((i % 2)) -eq 0 ]; then
        set -- "$BASE/api/v1/queues/default/jobs" -F "file=@$T/part.gcode"
    else
        set -- "$BASE/" -F service=print -F async=1 -F "fileIn0=@$T/part.gcode"
    fi
    curl -s -o /dev/null -w '%{http_code}\n' -H "$(bearer "$RACE")" "$@" \
        >"$T/race.$i" &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
expect_eq "8 at once with max_queued 3: 3 taken, 5 refused with 429" "3 5" \
    "$(cat "$T"/race.* | grep -c '^20[01]$') $(cat "$T"/race.* | grep -c '^429$')"
expect_eq "... and 3 open jobs written" 3 \
    "$(curl -s -H "$(bearer "$RACE")" "$BASE/api/v1/jobs?state=queued" | jq .count)"

# ---- every mutating call is an event: who, what, from where, when ------------------
ev=$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/events?limit=1000")
expect_contains "a granted call is recorded" "$ev" \
    "key:alice-key POST /api/v1/queues/default/jobs -> 201 from 127.0.0.1"
expect_contains "a refused key too" "$ev" \
    "anonymous POST / -> 401 from 127.0.0.1"
expect_contains "another address's" "$ev" "POST / -> 200 from 127.0.0.2"
expect_contains "an anonymous refusal from anonymous_networks is" "$ev" \
    "anonymous POST /api/v1/queues/default/jobs -> 401 from 127.0.0.1"
expect_not_contains "not one from elsewhere (anyone could fill the table)" \
    "$ev" "anonymous POST / -> 401 from 127.0.0.2"
expect_contains "a printer's" "$ev" "printer:$P1 POST /api/v1/printers/$P2/heartbeat -> 403"
expect_contains "an app's end user's" "$ev" "key:appco-key for u1 POST / -> "
expect_contains "with its time" "$(printf '%s' "$ev" | jq -c '[.events[] | select(.kind == "api")][0]')" '"time":'
expect_not_contains "no GET is recorded" "$ev" " GET /"
expect_eq "a printer's heartbeat" 200 \
    "$(code POST /api/v1/printers/$P1/heartbeat -H "$(bearer "$T1")" -d '{}')"
expect_not_contains "... is not an event (it comes every few seconds)" \
    "$(curl -s -H "$(bearer "$ADMIN")" "$BASE/api/v1/events?limit=1000")" \
    "printer:$P1 POST /api/v1/printers/$P1/heartbeat"

# ---- rrcloudd's own tasks (a model job's render or slice) --------------------
# info_all_clients opens them to be read by any anonymous caller here, but
# only an admin cancels one by hand: other users' jobs may wait for it.
out=$(curl -s -F service=echo -F async=1 -F format=json \
      -F "fileIn0=@$T/hello.txt" "$BASE/")
S=$(printf '%s' "$out" | jq -r '.id // empty')
expect_eq "a task to stand for one" complete "$(wait_status "$S" complete 20)"
sqlite3 "$STACK/rrcloud.db" "UPDATE tasks SET client = 'rrcloudd-slicer' WHERE id = '$S'"
expect_eq "an anonymous caller reads it (info_all_clients)" 200 \
    "$(code GET /api/v1/tasks/$S)"
expect_eq "... may not cancel it (POST service=kill): 403" 403 \
    "$(code POST / -F service=kill -F id=$S)"
expect_contains "... naming the field and why" "$(body)" "rrcloudd's own"
expect_eq "... nor with DELETE" 403 "$(code DELETE /api/v1/tasks/$S)"
expect_eq "the admin may (the API answers 202)" 202 \
    "$(code DELETE /api/v1/tasks/$S -H "$(bearer "$ADMIN")")"
