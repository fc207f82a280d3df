#!/bin/sh
# test_cli.sh - the rrcloud client against a real stack (WEB=nginx or
# lighttpd): synchronous runs with real OpenSCAD and Slic3r, --async and
# fetch, info/meta/services/cancel, a failing task and its log, the
# *.cloud links, rrcloudrc and fail-over, refused arguments and exit codes.
#
# Binary: $RRCLOUD, else $builddir/rrcloud.  Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/../lib.sh"

RR=${RRCLOUD:-$builddir/rrcloud}
[ -x "$RR" ] || skip "$RR not built"
WEB=${WEB:-nginx}
stack_start "$WEB"

W="$T/work"
mkdir -p "$W/bin" "$W/home"
cd "$W" || exit 99
export HOME="$W/home" RRCLOUD_SERVICES_DIR="$top_srcdir/services"
for s in openscad slic3r echo curaengine; do ln -s "$RR" "bin/$s.cloud"; done
printf 'hello rrcloud\n' >hello.txt
printf 'cube([20, 20, 10]);\n' >box.scad
printf 'this is not (( scad\n' >broken.scad
S="--s=127.0.0.1:$PORT"

# run WANT-RC command...: runs quietly, output in $T/out and $T/err
run() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    expect_eq "exit status of: $*" "$want" "$got"
}

# --- synchronous runs: upload, wait, download to the named path --------
run 0 "$RR" "$S" echo hello.txt
expect_eq "echo result beside the input" "hello rrcloud" "$(cat hello.out 2>/dev/null)"
expect_contains "note says where it went" "$(cat "$T/err")" "wrote hello.out"
run 0 "$RR" "$S" openscad box.scad -obox.stl
expect_contains "openscad wrote an STL" "$(head -c 64 box.stl 2>/dev/null)" "solid"
run 0 "$RR" "$S" slic3r box.stl --layer-height=0.3 --output=box.gcode
check "G-code has moves" grep -q '^G1' box.gcode
run 0 "$RR" "$S" --json openscad box.scad -o out.stl -Dsize=2
expect_contains "--json prints the record" "$(cat "$T/out")" '"status": "complete"'
expect_contains "--json names the file" "$(cat "$T/out")" '"outFile": "out.stl"'

# --- a failing task: exit 1 and its log on stderr -----------------------
run 1 "$RR" "$S" openscad broken.scad -obroken.stl
expect_contains "failure names the task" "$(cat "$T/err")" "failed"
expect_contains "log is shown" "$(cat "$T/err")" "--- log of task"
check "no result for a failed task" [ ! -e broken.stl ]

# --- refused before anything is sent: exit 2 ------------------------------
run 2 "$RR" "$S" slic3r box.stl --no-such-switch
expect_contains "unsupported switch" "$(cat "$T/err")" \
    "not supported switch or file not found '--no-such-switch'"
run 2 "$RR" "$S" openscad missing.scad
run 2 "$RR" --bogus meta
# --- refused by the server: exit 4 with its message --------------------------
run 4 "$RR" "$S" openscad box.scad '-Dx=$(id)'
expect_contains "server's reason" "$(cat "$T/err")" "arg0"
run 4 "$RR" "$S" nosuchservice hello.txt

# --- async, info, fetch, cancel --------------------------------------------------
run 0 "$RR" "$S" --async openscad box.scad
id=$(sed -n 's/^id: //p' "$T/out")
check "async prints an id" [ -n "$id" ]
run 0 "$RR" "$S" fetch "$id" fetched.stl
check "fetch writes the result" [ -s fetched.stl ]
run 0 "$RR" "$S" info "$id"
expect_contains "info shows the task" "$(cat "$T/out")" "status: complete"
run 0 "$RR" "$S" info
expect_contains "info lists tasks" "$(cat "$T/out")" "=== id: $id"
run 0 "$RR" "$S" --json info "$id"
expect_contains "info --json" "$(cat "$T/out")" "\"id\": \"$id\""
run 4 "$RR" "$S" info 1000000000-00000-000000
run 2 "$RR" "$S" info ../../etc/passwd
run 0 "$RR" "$S" meta
expect_contains "meta" "$(cat "$T/out")" "services: "
run 0 "$RR" "$S" services
expect_contains "services list" "$(cat "$T/out")" "slic3r: "
run 0 "$RR" "$S" --async slic3r box.stl
cid=$(sed -n 's/^id: //p' "$T/out")
run 0 "$RR" "$S" cancel "$cid"
expect_contains "cancel answers with the task" "$(cat "$T/out")" "id: $cid"
# the record shown is the server's at that moment: busy (rrcloudd is
# stopping it), cancelled, or complete if it ended first
st=$(sed -n 's/^status: //p' "$T/out")
case $st in busy|cancelled|complete) stok=1 ;; *) stok=0 ;; esac
check "cancel shows the task's status ($st)" [ "$stok" = 1 ]
i=0
while :; do
    fin=$(curl -s "http://127.0.0.1:$PORT/?service=info&id=$cid" | sed -n 's/^state: //p')
    [ "$fin" != busy ] && [ "$fin" != queued ] || [ $i -ge 100 ] && break
    sleep 0.1; i=$((i + 1))
done
case $st/$fin in busy/cancelled|cancelled/cancelled|complete/complete) stok=1 ;;
*) stok=0 ;; esac
check "the task ends as the cancel said ($st, then $fin)" [ "$stok" = 1 ]
run 4 "$RR" "$S" cancel 1000000000-00000-000000

# --- *.cloud links and rrcloudrc ---------------------------------------------------
printf 'servers = 127.0.0.1:1, 127.0.0.1:%s\n' "$PORT" >"$HOME/.rrcloudrc"
run 0 bin/openscad.cloud box.scad -ocloud.stl
check "openscad.cloud wrote its result" [ -s cloud.stl ]
expect_contains "the dead server was skipped" "$(cat "$T/err")" "not reachable"
run 2 bin/slic3r.cloud box.stl --frobnicate
printf 'servers = 127.0.0.1:1\n' >rrcloudrc      # ./rrcloudrc beats ~/
run 3 "$RR" meta
printf 'openscad.servers = 127.0.0.1:%s\n' "$PORT" >>rrcloudrc
run 0 bin/openscad.cloud box.scad -ox.stl       # SERVICE.servers beats servers
run 0 "$RR" "$S" meta                           # --s= beats them all
rm -f rrcloudrc "$HOME/.rrcloudrc"
run 0 "$RR" --local echo hello.txt local.txt     # no server: cp itself
expect_eq "--local ran cp" "hello rrcloud" "$(cat local.txt 2>/dev/null)"

# --- nothing the server says becomes a local path --------------------------------
expect_eq "no stray temporary download files" "" "$(ls -A "$W" | grep '^\.')"
