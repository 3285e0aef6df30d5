//! Temporal aggregation: ADIDA (Nikolopoulos et al. 2011) and IMAPA (Petropoulos & Kourentzes
//! 2015). Buckets are aligned to the forecast origin (the oldest, incomplete bucket is
//! dropped); a bucket with censored days is scaled up by days / observed days (the OpenLMIS
//! stockout adjustment), a fully censored bucket is skipped.

use super::{croston::mean_interval, ses};

/// Largest aggregation level used by IMAPA: beyond a month of buckets the aggregate series of a
/// year of history is too short to fit anything.
const MAX_LEVEL: usize = 28;

/// SES on the `k`-period buckets of `y[..o]`, disaggregated evenly: the daily rate.
fn aggregated_rate(y: &[Option<f64>], k: usize, o: usize) -> Option<f64> {
    let o = o.min(y.len());
    let start = o % k;
    let buckets: Vec<f64> = y[start..o]
        .chunks_exact(k)
        .filter_map(|c| {
            let (sum, seen) = c
                .iter()
                .flatten()
                .fold((0.0, 0usize), |(s, n), &v| (s + v, n + 1));
            (seen > 0).then(|| sum * k as f64 / seen as f64)
        })
        .collect();
    if buckets.is_empty() {
        // Less than one bucket of history: fall back to the plain observed mean.
        let obs: Vec<f64> = y[..o].iter().flatten().copied().collect();
        return (!obs.is_empty()).then(|| obs.iter().sum::<f64>() / obs.len() as f64);
    }
    let alpha = ses::fit_alpha_dense(&buckets, 0.01, 0.99);
    ses::level_dense(&buckets, alpha).map(|l| l / k as f64)
}

/// Aggregation level of ADIDA: the mean inter-demand interval, rounded.
pub fn adida_level(y: &[Option<f64>]) -> usize {
    mean_interval(y).map_or(1, |p| (p.round() as usize).clamp(1, MAX_LEVEL))
}

/// ADIDA forecasts at each origin.
pub fn adida_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let k = adida_level(y);
    origins
        .iter()
        .map(|&o| vec![aggregated_rate(y, k, o).unwrap_or(0.0); h])
        .collect()
}

/// IMAPA forecasts: mean of the aggregated SES rates over levels 1..=ADIDA's level.
pub fn imapa_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let kmax = adida_level(y);
    origins
        .iter()
        .map(|&o| {
            let rates: Vec<f64> = (1..=kmax)
                .filter_map(|k| aggregated_rate(y, k, o))
                .collect();
            let f = if rates.is_empty() {
                0.0
            } else {
                rates.iter().sum::<f64>() / rates.len() as f64
            };
            vec![f; h]
        })
        .collect()
}
