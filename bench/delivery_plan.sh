#!/usr/bin/env bash
# Benchmark: planning the demo municipality's deliveries end to end over HTTP on a warm
# release server: replenishment proposal, allocation, routes with a 2 s search, stored.
# Each plan replaces the one before, so every run plans from the same free stock. Then
# the delivery benchmark of the domain: allocation of 200 units × 12 items under 50 %
# shortage, and a 200-unit, ten-van day against VROOM (needs $PY with pyvroom, as in the
# peer kit; skipped without it).
#   bench/delivery_plan.sh [runs=5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --bin ppe >&2
cargo build --release -p ppe-domain --example delivery_bench >&2
work=$(mktemp -d)
port=18183
./target/release/ppe serve --demo --database-url "sqlite://$work/demo.db" --bind 127.0.0.1:$port \
  --workers 2 >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q "^listening" "$work/out" 2>/dev/null && break; sleep 0.1; done
token=$(sed -n 's/^export LOGISTICS_TOKEN=\([^ ]*\).*/\1/p' "$work/out")
auth="Authorization: Bearer $token"
base="http://127.0.0.1:$port/api/v1"
rows() { curl -sf -H "$auth" "$base/supply-status" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
for _ in $(seq 1 600); do [ "$(rows)" = 480 ] && break; sleep 0.2; done
echo "POST /api/v1/delivery-plans (demo: WH-DRAMMEN, 3 vans, time_limit 2 s), $runs runs:"
replaces=null
for i in $(seq 1 "$runs"); do
  curl -sf -o "$work/plan.json" -w '%{time_total}' -X POST "$base/delivery-plans" -H "$auth" \
    -H 'content-type: application/json' \
    -d "{\"depot\":\"WH-DRAMMEN\",\"time_limit\":2,\"replaces\":$replaces}" > "$work/t"
  python3 - "$work/plan.json" "$(cat "$work/t")" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]
print(f"  plan {p['id']} v{p['version']}: {float(sys.argv[2]):.2f} s, {t['units_served']} units, "
      f"{t['stock_delivered']} base units, {t['vehicles_used']} vans, {t['distance_km']:.1f} km, "
      f"{t['cost']:.0f} NOK, search {p['solve_seconds']:.2f} s")
PY
  replaces=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/plan.json")
done
echo "delivery_bench (allocation at 50 % shortage; routes with full supply so every unit is a stop):"
./target/release/examples/delivery_bench --repeat 50 | sed -n 1p
if [ -n "${PY:-}" ] && "$PY" -c 'import vroom' 2>/dev/null; then
  ./target/release/examples/delivery_bench --shortage 1.0 --repeat 1 --export-vroom "$work/vroom.json" | tail -2
  "$PY" bench/vroom_plan.py "$work/vroom.json" "$work/vroom_routes.json" --time-limit 2 >/dev/null
  ./target/release/examples/delivery_bench --shortage 1.0 --repeat 1 --vroom-routes "$work/vroom_routes.json" | tail -1
else
  echo "(set PY to a python with pyvroom==1.15.2, e.g. the peer kit's venv, for the VROOM comparison)"
fi
