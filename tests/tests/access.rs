//! Access control over real HTTP: every operation of the API document against every
//! kind of caller, site scope, revocation, throttling, and what is (not) stored.

use ppe_tests::{Server, assert_problem, create_token_cli};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoToken,
    Revoked,
    Expired,
    Admin,
    Logistics,
    Viewer,
    /// A reporter limited to NH-01, where every site-bound request of the table points.
    ReporterHere,
    /// A reporter limited to NH-02.
    ReporterElsewhere,
}

use Caller::*;

const CALLERS: &[Caller] = &[
    NoToken,
    Revoked,
    Expired,
    Admin,
    Logistics,
    Viewer,
    ReporterHere,
    ReporterElsewhere,
];
const EVERY_ROLE: &[Caller] = &[Admin, Logistics, Viewer, ReporterHere, ReporterElsewhere];
const READERS_OF_NH01: &[Caller] = &[Admin, Logistics, Viewer, ReporterHere];
const UNSCOPED_READERS: &[Caller] = &[Admin, Logistics, Viewer];

/// One operation of the API document, a request that exercises it, and who may make it
/// (`None`: anyone, even without a token).
struct Rule {
    method: &'static str,
    /// The path as the API document spells it.
    path: &'static str,
    url: String,
    body: Option<Value>,
    allowed: Option<&'static [Caller]>,
}

fn rule(
    method: &'static str,
    path: &'static str,
    url: impl Into<String>,
    body: Option<Value>,
    allowed: Option<&'static [Caller]>,
) -> Rule {
    Rule {
        method,
        path,
        url: url.into(),
        body,
        allowed,
    }
}

/// Ids the table's requests point at.
struct Ids {
    transfer: i64,
    spare_token: i64,
    /// A transfer WH → NH-01 the table cancels.
    cancellable: i64,
    /// A planned delivery plan from WH.
    plan: i64,
    /// A supply request of NH-01.
    request: i64,
}

/// The access table: every operation of the API document must be here.
fn table(ids: &Ids) -> Vec<Rule> {
    let Ids {
        transfer,
        spare_token,
        cancellable,
        plan,
        request,
    } = *ids;
    let day = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let at_nh01 = json!({"site": "NH-01", "reported_by": "matrix",
        "lines": [{"item": "GLOVE-M", "quantity": 1}]});
    vec![
        rule("get", "/healthz", "/healthz", None, None),
        rule("get", "/readyz", "/readyz", None, None),
        rule(
            "post",
            "/api/v1/items",
            "/api/v1/items",
            Some(
                json!({"sku": "MATRIX", "name": "Matrix item", "category": "gloves",
                "base_unit": "piece", "pack_size": 10}),
            ),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/items",
            "/api/v1/items",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "post",
            "/api/v1/items/import",
            "/api/v1/items/import",
            Some(json!(
                "sku,name,category,base_unit,pack_size\nMATRIX-SHEET,Matrix sheet item,gloves,piece,10\n"
            )),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/items/{sku}",
            "/api/v1/items/FFP2",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "get",
            "/api/v1/items/{sku}/balances",
            "/api/v1/items/FFP2/balances",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "post",
            "/api/v1/sites",
            "/api/v1/sites",
            Some(
                json!({"code": "NH-MATRIX", "name": "Matrix home", "kind": "unit",
                "unit_type": "nursing_home", "latitude": 59.7, "longitude": 10.2}),
            ),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/sites",
            "/api/v1/sites",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "post",
            "/api/v1/sites/import",
            "/api/v1/sites/import",
            Some(json!(
                "code,name,kind,latitude,longitude\nNH-SHEET,Matrix sheet home,unit,59.7,10.2\n"
            )),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/sites/{code}",
            "/api/v1/sites/NH-01",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "get",
            "/api/v1/sites/{code}/balances",
            "/api/v1/sites/NH-01/balances",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "post",
            "/api/v1/stock-reports",
            "/api/v1/stock-reports",
            Some(json!({"site": "NH-01", "reported_by": "matrix",
                "lines": [{"item": "GLOVE-M", "counted": 50}]})),
            Some(&[Admin, ReporterHere]),
        ),
        // Every reporter may send a count sheet; a row at a site the token is not
        // limited to is refused with the sheet's other bad rows (422, see import.rs).
        rule(
            "post",
            "/api/v1/stock-reports/import",
            "/api/v1/stock-reports/import",
            Some(json!("site,item,counted\nNH-01,GLOVE-M,50\n")),
            Some(&[Admin, ReporterHere, ReporterElsewhere]),
        ),
        rule(
            "post",
            "/api/v1/receipts",
            "/api/v1/receipts",
            Some(json!({"site": "WH", "reported_by": "matrix",
                "lines": [{"item": "GLOVE-M", "quantity": 10}]})),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "post",
            "/api/v1/issues",
            "/api/v1/issues",
            Some(at_nh01),
            Some(&[Admin, ReporterHere]),
        ),
        rule(
            "post",
            "/api/v1/discards",
            "/api/v1/discards",
            Some(
                json!({"site": "WH", "reported_by": "matrix", "reason": "damaged",
                "lines": [{"item": "GLOVE-M", "quantity": 1}]}),
            ),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "post",
            "/api/v1/transfers",
            "/api/v1/transfers",
            Some(
                json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "matrix",
                "lines": [{"item": "GLOVE-M", "quantity": 1}]}),
            ),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "get",
            "/api/v1/transfers",
            "/api/v1/transfers?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/transfers/{id}",
            format!("/api/v1/transfers/{transfer}"),
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "post",
            "/api/v1/transfers/{id}/receive",
            format!("/api/v1/transfers/{transfer}/receive"),
            Some(json!({"reported_by": "matrix"})),
            Some(&[Admin, Logistics, ReporterHere]),
        ),
        rule(
            "post",
            "/api/v1/routing/solve",
            "/api/v1/routing/solve",
            Some(
                json!({"vehicles": [{"id": 1, "start": [10.2, 59.74], "capacity": [10]}],
                "jobs": [{"id": 1, "location": [10.21, 59.75], "delivery": [1]}],
                "options": {"time_limit": 0.1}}),
            ),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "post",
            "/api/v1/transfers/{id}/cancel",
            format!("/api/v1/transfers/{cancellable}/cancel"),
            Some(json!({"reported_by": "matrix", "reason": "never left"})),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "get",
            "/api/v1/discrepancies",
            "/api/v1/discrepancies?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/audit",
            "/api/v1/audit?entity=site&key=NH-01",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "patch",
            "/api/v1/items/{sku}",
            "/api/v1/items/GLOVE-M",
            Some(json!({"name": "Nitrile gloves M, renamed"})),
            Some(&[Admin]),
        ),
        rule(
            "patch",
            "/api/v1/sites/{code}",
            "/api/v1/sites/NH-01",
            Some(json!({"lead_time_days": 3})),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/vehicles",
            "/api/v1/vehicles",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "post",
            "/api/v1/vehicles",
            "/api/v1/vehicles",
            Some(
                json!({"code": "VAN-M", "name": "Matrix van", "depot": "WH", "capacity_kg": 900,
                "capacity_litres": 7000, "shift_start": "08:00", "shift_end": "15:00"}),
            ),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "get",
            "/api/v1/vehicles/{code}",
            "/api/v1/vehicles/VAN-A",
            None,
            Some(EVERY_ROLE),
        ),
        rule(
            "patch",
            "/api/v1/vehicles/{code}",
            "/api/v1/vehicles/VAN-A",
            Some(json!({"cost_per_km": 5.0})),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "post",
            "/api/v1/requests",
            "/api/v1/requests",
            Some(json!({"site": "NH-01", "requested_by": "matrix",
                "lines": [{"item": "GLOVE-M", "quantity": 200}]})),
            Some(&[Admin, Logistics, ReporterHere]),
        ),
        rule(
            "get",
            "/api/v1/requests",
            "/api/v1/requests?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/requests/{id}",
            format!("/api/v1/requests/{request}"),
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "post",
            "/api/v1/requests/{id}/cancel",
            format!("/api/v1/requests/{request}/cancel"),
            None,
            Some(&[Admin, Logistics, ReporterHere]),
        ),
        rule(
            "get",
            "/api/v1/replenishment",
            "/api/v1/replenishment?depot=WH",
            None,
            Some(UNSCOPED_READERS),
        ),
        rule(
            "post",
            "/api/v1/delivery-plans",
            "/api/v1/delivery-plans",
            Some(json!({"date": day, "depot": "WH", "time_limit": 0.1,
                "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 20}]})),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "get",
            "/api/v1/delivery-plans",
            "/api/v1/delivery-plans",
            None,
            Some(UNSCOPED_READERS),
        ),
        rule(
            "get",
            "/api/v1/delivery-plans/{id}",
            format!("/api/v1/delivery-plans/{plan}"),
            None,
            Some(UNSCOPED_READERS),
        ),
        rule(
            "get",
            "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
            format!("/api/v1/delivery-plans/{plan}/routes/1/run-sheet"),
            None,
            Some(UNSCOPED_READERS),
        ),
        rule(
            "post",
            "/api/v1/delivery-plans/{id}/dispatch",
            format!("/api/v1/delivery-plans/{plan}/dispatch"),
            Some(json!({"reported_by": "matrix"})),
            Some(&[Admin, Logistics]),
        ),
        rule(
            "post",
            "/api/v1/delivery-plans/{id}/routes/{n}/stops/{k}/receive",
            format!("/api/v1/delivery-plans/{plan}/routes/1/stops/1/receive"),
            Some(json!({"reported_by": "matrix"})),
            Some(&[Admin, Logistics, ReporterHere]),
        ),
        rule(
            "post",
            "/api/v1/delivery-plans/{id}/cancel",
            format!("/api/v1/delivery-plans/{plan}/cancel"),
            None,
            Some(&[Admin, Logistics]),
        ),
        rule(
            "get",
            "/api/v1/movements",
            "/api/v1/movements?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/consumption",
            "/api/v1/consumption?site=NH-01&item=GLOVE-M",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/forecasts",
            "/api/v1/forecasts?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/forecasts/accuracy",
            "/api/v1/forecasts/accuracy?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/supply-status",
            "/api/v1/supply-status?site=NH-01",
            None,
            Some(READERS_OF_NH01),
        ),
        rule(
            "get",
            "/api/v1/supply-status/aggregates",
            "/api/v1/supply-status/aggregates",
            None,
            Some(UNSCOPED_READERS),
        ),
        rule(
            "post",
            "/api/v1/scenarios",
            "/api/v1/scenarios",
            Some(
                json!({"sites": [{"site": "NH-01", "from": "2026-01-01", "to": "2026-01-02",
                "patients": {"mild": 1}}]}),
            ),
            Some(READERS_OF_NH01),
        ),
        rule(
            "post",
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(json!({"name": "matrix", "role": "viewer"})),
            Some(&[Admin]),
        ),
        rule(
            "get",
            "/api/v1/tokens",
            "/api/v1/tokens",
            None,
            Some(&[Admin]),
        ),
        rule("get", "/api/v1/me", "/api/v1/me", None, Some(EVERY_ROLE)),
        rule(
            "post",
            "/api/v1/tokens/{id}/revoke",
            format!("/api/v1/tokens/{spare_token}/revoke"),
            None,
            Some(&[Admin]),
        ),
    ]
}

/// A server with the small world, NH-02 beside NH-01, and a transfer WH → NH-01.
fn world(args: &[&str]) -> Server {
    let s = Server::start_with(args);
    s.seed_small();
    s.create(
        "/api/v1/sites",
        json!({"code": "NH-02", "name": "Second home", "kind": "unit",
            "unit_type": "nursing_home", "latitude": 59.74, "longitude": 10.21}),
    );
    s
}

fn send(client: &Client, s: &Server, method: &str, url: &str, body: Option<&Value>) -> Response {
    let req = match method {
        "get" => client.get(s.url(url)),
        "post" => client.post(s.url(url)),
        "patch" => client.patch(s.url(url)),
        other => panic!("no method {other} in the table"),
    };
    let req = match body {
        // A string is a spreadsheet import: CSV, with a key of its own each time.
        Some(Value::String(csv)) => {
            static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            req.header("content-type", "text/csv")
                .header("Idempotency-Key", format!("access-sheet-{n}"))
                .body(csv.clone())
        }
        Some(b) => req.json(b),
        None => req,
    };
    req.send().expect("request")
}

fn document_operations(s: &Server) -> BTreeSet<(String, String)> {
    let doc = s.get_json("/api-docs/openapi.json");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_operation_answers_every_kind_of_caller_as_the_table_says() {
    // The table makes more failed authentications than the default throttle allows.
    let s = world(&["--auth-failure-limit", "100000"]);
    let transfer = s.create(
        "/api/v1/transfers",
        json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "setup",
            "lines": [{"item": "GLOVE-M", "quantity": 100}]}),
    )["transfer"]["id"]
        .as_i64()
        .unwrap();
    let (revoked_id, revoked) = s.new_token("admin", &[], None);
    assert_eq!(
        s.post(&format!("/api/v1/tokens/{revoked_id}/revoke"), &json!({}))
            .status(),
        200
    );
    let (expired_id, expired) = s.new_token("admin", &[], Some(1));
    s.database().execute(&format!(
        "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00' WHERE id = {expired_id}"
    ));
    let (spare, _) = s.new_token("viewer", &[], None);
    let (_, logistics) = s.new_token("logistics", &[], None);
    let (_, viewer) = s.new_token("viewer", &[], None);
    let (_, here) = s.new_token("reporter", &["NH-01"], None);
    let (_, elsewhere) = s.new_token("reporter", &["NH-02"], None);
    let client = |c: Caller| -> Client {
        let t = match c {
            NoToken => None,
            Revoked => Some(revoked.as_str()),
            Expired => Some(expired.as_str()),
            Admin => Some(s.admin_token.as_str()),
            Logistics => Some(logistics.as_str()),
            Viewer => Some(viewer.as_str()),
            ReporterHere => Some(here.as_str()),
            ReporterElsewhere => Some(elsewhere.as_str()),
        };
        s.client_for(t)
    };
    let cancellable = s.create(
        "/api/v1/transfers",
        json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "setup",
            "lines": [{"item": "GLOVE-M", "quantity": 10}]}),
    )["transfer"]["id"]
        .as_i64()
        .unwrap();
    for sku in ["FFP2", "GLOVE-M"] {
        let r = s.patch(
            &format!("/api/v1/items/{sku}"),
            &json!({"weight_g": 5, "volume_cm3": 20}),
        );
        assert_eq!(r.status(), 200);
    }
    s.create(
        "/api/v1/vehicles",
        json!({"code": "VAN-A", "name": "Van A", "depot": "WH", "capacity_kg": 900,
            "capacity_litres": 7000, "shift_start": "08:00", "shift_end": "15:00"}),
    );
    let day = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"date": day, "depot": "WH", "time_limit": 0.1,
            "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 40}]}),
    )["id"]
        .as_i64()
        .unwrap();
    let request = s.create(
        "/api/v1/requests",
        json!({"site": "NH-01", "requested_by": "setup",
            "lines": [{"item": "FFP2", "quantity": 20}]}),
    )["id"]
        .as_i64()
        .unwrap();
    let rules = table(&Ids {
        transfer,
        spare_token: spare,
        cancellable,
        plan,
        request,
    });

    // The table covers the API document exactly: a new operation fails here until listed.
    let listed: BTreeSet<(String, String)> = rules
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let documented = document_operations(&s);
    let missing: Vec<_> = documented.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "operations missing from the access table: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "table rows for no documented operation: {stale:?}"
    );

    let mut failures = Vec::new();
    for r in &rules {
        for &c in CALLERS {
            let res = send(&client(c), &s, r.method, &r.url, r.body.as_ref());
            let status = res.status().as_u16();
            let what = format!("{} {} as {c:?}", r.method.to_uppercase(), r.url);
            match r.allowed {
                None => {
                    if status != 200 {
                        failures.push(format!("{what}: {status}, expected 200"));
                    }
                }
                Some(_) if matches!(c, NoToken | Revoked | Expired) => {
                    let challenge = res
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    if status != 401 || !challenge.starts_with("Bearer") {
                        failures.push(format!(
                            "{what}: {status} ({challenge:?}), expected 401 Bearer"
                        ));
                    } else {
                        assert_problem(res, 401);
                    }
                }
                Some(allowed) if allowed.contains(&c) => {
                    if status == 401 || status == 403 {
                        let body = res.text().unwrap_or_default();
                        failures.push(format!("{what}: {status} {body}, expected allowed"));
                    }
                }
                Some(_) => {
                    if status != 403 {
                        failures.push(format!("{what}: {status}, expected 403"));
                    } else {
                        assert_problem(res, 403);
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The document says the same, operation by operation.
    let doc = s.get_json("/api-docs/openapi.json");
    for r in &rules {
        let op = &doc["paths"][r.path][r.method];
        match r.allowed {
            None => assert!(op["x-roles"].is_null(), "{} {}", r.method, r.path),
            Some(_) => {
                assert!(op["x-roles"].is_array(), "{} {}", r.method, r.path);
                assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object());
                assert_eq!(op["security"][0]["bearer"], json!([]));
            }
        }
    }
}

/// Balances and ledger of both units, to prove a refused write changed nothing.
fn snapshot(s: &Server) -> Value {
    json!({
        "nh01": s.get_json("/api/v1/sites/NH-01/balances"),
        "nh02": s.get_json("/api/v1/sites/NH-02/balances"),
        "ledger": s.all_movements(""),
    })
}

#[test]
fn a_reporter_acts_and_reads_only_at_its_own_sites_and_is_named_in_the_ledger() {
    let s = world(&[]);
    let (_, here) = s.new_token("reporter", &["NH-01"], None);
    let (_, elsewhere) = s.new_token("reporter", &["NH-02"], None);
    let (here_c, elsewhere_c) = (s.client_for(Some(&here)), s.client_for(Some(&elsewhere)));

    let count = json!({"site": "NH-01", "reported_by": "Kari",
        "lines": [{"item": "GLOVE-M", "counted": 30}]});
    let before = snapshot(&s);
    for path in ["/api/v1/stock-reports", "/api/v1/issues"] {
        let body = if path.ends_with("issues") {
            json!({"site": "NH-01", "reported_by": "Kari", "lines": [{"item": "GLOVE-M", "quantity": 1}]})
        } else {
            count.clone()
        };
        let p = assert_problem(send(&elsewhere_c, &s, "post", path, Some(&body)), 403);
        assert!(p["detail"].as_str().unwrap().contains("NH-01"), "{p}");
    }
    assert_eq!(snapshot(&s), before, "a refused write changed something");

    // At its own site it writes, and the ledger names the token.
    let rec = s
        .client_for(Some(&here))
        .post(s.url("/api/v1/stock-reports"))
        .json(&count)
        .send()
        .unwrap();
    assert_eq!(rec.status(), 201);
    let ledger = s.all_movements("&site=NH-01");
    let m = ledger.last().unwrap();
    assert_eq!(m["reported_by"], "Kari");
    assert_eq!(m["token_name"], "reporter test");
    assert!(m["token_id"].is_i64(), "{m}");
    // Nothing in the ledger holds a secret.
    assert!(!serde_json::to_string(&ledger).unwrap().contains(&here));

    // Reads: its own site yes, another site no, the unfiltered ledger only with `site=`.
    assert_eq!(
        send(&here_c, &s, "get", "/api/v1/sites/NH-01/balances", None).status(),
        200
    );
    assert_problem(
        send(&here_c, &s, "get", "/api/v1/sites/WH/balances", None),
        403,
    );
    assert_problem(send(&here_c, &s, "get", "/api/v1/movements", None), 403);
    assert_problem(
        send(&here_c, &s, "get", "/api/v1/movements?site=WH", None),
        403,
    );
    assert_problem(send(&here_c, &s, "get", "/api/v1/transfers", None), 403);
    // Balances of an item across sites are filtered to its sites.
    let b: Value = send(&here_c, &s, "get", "/api/v1/items/GLOVE-M/balances", None)
        .json()
        .unwrap();
    let sites: BTreeSet<&str> = b
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites, BTreeSet::from(["NH-01"]));
    let all: Value = s.get_json("/api/v1/items/GLOVE-M/balances");
    assert!(all.as_array().unwrap().iter().any(|r| r["site"] == "WH"));

    // A delivery to NH-01: the other unit's reporter cannot confirm it, this one can.
    let t = s.create(
        "/api/v1/transfers",
        json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "logistics",
            "lines": [{"item": "FFP2", "quantity": 10}]}),
    )["transfer"]["id"]
        .as_i64()
        .unwrap();
    let receive = format!("/api/v1/transfers/{t}/receive");
    let body = json!({"reported_by": "Kari"});
    assert_problem(send(&elsewhere_c, &s, "post", &receive, Some(&body)), 403);
    assert_eq!(
        s.get_json(&format!("/api/v1/transfers/{t}"))["status"],
        "dispatched"
    );
    assert_problem(
        send(
            &elsewhere_c,
            &s,
            "get",
            &format!("/api/v1/transfers/{t}"),
            None,
        ),
        403,
    );
    assert_eq!(
        send(&here_c, &s, "post", &receive, Some(&body)).status(),
        200
    );
    let done = s.get_json(&format!("/api/v1/transfers/{t}"));
    assert_eq!(done["dispatched_token_name"], "test admin");
    assert_eq!(done["received_token_name"], "reporter test");
    let tin = s.all_movements("&site=NH-01&kind=transfer_in");
    assert_eq!(tin.last().unwrap()["token_name"], "reporter test");
}

/// A token revoked behind the server's back (by the CLI or another replica) keeps working
/// until the server's token cache rechecks the database, which it does every second.
fn refused_within_a_second(c: &Client, s: &Server, path: &str) {
    let revoked = std::time::Instant::now();
    loop {
        let r = send(c, s, "get", path, None);
        if r.status() == 401 {
            assert_problem(r, 401);
            return;
        }
        assert_eq!(r.status(), 200);
        assert!(
            revoked.elapsed() < std::time::Duration::from_millis(1500),
            "the revoked token still worked {:?} after the revocation",
            revoked.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_token_revoked_by_another_process_is_refused_within_a_second() {
    // The server caches resolved tokens; `ppe token revoke` (or another replica) writes
    // to the database behind its back, and the server must notice by itself.
    let s = world(&[]);
    let (id, secret) = s.new_token("logistics", &[], None);
    let c = s.client_for(Some(&secret));
    assert_eq!(send(&c, &s, "get", "/api/v1/movements", None).status(), 200);
    let out = std::process::Command::new(ppe_tests::binary())
        .args(["token", "revoke", &id.to_string(), "--database-url"])
        .arg(&s.database().url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("ppe token revoke");
    assert!(out.status.success(), "{out:?}");
    refused_within_a_second(&c, &s, "/api/v1/movements");
    // Other tokens keep working.
    assert_eq!(s.get("/api/v1/movements").status(), 200);
}

#[test]
fn a_revoked_token_is_refused_on_the_very_next_request() {
    let s = world(&[]);
    let (id, secret) = s.new_token("logistics", &[], None);
    let c = s.client_for(Some(&secret));
    assert_eq!(send(&c, &s, "get", "/api/v1/movements", None).status(), 200);
    assert_eq!(
        s.post(&format!("/api/v1/tokens/{id}/revoke"), &json!({}))
            .status(),
        200
    );
    let r = send(&c, &s, "get", "/api/v1/movements", None);
    let challenge = r.headers().get("www-authenticate").cloned();
    let p = assert_problem(r, 401);
    assert!(challenge.is_some());
    // The refusal of a revoked token reads like that of a token that never existed.
    let unknown = assert_problem(
        send(
            &s.client_for(Some("ppe_0000")),
            &s,
            "get",
            "/api/v1/movements",
            None,
        ),
        401,
    );
    assert_eq!(p, unknown);
    // Revoking again keeps the first revocation; an unknown id is 404.
    let listed = s.get_json("/api/v1/tokens");
    let t = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap();
    assert!(t["revoked_at"].is_string(), "{t}");
    assert_problem(s.post("/api/v1/tokens/999999/revoke", &json!({})), 404);
}

#[test]
fn the_cli_creates_lists_and_revokes_tokens() {
    let s = world(&[]);
    let url = s.database().url.clone();
    let secret = create_token_cli(&url, "reporter", "Nursing home tablet", &["NH-01"]);
    let c = s.client_for(Some(&secret));
    assert_eq!(
        send(&c, &s, "get", "/api/v1/sites/NH-01/balances", None).status(),
        200
    );
    let run = |args: &[&str]| {
        let out = std::process::Command::new(ppe_tests::binary())
            .args(args)
            .args(["--database-url", &url])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = run(&["token", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains("Nursing home tablet"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.contains("reporter") && line.contains("NH-01"),
        "{line}"
    );
    assert!(!list.contains(&secret));
    let id = line.split('\t').next().unwrap();
    run(&["token", "revoke", id]);
    refused_within_a_second(&c, &s, "/api/v1/sites/NH-01/balances");
    // A reporter needs a site.
    let out = std::process::Command::new(ppe_tests::binary())
        .args([
            "token",
            "create",
            "--role",
            "reporter",
            "--name",
            "x",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sites"));
}

#[test]
fn repeated_bad_tokens_from_one_address_are_slowed_down() {
    let s = Server::start_with(&["--auth-failure-limit", "5"]);
    // Calls without any token are not failed authentications.
    for _ in 0..8 {
        assert_problem(s.anon.get(s.url("/api/v1/items")).send().unwrap(), 401);
    }
    let bad = s.client_for(Some("ppe_not-a-token"));
    for _ in 0..5 {
        assert_problem(bad.get(s.url("/api/v1/items")).send().unwrap(), 401);
    }
    let r = bad.get(s.url("/api/v1/items")).send().unwrap();
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_problem(r, 429);
    // While throttled, the address cannot try tokens at all, good or bad.
    assert_problem(s.get("/api/v1/items"), 429);
    // Health checks need no token and are never throttled.
    assert_eq!(s.anon.get(s.url("/healthz")).send().unwrap().status(), 200);
}

#[test]
fn no_token_secret_is_stored_in_the_database() {
    let s = world(&[]);
    let cli = create_token_cli(&s.database().url, "viewer", "secret-check cli", &[]);
    let created = s.create(
        "/api/v1/tokens",
        json!({"name": "secret-check api", "role": "reporter", "sites": ["NH-01"]}),
    );
    let api = created["secret"].as_str().unwrap().to_owned();
    // Use them, so last-use times are written too.
    for t in [&cli, &api, &s.admin_token] {
        let c = s.client_for(Some(t));
        assert_eq!(
            send(&c, &s, "get", "/api/v1/sites/NH-01/balances", None).status(),
            200
        );
    }
    let listed = s.get("/api/v1/tokens").text().unwrap();
    let dump = s.database().dump();
    assert!(
        dump.contains("secret-check api"),
        "the dump misses the tokens"
    );
    for secret in [&cli, &api, &s.admin_token] {
        let random = secret.trim_start_matches("ppe_");
        assert!(random.len() >= 32, "{secret}");
        assert!(!dump.contains(random), "a token secret is stored");
        assert!(!listed.contains(random), "a token secret is listed");
    }
}

#[test]
fn without_a_token_nothing_of_the_api_answers_but_401() {
    let s = Server::start();
    // Not even a malformed body or an unknown path gets past authentication.
    let r = s
        .anon
        .post(s.url("/api/v1/issues"))
        .header("content-type", "text/plain")
        .body("{not json")
        .send()
        .unwrap();
    assert_problem(r, 401);
    assert_problem(
        s.anon.get(s.url("/api/v1/no-such-thing")).send().unwrap(),
        401,
    );
    assert_problem(s.get("/api/v1/no-such-thing"), 404);
    // The public endpoints.
    for path in [
        "/healthz",
        "/readyz",
        "/api-docs/openapi.json",
        "/swagger-ui/",
    ] {
        assert_eq!(
            s.anon.get(s.url(path)).send().unwrap().status(),
            200,
            "{path}"
        );
    }
    // A scheme other than Bearer is a 401 too.
    let r = s
        .anon
        .get(s.url("/api/v1/items"))
        .basic_auth("admin", Some(&s.admin_token))
        .send()
        .unwrap();
    assert_problem(r, 401);
}

#[test]
fn me_tells_a_token_its_role_sites_and_permissions() {
    let s = world(&[]);
    let (id, reporter) = s.new_token("reporter", &["NH-01"], None);
    let me: Value = send(
        &s.client_for(Some(&reporter)),
        &s,
        "get",
        "/api/v1/me",
        None,
    )
    .json()
    .unwrap();
    assert_eq!(me["token_id"], id);
    assert_eq!(me["role"], "reporter");
    assert_eq!(me["sites"], json!(["NH-01"]));
    let granted = |m: &Value, p: &str| m["permissions"].as_array().unwrap().iter().any(|x| x == p);
    assert!(granted(&me, "report_stock"));
    assert!(!granted(&me, "manage_tokens"));
    let (_, viewer) = s.new_token("viewer", &[], None);
    let me: Value = send(&s.client_for(Some(&viewer)), &s, "get", "/api/v1/me", None)
        .json()
        .unwrap();
    assert_eq!(me["sites"], Value::Null);
    assert_eq!(me["permissions"], json!(["read_catalogue", "read_stock"]));
}
