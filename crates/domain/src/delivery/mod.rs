//! Delivery plans: from what each unit needs to routed stops. A plan allocates the depot's
//! stock to the needs (`allocation`), turns each unit's allocated lines into one routing job
//! (weight and volume from the items, service time from the number of lines, time windows
//! from the unit's opening hours on the day, priority from its tier), solves the routes
//! (`routing`) and assembles the stored document: lines with lots, routes of timed stops,
//! unserved stops with their reason, totals. The plan's life (`PlanStatus`) and what a
//! dispatch and a receipt may do are here too.

mod build;
mod document;
mod receiving;
#[cfg(test)]
mod tests;

pub use build::{
    Override, PlanDepot, PlanInput, PlanItem, PlanUnit, RoutingSettings, allocate_needs,
    build_plan, explicit_needs, routing_problem,
};
pub use document::{
    DeliveryPlan, PlanLine, PlanRoute, PlanStatus, PlanStop, PlanTotals, PlanTrip, StopDispatch,
    UnassignedStop, UnservedReason,
};
pub use receiving::{
    Disposition, LineOutcome, Outcome, ReceivedLine, ShippedLine, Unsettled, settle,
};
