//! Consumption, stored forecasts, supply status and scenarios, over real HTTP.

use chrono::{Duration, NaiveDate, Utc};
use ppe_tests::{Server, assert_problem, problem_fields};
use serde_json::{Value, json};

/// Noon UTC `days` days ago: the same calendar day in Europe/Oslo.
fn days_ago(days: i64) -> (String, NaiveDate) {
    let t = (Utc::now() - Duration::days(days))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    (t.to_rfc3339(), t.date_naive())
}

/// A count `days` days ago; `0` means now.
fn count(s: &Server, site: &str, item: &str, counted: i64, days: i64) {
    let mut body = json!({"site": site, "reported_by": "nurse",
                          "lines": [{"item": item, "counted": counted}]});
    if days > 0 {
        body["occurred_at"] = json!(days_ago(days).0);
    }
    s.create("/api/v1/stock-reports", body);
}

fn issue(s: &Server, site: &str, item: &str, quantity: i64, days: i64) {
    s.create(
        "/api/v1/issues",
        json!({"site": site, "reported_by": "nurse", "occurred_at": days_ago(days).0,
               "lines": [{"item": item, "quantity": quantity}]}),
    );
}

fn unit(s: &Server, code: &str, district: &str) {
    s.create(
        "/api/v1/sites",
        json!({
            "code": code, "name": code, "kind": "unit", "unit_type": "nursing_home",
            "district": district, "latitude": 59.74, "longitude": 10.21
        }),
    );
}

/// The newest movement id of a site × item.
fn newest_movement(s: &Server, site: &str, item: &str) -> i64 {
    s.all_movements(&format!("&site={site}&item={item}"))
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .max()
        .unwrap()
}

/// Polls the supply status until its row for `site` × `item` has seen `movement`.
fn status_after(s: &Server, site: &str, item: &str, movement: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let rows = s.get_json(&format!("/api/v1/supply-status?site={site}&item={item}"));
        if let Some(r) = rows.as_array().and_then(|a| a.first())
            && r["provenance"]["data_through_movement"].as_i64() >= Some(movement)
        {
            return r.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no forecast for {site} × {item} has seen movement {movement}: {rows}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn forecast_mean(s: &Server, site: &str, item: &str) -> f64 {
    let f = s.get_json(&format!(
        "/api/v1/forecasts?site={site}&item={item}&horizon=14"
    ));
    let points = f[0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 14);
    for p in points {
        let (q10, q50, q90) = (p["q10"].as_f64(), p["q50"].as_f64(), p["q90"].as_f64());
        assert!(q10 <= q50 && q50 <= q90, "crossing quantiles: {p}");
    }
    points
        .iter()
        .map(|p| p["mean"].as_f64().unwrap())
        .sum::<f64>()
        / 14.0
}

#[test]
fn two_counts_with_a_delivery_between_give_the_formula_consumption() {
    let s = Server::start();
    s.seed_small();
    // Opening count 100 on day 1, 50 delivered on day 3, count of 90 on day 5:
    // consumed = 100 + 50 − 90 = 60, spread over days 2–5.
    count(&s, "NH-01", "FFP2", 100, 10);
    let t = s.create(
        "/api/v1/transfers",
        json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "driver",
               "occurred_at": days_ago(8).0, "lines": [{"item": "FFP2", "quantity": 50}]}),
    );
    let id = t["transfer"]["id"].as_i64().unwrap();
    s.create(
        &format!("/api/v1/transfers/{id}/receive"),
        json!({"reported_by": "nurse", "occurred_at": days_ago(8).0}),
    );
    count(&s, "NH-01", "FFP2", 90, 6);
    let (from, to) = (days_ago(10).1, days_ago(6).1);
    let c = s.get_json(&format!(
        "/api/v1/consumption?site=NH-01&item=FFP2&from={from}&to={to}"
    ));
    assert_eq!(c["time_zone"], "Europe/Oslo");
    let days = c["days"].as_array().unwrap();
    let used: Vec<f64> = days
        .iter()
        .map(|d| d["quantity"].as_f64().unwrap())
        .collect();
    assert_eq!(used, [0.0, 15.0, 15.0, 15.0, 15.0], "{c}");
    assert!(days[1..].iter().all(|d| d["inferred"] == true));
    assert_eq!(days[4]["closing_balance"], 90);
    assert_eq!(c["flags"], json!([]));
    // A later count above the ledger is negative implied use: flagged, not hidden.
    count(&s, "NH-01", "FFP2", 95, 5);
    let c = s.get_json("/api/v1/consumption?site=NH-01&item=FFP2");
    assert_eq!(c["flags"][0]["flag"], "negative_implied_use", "{c}");
    assert_eq!(c["flags"][0]["quantity"], 5);

    let p = assert_problem(s.get("/api/v1/consumption?site=NOPE&item=FFP2"), 404);
    assert_eq!(problem_fields(&p), ["site"]);
    // A range that ends before it starts holds no days.
    let empty = s.get_json(&format!(
        "/api/v1/consumption?site=NH-01&item=FFP2&from={to}&to={from}"
    ));
    assert_eq!(empty["days"], serde_json::json!([]));
}

#[test]
fn a_stockout_week_does_not_pull_the_forecast_toward_zero() {
    let s = Server::start();
    s.seed_small();
    unit(&s, "NH-02", "Bragernes");
    // Both units use 10 FFP2 a day for eight weeks. Then NH-01 runs out and reports nothing
    // for a week (demand unknown); NH-02 keeps stock and counts it unchanged every day
    // (evidence of no use).
    count(&s, "NH-01", "FFP2", 560, 64);
    count(&s, "NH-02", "FFP2", 1000, 64);
    for d in (8..64).rev() {
        issue(&s, "NH-01", "FFP2", 10, d);
        issue(&s, "NH-02", "FFP2", 10, d);
    }
    for d in (1..8).rev() {
        count(&s, "NH-02", "FFP2", 440, d);
    }
    let out = status_after(&s, "NH-01", "FFP2", newest_movement(&s, "NH-01", "FFP2"));
    let idle = status_after(&s, "NH-02", "FFP2", newest_movement(&s, "NH-02", "FFP2"));
    assert_eq!(out["on_hand"], 0);
    assert_eq!(out["band"], "red");
    assert_eq!(out["stockout_probability"], 1.0);
    assert_eq!(out["stockout_within"].as_array().unwrap().len(), 28);
    assert!(out["censored_days"].as_u64().unwrap() >= 7, "{out}");
    let censored = forecast_mean(&s, "NH-01", "FFP2");
    let zero_use = forecast_mean(&s, "NH-02", "FFP2");
    assert!(
        (8.5..=11.5).contains(&censored),
        "the stockout week pulled the forecast to {censored}"
    );
    assert!(
        zero_use < censored - 1.0,
        "a week of observed zero use ({zero_use}) should lower the forecast more than a \
         censored week ({censored})"
    );
    // What to order: enough for lead time + 14 days at ~10 a day, in whole packs of 20.
    let order = out["suggested_order"].as_i64().unwrap();
    assert!(order >= 150 && order % 20 == 0, "{out}");
    assert!(
        idle["days_of_supply"]["q50"].as_f64().unwrap() > 14.0,
        "{idle}"
    );
}

#[test]
fn supply_status_reflects_a_new_report_and_filters_and_scenarios_read_it() {
    let s = Server::start();
    s.seed_small();
    unit(&s, "HC-01", "Konnerud");
    for site in ["NH-01", "HC-01"] {
        count(&s, site, "FFP2", 400, 30);
        count(&s, site, "GLOVE-M", 900, 30);
        for d in (1..30).rev() {
            issue(&s, site, "FFP2", 10, d);
            issue(&s, site, "GLOVE-M", 20, d);
        }
    }
    let before = status_after(&s, "NH-01", "FFP2", newest_movement(&s, "NH-01", "FFP2"));
    assert_eq!(before["on_hand"], 110);
    assert_eq!(before["band"], "green");
    // A count finds less: the stored status follows without anyone asking for it.
    count(&s, "NH-01", "FFP2", 15, 0);
    let after = status_after(&s, "NH-01", "FFP2", newest_movement(&s, "NH-01", "FFP2"));
    assert_eq!(after["on_hand"], 15);
    assert_eq!(after["band"], "red");
    assert!(
        after["stockout_probability"].as_f64() > before["stockout_probability"].as_f64(),
        "{before} {after}"
    );

    // Filters and order: riskiest first.
    let all = s.get_json("/api/v1/supply-status");
    assert_eq!(all.as_array().unwrap().len(), 4);
    assert_eq!(all[0]["site"], "NH-01");
    assert_eq!(all[0]["item"], "FFP2");
    let red = s.get_json("/api/v1/supply-status?band=red");
    assert_eq!(red.as_array().unwrap().len(), 1);
    let konnerud = s.get_json("/api/v1/supply-status?district=Konnerud");
    let konnerud = konnerud.as_array().unwrap();
    // HC-01's two items, and nothing of the unit in another district.
    assert_eq!(konnerud.len(), 2, "{konnerud:?}");
    assert!(konnerud.iter().all(|r| r["site"] == "HC-01"));
    let p = assert_problem(s.get("/api/v1/supply-status?band=purple"), 400);
    assert_eq!(problem_fields(&p), ["band"]);
    let p = assert_problem(s.get("/api/v1/forecasts?horizon=99"), 400);
    assert_eq!(problem_fields(&p), ["horizon"]);

    // Aggregates add the units up.
    let agg = s.get_json("/api/v1/supply-status/aggregates?by=municipality&item=FFP2");
    assert_eq!(agg[0]["units"], 2);
    assert_eq!(agg[0]["on_hand"], 125);
    let by_district = s.get_json("/api/v1/supply-status/aggregates?item=FFP2");
    assert_eq!(by_district.as_array().unwrap().len(), 2);

    // Accuracy is reported per series.
    let acc = s.get_json("/api/v1/forecasts/accuracy");
    assert_eq!(acc["summary"]["series"], 4);
    assert!(
        acc["series"][0]["methods"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );

    // A scenario: six severe patients at HC-01 for a week need extra gloves and respirators,
    // shorten its days of supply, and change nothing stored.
    let stored = s.get_json("/api/v1/supply-status");
    let (from, to) = (days_ago(-1).1, days_ago(-7).1);
    let r = s.post(
        "/api/v1/scenarios",
        &json!({"sites": [{"site": "HC-01", "from": from, "to": to, "patients": {"severe": 6}}]}),
    );
    assert_eq!(r.status(), 200);
    let sc: Value = r.json().unwrap();
    let gloves = sc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item"] == "GLOVE-M")
        .unwrap();
    // Default rate: 24 gloves per severe patient-day, 7 days, the site's only glove item.
    assert_eq!(gloves["extra_need"], 6.0 * 24.0 * 7.0);
    assert!(
        gloves["scenario"]["days_of_supply"]["q50"].as_f64()
            < gloves["baseline"]["days_of_supply"]["q50"].as_f64()
    );
    assert_eq!(s.get_json("/api/v1/supply-status"), stored);
    let p = assert_problem(
        s.post(
            "/api/v1/scenarios",
            &json!({"sites": [{"site": "NOPE", "from": from, "to": to}]}),
        ),
        404,
    );
    assert_eq!(problem_fields(&p), ["sites[0].site"]);
    let p = assert_problem(
        s.post(
            "/api/v1/scenarios",
            &json!({"sites": [{"site": "HC-01", "from": to, "to": from}],
                    "rates": [{"category": "gloves", "basis": "per_day", "mild": -1, "severe": 1, "critical": 1, "staff": 0}]}),
        ),
        422,
    );
    assert_eq!(problem_fields(&p), ["sites[0].to", "rates[0].mild"]);
}
