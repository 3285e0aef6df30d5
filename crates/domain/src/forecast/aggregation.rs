//! Temporal aggregation: ADIDA (Nikolopoulos et al. 2011) and IMAPA (Petropoulos & Kourentzes
//! 2015). Buckets are aligned to the forecast origin (the oldest, incomplete bucket is
//! dropped); a bucket with censored days is scaled up by days / observed days (the OpenLMIS
//! stockout adjustment), a fully censored bucket is skipped.

use super::{croston::mean_interval, ses};

/// Smoothing-constant range on the aggregate series: the low constants recommended for
/// intermittent demand (Syntetos & Boylan 2005; Petropoulos & Kourentzes 2015).
const ALPHA_LO: f64 = 0.05;
const ALPHA_HI: f64 = 0.3;

/// Largest aggregation level: beyond a month per bucket a year of history leaves too few
/// buckets to fit anything.
const MAX_LEVEL: usize = 28;

/// Prefix sums of observed values and of observed-day counts, so any bucket costs O(1).
struct Prefix {
    sum: Vec<f64>,
    seen: Vec<u32>,
}

impl Prefix {
    fn new(y: &[Option<f64>]) -> Self {
        let mut sum = Vec::with_capacity(y.len() + 1);
        let mut seen = Vec::with_capacity(y.len() + 1);
        let (mut s, mut n) = (0.0, 0u32);
        sum.push(s);
        seen.push(n);
        for v in y {
            if let Some(v) = v {
                s += v;
                n += 1;
            }
            sum.push(s);
            seen.push(n);
        }
        Prefix { sum, seen }
    }

    /// The `k`-period buckets of `y[..o]`, aligned to end at `o`.
    fn buckets(&self, k: usize, o: usize, out: &mut Vec<f64>) {
        out.clear();
        let mut a = o % k;
        while a + k <= o {
            let seen = self.seen[a + k] - self.seen[a];
            if seen > 0 {
                out.push((self.sum[a + k] - self.sum[a]) * k as f64 / f64::from(seen));
            }
            a += k;
        }
    }

    /// Mean of the observed values of `y[..o]`.
    fn mean(&self, o: usize) -> Option<f64> {
        (self.seen[o] > 0).then(|| self.sum[o] / f64::from(self.seen[o]))
    }
}

/// Daily rates at each origin from SES on `k`-period buckets, disaggregated evenly. Alpha is
/// fitted once, on the buckets of the whole series, like the other methods' parameters.
fn aggregated_rates(prefix: &Prefix, n: usize, k: usize, origins: &[usize]) -> Vec<Option<f64>> {
    let mut b = Vec::with_capacity(n / k + 1);
    prefix.buckets(k, n, &mut b);
    let alpha = ses::fit_alpha_dense(&b, ALPHA_LO, ALPHA_HI);
    origins
        .iter()
        .map(|&o| {
            let o = o.min(n);
            prefix.buckets(k, o, &mut b);
            if b.is_empty() {
                // Less than one bucket of history: the plain observed mean.
                return prefix.mean(o);
            }
            ses::level_dense(&b, alpha).map(|l| l / k as f64)
        })
        .collect()
}

/// Aggregation level of ADIDA: the mean inter-demand interval, rounded.
pub fn adida_level(y: &[Option<f64>]) -> usize {
    mean_interval(y).map_or(1, |p| (p.round() as usize).clamp(1, MAX_LEVEL))
}

/// ADIDA forecasts at each origin.
pub fn adida_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let k = adida_level(y);
    aggregated_rates(&Prefix::new(y), y.len(), k, origins)
        .into_iter()
        .map(|r| vec![r.unwrap_or(0.0); h])
        .collect()
}

/// IMAPA forecasts: mean of the aggregated SES rates over levels 1..=ADIDA's level.
pub fn imapa_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let kmax = adida_level(y);
    let prefix = Prefix::new(y);
    let per_level: Vec<Vec<Option<f64>>> = (1..=kmax)
        .map(|k| aggregated_rates(&prefix, y.len(), k, origins))
        .collect();
    (0..origins.len())
        .map(|j| {
            let (sum, n) = per_level
                .iter()
                .filter_map(|r| r[j])
                .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
            vec![if n == 0 { 0.0 } else { sum / n as f64 }; h]
        })
        .collect()
}
