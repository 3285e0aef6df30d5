#!/usr/bin/env bash
# Benchmark: one-line stock reports POSTed with wrk to the service, and the same load
# to a raw baseline on the same database engine, in one run, so that machine speed
# cancels out of the ratio:
#   sqlite:   crates/api/examples/raw_insert.rs, an actix endpoint whose one writer
#             thread inserts one row per request (same pragmas, same worker count);
#   postgres: pgbench inserting one row per transaction, same number of clients.
#   bench/stock_reports.sh sqlite|postgres [duration=20s] [connections=32]
# Both run the `dist` profile (fat LTO). The service keeps forecasts current as in
# service (PPE_FORECAST_REFRESH=false: not).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}; duration=${2:-20s}; conns=${3:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# One build of both: two invocations would resolve features apart and rebuild each time.
cargo build --profile dist -p ppe-api --bin ppe --example raw_insert >&2
ppe=./target/dist/ppe
work=$(mktemp -d)
admin=${PPE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
name="ppe_bench_$$"
case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    psql "$admin" -qc "CREATE DATABASE $name"
    url="${admin%/*}/$name" ;;
  *) echo "backend is sqlite or postgres" >&2; exit 2 ;;
esac
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  [ "$backend" = postgres ] && psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_ready() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; }
seconds=${duration%s}

port=18181
# Every API call needs a token: the first admin token, as an operator makes it.
PPE_TOKEN=$(RUST_LOG=warn $ppe token create --role admin --name bench --database-url "$url" 2>/dev/null)
export PPE_TOKEN
auth="Authorization: Bearer $PPE_TOKEN"
RUST_LOG=warn $ppe serve --database-url "$url" --bind 127.0.0.1:$port --workers 2 \
  --forecast-refresh "${PPE_FORECAST_REFRESH:-true}" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$port/readyz"
base="http://127.0.0.1:$port/api/v1"
for i in $(seq -w 1 12); do
  curl -sf -X POST "$base/items" -H "$auth" -H 'content-type: application/json' \
    -d "{\"sku\":\"I-$i\",\"name\":\"bench item $i\",\"category\":\"mask\",\"base_unit\":\"piece\",\"pack_size\":50}" >/dev/null
done
for s in $(seq -w 1 40); do
  curl -sf -X POST "$base/sites" -H "$auth" -H 'content-type: application/json' \
    -d "{\"code\":\"B-$s\",\"name\":\"bench unit $s\",\"kind\":\"unit\",\"latitude\":59.7,\"longitude\":10.2}" >/dev/null
done
# The two sides are measured in alternating slices, each paused (SIGSTOP) while the
# other runs, so that a change in the machine's speed during the run (other tenants of
# a shared host) weighs on both figures alike instead of on whichever ran at the time.
slices=4
slice=$(( seconds / slices )); [ "$slice" -ge 1 ] || slice=1
service_pid=${pids[0]}
PPE_BENCH_RUN=warmup wrk -t2 -c"$conns" -d3s -s bench/stock_report.lua "http://127.0.0.1:$port" >/dev/null
case "$backend" in
  sqlite)
    ./target/dist/examples/raw_insert 127.0.0.1:18182 "sqlite://$work/raw.db" >/dev/null &
    raw_pid=$!; pids+=($raw_pid)
    wait_ready "http://127.0.0.1:18182/"
    PPE_BENCH_PATH=/raw wrk -t2 -c"$conns" -d3s -s bench/stock_report.lua http://127.0.0.1:18182 >/dev/null
    raw_slice() {
      PPE_BENCH_RUN="raw-$1" PPE_BENCH_PATH=/raw wrk -t2 -c"$conns" -d"${slice}s" --latency \
        -s bench/stock_report.lua http://127.0.0.1:18182 | tail -1
    } ;;
  postgres)
    raw_pid=
    psql "$url" -qc "CREATE TABLE raw_reports (id BIGSERIAL PRIMARY KEY, site TEXT NOT NULL, item TEXT NOT NULL, counted BIGINT NOT NULL, reported_by TEXT NOT NULL)"
    cat > "$work/insert.sql" <<'SQL'
\set s random(1, 40)
\set c random(0, 500)
INSERT INTO raw_reports (site, item, counted, reported_by) VALUES ('B-' || :s, 'I-01', :c, 'bench');
SQL
    pgbench -n -M prepared -c "$conns" -j 2 -T 3 -f "$work/insert.sql" "$url" >/dev/null 2>&1
    raw_slice() {
      local out
      out=$(pgbench -n -M prepared -c "$conns" -j 2 -T "$slice" -f "$work/insert.sql" "$url" 2>/dev/null)
      echo "req_per_s=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)"
    } ;;
  *) exit 2 ;;
esac
service_lines=(); raw_lines=()
for i in $(seq 1 "$slices"); do
  [ -n "$raw_pid" ] && kill -STOP "$raw_pid"
  service_lines+=("$(PPE_BENCH_RUN="measured-$i" wrk -t2 -c"$conns" -d"${slice}s" --latency \
    -s bench/stock_report.lua "http://127.0.0.1:$port" | tail -1)")
  kill -STOP "$service_pid"
  [ -n "$raw_pid" ] && kill -CONT "$raw_pid"
  raw_lines+=("$(raw_slice "$i")")
  kill -CONT "$service_pid"
done
kill "$service_pid"; wait "$service_pid" 2>/dev/null || true

# Rates averaged over the slices (all of one length); latencies from the worst slice.
summary() {
  python3 - "$@" <<'PY'
import sys
rows = [dict(kv.split("=") for kv in line.split()) for line in sys.argv[1:]]
rate = sum(float(r["req_per_s"]) for r in rows) / len(rows)
out = [f"req_per_s={rate:.0f}"]
if "requests" in rows[0]:
    out.insert(0, f"requests={sum(int(r['requests']) for r in rows)}")
    out.append(f"errors_status={sum(int(r['errors_status']) for r in rows)}")
    for k in ("p50_ms", "p99_ms", "max_ms"):
        out.append(f"{k}={max(float(r[k]) for r in rows):.2f}")
print(" ".join(out))
PY
}
service=$(summary "${service_lines[@]}")
raw_line=$(summary "${raw_lines[@]}")
raw=$(sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p' <<<"$raw_line")
case "$backend" in
  sqlite) raw_what="raw one-writer SQLite insert endpoint: $raw_line" ;;
  postgres) raw_what="raw one-row-insert transactions (pgbench, $conns clients): tps=$raw" ;;
esac
rate=$(sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p' <<<"$service")
echo "backend=$backend duration=$duration connections=$conns slices=$slices"
echo "service: $service"
echo "$raw_what"
python3 -c "import sys; print(f'ratio service/raw = {float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$rate" "$raw"
# Whatever the service warned about during the run (a non-2xx answer is explained here).
if grep -qv '^listening on' "$work/serve.log"; then
  echo "service warnings:" >&2
  grep -v '^listening on' "$work/serve.log" | tail -20 >&2
fi
