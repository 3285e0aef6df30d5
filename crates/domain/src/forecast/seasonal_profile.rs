//! Multiplicative season profile (e.g. weekday pattern) laid over flat intermittent-demand
//! forecasts. Each phase's index is shrunk toward 1 by how many demands back it, so a sparse
//! series does not get a profile from a handful of events.

/// Phase indices (`t % season` → factor, mean 1) from the observed values of `y`; `None`
/// without season or without demand.
pub fn profile(y: &[Option<f64>], season: usize, shrink: f64) -> Option<Vec<f64>> {
    if season < 2 {
        return None;
    }
    let mut sum = vec![0.0; season];
    let mut cnt = vec![0usize; season];
    let mut hits = vec![0usize; season];
    for (t, v) in y.iter().enumerate() {
        if let Some(v) = *v {
            sum[t % season] += v;
            cnt[t % season] += 1;
            hits[t % season] += usize::from(v > 0.0);
        }
    }
    let total: f64 = sum.iter().sum();
    let n: usize = cnt.iter().sum();
    if total <= 0.0 || n == 0 {
        return None;
    }
    let mu = total / n as f64;
    let mut idx: Vec<f64> = (0..season)
        .map(|d| {
            if cnt[d] == 0 {
                return 1.0;
            }
            let raw = sum[d] / cnt[d] as f64 / mu;
            let w = hits[d] as f64 / (hits[d] as f64 + shrink);
            w * raw + (1.0 - w)
        })
        .collect();
    let mean = idx.iter().sum::<f64>() / season as f64;
    if mean > 0.0 {
        idx.iter_mut().for_each(|x| *x /= mean);
    }
    Some(idx)
}

/// `f` (a forecast made at origin `o`) times the profile of `y[..o]`.
pub fn apply(y: &[Option<f64>], o: usize, season: usize, shrink: f64, f: &[f64]) -> Vec<f64> {
    match profile(&y[..o.min(y.len())], season, shrink) {
        None => f.to_vec(),
        Some(idx) => f
            .iter()
            .enumerate()
            .map(|(j, &v)| v * idx[(o + j) % season])
            .collect(),
    }
}
