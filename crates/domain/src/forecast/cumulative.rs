//! Cumulative demand over the coming days by simulation: sample paths are the point forecast
//! plus backtest residuals resampled in blocks (moving block bootstrap, Künsch 1989), so that
//! runs of high or low demand carry into the totals. Seeded, hence deterministic.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::batch::SeriesForecast;

/// Residual block length: one week keeps the within-week dependence.
const BLOCK: usize = 7;

/// Simulated cumulative demand: `n_paths` paths over `days` days.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CumulativeDemand {
    pub days: usize,
    pub n_paths: usize,
    /// Row-major `n_paths × days`: cumulative demand through day `d + 1` of path `p`.
    cumulative: Vec<f64>,
}

impl CumulativeDemand {
    /// Simulates from a forecast. Beyond the forecast horizon the last point forecast is
    /// carried forward. A forecast without errors gives identical (deterministic) paths.
    pub fn simulate(fc: &SeriesForecast, days: usize, n_paths: usize, seed: u64) -> Self {
        let n_paths = n_paths.max(1);
        let mean = |t: usize| fc.point.get(t).or(fc.point.last()).copied().unwrap_or(0.0);
        let paths: Vec<&Vec<f64>> = fc.errors.paths.iter().filter(|p| !p.is_empty()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cumulative = Vec::with_capacity(n_paths * days);
        for _ in 0..n_paths {
            let mut total = 0.0;
            let (mut src, mut pos, mut left) = (0usize, 0usize, 0usize);
            for t in 0..days {
                let r = if paths.is_empty() {
                    0.0
                } else {
                    if left == 0 {
                        src = rng.random_range(0..paths.len());
                        let len = paths[src].len();
                        let block = BLOCK.min(len);
                        pos = rng.random_range(0..=len - block);
                        left = block;
                    }
                    let r = paths[src][pos];
                    pos += 1;
                    left -= 1;
                    r
                };
                total += (mean(t) + r).max(0.0);
                cumulative.push(total);
            }
        }
        CumulativeDemand {
            days,
            n_paths,
            cumulative,
        }
    }

    fn totals(&self, day: usize) -> Vec<f64> {
        if day == 0 || self.days == 0 {
            return vec![0.0; self.n_paths];
        }
        let d = day.min(self.days) - 1;
        (0..self.n_paths)
            .map(|p| self.cumulative[p * self.days + d])
            .collect()
    }

    /// The same paths with a known extra demand per day added (day `t` of `extra` to day `t`
    /// of every path; days beyond `extra` get none), e.g. a scenario's driver-based need.
    pub fn with_extra(&self, extra: &[f64]) -> Self {
        let mut added = Vec::with_capacity(self.days);
        let mut total = 0.0;
        for t in 0..self.days {
            total += extra.get(t).copied().unwrap_or(0.0).max(0.0);
            added.push(total);
        }
        let cumulative = self
            .cumulative
            .chunks(self.days.max(1))
            .flat_map(|row| row.iter().zip(&added).map(|(c, a)| c + a))
            .collect();
        CumulativeDemand {
            days: self.days,
            n_paths: self.n_paths,
            cumulative,
        }
    }

    /// Mean total demand over the first `day` days.
    pub fn mean_total(&self, day: usize) -> f64 {
        let totals = self.totals(day);
        totals.iter().sum::<f64>() / totals.len().max(1) as f64
    }

    /// Quantiles (levels in (0, 1)) of total demand over the first `day` days.
    pub fn quantiles(&self, day: usize, levels: &[f64]) -> Vec<f64> {
        let mut totals = self.totals(day);
        totals.sort_by(f64::total_cmp);
        levels
            .iter()
            .map(|&l| empirical_quantile(&totals, l))
            .collect()
    }

    /// P(total demand over the first `day` days > `on_hand`).
    pub fn stockout_probability(&self, on_hand: f64, day: usize) -> f64 {
        let totals = self.totals(day);
        totals.iter().filter(|&&x| x > on_hand).count() as f64 / totals.len() as f64
    }

    /// Days of supply per path: the (fractional) day on which cumulative demand first exceeds
    /// `on_hand`, interpolated within that day; paths that never run out count as `days`
    /// (read a result equal to `days` as "at least `days`"). Returns its quantiles.
    pub fn days_of_supply_quantiles(&self, on_hand: f64, levels: &[f64]) -> Vec<f64> {
        let mut dos: Vec<f64> = (0..self.n_paths)
            .map(|p| {
                let row = &self.cumulative[p * self.days..(p + 1) * self.days];
                let mut prev = 0.0;
                for (d, &c) in row.iter().enumerate() {
                    if c > on_hand {
                        let frac = if c > prev {
                            (on_hand - prev) / (c - prev)
                        } else {
                            0.0
                        };
                        return d as f64 + frac.clamp(0.0, 1.0);
                    }
                    prev = c;
                }
                self.days as f64
            })
            .collect();
        dos.sort_by(f64::total_cmp);
        levels
            .iter()
            .map(|&l| empirical_quantile(&dos, l))
            .collect()
    }
}

fn empirical_quantile(sorted: &[f64], tau: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = tau.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Quantiles of total demand over the next `days` days (a one-call convenience).
pub fn cumulative_demand_quantiles(
    fc: &SeriesForecast,
    days: usize,
    levels: &[f64],
    n_paths: usize,
    seed: u64,
) -> Vec<f64> {
    CumulativeDemand::simulate(fc, days, n_paths, seed).quantiles(days, levels)
}

/// P(demand over the next `days` days > `on_hand`) (a one-call convenience).
pub fn stockout_probability(
    fc: &SeriesForecast,
    on_hand: f64,
    days: usize,
    n_paths: usize,
    seed: u64,
) -> f64 {
    CumulativeDemand::simulate(fc, days, n_paths, seed).stockout_probability(on_hand, days)
}
