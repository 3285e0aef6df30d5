//! What-if scenarios: extra patients and staff at some sites, laid over the stored forecasts.
//! Computed on request from stored forecasts; nothing is written.

use super::blocking;
use super::forecasts::{corrupt, stored};
use crate::auth::Auth;
use crate::extract::JsonBody;
use crate::forecasting::stored::{StoredDetail, StoredStatus};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use ppe_domain::access::Permission;
use ppe_domain::catalogue::Category;
use ppe_domain::forecast::CumulativeDemand;
use ppe_domain::scenario::{SiteDrivers, UsageRate, UsageRates, shares, validate_rates};
use ppe_domain::supply::{Band, Position, Spread, SupplyAssessment, assess_simulated};
use ppe_domain::validation::Violations;
use ppe_persistence::StoreError;
use ppe_persistence::forecasts::{self, ForecastFilter};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most driver rows one scenario may carry.
const MAX_ROWS: usize = 200;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRequest {
    /// Extra patients and staff per site and date range; rows of one site add up.
    pub sites: Vec<SiteDrivers>,
    /// Rates replacing the defaults of their categories (see `rates` in the answer).
    #[serde(default)]
    pub rates: Vec<UsageRate>,
}

/// Stock outlook of one unit × item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Outlook {
    pub days_of_supply: Spread,
    pub expected_stockout_on: Option<NaiveDate>,
    /// Probability of running out within the site's lead time.
    pub stockout_probability: f64,
    pub band: Band,
    pub suggested_order: i64,
}

impl From<SupplyAssessment> for Outlook {
    fn from(a: SupplyAssessment) -> Self {
        Outlook {
            days_of_supply: a.days_of_supply,
            expected_stockout_on: a.expected_stockout_on,
            stockout_probability: a.stockout_probability,
            band: a.band,
            suggested_order: a.suggested_order,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScenarioRow {
    pub site: String,
    pub item: String,
    pub category: Category,
    /// Extra base units the drivers need over their range (the part still to come).
    pub extra_need: f64,
    /// Share of the category's need given to this item (by its burn rate among the site's
    /// items of the category; even when none is used yet).
    pub share: f64,
    pub baseline: Outlook,
    pub scenario: Outlook,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemTotal {
    pub item: String,
    pub extra_need: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScenarioResult {
    /// Per unit × item, riskiest scenario first.
    pub rows: Vec<ScenarioRow>,
    /// Extra need per item over all sites.
    pub totals: Vec<ItemTotal>,
    /// The usage rates applied (defaults with the request's replacements).
    pub rates: Vec<UsageRate>,
}

/// Runs a what-if: the extra need of patients and staff on top of the forecasts, with the new
/// days of supply and stockout dates. Changes nothing stored.
#[utoipa::path(post, path = "/api/v1/scenarios", tag = "forecasts", request_body = ScenarioRequest, responses(
    (status = 200, body = ScenarioResult),
    (status = 422, description = "Invalid field or unknown site", body = Problem, content_type = "application/problem+json"),
))]
pub async fn run(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<ScenarioRequest>,
) -> Result<HttpResponse, Problem> {
    let req = body.value;
    auth.require(Permission::ReadStock)?;
    let mut v = Violations::default();
    if req.sites.is_empty() {
        v.add("sites", "name at least one site");
    } else if req.sites.len() > MAX_ROWS {
        v.add("sites", format!("at most {MAX_ROWS} rows"));
    }
    for (i, s) in req.sites.iter().enumerate() {
        s.validate(&format!("sites[{i}]"), &mut v);
    }
    validate_rates(&req.rates, &mut v);
    v.finish()?;
    for s in &req.sites {
        auth.require_at(Permission::ReadStock, s.site.trim())?;
    }
    let rates = UsageRates::defaults().overridden(&req.rates);
    let settings = state.forecasting.clone();
    let ids = state.db.ids();
    let codes: Vec<String> = req.sites.iter().map(|s| s.site.trim().to_owned()).collect();
    let by_site = blocking(&state, move |db| {
        db.read(|c| {
            let mut out = BTreeMap::new();
            for (i, code) in codes.iter().enumerate() {
                ids.site(c, &format!("sites[{i}].site"), code)?;
                if !out.contains_key(code) {
                    let filter = ForecastFilter {
                        site: Some(code.clone()),
                        ..ForecastFilter::default()
                    };
                    out.insert(code.clone(), forecasts::read_full(c, &filter)?);
                }
            }
            Ok::<_, StoreError>(out)
        })
    })
    .await?;
    // The simulations (paths × days per series) are heavy: off the async workers.
    let rates_used = rates.0.clone();
    let (rows, totals) = state
        .heavy
        .run(move || {
            let days = settings.policy.horizon_days as usize;
            let mut rows = Vec::new();
            let mut totals: BTreeMap<String, f64> = BTreeMap::new();
            for (code, series) in by_site {
                let drivers: Vec<&SiteDrivers> =
                    req.sites.iter().filter(|s| s.site.trim() == code).collect();
                let mut parsed = Vec::with_capacity(series.len());
                for n in series {
                    let status: StoredStatus = stored(&n.row.status)?;
                    let detail: StoredDetail = stored(&n.row.detail)?;
                    let category: Category = n.category.parse().map_err(corrupt)?;
                    parsed.push((n, status, detail, category));
                }
                for (n, status, detail, category) in &parsed {
                    let Some(rate) = rates.of(*category) else {
                        continue;
                    };
                    let peers: Vec<f64> = parsed
                        .iter()
                        .filter(|p| p.3 == *category)
                        .map(|p| p.1.burn_rate)
                        .collect();
                    let own = parsed
                        .iter()
                        .filter(|p| p.3 == *category)
                        .position(|p| p.0.item == n.item)
                        .unwrap_or(0);
                    let share = shares(&peers)[own];
                    let mut extra = vec![0.0; days];
                    for d in &drivers {
                        for (t, x) in d.daily_need(rate, n.row.first_day, days).iter().enumerate() {
                            extra[t] += x * share;
                        }
                    }
                    let position = Position {
                        on_hand: status.on_hand,
                        in_transit: status.in_transit,
                        lead_time_days: status.risk_days,
                        pack_size: status.pack_size,
                        today: n.row.first_day,
                    };
                    let policy = &settings.policy;
                    let sim = CumulativeDemand::simulate(
                        &detail.forecast,
                        days,
                        policy.paths,
                        policy.seed,
                    );
                    let baseline = assess_simulated(&sim, &position, policy);
                    let scenario = assess_simulated(&sim.with_extra(&extra), &position, policy);
                    let extra_need: f64 = extra.iter().sum();
                    *totals.entry(n.item.clone()).or_default() += extra_need;
                    rows.push(ScenarioRow {
                        site: n.site.clone(),
                        item: n.item.clone(),
                        category: *category,
                        extra_need,
                        share,
                        baseline: baseline.into(),
                        scenario: scenario.into(),
                    });
                }
            }
            rows.sort_by(|a, b| {
                b.scenario
                    .stockout_probability
                    .total_cmp(&a.scenario.stockout_probability)
                    .then(
                        a.scenario
                            .days_of_supply
                            .q50
                            .total_cmp(&b.scenario.days_of_supply.q50),
                    )
                    .then_with(|| (&a.site, &a.item).cmp(&(&b.site, &b.item)))
            });
            Ok::<_, Problem>((rows, totals))
        })
        .await??;
    Ok(HttpResponse::Ok().json(ScenarioResult {
        rows,
        totals: totals
            .into_iter()
            .map(|(item, extra_need)| ItemTotal { item, extra_need })
            .collect(),
        rates: rates_used,
    }))
}
