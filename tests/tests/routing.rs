//! The route planner through its two interfaces: `POST /api/v1/routing/solve` and
//! `ppe solve-vrp` on a benchmark file.

use ppe_tests::{Server, assert_problem, problem_fields};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Twelve units around Drammen, two vans with two capacity dimensions, opening hours.
fn request() -> Value {
    let jobs: Vec<Value> = (0..12)
        .map(|i| {
            let f = f64::from(i);
            json!({
                "id": 100 + i,
                "location": [10.15 + 0.01 * f, 59.72 + 0.004 * (f % 5.0)],
                "delivery": [20 + i, 5],
                "service": 300,
                // GP offices (every third) close for lunch: two windows.
                "time_windows": if i % 3 == 0 { json!([[28800, 41400], [45000, 54000]]) } else { json!([[28800, 57600]]) },
                "priority": if i < 4 { 50 } else { 0 }
            })
        })
        .collect();
    json!({
        "vehicles": [
            {"id": 1, "start": [10.2210, 59.7355], "capacity": [200, 40], "time_window": [25200, 61200]},
            {"id": 2, "start": [10.2210, 59.7355], "capacity": [150, 30], "time_window": [25200, 61200], "max_trips": 2, "reload_time": 900}
        ],
        "jobs": jobs,
        "options": {"time_limit": 0.5, "seed": 7}
    })
}

#[test]
fn routes_serve_every_job_once_within_capacity_and_opening_hours() {
    let s = Server::start();
    let mut req = request();
    // Two chains where the machine has the cores (the server allows at most its own count).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    req["options"]["threads"] = json!(cores.min(2));
    let r = s.post("/api/v1/routing/solve", &req);
    assert_eq!(r.status(), 200);
    let sol: Value = r.json().unwrap();
    assert_eq!(sol["unassigned"].as_array().unwrap().len(), 0, "{sol}");
    let jobs: HashMap<i64, &Value> = req["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["id"].as_i64().unwrap(), j))
        .collect();
    let mut served = Vec::new();
    for route in sol["routes"].as_array().unwrap() {
        let vehicle =
            &req["vehicles"].as_array().unwrap()[(route["vehicle"].as_i64().unwrap() - 1) as usize];
        let cap: Vec<i64> = vehicle["capacity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap())
            .collect();
        let steps = route["steps"].as_array().unwrap();
        assert_eq!(steps.first().unwrap()["type"], "start");
        assert_eq!(steps.last().unwrap()["type"], "end");
        let mut last_departure = 0;
        for st in steps {
            let load: Vec<i64> = st["load"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_i64().unwrap())
                .collect();
            assert!(load.iter().zip(&cap).all(|(l, c)| l <= c), "{st}");
            let arrival = st["arrival"].as_i64().unwrap();
            assert!(arrival >= last_departure, "{st}");
            last_departure = st["departure"].as_i64().unwrap();
            if st["type"] == "job" {
                let id = st["job"].as_i64().unwrap();
                served.push(id);
                let start = st["service_start"].as_i64().unwrap();
                let fits = jobs[&id]["time_windows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|w| w[0].as_i64().unwrap() <= start && start <= w[1].as_i64().unwrap());
                assert!(fits, "job {id} starts at {start} outside its windows");
            }
        }
        assert!(
            last_departure <= vehicle["time_window"][1].as_i64().unwrap()
                || steps.last().unwrap()["arrival"].as_i64().unwrap()
                    <= vehicle["time_window"][1].as_i64().unwrap()
        );
    }
    served.sort_unstable();
    assert_eq!(served, (100..112).collect::<Vec<i64>>());
    assert!(sol["summary"]["distance"].as_i64().unwrap() > 0);
}

#[test]
fn jobs_that_cannot_fit_are_reported_unassigned_lowest_priority_first() {
    let s = Server::start();
    let mut req = request();
    // One small van: not everything fits; the four priority jobs must be among the served.
    req["vehicles"] = json!([{"id": 1, "start": [10.2210, 59.7355], "capacity": [100, 40], "time_window": [25200, 61200]}]);
    let sol: Value = s.post("/api/v1/routing/solve", &req).json().unwrap();
    let unassigned: Vec<i64> = sol["unassigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert!(!unassigned.is_empty(), "{sol}");
    assert!(
        unassigned.iter().all(|id| *id >= 104),
        "a priority job was left: {unassigned:?}"
    );
}

#[test]
fn bad_routing_input_names_the_field() {
    let s = Server::start();
    let mut req = request();
    req["jobs"][3]["delivery"] = json!([1]);
    req["options"]["time_limit"] = json!(120);
    req["options"]["threads"] = json!(0);
    let p = assert_problem(s.post("/api/v1/routing/solve", &req), 422);
    assert_eq!(
        problem_fields(&p),
        ["options.time_limit", "options.threads", "jobs[3].delivery"]
    );
    let mut req = request();
    req["jobs"][0]["location"] = json!([200.0, 59.0]);
    let p = assert_problem(s.post("/api/v1/routing/solve", &req), 422);
    assert_eq!(problem_fields(&p), ["jobs[0].location"]);
    let mut req = request();
    req["vehicles"][0]["colour"] = json!("red");
    let p = assert_problem(s.post("/api/v1/routing/solve", &req), 422);
    assert_eq!(problem_fields(&p), ["vehicles[0].colour"]);
}

#[test]
fn a_supplied_matrix_is_used_instead_of_coordinates() {
    let s = Server::start();
    // Depot 0, jobs at 1 and 2; going 0→2→1→0 is much cheaper than 0→1→2→0.
    let req = json!({
        "vehicles": [{"id": 9, "start_index": 0, "capacity": [10]}],
        "jobs": [{"id": 1, "location_index": 1, "delivery": [1]}, {"id": 2, "location_index": 2, "delivery": [1]}],
        "matrix": {"durations": [[0, 100, 10], [10, 0, 100], [100, 10, 0]]},
        "options": {"time_limit": 0.2}
    });
    let sol: Value = s.post("/api/v1/routing/solve", &req).json().unwrap();
    let order: Vec<i64> = sol["routes"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|st| st["job"].as_i64())
        .collect();
    assert_eq!(order, [2, 1]);
    assert_eq!(sol["summary"]["cost"], 30);
}

/// The first ten customers of Solomon's C101, in the file format of the benchmark set.
const SMALL_SOLOMON: &str = "C101-10

VEHICLE
NUMBER     CAPACITY
  25         200

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1236          0
    1      45         68         10        912        967         90
    2      45         70         30        825        870         90
    3      42         66         10         65        146         90
    4      42         68         10        727        782         90
    5      42         65         10         15         67         90
    6      40         69         20        621        702         90
    7      40         66         20        170        225         90
    8      38         68         20        255        324         90
    9      38         70         10        534        605         90
   10      35         66         10        357        410         90
";

#[test]
fn solve_vrp_prints_file_numbered_routes_covering_every_customer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("C101-10.txt");
    std::fs::write(&file, SMALL_SOLOMON).unwrap();
    let out = std::process::Command::new(ppe_tests::binary())
        .arg("solve-vrp")
        .arg(&file)
        .args([
            "--time-limit",
            "1",
            "--seed",
            "1",
            "--max-vehicles",
            "25",
            "--max-iterations",
            "2000",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes = v["routes"].as_array().unwrap();
    let mut seen: Vec<i64> = routes
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|c| c.as_i64().unwrap()))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=10).collect::<Vec<i64>>());
    // Customers 5 and 3 open first (15 and 65): whichever route holds both visits 5 first.
    for r in routes {
        let r: Vec<i64> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap())
            .collect();
        if let (Some(a), Some(b)) = (
            r.iter().position(|c| *c == 5),
            r.iter().position(|c| *c == 3),
        ) {
            assert!(a < b, "{r:?}");
        }
    }
    assert!(v["cost"].as_f64().unwrap() > 0.0);
}
