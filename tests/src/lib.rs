//! Black-box test support: start the real `ppe` binary on a throw-away database
//! (SQLite, or PostgreSQL with `PPE_TEST_BACKEND=postgres`) and talk to it over HTTP.

use ppe_persistence::testing::TestDatabase;
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub mod browser;
pub mod cluster;
pub mod load;

/// The binary under test: `PPE_BIN`, or `ppe` next to the test executable's folder
/// (cargo puts test executables in `target/<profile>/deps`).
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("PPE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("ppe");
    assert!(
        bin.exists(),
        "{} not built: run the tests with `cargo nextest run --workspace`",
        bin.display()
    );
    bin
}

pub struct Server {
    pub base: String,
    /// Sends the admin token with every request (a request's own `Authorization` wins).
    pub client: Client,
    /// Sends no token.
    pub anon: Client,
    /// The secret of the admin token the harness created before starting the server.
    pub admin_token: String,
    /// What the server printed on stdout before it listened (e.g. the demo's tokens).
    pub banner: Vec<String>,
    child: Child,
    db: Option<TestDatabase>,
}

/// Runs `ppe token create` against a database and returns the secret it prints.
pub fn create_token_cli(url: &str, role: &str, name: &str, sites: &[&str]) -> String {
    let mut cmd = Command::new(binary());
    cmd.args([
        "token",
        "create",
        "--role",
        role,
        "--name",
        name,
        "--database-url",
        url,
    ])
    .env("RUST_LOG", "warn");
    for s in sites {
        cmd.args(["--site", s]);
    }
    let out = cmd.output().expect("run ppe token create");
    assert!(
        out.status.success(),
        "ppe token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.starts_with("ppe_"), "{secret}");
    secret
}

/// Runs the `ppe` binary with `args` (quiet log); its output.
pub fn ppe(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ppe")
}

/// Asserts that `ppe check` finds the ledger's invariants holding in the database.
pub fn assert_check_passes(url: &str) {
    let out = ppe(&["check", "--database-url", url]);
    assert!(
        out.status.success(),
        "ppe check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn client_with(token: Option<&str>) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .default_headers(headers)
        .build()
        .expect("client")
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts `ppe serve` with extra arguments on a fresh database.
    pub fn start_with(args: &[&str]) -> Server {
        let db = TestDatabase::new();
        Server::start_on(db, args)
    }

    pub fn start_on(db: TestDatabase, args: &[&str]) -> Server {
        // The first admin token, made the way an operator makes it for a real deployment.
        let admin_token = create_token_cli(&db.url, "admin", "test admin", &[]);
        let mut s = Server::replica(&db.url, &admin_token, args);
        s.db = Some(db);
        s
    }

    /// Starts another `ppe serve` on the database at `url`, which this value does not
    /// own (a replica beside another server), using an existing admin token.
    pub fn replica(url: &str, admin_token: &str, args: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "2",
                "--database-url",
                url,
            ])
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("PPE_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ppe");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let base = loop {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(url) = l.strip_prefix("listening on ") {
                        break url.trim().to_owned();
                    }
                    banner.push(l);
                }
                _ => panic!("ppe exited before listening: {:?}", child.wait()),
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            base,
            client: client_with(Some(admin_token)),
            anon: client_with(None),
            admin_token: admin_token.to_owned(),
            banner,
            child,
            db: None,
        }
    }

    /// Sends a signal (e.g. `TERM`) to the server process.
    pub fn signal(&self, name: &str) {
        let st = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill -{name}");
    }

    /// Waits for the server process to end; its exit status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for ppe")
    }

    /// Stops the server and hands back its database, to start another on it.
    pub fn stop(mut self) -> TestDatabase {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.db.take().expect("database")
    }

    /// The demo municipality, once its supply status covers every unit × item (it is
    /// computed in the background after the start).
    pub fn start_demo() -> Server {
        let s = Server::start_with(&["--demo"]);
        let started = std::time::Instant::now();
        while s
            .get_json("/api/v1/supply-status")
            .as_array()
            .expect("rows")
            .len()
            < 480
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "no full supply status after two minutes"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        s
    }

    /// The database the server runs on (tests inspect what it stores).
    pub fn database(&self) -> &TestDatabase {
        self.db.as_ref().expect("database")
    }

    /// Creates a token over the API as the admin; returns its id and secret.
    pub fn new_token(
        &self,
        role: &str,
        sites: &[&str],
        expires_in_days: Option<i64>,
    ) -> (i64, String) {
        let mut body =
            serde_json::json!({"name": format!("{role} test"), "role": role, "sites": sites});
        if let Some(d) = expires_in_days {
            body["expires_in_days"] = d.into();
        }
        let t = self.create("/api/v1/tokens", body);
        (
            t["token"]["id"].as_i64().expect("id"),
            t["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// A client that sends `token` (or none).
    pub fn client_for(&self, token: Option<&str>) -> Client {
        client_with(token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().expect("GET")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().expect("json")
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .expect("POST")
    }

    pub fn post_with_key(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .expect("POST")
    }

    pub fn patch(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .expect("PATCH")
    }

    /// Asserts that every balance of `site` equals the sum of its ledger, lot by lot.
    pub fn assert_balances_equal_ledger(&self, site: &str) {
        let mut sums = std::collections::HashMap::<(String, String), i64>::new();
        for m in self.all_movements(&format!("&site={site}")) {
            *sums
                .entry((
                    m["item"].as_str().expect("item").into(),
                    m["lot"].as_str().expect("lot").into(),
                ))
                .or_default() += m["quantity"].as_i64().expect("quantity");
        }
        let balances = self.get_json(&format!("/api/v1/sites/{site}/balances"));
        let mut seen = std::collections::HashSet::new();
        for b in balances.as_array().expect("balances") {
            let k = (
                b["item"].as_str().expect("item").to_owned(),
                b["lot"].as_str().expect("lot").to_owned(),
            );
            assert_eq!(
                sums.get(&k).copied().unwrap_or(0),
                b["quantity"].as_i64().expect("quantity"),
                "{site} {k:?}"
            );
            seen.insert(k);
        }
        for (k, v) in sums {
            assert!(
                v == 0 || seen.contains(&k),
                "{site} {k:?}: ledger {v}, no balance"
            );
        }
    }

    /// On hand of `item` at `site`, over its lots.
    pub fn on_hand(&self, site: &str, item: &str) -> i64 {
        self.get_json(&format!("/api/v1/sites/{site}/balances"))
            .as_array()
            .expect("balances")
            .iter()
            .filter(|b| b["item"] == item)
            .map(|b| b["quantity"].as_i64().expect("quantity"))
            .sum()
    }

    /// POSTs and asserts a 2xx answer.
    pub fn create(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, &body);
        let status = r.status();
        let text = r.text().unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).expect("json")
    }

    /// Every movement of the ledger, following cursors.
    pub fn all_movements(&self, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/movements?limit=1000{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_json(&path);
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    /// A small world: warehouse WH with 1000 FFP2 and 500 gloves, unit NH-01.
    pub fn seed_small(&self) {
        self.create("/api/v1/items", serde_json::json!({
            "sku": "FFP2", "name": "FFP2 respirator", "category": "respirator",
            "base_unit": "piece", "pack_size": 20, "gtin": "4006381333931", "standard": "EN 149 FFP2"
        }));
        self.create(
            "/api/v1/items",
            serde_json::json!({
                "sku": "GLOVE-M", "name": "Nitrile gloves M", "category": "gloves",
                "base_unit": "piece", "pack_size": 200
            }),
        );
        self.create("/api/v1/sites", serde_json::json!({
            "code": "WH", "name": "Warehouse", "kind": "warehouse", "latitude": 59.73, "longitude": 10.22
        }));
        self.create("/api/v1/sites", serde_json::json!({
            "code": "NH-01", "name": "Lia nursing home", "kind": "unit", "unit_type": "nursing_home",
            "district": "Bragernes", "latitude": 59.745, "longitude": 10.20
        }));
        self.create("/api/v1/receipts", serde_json::json!({
            "site": "WH", "reported_by": "goods-in",
            "lines": [{"item": "FFP2", "quantity": 1000, "lot": "A1", "expires_on": "2029-01-01"},
                      {"item": "GLOVE-M", "quantity": 500}]
        }));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts a problem+json answer with `status` and returns its body.
pub fn assert_problem(r: Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = r.json().unwrap_or(Value::Null);
    assert_eq!(got, status, "body: {body}");
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}, body {body}"
    );
    assert_eq!(body["status"].as_u64(), Some(u64::from(status)), "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// The field names a problem lists.
pub fn problem_fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
