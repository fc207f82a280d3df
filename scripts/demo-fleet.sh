#!/bin/sh
# demo-fleet.sh - a simulated printer fleet for the quick start, used when
# no printers are configured: starts rrcloud-printersim with a few
# printers, creates the queue "default" and enrolls each printer through
# the API exactly as rrcloud-agent does (the share URL is the simulator's
# base URL of that printer instead of a zrok share).
#
#   scripts/demo-fleet.sh RUN_DIR PORT [PRINTERS]
#
# Needs admin_token and enroll_token in RUN_DIR/rrcloud.conf; quickstart.sh
# writes them to RUN_DIR/admin.token and RUN_DIR/enroll.token.
set -eu

RUN=$1; PORT=$2; N=${3:-6}
BUILDDIR=${BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
B="http://127.0.0.1:$PORT"
ADMIN=$(cat "$RUN/admin.token")
ENROLL=$(cat "$RUN/enroll.token")

die() { echo "demo-fleet.sh: $*" >&2; exit 1; }

# 1 simulated minute per real second: a 10-minute print takes 10 s.
"$BUILDDIR/rrcloud-printersim" --port=0 --printers="$N" --time-scale=60 \
    --print-seconds=600 --jitter=0.3 >"$RUN/log/printersim.out" \
    2>>"$RUN/log/printersim.log" &
echo $! >"$RUN/printersim.pid"
i=0
while ! grep -q "listening on" "$RUN/log/printersim.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || die "rrcloud-printersim did not start"
    sleep 0.05
done
SIM=$(sed -n 's/.*listening on \(http:[^,]*\),.*/\1/p' "$RUN/log/printersim.out")

curl -fsS -o /dev/null -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"name":"default"}' \
    "$B/api/v1/queues" 2>/dev/null || true

n=1
while [ "$n" -le "$N" ]; do
    case $((n % 2)) in 0) mat=petg ;; *) mat=pla ;; esac
    # three printer models, so one model job prints sliced for each
    case $(( (n - 1) / 2 % 3 )) in 0) prof=mk3s ;; 1) prof=voron24-0.4 ;;
                                   *) prof=ender3 ;; esac
    ans=$(curl -fsS -H "Authorization: Bearer $ENROLL" -H 'Content-Type: application/json' \
        -d "{\"name\":\"sim-$n\",\"region\":\"local\",\"material\":\"$mat\",\"profile\":\"$prof\",\"queues\":[\"default\"],\"auto_eject\":true}" \
        "$B/api/v1/printers") || die "enrolling sim-$n failed"
    id=$(printf '%s' "$ans" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
    tok=$(printf '%s' "$ans" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
    [ -n "$id" ] && [ -n "$tok" ] || die "unexpected enrollment answer: $ans"
    curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' \
        -d "{\"share_url\":\"$SIM/p/$n\"}" "$B/api/v1/printers/$id/share" ||
        die "reporting sim-$n's share URL failed"
    n=$((n + 1))
done
echo "demo fleet: $N simulated printers at $SIM/p/1..$N (pla and petg; mk3s, voron24-0.4 and ender3), queue 'default'"
