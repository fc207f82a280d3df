#!/bin/sh
# test_agent.sh - runs conf/rrcloud-agent against a stand-in control server
# (socat + a sh responder speaking the /api/v1/printers API) and a stand-in
# zrok2 (first on PATH: records its arguments, prints a share URL the way
# `zrok2 share public --headless` does, runs until killed) and checks:
# enrollment, the saved 0600 state, the zrok command lines, the share URL
# report, heartbeats, zrok restarts, a move to another frontend, backoff
# while the control server is away and recovery, a clean SIGTERM, and that
# a refused enrollment token stops the agent with exit status 78.
#
# Exit: 0 pass, 1 fail, 77 skip (socat, jq or curl missing).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
AGENT=$top_srcdir/conf/rrcloud-agent
AGENT_SH=${AGENT_SH:-}   # e.g. "bash --posix" to try another shell
for p in socat jq curl; do
    command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p missing"; exit 77; }
done

TMP=$(mktemp -d) || exit 1
SOCAT_PID=""
AGENT_PID=""
MOON_PID=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null
    [ -z "$SOCAT_PID" ] || kill "$SOCAT_PID" 2>/dev/null
    [ -z "$MOON_PID" ] || kill "$MOON_PID" 2>/dev/null
MOON_PID=""
    for f in "$TMP"/zrok.*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.2
    if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check()  { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# wait_until SECONDS COMMAND...: polls every 0.1 s
wait_until() {
    lim=$(($1 * 10)); shift
    i=0
    while [ $i -lt $lim ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

count() { # FILE PATTERN: lines matching
    if [ -f "$1" ]; then grep -c -- "$2" "$1"; else echo 0; fi
}
# shellcheck disable=SC2317 # called through check and wait_until
at_least() { [ "$(count "$2" "$3")" -ge "$1" ]; }  # N FILE PATTERN

# --- the stand-in zrok2 -------------------------------------------------------
mkdir -p "$TMP/bin"
cat >"$TMP/bin/zrok2" <<'EOF'
#!/bin/sh
# Stand-in zrok2: logs "ARGS..." to $ZROK_LOG; "share public" prints like
# zrok2 --headless and runs until SIGTERM (logging "stopped PID").
printf '%s\n' "$*" >>"$ZROK_LOG"
[ "$1 $2" = "share public" ] || exit 0
sel=""
while [ $# -gt 0 ]; do
    [ "$1" = -n ] && { sel=$2; shift; }
    shift
done
ns=${sel%%:*}; name=${sel#*:}
echo $$ >"$ZROK_DIR/zrok.$$.pid"
trap 'echo "stopped $$ $sel" >>"$ZROK_LOG"; rm -f "$ZROK_DIR/zrok.$$.pid"; kill $s 2>/dev/null; exit 0' TERM
esc=$(printf '\033')
echo "[   0.101]    INFO sdk.CreateShare: api endpoint https://api.fleet.test/api/v2"
echo "${esc}[34m[   0.512]${esc}[0m    INFO main.(*sharePublicCommand).shareLocal: access your zrok share at the following endpoints:"
echo " https://$name.${ns#ns-}.fleet.test"
while :; do
    sleep 1 &
    s=$!
    wait $s
done
EOF
chmod +x "$TMP/bin/zrok2"

# --- the stand-in control server ------------------------------------------------
# One connection per process (socat fork).  Answers from files in $D:
# enroll.json (201), hb.json (heartbeat), hb-move.json (one heartbeat,
# then removed); while the file "forget" exists, printer 7 is unknown (404)
# until it enrolls again.  Logs "time METHOD PATH AUTH BODY" to $D/requests.log.
cat >"$TMP/control.sh" <<'EOF'
#!/bin/sh
D=${0%/*}
cr=$(printf '\r')
read -r method path proto || exit 0
len=0; auth=""
while IFS= read -r line; do
    line=${line%"$cr"}
    [ -z "$line" ] && break
    case $line in
    [Cc]ontent-[Ll]ength:*) len=$(echo "${line#*:}" | tr -dc '0-9') ;;
    [Aa]uthorization:*) auth=$(echo "${line#*:}" | sed 's/^ *//') ;;
    esac
done
body=""
[ "${len:-0}" -gt 0 ] && body=$(dd bs=1 count="$len" 2>/dev/null)
printf '%s %s %s [%s] %s\n' "$(date +%s.%N)" "$method" "$path" "$auth" "$body" >>"$D/requests.log"
status="404 Not Found"; answer='{"error":{"code":404,"field":null,"message":"no such resource"}}'
case "$method $path" in
"POST /api/v1/printers")
    if [ "$auth" = "Bearer enroll-secret" ]; then
        rm -f "$D/forget"
        status="201 Created"; answer=$(cat "$D/enroll.json")
    else
        status="401 Unauthorized"
        answer='{"error":{"code":401,"field":null,"message":"bad enrollment token"}}'
    fi ;;
"PUT /api/v1/printers/7/share")
    if [ "$auth" = "Bearer ptok-7" ] && [ ! -f "$D/forget" ]; then status="200 OK"; answer='{"ok":true}'; fi ;;
"POST /api/v1/printers/7/heartbeat")
    if [ "$auth" = "Bearer ptok-7" ] && [ ! -f "$D/forget" ]; then
        status="200 OK"
        if mv "$D/hb-move.json" "$D/hb-move.sent" 2>/dev/null; then
            answer=$(cat "$D/hb-move.sent")
        else
            answer=$(cat "$D/hb.json")
        fi
    fi ;;
esac
printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$status" "${#answer}" "$answer"
EOF
chmod +x "$TMP/control.sh"

FE1='{"name":"eu1-a","url":"https://eu1.fleet.test","region":"eu","namespace":"ns-eu1"}'
FE2='{"name":"us1-a","url":"https://us1.fleet.test","region":"us","namespace":"ns-us1"}'
printf '{"id":7,"token":"ptok-7","frontend":%s,"share_name":"prn-7"}' "$FE1" >"$TMP/enroll.json"
printf '{"frontend":%s,"move":false,"share_name":"prn-7"}' "$FE1" >"$TMP/hb.json"

PORT=""
start_control() { # [port]: starts socat, sets PORT
    try=0
    while [ $try -lt 20 ]; do
        # Below the ephemeral range (32768 and up on Linux), where client
        # sockets would hold the ports.
        p=${1:-$((20000 + ($$ * 7 + try * 131) % 12000))}
        socat "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr" \
            "EXEC:$TMP/control.sh" 2>>"$TMP/socat.err" &
        SOCAT_PID=$!
        if wait_until 3 curl -s -o /dev/null "http://127.0.0.1:$p/ping"; then
            PORT=$p
            return 0
        fi
        kill "$SOCAT_PID" 2>/dev/null
        SOCAT_PID=""
        [ -n "${1:-}" ] && return 1
        try=$((try + 1))
    done
    return 1
}
stop_control() {
    kill "$SOCAT_PID" 2>/dev/null
    wait "$SOCAT_PID" 2>/dev/null
    SOCAT_PID=""
}

start_control || { echo "Bail out! cannot start socat"; cat "$TMP/socat.err"; exit 1; }
REQ=$TMP/requests.log
ZLOG=$TMP/zrok-args.log
: >"$REQ"

printf 'MOONKEY-123\n' >"$TMP/moonraker.key"
printf 'enroll-secret\n' >"$TMP/enroll.token"
write_conf() { # FILE STATE_DIR TOKEN_FILE
    cat >"$1" <<EOF
# test configuration
server = http://127.0.0.1:$PORT/
enroll_token_file = $3
name = bench-prn-1
region = eu
site = lab-a
profile = voron24-0.4
material = PLA
colour = black
queues = default, pla-black ,
auto_eject = yes
moonraker_port = 7125
moonraker_api_key_file = $TMP/moonraker.key
moonraker_check = no
state_dir = $2
heartbeat_interval = 1
backoff_base = 1
backoff_max = 4
share_timeout = 5
stop_timeout = 3
EOF
}
write_conf "$TMP/agent.conf" "$TMP/state" "$TMP/enroll.token"

export ZROK_LOG="$ZLOG" ZROK_DIR="$TMP"
PATH=$TMP/bin:$PATH $AGENT_SH "$AGENT" -c "$TMP/agent.conf" 2>"$TMP/agent.log" &
AGENT_PID=$!

# --- enrollment -------------------------------------------------------------------
check "agent enrolls" wait_until 10 at_least 1 "$REQ" ' POST /api/v1/printers '
enroll_line=$(grep ' POST /api/v1/printers ' "$REQ" | head -n 1)
check "enrollment carries the enrollment token" \
    test -n "$(printf '%s' "$enroll_line" | grep -F '[Bearer enroll-secret]')"
enroll_body=$(printf '%s' "$enroll_line" | sed 's/^[^]]*] //')
check "enrollment body has the configured fields" test "$(printf '%s' "$enroll_body" | jq -c '
    [.name, .region, .profile, .material, .colour, .queues, .auto_eject,
     .moonraker_api_key, .site]')" = \
    '["bench-prn-1","eu","voron24-0.4","PLA","black",["default","pla-black"],true,"MOONKEY-123","lab-a"]'

check "printer id and token saved" wait_until 5 test -f "$TMP/state/printer"
check "state file has id=7 and token" \
    test "$(cat "$TMP/state/printer" 2>/dev/null)" = "$(printf 'id=7\ntoken=ptok-7')"
mode=$(stat -c %a "$TMP/state/printer" 2>/dev/null)
check "state file is mode 0600 (is $mode)" test "$mode" = 600

# --- the share --------------------------------------------------------------------
check "zrok2 create name in the assigned namespace" \
    wait_until 5 at_least 1 "$ZLOG" '^create name -n ns-eu1 prn-7$'
check "zrok2 share public of Moonraker as ns-eu1:prn-7" \
    wait_until 5 at_least 1 "$ZLOG" \
    '^share public http://127.0.0.1:7125 -n ns-eu1:prn-7 --headless --force-local$'
check "share URL reported with the printer token" \
    wait_until 10 at_least 1 "$REQ" \
    'PUT /api/v1/printers/7/share \[Bearer ptok-7\] {"share_url":"https://prn-7.eu1.fleet.test"}'
check "heartbeats arrive with the share URL and a state" \
    wait_until 10 at_least 3 "$REQ" \
    'POST /api/v1/printers/7/heartbeat \[Bearer ptok-7\] {"share_url":"https://prn-7.eu1.fleet.test","state":"online"}'
first_put=$(grep -n ' PUT ' "$REQ" | head -n 1 | cut -d: -f1)
first_hb=$(grep -n '/heartbeat ' "$REQ" | head -n 1 | cut -d: -f1)
check "the URL is reported before the first heartbeat" test "$first_put" -lt "$first_hb"

# --- zrok dies: restarted ------------------------------------------------------------
zpid=$(cat "$TMP"/zrok.*.pid 2>/dev/null | head -n 1)
kill -s KILL "$zpid" 2>/dev/null
rm -f "$TMP/zrok.$zpid.pid"
check "a zrok that exits is restarted" wait_until 10 at_least 2 "$ZLOG" \
    '^share public http://127.0.0.1:7125 -n ns-eu1:prn-7 '

# --- a move to a namespace zrok cannot have is ignored ----------------------------------
shares_before=$(count "$ZLOG" '^share public ')
printf '{"frontend":{"name":"x","url":"https://x.test","region":"eu","namespace":"bad ns;x"},"move":true,"share_name":"prn-7"}' \
    >"$TMP/hb-move.json"
check "an invalid assignment is refused" \
    wait_until 10 at_least 1 "$TMP/agent.log" "ignoring an assignment to namespace 'bad ns;x'"
check "and the share keeps running" test "$(count "$ZLOG" '^share public ')" -eq "$shares_before"

# --- move -----------------------------------------------------------------------------
puts_before=$(count "$REQ" ' PUT ')
printf '{"frontend":%s,"move":true,"share_name":"prn-7"}' "$FE2" >"$TMP/hb-move.json"
printf '{"frontend":%s,"move":false,"share_name":"prn-7"}' "$FE2" >"$TMP/hb.json"
check "move: old share stopped" wait_until 10 at_least 1 "$ZLOG" '^stopped [0-9]* ns-eu1:prn-7$'
check "move: share started in the new namespace" wait_until 10 at_least 1 "$ZLOG" \
    '^share public http://127.0.0.1:7125 -n ns-us1:prn-7 --headless --force-local$'
check "move: new URL reported" wait_until 10 at_least 1 "$REQ" \
    'PUT /api/v1/printers/7/share \[Bearer ptok-7\] {"share_url":"https://prn-7.us1.fleet.test"}'
check "move: reported once, promptly" test "$(count "$REQ" ' PUT ')" -eq $((puts_before + 1))
check "move: old name deleted" wait_until 5 at_least 1 "$ZLOG" '^delete name -n ns-eu1 prn-7$'
stop_line=$(grep -n '^stopped [0-9]* ns-eu1' "$ZLOG" | tail -n 1 | cut -d: -f1)
start_line=$(grep -n '^share public .* ns-us1:prn-7' "$ZLOG" | head -n 1 | cut -d: -f1)
check "move: old share stopped before the new one started" \
    test "${stop_line:-99}" -lt "${start_line:-0}"
check "move: heartbeats carry the new URL" wait_until 5 at_least 1 "$REQ" \
    '/heartbeat .*"share_url":"https://prn-7.us1.fleet.test"'
check "move: only one zrok share runs" \
    test "$(find "$TMP" -maxdepth 1 -name 'zrok.*.pid' | wc -l)" -eq 1

# --- control server away -----------------------------------------------------------------
stop_control
down_at=$(wc -l <"$TMP/agent.log")
# shellcheck disable=SC2317 # called through wait_until
retries_at_least() {
    [ "$(tail -n +"$down_at" "$TMP/agent.log" | grep -c 'retrying in')" -ge "$1" ]
}
# Away until the agent has backed off 4 times (1 + 2 + 4 + 4 s at most).
wait_until 30 retries_at_least 4
hb_before=$(count "$REQ" '/heartbeat ')
start_control "$PORT" || { echo "Bail out! cannot restart socat on $PORT"; exit 1; }
check "heartbeats resume when the control server returns" \
    wait_until 10 at_least $((hb_before + 1)) "$REQ" '/heartbeat '
check "agent says the control server is back" \
    wait_until 3 at_least 1 "$TMP/agent.log" 'control server is back'
tail -n +"$down_at" "$TMP/agent.log" | sed -n 's/.*retrying in \([0-9.]*\) s.*/\1/p' \
    >"$TMP/delays"
echo "# delays while away: $(tr '\n' ' ' <"$TMP/delays")"
check "agent retried at least 3 times while away" test "$(wc -l <"$TMP/delays")" -ge 3
# shellcheck disable=SC2016 # an awk program
# Retry k waits a random time in [d/2, d], d = 1 s * 2^k capped at 4 s.
check "retry delays grow and stay within the cap" awk '
    { ms = $1 * 1000; d = 1000 * 2 ^ (NR - 1); if (d > 4000) d = 4000
      if (ms < d / 2 - 1 || ms > d + 1) bad = 1; last = ms; if (NR == 1) first = ms }
    END { exit !(NR >= 3 && !bad && last > first) }' "$TMP/delays"
check "no second enrollment" test "$(count "$REQ" ' POST /api/v1/printers ')" -eq 1

# --- SIGTERM ------------------------------------------------------------------------------
kill -s TERM "$AGENT_PID"
i=0
while kill -s 0 "$AGENT_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -s 0 "$AGENT_PID" 2>/dev/null; then
    not_ok "agent stops on SIGTERM"
else
    wait "$AGENT_PID"
    rc=$?
    check "agent exits 0 on SIGTERM (got $rc)" test "$rc" = 0
fi
AGENT_PID=""
check "SIGTERM stops the share" at_least 1 "$ZLOG" '^stopped [0-9]* ns-us1:prn-7$'
check "no zrok share left running" \
    test -z "$(find "$TMP" -maxdepth 1 -name 'zrok.*.pid')"

# --- a restart keeps the identity; Moonraker is checked --------------------------------
# A stand-in Moonraker on another port: logs its request headers, answers 200.
cat >"$TMP/moonraker.sh" <<'EOF'
#!/bin/sh
cr=$(printf '\r')
while IFS= read -r line; do
    line=${line%"$cr"}
    [ -z "$line" ] && break
    printf '%s\n' "$line" >>"${0%/*}/moonraker.log"
done
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"result":{}}'
EOF
chmod +x "$TMP/moonraker.sh"
start_moon() { # PORT: starts the stand-in Moonraker, 1 if it does not answer
    socat "TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr" "EXEC:$TMP/moonraker.sh" \
        2>>"$TMP/socat.err" &
    MOON_PID=$!
    wait_until 3 curl -s -o /dev/null "http://127.0.0.1:$1/server/info" && return 0
    kill "$MOON_PID" 2>/dev/null
    MOON_PID=""
    return 1
}
# Find a free port for it, then stop it: the agent starts without Moonraker.
MPORT=""
for p in $((PORT + 1)) $((PORT + 7)) $((PORT + 13)) $((PORT + 29)); do
    if start_moon "$p"; then MPORT=$p; break; fi
done
[ -n "$MPORT" ] || {
    echo "Bail out! cannot start a stand-in Moonraker"; cat "$TMP/socat.err"; exit 1; }
kill "$MOON_PID"; wait "$MOON_PID" 2>/dev/null; MOON_PID=""
: >"$TMP/moonraker.log"
sed -e 's/^moonraker_check = no$/moonraker_check = yes/' \
    -e "s/^moonraker_port = 7125$/moonraker_port = $MPORT/" \
    "$TMP/agent.conf" >"$TMP/agent2.conf"
enrolls=$(count "$REQ" ' POST /api/v1/printers ')
hb_r=$(count "$REQ" '/heartbeat ')
PATH=$TMP/bin:$PATH $AGENT_SH "$AGENT" -c "$TMP/agent2.conf" 2>"$TMP/agent2.log" &
AGENT_PID=$!
check "restarted agent heartbeats without enrolling" \
    wait_until 10 at_least $((hb_r + 1)) "$REQ" '/heartbeat '
check "heartbeat state says when Moonraker does not answer" \
    at_least 1 "$REQ" '/heartbeat .*"state":"moonraker-down"'
start_moon "$MPORT" || { echo "Bail out! cannot restart the stand-in Moonraker"; exit 1; }
hb_r=$(count "$REQ" '"state":"online"')
check "heartbeat state is online once Moonraker answers" \
    wait_until 10 at_least $((hb_r + 1)) "$REQ" '"state":"online"'
check "the Moonraker check sends X-Api-Key" at_least 1 "$TMP/moonraker.log" '^X-Api-Key: MOONKEY-123$'
kill "$MOON_PID" 2>/dev/null
MOON_PID=""
check "restarted agent shares in the saved namespace" \
    at_least 1 "$ZLOG" "^share public http://127.0.0.1:$MPORT -n ns-us1:prn-7 "
check "restarted agent did not enroll again" \
    test "$(count "$REQ" ' POST /api/v1/printers ')" -eq "$enrolls"

# --- the server forgets the printer: re-enrollment after lasting refusals ------------
mark=$(wc -l <"$REQ")
: >"$TMP/forget"
check "re-enrolls when the server keeps refusing the printer" \
    wait_until 15 at_least $((enrolls + 1)) "$REQ" ' POST /api/v1/printers '
refused=$(tail -n +$((mark + 1)) "$REQ" | sed '/ POST \/api\/v1\/printers /q' |
          grep -c '/heartbeat ')
check "only after 3 refusals in a row (saw $refused)" test "$refused" -ge 3
check "agent says it forgets printer 7" at_least 1 "$TMP/agent2.log" 'forgetting printer 7'
hb_r=$(count "$REQ" '/heartbeat ')
check "heartbeats again after re-enrolling" \
    wait_until 10 at_least $((hb_r + 1)) "$REQ" '/heartbeat '
check "state saved again after re-enrolling" test -f "$TMP/state/printer"
kill -s TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=""

# --- a refused enrollment token ----------------------------------------------------------
printf 'wrong-secret\n' >"$TMP/bad.token"
write_conf "$TMP/bad.conf" "$TMP/state-bad" "$TMP/bad.token"
PATH=$TMP/bin:$PATH $AGENT_SH "$AGENT" -c "$TMP/bad.conf" 2>"$TMP/agent-bad.log" &
bad=$!
i=0
while kill -s 0 "$bad" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill "$bad" 2>/dev/null
wait "$bad"
rc=$?
check "a refused enrollment token ends the agent with 78 (got $rc)" test "$rc" = 78
check "and says why" at_least 1 "$TMP/agent-bad.log" 'bad enrollment token'
check "nothing saved for the refused printer" test ! -f "$TMP/state-bad/printer"

# configuration errors end the agent with 78 and name the key
for kv in "heartbeat_interval = 08" "moonraker_port = 70000" \
          "backoff_max = 12345678901"; do
    sed "s/^${kv%% =*} = .*/$kv/" "$TMP/agent.conf" >"$TMP/agent-badconf.conf"
    $AGENT_SH "$AGENT" -c "$TMP/agent-badconf.conf" 2>"$TMP/agent-badconf.log"
    rc=$?
    check "'$kv' is refused with 78 (got $rc)" test "$rc" = 78
    check "'$kv': the error names ${kv%% =*}" \
        at_least 1 "$TMP/agent-badconf.log" "${kv%% =*} must be"
done

if [ "$fails" -ne 0 ]; then
    echo "# $fails failed; agent log:"
    sed 's/^/#   /' "$TMP/agent.log"
    echo "# requests:"
    sed 's/^/#   /' "$REQ"
    echo "# zrok:"
    sed 's/^/#   /' "$ZLOG"
    exit 1
fi
echo "1..$n"
exit 0
