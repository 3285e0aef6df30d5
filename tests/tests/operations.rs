//! What a regional deployment does to the service: PostgreSQL restarted or killed under
//! load, two replicas on one database, TLS to the database, backups taken under load.
//! Each PostgreSQL test starts its own throw-away cluster, so it may restart or kill
//! it without disturbing anything else; these tests ignore `PPE_TEST_BACKEND`.

use ppe_persistence::testing::{TestDatabase, query_count_at};
use ppe_tests::cluster::PgCluster;
use ppe_tests::load::{self, Attempt, Ended, Plan};
use ppe_tests::{Server, assert_check_passes, ppe};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Warehouse WH with plenty of gloves and FFP2, units NH-01 and NH-02 stocked.
fn seed(s: &Server) {
    s.seed_small();
    s.create("/api/v1/sites", json!({
        "code": "NH-02", "name": "Fjell nursing home", "kind": "unit", "unit_type": "nursing_home",
        "district": "Fjell", "latitude": 59.73, "longitude": 10.17
    }));
    s.create(
        "/api/v1/receipts",
        json!({"site": "WH", "reported_by": "goods-in", "lines": [
            {"item": "GLOVE-M", "quantity": 1_000_000}, {"item": "FFP2", "quantity": 100_000, "lot": "B2"}]}),
    );
    for unit in ["NH-01", "NH-02"] {
        let t = s.create(
            "/api/v1/transfers",
            json!({"from_site": "WH", "to_site": unit, "reported_by": "l",
                   "lines": [{"item": "GLOVE-M", "quantity": 100_000}]}),
        );
        let id = t["transfer"]["id"].as_i64().expect("transfer id");
        s.create(
            &format!("/api/v1/transfers/{id}/receive"),
            json!({"reported_by": "n"}),
        );
    }
}

fn issue(site: &str) -> (String, Value) {
    (
        "/api/v1/issues".into(),
        json!({"site": site, "reported_by": "load", "lines": [{"item": "GLOVE-M", "quantity": 1}]}),
    )
}

fn is_2xx(a: &Attempt) -> bool {
    matches!(a.ended, Ended::Status(200..=299))
}

fn server_errors(attempts: &[Attempt], allowed: &[u16]) -> Vec<String> {
    attempts
        .iter()
        .filter_map(|a| match a.ended {
            Ended::Status(s) if s >= 500 && !allowed.contains(&s) => Some(format!("{} {s}", a.key)),
            _ => None,
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// `pg_ctl restart -m fast`.
    Restart,
    /// SIGKILL to every PostgreSQL process, then a start (crash recovery).
    Kill,
}

/// Issues under load while PostgreSQL goes away and comes back; the service must heal
/// by itself, answer 503 (never 500, never a hang) meanwhile, and lose or double nothing.
fn writes_survive(fault: Fault) {
    let cluster = PgCluster::start();
    let db = TestDatabase::on_postgres(&cluster.url("postgres", ""));
    let s = Server::start_on(db, &[]);
    seed(&s);
    let running = load::start(
        Plan {
            bases: vec![s.base.clone()],
            token: s.admin_token.clone(),
            threads: 6,
            prefix: "w".into(),
            retry: true,
            fresh_connections: false,
        },
        |t, _| issue(if t % 2 == 0 { "WH" } else { "NH-01" }),
    );
    std::thread::sleep(Duration::from_secs(2));
    let mut ready_while_down = None;
    match fault {
        Fault::Restart => cluster.restart(),
        Fault::Kill => {
            cluster.kill9();
            std::thread::sleep(Duration::from_secs(2));
            ready_while_down = Some(s.get("/readyz").status().as_u16());
            cluster.up();
        }
    }
    let back = Instant::now();
    std::thread::sleep(Duration::from_secs(12));
    let attempts = running.finish();

    if let Some(status) = ready_while_down {
        assert_eq!(status, 503, "/readyz while PostgreSQL was down");
    }
    let errors = server_errors(&attempts, &[503]);
    assert!(
        errors.is_empty(),
        "{fault:?}: 5xx other than 503: {errors:?}"
    );
    // Unavailable is said at once, not after a long wait.
    let slowest_503 = attempts
        .iter()
        .filter(|a| a.ended == Ended::Status(503))
        .map(|a| a.took)
        .max()
        .unwrap_or_default();
    assert!(
        slowest_503 < Duration::from_secs(5),
        "a 503 took {slowest_503:?}"
    );
    // Writes succeed again within 10 s of the database's return, and from then on.
    let settled = back + Duration::from_secs(10);
    let late_failures: Vec<_> = attempts
        .iter()
        .filter(|a| a.started >= settled && !is_2xx(a))
        .map(|a| format!("{} {:?}", a.key, a.ended))
        .collect();
    assert!(
        late_failures.is_empty(),
        "{fault:?}: writes still failing 10 s after the database came back: {late_failures:?}\n{}",
        cluster.log()
    );
    assert!(
        attempts.iter().any(|a| a.started >= settled && is_2xx(a)),
        "no write was made after the database came back"
    );
    // Every write was acknowledged in the end, and each is in the ledger once.
    let acked = load::acknowledged(&attempts);
    let keys: std::collections::BTreeSet<&str> = attempts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        acked.len(),
        keys.len(),
        "some writes were never acknowledged"
    );
    let url = &s.database().url;
    assert_eq!(
        query_count_at(
            url,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE 'w-%'"
        ),
        acked.len() as i64
    );
    assert_eq!(
        query_count_at(url, "SELECT COUNT(*) FROM movements WHERE kind = 'issue'"),
        acked.len() as i64,
        "issues in the ledger vs acknowledged issues"
    );
    assert!(
        attempts.iter().any(|a| !is_2xx(a)),
        "the fault never reached a request: the test proves nothing"
    );
    assert_check_passes(url);
}

#[test]
fn writes_recover_by_themselves_after_postgresql_restarts() {
    writes_survive(Fault::Restart);
}

#[test]
fn writes_recover_by_themselves_after_postgresql_is_killed() {
    writes_survive(Fault::Kill);
}

/// The backends holding an advisory lock, i.e. the replica that runs the refresher.
fn lease_holders(url: &str) -> i64 {
    query_count_at(
        url,
        "SELECT COUNT(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted",
    )
}

#[test]
fn two_replicas_on_one_database_do_not_fight() {
    let cluster = PgCluster::start();
    let db = TestDatabase::on_postgres(&cluster.url("postgres", ""));
    let first = Server::start_on(db, &[]);
    let url = first.database().url.clone();
    let second = Server::replica(&url, &first.admin_token, &[]);
    seed(&first);

    // Issues at the depot and both units, deliveries from the depot to both units and
    // goods received at the depot, from both replicas at once.
    let running = load::start(
        Plan {
            bases: vec![first.base.clone(), second.base.clone()],
            token: first.admin_token.clone(),
            threads: 8,
            prefix: "r".into(),
            retry: false,
            fresh_connections: false,
        },
        |t, n| {
            let unit = if (t + n) % 2 == 0 { "NH-01" } else { "NH-02" };
            match (t + n) % 5 {
                0 | 1 => issue(if n % 3 == 0 { "WH" } else { unit }),
                2 => (
                    "/api/v1/transfers".into(),
                    json!({"from_site": "WH", "to_site": unit, "reported_by": "load",
                           "lines": [{"item": "GLOVE-M", "quantity": 2}, {"item": "FFP2", "quantity": 1}]}),
                ),
                3 => (
                    "/api/v1/receipts".into(),
                    json!({"site": "WH", "reported_by": "load",
                           "lines": [{"item": "GLOVE-M", "quantity": 3}, {"item": "FFP2", "quantity": 2, "lot": "B2"}]}),
                ),
                _ => (
                    "/api/v1/stock-reports".into(),
                    json!({"site": unit, "reported_by": "load",
                           "lines": [{"item": "GLOVE-M", "counted": 90_000 + n}]}),
                ),
            }
        },
    );
    std::thread::sleep(Duration::from_secs(20));
    let attempts = running.finish();

    let errors = server_errors(&attempts, &[]);
    assert!(errors.is_empty(), "5xx from replicas: {errors:?}");
    let refused: Vec<_> = attempts
        .iter()
        .filter(|a| !is_2xx(a))
        .map(|a| format!("{} {:?}", a.key, a.ended))
        .collect();
    assert!(refused.is_empty(), "writes refused: {refused:?}");
    let p99 = load::latency_quantile(&attempts, 0.99);
    eprintln!(
        "replicas: {} writes in 20 s, p50 {:?}, p99 {p99:?}",
        attempts.len(),
        load::latency_quantile(&attempts, 0.5)
    );
    assert!(p99 <= Duration::from_millis(500), "p99 {p99:?}");

    // A twin request (same key, same body) sent to both replicas at once gets one answer.
    for i in 0..10 {
        let key = format!("twin-{i}");
        let body = json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "twin",
                          "lines": [{"item": "GLOVE-M", "quantity": 1}]});
        let answers: Vec<(u16, Value)> = [&first, &second]
            .map(|s| {
                let (base, token, key, body) = (
                    s.base.clone(),
                    s.admin_token.clone(),
                    key.clone(),
                    body.clone(),
                );
                std::thread::spawn(move || {
                    let r = reqwest::blocking::Client::new()
                        .post(format!("{base}/api/v1/transfers"))
                        .bearer_auth(token)
                        .header("Idempotency-Key", key)
                        .json(&body)
                        .send()
                        .expect("twin");
                    (r.status().as_u16(), r.json::<Value>().expect("json"))
                })
            })
            .into_iter()
            .map(|h| h.join().expect("twin thread"))
            .collect();
        assert_eq!(answers[0], answers[1], "twin {i}");
        assert_eq!(answers[0].0, 201, "twin {i}: {:?}", answers[0]);
    }
    assert_eq!(
        query_count_at(
            &url,
            "SELECT COUNT(*) FROM transfers WHERE dispatched_by = 'twin'"
        ),
        10
    );

    // One replica refreshes forecasts; when it stops, the other takes over.
    let deadline = Instant::now() + Duration::from_secs(15);
    while lease_holders(&url) != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        lease_holders(&url),
        1,
        "replicas holding the refresher lease"
    );
    let holder = query_count_at(
        &url,
        "SELECT MIN(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted",
    );
    // Stop the first replica (the database stays): one holder remains, or the second
    // takes the lease over within its poll.
    let _db = first.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now_holder = query_count_at(
            &url,
            "SELECT COALESCE(MIN(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted",
        );
        if now_holder != 0 && lease_holders(&url) == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no replica took the lease over from {holder}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_check_passes(&url);
    drop(second);
}

/// A CA and a server certificate for 127.0.0.1 made with the openssl command.
fn make_certificates(dir: &std::path::Path) -> (String, Vec<u8>, Vec<u8>) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=ppe test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
    (
        dir.join("ca.crt").display().to_string(),
        std::fs::read(dir.join("server.crt")).expect("crt"),
        std::fs::read(dir.join("server.key")).expect("key"),
    )
}

#[test]
fn tls_with_verify_full_reaches_a_database_that_requires_it() {
    let certs = tempfile::tempdir().expect("temp dir");
    let (ca, crt, key) = make_certificates(certs.path());
    let cluster = PgCluster::start();
    cluster.put_file("server.crt", &crt);
    cluster.put_file("server.key", &key);
    cluster.conf("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
    cluster.hba(
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    );
    cluster.restart();

    // Without TLS the database refuses; with a CA that did not sign it, verify-full does.
    let plain = ppe(&[
        "migrate",
        "--database-url",
        &cluster.url("postgres", "sslmode=disable"),
    ]);
    assert!(
        !plain.status.success(),
        "a connection without TLS was let in"
    );
    let other = tempfile::tempdir().expect("temp dir");
    let (wrong_ca, _, _) = make_certificates(other.path());
    let wrong = ppe(&[
        "migrate",
        "--database-url",
        &cluster.url(
            "postgres",
            &format!("sslmode=verify-full&sslrootcert={wrong_ca}"),
        ),
    ]);
    assert!(
        !wrong.status.success(),
        "a server certificate from an unknown CA was accepted"
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("certificate"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );

    let url = cluster.url("postgres", &format!("sslmode=verify-full&sslrootcert={ca}"));
    let s = Server::start_on(TestDatabase::on_postgres(&url), &[]);
    s.seed_small();
    assert_eq!(s.on_hand("WH", "GLOVE-M"), 500);
    assert_eq!(s.get("/readyz").status().as_u16(), 200);
    assert!(
        query_count_at(
            &s.database().url,
            "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid \
             WHERE s.ssl AND a.datname = current_database()"
        ) >= 2,
        "the service's connections are not encrypted"
    );
}

#[test]
fn a_backup_taken_under_write_load_restores_every_write_acknowledged_before_it() {
    let s = Server::start_on(TestDatabase::sqlite(), &[]);
    seed(&s);
    let running = load::start(
        Plan {
            bases: vec![s.base.clone()],
            token: s.admin_token.clone(),
            threads: 4,
            prefix: "b".into(),
            retry: false,
            fresh_connections: false,
        },
        |t, _| issue(if t % 2 == 0 { "WH" } else { "NH-01" }),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("backup.db");
    let began = Instant::now();
    let out = ppe(&[
        "backup",
        file.to_str().expect("path"),
        "--database-url",
        &s.database().url,
    ]);
    assert!(
        out.status.success(),
        "ppe backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(500));
    let attempts = running.finish();
    let before: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| is_2xx(a) && a.started + a.took < began)
        .collect();
    assert!(
        before.len() > 20,
        "too little load before the backup: {}",
        before.len()
    );
    assert!(
        attempts.iter().any(|a| is_2xx(a) && a.started > began),
        "the load did not go on during the backup"
    );

    // A backup cannot overwrite a file.
    let again = ppe(&[
        "backup",
        file.to_str().expect("path"),
        "--database-url",
        &s.database().url,
    ]);
    assert!(!again.status.success());

    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let out = ppe(&[
        "restore",
        file.to_str().expect("path"),
        "--database-url",
        &restored,
    ]);
    assert!(
        out.status.success(),
        "ppe restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_check_passes(&restored);
    let keys = before
        .iter()
        .map(|a| format!("'{}'", a.key))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        query_count_at(
            &restored,
            &format!("SELECT COUNT(*) FROM idempotency_keys WHERE key IN ({keys})")
        ),
        before.len() as i64,
        "writes acknowledged before the backup began are missing from it"
    );
    let in_copy = query_count_at(
        &restored,
        "SELECT COUNT(*) FROM movements WHERE kind = 'issue'",
    );
    assert_eq!(
        in_copy,
        query_count_at(
            &restored,
            "SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE 'b-%'"
        ),
        "every issue in the copy came with its key"
    );

    // A damaged file is refused, and the database it would have replaced is untouched.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&file).expect("backup bytes");
    let mid = bytes.len() / 2;
    bytes[mid..mid + 4096].fill(0xA5);
    std::fs::write(&damaged, bytes).expect("write damaged copy");
    let out = ppe(&[
        "restore",
        damaged.to_str().expect("path"),
        "--database-url",
        &restored,
    ]);
    assert!(!out.status.success(), "a damaged backup was restored");
    assert_check_passes(&restored);
    assert_eq!(
        query_count_at(
            &restored,
            "SELECT COUNT(*) FROM movements WHERE kind = 'issue'"
        ),
        in_copy
    );
}

#[test]
fn check_finds_a_balance_that_disagrees_with_the_ledger() {
    let s = Server::start();
    seed(&s);
    assert_check_passes(&s.database().url);
    s.database()
        .execute("UPDATE balances SET quantity = quantity + 1 WHERE lot = 'B2'");
    let out = ppe(&["check", "--database-url", &s.database().url]);
    assert!(!out.status.success(), "ppe check passed a broken ledger");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("WH FFP2 lot B2"), "{said}");
}
