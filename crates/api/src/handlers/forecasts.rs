//! Reads of the stored forecasts: supply status, aggregates, daily forecasts, accuracy, and
//! the consumption history they were fitted on. Nothing here fits a model.

use super::blocking;
use crate::auth::Auth;
use crate::export::{self, ExportFormat};
use crate::forecasting::answer_cache::AnswerKey;
use crate::forecasting::compute::consumption;
use crate::forecasting::stored::{StoredDetail, StoredStatus};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use ppe_domain::access::Permission;
use ppe_domain::catalogue::Category;
use ppe_domain::consumption::{DailyUse, QualityFlag};
use ppe_domain::forecast::accuracy::HoldoutScores;
use ppe_domain::forecast::method::Method;
use ppe_domain::supply::{Band, Spread};
use ppe_persistence::forecasts::{self, ForecastFilter, Named, StatusRow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A query parameter parsed here rather than by serde, so that a bad value gets an answer
/// naming its parameter.
fn param<T: std::str::FromStr>(
    name: &str,
    value: Option<&str>,
    expected: &str,
) -> Result<Option<T>, Problem> {
    value
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| Problem::bad_query(name, &format!("`{v}` is not {expected}")))
        })
        .transpose()
}

/// A stored JSON document this server wrote and cannot read back: a corrupted row.
pub(super) fn stored<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, Problem> {
    serde_json::from_str(json).map_err(corrupt)
}

/// A stored value this server wrote and cannot read back.
pub(super) fn corrupt(e: impl std::fmt::Display) -> Problem {
    log::error!("unreadable stored forecast: {e}");
    Problem::internal()
}

/// When and from which data a row was computed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Provenance {
    pub computed_at: DateTime<Utc>,
    /// The newest ledger movement of this site × item the computation saw.
    pub data_through_movement: i64,
    /// The first forecast day (local); the history ends the day before.
    pub first_day: NaiveDate,
}

fn provenance(computed_at: chrono::NaiveDateTime, through: i64, first: NaiveDate) -> Provenance {
    Provenance {
        computed_at: computed_at.and_utc(),
        data_through_movement: through,
        first_day: first,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Site code.
    pub site: Option<String>,
    /// Item SKUs, comma-separated.
    pub item: Option<String>,
    /// Districts of the sites, comma-separated.
    pub district: Option<String>,
    /// Item categories, comma-separated (e.g. `respirator,gloves`).
    pub category: Option<String>,
    /// Bands, comma-separated: `red`, `amber`, `green`, `no_demand`.
    pub band: Option<String>,
    /// At most this many rows (1–10000); the next page is in the `Link` header.
    pub limit: Option<i64>,
    /// Rows to skip (the order is total, so pages are stable while forecasts do not change).
    pub offset: Option<i64>,
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` or the workbook type also works.
    pub format: Option<ExportFormat>,
}

/// The values of a comma-separated parameter, spaces around them trimmed, empty ones
/// dropped.
pub fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(|v| v.trim_matches(' '))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A comma-separated list of values each of which must parse as `T`.
fn typed_list<T: std::str::FromStr>(
    name: &str,
    value: Option<&str>,
    expected: &str,
    text: impl Fn(T) -> &'static str,
) -> Result<Vec<String>, Problem> {
    list(value)
        .into_iter()
        .map(|v| {
            v.parse::<T>()
                .map(|t| text(t).to_owned())
                .map_err(|_| Problem::bad_query(name, &format!("`{v}` is not {expected}")))
        })
        .collect()
}

impl StatusQuery {
    fn filter(self) -> Result<(ForecastFilter, Option<i64>), Problem> {
        let limit = self.limit;
        if limit.is_some_and(|l| !(1..=10_000).contains(&l)) {
            return Err(Problem::bad_query("limit", "must be between 1 and 10000"));
        }
        let offset = self.offset.unwrap_or(0);
        if !(0..=1_000_000_000).contains(&offset) {
            return Err(Problem::bad_query(
                "offset",
                "must be between 0 and 1000000000",
            ));
        }
        // An offset alone pages with the largest page.
        let limit = if offset > 0 {
            limit.or(Some(10_000))
        } else {
            limit
        };
        Ok((
            ForecastFilter {
                site: self.site,
                items: list(self.item.as_deref()),
                districts: list(self.district.as_deref()),
                categories: typed_list::<Category>(
                    "category",
                    self.category.as_deref(),
                    "an item category",
                    Category::as_str,
                )?,
                bands: typed_list::<Band>(
                    "band",
                    self.band.as_deref(),
                    "red, amber, green or no_demand",
                    Band::as_str,
                )?,
                limit,
                offset,
            },
            limit,
        ))
    }
}

/// Supply status of one unit × item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SupplyStatusRow {
    pub site: String,
    pub site_name: String,
    pub district: Option<String>,
    pub item: String,
    pub category: String,
    #[serde(flatten)]
    pub status: StoredStatus,
    pub provenance: Provenance,
}

fn status_row(n: Named<StatusRow>) -> Result<SupplyStatusRow, Problem> {
    Ok(SupplyStatusRow {
        status: stored(&n.row.status)?,
        provenance: provenance(n.row.computed_at, n.row.data_through_id, n.row.first_day),
        site: n.site,
        site_name: n.site_name,
        district: n.district,
        item: n.item,
        category: n.category,
    })
}

async fn load_status(
    state: &web::Data<AppState>,
    filter: ForecastFilter,
) -> Result<Vec<SupplyStatusRow>, Problem> {
    let rows = blocking(state, move |db| {
        db.read(|c| forecasts::read_status(c, &filter))
    })
    .await?;
    rows.into_iter().map(status_row).collect()
}

/// Days of supply and stockout risk per unit × item, riskiest first (by stockout probability
/// within the lead time, then by median days of supply).
#[utoipa::path(get, path = "/api/v1/supply-status", tag = "forecasts", params(StatusQuery), responses(
    (status = 200, description = "The rows, as JSON, CSV or an Excel workbook", content(
        (Vec<SupplyStatusRow> = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn supply_status(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<StatusQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let format = ExportFormat::negotiate(q.format, &req);
    let (filter, limit) = q.filter()?;
    let next = limit.map(|l| (filter.offset + l, l));
    let body = cached(&state, AnswerKey::SupplyStatus(filter), Ok).await?;
    let mut res = export::respond(format, "supply-status", body.0).await?;
    if let Some((offset, l)) = next {
        link_next(&mut res, &req, body.1, offset, l);
    }
    Ok(res)
}

/// A full page may have a next one: its address goes in the `Link` header (RFC 8288).
fn link_next(
    res: &mut HttpResponse,
    req: &actix_web::HttpRequest,
    rows: usize,
    offset: i64,
    limit: i64,
) {
    if rows != limit as usize {
        return;
    }
    let mut query = req
        .query_string()
        .split('&')
        .filter(|p| !p.starts_with("offset=") && !p.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    query.push_str(&format!("&offset={offset}"));
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&format!(
        "<{}?{}>; rel=\"next\"",
        req.path(),
        query.trim_start_matches('&')
    )) {
        res.headers_mut().insert(actix_web::http::header::LINK, v);
    }
}

/// Series per page of forecasts by default and at most: a page of 56-day series stays
/// well under a megabyte.
pub const FORECAST_PAGE: i64 = 100;

/// The serialised answer of `key` (and how many rows it was made from): kept bytes while the
/// stored forecasts are unchanged, else read, shaped by `shape` and kept.
async fn cached<T: Serialize>(
    state: &web::Data<AppState>,
    key: AnswerKey,
    shape: impl FnOnce(Vec<SupplyStatusRow>) -> Result<T, Problem>,
) -> Result<(web::Bytes, usize), Problem> {
    let version = blocking(state, |db| db.read(forecasts::version)).await?;
    if let Some(body) = state.answers.get(&key, &version) {
        return Ok(body);
    }
    let filter = match &key {
        AnswerKey::SupplyStatus(f) | AnswerKey::Aggregates { filter: f, .. } => f.clone(),
    };
    let rows = load_status(state, filter).await?;
    let n = rows.len();
    let body = web::Bytes::from(serde_json::to_vec(&shape(rows)?).map_err(|e| {
        log::error!("supply status not serialisable: {e}");
        Problem::internal()
    })?);
    // Only an answer read after `version` was taken may be kept under it: rows written in
    // between make it newer than its version, never older, so a later read refreshes it.
    state.answers.put(key, version, (body.clone(), n));
    Ok((body, n))
}

/// Units counted by the worst band of their items, every band present (0 when none),
/// from the cached whole-municipality supply status.
pub(crate) async fn units_by_worst_band(
    state: &web::Data<AppState>,
) -> Result<Vec<(Band, i64)>, Problem> {
    #[derive(Deserialize)]
    struct Row {
        site: String,
        band: Band,
    }
    let (body, _) = cached(
        state,
        AnswerKey::SupplyStatus(ForecastFilter::default()),
        Ok,
    )
    .await?;
    let rows: Vec<Row> = serde_json::from_slice(&body).map_err(|e| {
        log::error!("cached supply status unreadable: {e}");
        Problem::internal()
    })?;
    // Bands order from worst (red) to none (no demand).
    let mut worst: std::collections::HashMap<String, Band> = std::collections::HashMap::new();
    for r in rows {
        let e = worst.entry(r.site).or_insert(r.band);
        *e = (*e).min(r.band);
    }
    Ok(crate::metrics::BANDS
        .iter()
        .map(|&b| (b, worst.values().filter(|&&w| w == b).count() as i64))
        .collect())
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregateLevel {
    District,
    Municipality,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// `district` (default) or `municipality`.
    pub by: Option<AggregateLevel>,
    /// Item SKUs, comma-separated.
    pub item: Option<String>,
    /// Only these districts, comma-separated.
    pub district: Option<String>,
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` or the workbook type also works.
    pub format: Option<ExportFormat>,
}

/// How the demand intervals of an aggregate are formed.
pub const AGGREGATE_INTERVAL_METHOD: &str = "comonotonic: the sum of the units' own quantiles, as if every unit's demand were high or low together (an outbreak moves them together); an upper bound of the width, never too narrow";

/// Supply of one item over a group of units.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Aggregate {
    /// The district, or absent for the whole municipality.
    pub district: Option<String>,
    pub item: String,
    pub units: usize,
    pub on_hand: i64,
    pub in_transit: i64,
    /// Sum of the units' burn rates.
    pub burn_rate: f64,
    /// (on hand + in transit) / burn rate, as if stock could move freely between the units;
    /// absent when nothing is used.
    pub pooled_days_of_supply: Option<f64>,
    /// Demand over the target days: q10, q50, q90.
    pub target_demand: Spread,
    pub target_days: u32,
    pub interval_method: &'static str,
    pub red: usize,
    pub amber: usize,
    pub green: usize,
    /// Units that neither use nor hold the item.
    pub no_demand: usize,
    /// Sum of the units' suggested orders.
    pub suggested_order: i64,
    /// The oldest computation among the units.
    pub oldest_computed_at: Option<DateTime<Utc>>,
}

/// Supply per item summed over each district or over the municipality.
#[utoipa::path(get, path = "/api/v1/supply-status/aggregates", tag = "forecasts", params(AggregateQuery), responses(
    (status = 200, description = "The rows, as JSON, CSV or an Excel workbook", content(
        (Vec<Aggregate> = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn aggregates(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<AggregateQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    let format = ExportFormat::negotiate(q.format, &req);
    // Totals over many sites: only for tokens that see every site.
    auth.require_filtered(Permission::ReadStock, "site", None)?;
    let by = q.by.unwrap_or(AggregateLevel::District);
    let key = AnswerKey::Aggregates {
        by_district: matches!(by, AggregateLevel::District),
        filter: ForecastFilter {
            items: list(q.item.as_deref()),
            districts: list(q.district.as_deref()),
            ..ForecastFilter::default()
        },
    };
    let body = cached(&state, key, move |rows| Ok(aggregate(by, rows))).await?;
    export::respond(format, "supply-aggregates", body.0).await
}

/// Sums the units' supply per item over each district or the municipality.
fn aggregate(by: AggregateLevel, rows: Vec<SupplyStatusRow>) -> Vec<Aggregate> {
    let mut groups: BTreeMap<(Option<String>, String), Aggregate> = BTreeMap::new();
    for r in rows {
        let district = match by {
            AggregateLevel::District => r.district.clone(),
            AggregateLevel::Municipality => None,
        };
        let s = &r.status;
        let a = groups
            .entry((district.clone(), r.item.clone()))
            .or_insert_with(|| Aggregate {
                district,
                item: r.item.clone(),
                units: 0,
                on_hand: 0,
                in_transit: 0,
                burn_rate: 0.0,
                pooled_days_of_supply: None,
                target_demand: Spread {
                    q10: 0.0,
                    q50: 0.0,
                    q90: 0.0,
                },
                target_days: s.target_days,
                interval_method: AGGREGATE_INTERVAL_METHOD,
                red: 0,
                amber: 0,
                green: 0,
                no_demand: 0,
                suggested_order: 0,
                oldest_computed_at: None,
            });
        a.units += 1;
        a.on_hand += s.on_hand;
        a.in_transit += s.in_transit;
        a.burn_rate += s.burn_rate;
        a.target_demand.q10 += s.target_demand.q10;
        a.target_demand.q50 += s.target_demand.q50;
        a.target_demand.q90 += s.target_demand.q90;
        match s.band {
            Band::Red => a.red += 1,
            Band::Amber => a.amber += 1,
            Band::Green => a.green += 1,
            Band::NoDemand => a.no_demand += 1,
        }
        a.suggested_order += s.suggested_order;
        let at = r.provenance.computed_at;
        a.oldest_computed_at = Some(a.oldest_computed_at.map_or(at, |o| o.min(at)));
    }
    groups
        .into_values()
        .map(|mut a| {
            a.pooled_days_of_supply =
                (a.burn_rate > 0.0).then(|| (a.on_hand + a.in_transit) as f64 / a.burn_rate);
            a
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForecastQuery {
    /// Site code.
    pub site: Option<String>,
    /// Item SKU.
    pub item: Option<String>,
    /// Days to return, 1–56 (default 28).
    pub horizon: Option<String>,
    /// Series per page, 1–100 (default 100), riskiest first; the next page is in the
    /// `Link` header.
    pub limit: Option<i64>,
    /// Series to skip.
    pub offset: Option<i64>,
    /// `json` (default), `csv` or `xlsx` (one row per series and day).
    pub format: Option<ExportFormat>,
}

/// One day of one series' forecast, as a spreadsheet row.
#[derive(Serialize)]
struct ForecastRow<'a> {
    site: &'a str,
    item: &'a str,
    #[serde(flatten)]
    point: &'a ForecastPoint,
}

/// Forecast demand of one day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    /// Expected use (base units).
    pub mean: f64,
    pub q10: f64,
    pub q50: f64,
    pub q90: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesForecastView {
    pub site: String,
    pub item: String,
    /// Methods combined, best first.
    pub methods: Vec<Method>,
    /// Whether a weekday profile was laid over the combination.
    pub season_profile: bool,
    pub backtest_rmsse: Option<f64>,
    pub points: Vec<ForecastPoint>,
    pub quality_flags: Vec<QualityFlag>,
    pub provenance: Provenance,
}

const DEFAULT_HORIZON: usize = 28;

/// Daily demand forecasts with quantiles, as last computed.
#[utoipa::path(get, path = "/api/v1/forecasts", tag = "forecasts", params(ForecastQuery), responses(
    (status = 200, description = "The series as JSON; as CSV or a workbook, one row per series and day", content(
        (Vec<SeriesForecastView> = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn list_forecasts(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<ForecastQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let format = ExportFormat::negotiate(q.format, &req);
    let max = state.forecasting.horizon;
    let horizon = param::<usize>("horizon", q.horizon.as_deref(), "a number of days")?
        .unwrap_or(DEFAULT_HORIZON.min(max));
    if !(1..=max).contains(&horizon) {
        return Err(Problem::bad_query(
            "horizon",
            &format!("must be between 1 and {max}"),
        ));
    }
    let limit = super::limit_param(q.limit, FORECAST_PAGE, FORECAST_PAGE)?;
    let offset = q.offset.unwrap_or(0);
    if !(0..=1_000_000_000).contains(&offset) {
        return Err(Problem::bad_query(
            "offset",
            "must be between 0 and 1000000000",
        ));
    }
    let filter = ForecastFilter {
        site: q.site,
        items: list(q.item.as_deref()),
        limit: Some(limit),
        offset,
        ..ForecastFilter::default()
    };
    let rows = blocking(&state, move |db| {
        db.read(|c| forecasts::read_full(c, &filter))
    })
    .await?;
    let rows_read = rows.len();
    let mut out = Vec::with_capacity(rows.len());
    for n in rows {
        let d: StoredDetail = stored(&n.row.detail)?;
        let f = d.forecast;
        let level = |l: f64| f.quantile(l).map(<[f64]>::to_vec).unwrap_or_default();
        let (q10, q50, q90) = (level(0.1), level(0.5), level(0.9));
        let points = (0..horizon.min(f.dates.len()))
            .map(|t| ForecastPoint {
                date: f.dates[t],
                mean: f.point[t],
                q10: q10.get(t).copied().unwrap_or(0.0),
                q50: q50.get(t).copied().unwrap_or(0.0),
                q90: q90.get(t).copied().unwrap_or(0.0),
            })
            .collect();
        out.push(SeriesForecastView {
            site: n.site,
            item: n.item,
            methods: f.methods.clone(),
            season_profile: f.season_profile,
            backtest_rmsse: f.backtest_rmsse,
            points,
            quality_flags: d.flags,
            provenance: provenance(n.row.computed_at, n.row.data_through_id, n.row.first_day),
        });
    }
    let mut res = if format == ExportFormat::Json {
        HttpResponse::Ok().json(out)
    } else {
        let rows: Vec<ForecastRow> = out
            .iter()
            .flat_map(|f| {
                f.points.iter().map(|point| ForecastRow {
                    site: &f.site,
                    item: &f.item,
                    point,
                })
            })
            .collect();
        export::respond_rows(format, "forecasts", &rows).await?
    };
    link_next(&mut res, &req, rows_read, offset + limit, limit);
    Ok(res)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccuracyQuery {
    /// Site code.
    pub site: Option<String>,
    /// Item SKU.
    pub item: Option<String>,
    /// District of the sites.
    pub district: Option<String>,
    /// `json` (default: summary and series), `csv` or `xlsx` (the per-series table).
    pub format: Option<ExportFormat>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesAccuracy {
    pub site: String,
    pub item: String,
    pub methods: Vec<Method>,
    /// In-sample rolling-origin RMSSE that chose the methods.
    pub backtest_rmsse: Option<f64>,
    /// Out of sample: the whole procedure fitted before the last days and scored on them.
    pub holdout: Option<HoldoutScores>,
    pub history_days: u32,
    pub censored_days: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MethodShare {
    pub method: Method,
    /// Series whose combination includes it.
    pub series: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccuracySummary {
    pub series: usize,
    /// Series with out-of-sample scores (enough history).
    pub scored: usize,
    pub mean_mase: Option<f64>,
    pub mean_rmsse: Option<f64>,
    /// Share of scored days inside the q10–q90 interval, over all scored series.
    pub coverage: Option<f64>,
    pub nominal_coverage: f64,
    pub methods: Vec<MethodShare>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccuracyReport {
    pub summary: AccuracySummary,
    pub series: Vec<SeriesAccuracy>,
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// How accurate the forecasts have been: per series and in summary.
#[utoipa::path(get, path = "/api/v1/forecasts/accuracy", tag = "forecasts", params(AccuracyQuery), responses(
    (status = 200, description = "The report as JSON, or its per-series table as CSV or an Excel workbook", content(
        (AccuracyReport = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn accuracy(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<AccuracyQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    let format = ExportFormat::negotiate(q.format, &req);
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let rows = load_status(
        &state,
        ForecastFilter {
            site: q.site,
            items: list(q.item.as_deref()),
            districts: list(q.district.as_deref()),
            ..ForecastFilter::default()
        },
    )
    .await?;
    let mut series: Vec<SeriesAccuracy> = rows
        .into_iter()
        .map(|r| SeriesAccuracy {
            site: r.site,
            item: r.item,
            methods: r.status.methods,
            backtest_rmsse: r.status.backtest_rmsse,
            holdout: r.status.holdout,
            history_days: r.status.history_days,
            censored_days: r.status.censored_days,
        })
        .collect();
    series.sort_by(|a, b| (&a.site, &a.item).cmp(&(&b.site, &b.item)));
    if format != ExportFormat::Json {
        return export::respond_rows(format, "forecast-accuracy", &series).await;
    }
    let scored: Vec<&HoldoutScores> = series.iter().filter_map(|s| s.holdout.as_ref()).collect();
    let (inside, days) = scored.iter().fold((0.0, 0usize), |(i, d), h| {
        (
            i + h.coverage.unwrap_or(0.0) * h.scored as f64,
            d + h.scored,
        )
    });
    let mut methods: BTreeMap<&'static str, MethodShare> = BTreeMap::new();
    for m in series.iter().flat_map(|s| &s.methods) {
        methods
            .entry(m.name())
            .or_insert(MethodShare {
                method: *m,
                series: 0,
            })
            .series += 1;
    }
    let summary = AccuracySummary {
        series: series.len(),
        scored: scored.len(),
        mean_mase: mean(scored.iter().filter_map(|h| h.mase)),
        mean_rmsse: mean(scored.iter().filter_map(|h| h.rmsse)),
        coverage: (days > 0).then(|| inside / days as f64),
        nominal_coverage: scored.first().map_or(0.8, |h| h.nominal_coverage),
        methods: methods.into_values().collect(),
    };
    Ok(HttpResponse::Ok().json(AccuracyReport { summary, series }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsumptionQuery {
    /// Site code.
    pub site: String,
    /// Item SKU.
    pub item: String,
    /// First local day to return, YYYY-MM-DD (default: the first day with a movement).
    pub from: Option<String>,
    /// Last local day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
    /// `json` (default), `csv` or `xlsx` (one row per day).
    pub format: Option<ExportFormat>,
}

/// One day of a consumption series, as a spreadsheet row.
#[derive(Serialize)]
struct ConsumptionRow<'a> {
    site: &'a str,
    item: &'a str,
    #[serde(flatten)]
    day: &'a DailyUse,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsumptionView {
    pub site: String,
    pub item: String,
    /// The time zone whose days these are.
    pub time_zone: String,
    pub days: Vec<DailyUse>,
    pub flags: Vec<QualityFlag>,
    /// When older days exist than this answer holds (it covers at most 731 days): the
    /// `to` that asks for them.
    pub earlier: Option<NaiveDate>,
}

/// Most days one consumption answer holds (two years).
pub const MAX_CONSUMPTION_DAYS: u64 = 731;

/// Daily consumption reconstructed from the ledger: reported use on its day, unreported use
/// inferred from counts and spread over the interval, stockout days censored.
#[utoipa::path(get, path = "/api/v1/consumption", tag = "forecasts", params(ConsumptionQuery), responses(
    (status = 200, description = "The series as JSON; as CSV or a workbook, one row per day", content(
        (ConsumptionView = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown site or item", body = Problem, content_type = "application/problem+json"),
))]
pub async fn consumption_history(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<ConsumptionQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_at(Permission::ReadStock, &q.site)?;
    let format = ExportFormat::negotiate(q.format, &req);
    let from = param::<NaiveDate>("from", q.from.as_deref(), "a date (YYYY-MM-DD)")?;
    let to = param::<NaiveDate>("to", q.to.as_deref(), "a date (YYYY-MM-DD)")?;
    let settings = state.forecasting.clone();
    let until = to.unwrap_or_else(|| settings.local_day(chrono::Utc::now()));
    let (site, item) = (q.site.trim().to_owned(), q.item.trim().to_owned());
    let ids = state.db.ids();
    let events = {
        let (site, item) = (site.clone(), item.clone());
        blocking(&state, move |db| {
            db.read(|c| {
                let (s, _) = ids.site(c, "site", &site)?;
                let i = ids.item(c, "item", &item)?;
                forecasts::pair_events(c, (s, i))
            })
        })
        .await?
    };
    let mut series = consumption(&events, &settings, until);
    // One answer covers at most MAX_CONSUMPTION_DAYS days, the last ones up to `to`;
    // `earlier` is the `to` that asks for the days before them.
    let oldest = until - chrono::Days::new(MAX_CONSUMPTION_DAYS - 1);
    let first = from.map_or(oldest, |f| f.max(oldest));
    let earlier = (series.days.first().is_some_and(|d| d.day < first)
        && from.is_none_or(|f| f < first))
    .then(|| first.pred_opt())
    .flatten();
    series.days.retain(|d| d.day >= first && d.day <= until);
    if format != ExportFormat::Json {
        let rows: Vec<ConsumptionRow> = series
            .days
            .iter()
            .map(|day| ConsumptionRow {
                site: &site,
                item: &item,
                day,
            })
            .collect();
        return export::respond_rows(format, "consumption", &rows).await;
    }
    Ok(HttpResponse::Ok().json(ConsumptionView {
        site,
        item,
        time_zone: settings.time_zone.name().to_owned(),
        days: series.days,
        flags: series.flags,
        earlier,
    }))
}
