//! Benchmark contract 1 (`solve-vrp`) as a development binary:
//! `solve_vrp [solve-vrp] FILE --time-limit T --seed S --max-vehicles K`
//! prints `{"routes": [[...]], "cost": ..., "time_to_best": ...}` on stdout (file numbering, depot
//! excluded) and logs on stderr.

use std::process::ExitCode;
use std::time::Instant;

use ppe_domain::routing::{self, SolveOptions, instances};

struct Args {
    file: String,
    time_limit: f64,
    seed: u64,
    max_vehicles: Option<usize>,
    max_iterations: Option<u64>,
    params: routing::SearchParams,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("solve-vrp") {
        it.next();
    }
    let mut file = None;
    let mut args = Args {
        file: String::new(),
        time_limit: 10.0,
        seed: 1,
        max_vehicles: None,
        max_iterations: None,
        params: routing::SearchParams::default(),
    };
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--time-limit" => {
                args.time_limit = value(&a)?
                    .parse()
                    .map_err(|e| format!("--time-limit: {e}"))?
            }
            "--seed" => args.seed = value(&a)?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--max-vehicles" => {
                args.max_vehicles = Some(
                    value(&a)?
                        .parse()
                        .map_err(|e| format!("--max-vehicles: {e}"))?,
                )
            }
            "--max-iterations" => {
                args.max_iterations = Some(
                    value(&a)?
                        .parse()
                        .map_err(|e| format!("--max-iterations: {e}"))?,
                )
            }
            // Tuning knobs for experiments; the defaults are what the benchmark uses.
            "--t-start" => {
                args.params.t_start = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            "--t-end" => args.params.t_end = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--avg-removed" => {
                args.params.avg_removed = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            "--max-string" => {
                args.params.max_string = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            "--neighbours" => {
                args.params.insertion_neighbours =
                    value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            "--blink" => {
                args.params.blink_rate = value(&a)?.parse().map_err(|e| format!("{a}: {e}"))?
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => file = Some(s.to_string()),
        }
    }
    args.file = file.ok_or("usage: solve_vrp FILE --time-limit T --seed S --max-vehicles K")?;
    Ok(args)
}

fn main() -> ExitCode {
    let started = Instant::now();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    let inst = match instances::parse_file(&args.file, &text) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    let k = args.max_vehicles.unwrap_or(inst.problem.vehicles.len());
    let problem = inst.with_fleet(k);
    // Leave a little of the budget for reading, checking and writing.
    let options = SolveOptions {
        time_limit: Some((args.time_limit - 0.05).max(0.01)),
        max_iterations: args.max_iterations,
        seed: args.seed,
        params: args.params.clone(),
    };
    let clock = || started.elapsed().as_secs_f64();
    let sol = match routing::solve(&problem, &options, &clock) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "{}: cost {} routes {} unassigned {} iterations {} time_to_best {:.2}s elapsed {:.2}s",
        inst.name,
        inst.cost_in_file_units(sol.cost),
        sol.routes.len(),
        sol.unassigned.len(),
        sol.stats.iterations,
        sol.stats.time_to_best,
        started.elapsed().as_secs_f64()
    );
    let out = serde_json::json!({
        "routes": inst.routes_in_file_numbers(&sol),
        "cost": inst.cost_in_file_units(sol.cost),
        "time_to_best": sol.stats.time_to_best,
        "unassigned": sol.unassigned.iter().map(|&j| inst.job_numbers[j]).collect::<Vec<_>>(),
    });
    println!("{out}");
    ExitCode::SUCCESS
}
