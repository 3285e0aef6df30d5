#!/usr/bin/env bash
# Fuzzes the API document against a demo server with schemathesis: one run per role
# (admin, viewer, reporter; all checks, fixed seed, stateful phase included), then the
# token-revocation operation alone with a throw-away token, since an admin run would
# revoke its own token. Any failure or warning fails the script.
#
#   fuzz/run.sh [DATABASE_URL]     (default: a fresh SQLite file)
#
# Uses target/debug/ppe (build it first) and a virtualenv under target/fuzz-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ppe="$root/target/debug/ppe"
venv="$root/target/fuzz-venv"
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi

db="${1:-sqlite://$work/ppe.db}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ppe" serve --demo --database-url "$db" --bind "127.0.0.1:$port" \
  --auth-failure-limit 1000000 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 600); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 1; done
grep -q listening "$work/serve.out" || { cat "$work/serve.err" >&2; exit 1; }
# shellcheck disable=SC1090
source <(grep '^export' "$work/serve.out")
base="http://127.0.0.1:$port"
url="$base/api-docs/openapi.json"

# A dispatched plan, so that run sheets and stop receipts have something real to act on.
day=$(date -d "+2 days" +%F)  # a day whose vans have all their hours ahead
plan=$(curl -sf -X POST "$base/api/v1/delivery-plans" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d "{\"depot\": \"WH-DRAMMEN\", \"date\": \"$day\", \"time_limit\": 1, \"lines\": [
        {\"site\": \"NH-01\", \"item\": \"FFP2\", \"quantity\": 40},
        {\"site\": \"NH-02\", \"item\": \"GLOVE-NIT-M\", \"quantity\": 200}]}")
PPE_FUZZ_PLAN_ID=$(python3 -c '
import json, sys
plan = json.load(sys.stdin)
assert plan["routes"], "the fixture plan has no route: " + json.dumps(plan)[:500]
print(plan["id"])' <<<"$plan")
export PPE_FUZZ_PLAN_ID
curl -sf -X POST "$base/api/v1/delivery-plans/$PPE_FUZZ_PLAN_ID/dispatch" \
  -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"reported_by": "fuzz"}' >/dev/null

# A transfer to the reporter's unit: the reporter may not dispatch one itself, so without
# it every proof-of-delivery case of that run would stop at 404.
transfer=$(curl -sf -X POST "$base/api/v1/transfers" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d '{"from_site": "WH-DRAMMEN", "to_site": "NH-01", "reported_by": "fuzz",
       "lines": [{"item": "FFP2", "quantity": 10}]}')
reporter_transfer=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["transfer"]["id"])' <<<"$transfer")

fuzz() { # NAME CONFIG TOKEN [ARGS...]: runs in the background, output to $work/NAME.txt
  local name=$1 config=$2 token=$3; shift 3
  (cd fuzz && PYTHONPATH=. "$venv/bin/schemathesis" --config-file "$config" run "$url" \
    --checks all -H "Authorization: Bearer $token" "$@" >"$work/$name.txt" 2>&1) &
  runs+=("$name:$!")
}

# The operations a role may call (`x-roles` in the document), as --include-name options.
allowed() { # ROLE
  curl -sf "$url" | python3 -c '
import json, sys
role = sys.argv[1]
for path, item in json.load(sys.stdin)["paths"].items():
    for method, op in item.items():
        if role in op.get("x-roles", [role]):
            print("--include-name", f"{method.upper()} {path}", sep="\n")
' "$1"
}
mapfile -t viewer_ops < <(allowed viewer)
mapfile -t reporter_ops < <(allowed reporter)

runs=()
# The administrator's run changes the sites, items and stock the scoped runs build on, so
# it goes after them rather than beside them: beside them, the reporter's writes meet the
# demo data in whatever state the administrator's run has reached, and may all be
# answered 404, which fails the run's warning check.
fuzz viewer schemathesis.toml "$VIEWER_TOKEN" "${viewer_ops[@]}"
# The reporter is limited to NH-01: plans span many units, so it reads none by id.
PPE_FUZZ_UNITS=NH-01 PPE_FUZZ_TRANSFER_ID="$reporter_transfer" fuzz reporter schemathesis.toml "$REPORTER_TOKEN" "${reporter_ops[@]}" \
  --exclude-path-regex '/delivery-plans/'
# The revocation operation, aimed at a token made for it.
victim=$(DATABASE_URL="$db" "$ppe" token create --role viewer --name "fuzz victim" 2>"$work/victim.err")
victim_id=$(sed -n 's/^created token \([0-9]*\).*/\1/p' "$work/victim.err")
[ -n "$victim" ] && [ -n "$victim_id" ] || { cat "$work/victim.err" >&2; exit 1; }
PPE_FUZZ_TOKEN_ID="$victim_id" fuzz revoke revoke.toml "$TOKEN" --include-path-regex '/revoke$' \
  --phases examples,fuzzing

# The runs of a stage go side by side (each is mostly the fuzzer's own work); any
# failure fails all.
status=0
collect() {
  for run in "${runs[@]}"; do
    name=${run%%:*}
    if wait "${run##*:}"; then
      echo "== schemathesis $name: passed"
      tail -n 2 "$work/$name.txt"
    else
      echo "== schemathesis $name: FAILED"
      cat "$work/$name.txt"
      status=1
    fi
  done
  runs=()
}
collect
fuzz admin schemathesis.toml "$TOKEN" --exclude-path-regex '/tokens/\{id\}/revoke$'
collect
exit $status
