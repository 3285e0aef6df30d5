//! Driver-based what-ifs (WHO ESFT, CDC, CHIME): extra patients by severity and staff at a
//! site over a date range, times per-category usage rates, give an extra daily need that is
//! laid over the forecast. `need/day = Σ patients_by_severity × items_per_patient_day +
//! staff × items_per_staff_day`; single-use items count every day, reusable ones (visors,
//! goggles) once per person.
//!
//! The rates are data: [`UsageRates::defaults`] reads `usage_rates.csv` beside this file, and a
//! request may replace any category's row. The defaults sit inside the range published in
//! 2020 for a confirmed COVID-19 patient-day: from about 1.3 respirators, 1.75 gowns and 8.6
//! gloves with maximal conservation (CDC) up to 14–24 full sets without conservation (ECDC);
//! mild ≈ home care or a nursing-home resident isolated in their room, critical ≈ aerosol-
//! generating care around the clock.

use crate::catalogue::Category;
use crate::validation::Violations;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Whether a rate is per day or once per person for the whole range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    PerDay,
    Once,
}

/// Base units of one category used per patient (by severity) and per staff member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UsageRate {
    pub category: Category,
    pub basis: Basis,
    pub mild: f64,
    pub severe: f64,
    pub critical: f64,
    pub staff: f64,
}

/// The rates in force: one row per category, categories without a row need nothing extra.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageRates(pub Vec<UsageRate>);

const DEFAULT_RATES: &str = include_str!("usage_rates.csv");

impl UsageRates {
    /// The documented defaults.
    pub fn defaults() -> UsageRates {
        let mut rows = csv::Reader::from_reader(DEFAULT_RATES.as_bytes());
        UsageRates(
            rows.deserialize()
                .collect::<Result<Vec<UsageRate>, _>>()
                .expect("usage_rates.csv is valid: a unit test reads it"),
        )
    }

    /// These rates with `overrides` replacing the rows of their categories.
    pub fn overridden(mut self, overrides: &[UsageRate]) -> UsageRates {
        for o in overrides {
            self.0.retain(|r| r.category != o.category);
            self.0.push(o.clone());
        }
        self
    }

    pub fn of(&self, category: Category) -> Option<&UsageRate> {
        self.0.iter().find(|r| r.category == category)
    }
}

/// Extra patients by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Patients {
    #[serde(default)]
    pub mild: u32,
    #[serde(default)]
    pub severe: u32,
    #[serde(default)]
    pub critical: u32,
}

/// The drivers at one site over an inclusive date range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SiteDrivers {
    /// Site code.
    pub site: String,
    /// First day (local), inclusive.
    pub from: NaiveDate,
    /// Last day (local), inclusive.
    pub to: NaiveDate,
    #[serde(default)]
    pub patients: Patients,
    /// Extra staff on duty each day (for example agency staff during an outbreak).
    #[serde(default)]
    pub staff: u32,
}

/// More people than this at one site is a typing error, not a scenario.
const MAX_PEOPLE: u32 = 100_000;
/// Longest date range of one scenario row.
pub const MAX_RANGE_DAYS: i64 = 366;

impl SiteDrivers {
    pub fn validate(&self, at: &str, v: &mut Violations) {
        v.text(&format!("{at}.site"), &self.site, 64);
        if self.to < self.from {
            v.add(format!("{at}.to"), "must not be before `from`");
        } else if (self.to - self.from).num_days() >= MAX_RANGE_DAYS {
            v.add(
                format!("{at}.to"),
                format!("the range may cover at most {MAX_RANGE_DAYS} days"),
            );
        }
        let p = self.patients;
        for (name, n) in [
            ("patients.mild", p.mild),
            ("patients.severe", p.severe),
            ("patients.critical", p.critical),
            ("staff", self.staff),
        ] {
            if n > MAX_PEOPLE {
                v.add(
                    format!("{at}.{name}"),
                    format!("must be at most {MAX_PEOPLE}"),
                );
            }
        }
    }

    /// Extra base units of `rate`'s category needed on each of `days` days from `today`.
    /// Days before `today` are past and cost nothing; a once-per-person item is needed on the
    /// first day of the range that is still to come.
    pub fn daily_need(&self, rate: &UsageRate, today: NaiveDate, days: usize) -> Vec<f64> {
        let p = self.patients;
        let per_day = f64::from(p.mild) * rate.mild
            + f64::from(p.severe) * rate.severe
            + f64::from(p.critical) * rate.critical
            + f64::from(self.staff) * rate.staff;
        let first = self.from.max(today);
        let mut need = vec![0.0; days];
        for (t, slot) in need.iter_mut().enumerate() {
            let Some(day) = today.checked_add_days(chrono::Days::new(t as u64)) else {
                break;
            };
            if day < first || day > self.to {
                continue;
            }
            *slot = match rate.basis {
                Basis::PerDay => per_day,
                Basis::Once if day == first => per_day,
                Basis::Once => 0.0,
            };
        }
        need
    }
}

/// Validates replacement rates: finite, non-negative, one row per category.
pub fn validate_rates(rates: &[UsageRate], v: &mut Violations) {
    for (i, r) in rates.iter().enumerate() {
        for (name, x) in [
            ("mild", r.mild),
            ("severe", r.severe),
            ("critical", r.critical),
            ("staff", r.staff),
        ] {
            if !x.is_finite() || !(0.0..=1e6).contains(&x) {
                v.add(
                    format!("rates[{i}].{name}"),
                    "must be a number from 0 to 1000000",
                );
            }
        }
        if rates[..i].iter().any(|o| o.category == r.category) {
            v.add(
                format!("rates[{i}].category"),
                format!("`{}` is given twice", r.category),
            );
        }
    }
}

/// Splits a category's need over its items in proportion to `weights` (their burn rates);
/// evenly when none has any use yet.
pub fn shares(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if total > 0.0 {
        weights.iter().map(|w| w.max(0.0) / total).collect()
    } else {
        vec![1.0 / weights.len().max(1) as f64; weights.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn drivers() -> SiteDrivers {
        SiteDrivers {
            site: "NH-01".into(),
            from: d("2026-03-10"),
            to: d("2026-03-12"),
            patients: Patients {
                mild: 2,
                severe: 1,
                critical: 0,
            },
            staff: 3,
        }
    }

    #[test]
    fn the_default_rates_cover_every_ppe_category_once() {
        let r = UsageRates::defaults();
        for c in Category::ALL.iter().filter(|c| **c != Category::Other) {
            assert!(r.of(*c).is_some(), "{c}");
        }
        let mut v = Violations::default();
        validate_rates(&r.0, &mut v);
        assert!(v.finish().is_ok());
    }

    #[test]
    fn need_is_patients_times_rates_plus_staff_inside_the_range_only() {
        let gloves = UsageRate {
            category: Category::Gloves,
            basis: Basis::PerDay,
            mild: 10.0,
            severe: 20.0,
            critical: 40.0,
            staff: 4.0,
        };
        // 2 × 10 + 1 × 20 + 3 × 4 = 52 a day, from the 10th to the 12th.
        let need = drivers().daily_need(&gloves, d("2026-03-09"), 6);
        assert_eq!(need, [0.0, 52.0, 52.0, 52.0, 0.0, 0.0]);
        // Started in the past: only the days still to come.
        let need = drivers().daily_need(&gloves, d("2026-03-11"), 3);
        assert_eq!(need, [52.0, 52.0, 0.0]);
        let visors = UsageRate {
            basis: Basis::Once,
            ..gloves
        };
        let need = drivers().daily_need(&visors, d("2026-03-09"), 6);
        assert_eq!(need, [0.0, 52.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn overrides_replace_a_category_and_bad_rows_are_named() {
        let mut gown = UsageRates::defaults().of(Category::Gown).unwrap().clone();
        gown.severe = 99.0;
        let r = UsageRates::defaults().overridden(std::slice::from_ref(&gown));
        assert_eq!(r.of(Category::Gown).unwrap().severe, 99.0);
        assert_eq!(r.0.len(), UsageRates::defaults().0.len());
        gown.staff = -1.0;
        let mut v = Violations::default();
        validate_rates(&[gown.clone(), gown], &mut v);
        let fields: Vec<&str> = v.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["rates[0].staff", "rates[1].staff", "rates[1].category"]
        );
        let mut bad = drivers();
        bad.to = d("2026-03-01");
        let mut v = Violations::default();
        bad.validate("sites[0]", &mut v);
        assert_eq!(v.0[0].field, "sites[0].to");
    }

    #[test]
    fn shares_follow_use_and_fall_back_to_even() {
        assert_eq!(shares(&[1.0, 3.0]), [0.25, 0.75]);
        assert_eq!(shares(&[0.0, 0.0]), [0.5, 0.5]);
    }
}
