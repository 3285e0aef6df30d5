//! The `ppe` command line: serve, migrate, openapi, token.

use crate::auth::AuthState;
use crate::state::AppState;
use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};
use ppe_domain::access::{NewToken, Role, TokenInfo};
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
    /// PostgreSQL: group-committing writer connections for ledger writes (a site's
    /// writes always share one).
    #[arg(long, env = "PPE_PG_LANES", default_value_t = DbOptions::default().pg_lanes)]
    pg_lanes: u32,
}

#[derive(clap::Args, Clone)]
struct ForecastArgs {
    /// Time zone whose calendar days consumption is counted in (IANA name).
    #[arg(long, env = "PPE_TIME_ZONE", default_value = "Europe/Oslo", value_parser = parse_time_zone)]
    time_zone: chrono_tz::Tz,
}

fn parse_time_zone(s: &str) -> Result<chrono_tz::Tz, String> {
    s.parse()
        .map_err(|_| format!("unknown time zone `{s}`: use an IANA name such as Europe/Oslo"))
}

impl ForecastArgs {
    fn settings(&self) -> crate::forecasting::ForecastSettings {
        crate::forecasting::ForecastSettings::new(self.time_zone)
    }
}

impl DbArgs {
    fn open(&self) -> Result<Db, String> {
        let opts = DbOptions {
            readers: self.db_pool.max(1),
            pg_writers: self.db_pool.max(1),
            pg_lanes: self.pg_lanes.max(1),
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
        #[command(flatten)]
        limits: RequestLimits,
        #[command(flatten)]
        forecast: ForecastArgs,
        /// Keep stored forecasts current in the background. On PostgreSQL one replica
        /// at a time does it (an advisory lock), so every replica can keep the default.
        #[arg(long, env = "PPE_FORECAST_REFRESH", default_value_t = true, action = clap::ArgAction::Set)]
        forecast_refresh: bool,
    },
    /// Stored forecasts and supply status.
    Forecast {
        #[command(subcommand)]
        action: ForecastCommand,
    },
    /// Create, list and revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the OpenAPI document (the committed openapi/openapi.json).
    Openapi,
    /// SQLite: write a consistent copy of the database to FILE, safe while the service
    /// runs. (PostgreSQL: pg_dump, see the README.)
    Backup {
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// SQLite: check the backup FILE (integrity, schema, ledger invariants) and make it
    /// the database; the one it replaces is kept as <name>.before-restore. Stop the
    /// service first.
    Restore {
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Import a spreadsheet (CSV or .xlsx, by the file's extension) straight into the
    /// database: a count sheet (`site,item,counted[,lot]`), items or sites, checked whole
    /// first (every bad line printed, nothing written, exit 1), then written in one
    /// transaction.
    Import {
        /// What the sheet holds.
        #[arg(value_enum)]
        kind: ImportKind,
        /// The sheet: a .csv (UTF-8) or .xlsx file (its first sheet).
        file: std::path::PathBuf,
        /// Count sheets: who counted, recorded on every movement.
        #[arg(long, default_value = "ppe import")]
        reported_by: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Check the ledger's invariants (balances equal movements, none negative, every
    /// transfer's two halves agree); exits 1 on any violation.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Forecast every series of a long CSV (unique_id,ds,y) with quantiles.
    ForecastBatch(crate::forecast_batch::Args),
    /// Solve a CVRPLIB .vrp or Solomon .txt instance; prints the routes as JSON.
    SolveVrp(crate::solve_vrp::Args),
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ImportKind {
    /// Stock counts of many units: `site,item,counted[,lot]`.
    Counts,
    /// Catalogue items by SKU (created or updated).
    Items,
    /// Warehouses and units by code (created or updated).
    Sites,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints its secret on stdout (shown only this once), the rest on stderr.
    Create {
        /// admin, logistics, reporter or viewer
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// What the token is for, e.g. "Nursing home tablet".
        #[arg(long)]
        name: String,
        /// Limit the token to this site (repeat for more). Required for reporters.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<i64>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List every token (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token: refused from its next request on.
    Revoke {
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum ForecastCommand {
    /// Recompute every unit × item forecast and supply status now (a running server also
    /// does this in the background when data arrives).
    Refresh {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        forecast: ForecastArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn main() -> ExitCode {
    // Time budgets of batch commands count from process start.
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    // Batch commands keep stdout and stderr for their results and real problems.
    let default_log = match cli.command {
        Command::Serve { .. } | Command::Migrate { .. } => "info",
        _ => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log))
        .format(|buf, record| {
            use std::io::Write;
            // RFC 3339 in UTC, as the ledger stores times.
            writeln!(
                buf,
                "[{} {:<5} {}] {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                record.level(),
                record.target(),
                record.args()
            )
        })
        .init();
    let result = match cli.command {
        Command::Serve {
            bind,
            db,
            demo,
            workers,
            limits,
            forecast,
            forecast_refresh,
        } => serve(
            &bind,
            &db,
            demo,
            workers,
            &limits,
            &forecast,
            forecast_refresh,
        ),
        Command::Forecast {
            action: ForecastCommand::Refresh { db, forecast },
        } => db.open().and_then(|database| {
            let r = crate::forecasting::refresh::refresh(
                &database,
                &forecast.settings(),
                None,
                chrono::Utc::now(),
                &crate::progress::bar(0, "forecasts"),
            )
            .map_err(|e| e.to_string())?;
            println!(
                "refreshed {} forecasts in {:.2} s (days in {})",
                r.series, r.seconds, forecast.time_zone
            );
            Ok(())
        }),
        Command::Token { action } => token(action),
        Command::Migrate { db } => db.open().map(|_| {
            println!("database {} is up to date", redact(&db.database_url));
        }),
        Command::ForecastBatch(args) => crate::forecast_batch::run(&args),
        Command::SolveVrp(args) => crate::solve_vrp::run(&args, started),
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            Ok(())
        }
        Command::Backup { file, database_url } => target(&database_url).and_then(|t| {
            ppe_persistence::backup::backup(&t, &file).map_err(|e| e.to_string())?;
            println!("backed up {} to {}", redact(&database_url), file.display());
            Ok(())
        }),
        Command::Restore { file, database_url } => target(&database_url).and_then(|t| {
            let aside = ppe_persistence::backup::restore(&t, &file).map_err(|e| e.to_string())?;
            println!("restored {} from {}", redact(&database_url), file.display());
            if let Some(a) = aside {
                println!("the database it replaced is kept as {}", a.display());
            }
            Ok(())
        }),
        Command::Check { db } => check(&db),
        Command::Import {
            kind,
            file,
            reported_by,
            db,
        } => import(kind, &file, &reported_by, &db),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn target(url: &str) -> Result<ppe_persistence::connection::Target, String> {
    ppe_persistence::connection::Target::parse(url).map_err(|e| e.to_string())
}

/// `ppe check`: every violation on stdout, and a failure when there is any.
fn check(args: &DbArgs) -> Result<(), String> {
    let db = args.open()?;
    let violations = db
        .read(ppe_persistence::integrity::check)
        .map_err(|e| e.to_string())?;
    for v in &violations {
        println!("{v}");
    }
    db.close(std::time::Duration::from_secs(5));
    if violations.is_empty() {
        println!(
            "{}: the ledger's invariants hold",
            redact(&args.database_url)
        );
        Ok(())
    } else {
        Err(format!("{} invariant violations", violations.len()))
    }
}

/// `ppe import`: the same checks and writes as the import operations of the API.
fn import(
    kind: ImportKind,
    file: &std::path::Path,
    reported_by: &str,
    args: &DbArgs,
) -> Result<(), String> {
    use crate::sheet::{self, SheetFormat};
    use ppe_domain::import::{self as rules, CountRules};
    use ppe_persistence::{StoreError, imports};
    let name = file.display().to_string();
    let format = SheetFormat::from_path(file)
        .ok_or_else(|| format!("{name}: the file name must end in .csv or .xlsx"))?;
    let bytes = std::fs::read(file).map_err(|e| format!("{name}: {e}"))?;
    let progress = crate::progress::spinner(&format!("reading {name}"));
    let table = sheet::read(format, &bytes).map_err(|e| format!("{name}: {e}"));
    progress.set_message(format!("checking and writing {name}"));
    let table = table.inspect_err(|_| progress.finish_and_clear())?;
    // Every refused line on stderr, as `FILE:LINE: column: message`.
    let refused = |v: ppe_domain::validation::Violations| {
        progress.finish_and_clear();
        for e in &v.0 {
            eprintln!(
                "{name}:{}: {}: {}",
                e.line.map_or_else(|| "-".to_owned(), |l| l.to_string()),
                e.field,
                e.message
            );
        }
        format!("{} problems in {name}; nothing was written", v.0.len())
    };
    let db = args.open()?;
    let stamp = ppe_persistence::ledger::Stamp::from(chrono::Utc::now());
    let outcome = match kind {
        ImportKind::Counts => {
            let mut v = ppe_domain::validation::Violations::default();
            v.text("reported_by", reported_by, 100);
            v.finish().map_err(|v| v.to_string())?;
            let (sites, items) = db.read(imports::known_codes).map_err(|e| e.to_string())?;
            let rows = rules::count_rows(
                &table,
                &CountRules {
                    site_exists: &|s| sites.contains(s),
                    item_exists: &|i| items.contains(i),
                    may_report: &|_| Ok(()),
                },
            )
            .map_err(refused)?;
            let reports = rules::count_reports(&rows, reported_by, None);
            let ids = db.ids();
            db.write(move |c| imports::record_counts(c, &ids, &reports, stamp.clone()))
                .map(|s| {
                    format!(
                        "imported {} rows at {} sites: {} movements, {} counts changed a balance",
                        s.rows, s.sites, s.movements, s.changed
                    )
                })
        }
        ImportKind::Items | ImportKind::Sites => db
            .write(move |c| match kind {
                ImportKind::Items => imports::import_items(c, &table, stamp.clone()),
                _ => imports::import_sites(c, &table, stamp.clone()),
            })
            .map(|s| {
                format!(
                    "imported {} rows: {} created, {} updated, {} unchanged",
                    s.rows, s.created, s.updated, s.unchanged
                )
            }),
    };
    progress.finish_and_clear();
    db.close(std::time::Duration::from_secs(5));
    match outcome {
        Ok(summary) => {
            println!("{name}: {summary}");
            Ok(())
        }
        Err(StoreError::Invalid(v)) => Err(refused(v)),
        Err(e) => Err(e.to_string()),
    }
}

fn describe(t: &TokenInfo) -> String {
    let sites = if t.sites.is_empty() {
        "all sites".to_owned()
    } else {
        t.sites.join(",")
    };
    let when = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or("-".to_owned(), |d| d.format("%Y-%m-%dT%H:%MZ").to_string())
    };
    format!(
        "{}\t{}\t{}\t{}\tcreated {}\texpires {}\trevoked {}\tlast used {}",
        t.id,
        t.name,
        t.role,
        sites,
        when(Some(t.created_at)),
        when(t.expires_at),
        when(t.revoked_at),
        when(t.last_used_at)
    )
}

fn token(action: TokenCommand) -> Result<(), String> {
    let now = chrono::Utc::now();
    match action {
        TokenCommand::Create {
            role,
            name,
            sites,
            expires_in_days,
            db,
        } => {
            let t = NewToken {
                name,
                role,
                sites,
                expires_in_days,
            }
            .validate()
            .map_err(|v| v.to_string())?;
            let db = db.open()?;
            let (info, secret) = crate::auth::issue(&db, t, now).map_err(|e| e.to_string())?;
            eprintln!("created token {}", describe(&info));
            eprintln!("its secret follows; it is shown only now (only its SHA-256 is stored):");
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List { db } => {
            let db = db.open()?;
            let all = db
                .read(ppe_persistence::tokens::list_tokens)
                .map_err(|e| e.to_string())?;
            for t in &all {
                println!("{}", describe(t));
            }
            Ok(())
        }
        TokenCommand::Revoke { id, db } => {
            let db = db.open()?;
            let t = db
                .write(move |c| ppe_persistence::tokens::revoke_token(c, id, now))
                .map_err(|e| e.to_string())?;
            println!("revoked {}", describe(&t));
            Ok(())
        }
    }
}

/// What one request may ask of the server.
#[derive(Debug, clap::Args)]
pub struct RequestLimits {
    /// Failed authentications one client address may make per minute before 429.
    #[arg(long, env = "PPE_AUTH_FAILURE_LIMIT", default_value_t = crate::auth::DEFAULT_FAILURE_LIMIT)]
    pub auth_failure_limit: u32,
    /// Days a write's `occurred_at` may lie in the past; older history needs an
    /// administrator's `historical=true`.
    #[arg(long, env = "PPE_BACKDATE_LIMIT_DAYS", default_value_t = ppe_domain::commands::DEFAULT_BACKDATE_LIMIT_DAYS, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub backdate_limit_days: i64,
    /// Seconds a shutdown (SIGTERM, SIGINT) waits for requests in flight, then for the
    /// writers to commit what is queued.
    #[arg(long, env = "PPE_SHUTDOWN_TIMEOUT", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub shutdown_timeout: u64,
}

fn serve(
    bind: &str,
    args: &DbArgs,
    demo: bool,
    workers: Option<usize>,
    limits: &RequestLimits,
    forecast: &ForecastArgs,
    forecast_refresh: bool,
) -> Result<(), String> {
    crate::metrics::install();
    let url = &args.database_url;
    let db = args.open()?;
    log::info!("database {} ({}) ready", redact(url), db.backend().name());
    if demo {
        let now = chrono::Utc::now();
        let seeding = crate::progress::spinner("seeding the demo municipality");
        let summary = crate::demo::seed(&db, now).map_err(|e| format!("demo data: {e}"));
        seeding.finish_and_clear();
        let summary = summary?;
        log::info!("{summary}");
        if let Some(fleet) =
            crate::demo::seed_fleet(&db, now).map_err(|e| format!("demo fleet: {e}"))?
        {
            log::info!("{fleet}");
        }
        let lines = crate::demo::tokens(&db, now).map_err(|e| format!("demo tokens: {e}"))?;
        // On stdout, not in the log: a demo's secrets are for the person who started it.
        println!("demo tokens (new at every --demo start; earlier ones are revoked):");
        for l in lines {
            println!("{l}");
        }
    }
    let forecasting = std::sync::Arc::new(forecast.settings());
    let refresher = if forecast_refresh {
        Some(
            crate::forecasting::refresh::Refresher::spawn(db.clone(), forecasting.clone())
                .map_err(|e| format!("cannot start the forecast refresher: {e}"))?,
        )
    } else {
        None
    };
    let state = web::Data::new(AppState {
        db: db.clone(),
        auth: AuthState::new(limits.auth_failure_limit),
        forecasting,
        answers: Default::default(),
        backdate_limit_days: limits.backdate_limit_days,
        heavy: crate::heavy::HeavyWork::per_core(),
    });
    let grace = limits.shutdown_timeout;
    let served = actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(move || crate::app::build(state.clone()))
            // Signals are handled below, so that SIGINT drains like SIGTERM.
            .disable_signals()
            .shutdown_timeout(grace);
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
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(async move {
            let signal = shutdown_signal().await;
            log::info!("{signal} received: no new connections; answering what is in flight");
            // Graceful: in-flight requests finish (their writes commit and are answered)
            // within the grace period.
            handle.stop(true).await;
        });
        server.await.map_err(|e| e.to_string())
    });
    // Every request has been answered; now the background work and the writers.
    if let Some(r) = refresher {
        r.stop(std::time::Duration::from_secs(grace));
    }
    db.close(std::time::Duration::from_secs(grace));
    log::info!("stopped");
    served
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and names it.
async fn shutdown_signal() -> &'static str {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            use futures_util::future::{Either, select};
            match select(Box::pin(term.recv()), Box::pin(int.recv())).await {
                Either::Left(_) => "SIGTERM",
                Either::Right(_) => "SIGINT",
            }
        }
        _ => {
            let _ = actix_web::rt::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
