//! Throw-away databases for tests: a temporary SQLite file, or a fresh PostgreSQL
//! database when `PPE_TEST_BACKEND=postgres`. The same suites run on both backends.
//! When PostgreSQL is asked for but unreachable, this panics: a suite must never pass
//! by silently skipping a backend.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use rand::Rng;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

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
            let name = format!("ppe_test_{:016x}", rand::rng().random::<u64>());
            let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                panic!("PPE_TEST_BACKEND=postgres but {admin} is unreachable: {e}")
            });
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            TestDatabase {
                url: format!("{base}/{name}"),
                _dir: None,
                pg: Some((admin.clone(), name)),
            }
        } else {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
            let url = format!("sqlite://{}", dir.path().join("ppe.db").display());
            TestDatabase {
                url,
                _dir: Some(dir),
                pg: None,
            }
        }
    }
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
