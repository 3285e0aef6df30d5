//! `/metrics`: Prometheus text that a real parser reads, counting exactly what was asked.

use ppe_tests::Server;
use serde_json::json;

/// One sample: its full name (`…_total`, `…_count`), labels and value.
type Sample = (String, Vec<(String, String)>, f64);

fn scrape(s: &Server) -> Vec<Sample> {
    let r = s.anon.get(s.url("/metrics")).send().unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = r.text().unwrap();
    let (rest, families) = nom_openmetrics::parser::openmetrics(&text)
        .unwrap_or_else(|e| panic!("not OpenMetrics text: {e:?}\n{text}"));
    assert!(rest.trim().is_empty(), "unparsed: {rest}");
    families
        .iter()
        .flat_map(|f| &f.samples)
        .map(|x| {
            let labels = x
                .labels()
                .iter()
                .map(|l| (l.name.to_owned(), l.value.clone()))
                .collect();
            (x.name().to_owned(), labels, x.number())
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include every `labels` pair.
fn value(s: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    s.iter()
        .filter(|(n, _, _)| n == name)
        .filter(|(_, l, _)| {
            labels
                .iter()
                .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

fn has_label(s: &[Sample], name: &str, key: &str, value: &str) -> bool {
    s.iter()
        .any(|(n, l, _)| n == name && l.iter().any(|(a, b)| a == key && b == value))
}

#[test]
fn metrics_count_exactly_the_requests_made() {
    let s = Server::start_with(&[]);
    let items = [
        ("method", "GET"),
        ("route", "/api/v1/items"),
        ("status", "200"),
    ];
    let missing = [
        ("method", "GET"),
        ("route", "/api/v1/items/{sku}"),
        ("status", "404"),
    ];
    let before = scrape(&s);
    for _ in 0..7 {
        assert_eq!(s.get("/api/v1/items").status(), 200);
    }
    for _ in 0..2 {
        assert_eq!(s.get("/api/v1/items/NO-SUCH-SKU").status(), 404);
    }
    let after = scrape(&s);
    let rose = |labels: &[(&str, &str)]| {
        value(&after, "ppe_http_requests_total", labels)
            - value(&before, "ppe_http_requests_total", labels)
    };
    assert_eq!(rose(&items), 7.0);
    assert_eq!(rose(&missing), 2.0);
    // Paths that match no route share one series instead of one per path.
    assert_eq!(s.get("/no/such/path").status(), 404);
    let later = scrape(&s);
    assert_eq!(
        value(&later, "ppe_http_requests_total", &[("route", "unmatched")])
            - value(&after, "ppe_http_requests_total", &[("route", "unmatched")]),
        1.0
    );
    assert!(!has_label(
        &later,
        "ppe_http_requests_total",
        "route",
        "/no/such/path"
    ));
    // The latency histogram saw the same requests.
    let seen = |s: &[Sample]| {
        value(
            s,
            "ppe_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/api/v1/items")],
        )
    };
    assert_eq!(seen(&after) - seen(&before), 7.0);

    // A write goes through a group commit; nothing stays queued once it is answered.
    let groups = value(&after, "ppe_ledger_group_writes_count", &[]);
    s.create(
        "/api/v1/sites",
        json!({"code": "M-01", "name": "Metrics unit", "kind": "unit", "unit_type": "nursing_home",
               "district": "Bragernes", "latitude": 59.745, "longitude": 10.2}),
    );
    s.create(
        "/api/v1/items",
        json!({"sku": "M-GLOVE", "name": "Gloves", "category": "gloves", "base_unit": "piece", "pack_size": 100}),
    );
    let r = s.post_with_key(
        "/api/v1/stock-reports",
        "metrics-count-1",
        &json!({"site": "M-01", "reported_by": "Kari", "lines": [{"item": "M-GLOVE", "counted": 40}]}),
    );
    assert_eq!(r.status(), 201);
    let last = scrape(&s);
    assert!(value(&last, "ppe_ledger_group_writes_count", &[]) >= groups + 1.0);
    // The forecast refresher may be writing too: the gauge comes back to 0 when it is done.
    let started = std::time::Instant::now();
    while value(&scrape(&s), "ppe_ledger_writes_queued", &[]) != 0.0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "writes still queued"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for band in ["red", "amber", "green", "no_demand"] {
        assert!(
            has_label(&last, "ppe_units", "band", band),
            "no ppe_units for {band}"
        );
    }
    assert!(value(&last, "ppe_db_read_pool_connections", &[("state", "max")]) >= 1.0);
}
