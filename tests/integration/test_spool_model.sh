#!/bin/sh
# test_spool_model.sh - a model job against the spool and hours limits
# (issue 10 part 4), and the job saying why it waits while it waits, on a
# simulated farm of the two shipped profiles, the cube sliced by the real
# PrusaSlicer for each:
#   - both spools empty: the job waits; its held_reason (GET /jobs/ID, the
#     queue's job list, rrcloud jobs and rrcloud job) says it waits for
#     filament, with the grams of that printer's profile's slice;
#   - the mk3s gets half its slice's grams, the voron one and a half of
#     its: the voron prints the first copy, the mk3s is kept out;
#   - the voron's spool debited, the second copy is held again, saying so;
#   - the voron refilled: the second copy prints there too, the job ends
#     with no held_reason, and the mk3s never had an attempt;
#   - the voron without auto-eject at a site whose window ends in a
#     minute: the same cube is held, saying its slice's print would end
#     outside the staffed hours; always staffed, the voron takes it.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"
command -v jq >/dev/null || skip "no jq"
command -v prusa-slicer >/dev/null || skip "no prusa-slicer"
SIM=${RRCLOUD_PRINTERSIM:-$builddir/rrcloud-printersim}
[ -x "$SIM" ] || skip "rrcloud-printersim not found (set RRCLOUD_PRINTERSIM)"
RR=${RRCLOUD:-$builddir/rrcloud}
[ -x "$RR" ] || skip "$RR not built"
D="$top_srcdir/tests/data"

mkdir -p "$T/profiles"
cp "$top_srcdir"/profiles/* "$T/profiles/"

# Prints of 60 simulated s, 60x: a second each.
sim_start --printers=3 --time-scale=60 --print-seconds=60

ADMIN=adm-spoolmodel-test-0123456789abcdef012345
STACK_CONF_EXTRA="admin_token = $ADMIN
profiles_dir = $T/profiles
fleet_poll_interval = 1
fleet_slice_concurrency = 2
frontend = fe1 eu $SIMURL capacity=10 canary=$SIMURL/p/3/server/info"
export STACK_CONF_EXTRA
failures=1
stack_start nginx
failures=0

J='Content-Type: application/json'
AH="Authorization: Bearer $ADMIN"
api() { # METHOD PATH [curl args...]: JSON answer on stdout
    m=$1; p=$2; shift 2
    curl -s -m 10 -X "$m" -H "$AH" "$@" "$BASE/api/v1$p"
}
rr() { HOME="$T" "$RR" --s="127.0.0.1:$PORT" --token="$ADMIN" "$@" 2>&1; }
spool() { # PRINTER GRAMS
    api PUT "/printers/$1/spool" -H "$J" -d "{\"grams\":$2}" | jq -r .grams
}

# --- the farm: an mk3s and a voron, both empty -------------------------------
n=1
for prof in mk3s voron24-0.4; do
    out=$(api POST /printers -H "$J" -d "{\"name\":\"$prof-1\",
        \"region\":\"eu\",\"profile\":\"$prof\",\"material\":\"pla\",
        \"queues\":[\"default\"],\"auto_eject\":true}")
    id=$(printf '%s' "$out" | jq -r '.id // empty')
    tok=$(printf '%s' "$out" | jq -r '.token // empty')
    [ -n "$id" ] || { fail "enroll $prof: $out"; exit 1; }
    eval "P_$(echo "$prof" | tr -c 'a-z0-9\n' _)=$id"
    curl -s -m 10 -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H "$J" -d "{\"share_url\":\"$SIMURL/p/$n\"}" \
        "$BASE/api/v1/printers/$id/share"
    n=$((n + 1))
done
PM=$P_mk3s PV=$P_voron24_0_4
expect_eq "both spools set empty" "0 0" "$(spool "$PM" 0) $(spool "$PV" 0)"
ready2() { [ "$(api GET /printers | jq '[.printers[] | select(.state == "ready")] | length')" = 2 ]; }
until_ok 30 ready2 || fail "the printers never became ready"

# --- a cube of 2 copies waits, saying why -----------------------------------
JOB=$(api POST /queues/default/jobs -F "model=@$D/cube.stl" -F copies=2 |
    jq -r '.id // empty')
check "a model job of 2 copies" [ -n "$JOB" ]
sliced() { [ "$(api GET "/jobs/$JOB" | jq '[.files[] | select(.filament_g != null)] | length')" = 2 ]; }
until_ok 120 sliced || fail "job $JOB was never sliced for both profiles"
api GET "/jobs/$JOB" >"$T/job.json"
GM=$(jq -r '.files[] | select(.profile == "mk3s") | .filament_g' "$T/job.json")
GV=$(jq -r '.files[] | select(.profile == "voron24-0.4") | .filament_g' "$T/job.json")
check "each profile's slice says its grams ($GM, $GV)" \
    awk -v a="$GM" -v b="$GV" 'BEGIN { exit !(a > 0 && b > 0) }'
held() { [ "$(api GET "/jobs/$JOB" | jq -r '.held_reason // empty')" != "" ]; }
check "the job is held" until_ok 20 held
why=$(api GET "/jobs/$JOB" | jq -r .held_reason)
# the first printer in service order names its own profile's slice
case $why in
*"printer $PM's"*) want=$(printf 'waits for filament: it needs %.1f g, printer %s'"'"'s spool has 0.0 g' "$GM" "$PM") ;;
*) want=$(printf 'waits for filament: it needs %.1f g, printer %s'"'"'s spool has 0.0 g' "$GV" "$PV") ;;
esac
expect_eq "... why: its slice's grams and the spool's" "$want" "$why"
expect_eq "... queued, nothing printed" "queued 0" \
    "$(api GET "/jobs/$JOB" | jq -r '"\(.state) \(.attempts | length)"')"
expect_eq "... in the queue's job list too" "$want" \
    "$(api GET /queues/default/jobs | jq -r --argjson j "$JOB" '.jobs[] | select(.id == $j) | .held_reason')"
expect_eq "... and as a job_held event" "$want" \
    "$(api GET "/events?limit=1000" | jq -r --argjson j "$JOB" '[.events[] | select(.kind == "job_held" and .job == $j)] | last | .message')"
expect_contains "rrcloud jobs shows it (WAITING)" "$(rr jobs)" "waits for filament"
expect_contains "rrcloud job shows it" "$(rr job "$JOB")" "held_reason: $want"

# --- the mk3s's spool too small for its slice, the voron's enough for one ----
half=$(awk -v g="$GM" 'BEGIN { printf "%.2f", g / 2 }')
VFULL=$(awk -v g="$GV" 'BEGIN { printf "%.2f", g * 1.5 }')
expect_eq "the mk3s gets half its slice's grams" "$half" "$(spool "$PM" "$half")"
spool "$PV" "$VFULL" >/dev/null
one_done() { [ "$(api GET "/jobs/$JOB" | jq .copies_by_state.complete)" = 1 ]; }
check "the voron prints the first copy" until_ok 60 one_done
left=$(awk -v a="$VFULL" -v g="$GV" 'BEGIN { printf "%.2f", a - g }')
expect_eq "... its spool debited by its slice's grams" "$left" \
    "$(api GET "/printers/$PV/spool" | jq -r .grams | awk '{ printf "%.2f", $1 }')"
check "the second copy is held again" until_ok 20 held
why=$(api GET "/jobs/$JOB" | jq -r .held_reason)
expect_contains "... for filament" "$why" "waits for filament: it needs"
expect_contains "... naming a spool that is short" "$why" "'s spool has "
# the voron refilled: it takes the second copy too
spool "$PV" "$VFULL" >/dev/null
job_done() { [ "$(api GET "/jobs/$JOB" | jq -r .state)" = complete ]; }
check "the voron prints the second copy" until_ok 60 job_done
api GET "/jobs/$JOB" >"$T/job.json"
expect_eq "both copies on the voron, none on the mk3s" "$PV $PV" \
    "$(jq -r '[.attempts[] | .printer | tostring] | join(" ")' "$T/job.json")"
expect_eq "... and no held_reason now" null "$(jq -r .held_reason "$T/job.json")"
expect_eq "the mk3s's spool is untouched" "$half" \
    "$(api GET "/printers/$PM/spool" | jq -r .grams | awk '{ printf "%.2f", $1 }')"

# --- staffed hours: the voron's slice ends after the window ------------------
# The voron without auto-eject at site lab, whose weekly window ends a
# minute from now (UTC); the mk3s serves another queue; the voron's spool
# unknown.
EV=$(jq -r '.files[] | select(.profile == "voron24-0.4") | .estimated_time' "$T/job.json")
check "the voron's slice takes longer than 3 min ($EV s)" \
    awk -v t="$EV" 'BEGIN { exit !(t > 180) }'
api POST /queues -H "$J" -d '{"name":"elsewhere"}' >/dev/null
api PATCH "/printers/$PM" -H "$J" -d '{"queues":["elsewhere"]}' >/dev/null
spool "$PV" null >/dev/null
now=$(date +%s)
HOURS="$(LC_ALL=C date -u -d "@$((now - 3600))" '+%a %H:%M')-$(LC_ALL=C date -u -d "@$((now + 60))" '+%H:%M'), UTC"
expect_contains "rrcloud site lab sets the window" "$(rr site lab "$HOURS")" "$HOURS"
expect_eq "the voron joins lab, without auto-eject" "lab false" \
    "$(api PATCH "/printers/$PV" -H "$J" -d '{"site":"lab","auto_eject":false}' |
       jq -r '"\(.site) \(.auto_eject)"')"
JOB2=$(api POST /queues/default/jobs -F "model=@$D/cube.stl" | jq -r '.id // empty')
check "the same cube again" [ -n "$JOB2" ]
held2() { [ "$(api GET "/jobs/$JOB2" | jq -r '.held_reason // empty')" != "" ]; }
check "it is held" until_ok 60 held2
d=$(awk -v s="$EV" 'BEGIN { t = int(s + 0.5); h = int(t / 3600); m = int(t % 3600 / 60);
    if (h) printf "%dh %dm", h, m; else if (m) printf "%dm", m; else printf "%ds", t }')
expect_eq "... why: the voron's slice would end outside lab's hours" \
    "waits for staffed hours: its $d print on printer $PV would end outside site lab's staffed hours ($HOURS)" \
    "$(api GET "/jobs/$JOB2" | jq -r .held_reason)"
expect_eq "... queued" queued "$(api GET "/jobs/$JOB2" | jq -r .state)"
rr site lab always >/dev/null
job2_live() { [ "$(api GET "/jobs/$JOB2" | jq '.attempts | length')" = 1 ]; }
check "always staffed: the voron takes it" until_ok 30 job2_live
expect_eq "... and it is held no more" "$PV null" \
    "$(api GET "/jobs/$JOB2" | jq -r '"\(.attempts[0].printer) \(.held_reason)"')"
