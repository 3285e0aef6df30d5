//! `ppe forecast-batch` as the benchmark kit runs it: long CSV in, forecasts out.

use std::process::Command;

fn run(input: &str, args: &[&str]) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("train.csv");
    let out = dir.path().join("out.csv");
    std::fs::write(&inp, input).unwrap();
    let o = Command::new(ppe_tests::binary())
        .arg("forecast-batch")
        .args([
            "--input",
            inp.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .args(args)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    (o, text)
}

#[test]
fn daily_series_get_every_next_date_with_ordered_quantiles() {
    let mut csv = String::from("unique_id,ds,y\n");
    for d in 0..60 {
        let y = if d % 9 == 0 { 3 } else { 0 };
        csv.push_str(&format!("\"NH|FFP2, box\",{},{y}\n", chrono_like(d)));
    }
    // A second, busier series with a weekly rhythm.
    for d in 0..60 {
        let date = chrono_like(d);
        csv.push_str(&format!(
            "HC|Gloves,{date},{}\n",
            if d % 7 < 5 { 20 + d % 3 } else { 4 }
        ));
    }
    let (o, text) = run(&csv, &["--horizon", "14", "--season", "7"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rdr = csv_rows(&text);
    let header = rdr.remove(0);
    assert_eq!(header, ["unique_id", "ds", "forecast", "q10", "q50", "q90"]);
    assert_eq!(rdr.len(), 28);
    let gloves: Vec<&Vec<String>> = rdr.iter().filter(|r| r[0] == "HC|Gloves").collect();
    assert_eq!(gloves[0][1], chrono_like(60));
    assert_eq!(gloves[13][1], chrono_like(73));
    for r in &rdr {
        let v: Vec<f64> = r[2..].iter().map(|x| x.parse().unwrap()).collect();
        assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0), "{r:?}");
        assert!(v[1] <= v[2] && v[2] <= v[3], "quantiles cross: {r:?}");
    }
    // Weekdays forecast above weekends for the rhythmic series.
    let f: Vec<f64> = gloves.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(f[0] > f[5], "{f:?}");
    assert!(rdr.iter().any(|r| r[0] == "NH|FFP2, box"));
}

#[test]
fn monthly_series_forecast_month_starts() {
    let mut csv = String::from("unique_id,ds,y\n");
    for m in 1..=12 {
        csv.push_str(&format!("A,2025-{m:02}-01,{}\n", 10 + m));
    }
    let (o, text) = run(&csv, &["--horizon", "12", "--season", "12"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 13);
    assert_eq!(rows[1][1], "2026-01-01");
    assert_eq!(rows[12][1], "2026-12-01");
}

#[test]
fn bad_input_is_a_clear_error() {
    let (o, _) = run(
        "unique_id,ds,y\nA,2026-01-01,-3\n",
        &["--horizon", "7", "--season", "7"],
    );
    assert!(!o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).is_empty());
}

fn chrono_like(day_index: i64) -> String {
    // 2026-01-01 plus day_index days, without a date crate in this test.
    let days_in = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut m, mut d) = (0usize, day_index);
    while d >= days_in[m] {
        d -= days_in[m];
        m += 1;
    }
    format!("2026-{:02}-{:02}", m + 1, d + 1)
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // The ids here hold at most one quoted comma; split respecting quotes.
    text.lines()
        .map(|l| {
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for ch in l.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => out.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            out.push(cur);
            out
        })
        .collect()
}
