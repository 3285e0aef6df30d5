//! What the server enforces, written into the API document so that a request the
//! document allows is one the server accepts, and a status the server can answer is
//! one the document lists.
//!
//! Rules that hold for every field of a kind are applied here, from the same source
//! the server checks them with: the text policy ([`ppe_domain::text`]) gives every
//! request string its pattern, the code rule gives codes theirs, the query policy
//! (empty values refused) gives query strings `minLength`, the Idempotency-Key rule
//! its pattern; and the statuses the shared extractors and middleware answer with are
//! added to every operation they apply to. Field-specific limits (lengths, ranges,
//! list sizes) are listed in `field_rules` and `parameter_rules`, next to the domain
//! constants they come from.

use crate::problem::PROBLEM_JSON;
use ppe_domain::text;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Fields that define a code, with their longest length. Everything else that names a
/// site or item refers to one, and an unknown reference is a 404, not a refusal.
const CODE_FIELDS: &[(&str, &str, usize)] = &[
    ("NewItem", "sku", text::SKU_MAX),
    ("NewSite", "code", text::CODE_MAX),
    ("NewVehicle", "code", text::CODE_MAX),
];

/// Limits of single fields, as the domain's validators check them: (schema, property,
/// JSON Schema keywords merged into the property).
fn field_rules() -> Vec<(&'static str, &'static str, Value)> {
    use ppe_domain::commands::MAX_LINES;
    use ppe_domain::stock::MAX_LINE_QUANTITY as Q;
    let clock = json!({ "pattern": CLOCK_PATTERN });
    let lines = json!({ "minItems": 1, "maxItems": MAX_LINES });
    let len = |n: usize| json!({ "maxLength": n });
    let range = |lo: f64, hi: f64| json!({ "minimum": lo, "maximum": hi });
    let above = |hi: f64| json!({ "exclusiveMinimum": 0, "maximum": hi });
    use crate::handlers::routing;
    // `[lon, lat]`, a `[start, end]` of seconds, and amounts in 1 to 8 dimensions.
    let point = json!({ "minItems": 2, "maxItems": 2, "prefixItems": [
        { "minimum": -180, "maximum": 180 },
        { "minimum": -90, "maximum": 90 }
    ] });
    let seconds_pair = json!({ "minItems": 2, "maxItems": 2,
        "items": { "minimum": 0, "maximum": routing::MAX_SECONDS } });
    let amounts = json!({ "minItems": 1, "maxItems": 8,
        "items": { "minimum": 0, "maximum": routing::MAX_AMOUNT } });
    let mut rules = vec![
        (
            "CountLine",
            "counted",
            json!({ "minimum": 0, "maximum": Q }),
        ),
        ("CountLine", "item", len(text::SKU_MAX)),
        ("CountLine", "lot", len(64)),
        (
            "QuantityLine",
            "quantity",
            json!({ "minimum": 1, "maximum": Q }),
        ),
        ("QuantityLine", "item", len(text::SKU_MAX)),
        ("QuantityLine", "lot", len(64)),
        (
            "ReceiptLine",
            "quantity",
            json!({ "minimum": 1, "maximum": Q }),
        ),
        ("ReceiptLine", "item", len(text::SKU_MAX)),
        ("ReceiptLine", "lot", len(64)),
        (
            "RequestLine",
            "quantity",
            json!({ "minimum": 1, "maximum": Q }),
        ),
        ("RequestLine", "item", len(text::SKU_MAX)),
        (
            "ExplicitLine",
            "quantity",
            json!({ "minimum": 1, "maximum": Q }),
        ),
        ("ExplicitLine", "site", len(text::CODE_MAX)),
        ("ExplicitLine", "item", len(text::SKU_MAX)),
        (
            "Override",
            "quantity",
            json!({ "minimum": 0, "maximum": Q }),
        ),
        ("Override", "site", len(text::CODE_MAX)),
        ("Override", "item", len(text::SKU_MAX)),
        (
            "ReceivedLine",
            "received",
            json!({ "minimum": 0, "maximum": Q }),
        ),
        (
            "ReceivedLine",
            "line",
            json!({ "minimum": 0, "maximum": MAX_LINES }),
        ),
        ("ReceivedLine", "note", len(500)),
        ("ReceiveTransfer", "lines", json!({ "maxItems": MAX_LINES })),
        ("ReceiveTransfer", "reported_by", len(100)),
        ("CancelTransfer", "reported_by", len(100)),
        ("CancelTransfer", "reason", len(500)),
        ("DispatchPlan", "reported_by", len(100)),
        ("NewSupplyRequest", "site", len(text::CODE_MAX)),
        ("NewSupplyRequest", "requested_by", len(100)),
        ("NewSupplyRequest", "reason", len(500)),
        ("NewSupplyRequest", "lines", lines.clone()),
        ("Receipt", "reference", len(100)),
        ("NewDeliveryPlan", "depot", len(text::CODE_MAX)),
        (
            "NewDeliveryPlan",
            "vehicles",
            json!({ "minItems": 1, "items": { "maxLength": text::CODE_MAX } }),
        ),
        (
            "NewDeliveryPlan",
            "lines",
            json!({ "minItems": 1, "maxItems": 10_000 }),
        ),
        (
            "NewDeliveryPlan",
            "overrides",
            json!({ "maxItems": 10_000 }),
        ),
        (
            "NewDeliveryPlan",
            "time_limit",
            above(crate::planning::MAX_TIME_LIMIT),
        ),
        ("NewDeliveryPlan", "min_shelf_days", range(0.0, 3650.0)),
        ("NewDeliveryPlan", "replaces", json!({ "minimum": 1 })),
        ("NewToken", "name", len(100)),
        (
            "NewToken",
            "sites",
            json!({ "items": { "maxLength": text::CODE_MAX } }),
        ),
        (
            "NewToken",
            "expires_in_days",
            range(1.0, ppe_domain::access::MAX_EXPIRY_DAYS as f64),
        ),
        (
            "OpeningWindow",
            "weekdays",
            json!({ "minItems": 1, "maxItems": 7, "uniqueItems": true,
                    "items": { "minimum": 1, "maximum": 7 } }),
        ),
        ("OpeningWindow", "opens", clock.clone()),
        ("OpeningWindow", "closes", clock.clone()),
        ("Patients", "mild", range(0.0, 100_000.0)),
        ("Patients", "severe", range(0.0, 100_000.0)),
        ("Patients", "critical", range(0.0, 100_000.0)),
        ("SiteDrivers", "staff", range(0.0, 100_000.0)),
        ("SiteDrivers", "site", len(text::CODE_MAX)),
        ("ScenarioRequest", "sites", json!({ "minItems": 1 })),
        ("UsageRate", "mild", range(0.0, 1e6)),
        ("UsageRate", "severe", range(0.0, 1e6)),
        ("UsageRate", "critical", range(0.0, 1e6)),
        ("UsageRate", "staff", range(0.0, 1e6)),
        ("VehicleIn", "id", json!({ "maximum": routing::MAX_ID })),
        ("VehicleIn", "start", point.clone()),
        ("VehicleIn", "end", point.clone()),
        ("VehicleIn", "capacity", amounts.clone()),
        ("VehicleIn", "time_window", seconds_pair.clone()),
        (
            "VehicleIn",
            "max_travel_time",
            json!({ "minimum": 1, "maximum": routing::MAX_SECONDS }),
        ),
        ("VehicleIn", "max_trips", range(1.0, 4.0)),
        (
            "VehicleIn",
            "reload_time",
            json!({ "minimum": 0, "maximum": routing::MAX_SECONDS }),
        ),
        (
            "VehicleIn",
            "fixed_cost",
            json!({ "minimum": 0, "maximum": routing::MAX_AMOUNT }),
        ),
        ("JobIn", "id", json!({ "maximum": routing::MAX_ID })),
        ("JobIn", "location", point),
        ("JobIn", "delivery", amounts),
        (
            "JobIn",
            "service",
            json!({ "minimum": 0, "maximum": routing::MAX_SECONDS }),
        ),
        ("JobIn", "time_windows", json!({ "items": seconds_pair })),
        ("JobIn", "priority", json!({ "minimum": 0, "maximum": 100 })),
        (
            "MatrixIn",
            "durations",
            json!({ "items": { "items": { "minimum": 0 } } }),
        ),
        (
            "MatrixIn",
            "distances",
            json!({ "items": { "items": { "minimum": 0 } } }),
        ),
        ("OptionsIn", "time_limit", above(routing::MAX_TIME_LIMIT)),
        ("OptionsIn", "road_factor", range(1.0, 5.0)),
        ("OptionsIn", "speed_kmh", range(1.0, 200.0)),
        ("OptionsIn", "threads", json!({ "minimum": 1 })),
        (
            "RoutingRequest",
            "vehicles",
            json!({ "minItems": 1, "maxItems": 200 }),
        ),
        ("RoutingRequest", "jobs", json!({ "maxItems": 2000 })),
    ];
    for header in ["StockReport", "Receipt", "IssueReport", "Discard"] {
        rules.push((header, "site", len(text::CODE_MAX)));
        rules.push((header, "reported_by", len(100)));
        rules.push((header, "lines", lines.clone()));
    }
    rules.push(("Dispatch", "from_site", len(text::CODE_MAX)));
    rules.push(("Dispatch", "to_site", len(text::CODE_MAX)));
    rules.push(("Dispatch", "reported_by", len(100)));
    rules.push(("Dispatch", "lines", lines));
    for item in ["NewItem", "ItemPatch"] {
        rules.push((item, "name", len(200)));
        rules.push((item, "pack_size", range(1.0, 1e6)));
        rules.push((
            item,
            "gtin",
            json!({ "pattern": "^([0-9]{8}|[0-9]{12,14})$" }),
        ));
        rules.push((item, "standard", len(100)));
        rules.push((item, "shelf_life_days", range(1.0, 36_500.0)));
        rules.push((item, "volume_cm3", above(1e6)));
        rules.push((item, "weight_g", above(1e6)));
    }
    for site in ["NewSite", "SitePatch"] {
        rules.push((site, "name", len(200)));
        rules.push((site, "district", len(100)));
        rules.push((site, "address", len(300)));
        rules.push((site, "latitude", range(-90.0, 90.0)));
        rules.push((site, "longitude", range(-180.0, 180.0)));
        rules.push((site, "priority_tier", range(1.0, 4.0)));
        rules.push((site, "lead_time_days", range(0.0, 60.0)));
    }
    for vehicle in ["NewVehicle", "VehiclePatch"] {
        rules.push((vehicle, "name", len(200)));
        rules.push((vehicle, "depot", len(text::CODE_MAX)));
        rules.push((vehicle, "capacity_kg", above(100_000.0)));
        rules.push((vehicle, "capacity_litres", above(1_000_000.0)));
        rules.push((vehicle, "capacity_pallets", range(1.0, 100.0)));
        rules.push((vehicle, "shift_start", clock.clone()));
        rules.push((vehicle, "shift_end", clock.clone()));
        rules.push((vehicle, "max_driving_minutes", range(1.0, 1440.0)));
        rules.push((vehicle, "cost_per_km", range(0.0, 10_000.0)));
        rules.push((vehicle, "cost_per_hour", range(0.0, 100_000.0)));
        rules.push((vehicle, "fixed_cost_per_day", range(0.0, 1_000_000.0)));
        rules.push((vehicle, "max_trips", range(1.0, 4.0)));
    }
    rules
}

/// Limits of query and path parameters, as the handlers check them: (path, name,
/// keywords merged into the parameter's schema).
fn parameter_rules() -> Vec<(&'static str, &'static str, Value)> {
    let page = |max: i64| json!({ "minimum": 1, "maximum": max });
    let id = json!({ "minimum": 1 });
    let date = json!({ "format": "date" });
    // A comma-separated list as `forecasts::list` reads it: values with spaces around
    // them, empty ones dropped, each one of `values`.
    let list_of = |values: Vec<&str>| {
        let one = format!("( *({})? *)", values.join("|"));
        json!({ "pattern": format!("^{one}(,{one})*$") })
    };
    let categories = ppe_domain::catalogue::Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let bands = ppe_domain::supply::Band::ALL
        .iter()
        .map(|b| b.as_str())
        .collect();
    let mut rules = vec![
        ("/api/v1/supply-status", "category", list_of(categories)),
        ("/api/v1/supply-status", "band", list_of(bands)),
        (
            "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
            "format",
            json!({ "enum": ["html", "csv"] }),
        ),
        (
            "/api/v1/movements",
            "cursor",
            json!({ "pattern": "^[0-9]{1,18}$" }),
        ),
        ("/api/v1/audit", "limit", page(500)),
        ("/api/v1/delivery-plans", "limit", page(100)),
        ("/api/v1/discrepancies", "limit", page(500)),
        (
            "/api/v1/movements",
            "limit",
            page(crate::handlers::movements::MAX_LIMIT),
        ),
        ("/api/v1/requests", "limit", page(500)),
        ("/api/v1/transfers", "limit", page(500)),
        ("/api/v1/supply-status", "limit", page(10_000)),
        (
            "/api/v1/supply-status",
            "offset",
            json!({ "minimum": 0, "maximum": 1_000_000_000 }),
        ),
        (
            "/api/v1/forecasts",
            "limit",
            page(crate::handlers::forecasts::FORECAST_PAGE),
        ),
        (
            "/api/v1/forecasts",
            "offset",
            json!({ "minimum": 0, "maximum": 1_000_000_000 }),
        ),
        ("/api/v1/consumption", "from", date.clone()),
        ("/api/v1/consumption", "to", date),
        (
            "/api/v1/forecasts",
            "horizon",
            json!({ "type": "integer", "minimum": 1, "maximum": crate::forecasting::compute::DEFAULT_HORIZON_DAYS }),
        ),
    ];
    for path in [
        "/api/v1/delivery-plans/{id}",
        "/api/v1/delivery-plans/{id}/cancel",
        "/api/v1/delivery-plans/{id}/dispatch",
        "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
        "/api/v1/delivery-plans/{id}/routes/{n}/stops/{k}/receive",
        "/api/v1/requests/{id}",
        "/api/v1/requests/{id}/cancel",
        "/api/v1/tokens/{id}/revoke",
        "/api/v1/transfers/{id}",
        "/api/v1/transfers/{id}/cancel",
        "/api/v1/transfers/{id}/receive",
    ] {
        rules.push((path, "id", id.clone()));
    }
    rules
}

/// Links from an answer to the operations that take what it holds (OpenAPI 3.1 §4.8.20),
/// so a client — or a stateful fuzzer — can follow a created resource: (path and
/// method that create, status, target path and method, parameter, runtime expression).
type LinkRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const LINKS: &[LinkRule] = &[
    (
        "/api/v1/requests",
        "post",
        "201",
        "/api/v1/requests/{id}",
        "get",
        &[("id", "$response.body#/id")],
    ),
    (
        "/api/v1/requests",
        "post",
        "201",
        "/api/v1/requests/{id}/cancel",
        "post",
        &[("id", "$response.body#/id")],
    ),
    (
        "/api/v1/transfers",
        "post",
        "201",
        "/api/v1/transfers/{id}",
        "get",
        &[("id", "$response.body#/transfer_id")],
    ),
    (
        "/api/v1/transfers",
        "post",
        "201",
        "/api/v1/transfers/{id}/receive",
        "post",
        &[("id", "$response.body#/transfer_id")],
    ),
    (
        "/api/v1/transfers",
        "post",
        "201",
        "/api/v1/transfers/{id}/cancel",
        "post",
        &[("id", "$response.body#/transfer_id")],
    ),
    (
        "/api/v1/delivery-plans",
        "post",
        "201",
        "/api/v1/delivery-plans/{id}",
        "get",
        &[("id", "$response.body#/id")],
    ),
    (
        "/api/v1/delivery-plans",
        "post",
        "201",
        "/api/v1/delivery-plans/{id}/cancel",
        "post",
        &[("id", "$response.body#/id")],
    ),
    (
        "/api/v1/delivery-plans",
        "post",
        "201",
        "/api/v1/delivery-plans/{id}/dispatch",
        "post",
        &[("id", "$response.body#/id")],
    ),
    (
        "/api/v1/sites",
        "post",
        "201",
        "/api/v1/sites/{code}",
        "get",
        &[("code", "$response.body#/code")],
    ),
    (
        "/api/v1/sites",
        "post",
        "201",
        "/api/v1/sites/{code}",
        "patch",
        &[("code", "$response.body#/code")],
    ),
    (
        "/api/v1/items",
        "post",
        "201",
        "/api/v1/items/{sku}",
        "get",
        &[("sku", "$response.body#/sku")],
    ),
    (
        "/api/v1/items",
        "post",
        "201",
        "/api/v1/items/{sku}",
        "patch",
        &[("sku", "$response.body#/sku")],
    ),
    (
        "/api/v1/vehicles",
        "post",
        "201",
        "/api/v1/vehicles/{code}",
        "get",
        &[("code", "$response.body#/code")],
    ),
    (
        "/api/v1/vehicles",
        "post",
        "201",
        "/api/v1/vehicles/{code}",
        "patch",
        &[("code", "$response.body#/code")],
    ),
    (
        "/api/v1/delivery-plans",
        "post",
        "201",
        "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
        "get",
        &[("id", "$response.body#/id"), ("n", "1")],
    ),
    (
        "/api/v1/delivery-plans",
        "post",
        "201",
        "/api/v1/delivery-plans/{id}/routes/{n}/stops/{k}/receive",
        "post",
        &[("id", "$response.body#/id"), ("n", "1"), ("k", "1")],
    ),
    (
        "/api/v1/delivery-plans",
        "get",
        "200",
        "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
        "get",
        &[("id", "$response.body#/0/id"), ("n", "1")],
    ),
];

fn add_links(doc: &mut Value) {
    for &(path, method, status, target, target_method, params) in LINKS {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        );
        let Some(response) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
            continue;
        };
        let name = format!(
            "{}{}",
            target_method,
            target
                .trim_start_matches("/api/v1")
                .replace(['/', '{', '}'], "_")
        );
        let operation_ref = format!(
            "#/paths/{}/{target_method}",
            target.replace('~', "~0").replace('/', "~1")
        );
        let links = response
            .entry("links")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(links) = links {
            // A parameter is a runtime expression (`$response…`) or a constant.
            let parameters: Map<String, Value> = params
                .iter()
                .map(|&(p, e)| {
                    let v = if e.starts_with('$') {
                        json!(e)
                    } else {
                        e.parse::<i64>().map_or_else(|_| json!(e), |n| json!(n))
                    };
                    (p.to_owned(), v)
                })
                .collect();
            links.insert(
                name,
                json!({ "operationRef": operation_ref, "parameters": parameters }),
            );
        }
    }
}

/// A local time `HH:MM`.
pub const CLOCK_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// Merges `extra` into `target`, object into object.
fn merge(target: &mut Value, extra: &Value) {
    match (target, extra) {
        (Value::Object(t), Value::Object(e)) => {
            for (k, v) in e {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, e) => *t = e.clone(),
    }
}

/// The Idempotency-Key header: 1–200 visible ASCII characters (see `extract`).
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,200}$";

pub fn constrain(doc: &mut Value) {
    let request_schemas = request_schema_names(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (schema, property, rule) in field_rules() {
            if let Some(p) = schemas
                .get_mut(schema)
                .and_then(|s| s.get_mut("properties"))
                .and_then(|p| p.get_mut(property))
            {
                merge(p, &rule);
            }
        }
        for (name, schema) in schemas.iter_mut() {
            if request_schemas.contains(name) {
                constrain_schema(name, schema);
            }
        }
    }
    add_links(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            constrain_operation(path, op);
        }
    }
}

fn is_plain_string(s: &Map<String, Value>) -> bool {
    let string = match s.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    string
        && !["enum", "format", "pattern", "const", "$ref"]
            .iter()
            .any(|k| s.contains_key(*k))
}

/// Every string of a request schema keeps the text policy and holds something besides
/// white space (the server trims and refuses blanks); codes keep the code rule.
fn constrain_schema(name: &str, schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        for (field, prop) in props.iter_mut() {
            if let Some(&(_, _, max)) = CODE_FIELDS
                .iter()
                .find(|(s, f, _)| *s == name && f == field)
                && let Some(p) = prop.as_object_mut()
            {
                p.insert("pattern".into(), json!(text::code_pattern()));
                p.insert("maxLength".into(), json!(max));
                continue;
            }
            constrain_strings(prop);
        }
    }
    for key in ["items", "oneOf", "anyOf", "allOf"] {
        if let Some(v) = obj.get_mut(key) {
            constrain_strings(v);
        }
    }
}

fn constrain_strings(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if is_plain_string(o) {
                o.insert("pattern".into(), json!(text::required_text_pattern()));
            }
            for (key, inner) in o.iter_mut() {
                match key.as_str() {
                    "items" | "oneOf" | "anyOf" | "allOf" => constrain_strings(inner),
                    "properties" => {
                        if let Some(props) = inner.as_object_mut() {
                            props.values_mut().for_each(constrain_strings);
                        }
                    }
                    _ => {}
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(constrain_strings),
        _ => {}
    }
}

/// Names of the component schemas a request body can hold, directly or through others.
fn request_schema_names(doc: &Value) -> BTreeSet<String> {
    fn refs(v: &Value, doc: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(o) => {
                for (k, inner) in o {
                    if k == "$ref" {
                        if let Some(name) = inner
                            .as_str()
                            .and_then(|r| r.strip_prefix("#/components/schemas/"))
                            && out.insert(name.to_owned())
                            && let Some(s) = doc.pointer(&format!("/components/schemas/{name}"))
                        {
                            refs(s, doc, out);
                        }
                    } else {
                        refs(inner, doc, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, doc, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values().filter_map(Value::as_object) {
            for op in item.values() {
                if let Some(body) = op.get("requestBody") {
                    refs(body, doc, &mut out);
                }
            }
        }
    }
    out
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn constrain_operation(path: &str, op: &mut Value) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    let has_body = op.contains_key("requestBody");
    let mut has_query = false;
    let mut has_path = false;
    let mut has_key = false;
    let rules = parameter_rules();
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let location = p.get("in").and_then(Value::as_str).unwrap_or("").to_owned();
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            for (_, _, rule) in rules.iter().filter(|(pa, n, _)| *pa == path && *n == name) {
                if let Some(schema) = p.get_mut("schema") {
                    merge(schema, rule);
                }
            }
            match location.as_str() {
                "query" => has_query = true,
                "path" => has_path = true,
                _ => {}
            }
            if location == "header" && name.eq_ignore_ascii_case("Idempotency-Key") {
                has_key = true;
                p["schema"] = json!({ "type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN });
                continue;
            }
            let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else {
                continue;
            };
            let string = schema.get("type").and_then(Value::as_str) == Some("string");
            let free = !["enum", "format", "$ref"]
                .iter()
                .any(|k| schema.contains_key(*k));
            if string && free && (location == "query" || location == "path") {
                // Empty values are refused (see `routes::check_path_and_query`).
                schema.insert("minLength".into(), json!(1));
                schema
                    .entry("pattern")
                    .or_insert_with(|| json!(text::text_pattern()));
            }
        }
    }
    let protected = op.contains_key("security");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if has_body {
        add("400", "Malformed JSON");
        add("413", "Body too large");
        add("415", "Content-Type is not application/json");
        add(
            "422",
            "A field breaks a rule; the problem names each one in `errors`",
        );
        add(
            "409",
            "The request contradicts stored state (stock, a state, an inactive site or item); the problem says what",
        );
    }
    if has_query || has_path {
        add(
            "400",
            "A path or query parameter does not parse, is out of range, empty or holds a refused character; the problem names it",
        );
    }
    if has_body || has_query || has_path {
        add(
            "404",
            "Something the request names does not exist; the problem names the field",
        );
    }
    if has_key {
        add("400", "Malformed JSON or Idempotency-Key");
        add(
            "422",
            "A field breaks a rule, or the Idempotency-Key was used for another request",
        );
    }
    if protected || path == "/readyz" {
        add(
            "503",
            "The database cannot be reached; retry after `Retry-After` seconds",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn sample_chars() -> impl Iterator<Item = char> {
        (0u32..0x3000)
            .chain(0xFE00..0x10000)
            .filter_map(char::from_u32)
    }

    #[test]
    fn the_text_pattern_refuses_exactly_what_the_server_refuses() {
        let re = Regex::new(&text::text_pattern()).unwrap();
        for c in sample_chars() {
            let s = format!("a{c}b");
            assert_eq!(
                re.is_match(&s),
                text::check(&s).is_ok(),
                "U+{:04X}",
                c as u32
            );
        }
        let required = Regex::new(&text::required_text_pattern()).unwrap();
        for s in ["", "  ", "\u{3000}", " x ", "Per", "a\u{0}"] {
            let server = text::check(s).is_ok() && !s.trim().is_empty();
            assert_eq!(required.is_match(s), server, "{s:?}");
        }
    }

    #[test]
    fn the_code_pattern_accepts_exactly_the_codes_the_server_stores() {
        let re = Regex::new(&text::code_pattern()).unwrap();
        for c in sample_chars() {
            for s in [format!("A{c}1"), format!("{c}"), format!("{c}-9")] {
                let server = text::normalise_code(&s, 32).is_ok_and(|n| n == s);
                assert_eq!(re.is_match(&s), server, "{s:?}");
            }
        }
    }

    #[test]
    fn every_operation_lists_what_its_extractors_answer() {
        let doc = serde_json::to_value(crate::openapi::document()).unwrap();
        let post = &doc["paths"]["/api/v1/stock-reports"]["post"]["responses"];
        for s in ["400", "404", "413", "415", "422", "503"] {
            assert!(post[s].is_object(), "{s}");
        }
        let get = &doc["paths"]["/api/v1/movements"]["get"];
        assert!(get["responses"]["400"].is_object());
        let site = get["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "site")
            .unwrap();
        assert_eq!(site["schema"]["minLength"], 1);
        for (schema, property, _) in field_rules() {
            assert!(
                doc["components"]["schemas"][schema]["properties"][property].is_object(),
                "{schema}.{property} is not in the document"
            );
        }
        for &(path, method, status, target, target_method, _) in LINKS {
            let responses = &doc["paths"][path][method]["responses"][status];
            let links = responses["links"].as_object().expect("links");
            let pointer = format!("#/paths/{}/{target_method}", target.replace('/', "~1"));
            assert!(
                links
                    .values()
                    .any(|l| l["operationRef"] == pointer.as_str()),
                "{method} {path} -> {target_method} {target}"
            );
            assert!(doc["paths"][target][target_method].is_object(), "{target}");
        }
        let sku = &doc["components"]["schemas"]["NewItem"]["properties"]["sku"];
        assert_eq!(sku["pattern"], text::code_pattern());
        let by = &doc["components"]["schemas"]["StockReport"]["properties"]["reported_by"];
        assert_eq!(by["pattern"], text::required_text_pattern());
    }
}
