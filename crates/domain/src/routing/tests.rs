//! Tests of the engine against a brute-force optimum, an independent checker and the file formats.

mod brute_force;
mod formats;
mod properties;
mod route_state_checks;

use super::model::{Job, Problem, TimeWindow, TravelMatrix, Vehicle};

/// A small instance on a grid, with integer euclidean distances and time = distance.
pub(super) fn grid_problem(
    points: &[(i64, i64)],
    jobs: Vec<Job>,
    vehicles: Vec<Vehicle>,
    dims: usize,
) -> Problem {
    let pts: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
    let matrix: TravelMatrix = super::travel::euclid_nint(&pts);
    Problem {
        dimensions: dims,
        jobs,
        vehicles,
        matrix,
    }
}

pub(super) fn window(a: i64, b: i64) -> TimeWindow {
    TimeWindow::new(a, b)
}
