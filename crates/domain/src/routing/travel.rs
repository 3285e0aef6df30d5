//! Ways to build a travel matrix: from geographic coordinates (haversine × road factor at an average
//! speed), from planar coordinates under the benchmark conventions, or from matrices a router supplied.

use super::model::TravelMatrix;

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point on the Earth, degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// Great-circle distance in metres (haversine formula).
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Road distance ≈ haversine × `road_factor` (≈ 1.3 in a Norwegian suburb), in whole metres; travel
/// time in whole seconds at `speed_kmh`.
pub fn from_lat_lon(points: &[LatLon], road_factor: f64, speed_kmh: f64) -> TravelMatrix {
    let n = points.len();
    let mps = speed_kmh / 3.6;
    let mut distance = vec![0; n * n];
    let mut time = vec![0; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let d = haversine_m(points[i], points[j]) * road_factor;
                distance[i * n + j] = d.round() as i64;
                time[i * n + j] = (d / mps).round() as i64;
            }
        }
    }
    TravelMatrix { n, distance, time }
}

/// CVRPLIB (TSPLIB EUC_2D) convention: nint(euclid) = floor(d + 0.5); time = distance.
pub fn euclid_nint(points: &[(f64, f64)]) -> TravelMatrix {
    euclid_with(points, |d| (d + 0.5).floor() as i64)
}

/// Solomon convention: euclid truncated to one decimal, expressed in tenths (so ×10, integer);
/// time = distance. The small epsilon matches the benchmark checker's float handling.
pub fn euclid_trunc_tenths(points: &[(f64, f64)]) -> TravelMatrix {
    euclid_with(points, |d| (d * 10.0 + 1e-9).floor() as i64)
}

fn euclid_with(points: &[(f64, f64)], round: impl Fn(f64) -> i64) -> TravelMatrix {
    let n = points.len();
    let mut distance = vec![0; n * n];
    for i in 0..n {
        for j in 0..n {
            let (dx, dy) = (points[i].0 - points[j].0, points[i].1 - points[j].1);
            distance[i * n + j] = round((dx * dx + dy * dy).sqrt());
        }
    }
    TravelMatrix {
        n,
        time: distance.clone(),
        distance,
    }
}

/// A matrix supplied by a router (OSRM, Valhalla): metres and seconds, row-major.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("matrix must be square and both matrices the same size")]
pub struct MatrixShapeError;

pub fn from_rows(
    distance: &[Vec<i64>],
    time: &[Vec<i64>],
) -> Result<TravelMatrix, MatrixShapeError> {
    let n = distance.len();
    if time.len() != n || distance.iter().chain(time).any(|r| r.len() != n) {
        return Err(MatrixShapeError);
    }
    Ok(TravelMatrix {
        n,
        distance: distance.concat(),
        time: time.concat(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_oslo_bergen() {
        // Oslo S to Bergen station: about 305 km as the crow flies.
        let d = haversine_m(
            LatLon {
                lat: 59.9111,
                lon: 10.7528,
            },
            LatLon {
                lat: 60.3897,
                lon: 5.3327,
            },
        );
        assert!((d - 305_000.0).abs() < 3_000.0, "{d}");
    }

    #[test]
    fn road_factor_and_speed() {
        let p = [
            LatLon {
                lat: 59.0,
                lon: 10.0,
            },
            LatLon {
                lat: 59.01,
                lon: 10.0,
            },
        ];
        let m = from_lat_lon(&p, 1.3, 36.0);
        let crow = haversine_m(p[0], p[1]);
        assert_eq!(m.dist(0, 1), (crow * 1.3).round() as i64);
        // 36 km/h = 10 m/s
        assert_eq!(m.time(0, 1), (crow * 1.3 / 10.0).round() as i64);
        assert_eq!(m.dist(1, 1), 0);
    }

    #[test]
    fn nint_rounds_half_up() {
        let m = euclid_nint(&[(0.0, 0.0), (3.0, 4.0), (0.5, 0.0), (1.0, 1.0)]);
        assert_eq!(m.dist(0, 1), 5);
        assert_eq!(m.dist(0, 2), 1); // 0.5 -> 1
        assert_eq!(m.dist(0, 3), 1); // 1.414 -> 1
    }

    #[test]
    fn solomon_truncates_to_tenths() {
        let m = euclid_trunc_tenths(&[(0.0, 0.0), (1.0, 1.0), (3.0, 4.0)]);
        assert_eq!(m.dist(0, 1), 14); // 1.414 -> 1.4
        assert_eq!(m.dist(0, 2), 50);
        assert_eq!(m.time(0, 1), 14);
    }
}
