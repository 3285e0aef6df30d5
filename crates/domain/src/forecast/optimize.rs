//! One-dimensional minimisers used to fit smoothing constants by in-sample one-step MSE.

/// Golden-section search for the minimum of `f` on `[lo, hi]` with a fixed number of
/// evaluations (so the cost of a fit is predictable). Assumes `f` is roughly unimodal, which is
/// how one-step MSE behaves in a smoothing constant; the endpoints are checked too because the
/// optimum often sits on the boundary for noisy intermittent data.
pub fn golden_min(mut f: impl FnMut(f64) -> f64, lo: f64, hi: f64, evals: usize) -> f64 {
    const INV_PHI: f64 = 0.618_033_988_749_894_8;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - INV_PHI * (b - a);
    let mut d = a + INV_PHI * (b - a);
    let mut fc = f(c);
    let mut fd = f(d);
    for _ in 0..evals.saturating_sub(4) {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - INV_PHI * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + INV_PHI * (b - a);
            fd = f(d);
        }
    }
    let (mut best, mut fbest) = if fc <= fd { (c, fc) } else { (d, fd) };
    for x in [lo, hi] {
        let fx = f(x);
        if fx < fbest {
            best = x;
            fbest = fx;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_parabola_minimum() {
        let x = golden_min(|x| (x - 0.3) * (x - 0.3), 0.0, 1.0, 30);
        assert!((x - 0.3).abs() < 1e-3, "{x}");
    }

    #[test]
    fn finds_boundary_minimum() {
        let x = golden_min(|x| x, 0.01, 0.99, 12);
        assert_eq!(x, 0.01);
    }
}
