//! Readers for the public benchmark formats (CVRPLIB `.vrp` and Solomon `.txt`), pure functions of
//! the file text. They keep the file's own node numbers so answers can be written in them.
//! Conventions (see the benchmark data README): CVRPLIB X costs are nint(euclid); Solomon distances
//! are euclid truncated to 0.1 and travel time equals distance. Solomon values are held in tenths.

use super::model::{Job, Problem, TimeWindow, Vehicle};
use super::solution::Solution;
use super::travel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BenchKind {
    /// CVRPLIB: capacity only, nint(euclid).
    Cvrp,
    /// Solomon VRPTW: values ×10 so that truncated-to-0.1 distances are integers.
    Solomon,
}

/// A benchmark instance: the problem (with the file's fleet, or `k_min` vehicles for CVRP) plus what
/// is needed to answer in the file's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchInstance {
    pub name: String,
    pub kind: BenchKind,
    pub problem: Problem,
    /// File number of each job (CVRPLIB node id 2..n, Solomon customer number 1..100).
    pub job_numbers: Vec<i64>,
    /// Internal cost units per file unit (1 for CVRPLIB, 10 for Solomon).
    pub scale: i64,
    /// Lower bound on vehicles: ceil(total demand / capacity).
    pub k_min: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown file type for {0:?} (expected .vrp or .txt)")]
    UnknownFormat(String),
    #[error("missing or bad {0}")]
    Missing(&'static str),
    #[error("line {line}: {msg}")]
    Bad { line: usize, msg: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl BenchInstance {
    /// The same problem with exactly `k` identical vehicles.
    pub fn with_fleet(&self, k: usize) -> Problem {
        let mut p = self.problem.clone();
        let v = p.vehicles[0].clone();
        p.vehicles = vec![v; k];
        p
    }

    /// Routes as lists of file numbers, depot excluded (all trips of a vehicle in order).
    pub fn routes_in_file_numbers(&self, solution: &Solution) -> Vec<Vec<i64>> {
        solution
            .routes
            .iter()
            .flat_map(|r| r.trips.iter())
            .map(|t| t.iter().map(|&j| self.job_numbers[j]).collect())
            .collect()
    }

    /// A cost in the file's units (Solomon: one decimal).
    pub fn cost_in_file_units(&self, cost: i64) -> f64 {
        cost as f64 / self.scale as f64
    }
}

/// Reads a benchmark file; the name's suffix tells the format.
pub fn parse_file(name: &str, text: &str) -> Result<BenchInstance, ParseError> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".vrp") {
        parse_cvrplib(text)
    } else if lower.ends_with(".txt") {
        parse_solomon(text)
    } else {
        Err(ParseError::UnknownFormat(name.to_string()))
    }
}

fn num(tok: &str, line: usize) -> Result<f64, ParseError> {
    tok.parse::<f64>().map_err(|_| ParseError::Bad {
        line,
        msg: format!("not a number: {tok:?}"),
    })
}

/// CVRPLIB `.vrp`: TYPE CVRP, EDGE_WEIGHT_TYPE EUC_2D, one depot.
pub fn parse_cvrplib(text: &str) -> Result<BenchInstance, ParseError> {
    let mut name = String::new();
    let mut capacity: Option<i64> = None;
    let mut coords: Vec<(i64, f64, f64)> = Vec::new();
    let mut demands: Vec<(i64, i64)> = Vec::new();
    let mut depots: Vec<i64> = Vec::new();
    let mut section = "";
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let ln = i + 1;
        if line.is_empty() {
            continue;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EOF") {
            break;
        }
        if let Some((key, val)) = line.split_once(':') {
            let (key, val) = (key.trim().to_ascii_uppercase(), val.trim());
            match key.as_str() {
                "NAME" => name = val.to_string(),
                "TYPE" if !val.eq_ignore_ascii_case("CVRP") => {
                    return Err(ParseError::Unsupported(format!("TYPE {val}")));
                }
                "EDGE_WEIGHT_TYPE" if !(val.eq_ignore_ascii_case("EUC_2D")) => {
                    return Err(ParseError::Unsupported(format!("EDGE_WEIGHT_TYPE {val}")));
                }
                "CAPACITY" => capacity = Some(num(val, ln)? as i64),
                _ => {}
            }
            section = "";
            continue;
        }
        if upper.ends_with("_SECTION") {
            section = match upper.as_str() {
                "NODE_COORD_SECTION" => "coord",
                "DEMAND_SECTION" => "demand",
                "DEPOT_SECTION" => "depot",
                other => return Err(ParseError::Unsupported(other.to_string())),
            };
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        match (section, toks.len()) {
            ("coord", 3) => coords.push((
                num(toks[0], ln)? as i64,
                num(toks[1], ln)?,
                num(toks[2], ln)?,
            )),
            ("demand", 2) => demands.push((num(toks[0], ln)? as i64, num(toks[1], ln)? as i64)),
            ("depot", 1) => {
                let d = num(toks[0], ln)? as i64;
                if d >= 0 {
                    depots.push(d);
                }
            }
            _ => {
                return Err(ParseError::Bad {
                    line: ln,
                    msg: format!("unexpected line in section {section:?}"),
                });
            }
        }
    }
    let capacity = capacity.ok_or(ParseError::Missing("CAPACITY"))?;
    if coords.is_empty() || coords.len() != demands.len() {
        return Err(ParseError::Missing(
            "NODE_COORD_SECTION / DEMAND_SECTION of equal length",
        ));
    }
    let depot_id = match depots.as_slice() {
        [] => coords[0].0,
        [d] => *d,
        _ => return Err(ParseError::Unsupported("more than one depot".into())),
    };
    let depot = coords
        .iter()
        .position(|c| c.0 == depot_id)
        .ok_or(ParseError::Missing("depot node"))?;
    let points: Vec<(f64, f64)> = coords.iter().map(|c| (c.1, c.2)).collect();
    let matrix = travel::euclid_nint(&points);
    let mut jobs = Vec::new();
    let mut job_numbers = Vec::new();
    for (loc, c) in coords.iter().enumerate() {
        if loc == depot {
            continue;
        }
        let d = demands
            .iter()
            .find(|d| d.0 == c.0)
            .ok_or(ParseError::Missing("demand of a node"))?
            .1;
        jobs.push(Job::new(loc, vec![d]));
        job_numbers.push(c.0);
    }
    let total: i64 = jobs.iter().map(|j| j.demand[0]).sum();
    let k_min = if capacity > 0 {
        (total + capacity - 1) / capacity
    } else {
        0
    } as usize;
    let vehicle = Vehicle::new(depot, vec![capacity]);
    let problem = Problem {
        dimensions: 1,
        jobs,
        vehicles: vec![vehicle; k_min.max(1)],
        matrix,
    };
    Ok(BenchInstance {
        name,
        kind: BenchKind::Cvrp,
        problem,
        job_numbers,
        scale: 1,
        k_min,
    })
}

/// Solomon `.txt`: name, VEHICLE NUMBER/CAPACITY, then one row per customer
/// (number, x, y, demand, ready, due, service); customer 0 is the depot.
pub fn parse_solomon(text: &str) -> Result<BenchInstance, ParseError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let name = lines
        .next()
        .ok_or(ParseError::Missing("name"))?
        .1
        .to_string();
    let mut fleet: Option<(usize, i64)> = None;
    let mut rows: Vec<[f64; 7]> = Vec::new();
    for (ln, line) in lines {
        let toks: Vec<&str> = line.split_whitespace().collect();
        let numeric = toks.iter().all(|t| t.parse::<f64>().is_ok());
        if !numeric {
            continue;
        }
        match toks.len() {
            2 if fleet.is_none() => {
                fleet = Some((num(toks[0], ln)? as usize, num(toks[1], ln)? as i64))
            }
            7 => {
                let mut r = [0.0; 7];
                for (k, t) in toks.iter().enumerate() {
                    r[k] = num(t, ln)?;
                }
                rows.push(r);
            }
            _ => {
                return Err(ParseError::Bad {
                    line: ln,
                    msg: "expected 2 or 7 numbers".into(),
                });
            }
        }
    }
    let (vehicles, capacity) = fleet.ok_or(ParseError::Missing("VEHICLE NUMBER / CAPACITY"))?;
    if rows.first().is_none_or(|r| r[0] != 0.0) {
        return Err(ParseError::Missing("depot row (customer 0)"));
    }
    let tenths = |x: f64| (x * 10.0).round() as i64;
    let points: Vec<(f64, f64)> = rows.iter().map(|r| (r[1], r[2])).collect();
    let matrix = travel::euclid_trunc_tenths(&points);
    let depot = &rows[0];
    let mut vehicle = Vehicle::new(0, vec![capacity]);
    vehicle.shift = TimeWindow::new(tenths(depot[4]), tenths(depot[5]));
    let mut jobs = Vec::new();
    let mut job_numbers = Vec::new();
    for (loc, r) in rows.iter().enumerate().skip(1) {
        let mut job = Job::new(loc, vec![r[3] as i64]);
        job.windows = vec![TimeWindow::new(tenths(r[4]), tenths(r[5]))];
        job.service = tenths(r[6]);
        jobs.push(job);
        job_numbers.push(r[0] as i64);
    }
    let total: i64 = jobs.iter().map(|j| j.demand[0]).sum();
    let k_min = if capacity > 0 {
        (total + capacity - 1) / capacity
    } else {
        0
    } as usize;
    let problem = Problem {
        dimensions: 1,
        jobs,
        vehicles: vec![vehicle; vehicles.max(1)],
        matrix,
    };
    Ok(BenchInstance {
        name,
        kind: BenchKind::Solomon,
        problem,
        job_numbers,
        scale: 10,
        k_min,
    })
}
