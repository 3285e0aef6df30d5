//! Batch forecaster for the benchmark kit's contract 2:
//! `forecast_batch [forecast-batch] --input train.csv --horizon 28 --season 7 --output out.csv`
//! writes `unique_id,ds,forecast,q10,q50,q90`. Optional dev flags: `--levels 10,50,90`,
//! `--combine best|mean<k>|median<k>|all`, `--candidates ses,croston,...`,
//! `--scaling level|absolute`, `--origins <n>`, `--profile never|always:<k>|ifbetter:<k>`.
//! `PPE_FC_VERBOSE=1` prints the winning methods and phase timings on stderr.

use std::{collections::HashMap, process::ExitCode};

use ppe_domain::forecast::{
    ForecastConfig, Method,
    error_model::ErrorScaling,
    forecast_many_with,
    long_csv::parse_long_csv,
    select::{Combine, ProfileUse},
};

fn parse_args() -> Result<(HashMap<String, String>, ForecastConfig), String> {
    // The kit appends `forecast-batch` after any leading arguments of $PPE_BIN: skip it.
    let mut args = std::env::args().skip(1).filter(|a| a != "forecast-batch");
    let mut map = HashMap::new();
    while let Some(k) = args.next() {
        let key = k
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {k:?}"))?
            .to_string();
        let v = args
            .next()
            .ok_or_else(|| format!("--{key} needs a value"))?;
        map.insert(key, v);
    }
    let num = |k: &str| -> Result<usize, String> {
        map.get(k)
            .ok_or_else(|| format!("--{k} is required"))?
            .parse()
            .map_err(|e| format!("--{k}: {e}"))
    };
    let (horizon, season) = (num("horizon")?, num("season")?);
    let levels: Vec<f64> = match map.get("levels") {
        None => vec![0.1, 0.5, 0.9],
        Some(s) => s
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<f64>()
                    .map(|v| v / 100.0)
                    .map_err(|e| format!("--levels: {e}"))
            })
            .collect::<Result<_, _>>()?,
    };
    let mut cfg = ForecastConfig::new(horizon, season, &levels);
    if let Some(c) = map.get("combine") {
        cfg.selection.combine = match c.as_str() {
            "best" => Combine::Best,
            "all" => Combine::MeanAll,
            s if s.starts_with("mean") => {
                Combine::MeanOfBest(s[4..].parse().map_err(|_| "bad --combine")?)
            }
            s if s.starts_with("median") => {
                Combine::MedianOfBest(s[6..].parse().map_err(|_| "bad --combine")?)
            }
            _ => return Err(format!("bad --combine {c:?}")),
        };
    }
    if let Some(c) = map.get("candidates") {
        cfg.selection.candidates = c
            .split(',')
            .map(|n| Method::from_name(n.trim()).ok_or_else(|| format!("unknown method {n:?}")))
            .collect::<Result<_, _>>()?;
    }
    if let Some(s) = map.get("scaling") {
        cfg.scaling = match s.as_str() {
            "level" => ErrorScaling::Level,
            "absolute" => ErrorScaling::Absolute,
            _ => return Err(format!("bad --scaling {s:?}")),
        };
    }
    if let Some(p) = map.get("profile") {
        cfg.selection.profile = match p.split_once(':') {
            None if p == "never" => ProfileUse::Never,
            Some(("always", k)) => ProfileUse::Always {
                shrink: k.parse().map_err(|_| "bad --profile")?,
            },
            Some(("ifbetter", k)) => ProfileUse::IfBetter {
                shrink: k.parse().map_err(|_| "bad --profile")?,
            },
            _ => return Err(format!("bad --profile {p:?}")),
        };
    }
    if map.contains_key("origins") {
        cfg.selection.max_origins = num("origins")?;
    }
    for k in ["input", "output"] {
        if !map.contains_key(k) {
            return Err(format!("--{k} is required"));
        }
    }
    Ok((map, cfg))
}

/// `q10`, `q2.5`: the column name for a level.
fn column(level: f64) -> String {
    let p = format!("{:.4}", level * 100.0);
    format!("q{}", p.trim_end_matches('0').trim_end_matches('.'))
}

fn run() -> Result<(), String> {
    let (args, cfg) = parse_args()?;
    let t0 = std::time::Instant::now();
    let text =
        std::fs::read_to_string(&args["input"]).map_err(|e| format!("{}: {e}", args["input"]))?;
    let series = parse_long_csv(&text).map_err(|e| e.to_string())?;
    let t_parse = t0.elapsed();
    let forecasts = forecast_many_with(&series, &cfg);
    let t_fc = t0.elapsed();
    let mut w = csv::Writer::from_path(&args["output"]).map_err(|e| e.to_string())?;
    let mut header = vec!["unique_id".to_string(), "ds".into(), "forecast".into()];
    header.extend(cfg.levels.iter().map(|&l| column(l)));
    w.write_record(&header).map_err(|e| e.to_string())?;
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for fc in &forecasts {
        for (t, date) in fc.dates.iter().enumerate() {
            row.clear();
            row.push(fc.id.clone());
            row.push(date.format("%Y-%m-%d").to_string());
            row.push(format!("{:.6}", fc.point[t]));
            row.extend(fc.quantiles.iter().map(|q| format!("{:.6}", q[t])));
            w.write_record(&row).map_err(|e| e.to_string())?;
        }
    }
    w.flush().map_err(|e| e.to_string())?;
    if std::env::var_os("PPE_FC_VERBOSE").is_some() {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for fc in &forecasts {
            *counts
                .entry(fc.methods.first().map_or("-", |m| m.name()))
                .or_default() += 1;
        }
        eprintln!("best-method counts: {counts:?}");
        eprintln!(
            "read+parse {:?}, forecast {:?}, write {:?}",
            t_parse,
            t_fc - t_parse,
            t0.elapsed() - t_fc
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forecast_batch: {e}");
            ExitCode::from(2)
        }
    }
}
