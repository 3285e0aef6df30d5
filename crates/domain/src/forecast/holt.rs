//! Trend and season smoothing: damped Holt (Gardner & McKenzie 1985) and additive Holt-Winters
//! (Winters 1960) in error-correction form. On a censored day the state moves by its
//! prediction (level += damped trend) without an error update, as for missing values in the
//! state-space formulation (Hyndman et al. 2008).

/// Damped Holt parameters: level constant, trend constant (as a share of alpha), damping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoltParams {
    pub alpha: f64,
    pub beta: f64,
    pub phi: f64,
}

const HOLT_GRID_ALPHA: [f64; 4] = [0.05, 0.15, 0.3, 0.6];
const HOLT_GRID_BETA: [f64; 3] = [0.01, 0.05, 0.2];
const HOLT_GRID_PHI: [f64; 3] = [0.8, 0.9, 0.98];

/// Runs damped Holt over `y`; returns the one-step SSE and the (level, trend) after `y[..o]`
/// for each origin (`None` before the first observation).
fn holt_pass(
    y: &[Option<f64>],
    p: HoltParams,
    origins: &[usize],
) -> (f64, Vec<Option<(f64, f64)>>) {
    let mut state: Option<(f64, f64)> = None;
    let mut sse = 0.0;
    let mut out = Vec::with_capacity(origins.len());
    let mut t = 0;
    for &o in origins.iter().chain(std::iter::once(&y.len())) {
        while t < o.min(y.len()) {
            state = match (state, y[t]) {
                (None, Some(v)) => Some((v, 0.0)),
                (None, None) => None,
                (Some((l, b)), None) => Some((l + p.phi * b, p.phi * b)),
                (Some((l, b)), Some(v)) => {
                    let e = v - (l + p.phi * b);
                    sse += e * e;
                    Some((
                        l + p.phi * b + p.alpha * e,
                        p.phi * b + p.alpha * p.beta * e,
                    ))
                }
            };
            t += 1;
        }
        out.push(state);
    }
    out.truncate(origins.len());
    (sse, out)
}

fn holt_path(state: Option<(f64, f64)>, phi: f64, h: usize) -> Vec<f64> {
    let Some((l, b)) = state else {
        return vec![0.0; h];
    };
    let mut damp = 0.0;
    let mut pw = 1.0;
    (0..h)
        .map(|_| {
            pw *= phi;
            damp += pw;
            l + damp * b
        })
        .collect()
}

/// Damped-Holt parameters by grid search on in-sample one-step MSE.
pub fn fit_holt(y: &[Option<f64>]) -> HoltParams {
    let mut best = (
        f64::INFINITY,
        HoltParams {
            alpha: 0.15,
            beta: 0.05,
            phi: 0.9,
        },
    );
    for &alpha in &HOLT_GRID_ALPHA {
        for &beta in &HOLT_GRID_BETA {
            for &phi in &HOLT_GRID_PHI {
                let p = HoltParams { alpha, beta, phi };
                let (sse, _) = holt_pass(y, p, &[]);
                if sse < best.0 {
                    best = (sse, p);
                }
            }
        }
    }
    best.1
}

/// Damped Holt forecasts at each origin with parameters fitted on the whole series.
pub fn damped_holt_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let p = fit_holt(y);
    holt_pass(y, p, origins)
        .1
        .into_iter()
        .map(|s| holt_path(s, p.phi, h))
        .collect()
}

/// Additive Holt-Winters parameters; the trend is damped (φ = 0.9 fixed) because an undamped
/// trend extrapolated over weeks of intermittent demand is a liability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WintersParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

const HW_PHI: f64 = 0.9;
const HW_GRID_ALPHA: [f64; 3] = [0.05, 0.15, 0.35];
const HW_GRID_BETA: [f64; 2] = [0.0, 0.05];
const HW_GRID_GAMMA: [f64; 2] = [0.02, 0.1];

#[derive(Clone)]
struct Winters {
    level: f64,
    trend: f64,
    season: Vec<f64>,
}

/// Runs Holt-Winters from an initial state built on the first season (level = mean of its
/// observed values, seasonal indices = deviations from it). Returns SSE and the state at each
/// origin, with the position in the season cycle.
fn winters_pass(
    y: &[Option<f64>],
    m: usize,
    p: WintersParams,
    origins: &[usize],
) -> (f64, Vec<Option<Winters>>) {
    let first: Vec<f64> = y[..m.min(y.len())].iter().flatten().copied().collect();
    let mut out = Vec::with_capacity(origins.len());
    if first.is_empty() || y.len() < m {
        return (f64::INFINITY, vec![None; origins.len()]);
    }
    let l0 = first.iter().sum::<f64>() / first.len() as f64;
    let mut s = Winters {
        level: l0,
        trend: 0.0,
        season: y[..m].iter().map(|v| v.map_or(0.0, |v| v - l0)).collect(),
    };
    let mut sse = 0.0;
    let mut t = m;
    // Season slot of `t`, kept as a counter: a runtime `t % m` costs a division per step.
    let mut idx = 0;
    for &o in origins {
        if o < m {
            out.push(None);
            continue;
        }
        while t < o.min(y.len()) {
            let pred_level = s.level + HW_PHI * s.trend;
            match y[t] {
                None => {
                    s.level = pred_level;
                    s.trend *= HW_PHI;
                }
                Some(v) => {
                    let e = v - (pred_level + s.season[idx]);
                    sse += e * e;
                    s.level = pred_level + p.alpha * e;
                    s.trend = HW_PHI * s.trend + p.alpha * p.beta * e;
                    s.season[idx] += p.gamma * (1.0 - p.alpha) * e;
                }
            }
            t += 1;
            idx = if idx + 1 == m { 0 } else { idx + 1 };
        }
        out.push(Some(s.clone()));
    }
    (sse, out)
}

/// Holt-Winters parameters by grid search on in-sample one-step MSE.
pub fn fit_winters(y: &[Option<f64>], m: usize) -> WintersParams {
    let mut best = (
        f64::INFINITY,
        WintersParams {
            alpha: 0.15,
            beta: 0.0,
            gamma: 0.05,
        },
    );
    for &alpha in &HW_GRID_ALPHA {
        for &beta in &HW_GRID_BETA {
            for &gamma in &HW_GRID_GAMMA {
                let p = WintersParams { alpha, beta, gamma };
                let (sse, _) = winters_pass(y, m, p, &[y.len()]);
                if sse < best.0 {
                    best = (sse, p);
                }
            }
        }
    }
    best.1
}

/// Holt-Winters forecasts at each origin. Needs two full seasons; shorter series (or no
/// season) fall back to damped Holt.
pub fn holt_winters_origins(
    y: &[Option<f64>],
    season: usize,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    if season < 2 || y.len() < 2 * season {
        return damped_holt_origins(y, origins, h);
    }
    let p = fit_winters(y, season);
    let (_, states) = winters_pass(y, season, p, origins);
    states
        .into_iter()
        .zip(origins)
        .map(|(st, &o)| match st {
            None => vec![0.0; h],
            Some(Winters {
                level: l,
                trend: b,
                season: s,
            }) => {
                let mut damp = 0.0;
                let mut pw = 1.0;
                (0..h)
                    .map(|j| {
                        pw *= HW_PHI;
                        damp += pw;
                        l + damp * b + s[(o + j) % season]
                    })
                    .collect()
            }
        })
        .collect()
}
