//! Sites that hold stock: the central warehouse and the units it supplies.

use crate::patch::{Patch, double_option, required};
use crate::validation::Violations;
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Warehouse,
    Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    NursingHome,
    HomeCare,
    GpOffice,
    EmergencyWard,
    School,
    Kindergarten,
    DisabilityHousing,
    Other,
}

crate::text_enum!(SiteKind { Warehouse = "warehouse", Unit = "unit" });
crate::text_enum!(UnitType {
    NursingHome = "nursing_home",
    HomeCare = "home_care",
    GpOffice = "gp_office",
    EmergencyWard = "emergency_ward",
    School = "school",
    Kindergarten = "kindergarten",
    DisabilityHousing = "disability_housing",
    Other = "other",
});

/// One delivery window on some weekdays, in the site's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpeningWindow {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Local time `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(example = "08:00"))]
    pub opens: String,
    /// Local time `HH:MM`, after `opens`.
    #[cfg_attr(feature = "openapi", schema(example = "15:30"))]
    pub closes: String,
}

impl OpeningWindow {
    pub fn times(&self) -> Option<(NaiveTime, NaiveTime)> {
        let o = NaiveTime::parse_from_str(&self.opens, "%H:%M").ok()?;
        let c = NaiveTime::parse_from_str(&self.closes, "%H:%M").ok()?;
        Some((o, c))
    }
}

/// A site as a client submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Short unique code, e.g. `NH-01`.
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    /// For units: what kind of unit (drives allocation priority defaults).
    #[serde(default)]
    pub unit_type: Option<UnitType>,
    #[serde(default)]
    pub district: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub address: Option<String>,
    /// Delivery windows; empty means deliveries any time.
    #[serde(default)]
    pub opening_hours: Vec<OpeningWindow>,
    /// 1 is served first when stock is short (nursing homes), 4 last.
    #[serde(default = "default_priority")]
    pub priority_tier: i32,
    /// Days from ordering to delivery; the horizon of stockout risk.
    #[serde(default = "default_lead_time")]
    pub lead_time_days: i32,
}

/// A site as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub unit_type: Option<UnitType>,
    pub district: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    pub opening_hours: Vec<OpeningWindow>,
    pub priority_tier: i32,
    pub lead_time_days: i32,
    /// An inactive site keeps its history but takes no new deliveries and drops out of
    /// supply status.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Changes to a site: absent fields stay, `null` clears an optional one. The code and the
/// kind never change (the ledger and tokens name sites by code).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<UnitType>))]
    pub unit_type: Patch<UnitType>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub district: Patch<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub latitude: Option<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub longitude: Option<f64>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Patch<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub opening_hours: Option<Vec<OpeningWindow>>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub priority_tier: Option<i32>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub lead_time_days: Option<i32>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
}

impl SitePatch {
    /// The site as it would be after the patch (validate it like a new one), and whether
    /// it stays active.
    pub fn apply(self, s: &Site) -> (NewSite, bool) {
        let site = NewSite {
            code: s.code.clone(),
            name: self.name.unwrap_or_else(|| s.name.clone()),
            kind: s.kind,
            unit_type: self.unit_type.unwrap_or(s.unit_type),
            district: self.district.unwrap_or_else(|| s.district.clone()),
            latitude: self.latitude.unwrap_or(s.latitude),
            longitude: self.longitude.unwrap_or(s.longitude),
            address: self.address.unwrap_or_else(|| s.address.clone()),
            opening_hours: self
                .opening_hours
                .unwrap_or_else(|| s.opening_hours.clone()),
            priority_tier: self.priority_tier.unwrap_or(s.priority_tier),
            lead_time_days: self.lead_time_days.unwrap_or(s.lead_time_days),
        };
        (site, self.active.unwrap_or(s.active))
    }
}

impl Site {
    /// The delivery windows on `weekday` (1 = Monday), as local times; `None` when the
    /// site is closed that day; one all-day window when it lists no hours at all.
    pub fn windows_on(&self, weekday: u8) -> Option<Vec<(NaiveTime, NaiveTime)>> {
        if self.opening_hours.is_empty() {
            return Some(vec![(NaiveTime::MIN, NaiveTime::from_hms_opt(23, 59, 0)?)]);
        }
        let mut w: Vec<(NaiveTime, NaiveTime)> = self
            .opening_hours
            .iter()
            .filter(|w| w.weekdays.contains(&weekday))
            .filter_map(OpeningWindow::times)
            .collect();
        w.sort();
        // Overlapping windows of one day merge into one.
        let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::new();
        for (o, c) in w {
            match merged.last_mut() {
                Some(last) if o <= last.1 => last.1 = last.1.max(c),
                _ => merged.push((o, c)),
            }
        }
        (!merged.is_empty()).then_some(merged)
    }
}

fn default_priority() -> i32 {
    3
}
fn default_lead_time() -> i32 {
    2
}

impl NewSite {
    pub fn validate(mut self) -> Result<NewSite, Violations> {
        let mut v = Violations::default();
        v.code("code", &mut self.code, crate::text::CODE_MAX);
        v.text("name", &self.name, 200);
        if !self.latitude.is_finite() || !(-90.0..=90.0).contains(&self.latitude) {
            v.add("latitude", "must be between -90 and 90");
        }
        if !self.longitude.is_finite() || !(-180.0..=180.0).contains(&self.longitude) {
            v.add("longitude", "must be between -180 and 180");
        }
        if self.kind == SiteKind::Warehouse && self.unit_type.is_some() {
            v.add("unit_type", "only units have a unit type");
        }
        if let Some(d) = &self.district {
            v.text("district", d, 100);
        }
        if let Some(a) = &self.address {
            v.text("address", a, 300);
        }
        for (i, w) in self.opening_hours.iter().enumerate() {
            let repeated = w
                .weekdays
                .iter()
                .enumerate()
                .any(|(k, d)| w.weekdays[..k].contains(d));
            if repeated {
                v.add(
                    format!("opening_hours[{i}].weekdays"),
                    "names a weekday twice",
                );
            }
            if w.weekdays.is_empty() || w.weekdays.iter().any(|d| !(1..=7).contains(d)) {
                v.add(
                    format!("opening_hours[{i}].weekdays"),
                    "must list weekdays 1 (Monday) to 7 (Sunday)",
                );
            }
            match w.times() {
                None => v.add(format!("opening_hours[{i}]"), "times must be HH:MM"),
                Some((o, c)) if o >= c => {
                    v.add(format!("opening_hours[{i}].closes"), "must be after opens")
                }
                Some(_) => {}
            }
        }
        if !(1..=4).contains(&self.priority_tier) {
            v.add("priority_tier", "must be 1 (first) to 4 (last)");
        }
        if !(0..=60).contains(&self.lead_time_days) {
            v.add("lead_time_days", "must be between 0 and 60");
        }
        v.finish()?;
        self.code = self.code.trim().to_owned();
        self.name = self.name.trim().to_owned();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> NewSite {
        NewSite {
            code: "NH-01".into(),
            name: "Lia nursing home".into(),
            kind: SiteKind::Unit,
            unit_type: Some(UnitType::NursingHome),
            district: Some("North".into()),
            latitude: 59.9,
            longitude: 10.7,
            address: None,
            opening_hours: vec![OpeningWindow {
                weekdays: vec![1, 2, 3, 4, 5],
                opens: "08:00".into(),
                closes: "15:30".into(),
            }],
            priority_tier: 1,
            lead_time_days: 2,
        }
    }

    #[test]
    fn valid_site_passes() {
        assert!(site().validate().is_ok());
    }

    #[test]
    fn out_of_range_coordinates_and_windows_are_named() {
        let mut s = site();
        s.latitude = 200.0;
        s.opening_hours[0].closes = "07:00".into();
        s.opening_hours[0].weekdays = vec![8];
        let fields: Vec<String> = s
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "latitude",
                "opening_hours[0].weekdays",
                "opening_hours[0].closes"
            ]
        );
    }
}
