//! One unit × item from ledger to stored row: daily consumption in the local time zone,
//! forecast, out-of-sample scores, supply assessment.

use super::stored::{StoredDetail, StoredStatus};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ppe_domain::consumption::{ConsumptionSeries, LedgerEvent, daily_use};
use ppe_domain::forecast::accuracy::{HoldoutScores, holdout_scores};
use ppe_domain::forecast::method::Method;
use ppe_domain::forecast::{DateStep, ForecastConfig, Series, forecast_one, with_censoring};
use ppe_domain::supply::{Position, SupplyAssessment, SupplyPolicy, assess, day_range};
use ppe_persistence::forecasts::{ForecastRow, PairEvent, PairInput};

/// Days forecast ahead unless configured otherwise.
pub const DEFAULT_HORIZON_DAYS: usize = 56;

/// How forecasts are made and read.
#[derive(Debug, Clone)]
pub struct ForecastSettings {
    /// Days are local days in this zone (counts and use happen on the clock of the unit).
    pub time_zone: Tz,
    /// Days forecast and stored.
    pub horizon: usize,
    pub levels: Vec<f64>,
    /// Days of history fitted at most: older days barely move the forecast and cost time.
    pub max_history: usize,
    /// Days held out for the out-of-sample scores.
    pub holdout_days: usize,
    pub policy: SupplyPolicy,
}

impl ForecastSettings {
    pub fn new(time_zone: Tz) -> Self {
        ForecastSettings {
            time_zone,
            horizon: DEFAULT_HORIZON_DAYS,
            levels: vec![0.1, 0.5, 0.9],
            max_history: 365,
            holdout_days: 28,
            policy: SupplyPolicy::default(),
        }
    }

    /// The local calendar day of an instant.
    pub fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    fn config(&self) -> ForecastConfig {
        ForecastConfig::new(self.horizon, 7, &self.levels)
    }
}

/// Ledger movements as local-day events.
fn local_events(events: &[PairEvent], settings: &ForecastSettings) -> Vec<LedgerEvent> {
    events
        .iter()
        .map(|e| LedgerEvent {
            day: settings.local_day(e.occurred_at.and_utc()),
            kind: e.kind,
            delta: e.delta,
        })
        .collect()
}

/// Daily consumption through `until` (inclusive), in ledger order of the events.
pub fn consumption(
    events: &[PairEvent],
    settings: &ForecastSettings,
    until: NaiveDate,
) -> ConsumptionSeries {
    // The ledger order is the recording order; a late report of an earlier day still belongs
    // to its day, so order by day and keep the recording order within a day.
    let mut local = local_events(events, settings);
    local.sort_by_key(|e| e.day);
    daily_use(&local, until)
}

/// Computes the stored row of one pair. The forecast starts today (local): the history ends
/// yesterday, the last complete day.
pub fn compute(input: &PairInput, settings: &ForecastSettings, now: DateTime<Utc>) -> ForecastRow {
    let today = settings.local_day(now);
    let yesterday = today.pred_opt().unwrap_or(today);
    let series = consumption(&input.events, settings, yesterday);
    let keep = series.days.len().min(settings.max_history);
    let days = &series.days[series.days.len() - keep..];
    let quantities: Vec<f64> = days.iter().map(|d| d.quantity).collect();
    let censored: Vec<bool> = days.iter().map(|d| d.censored).collect();
    let values = with_censoring(&quantities, &censored);
    let cfg = settings.config();
    let observed = values.iter().any(Option::is_some);
    let forecast = forecast_one(
        &Series {
            id: format!("{}:{}", input.site_id, input.item_id),
            // An empty history still forecasts from today: zeros with no spread.
            start: days.first().map_or(yesterday, |d| d.day),
            step: DateStep::Day,
            values: if observed { values.clone() } else { vec![] },
        },
        &cfg,
    );
    let holdout = holdout_scores(&values, settings.holdout_days, &cfg);
    let position = Position {
        on_hand: input.on_hand,
        in_transit: input.in_transit,
        lead_time_days: u32::try_from(input.lead_time_days).unwrap_or(1),
        pack_size: input.pack_size,
        today,
    };
    let a = assess(&forecast, &position, &settings.policy);
    let fit = Fit {
        methods: forecast.methods.clone(),
        backtest_rmsse: forecast.backtest_rmsse,
        holdout,
        history_days: days.len() as u32,
        censored_days: days.iter().filter(|d| d.censored).count() as u32,
        inferred_days: days.iter().filter(|d| d.inferred).count() as u32,
        quality_flags: series.flags.len(),
    };
    let status = status(&a, &position, settings, fit);
    let detail = StoredDetail {
        forecast,
        flags: series.flags,
    };
    row(
        (input.site_id, input.item_id),
        now,
        input.events.iter().map(|e| e.id).max().unwrap_or(0),
        today,
        &status,
        serde_json::to_string(&detail).expect("plain data serialises"),
    )
}

/// What fitting said about a series: kept as it is when only the stock position changes.
struct Fit {
    methods: Vec<Method>,
    backtest_rmsse: Option<f64>,
    holdout: Option<HoldoutScores>,
    history_days: u32,
    censored_days: u32,
    inferred_days: u32,
    quality_flags: usize,
}

impl Fit {
    fn of(s: StoredStatus) -> Fit {
        Fit {
            methods: s.methods,
            backtest_rmsse: s.backtest_rmsse,
            holdout: s.holdout,
            history_days: s.history_days,
            censored_days: s.censored_days,
            inferred_days: s.inferred_days,
            quality_flags: s.quality_flags,
        }
    }
}

/// The stored status of an assessed position and its fit.
fn status(a: &SupplyAssessment, p: &Position, s: &ForecastSettings, fit: Fit) -> StoredStatus {
    StoredStatus {
        on_hand: p.on_hand,
        in_transit: p.in_transit,
        pack_size: p.pack_size,
        burn_rate: a.burn_rate,
        days_of_supply: a.days_of_supply,
        days_of_supply_cap: s.policy.horizon_days,
        expected_stockout_on: a.expected_stockout_on,
        stockout_probability: a.stockout_probability,
        risk_days: a.risk_days,
        stockout_within: a.stockout_within.clone(),
        band: a.band,
        day_range: day_range(a.days_of_supply.q50).to_owned(),
        service_level: s.policy.service_level,
        reorder_point: a.reorder_point,
        order_up_to: a.order_up_to,
        suggested_order: a.suggested_order,
        target_days: s.policy.target_days,
        target_demand: a.target_demand,
        methods: fit.methods,
        backtest_rmsse: fit.backtest_rmsse,
        holdout: fit.holdout,
        history_days: fit.history_days,
        censored_days: fit.censored_days,
        inferred_days: fit.inferred_days,
        quality_flags: fit.quality_flags,
    }
}

fn row(
    (site_id, item_id): (i64, i64),
    now: DateTime<Utc>,
    data_through_id: i64,
    first_day: NaiveDate,
    status: &StoredStatus,
    detail: String,
) -> ForecastRow {
    ForecastRow {
        site_id,
        item_id,
        computed_at: now.naive_utc(),
        data_through_id,
        first_day,
        band: status.band.as_str().to_owned(),
        stockout_probability: status.stockout_probability,
        dos_q50: status.days_of_supply.q50,
        status: serde_json::to_string(status).expect("plain data serialises"),
        detail,
    }
}

/// A stored row with a new stock position: same forecast (its history still ends yesterday),
/// new days of supply and risk. No model is fitted.
pub fn reassess(
    stored: &ForecastRow,
    (on_hand, in_transit): (i64, i64),
    newest_id: i64,
    settings: &ForecastSettings,
    now: DateTime<Utc>,
) -> Result<ForecastRow, serde_json::Error> {
    let old: StoredStatus = serde_json::from_str(&stored.status)?;
    let detail: StoredDetail = serde_json::from_str(&stored.detail)?;
    let position = Position {
        on_hand,
        in_transit,
        lead_time_days: old.risk_days,
        pack_size: old.pack_size,
        today: stored.first_day,
    };
    let a = assess(&detail.forecast, &position, &settings.policy);
    let status = status(&a, &position, settings, Fit::of(old));
    Ok(row(
        (stored.site_id, stored.item_id),
        now,
        stored.data_through_id.max(newest_id),
        stored.first_day,
        &status,
        stored.detail.clone(),
    ))
}
