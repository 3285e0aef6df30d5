//! From the stored state to a delivery plan's inputs: the depot, its fleet, the active
//! units with their opening windows on the day, the items, the stored supply status of
//! every unit × item, open requests and the depot's stock not held by other plans. The
//! rules (need, allocation, routes) are `ppe_domain::replenishment` and `::delivery`.

use crate::forecasting::ForecastSettings;
use crate::forecasting::stored::StoredStatus;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ppe_domain::catalogue::Item;
use ppe_domain::delivery::{
    DeliveryPlan, Override, PlanDepot, PlanInput, PlanItem, PlanUnit, RoutingSettings,
};
use ppe_domain::replenishment::{self, Need, PairPosition};
use ppe_domain::site::{Site, SiteKind};
use ppe_domain::validation::Violations;
use ppe_persistence::forecasts::{self, ForecastFilter};
use ppe_persistence::{DbConnection, StoreError, catalogue, fleet, plans, requests};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Longest route search a plan may ask for, seconds.
pub const MAX_TIME_LIMIT: f64 = 30.0;
/// How far ahead a plan may be made, days.
pub const MAX_DAYS_AHEAD: i64 = 60;
/// Shelf life a lot must keep after the delivery date to be shipped, by default.
pub const DEFAULT_MIN_SHELF_DAYS: i64 = 30;

/// A line a planner names instead of the proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplicitLine {
    /// Unit code.
    pub site: String,
    /// Item SKU.
    pub item: String,
    /// Base units wanted, at least 1.
    pub quantity: i64,
}

/// What a planner asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeliveryPlan {
    /// The delivery day (local), today or later; default today.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Warehouse code.
    pub depot: String,
    /// Vehicle codes; default: every active vehicle based at the depot.
    #[serde(default)]
    pub vehicles: Option<Vec<String>>,
    /// Lines instead of the replenishment proposal.
    #[serde(default)]
    pub lines: Option<Vec<ExplicitLine>>,
    /// A planner's quantities for some lines, kept and reported beside what allocation
    /// would have given.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// Seconds of route search (default 2, at most 30).
    #[serde(default)]
    pub time_limit: Option<f64>,
    /// A planned plan this one replaces (a re-plan: the new version, the old one kept as
    /// `superseded`).
    #[serde(default)]
    pub replaces: Option<i64>,
    /// Days of shelf life a lot must keep after the delivery date (default 30).
    #[serde(default)]
    pub min_shelf_days: Option<i64>,
}

impl NewDeliveryPlan {
    /// The delivery day: the one asked for, or today.
    pub fn day(&self, today: NaiveDate) -> NaiveDate {
        self.date.unwrap_or(today)
    }

    pub fn validate(&self, today: NaiveDate) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("depot", &self.depot, 32);
        let date = self.day(today);
        if date < today {
            v.add("date", "lies in the past");
        } else if (date - today).num_days() > MAX_DAYS_AHEAD {
            v.add(
                "date",
                format!("must be at most {MAX_DAYS_AHEAD} days ahead"),
            );
        }
        if let Some(t) = self.time_limit
            && !(t > 0.0 && t <= MAX_TIME_LIMIT)
        {
            v.add(
                "time_limit",
                format!("must be more than 0 and at most {MAX_TIME_LIMIT} seconds"),
            );
        }
        if let Some(d) = self.min_shelf_days
            && !(0..=3650).contains(&d)
        {
            v.add("min_shelf_days", "must be between 0 and 3650");
        }
        if let Some(vs) = &self.vehicles {
            if vs.is_empty() {
                v.add("vehicles", "must name at least one vehicle, or be left out");
            }
            for (i, c) in vs.iter().enumerate() {
                v.text(&format!("vehicles[{i}]"), c, 32);
            }
        }
        if let Some(lines) = &self.lines {
            if lines.is_empty() {
                v.add("lines", "must hold at least one line, or be left out");
            }
            if lines.len() > 10_000 {
                v.add("lines", "must hold at most 10000 lines");
            }
            for (i, l) in lines.iter().enumerate() {
                v.text(&format!("lines[{i}].site"), &l.site, 32);
                v.text(&format!("lines[{i}].item"), &l.item, 64);
                if !(1..=ppe_domain::stock::MAX_LINE_QUANTITY).contains(&l.quantity) {
                    v.add(
                        format!("lines[{i}].quantity"),
                        "must be between 1 and 1000000000",
                    );
                }
            }
        }
        if self.overrides.len() > 10_000 {
            v.add("overrides", "must hold at most 10000 lines");
        }
        v.finish()
    }
}

/// Everything gathered for a plan or a proposal.
pub struct Gathered {
    pub depot: Site,
    /// The open request lines the needs include.
    pub request_lines: Vec<requests::OpenLine>,
    pub units: Vec<Site>,
    pub items: Vec<Item>,
    pub needs: Vec<Need>,
    pub input: PlanInput,
}

/// The local midnight starting `date`, in UTC.
fn day_start(settings: &ForecastSettings, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    settings
        .time_zone
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The depot by code: it must exist, be a warehouse and be active (`field` names it).
pub fn depot(conn: &mut DbConnection, field: &str, code: &str) -> Result<Site, StoreError> {
    let depot = catalogue::site_by_code(conn, code.trim())?
        .ok_or_else(|| StoreError::not_found(field, "site", code.trim()))?;
    if depot.kind != SiteKind::Warehouse {
        return Err(StoreError::not_found(field, "warehouse", code.trim()));
    }
    if !depot.active {
        return Err(StoreError::contradicts(field, "is deactivated"));
    }
    Ok(depot)
}

/// Supply positions of every active unit × item from the stored supply status.
fn positions(
    conn: &mut DbConnection,
    tiers: &HashMap<i64, u8>,
    active_items: &HashMap<i64, &Item>,
) -> Result<Vec<PairPosition>, StoreError> {
    let mut out = Vec::new();
    for n in forecasts::read_status(conn, &ForecastFilter::default())? {
        let (Some(&tier), Some(item)) =
            (tiers.get(&n.row.site_id), active_items.get(&n.row.item_id))
        else {
            continue;
        };
        let s: StoredStatus = serde_json::from_str(&n.row.status).map_err(|e| {
            StoreError::Encode(format!("a stored supply status is unreadable: {e}"))
        })?;
        out.push(PairPosition {
            site: n.row.site_id,
            item: n.row.item_id,
            tier,
            on_hand: s.on_hand,
            in_transit: s.in_transit,
            pack_size: item.pack_size,
            burn_rate: s.burn_rate,
            days_of_supply: s.days_of_supply.q50,
            stockout_probability: s.stockout_probability,
            suggested_order: s.suggested_order,
        });
    }
    Ok(out)
}

/// The requests a plan takes up: those whose every line's unit × item is on a route with
/// stock allocated. The others stay open for another plan.
pub fn taken_requests(
    plan: &DeliveryPlan,
    units: &[Site],
    items: &[Item],
    lines: &[requests::OpenLine],
) -> Vec<i64> {
    let unit_codes: HashMap<i64, &str> = units.iter().map(|u| (u.id, u.code.as_str())).collect();
    let skus: HashMap<i64, &str> = items.iter().map(|i| (i.id, i.sku.as_str())).collect();
    let served = |site: i64, item: i64| {
        plan.lines.iter().any(|l| {
            l.routed
                && l.allocated > 0
                && Some(l.site.as_str()) == unit_codes.get(&site).copied()
                && Some(l.item.as_str()) == skus.get(&item).copied()
        })
    };
    let mut by_request: BTreeMap<i64, bool> = BTreeMap::new();
    for &(id, site, item, ..) in lines {
        let ok = served(site, item);
        by_request
            .entry(id)
            .and_modify(|all| *all &= ok)
            .or_insert(ok);
    }
    by_request
        .into_iter()
        .filter_map(|(id, all)| all.then_some(id))
        .collect()
}

/// Loads the inputs of a plan (or, with `req.lines` absent, of the proposal) on one
/// reader connection. Field errors name the request's fields.
pub fn gather(
    conn: &mut DbConnection,
    settings: &ForecastSettings,
    req: &NewDeliveryPlan,
    today: NaiveDate,
) -> Result<Gathered, StoreError> {
    let date = req.day(today);
    let depot = depot(conn, "depot", &req.depot)?;
    let mut v = Violations::default();
    let vehicles = match &req.vehicles {
        Some(codes) => {
            let mut out = Vec::new();
            for (i, c) in codes.iter().enumerate() {
                if codes[..i].iter().any(|p| p.trim() == c.trim()) {
                    v.add(format!("vehicles[{i}]"), "names the same vehicle twice");
                    continue;
                }
                match fleet::vehicle_by_code(conn, c.trim())? {
                    Some(x) => out.push(x),
                    None => v.add(
                        format!("vehicles[{i}]"),
                        format!("no vehicle `{}`", c.trim()),
                    ),
                }
            }
            out
        }
        None => fleet::list_vehicles(conn)?
            .into_iter()
            .filter(|x| x.active && x.depot == depot.code)
            .collect(),
    };
    let units: Vec<Site> = catalogue::list_sites(conn)?
        .into_iter()
        .filter(|s| s.kind == SiteKind::Unit && s.active)
        .collect();
    let items: Vec<Item> = catalogue::list_items(conn)?
        .into_iter()
        .filter(|i| i.active)
        .collect();
    let tiers: HashMap<i64, u8> = units
        .iter()
        .map(|u| (u.id, u.priority_tier.clamp(1, 4) as u8))
        .collect();
    let by_id: HashMap<i64, &Item> = items.iter().map(|i| (i.id, i)).collect();
    let pack_sizes: BTreeMap<i64, i64> = items.iter().map(|i| (i.id, i.pack_size)).collect();
    let positions = positions(conn, &tiers, &by_id)?;
    // The open request lines the proposal is made of (a planner's explicit lines take none).
    let mut request_lines = Vec::new();
    let needs = match &req.lines {
        Some(lines) => {
            let unit_ids: HashMap<&str, i64> =
                units.iter().map(|u| (u.code.as_str(), u.id)).collect();
            let item_ids: HashMap<&str, i64> =
                items.iter().map(|i| (i.sku.as_str(), i.id)).collect();
            let mut explicit = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                let site = unit_ids.get(l.site.trim());
                let item = item_ids.get(l.item.trim());
                if site.is_none() {
                    v.add(format!("lines[{i}].site"), "is not an active unit");
                }
                if item.is_none() {
                    v.add(format!("lines[{i}].item"), "is not an active item");
                }
                if let (Some(&s), Some(&it)) = (site, item) {
                    if explicit.iter().any(|(a, b, _)| *a == s && *b == it) {
                        v.add(format!("lines[{i}]"), "names the same unit and item twice");
                    }
                    explicit.push((s, it, l.quantity));
                }
            }
            ppe_domain::delivery::explicit_needs(&explicit, &positions, &tiers, &pack_sizes)
        }
        None => {
            request_lines = requests::open_request_lines(conn, req.replaces)?
                .into_iter()
                .filter(|r| tiers.contains_key(&r.1) && by_id.contains_key(&r.2))
                .collect();
            replenishment::propose(&positions, &requests::summed(&request_lines), &pack_sizes)
        }
    };
    // Lines naming units or items that are not active contradict the catalogue (409).
    v.finish().map_err(StoreError::Contradicts)?;
    let stock = plans::unheld_lots(conn, depot.id, req.replaces)?;
    let weekday = date.weekday().number_from_monday() as u8;
    let input = PlanInput {
        date,
        day_start: day_start(settings, date),
        depot: PlanDepot {
            id: depot.id,
            code: depot.code.clone(),
            latitude: depot.latitude,
            longitude: depot.longitude,
        },
        units: units
            .iter()
            .map(|u| PlanUnit {
                id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                address: u.address.clone(),
                latitude: u.latitude,
                longitude: u.longitude,
                tier: tiers[&u.id],
                windows: u.windows_on(weekday),
            })
            .collect(),
        items: items
            .iter()
            .map(|i| PlanItem {
                id: i.id,
                sku: i.sku.clone(),
                pack_size: i.pack_size,
                weight_g: i.weight_g,
                volume_cm3: i.volume_cm3,
            })
            .collect(),
        vehicles,
        needs: needs.clone(),
        stock,
        overrides: req.overrides.clone(),
        min_shelf_days: req.min_shelf_days.unwrap_or(DEFAULT_MIN_SHELF_DAYS),
        routing: RoutingSettings {
            time_limit: req.time_limit.unwrap_or(2.0),
            ..RoutingSettings::default()
        },
    };
    Ok(Gathered {
        depot,
        request_lines,
        units,
        items,
        needs,
        input,
    })
}
