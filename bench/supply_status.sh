#!/usr/bin/env bash
# Benchmark: GET /api/v1/supply-status for the whole demo municipality (40 units × 12 items)
# and its district and municipality aggregates on a warm release server, and how long a new
# stock report takes to show in it.
#   bench/supply_status.sh [duration=20s] [connections=8]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}; conns=${2:-8}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin ppe >&2
work=$(mktemp -d)
port=18182
./target/release/ppe serve --demo --database-url "sqlite://$work/demo.db" --bind 127.0.0.1:$port \
  --workers 2 >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "^listening" "$work/out" 2>/dev/null && break; sleep 0.1; done
token=$(sed -n 's/^export TOKEN=\([^ ]*\).*/\1/p' "$work/out")
auth="Authorization: Bearer $token"
base="http://127.0.0.1:$port/api/v1"
rows() { curl -sf -H "$auth" "$base/supply-status" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# Warm: every series computed by the background refresher.
for _ in $(seq 1 600); do [ "$(rows)" = 480 ] && break; sleep 0.2; done
echo "rows=$(rows) ($(grep -o 'forecasts: .*' "$work/log" | head -1))"
export PPE_TOKEN=$token
wrk -t2 -c"$conns" -d3s -s bench/bearer.lua "$base/supply-status" >/dev/null
echo "GET /api/v1/supply-status, wrk -t2 -c$conns -d$duration:"
wrk -t2 -c"$conns" -d"$duration" --latency -s bench/bearer.lua "$base/supply-status" \
  | grep -E "Requests/sec|50%|90%|99%"
# The aggregates read the same stored rows and are kept the same way: compare in this run.
for by in district municipality; do
  echo "GET /api/v1/supply-status/aggregates?by=$by, wrk -t2 -c$conns -d$duration:"
  wrk -t2 -c"$conns" -d"$duration" --latency -s bench/bearer.lua "$base/supply-status/aggregates?by=$by" \
    | grep -E "Requests/sec|50%|90%|99%"
done
# Freshness: a unit counts zero; time until the supply status shows it.
before=$(curl -sf -H "$auth" "$base/supply-status?site=NH-01&item=FFP2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["on_hand"])')
start=$(date +%s.%N)
curl -sf -X POST "$base/stock-reports" -H "$auth" -H 'content-type: application/json' \
  -d '{"site":"NH-01","reported_by":"bench","lines":[{"item":"FFP2","counted":0}]}' >/dev/null
for _ in $(seq 1 600); do
  now=$(curl -sf -H "$auth" "$base/supply-status?site=NH-01&item=FFP2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["on_hand"])')
  [ "$now" = 0 ] && break; sleep 0.05
done
end=$(date +%s.%N)
echo "new stock report (NH-01 FFP2 $before -> 0) visible after $(python3 -c "print(round($end - $start, 2))") s"
