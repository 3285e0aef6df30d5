-- wrk script: one-line stock reports spread over the bench sites and items,
-- each with its own Idempotency-Key (as a phone would send).
local sites, items = 40, 12
local n = 0
-- thread_id is a global: setup() sets it in each thread's own Lua state (a local
-- here would shadow it, and every thread would send the same keys).
thread_id = 0
local counter = 0
local authorization = "Bearer " .. (os.getenv("PPE_TOKEN") or "")
-- Distinct keys per run, so the measured run never replays the warm-up's answers.
local run = os.getenv("PPE_BENCH_RUN") or "run"
-- The raw baseline endpoint takes the same body at another path.
local path = os.getenv("PPE_BENCH_PATH") or "/api/v1/stock-reports"

setup = function(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

request = function()
  n = n + 1
  local s = (n % sites) + 1
  local i = (math.floor(n / sites) % items) + 1
  local body = string.format(
    '{"site":"B-%02d","reported_by":"bench","lines":[{"item":"I-%02d","counted":%d}]}', s, i, n % 500)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = authorization,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, thread_id, n),
  }
  return wrk.format("POST", path, headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors_status=%d req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
