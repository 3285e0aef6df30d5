//! Intermittent-demand methods: Croston (1972), its bias-corrected SBA variant (Syntetos &
//! Boylan 2005) and TSB (Teunter, Syntetos & Babai 2011).
//!
//! Censored days are neither demand nor zero-demand periods: they do not lengthen the
//! inter-demand interval and TSB's demand probability is not updated on them.

use super::ses;

/// Smoothing-constant range for the size/interval/probability components; the literature
/// (Syntetos & Boylan) recommends constants of 0.05-0.3 on intermittent data; wider ranges chase noise.
const ALPHA_LO: f64 = 0.05;
const ALPHA_HI: f64 = 0.3;

/// A non-zero demand: position, size and observed periods since the previous demand
/// (inclusive of this one, so the first interval counts from the start of the series).
#[derive(Clone, Copy, Debug)]
struct Demand {
    t: usize,
    size: f64,
    interval: f64,
}

fn demands(y: &[Option<f64>]) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut since = 0.0;
    for (t, v) in y.iter().enumerate() {
        if let Some(v) = *v {
            since += 1.0;
            if v > 0.0 {
                out.push(Demand {
                    t,
                    size: v,
                    interval: since,
                });
                since = 0.0;
            }
        }
    }
    out
}

/// Which member of the Croston family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Croston,
    /// Syntetos-Boylan approximation: Croston × (1 − α_p/2).
    Sba,
}

/// Croston/SBA with given smoothing constants for sizes and intervals: the forecasts made at
/// each origin (flat, `h` long).
pub fn croston_with(
    y: &[Option<f64>],
    variant: Variant,
    alpha_size: f64,
    alpha_interval: f64,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let d = demands(y);
    // SBA's factor removes the bias that the *variability* of the interval estimate puts into
    // z/p; when every interval is the same there is no such bias, and a constant series must
    // forecast its constant.
    let intervals_vary = d.windows(2).any(|w| w[0].interval != w[1].interval);
    let factor = match variant {
        Variant::Sba if intervals_vary => 1.0 - alpha_interval / 2.0,
        _ => 1.0,
    };
    let mut out = Vec::with_capacity(origins.len());
    let mut state: Option<(f64, f64)> = None;
    let mut i = 0;
    for &o in origins {
        while i < d.len() && d[i].t < o {
            state = Some(match state {
                None => (d[i].size, d[i].interval),
                Some((z, p)) => (
                    z + alpha_size * (d[i].size - z),
                    p + alpha_interval * (d[i].interval - p),
                ),
            });
            i += 1;
        }
        let f = state.map_or(0.0, |(z, p)| factor * z / p);
        out.push(vec![f; h]);
    }
    out
}

/// Croston/SBA with each component's constant fitted by the one-step MSE of SES on that
/// component (sizes, intervals), as in the "optimized" Croston of the literature.
pub fn croston_origins(
    y: &[Option<f64>],
    variant: Variant,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let d = demands(y);
    let sizes: Vec<f64> = d.iter().map(|x| x.size).collect();
    let intervals: Vec<f64> = d.iter().map(|x| x.interval).collect();
    let a_z = ses::fit_alpha_dense(&sizes, ALPHA_LO, ALPHA_HI);
    let a_p = ses::fit_alpha_dense(&intervals, ALPHA_LO, ALPHA_HI);
    croston_with(y, variant, a_z, a_p, origins, h)
}

/// TSB with given constants for the size (`alpha`) and the demand probability (`beta`).
/// State starts at the first demand: size = that demand, probability = 1 / its interval.
pub fn tsb_with(
    y: &[Option<f64>],
    alpha: f64,
    beta: f64,
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(origins.len());
    let mut state: Option<(f64, f64)> = None; // (size, probability)
    let mut since = 0.0;
    let mut t = 0;
    for &o in origins {
        while t < o.min(y.len()) {
            if let Some(v) = y[t] {
                since += 1.0;
                let hit = v > 0.0;
                state = match state {
                    None if hit => Some((v, 1.0 / since)),
                    None => None,
                    Some((z, p)) => {
                        let p = p + beta * (f64::from(u8::from(hit)) - p);
                        let z = if hit { z + alpha * (v - z) } else { z };
                        Some((z, p))
                    }
                };
            }
            t += 1;
        }
        let f = state.map_or(0.0, |(z, p)| z * p);
        out.push(vec![f; h]);
    }
    out
}

/// TSB with alpha fitted on the sizes and beta on the occurrence indicators after the first
/// demand (each by SES one-step MSE).
pub fn tsb_origins(y: &[Option<f64>], origins: &[usize], h: usize) -> Vec<Vec<f64>> {
    let d = demands(y);
    let sizes: Vec<f64> = d.iter().map(|x| x.size).collect();
    let alpha = ses::fit_alpha_dense(&sizes, ALPHA_LO, ALPHA_HI);
    let occurrence: Vec<f64> = match d.first() {
        None => Vec::new(),
        Some(first) => std::iter::once(1.0 / first.interval)
            .chain(
                y[first.t + 1..]
                    .iter()
                    .flatten()
                    .map(|&v| f64::from(u8::from(v > 0.0))),
            )
            .collect(),
    };
    let beta = ses::fit_alpha_dense(&occurrence, ALPHA_LO, ALPHA_HI);
    tsb_with(y, alpha, beta, origins, h)
}

/// Mean inter-demand interval in observed periods (≥ 1), `None` without demand.
pub fn mean_interval(y: &[Option<f64>]) -> Option<f64> {
    let observed = y.iter().flatten().count();
    let nonzero = y.iter().flatten().filter(|&&v| v > 0.0).count();
    (nonzero > 0).then(|| (observed as f64 / nonzero as f64).max(1.0))
}
