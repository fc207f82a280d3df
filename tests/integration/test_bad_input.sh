#!/bin/sh
# test_bad_input.sh - every kind of bad input through real nginx: each gets
# its 4xx with a message naming the field (and the limit where there is
# one), and none of them leaves anything behind: no task, no task
# directory, nothing in the spool's tmp/, nothing outside the spool; a task
# accepted before them is still there, complete, its result downloadable.
. "$(dirname "$0")/lib.sh"

[ -n "${NGINX:-}" ] || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    skip "no nginx"

# nginx takes up to 1 MiB; rrcloud's own limits are lower, so both the web
# server's limit and rrcloud's can be hit.
STACK_MAX_BODY=1m
STACK_MAX_BODY_BYTES=1048576
STACK_CONF_EXTRA="max_body_size = 256K
max_inline_size = 16K
max_files = 2
max_fields = 8
max_query = 1K
max_queued = 3"
# rrcloud's own default: notifiers may not reach loopback or private hosts.
STACK_ALLOW_LOCAL=0
export STACK_MAX_BODY STACK_MAX_BODY_BYTES STACK_CONF_EXTRA STACK_ALLOW_LOCAL
failures=1   # lib.sh's finish would report a stack that did not start as passed
stack_start nginx
failures=0

D=$SRCDIR/tests/data
U=1700000000-00000-000000          # well formed, never issued
EVIL=rrcloud-evil-$$               # names a traversal would create
printf 'hello rrcloud\n' >"$T/hello.txt"

# rej DESC STATUS NEEDLES CURL-ARGS...: one bad request.  NEEDLES is a
# '|'-separated list of strings the answer must contain.
rej() {
    d=$1; want=$2; needles=$3; shift 3
    code=$(curl -s -o "$T/body" -w '%{http_code}' "$@" 2>/dev/null)
    got=$(cat "$T/body")
    expect_eq "$d: status" "$want" "$code"
    set -f; old_ifs=$IFS; IFS='|'
    set -- $needles
    IFS=$old_ifs; set +f
    for n in "$@"; do
        expect_contains "$d: message" "$got" "$n"
    done
}

# raw_mp FILE: a multipart body (boundary XyZ) from printf-style text.
raw_mp() { # desc status needles printf-format [args]
    d=$1; want=$2; needles=$3; shift 3
    # shellcheck disable=SC2059
    printf -- "$@" >"$T/mp.bin"
    rej "$d" "$want" "$needles" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
        --data-binary @"$T/mp.bin" "$BASE/"
}
MP_SVC='--XyZ\r\nContent-Disposition: form-data; name="service"\r\n\r\necho\r\n'
# mp_name FILENAME-BYTES (printf %b escapes): an echo task whose upload
# carries this file name.
mp_name() {
    printf -- "$MP_SVC"'--XyZ\r\nContent-Disposition: form-data; name="fileIn0"; filename="%b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n' "$1"
}

# A tiny PNG (signature and IHDR: what libmagic looks at).
printf '\211PNG\r\n\032\n\000\000\000\015IHDR\000\000\000\001\000\000\000\001\010\002\000\000\000\220wS\336\000\000\000\000IEND\256B`\202' >"$T/img.png"

# --- a task accepted before the bad requests ---------------------------------
out=$(curl -s -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/")
keep=$(printf '%s\n' "$out" | sed -n 's/^id: //p')
check "accepted task has an id" [ -n "$keep" ]
expect_eq "accepted task completes" complete "$(wait_status "$keep" complete 20)"

# A client's file name never reaches the disk or the command line: shell
# metacharacters in it are harmless and accepted (browsers send names like
# "cube (2).stl"); the input is stored as in0.<ext>.
mp_name '$(touch '"$EVIL"').txt' >"$T/mp.bin"
out=$(curl -s -m 30 -H 'Content-Type: multipart/form-data; boundary=XyZ' \
    --data-binary @"$T/mp.bin" "$BASE/")
expect_contains "metacharacters in a file name: task runs" "$out" "state: complete"
expect_contains "metacharacters in a file name: stored as in0.txt" "$out" "in: in0.txt"
check "metacharacters in a file name: nothing ran" [ -z "$(find "$STACK" /tmp -maxdepth 4 -name "$EVIL" 2>/dev/null)" ]
accepted=2

ntasks() { ls "$STACK/spool/tasks" | wc -l | tr -d ' '; }
touch "$T/marker"
sleep 1   # so "newer than the marker" is unambiguous

# --- unknown service, no input -------------------------------------------------
long=$(printf 'x%.0s' $(seq 1100))
rej "query string over max_query" 414 "query|max_query" \
    "$BASE/?service=info&pad=$long"
rej "api limit not a number" 400 "limit|1..1000" "$BASE/api/v1/tasks?limit=5abc"
rej "api limit 0" 400 "limit|1..1000" "$BASE/api/v1/tasks?limit=0"
rej "api offset not a number" 400 "offset" "$BASE/api/v1/tasks?offset=xyz"
rej "info limit not a number" 400 "limit" "$BASE/?service=info&limit=abc"
rej "unknown service" 400 "service|unknown service 'nosuch'" \
    -F service=nosuch -F "fileIn0=@$T/hello.txt" "$BASE/"
rej "unknown service (GET)" 400 "service|nosuch" "$BASE/?service=nosuch"
rej "no input file" 400 "fileIn0|no input file" -F service=echo "$BASE/"
rej "no input file (urlencoded)" 400 "fileIn0|no input file" \
    --data-urlencode service=echo "$BASE/"
rej "fileIn1 without fileIn0" 400 "fileIn1|fileIn0" \
    -F service=echo -F "fileIn1=@$T/hello.txt" "$BASE/"
rej "empty input" 400 "fileIn0|empty" -F service=echo \
    -F "fileIn0=@/dev/null;filename=empty.txt" "$BASE/"

# --- sizes -------------------------------------------------------------------------
head -c 2000000 /dev/zero | tr '\0' a >"$T/big2m.txt"
head -c 500000 /dev/zero | tr '\0' a >"$T/big500k.txt"
head -c 20000 /dev/zero | tr '\0' a >"$T/in20k.txt"
code=$(http_status POST "$BASE/" -F service=echo -F "fileIn0=@$T/big2m.txt")
expect_eq "body over nginx's client_max_body_size" 413 "$code"
expect_contains "nginx names the limit" "$(body)" "client_max_body_size"
rej "body over max_body_size" 413 "max_body_size|262144" \
    -F service=echo -F "fileIn0=@$T/big500k.txt" "$BASE/"
rej "chunked body over max_body_size" 413 "max_body_size|262144" \
    -H 'Transfer-Encoding: chunked' -F service=echo -F "fileIn0=@$T/big500k.txt" "$BASE/"
rej "inline content over max_inline_size" 413 "fileIn0|16384" \
    --data-urlencode service=echo --data-urlencode "fileIn0@$T/in20k.txt" "$BASE/"
rej "field over max_field_size" 413 "arg0|max_field_size|4096" -F service=echo \
    -F "fileIn0=@$T/hello.txt" -F "arg0=$(head -c 5000 "$T/in20k.txt")" "$BASE/"

# --- counts --------------------------------------------------------------------------
rej "too many files" 413 "fileIn2|max_files = 2" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" -F "fileIn1=@$D/cube.stl" -F "fileIn2=@$D/cube.stl" "$BASE/"
rej "too many fields" 413 "max_fields = 8" -F service=echo -F "fileIn0=@$T/hello.txt" \
    -F a=1 -F b=2 -F c=3 -F d=4 -F e=5 -F f=6 -F g=7 "$BASE/"
rej "too many fields (urlencoded)" 413 "max_fields = 8" --data 'service=echo&fileIn0=x&a=1&b=2&c=3&d=4&e=5&f=6&g=7' "$BASE/"

# --- types ------------------------------------------------------------------------------
rej "ELF binary named cube.stl" 415 "fileIn0|STL" -F service=slic3r \
    -F "fileIn0=@/bin/ls;filename=cube.stl" "$BASE/"
rej "PNG named model.scad" 415 "fileIn0|image/png" -F service=openscad \
    -F "fileIn0=@$T/img.png;filename=model.scad" "$BASE/"
rej "ASCII text named cube.stl" 415 "fileIn0" -F service=slic3r \
    -F "fileIn0=@$T/hello.txt;filename=cube.stl" "$BASE/"
rej "extension the service does not take" 415 "fileIn0|.exe" -F service=echo \
    -F "fileIn0=@$T/hello.txt;filename=model.exe" "$BASE/"
rej "config file without prearg" 415 "fileIn0|prearg0" -F service=slic3r \
    -F "fileIn0=@$D/slicer.ini" -F "fileIn1=@$D/cube.stl" "$BASE/"
# a zip is not a 3MF without the model part in its directory
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("notes/3D/3dmodel.model.txt", "not the model part")' "$T/plain.zip"
rej "plain zip named cube.3mf" 415 "fileIn0|not a 3MF model|3D/3dmodel.model" \
    -F service=prusa-slicer -F "fileIn0=@$T/plain.zip;filename=cube.3mf" "$BASE/"
# post_process as the slicers read it: after whitespace Boost trims, in a
# 3MF's PrusaSlicer config (deflated), in an AMF's metadata
printf 'layer_height = 0.2\n\vpost_process = /usr/bin/touch %s/pp\n' "$T" >"$T/vt.ini"
rej "config with VT before post_process" 415 "fileIn0|post_process (line 2)" \
    -F service=slic3r -F prearg0=--load= -F "fileIn0=@$T/vt.ini" \
    -F "fileIn1=@$D/cube.stl" "$BASE/"
python3 -c 'import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for i in src.infolist():
        z.writestr(i, src.read(i))
    z.writestr("Metadata/Slic3r_PE.config", "; layer_height = 0.2\n"
               "; post_process = /usr/bin/touch " + sys.argv[3] + "\n")' \
    "$D/cube.3mf" "$T/evil.3mf" "$T/pp"
rej "3MF whose Slic3r_PE.config sets post_process" 415 \
    "fileIn0|Metadata/Slic3r_PE.config line 2 sets post_process" \
    -F service=prusa-slicer -F "fileIn0=@$T/evil.3mf" "$BASE/"
printf '<?xml version="1.0"?>\n<amf unit="mm">\n<metadata type="slic3r.post_process">/usr/bin/touch %s/pp</metadata>\n</amf>\n' "$T" >"$T/evil.amf"
rej "AMF whose metadata sets post_process" 415 "fileIn0|line 3 sets post_process" \
    -F service=slic3r -F "fileIn0=@$T/evil.amf" "$BASE/"
# the key spelt in what the slicer decodes first (a character reference)
python3 -c 'import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for i in src.infolist():
        if i.filename != "Metadata/Slic3r_PE_model.config":
            z.writestr(i, src.read(i))
    z.writestr("Metadata/Slic3r_PE_model.config", "<config>\n<object id=\"1\">"
               "<metadata type=\"object\" key=\"post&#95;process\" "
               "value=\"/usr/bin/touch " + sys.argv[3] + "\"/></object>"
               "</config>\n")' "$D/cube.3mf" "$T/ref.3mf" "$T/pp"
rej "3MF with post&#95;process" 415 \
    "fileIn0|Slic3r_PE_model.config line 2 has a character reference" \
    -F service=prusa-slicer -F "fileIn0=@$T/ref.3mf" "$BASE/"
rej "request Content-Type" 415 "Content-Type" -H 'Content-Type: text/xml' \
    --data '<x/>' "$BASE/"

# --- preargs and options ----------------------------------------------------------------
rej "prearg not allowed" 400 "prearg0|--load=" -F service=slic3r \
    -F prearg0=--foo= -F "fileIn0=@$D/slicer.ini" -F "fileIn1=@$D/cube.stl" "$BASE/"
rej "prearg on a service without argInput" 400 "prearg0|takes no prearg" \
    -F service=echo -F prearg0=--load= -F "fileIn0=@$T/hello.txt" "$BASE/"
rej "prearg without its file" 400 "prearg1|fileIn1" -F service=slic3r \
    -F prearg1=--load= -F "fileIn0=@$D/cube.stl" "$BASE/"
rej "option not allowed" 400 "arg0|not allowed" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" -F "arg0=--post-process=/bin/sh" "$BASE/"
rej "option ending in '='" 400 "arg0" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" -F "arg0=--layer-height=" "$BASE/"
rej "nativeArgs item not allowed" 400 "nativeArgs|not allowed" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" -F "nativeArgs=--layer-height=0.2,--post-process=x" "$BASE/"
many=$(printf -- '--layer-height=0.2,%.0s' $(seq 65))
rej "65 nativeArgs items (the cap is 64)" 413 "nativeArgs|too many options (64)" \
    -F service=slic3r -F "fileIn0=@$D/cube.stl" -F "nativeArgs=${many%,}" "$BASE/"
rej "args must be contiguous names" 400 "arg01" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" -F "arg01=--merge" "$BASE/"

# --- shell metacharacters in any value ------------------------------------------------------
for c in ';' '|' '&' '$' '`' '<' '>' '(' ')' '{' '}' '[' ']' '*' '?' '~' '!' '#' '\' '"' "'"; do
    rej "option with $c" 400 "arg0" -F service=slic3r \
        -F "fileIn0=@$D/cube.stl" --form-string "arg0=--layer-height=0.2${c}x" "$BASE/"
    expect_contains "option with $c: names it" "$(body)" "character '$c'"
done
rej "option with a blank" 400 "arg0|blank" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" --form-string "arg0=--layer-height=0.2 x" "$BASE/"
rej "option with a newline" 400 "arg0|control character" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" --form-string "arg0=--layer-height=0.2
x" "$BASE/"
rej "option with .." 400 "arg0|'..'" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" --form-string "arg0=--layer-height=../x" "$BASE/"
rej "prearg with ;" 400 "prearg0|character ';'" -F service=slic3r \
    --form-string "prearg0=--load=;sh" -F "fileIn0=@$D/slicer.ini" -F "fileIn1=@$D/cube.stl" "$BASE/"
rej "prearg with \$(" 400 "prearg0|character '\$'" -F service=slic3r \
    --form-string 'prearg0=--load=$(id)' -F "fileIn0=@$D/slicer.ini" -F "fileIn1=@$D/cube.stl" "$BASE/"
rej "nativeArgs with |" 400 "nativeArgs" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" --form-string "nativeArgs=--layer-height=0.2|sh" "$BASE/"
expect_contains "nativeArgs with |: names it" "$(body)" "character '|'"
rej "nativeArgs with backquote" 400 "nativeArgs|character '\`'" -F service=slic3r \
    -F "fileIn0=@$D/cube.stl" --form-string 'nativeArgs=--merge,--scale=`id`' "$BASE/"
rej "format with ;" 400 "format" -F service=echo -F "fileIn0=@$T/hello.txt" \
    --form-string "format=json;id" "$BASE/"
rej "async with &" 400 "async" -F service=echo -F "fileIn0=@$T/hello.txt" \
    --form-string "async=1&x" "$BASE/"

# --- file names ------------------------------------------------------------------------------
for fn in "../../$EVIL.txt" "/tmp/$EVIL.txt" 'a/b.txt' '..\\x.txt' 'C:\\x.txt'; do
    mp_name "$fn" >"$T/mp.bin"
    rej "file name $fn" 400 "fileIn0|file name" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
        --data-binary @"$T/mp.bin" "$BASE/"
done
for fn in '.hidden.txt' '-rf.txt' '..txt'; do
    mp_name "$fn" >"$T/mp.bin"
    rej "file name $fn" 400 "fileIn0|start with" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
        --data-binary @"$T/mp.bin" "$BASE/"
done
# Without an extension the content decides (test_reprapcloud_client.sh
# has the accepted cases); a PNG fits none of echo's types.
rej "file name without extension, PNG content" 415 \
    "fileIn0|without a file name extension|image/png|echo takes: txt, stl, obj, scad, gcode" \
    -F service=echo -F "fileIn0=@$T/img.png;filename=noext" "$BASE/"
rej "inline PNG content" 415 "fileIn0|image/png|openscad takes: scad" \
    -F service=openscad -F "fileIn0=<$T/img.png" "$BASE/"
mp_name 'a\0377b.txt' >"$T/mp.bin"
rej "file name not UTF-8" 400 "fileIn0|UTF-8" \
    -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T/mp.bin" "$BASE/"
mp_name 'a\0177b.txt' >"$T/mp.bin"
rej "DEL in file name" 400 "fileIn0|control" \
    -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T/mp.bin" "$BASE/"
mp_name 'a\0033b.txt' >"$T/mp.bin"
rej "ESC in file name" 400 "control" \
    -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T/mp.bin" "$BASE/"
mp_name 'a\0000b.txt' >"$T/mp.bin"
rej "NUL in file name" 400 "control" \
    -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T/mp.bin" "$BASE/"
rej "bad field name" 400 "fileIn00|bad field name" -F service=echo \
    -F "fileIn00=@$T/hello.txt" "$BASE/"
rej "a file in a non-file field" 400 "service|fileIn0" -F "service=@$T/hello.txt" \
    -F "fileIn0=@$T/hello.txt" "$BASE/"

# --- malformed and truncated multipart --------------------------------------------------------
printf -- "$MP_SVC"'--XyZ--\r\n' >"$T/mp.bin"
for ct in 'multipart/form-data' 'multipart/form-data; boundary=' \
          'multipart/form-data; boundary="a b' \
          "multipart/form-data; boundary=$(head -c 100 /dev/zero | tr '\0' a)"; do
    rej "bad boundary parameter ($ct)" 400 "boundary" -H "Content-Type: $ct" \
        --data-binary @"$T/mp.bin" "$BASE/"
done
rej "boundary not in the body" 400 "malformed multipart|boundary" \
    -H 'Content-Type: multipart/form-data; boundary=Other' --data-binary @"$T/mp.bin" "$BASE/"
raw_mp "junk after the boundary" 400 "malformed multipart|boundary" \
    '--XyZjunk\r\nContent-Disposition: form-data; name="service"\r\n\r\necho\r\n--XyZ--\r\n'
raw_mp "junk before the first boundary line ends" 400 "malformed multipart" \
    '--XyZ junk\r\nContent-Disposition: form-data; name="service"\r\n\r\necho\r\n--XyZ--\r\n'
raw_mp "part without Content-Disposition" 400 "malformed multipart|Content-Disposition" \
    '--XyZ\r\nContent-Type: text/plain\r\n\r\necho\r\n--XyZ--\r\n'
raw_mp "malformed part header" 400 "malformed multipart|header" \
    '--XyZ\r\nNoColonHere\r\n\r\necho\r\n--XyZ--\r\n'
raw_mp "part header too long" 400 "malformed multipart" \
    '--XyZ\r\nContent-Disposition: form-data; name="service"\r\nX-Pad: %s\r\n\r\necho\r\n--XyZ--\r\n' \
    "$(head -c 9000 /dev/zero | tr '\0' a)"
raw_mp "truncated in a part" 400 "malformed multipart|closing boundary" \
    "$MP_SVC"'--XyZ\r\nContent-Disposition: form-data; name="fileIn0"; filename="a.txt"\r\n\r\nhel'
raw_mp "truncated in part headers" 400 "malformed multipart|closing boundary" \
    "$MP_SVC"'--XyZ\r\nContent-Disposition: form-data; name="fileIn0"; filena'
raw_mp "no closing boundary" 400 "malformed multipart|closing boundary" \
    "$MP_SVC"'--XyZ\r\nContent-Disposition: form-data; name="fileIn0"; filename="a.txt"\r\n\r\nhello\r\n--XyZ\r\n'
# The client goes away mid-body (Content-Length promises more): no answer
# can reach it, but nothing may be left behind either.
printf -- "$MP_SVC"'--XyZ\r\nContent-Disposition: form-data; name="fileIn0"; filename="a.txt"\r\n\r\nhello' >"$T/mp.bin"
len=$(wc -c <"$T/mp.bin")
{
    printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' $((len + 100000))
    cat "$T/mp.bin"
    sleep 1
} | socat -t 2 - "TCP:127.0.0.1:$PORT" >"$T/cut.out" 2>/dev/null
expect_not_contains "connection cut mid-body: no task" "$(cat "$T/cut.out")" "status:"

# --- notifier --------------------------------------------------------------------------------------
for n in 'file:///etc/passwd' 'gopher://127.0.0.1:70/x' 'javascript:alert(1)' \
         'ftp://127.0.0.1/x' 'dict://127.0.0.1:11211/x' 'http://' 'https://' \
         'http:///x' 'http:/x/y' 'http://:80/x' 'notaurl' 'http://a b/'; do
    rej "notifier $n" 400 "notifier" -F service=echo -F "fileIn0=@$T/hello.txt" \
        --form-string "notifier=$n" "$BASE/"
done
rej "notifier file:// names the scheme" 400 "notifier|file" -F service=echo \
    -F "fileIn0=@$T/hello.txt" --form-string "notifier=file:///etc/passwd" "$BASE/"
rej "notifier without a host says so" 400 "notifier|no host" -F service=echo \
    -F "fileIn0=@$T/hello.txt" --form-string "notifier=http:///x" "$BASE/"
# Hosts a notifier may not reach, in every spelling, and $myip (loopback here).
for n in 'http://127.0.0.1/x' 'http://[::1]/x' 'http://2130706433/x' \
         'http://0x7f000001/x' 'http://0177.0.0.1/x' 'http://127.1/x' \
         'http://localhost:8080/x' 'http://LocalHost./x' 'http://0/x' \
         'http://169.254.169.254/latest/meta-data/' 'http://metadata.google.internal/' \
         'http://10.0.0.1/x' 'http://172.16.5.4/x' 'http://192.168.1.1/x' \
         'http://[fd00::1]/x' 'http://[fe80::1]/x' 'http://[::ffff:127.0.0.1]/x' \
         'http://224.0.0.1/x' 'http://u:p@127.0.0.1/x' 'http://$myip:8000/$id'; do
    rej "notifier $n denied" 400 "notifier|notifier_allow" -F service=echo \
        -F "fileIn0=@$T/hello.txt" --form-string "notifier=$n" "$BASE/"
done
rej "notifier loopback names the class" 400 "a loopback address" -F service=echo \
    -F "fileIn0=@$T/hello.txt" --form-string "notifier=http://0x7f000001/x" "$BASE/"

# --- task ids --------------------------------------------------------------------------------------
rej "info: unknown id" 404 "$U" "$BASE/?service=info&id=$U"
rej "info: malformed id" 400 "id|not a task id" "$BASE/?service=info&id=abc"
rej "info: traversal id" 400 "id" "$BASE/?service=info&id=../../etc/passwd"
rej "info by POST: unknown id" 404 "$U" -F service=info -F "id=$U" "$BASE/"
rej "result: unknown id" 404 "$U" "$BASE/tasks/out/$U"
rej "result: unknown id with ext" 404 "$U" "$BASE/tasks/out/$U.gcode"
rej "result: malformed id" 400 "abc" "$BASE/tasks/out/abc"
rej "result: malformed long name" 400 "not a" "$BASE/tasks/out/x700000000-00000-000000.stl"
rej "log: unknown id" 404 "$U" "$BASE/tasks/log/$U"
rej "log: malformed id" 400 "not a task id" "$BASE/tasks/log/abc"
rej "cancel: unknown id" 404 "$U" -F service=cancel -F "id=$U" "$BASE/"
rej "cancel: malformed id" 400 "id" -F service=cancel -F id=abc "$BASE/"
rej "kill by GET" 405 "service|POST" "$BASE/?service=kill&id=$U"
rej "cancel by GET" 405 "service|POST" "$BASE/?service=cancel&id=abc"
rej "kill by POST: malformed id" 400 "id" -F service=kill -F id=abc "$BASE/"
rej "api cancel: unknown id" 404 "$U" -X POST -d '' "$BASE/api/v1/tasks/$U/cancel"
rej "api cancel: malformed id" 400 "id" -X POST -d '' "$BASE/api/v1/tasks/abc/cancel"
rej "api get: unknown id" 404 '"field":"id"' "$BASE/api/v1/tasks/$U"
# RepRapCloud's README shows two-part ids: that shape is an unknown task,
# not a malformed request; anything else is malformed.
U2=1361982308-837500
rej "info: two-part id" 404 "no task|$U2" "$BASE/?service=info&id=$U2"
rej "info by POST: two-part id" 404 "$U2" -F service=info -F "id=$U2" "$BASE/"
rej "info: two-part id (JSON)" 404 '"code":404,"field":"id"' "$BASE/?service=info&id=$U2&format=json"
rej "result: two-part id" 404 "$U2" "$BASE/tasks/out/$U2"
rej "result: two-part id with ext" 404 "$U2" "$BASE/tasks/out/$U2.stl"
rej "log: two-part id" 404 "$U2" "$BASE/tasks/log/$U2"
rej "kill by POST: two-part id" 404 "$U2" -F service=kill -F "id=$U2" "$BASE/"
rej "api cancel: two-part id" 404 "$U2" -X POST -d '' "$BASE/api/v1/tasks/$U2/cancel"
rej "api get: two-part id" 404 '"field":"id"' "$BASE/api/v1/tasks/$U2"
# Ids as issued now: 20 random digits in the third group; unknown is 404.
U3=1700000000-00000-12345678901234567890
rej "info: unknown id of today's shape" 404 "no task|$U3" "$BASE/?service=info&id=$U3"
rej "result: unknown id of today's shape" 404 "$U3" "$BASE/tasks/out/$U3.stl"
rej "log: unknown id of today's shape" 404 "$U3" "$BASE/tasks/log/$U3"
rej "api get: unknown id of today's shape" 404 '"field":"id"' "$BASE/api/v1/tasks/$U3"
rej "info: short three-part id" 404 "1-2-3" "$BASE/?service=info&id=1-2-3"
rej "info: four-part id" 400 "not a task id" "$BASE/?service=info&id=1-2-3-4"
rej "info: one-part id" 400 "not a task id" "$BASE/?service=info&id=1361982308"
rej "info: empty part" 400 "not a task id" "$BASE/?service=info&id=1361982308--1"
rej "info: 21-digit part" 400 "not a task id" "$BASE/?service=info&id=123456789012345678901-1"
rej "log: four-part id" 400 "not a task id" "$BASE/tasks/log/1-2-3-4"
rej "result: four-part id" 400 "not a result name" "$BASE/tasks/out/1-2-3-4.stl"
for p in '/tasks/out/..%2F..%2Frrcloud.db' '/tasks/log/..%2F..%2Frrcloud.db' \
         "/tasks/log/$keep/../../rrcloud.db" '/_spool/../rrcloud.db'; do
    code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "$BASE$p")
    case $code in 4??) pass ;; *) fail "$p: expected 4xx, got $code" ;; esac
    expect_not_contains "$p: no database bytes" "$(head -c 100 "$T/body" | tr -d '\0')" "SQLite"
done

# --- JSON error shape --------------------------------------------------------------------------------
for how in field header; do
    if [ $how = field ]; then set -- -F format=json; else set -- -H 'Accept: application/json'; fi
    ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$@" -F service=slic3r \
        -F "fileIn0=@/bin/ls;filename=cube.stl" "$BASE/")
    expect_eq "JSON error ($how): status and type" "415 application/json" "$ct"
    expect_contains "JSON error ($how): shape" "$(body)" '{"error":{"code":415,"field":"fileIn0","message":"'
    ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$@" -F service=echo \
        -F "fileIn0=@$T/hello.txt" -F "fileIn1=@$T/hello.txt" -F "fileIn2=@$T/hello.txt" "$BASE/")
    expect_eq "JSON 413 ($how)" "413 application/json" "$ct"
    expect_contains "JSON 413 ($how): shape" "$(body)" '{"error":{"code":413,"field":"fileIn2","message":"'
    expect_contains "JSON 413 ($how): limit" "$(body)" 'max_files = 2'
done
ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$BASE/?service=info&id=$U&format=json")
expect_eq "JSON 404 by format=json" "404 application/json" "$ct"
expect_contains "JSON 404 shape" "$(body)" '{"error":{"code":404,"field":"id","message":"no task'
ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' -H 'Accept: application/json' "$BASE/?service=info&id=abc")
expect_eq "JSON 400 by Accept" "400 application/json" "$ct"
expect_contains "JSON 400 shape" "$(body)" '{"error":{"code":400,"field":"id","message":"'
ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' -H 'Accept: application/json' "$BASE/tasks/log/abc")
expect_eq "JSON 400 for /tasks/log" "400 application/json" "$ct"
ct=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' -H 'Accept: application/json' \
    -F service=echo -F "fileIn0=@$T/hello.txt" --form-string 'notifier=gopher://x/' "$BASE/")
expect_eq "JSON 400 notifier" "400 application/json" "$ct"
expect_contains "JSON 400 notifier shape" "$(body)" '{"error":{"code":400,"field":"notifier","message":"'

# --- nothing was left behind, nothing accepted was lost -----------------------------------------------
i=0
while [ -n "$(ls -A "$STACK/spool/tmp")" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "spool tmp/ is empty" "" "$(ls -A "$STACK/spool/tmp")"
expect_eq "no task directory for a rejected request" "$accepted" "$(ntasks)"
n=$(curl -s "$BASE/api/v1/tasks?limit=1000" | grep -o '"id":"[0-9-]*"' | wc -l | tr -d ' ')
expect_eq "no task row for a rejected request" "$accepted" "$n"
stray=$(find "$STACK" -newer "$T/marker" -type f ! -path "$STACK/spool/*" \
    ! -path "$STACK/log/*" ! -path "$STACK/nginx/tmp/*" ! -name 'rrcloud.db*' 2>/dev/null)
expect_eq "nothing written outside the spool" "" "$stray"
evil=$(find / /tmp "$STACK" "$SRCDIR" -maxdepth 3 -name "$EVIL*" 2>/dev/null)
expect_eq "no traversal target exists" "" "$evil"
out=$(curl -s "$BASE/?service=info&id=$keep")
expect_contains "earlier task is still complete" "$out" "status: complete"
expect_eq "earlier task's result downloads" "hello rrcloud" "$(curl -s "$BASE/tasks/out/$keep")"
code=$(http_status GET "$BASE/tasks/log/$keep")
expect_eq "earlier task's log downloads" 200 "$code"
code=$(http_status GET "$BASE/healthz")
expect_eq "stack still healthy" 200 "$code"

# --- a full queue (max_queued = 3): with rrcloudd stopped, tasks stay queued --------
rrcloudd_stop TERM || fail "rrcloudd did not stop"
for k in 1 2 3; do
    code=$(http_status POST "$BASE/" -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt")
    expect_eq "queued task $k of 3 accepted" 200 "$code"
done
rej "a fourth while 3 are queued" 503 "max_queued|3 tasks are queued" \
    -F service=echo -F async=1 -F "fileIn0=@$T/hello.txt" "$BASE/"
rej "... in JSON, the limit is its field" 503 '"field":"max_queued"' \
    -F service=echo -F async=1 -F format=json -F "fileIn0=@$T/hello.txt" "$BASE/"
code=$(http_status GET "$BASE/?service=info&id=$keep")
expect_eq "reading still works with a full queue" 200 "$code"
