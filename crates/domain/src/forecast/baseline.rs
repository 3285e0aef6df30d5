//! Benchmark methods: naive, seasonal naive and moving average, all reading only observed
//! (uncensored) values.

/// Last observed value before each origin, repeated.
pub fn naive_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    origins
        .iter()
        .map(|&o| {
            let last = y[..o.min(y.len())].iter().rev().flatten().next().copied();
            vec![last.unwrap_or(0.0); h]
        })
        .collect()
}

/// For each step, the latest observed value in the same season phase; when a phase has never
/// been observed, the last observed value.
pub fn seasonal_naive_origins(
    y: &[Option<f64>],
    season: usize,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let m = season.max(1);
    origins
        .iter()
        .map(|&o| {
            let o = o.min(y.len());
            let last = y[..o].iter().rev().flatten().next().copied().unwrap_or(0.0);
            let mut by_phase = vec![None; m];
            let mut found = 0;
            for t in (0..o).rev() {
                let phase = t % m;
                if by_phase[phase].is_none()
                    && let Some(v) = y[t]
                {
                    by_phase[phase] = Some(v);
                    found += 1;
                    if found == m {
                        break;
                    }
                }
            }
            (0..h)
                .map(|j| by_phase[(o + j) % m].unwrap_or(last))
                .collect()
        })
        .collect()
}

/// Candidate windows: one, two and four seasons (or 3/7/14 periods without a season).
fn windows(season: usize) -> [usize; 3] {
    if season > 1 {
        [season, 2 * season, 4 * season]
    } else {
        [3, 7, 14]
    }
}

/// Moving average of the last `w` observed values; `w` is picked from one, two or four seasons by in-sample
/// one-step MSE (ties go to the shorter window).
pub fn moving_average_origins(
    y: &[Option<f64>],
    season: usize,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let obs: Vec<f64> = y.iter().flatten().copied().collect();
    let mut prefix = Vec::with_capacity(obs.len() + 1);
    prefix.push(0.0);
    for &v in &obs {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    let mean = |lo: usize, hi: usize| (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
    let candidates = windows(season);
    let mut best = (f64::INFINITY, candidates[0]);
    for &w in &candidates {
        if w >= obs.len() {
            continue;
        }
        let mse = (w..obs.len())
            .map(|i| (obs[i] - mean(i - w, i)).powi(2))
            .sum::<f64>()
            / (obs.len() - w) as f64;
        if mse < best.0 {
            best = (mse, w);
        }
    }
    let w = best.1;
    origins
        .iter()
        .map(|&o| {
            let seen = y[..o.min(y.len())].iter().flatten().count();
            let f = if seen == 0 {
                0.0
            } else {
                mean(seen - w.min(seen), seen)
            };
            vec![f; h]
        })
        .collect()
}
