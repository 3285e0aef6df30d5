//! Simple exponential smoothing (Brown 1956) with the smoothing constant fitted by in-sample
//! one-step MSE, skipping censored days.

use super::optimize::golden_min;

/// Evaluations of the golden-section search: about 1 % of the range in alpha, finer than the MSE surface of noisy demand can tell apart.
pub(crate) const FIT_EVALS: usize = 12;

/// Sum of squared one-step errors of SES on the observed values of `y` (initial level = first
/// observed value, which is therefore not scored) and the number of scored points.
pub(crate) fn sse(y: &[Option<f64>], alpha: f64) -> (f64, usize) {
    let mut it = y.iter().flatten();
    let Some(&first) = it.next() else {
        return (0.0, 0);
    };
    let mut level = first;
    let (mut sse, mut n) = (0.0, 0);
    for &v in it {
        let e = v - level;
        sse += e * e;
        n += 1;
        level += alpha * e;
    }
    (sse, n)
}

/// Same on a dense slice (component series of Croston/TSB, aggregated buckets).
pub(crate) fn sse_dense(x: &[f64], alpha: f64) -> f64 {
    let Some((&first, rest)) = x.split_first() else {
        return 0.0;
    };
    let mut level = first;
    let mut sse = 0.0;
    for &v in rest {
        let e = v - level;
        sse += e * e;
        level += alpha * e;
    }
    sse
}

/// Fits alpha on `[lo, hi]` by one-step MSE.
pub fn fit_alpha(y: &[Option<f64>], lo: f64, hi: f64) -> f64 {
    golden_min(|a| sse(y, a).0, lo, hi, FIT_EVALS)
}

/// Fits alpha on a dense slice; with fewer than 3 points there is nothing to fit and the
/// conventional 0.1 is used.
pub(crate) fn fit_alpha_dense(x: &[f64], lo: f64, hi: f64) -> f64 {
    if x.len() < 3 {
        return 0.1_f64.clamp(lo, hi);
    }
    golden_min(|a| sse_dense(x, a), lo, hi, FIT_EVALS)
}

/// Final level of SES over a dense slice.
pub(crate) fn level_dense(x: &[f64], alpha: f64) -> Option<f64> {
    let (&first, rest) = x.split_first()?;
    Some(rest.iter().fold(first, |l, &v| l + alpha * (v - l)))
}

/// Flat SES forecasts made at each origin (origin `o` sees `y[..o]`; origins ascending), with
/// alpha fitted once on the whole series. No observation before an origin gives 0.
pub fn forecast_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let alpha = fit_alpha(y, 0.01, 0.99);
    origin_levels(y, alpha, origins)
        .into_iter()
        .map(|l| vec![l.unwrap_or(0.0); h])
        .collect()
}

/// SES level after `y[..o]` for every origin, in one pass.
pub(crate) fn origin_levels(y: &[Option<f64>], alpha: f64, origins: &[usize]) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(origins.len());
    let mut level: Option<f64> = None;
    let mut t = 0;
    for &o in origins {
        while t < o.min(y.len()) {
            if let Some(v) = y[t] {
                level = Some(match level {
                    None => v,
                    Some(l) => l + alpha * (v - l),
                });
            }
            t += 1;
        }
        out.push(level);
    }
    out
}

/// SES forecast for the next `h` periods with alpha fitted on `y`.
pub fn forecast(y: &[Option<f64>], h: usize) -> Vec<f64> {
    forecast_origins(y, &[y.len()], h).pop().unwrap_or_default()
}
