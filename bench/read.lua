-- SPDX-License-Identifier: Apache-2.0
-- wrk script for the read figure: GET one print job with an application token.
--   BENCH_TOKEN        the bearer token (required)
--   BENCH_ID_LO/HI     when both are set, each request reads a random job id in [LO, HI] under
--   BENCH_PATH_PREFIX  (".../jobs/"); otherwise the URL given to wrk is read every time.
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
