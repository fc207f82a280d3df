-- echo_submit.lua - wrk script for bench/bench_relay.sh: every request is an
-- async RepRapCloud submission (POST / multipart) of a 1 KiB text file to
-- the echo service.  The body is built once; wrk sends it unchanged.
--
--   wrk -s bench/echo_submit.lua http://127.0.0.1:PORT/

local boundary = "----rrcloud-bench-3f2a9c1d"

-- 1024 bytes of text: 16 lines of 63 printable characters plus LF
local line = string.rep("rrcloud", 9) .. "\n"
local file = string.rep(line, 16)

local function field(name, value)
    return "--" .. boundary .. "\r\n" ..
        "Content-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" ..
        value .. "\r\n"
end

wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = field("service", "echo") ..
    field("async", "1") ..
    field("format", "json") ..
    "--" .. boundary .. "\r\n" ..
    "Content-Disposition: form-data; name=\"fileIn0\"; filename=\"bench.txt\"\r\n" ..
    "Content-Type: text/plain\r\n\r\n" ..
    file .. "\r\n" ..
    "--" .. boundary .. "--\r\n"
