//! The vehicles that carry deliveries: capacities, the driver's shift, costs and trips per
//! day, and how one becomes a vehicle of the route planner.

use crate::patch::{Patch, double_option, required};
use crate::validation::Violations;
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// A vehicle as a client submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVehicle {
    /// Short unique code, e.g. `VAN-1`.
    pub code: String,
    pub name: String,
    /// Code of the warehouse it loads at and returns to.
    pub depot: String,
    /// Payload in kilograms.
    pub capacity_kg: f64,
    /// Cargo space in litres.
    pub capacity_litres: f64,
    /// Pallet places, when loads are counted in pallets too.
    #[serde(default)]
    pub capacity_pallets: Option<i32>,
    /// Local time `HH:MM` the driver starts.
    #[cfg_attr(feature = "openapi", schema(example = "08:00"))]
    pub shift_start: String,
    /// Local time `HH:MM` the vehicle must be back.
    #[cfg_attr(feature = "openapi", schema(example = "16:00"))]
    pub shift_end: String,
    /// Longest time on the road in a day, minutes (a driver's limit); none: the shift.
    #[serde(default)]
    pub max_driving_minutes: Option<i32>,
    /// Running cost per kilometre (NOK).
    #[serde(default)]
    pub cost_per_km: f64,
    /// Driver cost per hour on the road (NOK).
    #[serde(default)]
    pub cost_per_hour: f64,
    /// Paid once on a day the vehicle is used (NOK).
    #[serde(default)]
    pub fixed_cost_per_day: f64,
    /// Trips per day: 2 lets it come back, reload and go out again.
    #[serde(default = "one")]
    pub max_trips: i32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn one() -> i32 {
    1
}
fn yes() -> bool {
    true
}

/// A vehicle as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vehicle {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub depot: String,
    pub capacity_kg: f64,
    pub capacity_litres: f64,
    pub capacity_pallets: Option<i32>,
    pub shift_start: String,
    pub shift_end: String,
    pub max_driving_minutes: Option<i32>,
    pub cost_per_km: f64,
    pub cost_per_hour: f64,
    pub fixed_cost_per_day: f64,
    pub max_trips: i32,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Changes to a vehicle: absent fields stay, `null` clears an optional one. The code
/// never changes (plans and run sheets name vehicles by it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VehiclePatch {
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub depot: Option<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub capacity_kg: Option<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub capacity_litres: Option<f64>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub capacity_pallets: Patch<i32>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub shift_start: Option<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub shift_end: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub max_driving_minutes: Patch<i32>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub cost_per_km: Option<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub cost_per_hour: Option<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub fixed_cost_per_day: Option<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub max_trips: Option<i32>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
}

impl VehiclePatch {
    /// The vehicle as it would be after the patch, to be validated like a new one.
    pub fn apply(self, v: &Vehicle) -> NewVehicle {
        NewVehicle {
            code: v.code.clone(),
            name: self.name.unwrap_or_else(|| v.name.clone()),
            depot: self.depot.unwrap_or_else(|| v.depot.clone()),
            capacity_kg: self.capacity_kg.unwrap_or(v.capacity_kg),
            capacity_litres: self.capacity_litres.unwrap_or(v.capacity_litres),
            capacity_pallets: self.capacity_pallets.unwrap_or(v.capacity_pallets),
            shift_start: self.shift_start.unwrap_or_else(|| v.shift_start.clone()),
            shift_end: self.shift_end.unwrap_or_else(|| v.shift_end.clone()),
            max_driving_minutes: self.max_driving_minutes.unwrap_or(v.max_driving_minutes),
            cost_per_km: self.cost_per_km.unwrap_or(v.cost_per_km),
            cost_per_hour: self.cost_per_hour.unwrap_or(v.cost_per_hour),
            fixed_cost_per_day: self.fixed_cost_per_day.unwrap_or(v.fixed_cost_per_day),
            max_trips: self.max_trips.unwrap_or(v.max_trips),
            active: self.active.unwrap_or(v.active),
        }
    }
}

/// Parses a local `HH:MM`.
pub fn clock_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Seconds after midnight of a local `HH:MM`.
pub fn seconds_of_day(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.num_seconds_from_midnight())
}

fn check_amount(v: &mut Violations, field: &str, x: f64, max: f64, positive: bool) {
    let ok = x.is_finite() && x <= max && if positive { x > 0.0 } else { x >= 0.0 };
    if !ok {
        let lower = if positive { "above 0" } else { "at least 0" };
        v.add(field, format!("must be {lower} and at most {max}"));
    }
}

impl NewVehicle {
    /// Checks every field; returns the vehicle with trimmed text.
    pub fn validate(mut self) -> Result<NewVehicle, Violations> {
        let mut v = Violations::default();
        v.code("code", &mut self.code, crate::text::CODE_MAX);
        v.text("name", &self.name, 200);
        v.text("depot", &self.depot, 32);
        check_amount(&mut v, "capacity_kg", self.capacity_kg, 100_000.0, true);
        check_amount(
            &mut v,
            "capacity_litres",
            self.capacity_litres,
            1_000_000.0,
            true,
        );
        if let Some(p) = self.capacity_pallets
            && !(1..=100).contains(&p)
        {
            v.add("capacity_pallets", "must be between 1 and 100");
        }
        let start = clock_time(&self.shift_start);
        let end = clock_time(&self.shift_end);
        if start.is_none() {
            v.add("shift_start", "must be a local time HH:MM");
        }
        if end.is_none() {
            v.add("shift_end", "must be a local time HH:MM");
        }
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            v.add("shift_end", "must be after shift_start");
        }
        if let Some(m) = self.max_driving_minutes
            && !(1..=1440).contains(&m)
        {
            v.add("max_driving_minutes", "must be between 1 and 1440");
        }
        check_amount(&mut v, "cost_per_km", self.cost_per_km, 10_000.0, false);
        check_amount(
            &mut v,
            "cost_per_hour",
            self.cost_per_hour,
            100_000.0,
            false,
        );
        check_amount(
            &mut v,
            "fixed_cost_per_day",
            self.fixed_cost_per_day,
            1_000_000.0,
            false,
        );
        if !(1..=4).contains(&self.max_trips) {
            v.add("max_trips", "must be between 1 and 4");
        }
        v.finish()?;
        self.code = self.code.trim().to_owned();
        self.name = self.name.trim().to_owned();
        self.depot = self.depot.trim().to_owned();
        self.shift_start = self.shift_start.trim().to_owned();
        self.shift_end = self.shift_end.trim().to_owned();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn van() -> NewVehicle {
        NewVehicle {
            code: "VAN-1".into(),
            name: "Van 1".into(),
            depot: "WH".into(),
            capacity_kg: 1100.0,
            capacity_litres: 9000.0,
            capacity_pallets: None,
            shift_start: "08:00".into(),
            shift_end: "16:00".into(),
            max_driving_minutes: Some(420),
            cost_per_km: 4.5,
            cost_per_hour: 450.0,
            fixed_cost_per_day: 300.0,
            max_trips: 2,
            active: true,
        }
    }

    #[test]
    fn a_valid_van_passes() {
        assert!(van().validate().is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut v = van();
        v.capacity_kg = 0.0;
        v.shift_end = "07:00".into();
        v.max_trips = 0;
        v.cost_per_km = f64::NAN;
        let fields: Vec<String> = v
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["capacity_kg", "shift_end", "cost_per_km", "max_trips"]
        );
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_clears() {
        let stored = Vehicle {
            id: 1,
            code: "VAN-1".into(),
            name: "Van 1".into(),
            depot: "WH".into(),
            capacity_kg: 1100.0,
            capacity_litres: 9000.0,
            capacity_pallets: Some(2),
            shift_start: "08:00".into(),
            shift_end: "16:00".into(),
            max_driving_minutes: Some(420),
            cost_per_km: 4.5,
            cost_per_hour: 450.0,
            fixed_cost_per_day: 300.0,
            max_trips: 2,
            active: true,
            created_at: chrono::DateTime::UNIX_EPOCH,
        };
        let patch: VehiclePatch =
            serde_json::from_str(r#"{"capacity_kg": 1500, "capacity_pallets": null}"#).unwrap();
        // A field that cannot be cleared refuses null.
        assert!(serde_json::from_str::<VehiclePatch>(r#"{"capacity_kg": null}"#).is_err());
        let after = patch.apply(&stored);
        assert_eq!(after.capacity_kg, 1500.0);
        assert_eq!(after.capacity_pallets, None);
        assert_eq!(after.max_driving_minutes, Some(420));
        assert_eq!(after.code, "VAN-1");
    }
}
