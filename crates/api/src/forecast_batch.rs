//! `ppe forecast-batch`: the forecasting engine over a long CSV (`unique_id,ds,y`),
//! one series per task on every core, writing `unique_id,ds,forecast,q10,q50,q90`.
//! The statsforecast layout (long `unique_id,ds,y` in, one quantile column per level out),
//! so the same files score this engine and statsforecast's models.

use ppe_domain::forecast::long_csv::parse_long_csv;
use ppe_domain::forecast::{ForecastConfig, SeriesForecast, forecast_one};
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Long CSV with columns unique_id,ds,y (daily or month-start dates).
    #[arg(long)]
    input: PathBuf,
    /// Where to write unique_id,ds,forecast,q<level>...
    #[arg(long)]
    output: PathBuf,
    /// Steps to forecast after each series' last date.
    #[arg(long, default_value_t = 28)]
    horizon: usize,
    /// Season length in steps (7 for daily, 12 for monthly data).
    #[arg(long, default_value_t = 7)]
    season: usize,
    /// Quantile levels in percent.
    #[arg(long, value_delimiter = ',', default_value = "10,50,90")]
    levels: Vec<f64>,
}

/// `q10`, `q2.5`: the column name for a level in percent.
fn column(percent: f64) -> String {
    let p = format!("{percent:.4}");
    format!("q{}", p.trim_end_matches('0').trim_end_matches('.'))
}

pub fn run(args: &Args) -> Result<(), String> {
    if args.horizon == 0 || args.season == 0 {
        return Err("--horizon and --season must be at least 1".into());
    }
    if args.levels.iter().any(|l| !(0.0 < *l && *l < 100.0)) {
        return Err("--levels must lie strictly between 0 and 100".into());
    }
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("{}: {e}", args.input.display()))?;
    let series = parse_long_csv(&text).map_err(|e| format!("{}: {e}", args.input.display()))?;
    let fractions: Vec<f64> = args.levels.iter().map(|l| l / 100.0).collect();
    let cfg = ForecastConfig::new(args.horizon, args.season, &fractions);
    let progress = crate::progress::bar(series.len() as u64, "series");
    let forecasts: Vec<SeriesForecast> = series
        .par_iter()
        .map(|s| {
            let f = forecast_one(s, &cfg);
            progress.inc(1);
            f
        })
        .collect();
    progress.finish_and_clear();
    let mut w = csv::Writer::from_path(&args.output)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    let mut header = vec!["unique_id".to_owned(), "ds".into(), "forecast".into()];
    header.extend(args.levels.iter().map(|&l| column(l)));
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
    log::info!(
        "forecast {} series to {}",
        forecasts.len(),
        args.output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn level_columns_are_named_like_the_kit_expects() {
        assert_eq!(super::column(10.0), "q10");
        assert_eq!(super::column(2.5), "q2.5");
        assert_eq!(super::column(97.5), "q97.5");
    }
}
