//! Route planning over HTTP: a VROOM-style subset (vehicles with start/end, capacity,
//! time window; jobs with location, delivery, service, time windows, priority) in; routes
//! of timed steps with loads, distance, duration and unassigned jobs out. Locations are
//! `[lon, lat]` (distances by haversine × road factor at a speed) or indices into a
//! supplied matrix. The search runs on a blocking thread under a bounded time limit.

use crate::auth::Auth;
use crate::extract::JsonBody;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::routing::{
    self, Job, ProblemError, SolveOptions, StopKind, TimeWindow, Vehicle, travel,
};
use ppe_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Longest search a request may ask for, in seconds.
pub const MAX_TIME_LIMIT: f64 = 30.0;
/// Largest id: every client's JSON numbers hold it exactly (2^53 - 1).
pub const MAX_ID: u64 = (1 << 53) - 1;
/// Largest time in seconds (about 31 years): sums over a route stay far from overflow.
pub const MAX_SECONDS: i64 = 1_000_000_000;
/// Largest capacity or demand in one dimension, and largest fixed cost.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// The penalty unit of an unserved job: above any day's driving, so a job is dropped only
/// when it cannot be served; times (1 + priority), so low priorities are dropped first.
const UNSERVED_BASE: i64 = 10_000_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingRequest {
    pub vehicles: Vec<VehicleIn>,
    pub jobs: Vec<JobIn>,
    /// Travel between location indices; without it, locations are coordinates.
    #[serde(default)]
    pub matrix: Option<MatrixIn>,
    #[serde(default)]
    pub options: OptionsIn,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleIn {
    pub id: u64,
    /// `[lon, lat]` where the van starts (with coordinates).
    #[serde(default)]
    pub start: Option<[f64; 2]>,
    /// `[lon, lat]` where it ends; defaults to `start`.
    #[serde(default)]
    pub end: Option<[f64; 2]>,
    /// With a matrix: the start's index.
    #[serde(default)]
    pub start_index: Option<usize>,
    #[serde(default)]
    pub end_index: Option<usize>,
    /// One capacity per dimension (e.g. volume in litres, weight in kg).
    pub capacity: Vec<i64>,
    /// The shift, seconds `[start, end]`.
    #[serde(default)]
    pub time_window: Option<[i64; 2]>,
    /// Longest time from leaving to returning, seconds.
    #[serde(default)]
    pub max_travel_time: Option<i64>,
    /// 2 allows a second trip after reloading at the start depot.
    #[serde(default)]
    pub max_trips: Option<u32>,
    /// Seconds spent reloading between trips.
    #[serde(default)]
    pub reload_time: Option<i64>,
    /// Cost of using this van at all (in seconds of driving).
    #[serde(default)]
    pub fixed_cost: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobIn {
    pub id: u64,
    /// `[lon, lat]` (with coordinates).
    #[serde(default)]
    pub location: Option<[f64; 2]>,
    /// With a matrix: the location's index.
    #[serde(default)]
    pub location_index: Option<usize>,
    /// Quantity per capacity dimension.
    pub delivery: Vec<i64>,
    /// Seconds on site.
    #[serde(default)]
    pub service: i64,
    /// Seconds `[start, end]` in which service may start; several allowed, sorted.
    #[serde(default)]
    pub time_windows: Vec<[i64; 2]>,
    /// 0–100; higher is served first when not everything fits.
    #[serde(default)]
    pub priority: u32,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixIn {
    /// Seconds, `n × n`.
    pub durations: Vec<Vec<i64>>,
    /// Metres, `n × n`; defaults to the durations.
    #[serde(default)]
    pub distances: Option<Vec<Vec<i64>>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OptionsIn {
    /// Search time in seconds (at most 30).
    pub time_limit: f64,
    pub seed: u64,
    /// Threads searching together, from 1 to the server's cores. More threads find cheaper plans
    /// within the same time limit; each keeps one core busy for the whole of it.
    pub threads: usize,
    /// Road distance over straight-line distance (coordinates only).
    pub road_factor: f64,
    /// Average speed in km/h (coordinates only).
    pub speed_kmh: f64,
}

impl Default for OptionsIn {
    fn default() -> Self {
        OptionsIn {
            time_limit: 2.0,
            seed: 1,
            threads: 1,
            road_factor: 1.3,
            speed_kmh: 40.0,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoutingResponse {
    pub summary: Summary,
    pub routes: Vec<RouteOut>,
    pub unassigned: Vec<Unassigned>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Travel time plus fixed costs of the routes, seconds.
    pub cost: i64,
    pub routes: usize,
    pub unassigned: usize,
    /// Metres.
    pub distance: i64,
    /// Seconds, summed over routes.
    pub duration: i64,
    pub iterations: u64,
    pub computing_time_ms: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteOut {
    pub vehicle: u64,
    pub steps: Vec<Step>,
    pub distance: i64,
    pub duration: i64,
    pub cost: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// `start`, `job`, `reload` or `end`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<[f64; 2]>,
    pub location_index: usize,
    /// Seconds.
    pub arrival: i64,
    /// When service starts (after any wait), seconds.
    pub service_start: i64,
    pub departure: i64,
    /// Load on board after the step, per dimension.
    pub load: Vec<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unassigned {
    pub id: u64,
}

/// Locations of a request: indices into a supplied matrix, or deduplicated coordinates.
struct Places {
    coords: Vec<[f64; 2]>,
    index: HashMap<(u64, u64), usize>,
}

impl Places {
    fn at(&mut self, p: [f64; 2]) -> usize {
        let key = (p[0].to_bits(), p[1].to_bits());
        let next = self.coords.len();
        *self.index.entry(key).or_insert_with(|| {
            self.coords.push(p);
            next
        })
    }
}

fn check_point(v: &mut Violations, field: &str, p: [f64; 2]) {
    if !(p[0].is_finite()
        && (-180.0..=180.0).contains(&p[0])
        && p[1].is_finite()
        && (-90.0..=90.0).contains(&p[1]))
    {
        v.add(
            field,
            "must be [lon, lat] with lon in -180..180 and lat in -90..90",
        );
    }
}

/// `[lon, lat]` of each matrix location, when the request gave coordinates.
type Coordinates = Vec<Option<[f64; 2]>>;

/// Builds the domain problem, naming every field that does not fit.
fn to_problem(req: &RoutingRequest) -> Result<(routing::Problem, Coordinates), Violations> {
    let mut v = Violations::default();
    if req.vehicles.is_empty() {
        v.add("vehicles", "must hold at least one vehicle");
    }
    if req.vehicles.len() > 200 {
        v.add("vehicles", "must hold at most 200 vehicles");
    }
    if req.jobs.len() > 2000 {
        v.add("jobs", "must hold at most 2000 jobs");
    }
    let o = &req.options;
    if !(o.time_limit > 0.0 && o.time_limit <= MAX_TIME_LIMIT) {
        v.add(
            "options.time_limit",
            format!("must be more than 0 and at most {MAX_TIME_LIMIT} seconds"),
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !(1..=cores).contains(&o.threads) {
        v.add(
            "options.threads",
            format!("must be between 1 and {cores}, the server's cores"),
        );
    }
    if !(1.0..=5.0).contains(&o.road_factor) {
        v.add("options.road_factor", "must be between 1 and 5");
    }
    if !(1.0..=200.0).contains(&o.speed_kmh) {
        v.add("options.speed_kmh", "must be between 1 and 200");
    }
    let dims = req.vehicles.first().map_or(0, |x| x.capacity.len());
    if dims == 0 || dims > 8 {
        v.add("vehicles[0].capacity", "must hold 1 to 8 dimensions");
    }
    let mut places = Places {
        coords: Vec::new(),
        index: HashMap::new(),
    };
    let n_matrix = req.matrix.as_ref().map(|m| m.durations.len());
    // A location is an index (with a matrix) or a coordinate (without one).
    let mut locate =
        |v: &mut Violations, field: &str, point: Option<[f64; 2]>, index: Option<usize>| -> usize {
            match (n_matrix, point, index) {
                (Some(n), _, Some(i)) if i < n => i,
                (Some(n), _, Some(_)) => {
                    v.add(field, format!("index must be below the matrix size {n}"));
                    0
                }
                (Some(_), _, None) => {
                    v.add(field, "needs an index into the matrix");
                    0
                }
                (None, Some(p), _) => {
                    check_point(v, field, p);
                    places.at(p)
                }
                (None, None, _) => {
                    v.add(
                        field,
                        "needs [lon, lat] coordinates (or send a matrix and indices)",
                    );
                    0
                }
            }
        };
    let mut vehicles = Vec::new();
    for (i, x) in req.vehicles.iter().enumerate() {
        let start = locate(
            &mut v,
            &format!("vehicles[{i}].start"),
            x.start,
            x.start_index,
        );
        let end = if x.end.is_some() || x.end_index.is_some() {
            locate(&mut v, &format!("vehicles[{i}].end"), x.end, x.end_index)
        } else {
            start
        };
        if x.capacity.len() != dims || x.capacity.iter().any(|c| *c < 0) {
            v.add(
                format!("vehicles[{i}].capacity"),
                format!("must hold {dims} non-negative numbers"),
            );
        }
        let mut veh = Vehicle::new(start, x.capacity.clone());
        veh.end_location = end;
        if x.id > MAX_ID {
            v.add(
                format!("vehicles[{i}].id"),
                format!("must be at most {MAX_ID}"),
            );
        }
        if x.capacity.iter().any(|c| *c > MAX_AMOUNT) {
            v.add(
                format!("vehicles[{i}].capacity"),
                format!("must hold numbers of at most {MAX_AMOUNT}"),
            );
        }
        if x.reload_time
            .is_some_and(|t| !(0..=MAX_SECONDS).contains(&t))
        {
            v.add(
                format!("vehicles[{i}].reload_time"),
                format!("must be 0 to {MAX_SECONDS} seconds"),
            );
        }
        if x.fixed_cost.is_some_and(|c| !(0..=MAX_AMOUNT).contains(&c)) {
            v.add(
                format!("vehicles[{i}].fixed_cost"),
                format!("must be 0 to {MAX_AMOUNT}"),
            );
        }
        if let Some([a, b]) = x.time_window {
            if a < 0 || b < a || b > MAX_SECONDS {
                v.add(
                    format!("vehicles[{i}].time_window"),
                    "must be [start, end] with 0 ≤ start ≤ end",
                );
            }
            veh.shift = TimeWindow::new(a, b);
        }
        if x.max_travel_time
            .is_some_and(|t| !(1..=MAX_SECONDS).contains(&t))
        {
            v.add(
                format!("vehicles[{i}].max_travel_time"),
                format!("must be 1 to {MAX_SECONDS} seconds"),
            );
        }
        veh.max_duration = x.max_travel_time;
        veh.max_trips = x.max_trips.unwrap_or(1);
        if !(1..=4).contains(&veh.max_trips) {
            v.add(format!("vehicles[{i}].max_trips"), "must be 1 to 4");
        }
        veh.reload_time = x.reload_time.unwrap_or(0).max(0);
        veh.fixed_cost = x.fixed_cost.unwrap_or(0).max(0);
        // Like VROOM, the cost of a route is its travel time.
        veh.cost_per_distance = 0;
        veh.cost_per_time = 1;
        vehicles.push(veh);
    }
    let mut jobs = Vec::new();
    for (i, x) in req.jobs.iter().enumerate() {
        let loc = locate(
            &mut v,
            &format!("jobs[{i}].location"),
            x.location,
            x.location_index,
        );
        if x.delivery.len() != dims || x.delivery.iter().any(|d| *d < 0) {
            v.add(
                format!("jobs[{i}].delivery"),
                format!("must hold {dims} non-negative numbers"),
            );
        }
        if x.id > MAX_ID {
            v.add(format!("jobs[{i}].id"), format!("must be at most {MAX_ID}"));
        }
        if x.delivery.iter().any(|d| *d > MAX_AMOUNT) {
            v.add(
                format!("jobs[{i}].delivery"),
                format!("must hold numbers of at most {MAX_AMOUNT}"),
            );
        }
        if !(0..=MAX_SECONDS).contains(&x.service) {
            v.add(
                format!("jobs[{i}].service"),
                format!("must be 0 to {MAX_SECONDS} seconds"),
            );
        }
        if x.priority > 100 {
            v.add(format!("jobs[{i}].priority"), "must be 0 to 100");
        }
        // As the model requires: each window [start, end], each next one after the last.
        let sorted = x.time_windows.windows(2).all(|w| w[0][1] < w[1][0]);
        if x.time_windows
            .iter()
            .any(|[a, b]| *a < 0 || b < a || *b > MAX_SECONDS)
            || !sorted
        {
            v.add(
                format!("jobs[{i}].time_windows"),
                "must be sorted, non-overlapping [start, end] pairs",
            );
        }
        let mut job = Job::new(loc, x.delivery.clone());
        job.service = x.service.max(0);
        job.windows = x
            .time_windows
            .iter()
            .map(|[a, b]| TimeWindow::new(*a, *b))
            .collect();
        job.unserved_penalty = Job::priority_penalty(x.priority + 1, UNSERVED_BASE);
        jobs.push(job);
    }
    let ids: std::collections::HashSet<u64> = req.jobs.iter().map(|j| j.id).collect();
    if ids.len() != req.jobs.len() {
        v.add("jobs", "ids must be unique");
    }
    let matrix = match &req.matrix {
        Some(m) => {
            let dist = m.distances.as_ref().unwrap_or(&m.durations);
            match travel::from_rows(dist, &m.durations) {
                Ok(t) if t.distance.iter().chain(&t.time).all(|x| *x >= 0) => Some(t),
                _ => {
                    v.add(
                        "matrix",
                        "must be square, non-negative, durations and distances the same size",
                    );
                    None
                }
            }
        }
        None => None,
    };
    v.finish()?;
    let (matrix, coords) = match matrix {
        Some(m) => {
            let n = m.n;
            (m, vec![None; n])
        }
        None => {
            let pts: Vec<travel::LatLon> = places
                .coords
                .iter()
                .map(|p| travel::LatLon {
                    lat: p[1],
                    lon: p[0],
                })
                .collect();
            (
                travel::from_lat_lon(&pts, o.road_factor, o.speed_kmh),
                places.coords.iter().map(|p| Some(*p)).collect(),
            )
        }
    };
    let problem = routing::Problem {
        dimensions: dims,
        jobs,
        vehicles,
        matrix,
    };
    problem.validate().map_err(|e| match e {
        ProblemError::JobLocation(i) => {
            Violations::single(format!("jobs[{i}].location"), e.to_string())
        }
        ProblemError::JobDimensions(i) | ProblemError::JobValues(i) => {
            Violations::single(format!("jobs[{i}]"), e.to_string())
        }
        ProblemError::VehicleLocation(i)
        | ProblemError::VehicleCapacity(i)
        | ProblemError::VehicleValues(i) => {
            Violations::single(format!("vehicles[{i}]"), e.to_string())
        }
        ProblemError::MatrixSize { .. } | ProblemError::NegativeTravel => {
            Violations::single("matrix", e.to_string())
        }
    })?;
    Ok((problem, coords))
}

fn answer(
    req: &RoutingRequest,
    coords: &[Option<[f64; 2]>],
    sol: &routing::Solution,
) -> RoutingResponse {
    let routes: Vec<RouteOut> = sol
        .schedules
        .iter()
        .map(|s| RouteOut {
            vehicle: req.vehicles[s.vehicle].id,
            steps: s
                .stops
                .iter()
                .map(|st| Step {
                    kind: match st.kind {
                        StopKind::Start => "start",
                        StopKind::Job(_) => "job",
                        StopKind::Reload => "reload",
                        StopKind::End => "end",
                    },
                    job: match st.kind {
                        StopKind::Job(j) => Some(req.jobs[j].id),
                        _ => None,
                    },
                    location: coords.get(st.location).copied().flatten(),
                    location_index: st.location,
                    arrival: st.arrival,
                    service_start: st.start,
                    departure: st.departure,
                    load: st.load_after.clone(),
                })
                .collect(),
            distance: s.distance,
            duration: s.duration,
            cost: s.cost,
        })
        .collect();
    RoutingResponse {
        summary: Summary {
            cost: routes.iter().map(|r| r.cost).sum(),
            routes: routes.len(),
            unassigned: sol.unassigned.len(),
            distance: sol.distance,
            duration: routes.iter().map(|r| r.duration).sum(),
            iterations: sol.stats.iterations,
            computing_time_ms: (sol.stats.elapsed * 1000.0) as u64,
        },
        routes,
        unassigned: sol
            .unassigned
            .iter()
            .map(|&j| Unassigned { id: req.jobs[j].id })
            .collect(),
    }
}

/// Plan vehicle routes: who drives where, in which order, within capacities, opening
/// hours and shifts; jobs that cannot be served are listed as unassigned.
#[utoipa::path(post, path = "/api/v1/routing/solve", tag = "routing", request_body = RoutingRequest, responses(
    (status = 200, body = RoutingResponse),
    (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "A field that does not fit, named", body = Problem, content_type = "application/problem+json"),
))]
pub async fn solve(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<RoutingRequest>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::PlanRoutes)?;
    let req = body.value;
    let (problem, coords) = to_problem(&req)?;
    let options = SolveOptions {
        time_limit: Some(req.options.time_limit),
        max_iterations: None,
        seed: req.options.seed,
        threads: req.options.threads,
        ..SolveOptions::default()
    };
    let sol = state
        .heavy
        .run(move || {
            let started = std::time::Instant::now();
            let clock = move || started.elapsed().as_secs_f64();
            routing::solve(&problem, &options, &clock).map(|s| answer(&req, &coords, &s))
        })
        .await?
        .map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request breaks a rule",
                e.to_string(),
            )
        })?;
    Ok(HttpResponse::Ok().json(sol))
}
