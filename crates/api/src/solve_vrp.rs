//! `ppe solve-vrp`: the route planner on a CVRPLIB `.vrp` or Solomon `.txt` file,
//! printing the JSON of the peer benchmark kit's contract (routes in the file's own node
//! numbers, depot excluded).

use ppe_domain::routing::{self, SolveOptions, instances};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// A CVRPLIB .vrp or Solomon .txt instance.
    file: PathBuf,
    /// Wall-clock seconds for the whole command.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads searching together (the benchmark protocol uses one).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Fleet bound; default: the file's own.
    #[arg(long)]
    max_vehicles: Option<usize>,
    /// Stop after this many iterations instead (deterministic for a seed).
    #[arg(long)]
    max_iterations: Option<u64>,
}

pub fn run(args: &Args, started: Instant) -> Result<(), String> {
    let name = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("{name}: {e}"))?;
    let inst = instances::parse_file(&name, &text).map_err(|e| format!("{name}: {e}"))?;
    let k = args.max_vehicles.unwrap_or(inst.problem.vehicles.len());
    let problem = inst.with_fleet(k);
    // Leave a little of the budget for checking and writing the answer.
    let options = SolveOptions {
        time_limit: Some((args.time_limit - 0.05).max(0.01)),
        max_iterations: args.max_iterations,
        seed: args.seed,
        threads: args.threads.max(1),
        ..SolveOptions::default()
    };
    let clock = || started.elapsed().as_secs_f64();
    let sol = routing::solve(&problem, &options, &clock).map_err(|e| format!("{name}: {e}"))?;
    log::info!(
        "{}: cost {} routes {} unassigned {} iterations {} time_to_best {:.2}s",
        inst.name,
        inst.cost_in_file_units(sol.cost),
        sol.routes.len(),
        sol.unassigned.len(),
        sol.stats.iterations,
        sol.stats.time_to_best
    );
    let out = serde_json::json!({
        "routes": inst.routes_in_file_numbers(&sol),
        "cost": inst.cost_in_file_units(sol.cost),
        "time_to_best": sol.stats.time_to_best,
        "unassigned": sol.unassigned.iter().map(|&j| inst.job_numbers[j]).collect::<Vec<_>>(),
    });
    println!("{out}");
    Ok(())
}
