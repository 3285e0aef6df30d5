//! The `ppe` command line: serve, migrate, openapi.

use crate::state::AppState;
use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};
use ppe_persistence::connection::redact;
use ppe_persistence::{Db, DbOptions};
use std::process::ExitCode;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ppe.db";

#[derive(Parser)]
#[command(
    name = "ppe",
    version,
    about = "PPE Depot: protective-equipment inventory and logistics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Connections per pool: readers, and writers on PostgreSQL (SQLite has one writer).
    #[arg(long, env = "PPE_DB_POOL", default_value_t = 16)]
    db_pool: u32,
}

impl DbArgs {
    fn open(&self) -> Result<Db, String> {
        let opts = DbOptions {
            readers: self.db_pool.max(1),
            pg_writers: self.db_pool.max(1),
            ..DbOptions::default()
        };
        Db::open(&self.database_url, &opts).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        #[arg(long, env = "PPE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        #[command(flatten)]
        db: DbArgs,
        /// Seed a demo municipality into an empty database.
        #[arg(long)]
        demo: bool,
        /// HTTP worker threads (default: one per core).
        #[arg(long, env = "PPE_WORKERS")]
        workers: Option<usize>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the OpenAPI document (the committed openapi/openapi.json).
    Openapi,
    /// Forecast every series of a long CSV (unique_id,ds,y) with quantiles.
    ForecastBatch(crate::forecast_batch::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Batch commands keep stdout and stderr for their results and real problems.
    let default_log = match cli.command {
        Command::Serve { .. } | Command::Migrate { .. } => "info",
        _ => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log)).init();
    let result = match cli.command {
        Command::Serve {
            bind,
            db,
            demo,
            workers,
        } => serve(&bind, &db, demo, workers),
        Command::Migrate { db } => db.open().map(|_| {
            println!("database {} is up to date", redact(&db.database_url));
        }),
        Command::ForecastBatch(args) => crate::forecast_batch::run(&args),
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(bind: &str, args: &DbArgs, demo: bool, workers: Option<usize>) -> Result<(), String> {
    let url = &args.database_url;
    let db = args.open()?;
    log::info!("database {} ({}) ready", redact(url), db.backend().name());
    if demo {
        let summary =
            crate::demo::seed(&db, chrono::Utc::now()).map_err(|e| format!("demo data: {e}"))?;
        log::info!("{summary}");
    }
    let state = web::Data::new(AppState { db });
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(move || crate::app::build(state.clone()));
        if let Some(w) = workers {
            server = server.workers(w.max(1));
        }
        let server = server
            .bind(bind)
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        for addr in server.addrs() {
            // Tests read this line to find the port when binding to port 0.
            println!("listening on http://{addr}");
        }
        server.run().await.map_err(|e| e.to_string())
    })
}
