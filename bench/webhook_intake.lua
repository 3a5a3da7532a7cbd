-- wrk script for bench/webhook_intake.py: POSTs pre-signed webhook bodies, each at most once.
--   wrk -t T -c C -d 10s -s bench/webhook_intake.lua http://host:port -- REQUESTS_FILE T
-- REQUESTS_FILE has one request a line: path TAB Stripe-Signature TAB body; thread k sends
-- lines k, k+T, k+2T, ... wrk always runs for the whole duration, so the file should hold
-- more requests than can be sent in it: a thread whose lines are used up sends POSTs to an
-- unknown endpoint instead (404), counted apart as "exhausted".

local created = 0
local threads = {}

function setup(thread)
   thread:set("tid", created)
   created = created + 1
   table.insert(threads, thread)
end

local OVERFLOW_PATH = "/webhooks/00000000-0000-4000-8000-000000000000/"

function init(args)
   local path, every = args[1], tonumber(args[2])
   reqs = {}
   local n = 0
   for line in io.lines(path) do
      if n % every == tid then
         local url, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", url, {
            ["Content-Type"] = "application/json",
            ["Stripe-Signature"] = signature,
         }, body)
      end
      n = n + 1
   end
   overflow = wrk.format("POST", OVERFLOW_PATH, { ["Content-Type"] = "application/json" }, "{}")
   sent, exhausted, statuses = 0, 0, {}
end

function request()
   sent = sent + 1
   if sent <= #reqs then
      return reqs[sent]
   end
   return overflow
end

function response(status, headers, body)
   if sent > #reqs and status == 404 then
      exhausted = exhausted + 1
      return
   end
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local counts, exhausted_all = {}, 0
   for _, thread in ipairs(threads) do
      exhausted_all = exhausted_all + thread:get("exhausted")
      for code, count in pairs(thread:get("statuses")) do
         counts[code] = (counts[code] or 0) + count
      end
   end
   local parts = {}
   for code, count in pairs(counts) do
      parts[#parts + 1] = string.format('"%s": %d', code, count)
   end
   io.write(string.format(
      'BENCH {"duration_us": %d, "statuses": {%s}, "exhausted": %d, "socket_errors": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
      summary.duration,
      table.concat(parts, ", "),
      exhausted_all,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50) / 1000,
      latency:percentile(99) / 1000
   ))
end
