//! Parsers and numbering: CVRPLIB `.vrp` and Solomon `.txt`.

use super::super::instances::{BenchKind, ParseError, parse_file};
use super::super::{Route, SolveOptions, solve};

const VRP: &str = "NAME : \tmini-n5\t
COMMENT : \"made for a test\"
TYPE : \tCVRP\t
DIMENSION : \t5\t
EDGE_WEIGHT_TYPE : \tEUC_2D\t
CAPACITY : \t10\t
NODE_COORD_SECTION\t\t
1\t0\t0
2\t3\t4
3\t6\t8
4\t-3\t-4
5\t1\t1
DEMAND_SECTION\t\t
1\t0
2\t4
3\t5
4\t6
5\t3
DEPOT_SECTION\t\t
\t1\t
\t-1\t
EOF
";

const SOLOMON: &str = "MINI1

VEHICLE
NUMBER     CAPACITY
  3         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       230          0
    1      45         68         10        10        100         10
    2      41         51         30        0         200         10
    3      42         66         10        65        146         10
";

fn quick() -> SolveOptions {
    SolveOptions {
        time_limit: None,
        max_iterations: Some(300),
        ..SolveOptions::default()
    }
}

#[test]
fn cvrplib_reads_nodes_demands_and_depot() {
    let inst = parse_file("/x/mini-n5.vrp", VRP).unwrap();
    assert_eq!(inst.kind, BenchKind::Cvrp);
    assert_eq!(inst.name, "mini-n5");
    assert_eq!(inst.job_numbers, vec![2, 3, 4, 5]);
    assert_eq!(
        inst.problem
            .jobs
            .iter()
            .map(|j| j.demand[0])
            .collect::<Vec<_>>(),
        vec![4, 5, 6, 3]
    );
    assert_eq!(inst.problem.vehicles[0].capacity, vec![10]);
    assert_eq!(inst.k_min, 2); // 18 / 10
    let m = &inst.problem.matrix;
    assert_eq!(m.dist(0, 1), 5);
    assert_eq!(m.dist(0, 4), 1); // sqrt(2) = 1.41 -> 1
    assert_eq!(m.dist(1, 2), 5);
}

#[test]
fn cvrplib_answers_in_file_numbers() {
    let inst = parse_file("mini.vrp", VRP).unwrap();
    let p = inst.with_fleet(3);
    let s = solve(&p, &quick(), &|| 0.0).unwrap();
    let routes = inst.routes_in_file_numbers(&s);
    let mut all: Vec<i64> = routes.concat();
    all.sort();
    assert_eq!(all, vec![2, 3, 4, 5]);
    // Cost by hand from the file numbers with nint(euclid).
    let pt =
        |id: i64| [(0.0, 0.0), (3.0, 4.0), (6.0, 8.0), (-3.0, -4.0), (1.0, 1.0)][(id - 1) as usize];
    let d = |a: (f64, f64), b: (f64, f64)| (f64::hypot(a.0 - b.0, a.1 - b.1) + 0.5).floor() as i64;
    let cost: i64 = routes
        .iter()
        .map(|r| {
            let mut seq = vec![pt(1)];
            seq.extend(r.iter().map(|&i| pt(i)));
            seq.push(pt(1));
            seq.windows(2).map(|w| d(w[0], w[1])).sum::<i64>()
        })
        .sum();
    assert_eq!(cost, s.cost);
    assert_eq!(inst.cost_in_file_units(s.cost), cost as f64);
}

#[test]
fn solomon_reads_fleet_windows_and_tenths() {
    let inst = parse_file("MINI1.txt", SOLOMON).unwrap();
    assert_eq!(inst.kind, BenchKind::Solomon);
    assert_eq!(inst.name, "MINI1");
    assert_eq!(inst.problem.vehicles.len(), 3);
    assert_eq!(inst.problem.vehicles[0].capacity, vec![50]);
    assert_eq!(inst.problem.vehicles[0].shift.end, 2300);
    assert_eq!(inst.job_numbers, vec![1, 2, 3]);
    let j1 = &inst.problem.jobs[0];
    assert_eq!(
        (j1.windows[0].start, j1.windows[0].end, j1.service),
        (100, 1000, 100)
    );
    // depot (40,50) -> customer 2 (41,51): sqrt(2) = 1.414 -> 1.4 -> 14 tenths, time the same.
    assert_eq!(inst.problem.matrix.dist(0, 2), 14);
    assert_eq!(inst.problem.matrix.time(0, 2), 14);
    assert_eq!(inst.scale, 10);
    assert_eq!(inst.cost_in_file_units(8273), 827.3);
}

#[test]
fn solomon_solution_uses_customer_numbers() {
    let inst = parse_file("MINI1.txt", SOLOMON).unwrap();
    let s = solve(&inst.problem, &quick(), &|| 0.0).unwrap();
    assert!(s.unassigned.is_empty());
    let mut all = inst.routes_in_file_numbers(&s).concat();
    all.sort();
    assert_eq!(all, vec![1, 2, 3]);
}

#[test]
fn routes_flatten_trips_in_order() {
    let inst = parse_file("mini.vrp", VRP).unwrap();
    let mut s = solve(&inst.problem, &quick(), &|| 0.0).unwrap();
    s.routes = vec![
        Route {
            vehicle: 0,
            trips: vec![vec![0, 1], vec![3]],
        },
        Route {
            vehicle: 1,
            trips: vec![vec![2]],
        },
    ];
    assert_eq!(
        inst.routes_in_file_numbers(&s),
        vec![vec![2, 3], vec![5], vec![4]]
    );
}

#[test]
fn unknown_or_broken_files_are_errors() {
    assert!(matches!(
        parse_file("a.json", ""),
        Err(ParseError::UnknownFormat(_))
    ));
    assert!(parse_file("a.vrp", "NAME : x\nTYPE : CVRP\n").is_err());
    assert!(matches!(
        parse_file("a.vrp", &VRP.replace("EUC_2D", "GEO")),
        Err(ParseError::Unsupported(_))
    ));
    assert!(parse_file("a.txt", "X\n 1 2\n").is_err());
}
