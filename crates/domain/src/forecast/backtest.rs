//! Rolling-origin evaluation inside the training data and the M5 (RMSSE) scaling.

/// Where to cut the history for backtesting: origins (ascending) and the window scored after
/// each (the horizon, shortened for short series so at least one origin fits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub origins: Vec<usize>,
    pub window: usize,
}

/// Non-overlapping windows ending at the end of the series: origins `n − j·window` for
/// `j = 1..=max_origins`, keeping at least `min_train` periods (one season, and 8) before each.
pub fn plan(n: usize, horizon: usize, season: usize, max_origins: usize) -> Plan {
    let min_train = season.max(8);
    let window = horizon.min(n.saturating_sub(min_train)).max(1);
    let mut origins: Vec<usize> = (1..=max_origins)
        .filter_map(|j| n.checked_sub(j * window))
        .filter(|&o| o >= min_train)
        .collect();
    origins.reverse();
    Plan { origins, window }
}

/// M5 scales of a series: mean absolute and mean squared one-step naive differences, counted
/// from the first non-zero value; pairs with a censored day are skipped.
pub fn m5_scales(y: &[Option<f64>]) -> (f64, f64) {
    let start = y
        .iter()
        .position(|v| v.is_some_and(|v| v != 0.0))
        .unwrap_or(y.len());
    let (mut s1, mut s2, mut n) = (0.0, 0.0, 0usize);
    for w in y[start..].windows(2) {
        if let (Some(a), Some(b)) = (w[0], w[1]) {
            s1 += (b - a).abs();
            s2 += (b - a) * (b - a);
            n += 1;
        }
    }
    if n == 0 {
        (0.0, 0.0)
    } else {
        (s1 / n as f64, s2 / n as f64)
    }
}

/// Squared M5 scale of the history before each origin (zero scales become 1, so that a score
/// still ranks methods within the series).
pub fn origin_scales(y: &[Option<f64>], plan: &Plan) -> Vec<f64> {
    plan.origins
        .iter()
        .map(|&o| {
            let s2 = m5_scales(&y[..o]).1;
            if s2 > 0.0 { s2 } else { 1.0 }
        })
        .collect()
}

/// RMSSE of forecasts made at each origin of `plan`, averaged over origins; each origin is
/// scaled by its own history (as if it were the end of the training data), `scales` being
/// [`origin_scales`].
pub fn rmsse(
    y: &[Option<f64>],
    plan: &Plan,
    scales: &[f64],
    forecasts: &[Vec<f64>],
) -> Option<f64> {
    let mut total = 0.0;
    let mut k = 0;
    for ((&o, f), &s2) in plan.origins.iter().zip(forecasts).zip(scales) {
        let (mut se, mut n) = (0.0, 0usize);
        for (j, v) in y[o..(o + plan.window).min(y.len())].iter().enumerate() {
            if let Some(v) = v {
                se += (v - f[j]).powi(2);
                n += 1;
            }
        }
        if n == 0 {
            continue;
        }
        total += (se / n as f64 / s2).sqrt();
        k += 1;
    }
    (k > 0).then(|| total / k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_keeps_training_before_each_origin() {
        let p = plan(382, 28, 7, 3);
        assert_eq!(
            p,
            Plan {
                origins: vec![298, 326, 354],
                window: 28
            }
        );
        let short = plan(14, 12, 12, 3);
        assert_eq!(
            short,
            Plan {
                origins: vec![12],
                window: 2
            }
        );
        assert!(plan(2, 12, 12, 3).origins.is_empty());
    }

    #[test]
    fn m5_scale_starts_at_first_nonzero_and_skips_censored() {
        let y = [Some(0.0), Some(0.0), Some(2.0), None, Some(1.0), Some(3.0)];
        // Only the pair (1, 3) is fully observed after the first non-zero: diff 2.
        assert_eq!(m5_scales(&y), (2.0, 4.0));
    }
}
