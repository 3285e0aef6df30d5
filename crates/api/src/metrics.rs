//! Prometheus metrics at `GET /metrics` on the service's own port, without a token (like
//! `/healthz`: keep the port internal or let the proxy in front refuse the path). The
//! answer is the OpenMetrics text format, which Prometheus scrapes natively.
//!
//! Requests are counted by method, route pattern (not the raw path, so that site codes
//! do not multiply the series) and status; the rest is read at scrape time from the
//! write path, the pools, the forecast refresher and the cached supply status.

use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use ppe_domain::supply::Band;
use ppe_persistence::stats::GroupCommit;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BandLabels {
    band: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type GaugeF = Gauge<f64, AtomicU64>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    queued: Gauge,
    group_size: Histogram,
    commit_seconds: Histogram,
    failed_groups: Counter,
    refresh_seconds: Histogram,
    refresh_age: GaugeF,
    last_refresh: Mutex<Option<Instant>>,
    units: Family<BandLabels, Gauge>,
    pool: Family<PoolLabels, Gauge>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("ppe");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register(
        "http_requests",
        "HTTP requests answered, by method, route pattern and status",
        requests.clone(),
    );
    let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
    });
    registry.register(
        "http_request_duration_seconds",
        "Time from a request's arrival to its answer, by method and route pattern",
        latency.clone(),
    );
    let queued = Gauge::default();
    registry.register(
        "ledger_writes_queued",
        "Ledger writes queued for or running in a group commit",
        queued.clone(),
    );
    let group_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
    registry.register(
        "ledger_group_writes",
        "Writes per group commit",
        group_size.clone(),
    );
    let commit_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
    registry.register(
        "ledger_group_commit_seconds",
        "Time a group commit took, first statement to commit",
        commit_seconds.clone(),
    );
    let failed_groups = Counter::default();
    registry.register(
        "ledger_group_failures",
        "Group commits that failed (their writes answered 503)",
        failed_groups.clone(),
    );
    let refresh_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
    registry.register(
        "forecast_refresh_seconds",
        "Duration of forecast refreshes (full and incremental)",
        refresh_seconds.clone(),
    );
    let refresh_age = GaugeF::default();
    registry.register(
        "forecast_refresh_age_seconds",
        "Seconds since this process last refreshed forecasts (-1: never; another replica may hold the refresher lease)",
        refresh_age.clone(),
    );
    let units = Family::<BandLabels, Gauge>::default();
    registry.register(
        "units",
        "Units by their worst supply band over all items",
        units.clone(),
    );
    let pool = Family::<PoolLabels, Gauge>::default();
    registry.register(
        "db_read_pool_connections",
        "Connections of the read pool: in_use, idle, max",
        pool.clone(),
    );
    Metrics {
        registry,
        requests,
        latency,
        queued,
        group_size,
        commit_seconds,
        failed_groups,
        refresh_seconds,
        refresh_age,
        last_refresh: Mutex::new(None),
        units,
        pool,
    }
});

/// Starts watching the write path; call once before serving.
pub fn install() {
    ppe_persistence::stats::observe_commits(|c: GroupCommit| {
        let m = &*METRICS;
        m.group_size.observe(c.writes as f64);
        m.commit_seconds.observe(c.duration.as_secs_f64());
        if c.failed {
            m.failed_groups.inc();
        }
    });
}

/// Counts one answered request. `route` is the matched pattern, `None` when no route
/// matched.
pub fn request(method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
    let m = &*METRICS;
    // Any token is a method to HTTP: only the standard ones get a series of their own.
    const METHODS: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    let method = if METHODS.contains(&method) {
        method
    } else {
        "OTHER"
    };
    let route = route.unwrap_or("unmatched").to_owned();
    m.latency
        .get_or_create(&RouteLabels {
            method: method.to_owned(),
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route,
            status,
        })
        .inc();
}

/// A forecast refresh finished after `seconds`.
pub fn forecast_refreshed(seconds: f64) {
    let m = &*METRICS;
    m.refresh_seconds.observe(seconds);
    *m.last_refresh.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
}

/// `GET /metrics`.
pub async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let m = &*METRICS;
    m.queued.set(ppe_persistence::stats::queued_writes());
    let pool = state.db.reader_pool();
    for (name, v) in [
        ("in_use", pool.open.saturating_sub(pool.idle)),
        ("idle", pool.idle),
        ("max", pool.max),
    ] {
        m.pool
            .get_or_create(&PoolLabels { state: name.into() })
            .set(i64::from(v));
    }
    let age = m
        .last_refresh
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .map_or(-1.0, |t| t.elapsed().as_secs_f64());
    m.refresh_age.set(age);
    // From the cached supply status: no work unless forecasts changed since the last read.
    match crate::handlers::forecasts::units_by_worst_band(&state).await {
        Ok(counts) => {
            for (band, n) in counts {
                m.units
                    .get_or_create(&BandLabels {
                        band: band.as_str().to_owned(),
                    })
                    .set(n);
            }
        }
        Err(e) => log::warn!("metrics: supply status unavailable: {}", e.detail),
    }
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &m.registry).map_err(|e| {
        log::error!("encoding metrics: {e}");
        Problem::internal()
    })?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(body))
}

/// Every band, for gauges that should read 0 rather than be absent.
pub const BANDS: [Band; 4] = [Band::Red, Band::Amber, Band::Green, Band::NoDemand];
