//! Throw-away databases for tests: a temporary SQLite file, or a fresh PostgreSQL
//! database when `PPE_TEST_BACKEND=postgres`. The same suites run on both backends.
//! When PostgreSQL is asked for but unreachable, this panics: a suite must never pass
//! by silently skipping a backend.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use ppe_domain::catalogue::{BaseUnit, Category, NewItem};
use ppe_domain::site::{NewSite, SiteKind, UnitType};
use rand::Rng;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A respirator in packs of 20, as the suites' stories use.
pub fn item(sku: &str) -> NewItem {
    NewItem {
        sku: sku.into(),
        name: format!("{sku} item"),
        category: Category::Respirator,
        base_unit: BaseUnit::Piece,
        pack_size: 20,
        gtin: None,
        standard: None,
        shelf_life_days: None,
        volume_cm3: None,
        weight_g: None,
    }
}

/// A site of `kind` in the same place as every other; a unit is a nursing home.
pub fn site(code: &str, kind: SiteKind) -> NewSite {
    NewSite {
        code: code.into(),
        name: code.into(),
        kind,
        unit_type: (kind == SiteKind::Unit).then_some(UnitType::NursingHome),
        district: None,
        latitude: 59.74,
        longitude: 10.2,
        address: None,
        opening_hours: vec![],
        priority_tier: 1,
        lead_time_days: 2,
    }
}

/// A database that exists until this value is dropped.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// `postgres` when `PPE_TEST_BACKEND` says so, else `sqlite`.
pub fn backend() -> &'static str {
    match std::env::var("PPE_TEST_BACKEND").as_deref() {
        Ok("postgres") | Ok("postgresql") => "postgres",
        _ => "sqlite",
    }
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        if backend() == "postgres" {
            let admin = std::env::var("PPE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
            TestDatabase::on_postgres(&admin)
        } else {
            TestDatabase::sqlite()
        }
    }

    /// A fresh SQLite file in a temporary folder, whatever the chosen backend.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("ppe.db").display());
        TestDatabase {
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh database on the PostgreSQL server that `admin` (a URL with the right to
    /// create databases) reaches.
    pub fn on_postgres(admin: &str) -> TestDatabase {
        let name = format!("ppe_test_{:016x}", rand::rng().random::<u64>());
        crate::connection::init_tls();
        let mut conn = PgConnection::establish(admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        TestDatabase {
            url: format!("{base}/{name}{query}"),
            _dir: None,
            pg: Some((admin.to_owned(), name)),
        }
    }
}

impl TestDatabase {
    fn connect(&self) -> crate::DbConnection {
        crate::connection::Target::parse(&self.url)
            .and_then(|t| t.connect())
            .unwrap_or_else(|e| panic!("connecting to the test database: {e}"))
    }

    /// Runs SQL on the database: for tests that arrange a state the API cannot make
    /// (a token that expired yesterday).
    pub fn execute(&self, sql: &str) {
        self.connect()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The single integer a query answers (`SELECT COUNT(*) …`), for tests that check
    /// what was stored beside what the API shows.
    pub fn query_count(&self, sql: &str) -> i64 {
        query_count_at(&self.url, sql)
    }

    /// Everything the database stores, as text, for tests that look for what must never
    /// be stored: on SQLite the database file and its write-ahead log byte for byte
    /// (free pages included); on PostgreSQL every row of every table.
    pub fn dump(&self) -> String {
        match &self.pg {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut out = String::new();
                for suffix in ["", "-wal", "-journal"] {
                    if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                        out.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                out
            }
            Some(_) => {
                #[derive(diesel::QueryableByName)]
                struct Text {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    t: String,
                }
                let mut c = self.connect();
                let tables: Vec<Text> = diesel::sql_query(
                    "SELECT table_name::text AS t FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .load(&mut c)
                .unwrap_or_else(|e| panic!("listing tables: {e}"));
                let mut out = String::new();
                for table in tables {
                    let rows: Vec<Text> = diesel::sql_query(format!(
                        "SELECT CAST(r AS TEXT) AS t FROM \"{}\" r",
                        table.t
                    ))
                    .load(&mut c)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", table.t));
                    out.push_str(&table.t);
                    out.push('\n');
                    for r in rows {
                        out.push_str(&r.t);
                        out.push('\n');
                    }
                }
                out
            }
        }
    }
}

/// `TestDatabase::query_count` on any database URL (a restored copy, say).
pub fn query_count_at(url: &str, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = crate::connection::Target::parse(url)
        .and_then(|t| t.connect())
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT CAST(({sql}) AS BIGINT) AS n"))
        .load(&mut c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first().map_or(0, |r| r.n)
}

impl Default for TestDatabase {
    fn default() -> Self {
        TestDatabase::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut c) = PgConnection::establish(admin)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
