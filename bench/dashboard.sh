#!/usr/bin/env bash
# Benchmark: the server time of the dashboard's pages on the demo municipality, warm.
# Each page is loaded 50 times by issuing, one after the other, every request the page
# makes (the browser makes them in parallel, so the sum is an upper bound); server time
# is what the service logs per request (arrival to answer). Reported: median and p95 of
# the per-page sums, and GET /healthz in the same run as the floor of one request.
#   bench/dashboard.sh [rounds=50]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-50}
cargo build --release --bin ppe >&2
work=$(mktemp -d)
port=18183
RUST_LOG=info ./target/release/ppe serve --demo --database-url "sqlite://$work/demo.db" \
  --bind 127.0.0.1:$port --workers 2 >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "^listening" "$work/out" 2>/dev/null && break; sleep 0.1; done
token=$(sed -n 's/^export VIEWER_TOKEN=\([^ ]*\).*/\1/p' "$work/out")
python3 - "$port" "$token" "$work/log" "$rounds" <<'PY'
import json, re, statistics, sys, time, urllib.request
port, token, log, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = f"http://127.0.0.1:{port}"
def get(path, auth=True):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"} if auth else {})
    with urllib.request.urlopen(req) as r:
        return r.read()
for _ in range(600):  # warm: every series computed by the background refresher
    if len(json.loads(get("/api/v1/supply-status"))) == 480:
        break
    time.sleep(0.2)
rows = json.loads(get("/api/v1/supply-status"))
worst = rows[0]
site, item = worst["site"], worst["item"]
pages = {
    "overview": ["/", "/dashboard/app.js", "/dashboard/app.css", "/api/v1/me", "/api/v1/supply-status"],
    "site page data": [f"/api/v1/sites/{site}", f"/api/v1/sites/{site}/balances",
                       f"/api/v1/supply-status?site={site}", f"/api/v1/movements?site={site}&limit=30",
                       f"/api/v1/consumption?site={site}&item={item}",
                       f"/api/v1/forecasts?site={site}&item={item}&horizon=28"],
    "healthz": ["/healthz"],
}
pattern = re.compile(r"rid=(\S+) GET (\S+) \d+ ([\d.]+)ms")
def logged():
    with open(log) as f:
        return [(m.group(2), float(m.group(3))) for m in pattern.finditer(f.read())]
for name, paths in pages.items():
    for p in paths:  # one warm-up load
        get(p, auth=p.startswith("/api"))
    totals, walls = [], []
    for _ in range(rounds):
        seen = len(logged())
        t0 = time.perf_counter()
        for p in paths:
            get(p, auth=p.startswith("/api"))
        walls.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.01)  # let the log lines land
        lines = logged()[seen:]
        totals.append(sum(ms for _, ms in lines[-len(paths):]))
    totals.sort(); walls.sort()
    pct = lambda xs, q: xs[int(q * (len(xs) - 1))]
    print(f"{name:15} {len(paths)} requests: server time median {statistics.median(totals):.2f} ms, "
          f"p95 {pct(totals, 0.95):.2f} ms; client wall time (Python, sequential, body read) "
          f"median {statistics.median(walls):.1f} ms, p95 {pct(walls, 0.95):.1f} ms ({rounds} loads)")
PY
