//! The baseline of the write benchmark (`bench/stock_reports.sh sqlite`): the least an
//! HTTP insert endpoint on SQLite can do. actix-web with the service's worker count,
//! a JSON body parsed with serde, one writer thread that owns the only connection
//! (opened by the service's own connection code: same pragmas, same VFS) and inserts
//! one row per request in its own transaction, answering after the commit. No
//! authentication, no validation, no ledger: the service's rate divided by this one is
//! what its own work costs.
//!
//!   cargo run --profile dist -p ppe-api --example raw_insert -- BIND sqlite://FILE

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use ppe_persistence::DbConnection;
use ppe_persistence::connection::Target;
use std::sync::mpsc;

#[derive(serde::Deserialize)]
struct Report {
    site: String,
    reported_by: String,
    lines: Vec<Line>,
}

#[derive(serde::Deserialize)]
struct Line {
    item: String,
    counted: i64,
}

type Job = (Report, futures_channel::oneshot::Sender<bool>);

fn writer(mut conn: DbConnection, jobs: mpsc::Receiver<Job>) {
    for (report, reply) in jobs {
        let ok = report.lines.iter().all(|l| {
            diesel::sql_query(
                "INSERT INTO raw_reports (site, item, counted, reported_by) VALUES (?, ?, ?, ?)",
            )
            .bind::<Text, _>(&report.site)
            .bind::<Text, _>(&l.item)
            .bind::<BigInt, _>(l.counted)
            .bind::<Text, _>(&report.reported_by)
            .execute(&mut conn)
            .is_ok()
        });
        let _ = reply.send(ok);
    }
}

async fn insert(q: web::Data<mpsc::Sender<Job>>, body: web::Json<Report>) -> HttpResponse {
    let (tx, rx) = futures_channel::oneshot::channel();
    if q.send((body.into_inner(), tx)).is_err() {
        return HttpResponse::ServiceUnavailable().finish();
    }
    match rx.await {
        Ok(true) => HttpResponse::Created()
            .content_type("application/json")
            .body("{}"),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18182".into());
    let url = args.next().unwrap_or_else(|| "sqlite://raw.db".into());
    let mut conn = Target::parse(&url)
        .and_then(|t| t.connect())
        .map_err(std::io::Error::other)?;
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS raw_reports (id INTEGER PRIMARY KEY, site TEXT NOT NULL, \
         item TEXT NOT NULL, counted INTEGER NOT NULL, reported_by TEXT NOT NULL)",
    )
    .map_err(std::io::Error::other)?;
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::spawn(move || writer(conn, rx));
    let q = web::Data::new(tx);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(q.clone())
                .route("/raw", web::post().to(insert))
        })
        .workers(2)
        .bind(&bind)?;
        println!("listening on http://{bind}");
        server.run().await
    })
}
