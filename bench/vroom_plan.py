"""Solves a delivery plan's routing jobs, exported by `delivery_bench --export-vroom`, with
VROOM (pyvroom, the peer kit's version) under the same time limit, one thread, exploration
level 5 as in the peer kit, and writes the routes for `delivery_bench --vroom-routes` to cost
with the project's own checker.

usage: python vroom_plan.py IN.json OUT.json [--time-limit 2]
"""

import argparse
import json
import time
from datetime import timedelta

import vroom


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--time-limit", type=float, default=2.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    problem = vroom.Input.from_json(a.input)
    sol = problem.solve(
        exploration_level=5, nb_threads=1, timeout=timedelta(seconds=a.time_limit)
    )
    elapsed = time.perf_counter() - t0
    routes, vehicles = [], []
    for vid, g in sol.routes.groupby("vehicle_id", sort=False):
        jobs = g[g["type"] == "job"]["id"].astype(int).tolist()
        if jobs:
            routes.append(jobs)
            vehicles.append(int(vid))
    served = {j for r in routes for j in r}
    with open(a.input) as f:
        all_jobs = [j["id"] for j in json.load(f)["jobs"]]
    out = {
        "routes": routes,
        "vehicles": vehicles,
        "unassigned": [j for j in all_jobs if j not in served],
        "solver_cost": int(sol.summary.cost),
        "seconds": elapsed,
    }
    with open(a.output, "w") as f:
        json.dump(out, f)
    print(json.dumps({k: out[k] for k in ("solver_cost", "seconds")}))


if __name__ == "__main__":
    main()
