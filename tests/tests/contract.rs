//! The text policy and the time limits of writes, over HTTP on the real binary: the same
//! answers on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use ppe_tests::{Server, assert_problem, problem_fields};
use serde_json::{Value, json};

/// Characters no text field may hold: NUL, a right-to-left override, a zero-width
/// space and a byte-order mark.
const HOSTILE: [char; 4] = ['\u{0}', '\u{202E}', '\u{200B}', '\u{FEFF}'];

/// Every write with a body, each with a body whose every string is a text field.
fn writes() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "post",
            "/api/v1/items",
            json!({"sku": "MASK-X", "name": "Mask", "category": "mask", "base_unit": "piece",
                   "pack_size": 50, "standard": "EN 14683"}),
        ),
        (
            "patch",
            "/api/v1/items/FFP2",
            json!({"name": "FFP2", "standard": "EN 149"}),
        ),
        (
            "post",
            "/api/v1/sites",
            json!({"code": "NH-09", "name": "Home", "kind": "unit", "district": "Sentrum",
                   "address": "Gata 1", "latitude": 59.7, "longitude": 10.2,
                   "opening_hours": [{"weekdays": [1], "opens": "08:00", "closes": "15:00"}]}),
        ),
        (
            "patch",
            "/api/v1/sites/NH-01",
            json!({"name": "Lia", "district": "Bragernes", "address": "Lia 2"}),
        ),
        (
            "post",
            "/api/v1/vehicles",
            json!({"code": "VAN-9", "name": "Van", "depot": "WH", "capacity_kg": 100,
                   "capacity_litres": 1000, "shift_start": "08:00", "shift_end": "16:00"}),
        ),
        (
            "patch",
            "/api/v1/vehicles/VAN-9",
            json!({"name": "Van", "depot": "WH"}),
        ),
        (
            "post",
            "/api/v1/stock-reports",
            json!({"site": "NH-01", "reported_by": "Kari",
                   "lines": [{"item": "FFP2", "counted": 1, "lot": "A1"}]}),
        ),
        (
            "post",
            "/api/v1/receipts",
            json!({"site": "WH", "reported_by": "goods-in", "reference": "PO-1",
                   "lines": [{"item": "FFP2", "quantity": 1, "lot": "A1"}]}),
        ),
        (
            "post",
            "/api/v1/issues",
            json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 1, "lot": "A1"}]}),
        ),
        (
            "post",
            "/api/v1/discards",
            json!({"site": "WH", "reported_by": "x", "reason": "damaged",
                   "lines": [{"item": "FFP2", "quantity": 1}]}),
        ),
        (
            "post",
            "/api/v1/transfers",
            json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "x",
                   "lines": [{"item": "FFP2", "quantity": 1}]}),
        ),
        (
            "post",
            "/api/v1/transfers/1/receive",
            json!({"reported_by": "Kari", "lines": [{"line": 0, "received": 0, "outcome": "damaged",
                   "disposition": "lost", "note": "wet"}]}),
        ),
        (
            "post",
            "/api/v1/transfers/1/cancel",
            json!({"reported_by": "Per", "reason": "van broke down"}),
        ),
        (
            "post",
            "/api/v1/requests",
            json!({"site": "NH-01", "requested_by": "Kari", "reason": "outbreak",
                   "lines": [{"item": "FFP2", "quantity": 1}]}),
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"depot": "WH", "vehicles": ["VAN-9"],
                   "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 1}],
                   "overrides": [{"site": "NH-01", "item": "FFP2", "quantity": 1}]}),
        ),
        (
            "post",
            "/api/v1/delivery-plans/1/dispatch",
            json!({"reported_by": "Per"}),
        ),
        (
            "post",
            "/api/v1/tokens",
            json!({"name": "tablet", "role": "reporter", "sites": ["NH-01"]}),
        ),
    ]
}

/// JSON paths (as the server names them) of every string in `v`.
fn string_paths(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at.to_owned()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                string_paths(x, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                string_paths(x, &p, out);
            }
        }
        _ => {}
    }
}

/// `v` with the string at `path` given `c` in its middle.
fn poisoned(v: &Value, path: &str, c: char) -> Value {
    fn walk(v: &mut Value, at: &str, path: &str, c: char) {
        match v {
            Value::String(s) if at == path => {
                let mid = s.chars().count() / 2;
                let (a, b): (String, String) =
                    (s.chars().take(mid).collect(), s.chars().skip(mid).collect());
                *s = format!("{a}{c}{b}");
            }
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    walk(x, &format!("{at}[{i}]"), path, c);
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    let p = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    walk(x, &p, path, c);
                }
            }
            _ => {}
        }
    }
    let mut v = v.clone();
    walk(&mut v, "", path, c);
    v
}

fn snapshot(s: &Server) -> Value {
    json!({
        "items": s.get_json("/api/v1/items"),
        "sites": s.get_json("/api/v1/sites"),
        "vehicles": s.get_json("/api/v1/vehicles"),
        "movements": s.all_movements(""),
        "transfers": s.get_json("/api/v1/transfers"),
        "requests": s.get_json("/api/v1/requests"),
        "plans": s.get_json("/api/v1/delivery-plans"),
        "tokens": s.get_json("/api/v1/tokens").as_array().map(Vec::len),
    })
}

#[test]
fn invisible_characters_in_any_text_field_of_any_write_are_refused_by_name() {
    let s = Server::start();
    s.seed_small();
    let before = snapshot(&s);
    let mut checked = 0;
    for (method, path, body) in writes() {
        let mut fields = Vec::new();
        string_paths(&body, "", &mut fields);
        assert!(!fields.is_empty(), "{path}");
        for field in &fields {
            for c in HOSTILE {
                let bad = poisoned(&body, field, c);
                let r = if method == "patch" {
                    s.patch(path, &bad)
                } else {
                    s.post(path, &bad)
                };
                let p = assert_problem(r, 422);
                assert_eq!(
                    problem_fields(&p),
                    std::slice::from_ref(field),
                    "{method} {path} with U+{:04X} in {field}: {p}",
                    c as u32
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "{checked}");
    assert_eq!(snapshot(&s), before);
}

#[test]
fn invisible_characters_in_paths_and_queries_are_refused_by_name() {
    let s = Server::start();
    s.seed_small();
    let p = assert_problem(s.get("/api/v1/sites/NH%00-01"), 400);
    assert_eq!(problem_fields(&p), ["code"]);
    let p = assert_problem(s.get("/api/v1/movements?site=NH%E2%80%AE-01"), 400);
    assert_eq!(problem_fields(&p), ["site"]);
    let p = assert_problem(s.get("/api/v1/transfers?site="), 400);
    assert_eq!(problem_fields(&p), ["site"]);
}

#[test]
fn codes_are_stored_composed_and_look_alikes_are_refused() {
    let s = Server::start();
    // "Å" written as A + combining ring is the same code as the composed "Å".
    let site = |code: &str| json!({"code": code, "name": "Åsen", "kind": "unit", "latitude": 59.7, "longitude": 10.2});
    let created = s.create("/api/v1/sites", site("A\u{30A}SEN"));
    assert_eq!(created["code"], "\u{C5}SEN");
    assert_eq!(s.post("/api/v1/sites", &site("\u{C5}SEN")).status(), 409);
    // A Cyrillic "Н" looks like a Latin "H" on screen.
    let p = assert_problem(s.post("/api/v1/sites", &site("\u{41D}-01")), 422);
    assert_eq!(problem_fields(&p), ["code"]);
}

#[test]
fn writes_may_be_back_dated_up_to_the_limit_and_beyond_only_by_an_administrator() {
    let s = Server::start_with(&["--backdate-limit-days", "30"]);
    s.seed_small();
    let count = |days_ago: i64| {
        let at = (Utc::now() - Duration::days(days_ago)).to_rfc3339();
        json!({"site": "NH-01", "reported_by": "Kari", "occurred_at": at,
               "lines": [{"item": "FFP2", "counted": days_ago}]})
    };
    let movements = s.all_movements("&site=NH-01").len();
    let p = assert_problem(s.post("/api/v1/stock-reports", &count(31)), 422);
    assert_eq!(problem_fields(&p), ["occurred_at"]);
    assert_eq!(s.all_movements("&site=NH-01").len(), movements);
    assert_eq!(s.post("/api/v1/stock-reports", &count(29)).status(), 201);
    // A historical import: an administrator may, a reporter may not.
    assert_eq!(
        s.post("/api/v1/stock-reports?historical=true", &count(300))
            .status(),
        201
    );
    let (_, reporter) = s.new_token("reporter", &["NH-01"], None);
    let r = s
        .client_for(Some(&reporter))
        .post(s.url("/api/v1/stock-reports?historical=true"))
        .json(&count(300))
        .send()
        .unwrap();
    assert_problem(r, 403);
    // The future allows a phone's clock drift, no more.
    let ahead = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let p = assert_problem(
        s.post(
            "/api/v1/stock-reports",
            &json!({"site": "NH-01", "reported_by": "Kari", "occurred_at": ahead,
                    "lines": [{"item": "FFP2", "counted": 1}]}),
        ),
        422,
    );
    assert_eq!(problem_fields(&p), ["occurred_at"]);
}

#[test]
fn a_long_history_is_read_in_pages_of_bounded_size() {
    let s = Server::start();
    s.seed_small();
    let at = |days_ago: i64| (Utc::now() - Duration::days(days_ago)).to_rfc3339();
    for days_ago in [300, 1] {
        let r = s.post(
            "/api/v1/stock-reports?historical=true",
            &json!({"site": "NH-01", "reported_by": "Kari", "occurred_at": at(days_ago),
                    "lines": [{"item": "FFP2", "counted": 10}]}),
        );
        assert_eq!(r.status(), 201);
    }
    // An early count far back: the consumption answer covers two years, and says how
    // to ask for the days before.
    let r = s.post(
        "/api/v1/stock-reports?historical=true",
        &json!({"site": "NH-01", "reported_by": "Kari", "occurred_at": at(1500),
                "lines": [{"item": "FFP2", "counted": 10}]}),
    );
    assert_eq!(r.status(), 201);
    let body = s
        .get("/api/v1/consumption?site=NH-01&item=FFP2&from=0001-01-01&to=9999-12-31")
        .text()
        .unwrap();
    assert!(body.len() < 1_000_000, "{} bytes", body.len());
    let page: Value = serde_json::from_str(&body).unwrap();
    let days = page["days"].as_array().unwrap();
    assert!(days.len() <= 731, "{}", days.len());
    let earlier = page["earlier"].as_str().expect("older days exist");
    let before = s.get_json(&format!(
        "/api/v1/consumption?site=NH-01&item=FFP2&to={earlier}"
    ));
    let first = days.first().unwrap()["day"].as_str().unwrap();
    let last_before = before["days"].as_array().unwrap().last().unwrap()["day"]
        .as_str()
        .unwrap();
    assert!(last_before < first, "{last_before} {first}");
    let movements = s.get("/api/v1/movements?limit=1000").text().unwrap();
    assert!(movements.len() < 1_000_000);
}
