//! Quantiles: never crossing, never negative, and calibrated on simulated series.

use ppe_domain::forecast::{ForecastConfig, batch::forecast_values};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Share of the `h` held-out points of each simulated series inside its q10–q90 band.
fn coverage(mut draw: impl FnMut(&mut ChaCha8Rng, usize) -> f64, seed: u64) -> f64 {
    let (n, h, n_series) = (200, 28, 150);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cfg = ForecastConfig::new(h, 7, &[0.1, 0.5, 0.9]);
    let (mut inside, mut total) = (0usize, 0usize);
    for s in 0..n_series {
        let y: Vec<f64> = (0..n + h).map(|_| draw(&mut rng, s)).collect();
        let train: Vec<Option<f64>> = y[..n].iter().map(|&v| Some(v)).collect();
        let fc = forecast_values(&train, &cfg);
        for t in 0..h {
            let v = y[n + t];
            inside += usize::from(fc.quantiles[0][t] <= v && v <= fc.quantiles[2][t]);
            total += 1;
        }
    }
    inside as f64 / total as f64
}

#[test]
fn q10_q90_covers_80_percent_of_simulated_gaussian_demand() {
    // Level 20 to 60 by series, noise sd 15 % of the level, clipped at zero.
    let c = coverage(
        |rng, s| {
            let level = 20.0 + (s % 5) as f64 * 10.0;
            (level + 0.15 * level * standard_normal(rng)).max(0.0)
        },
        7,
    );
    eprintln!("coverage {c}");
    assert!((0.75..=0.85).contains(&c), "coverage {c}");
}

#[test]
fn q10_q90_covers_80_percent_of_simulated_skewed_demand() {
    // Log-normal daily demand (right-skewed, like consumption with bulk days).
    let c = coverage(|rng, _| (2.0 + 0.5 * standard_normal(rng)).exp(), 11);
    eprintln!("coverage {c}");
    assert!((0.75..=0.85).contains(&c), "coverage {c}");
}

fn series() -> impl Strategy<Value = Vec<Option<f64>>> {
    prop::collection::vec(
        prop::option::weighted(0.9, prop_oneof![3 => Just(0.0), 2 => 0.0..50.0f64]),
        0..150,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn quantiles_never_cross_and_never_go_negative(
        y in series(),
        h in 1usize..30,
        season in 1usize..13,
        levels in prop::collection::vec(0.01..0.99f64, 1..6),
    ) {
        let fc = forecast_values(&y, &ForecastConfig::new(h, season, &levels));
        prop_assert_eq!(fc.point.len(), h);
        let mut order: Vec<usize> = (0..levels.len()).collect();
        order.sort_by(|&a, &b| levels[a].total_cmp(&levels[b]));
        for t in 0..h {
            prop_assert!(fc.point[t].is_finite() && fc.point[t] >= 0.0);
            for w in order.windows(2) {
                prop_assert!(fc.quantiles[w[0]][t] <= fc.quantiles[w[1]][t]);
            }
            for q in &fc.quantiles {
                prop_assert!(q[t].is_finite() && q[t] >= 0.0);
            }
        }
    }
}
