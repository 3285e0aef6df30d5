//! The JSON documents stored beside each forecast row: the supply status (small, read by
//! every dashboard poll) and the detail (daily points and backtest errors, read for one
//! series at a time and by scenarios).

use ppe_domain::consumption::QualityFlag;
use ppe_domain::forecast::SeriesForecast;
use ppe_domain::forecast::accuracy::HoldoutScores;
use ppe_domain::forecast::method::Method;
use ppe_domain::supply::{Band, Spread};
use serde::{Deserialize, Serialize};

/// Supply position and risk of one unit × item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredStatus {
    /// On hand at computation time, all lots, base units.
    pub on_hand: i64,
    /// Dispatched to the unit and not yet received.
    pub in_transit: i64,
    /// Base units per pack: orders are whole packs.
    pub pack_size: i64,
    /// Forecast mean use per day over the target days.
    pub burn_rate: f64,
    /// Days until on hand + in transit is used up, at q10 (pessimistic), q50 and q90.
    pub days_of_supply: Spread,
    /// Days simulated: a days-of-supply value equal to it reads "at least this many".
    pub days_of_supply_cap: u32,
    /// First day expected without stock (median path); absent beyond the cap.
    pub expected_stockout_on: Option<chrono::NaiveDate>,
    /// Probability of running out within `risk_days`.
    pub stockout_probability: f64,
    /// The site's lead time.
    pub risk_days: u32,
    /// `stockout_within[n − 1]`: probability of running out within `n` days, n = 1…28.
    pub stockout_within: Vec<f64>,
    /// Red under 3 days of supply (median), amber 3–7, green from 7.
    pub band: Band,
    /// The NHS North-East London PPE tracker's range (2020) of the median days of supply:
    /// <1, 1-2, 2-3, 3-7, >=7.
    pub day_range: String,
    /// Service level the reorder point and order-up-to level are set for.
    pub service_level: f64,
    /// Order when on hand + in transit falls to this (lead-time demand at the service level).
    pub reorder_point: i64,
    /// Demand over lead time + target days at the service level.
    pub order_up_to: i64,
    /// Whole packs to order now: order-up-to − on hand − in transit, rounded up; 0 when above.
    pub suggested_order: i64,
    pub target_days: u32,
    /// Demand over the target days: q10, q50, q90.
    pub target_demand: Spread,
    /// Methods combined into the forecast, best first.
    pub methods: Vec<Method>,
    /// RMSSE of the combination in the in-sample rolling-origin backtest that chose it.
    pub backtest_rmsse: Option<f64>,
    /// The same procedure scored out of sample on the last 28 days.
    pub holdout: Option<HoldoutScores>,
    /// Days of consumption history the forecast was fitted on.
    pub history_days: u32,
    /// Of those, days with no stock (demand unknown, not fitted as zero).
    pub censored_days: u32,
    /// Of those, days whose use was spread from a count interval.
    pub inferred_days: u32,
    /// Data-quality flags of the history (negative implied use, long gaps).
    pub quality_flags: usize,
}

/// The daily forecast and what produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDetail {
    pub forecast: SeriesForecast,
    pub flags: Vec<QualityFlag>,
}
