//! Bad input gets a 4xx problem document naming the problem, and writes nothing.

use ppe_tests::{Server, assert_problem, problem_fields};
use serde_json::{Value, json};

/// Everything a client can read back, to prove a refused request changed nothing.
fn snapshot(s: &Server) -> Value {
    json!({
        "items": s.get_json("/api/v1/items"),
        "sites": s.get_json("/api/v1/sites"),
        "movements": s.all_movements(""),
        "wh": s.get_json("/api/v1/sites/WH/balances"),
        "transfers": s.get_json("/api/v1/transfers"),
    })
}

fn raw(
    s: &Server,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> reqwest::blocking::Response {
    s.client
        .post(s.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap()
}

#[test]
fn every_kind_of_bad_input_is_a_named_4xx_and_writes_nothing() {
    let s = Server::start();
    s.seed_small();
    let before = snapshot(&s);
    let issue = |item: &str, q: i64| json!({"site": "WH", "reported_by": "x", "lines": [{"item": item, "quantity": q}]});

    // Malformed JSON: 400 with line and column.
    let p = assert_problem(
        raw(
            &s,
            "/api/v1/issues",
            "application/json",
            "{\"site\": \"WH\", ",
        ),
        400,
    );
    assert_eq!(p["type"], "/problems/malformed-json");
    assert!(p["line"].is_number() && p["column"].is_number());

    // Unknown item, named by its line.
    let p = assert_problem(s.post("/api/v1/issues", &issue("NOPE", 1)), 404);
    assert_eq!(problem_fields(&p), ["lines[0].item"]);
    assert!(p["detail"].as_str().unwrap().contains("NOPE"));

    // Negative quantity.
    let p = assert_problem(s.post("/api/v1/issues", &issue("FFP2", -5)), 422);
    assert_eq!(problem_fields(&p), ["lines[0].quantity"]);

    // Unknown site.
    let p = assert_problem(s.post("/api/v1/stock-reports", &json!({"site": "XX-99", "reported_by": "x", "lines": [{"item": "FFP2", "counted": 1}]})), 404);
    assert_eq!(problem_fields(&p), ["site"]);

    // Bad GTIN check digit.
    let p = assert_problem(s.post("/api/v1/items", &json!({"sku": "NEW", "name": "n", "category": "mask", "base_unit": "piece", "pack_size": 50, "gtin": "4006381333932"})), 422);
    assert_eq!(problem_fields(&p), ["gtin"]);
    assert!(p["detail"].as_str().unwrap().contains("check digit"));

    // Latitude 200.
    let p = assert_problem(
        s.post(
            "/api/v1/sites",
            &json!({"code": "NEW", "name": "n", "kind": "unit", "latitude": 200, "longitude": 10}),
        ),
        422,
    );
    assert_eq!(problem_fields(&p), ["latitude"]);

    // A body over the limit (a long list of lines), declared and streamed.
    let lines: Vec<Value> = (0..200_000)
        .map(|_| json!({"item": "FFP2", "quantity": 1}))
        .collect();
    let big =
        serde_json::to_vec(&json!({"site": "WH", "reported_by": "x", "lines": lines})).unwrap();
    assert!(big.len() > 4 * 1024 * 1024);
    let p = assert_problem(raw(&s, "/api/v1/issues", "application/json", big), 413);
    assert_eq!(p["limit"], 4 * 1024 * 1024);

    // Wrong content type.
    let p = assert_problem(
        raw(
            &s,
            "/api/v1/issues",
            "text/plain",
            issue("FFP2", 1).to_string(),
        ),
        415,
    );
    assert_eq!(problem_fields(&p), ["Content-Type"]);

    // Unknown field, nested in a line.
    let p = assert_problem(s.post("/api/v1/issues", &json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 1, "colour": "blue"}]})), 422);
    assert_eq!(problem_fields(&p), ["lines[0].colour"]);
    // And at the top level.
    let p = assert_problem(s.post("/api/v1/items", &json!({"sku": "N", "name": "n", "category": "mask", "base_unit": "piece", "pack_size": 1, "size": "M"})), 422);
    assert_eq!(problem_fields(&p), ["size"]);

    // A wrong type names its path.
    let p = assert_problem(s.post("/api/v1/issues", &json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": "ten"}]})), 422);
    assert_eq!(problem_fields(&p), ["lines[0].quantity"]);

    // A multi-line write whose second line fails writes neither line.
    let p = assert_problem(s.post("/api/v1/issues", &json!({"site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 5}, {"item": "GLOVE-M", "quantity": 501}]})), 409);
    assert_eq!(p["balance"], 500);

    // A receipt into a unit, a transfer from a unit.
    let p = assert_problem(s.post("/api/v1/receipts", &json!({"site": "NH-01", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 5}]})), 404);
    assert_eq!(problem_fields(&p), ["site"]);
    let p = assert_problem(s.post("/api/v1/transfers", &json!({"from_site": "NH-01", "to_site": "WH", "reported_by": "x", "lines": [{"item": "FFP2", "quantity": 5}]})), 404);
    assert_eq!(problem_fields(&p), ["from_site"]);

    // Bad query and unknown routes and methods are problems too.
    assert_problem(s.get("/api/v1/movements?limit=0"), 400);
    assert_problem(s.get("/api/v1/movements?kind=theft"), 400);
    assert_problem(s.get("/api/v1/sites/NOPE/balances"), 404);
    assert_problem(s.get("/api/v1/nothing-here"), 404);
    assert_problem(s.client.delete(s.url("/api/v1/items")).send().unwrap(), 405);

    assert_eq!(
        snapshot(&s),
        before,
        "a refused request changed stored state"
    );
}
