//! The stored delivery plan, as clients read it, and the rules of its life.

use crate::allocation::{AllocationReason, LotPick};
use crate::replenishment::NeedReason;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Stored; its allocated stock is held for it.
    Planned,
    /// Every routed stop left the depot as a transfer.
    Dispatched,
    /// Every transfer of the plan was received.
    Completed,
    Cancelled,
    /// Re-planned: a newer version replaces it.
    Superseded,
}

crate::text_enum!(PlanStatus {
    Planned = "planned",
    Dispatched = "dispatched",
    Completed = "completed",
    Cancelled = "cancelled",
    Superseded = "superseded",
});

impl PlanStatus {
    /// Only a plan whose stock has not left can be dispatched, re-planned or cancelled.
    pub fn is_open(self) -> bool {
        self == PlanStatus::Planned
    }

    /// Whether the plan still holds depot stock for its lines (so new plans may not use it).
    pub fn holds_stock(self) -> bool {
        self == PlanStatus::Planned
    }

    /// The one state a plan moves to `self` from: a planned plan is dispatched, cancelled or
    /// superseded; a dispatched one is completed. `None` for the first state.
    pub fn reached_from(self) -> Option<PlanStatus> {
        match self {
            PlanStatus::Planned => None,
            PlanStatus::Dispatched | PlanStatus::Cancelled | PlanStatus::Superseded => {
                Some(PlanStatus::Planned)
            }
            PlanStatus::Completed => Some(PlanStatus::Dispatched),
        }
    }
}

/// One unit × item of the plan: the need, what allocation gave it and from which lots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanLine {
    pub site: String,
    pub item: String,
    pub tier: u8,
    /// Base units the unit needs (whole packs).
    pub requested: i64,
    pub need_reason: NeedReason,
    /// Base units allocated (after any override).
    pub allocated: i64,
    pub reason: AllocationReason,
    /// What allocation had given before a planner overrode the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_from: Option<i64>,
    /// The depot lots the allocation is drawn from, first expiry first.
    pub lots: Vec<LotPick>,
    /// Days of supply at the burn rate before and after the delivery; absent without use.
    pub days_before: Option<f64>,
    pub days_after: Option<f64>,
    pub stockout_probability_before: Option<f64>,
    /// Whether the line's stop is on a route (else it waits for another day).
    pub routed: bool,
}

/// One delivery stop on a trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanStop {
    /// 1-based position on the route, over all its trips.
    pub order: usize,
    pub site: String,
    pub site_name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// The opening window service starts in, local `HH:MM–HH:MM`.
    pub window: Option<String>,
    pub arrival: DateTime<Utc>,
    /// Local `HH:MM` of the service start (the ETA on the run sheet).
    pub eta_local: String,
    pub departure: DateTime<Utc>,
    pub lines: usize,
    pub weight_kg: f64,
    pub volume_litres: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanTrip {
    /// 1 for the first departure of the day, 2 after reloading, …
    pub number: usize,
    pub stops: Vec<PlanStop>,
    pub load_kg: f64,
    pub load_litres: f64,
    pub departure: DateTime<Utc>,
    pub return_at: DateTime<Utc>,
}

/// One vehicle's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanRoute {
    /// 1-based; names the route's run sheet.
    pub number: usize,
    pub vehicle: String,
    pub trips: Vec<PlanTrip>,
    pub distance_km: f64,
    /// Minutes from leaving the depot to the return, waits and service included.
    pub duration_minutes: f64,
    pub driving_minutes: f64,
    /// NOK: per km, per hour and the fixed cost of the day.
    pub cost: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnservedReason {
    /// The unit takes no deliveries on the plan's date.
    ClosedOnDate,
    /// The unit's load is larger than any vehicle of the plan carries.
    ExceedsVehicleCapacity,
    /// Capacity, shifts and opening hours left no room for it; it waits for another day.
    NoRoomOnRoutes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnassignedStop {
    pub site: String,
    pub tier: u8,
    pub reason: UnservedReason,
    pub weight_kg: f64,
    pub volume_litres: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanTotals {
    /// Units with at least one routed line.
    pub units_served: usize,
    pub units_unserved: usize,
    /// Base units on the routes, over all items.
    pub stock_delivered: i64,
    /// Σ over routed lines with use of days after − days before.
    pub days_of_supply_gained: f64,
    pub distance_km: f64,
    pub driving_minutes: f64,
    pub cost: f64,
    pub vehicles_used: usize,
}

/// A stored delivery plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryPlan {
    pub id: i64,
    /// 1 for a first plan; a re-plan is the replaced plan's version + 1.
    pub version: i32,
    pub replaces: Option<i64>,
    pub status: PlanStatus,
    pub date: NaiveDate,
    pub depot: String,
    /// Codes of the vehicles the plan could use.
    pub vehicles: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The API token that made it.
    pub created_by: Option<String>,
    pub lines: Vec<PlanLine>,
    pub routes: Vec<PlanRoute>,
    pub unassigned: Vec<UnassignedStop>,
    pub totals: PlanTotals,
    /// Seconds the route search ran.
    pub solve_seconds: f64,
    /// The transfers made by the dispatch, one per routed stop.
    #[serde(default)]
    pub transfers: Vec<i64>,
}

/// What one routed stop takes from the depot: a transfer to make.
#[derive(Debug, Clone, PartialEq)]
pub struct StopDispatch {
    pub route: usize,
    pub stop: usize,
    pub site: String,
    /// (item SKU, lot, quantity), lots named so the dispatch takes exactly what was planned.
    pub lines: Vec<(String, String, i64)>,
}

impl DeliveryPlan {
    /// The transfers a dispatch makes: one per routed stop with its allocated lots, in route
    /// and stop order. Lines of unrouted stops stay at the depot.
    pub fn dispatches(&self) -> Vec<StopDispatch> {
        let mut out = Vec::new();
        for r in &self.routes {
            for stop in r.trips.iter().flat_map(|t| &t.stops) {
                let lines: Vec<(String, String, i64)> = self
                    .lines
                    .iter()
                    .filter(|l| l.site == stop.site && l.allocated > 0)
                    .flat_map(|l| {
                        l.lots
                            .iter()
                            .filter(|p| p.quantity > 0)
                            .map(|p| (l.item.clone(), p.lot.clone(), p.quantity))
                    })
                    .collect();
                if !lines.is_empty() {
                    out.push(StopDispatch {
                        route: r.number,
                        stop: stop.order,
                        site: stop.site.clone(),
                        lines,
                    });
                }
            }
        }
        out
    }

    /// Stock the plan holds at its depot, per (item SKU, lot), while it is open.
    pub fn held(&self) -> Vec<(String, String, i64)> {
        if !self.status.holds_stock() {
            return Vec::new();
        }
        self.lines
            .iter()
            .flat_map(|l| {
                l.lots
                    .iter()
                    .map(|p| (l.item.clone(), p.lot.clone(), p.quantity))
            })
            .collect()
    }
}
