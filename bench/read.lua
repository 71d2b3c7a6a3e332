-- SPDX-License-Identifier: Apache-2.0
-- wrk script for the read figure: GET one print job with an application token.
--   BENCH_TOKEN        the bearer token (required)
--   BENCH_ID_LO/HI     when both are set, each request reads a random job id in [LO, HI] under
--   BENCH_PATH_PREFIX  (".../jobs/"); otherwise the URL given to wrk is read every time.
--   BENCH_PORTS        "A,B,...": several servers on 127.0.0.1 (spoold processes sharing one
--                      PostgreSQL store); wrk thread i sends to the (i mod n)-th port, so with
--                      -t2 and two ports each process gets half the connections.
-- Used as: BENCH_TOKEN=... wrk -t2 -c64 -d10s --latency -s bench/read.lua URL
local token = os.getenv("BENCH_TOKEN")
if not token or token == "" then
  error("BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token

local lo = tonumber(os.getenv("BENCH_ID_LO") or "")
local hi = tonumber(os.getenv("BENCH_ID_HI") or "")
local prefix = os.getenv("BENCH_PATH_PREFIX")
if lo and hi and prefix then
  -- each wrk thread loads this script in its own Lua state: seed from the state's address
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000))
  request = function()
    return wrk.format("GET", prefix .. math.random(lo, hi))
  end
end

local ports = os.getenv("BENCH_PORTS")
if ports and ports ~= "" then
  local list = {}
  for p in ports:gmatch("[^,]+") do list[#list + 1] = p end
  local n = 0
  setup = function(thread)
    local addrs = wrk.lookup("127.0.0.1", list[n % #list + 1])
    if not addrs or not addrs[1] then error("cannot resolve 127.0.0.1:" .. list[n % #list + 1]) end
    thread.addr = addrs[1]
    n = n + 1
  end
end
