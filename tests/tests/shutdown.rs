//! A clean shutdown under load, on the backend the suite runs on: SIGTERM stops new
//! connections, every request already accepted is answered (2xx, or 503 when its
//! write could no longer be made), and every acknowledged write is in the database.

use ppe_persistence::testing::query_count_at;
use ppe_tests::load::{self, Ended, Plan};
use ppe_tests::{Server, assert_check_passes};
use serde_json::json;
use std::time::{Duration, Instant};

/// A request sent this long before the signal has surely been accepted by the server
/// (not merely queued by the kernel), so it must be answered.
const ACCEPTED_MARGIN: Duration = Duration::from_millis(250);

#[test]
fn sigterm_under_load_answers_every_accepted_request_and_loses_nothing() {
    let mut s = Server::start();
    s.seed_small();
    s.create(
        "/api/v1/receipts",
        json!({"site": "WH", "reported_by": "goods-in", "lines": [{"item": "GLOVE-M", "quantity": 10_000_000}]}),
    );
    let running = load::start(
        Plan {
            bases: vec![s.base.clone()],
            token: s.admin_token.clone(),
            threads: 8,
            prefix: "t".into(),
            retry: false,
            fresh_connections: true,
        },
        |_, _| {
            (
                "/api/v1/issues".into(),
                json!({"site": "WH", "reported_by": "load", "lines": [{"item": "GLOVE-M", "quantity": 1}]}),
            )
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let signalled = Instant::now();
    s.signal("TERM");
    let status = s.wait();
    let stopped = signalled.elapsed();
    let attempts = running.finish();
    assert!(status.success(), "ppe exited with {status} after SIGTERM");
    assert!(
        stopped < Duration::from_secs(20),
        "shutdown took {stopped:?}"
    );

    let unanswered: Vec<_> = attempts
        .iter()
        .filter(|a| a.started + ACCEPTED_MARGIN < signalled)
        .filter(|a| !matches!(a.ended, Ended::Status(200..=299 | 503)))
        // 409 would be a shortage, which the stock rules out.
        .map(|a| format!("{} {:?}", a.key, a.ended))
        .collect();
    assert!(
        unanswered.is_empty(),
        "requests accepted before SIGTERM left unanswered: {unanswered:?}"
    );
    let acked = load::acknowledged(&attempts);
    assert!(acked.len() > 20, "too little load: {}", acked.len());
    // Whatever was acknowledged is stored (a fresh process reads the database).
    let db = s.stop();
    let keys = acked
        .keys()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        query_count_at(
            &db.url,
            &format!("SELECT COUNT(*) FROM idempotency_keys WHERE key IN ({keys})")
        ),
        acked.len() as i64,
        "acknowledged writes missing after the shutdown"
    );
    assert!(
        query_count_at(
            &db.url,
            "SELECT COUNT(*) FROM movements WHERE kind = 'issue'"
        ) >= acked.len() as i64
    );
    assert_check_passes(&db.url);
}
