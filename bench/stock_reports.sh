#!/usr/bin/env bash
# Benchmark: one-line stock reports POSTed to a release build, measured with wrk.
#   bench/stock_reports.sh sqlite|postgres [duration=20s] [connections=32]
# The server keeps forecasts current as it would in service (PPE_FORECAST_REFRESH=false: not).
# Server and wrk share the machine, so compare figures measured in one run on it.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}; duration=${2:-20s}; conns=${3:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin ppe >&2
work=$(mktemp -d)
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    admin=${PPE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    name="ppe_bench_$$"
    psql "$admin" -qc "CREATE DATABASE $name"
    trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
    url="${admin%/*}/$name" ;;
  *) echo "backend is sqlite or postgres" >&2; exit 2 ;;
esac
port=18181
# Every API call needs a token: the first admin token, as an operator makes it.
PPE_TOKEN=$(RUST_LOG=warn ./target/release/ppe token create --role admin --name bench --database-url "$url" 2>/dev/null)
export PPE_TOKEN
auth="Authorization: Bearer $PPE_TOKEN"
RUST_LOG=warn ./target/release/ppe serve --database-url "$url" --bind 127.0.0.1:$port --workers 2 \
  --forecast-refresh "${PPE_FORECAST_REFRESH:-true}" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -n "${admin:-}" ] && psql "$admin" -qc "DROP DATABASE IF EXISTS ${name:-x} WITH (FORCE)" || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/api/v1"
for i in $(seq -w 1 12); do
  curl -sf -X POST "$base/items" -H "$auth" -H 'content-type: application/json' \
    -d "{\"sku\":\"I-$i\",\"name\":\"bench item $i\",\"category\":\"mask\",\"base_unit\":\"piece\",\"pack_size\":50}" >/dev/null
done
for s in $(seq -w 1 40); do
  curl -sf -X POST "$base/sites" -H "$auth" -H 'content-type: application/json' \
    -d "{\"code\":\"B-$s\",\"name\":\"bench unit $s\",\"kind\":\"unit\",\"latitude\":59.7,\"longitude\":10.2}" >/dev/null
done
# Warm-up, then the measured run.
PPE_BENCH_RUN=warmup wrk -t2 -c"$conns" -d3s -s bench/stock_report.lua "http://127.0.0.1:$port" >/dev/null
echo "backend=$backend duration=$duration connections=$conns"
PPE_BENCH_RUN=measured wrk -t2 -c"$conns" -d"$duration" --latency -s bench/stock_report.lua "http://127.0.0.1:$port" | tail -1
