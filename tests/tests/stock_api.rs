//! The stock API as a client uses it, over real HTTP.

use ppe_tests::{Server, assert_problem};
use serde_json::{Value, json};

#[test]
fn health_ready_and_api_document_are_served() {
    let s = Server::start();
    assert_eq!(s.get("/healthz").status(), 200);
    let ready = s.get_json("/readyz");
    assert_eq!(ready["status"], "ready");
    let doc = s.get_json("/api-docs/openapi.json");
    assert_eq!(doc["openapi"], "3.1.0");
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(
        doc, committed,
        "served document differs from openapi/openapi.json"
    );
}

#[test]
fn swagger_ui_is_served_without_any_outside_resource() {
    let s = Server::start();
    let html = s.get("/swagger-ui/").text().unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet must come from this server.
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap_or("");
            assert!(
                !url.starts_with("http") && !url.starts_with("//"),
                "external resource {url}"
            );
            let r = s.get(&format!("/swagger-ui/{}", url.trim_start_matches("./")));
            assert_eq!(r.status(), 200, "{url}");
        }
    }
    let init = s.get("/swagger-ui/swagger-initializer.js").text().unwrap();
    assert!(init.contains("/api-docs/openapi.json"), "{init}");
    assert!(!init.contains("https://"), "{init}");
}

#[test]
fn report_issue_transfer_and_read_back() {
    let s = Server::start();
    s.seed_small();
    // Dispatch 300 FFP2 to the unit; in transit until received.
    let t = s.create(
        "/api/v1/transfers",
        json!({
            "from_site": "WH", "to_site": "NH-01", "reported_by": "logistics",
            "lines": [{"item": "FFP2", "quantity": 300}]
        }),
    );
    let id = t["transfer"]["id"].as_i64().unwrap();
    assert_eq!(t["transfer"]["status"], "dispatched");
    assert_eq!(t["transfer"]["lines"][0]["lot"], "A1");
    let r = s.post(
        &format!("/api/v1/transfers/{id}/receive"),
        &json!({"reported_by": "nurse"}),
    );
    assert_eq!(r.status(), 200);
    assert_problem(
        s.post(
            &format!("/api/v1/transfers/{id}/receive"),
            &json!({"reported_by": "nurse"}),
        ),
        409,
    );
    assert_problem(
        s.post(
            "/api/v1/transfers/999999/receive",
            &json!({"reported_by": "nurse"}),
        ),
        404,
    );
    // The unit counts 280 two days later: a -20 adjustment.
    let rep = s.create(
        "/api/v1/stock-reports",
        json!({
            "site": "NH-01", "reported_by": "Kari", "occurred_at": "2026-03-14T19:00:00Z",
            "lines": [{"item": "FFP2", "counted": 280}, {"item": "GLOVE-M", "counted": 0}]
        }),
    );
    let m = &rep["movements"][0];
    assert_eq!(
        (
            m["kind"].as_str(),
            m["quantity"].as_i64(),
            m["counted"].as_i64()
        ),
        (Some("count_adjustment"), Some(-20), Some(280))
    );
    assert_eq!(m["occurred_at"], "2026-03-14T19:00:00Z");
    // Use of 30, then balances of the site and of the item.
    s.create("/api/v1/issues", json!({"site": "NH-01", "reported_by": "Kari", "lines": [{"item": "FFP2", "quantity": 30}]}));
    let bal = s.get_json("/api/v1/sites/NH-01/balances");
    let ffp2: i64 = bal
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["item"] == "FFP2")
        .map(|b| b["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(ffp2, 250);
    let by_item = s.get_json("/api/v1/items/FFP2/balances");
    let per_site: Vec<(String, i64)> = by_item
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["site"].as_str().unwrap().to_owned(),
                b["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_site,
        [("NH-01".to_owned(), 250), ("WH".to_owned(), 700)]
    );
    // Over-issue names site, item, balance and request.
    let p = assert_problem(s.post("/api/v1/issues", &json!({"site": "NH-01", "reported_by": "Kari", "lines": [{"item": "FFP2", "quantity": 251}]})), 409);
    assert_eq!(
        (
            p["site"].as_str(),
            p["item"].as_str(),
            p["balance"].as_i64(),
            p["requested"].as_i64()
        ),
        (Some("NH-01"), Some("FFP2"), Some(250), Some(251))
    );
    // Ledger filters: kind and site, time range.
    let issues = s.all_movements("&site=NH-01&kind=issue");
    assert_eq!(issues.len(), 1);
    let since = s.all_movements("&site=NH-01&from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z");
    assert!(
        since.iter().all(|m| m["kind"] == "count_adjustment") && since.len() == 2,
        "{since:?}"
    );
    // Discard with a reason, at the warehouse.
    let d = s.create("/api/v1/discards", json!({"site": "WH", "reported_by": "goods-in", "reason": "damaged", "lines": [{"item": "GLOVE-M", "quantity": 100}]}));
    assert_eq!(d["movements"][0]["reason"], "damaged");
    assert_eq!(
        s.get_json("/api/v1/transfers?status=received&site=NH-01")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Sends `body` twice under `key`: the second answer is the first, byte for byte.
fn replays_byte_for_byte(s: &Server, path: &str, key: &str, body: &Value) -> Value {
    let first = s.post_with_key(path, key, body);
    let status = first.status();
    assert!(status.is_success(), "{path}: {status}");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.text().unwrap();
    let again = s.post_with_key(path, key, body);
    assert_eq!(again.status(), status, "{path}");
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.text().unwrap(), first, "{path}: the replay differs");
    serde_json::from_str(&first).unwrap()
}

#[test]
fn every_ledger_write_replays_its_first_answer_byte_for_byte() {
    let s = Server::start();
    s.seed_small();
    // Times finer than the database keeps (nanoseconds) are answered as stored, so the
    // first answer and a replay read back from the ledger agree.
    let at = "2026-12-01T08:30:00.123456789Z";
    let receipt = replays_byte_for_byte(
        &s,
        "/api/v1/receipts",
        "r-1",
        &json!({
            "site": "WH", "reported_by": "goods-in", "reference": "PO-77", "occurred_at": at,
            "lines": [{"item": "FFP2", "quantity": 40, "lot": "B2", "expires_on": "2030-06-30"},
                      {"item": "GLOVE-M", "quantity": 60}]
        }),
    );
    assert_eq!(
        receipt["movements"][0]["occurred_at"],
        "2026-12-01T08:30:00.123456Z"
    );
    // Issued across both lots (first expiry first): one answer, two movements.
    let issue = replays_byte_for_byte(
        &s,
        "/api/v1/issues",
        "i-1",
        &json!({
            "site": "WH", "reported_by": "ward", "lines": [{"item": "FFP2", "quantity": 1030}]
        }),
    );
    assert_eq!(issue["movements"].as_array().unwrap().len(), 2);
    replays_byte_for_byte(
        &s,
        "/api/v1/discards",
        "d-1",
        &json!({
            "site": "WH", "reported_by": "goods-in", "reason": "damaged",
            "lines": [{"item": "GLOVE-M", "quantity": 5}]
        }),
    );
    let report = replays_byte_for_byte(
        &s,
        "/api/v1/stock-reports",
        "c-1",
        &json!({
            "site": "WH", "reported_by": "count", "lines": [{"item": "GLOVE-M", "counted": 550},
                                                            {"item": "FFP2", "counted": 10, "lot": "B2"}]
        }),
    );
    assert_eq!(report["movements"].as_array().unwrap().len(), 2);
    // Transfers keep their first answer as it was, though the transfer moves on.
    let dispatch = json!({
        "from_site": "WH", "to_site": "NH-01", "reported_by": "logistics",
        "lines": [{"item": "GLOVE-M", "quantity": 50}]
    });
    let sent = replays_byte_for_byte(&s, "/api/v1/transfers", "t-1", &dispatch);
    let id = sent["transfer"]["id"].as_i64().unwrap();
    replays_byte_for_byte(
        &s,
        &format!("/api/v1/transfers/{id}/receive"),
        "t-2",
        &json!({"reported_by": "nurse"}),
    );
    let again = s.post_with_key("/api/v1/transfers", "t-1", &dispatch);
    assert_eq!(
        again.json::<Value>().unwrap()["transfer"]["status"],
        "dispatched"
    );
    // Nothing was written twice: the ledger holds each write's movements once.
    let movements = s.all_movements("");
    let ids: std::collections::BTreeSet<i64> = movements
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), movements.len());
    assert_eq!(s.all_movements("&kind=discard").len(), 1);
}

#[test]
fn idempotency_key_replays_and_refuses_another_body() {
    let s = Server::start();
    s.seed_small();
    let body =
        json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 10}]});
    let first = s.post_with_key("/api/v1/issues", "key-1", &body);
    assert_eq!(first.status(), 201);
    let first: Value = first.json().unwrap();
    let again = s.post_with_key("/api/v1/issues", "key-1", &body);
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json::<Value>().unwrap(), first);
    let other =
        json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 11}]});
    let p = assert_problem(s.post_with_key("/api/v1/issues", "key-1", &other), 422);
    assert_eq!(ppe_tests::problem_fields(&p), ["Idempotency-Key"]);
    assert_eq!(s.all_movements("&kind=issue").len(), 1);
}
