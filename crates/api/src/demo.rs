//! Demo data: a municipality in its first half-year of a pandemic, generated from a
//! fixed seed so every newcomer sees the same thing. One central warehouse, 40 units
//! in Drammen, 12 items with real pack sizes, 180 days of history with a weekly rhythm,
//! an outbreak wave at a few nursing homes, weekly deliveries, counts on irregular
//! days and a few stockouts. Everything goes through the same ledger rules as the API.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use ppe_domain::access::{NewToken, Role};
use ppe_domain::catalogue::{BaseUnit, Category, NewItem};
use ppe_domain::commands::{
    CountLine, Dispatch, IssueReport, QuantityLine, Receipt, ReceiptLine, ReceiveTransfer,
    StockReport,
};
use ppe_domain::fleet::NewVehicle;
use ppe_domain::site::{NewSite, OpeningWindow, SiteKind, UnitType};
use ppe_persistence::{Db, StoreError, catalogue, fleet, ledger, tokens};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 20_200_312;
const DAYS: i64 = 180;
const UNITS: usize = 40;

struct ItemSpec {
    sku: &'static str,
    name: &'static str,
    category: Category,
    unit: BaseUnit,
    pack: i64,
    standard: &'static str,
    volume_cm3: f64,
    weight_g: f64,
    /// Daily use at a mid-sized nursing home, in base units.
    nursing_home_use: f64,
}

const ITEMS: &[ItemSpec] = &[
    ItemSpec {
        sku: "MASK-IIR",
        name: "Surgical mask type IIR",
        category: Category::Mask,
        unit: BaseUnit::Piece,
        pack: 50,
        standard: "EN 14683 IIR",
        volume_cm3: 20.0,
        weight_g: 3.0,
        nursing_home_use: 60.0,
    },
    ItemSpec {
        sku: "FFP2",
        name: "FFP2 respirator",
        category: Category::Respirator,
        unit: BaseUnit::Piece,
        pack: 20,
        standard: "EN 149 FFP2",
        volume_cm3: 60.0,
        weight_g: 10.0,
        nursing_home_use: 8.0,
    },
    ItemSpec {
        sku: "FFP3",
        name: "FFP3 respirator with valve",
        category: Category::Respirator,
        unit: BaseUnit::Piece,
        pack: 10,
        standard: "EN 149 FFP3",
        volume_cm3: 120.0,
        weight_g: 18.0,
        nursing_home_use: 2.0,
    },
    ItemSpec {
        sku: "GLOVE-NIT-S",
        name: "Nitrile examination gloves, S",
        category: Category::Gloves,
        unit: BaseUnit::Piece,
        pack: 200,
        standard: "EN 455 / EN 374",
        volume_cm3: 4.0,
        weight_g: 3.0,
        nursing_home_use: 80.0,
    },
    ItemSpec {
        sku: "GLOVE-NIT-M",
        name: "Nitrile examination gloves, M",
        category: Category::Gloves,
        unit: BaseUnit::Piece,
        pack: 200,
        standard: "EN 455 / EN 374",
        volume_cm3: 4.0,
        weight_g: 3.5,
        nursing_home_use: 140.0,
    },
    ItemSpec {
        sku: "GLOVE-NIT-L",
        name: "Nitrile examination gloves, L",
        category: Category::Gloves,
        unit: BaseUnit::Piece,
        pack: 200,
        standard: "EN 455 / EN 374",
        volume_cm3: 4.5,
        weight_g: 4.0,
        nursing_home_use: 70.0,
    },
    ItemSpec {
        sku: "GOWN-LS",
        name: "Long-sleeved isolation gown",
        category: Category::Gown,
        unit: BaseUnit::Piece,
        pack: 10,
        standard: "EN 13795",
        volume_cm3: 400.0,
        weight_g: 60.0,
        nursing_home_use: 10.0,
    },
    ItemSpec {
        sku: "APRON-PE",
        name: "Plastic apron",
        category: Category::Apron,
        unit: BaseUnit::Piece,
        pack: 100,
        standard: "EN 14126",
        volume_cm3: 30.0,
        weight_g: 8.0,
        nursing_home_use: 25.0,
    },
    ItemSpec {
        sku: "VISOR",
        name: "Face shield, single use",
        category: Category::EyeProtection,
        unit: BaseUnit::Piece,
        pack: 25,
        standard: "EN 166",
        volume_cm3: 250.0,
        weight_g: 30.0,
        nursing_home_use: 3.0,
    },
    ItemSpec {
        sku: "GOGGLES",
        name: "Protective goggles, reusable",
        category: Category::EyeProtection,
        unit: BaseUnit::Piece,
        pack: 10,
        standard: "EN 166",
        volume_cm3: 500.0,
        weight_g: 60.0,
        nursing_home_use: 0.2,
    },
    ItemSpec {
        sku: "SANITISER",
        name: "Hand sanitiser 85 % ethanol",
        category: Category::HandHygiene,
        unit: BaseUnit::Ml,
        pack: 1000,
        standard: "EN 1500",
        volume_cm3: 1.1,
        weight_g: 0.9,
        nursing_home_use: 400.0,
    },
    ItemSpec {
        sku: "DISINFECT",
        name: "Surface disinfectant",
        category: Category::Disinfectant,
        unit: BaseUnit::Ml,
        pack: 5000,
        standard: "EN 16615",
        volume_cm3: 1.1,
        weight_g: 1.0,
        nursing_home_use: 300.0,
    },
];

/// Unit types, how many, their priority tier and their use relative to a nursing home.
const UNIT_MIX: &[(UnitType, &str, usize, i32, f64)] = &[
    (UnitType::NursingHome, "NH", 10, 1, 1.0),
    (UnitType::HomeCare, "HC", 6, 1, 0.7),
    (UnitType::EmergencyWard, "EW", 1, 1, 1.5),
    (UnitType::DisabilityHousing, "DH", 5, 2, 0.3),
    (UnitType::GpOffice, "GP", 8, 3, 0.25),
    (UnitType::School, "SC", 5, 4, 0.08),
    (UnitType::Kindergarten, "KG", 5, 4, 0.05),
];

/// Drammen's districts and an approximate centre of each (lat, lon).
const DISTRICTS: &[(&str, f64, f64)] = &[
    ("Bragernes", 59.7465, 10.2010),
    ("Strømsø", 59.7380, 10.2080),
    ("Konnerud", 59.7230, 10.1500),
    ("Åssiden", 59.7580, 10.1350),
    ("Fjell", 59.7300, 10.2400),
    ("Gulskogen", 59.7500, 10.1650),
    ("Mjøndalen", 59.7470, 10.0150),
    ("Svelvik", 59.6110, 10.4050),
];

fn gtin_for(i: usize) -> String {
    // GS1 Norway prefix 70, a made-up company number and the item's index.
    let body = format!("7038010{:05}", 100 + i);
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    format!("{body}{}", ppe_domain::gtin::check_digit(&digits))
}

struct Unit {
    code: String,
    use_factor: f64,
    weekend_factor: f64,
    /// Index of the day the outbreak peaks, if this unit has one.
    outbreak_peak: Option<i64>,
    reports_use: bool,
    delivery_weekday: Weekday,
    next_count: i64,
    stock: Vec<i64>,
}

/// The first day (counted from `start`) whose deliveries are still on the road when the
/// demo ends: those of the last two working days, whatever weekday the demo ends on
/// (units get theirs Monday to Friday).
fn in_transit_from(start: NaiveDate) -> i64 {
    (0..DAYS)
        .rev()
        .filter(|&d| !is_weekend(start + Duration::days(d)))
        .nth(1)
        .unwrap_or(0)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn noon(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// Poisson-ish integer demand around `mean` (sum of Bernoulli trials is cheap and
/// deterministic with a seeded generator).
fn draw(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    if mean <= 0.0 {
        return 0;
    }
    let whole = mean.floor();
    let noise = rng.random_range(-0.35..0.35) * mean;
    let frac = if rng.random::<f64>() < mean - whole {
        1.0
    } else {
        0.0
    };
    (whole + frac + noise).round().max(0.0) as i64
}

/// Seeds the demo municipality into an empty database; does nothing when items exist.
pub fn seed(db: &Db, now: DateTime<Utc>) -> Result<String, StoreError> {
    if !db.read(catalogue::list_items)?.is_empty() {
        return Ok("demo data: the database already holds data; nothing seeded".to_owned());
    }
    let today = now.date_naive();
    let start = today - Duration::days(DAYS);
    let ids = db.ids();
    let movements = db.write(move |c| {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let mut movements = 0usize;
        for (i, it) in ITEMS.iter().enumerate() {
            let item = NewItem {
                sku: it.sku.into(),
                name: it.name.into(),
                category: it.category,
                base_unit: it.unit,
                pack_size: it.pack,
                gtin: Some(gtin_for(i)),
                standard: Some(it.standard.into()),
                shelf_life_days: Some(if it.unit == BaseUnit::Ml { 1095 } else { 1825 }),
                volume_cm3: Some(it.volume_cm3),
                weight_g: Some(it.weight_g),
            }
            .validate()?;
            catalogue::create_item(c, &item, noon(start, 6))?;
        }
        let weekdays = |d: &[u8], o: &str, cl: &str| OpeningWindow {
            weekdays: d.to_vec(),
            opens: o.into(),
            closes: cl.into(),
        };
        catalogue::create_site(
            c,
            &NewSite {
                code: "WH-DRAMMEN".into(),
                name: "Central PPE warehouse".into(),
                kind: SiteKind::Warehouse,
                unit_type: None,
                district: Some("Strømsø".into()),
                latitude: 59.7355,
                longitude: 10.2210,
                address: Some("Lagerveien 1, 3036 Drammen".into()),
                opening_hours: vec![weekdays(&[1, 2, 3, 4, 5], "07:00", "17:00")],
                priority_tier: 1,
                lead_time_days: 7,
            }
            .validate()?,
            noon(start, 6),
        )?;
        let mut units = Vec::new();
        let mut n = 0usize;
        for &(kind, prefix, count, tier, factor) in UNIT_MIX {
            for k in 1..=count {
                let (district, lat, lon) = DISTRICTS[n % DISTRICTS.len()];
                n += 1;
                let code = format!("{prefix}-{k:02}");
                let hours = match kind {
                    UnitType::NursingHome
                    | UnitType::EmergencyWard
                    | UnitType::DisabilityHousing => {
                        vec![weekdays(&[1, 2, 3, 4, 5, 6, 7], "08:00", "20:00")]
                    }
                    UnitType::School | UnitType::Kindergarten => {
                        vec![weekdays(&[1, 2, 3, 4, 5], "07:30", "15:00")]
                    }
                    _ => vec![
                        weekdays(&[1, 2, 3, 4, 5], "08:00", "15:30"),
                        weekdays(&[6], "10:00", "13:00"),
                    ],
                };
                catalogue::create_site(
                    c,
                    &NewSite {
                        code: code.clone(),
                        name: format!("{} {district} {k}", kind_name(kind)),
                        kind: SiteKind::Unit,
                        unit_type: Some(kind),
                        district: Some(district.into()),
                        latitude: lat + rng.random_range(-0.012..0.012),
                        longitude: lon + rng.random_range(-0.02..0.02),
                        address: Some(format!("{district}gata {}, Drammen", 1 + n * 3)),
                        opening_hours: hours,
                        priority_tier: tier,
                        lead_time_days: 2,
                    }
                    .validate()?,
                    noon(start, 6),
                )?;
                let closed_weekends = matches!(
                    kind,
                    UnitType::School | UnitType::Kindergarten | UnitType::GpOffice
                );
                units.push(Unit {
                    code,
                    use_factor: factor * rng.random_range(0.6..1.4),
                    weekend_factor: if closed_weekends { 0.0 } else { 0.7 },
                    // Three nursing homes and the emergency ward get an outbreak.
                    outbreak_peak: match (kind, k) {
                        (UnitType::NursingHome, 2 | 5 | 8) => Some(70 + 6 * k as i64),
                        (UnitType::EmergencyWard, _) => Some(90),
                        _ => None,
                    },
                    reports_use: kind == UnitType::HomeCare,
                    delivery_weekday: [
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                    ][n % 5],
                    next_count: rng.random_range(1..4),
                    stock: vec![0; ITEMS.len()],
                });
            }
        }
        let total_daily: Vec<f64> = ITEMS
            .iter()
            .map(|it| {
                units
                    .iter()
                    .map(|u| u.use_factor * it.nursing_home_use)
                    .sum()
            })
            .collect();
        let mut warehouse = vec![0i64; ITEMS.len()];
        let in_transit_from = in_transit_from(start);
        for day in 0..DAYS {
            let date = start + Duration::days(day);
            // A supplier delivery every fortnight, scarce in the first month.
            if day % 14 == 0 {
                let scarce = if day < 30 { 0.6 } else { 1.0 };
                let lines: Vec<ReceiptLine> = ITEMS
                    .iter()
                    .enumerate()
                    .map(|(i, it)| {
                        let q = ((total_daily[i] * 16.0 * scarce) as i64 / it.pack + 1) * it.pack;
                        warehouse[i] += q;
                        ReceiptLine {
                            item: it.sku.into(),
                            quantity: q,
                            lot: Some(format!("L{}-{:03}", date.format("%y%m%d"), i)),
                            expires_on: Some(
                                date + Duration::days(if it.unit == BaseUnit::Ml {
                                    1000
                                } else {
                                    1700
                                }),
                            ),
                        }
                    })
                    .collect();
                movements += ledger::record_receipt(
                    c,
                    &ids,
                    &Receipt {
                        site: "WH-DRAMMEN".into(),
                        occurred_at: Some(noon(date, 8)),
                        reported_by: "Warehouse goods-in".into(),
                        reference: Some(format!("PO-{}", date.format("%Y%m%d"))),
                        lines,
                    },
                    noon(date, 9),
                )?
                .movements
                .len();
            }
            let weekend = is_weekend(date);
            for u in units.iter_mut() {
                // Weekly delivery up to 10 days of use (or 16 during an outbreak).
                if date.weekday() == u.delivery_weekday {
                    let wave = wave_factor(u.outbreak_peak, day);
                    let target_days = if wave > 1.5 { 16.0 } else { 10.0 };
                    let mut lines = Vec::new();
                    for (i, it) in ITEMS.iter().enumerate() {
                        let want =
                            (u.use_factor * it.nursing_home_use * target_days * wave.min(2.5))
                                as i64
                                - u.stock[i];
                        let packs = (want.max(0) + it.pack - 1) / it.pack;
                        let q = (packs * it.pack).min(warehouse[i] / it.pack * it.pack);
                        if q > 0 {
                            warehouse[i] -= q;
                            lines.push(QuantityLine {
                                item: it.sku.into(),
                                quantity: q,
                                lot: None,
                            });
                        }
                    }
                    if !lines.is_empty() {
                        let sent: Vec<(usize, i64)> = lines
                            .iter()
                            .map(|l| {
                                (
                                    ITEMS.iter().position(|it| it.sku == l.item).unwrap_or(0),
                                    l.quantity,
                                )
                            })
                            .collect();
                        let rec = ledger::dispatch_transfer(
                            c,
                            &ids,
                            &Dispatch {
                                from_site: "WH-DRAMMEN".into(),
                                to_site: u.code.clone(),
                                occurred_at: Some(noon(date, 7)),
                                reported_by: "Logistics".into(),
                                lines,
                            },
                            noon(date, 7),
                        )?;
                        movements += rec.movements.len();
                        if day < in_transit_from
                            && let Some(t) = rec.transfer
                        {
                            movements += ledger::receive_transfer(
                                c,
                                &ids,
                                t.id,
                                &ReceiveTransfer {
                                    occurred_at: Some(noon(date, 11)),
                                    reported_by: format!("{} staff", u.code),
                                    lines: vec![],
                                },
                                noon(date, 11),
                            )?
                            .movements
                            .len();
                            for (i, q) in sent {
                                u.stock[i] += q;
                            }
                        }
                    }
                }
                // The day's use: what was needed, capped by what was there (stockouts).
                let mut used = Vec::new();
                let base = u.use_factor
                    * wave_factor(u.outbreak_peak, day)
                    * if weekend { u.weekend_factor } else { 1.0 };
                for (i, it) in ITEMS.iter().enumerate() {
                    let need = draw(&mut rng, base * it.nursing_home_use);
                    let q = need.min(u.stock[i]);
                    u.stock[i] -= q;
                    if q > 0 {
                        used.push(QuantityLine {
                            item: it.sku.into(),
                            quantity: q,
                            lot: None,
                        });
                    }
                }
                if u.reports_use && !used.is_empty() {
                    movements += ledger::record_issue(
                        c,
                        &ids,
                        &IssueReport {
                            site: u.code.clone(),
                            occurred_at: Some(noon(date, 20)),
                            reported_by: format!("{} evening shift", u.code),
                            lines: used,
                        },
                        noon(date, 20) + Duration::minutes(rng.random_range(0..600)),
                    )?
                    .movements
                    .len();
                }
                // Counts on irregular days, in the evening.
                if day == u.next_count || day == DAYS - 1 {
                    let lines = ITEMS
                        .iter()
                        .enumerate()
                        .map(|(i, it)| CountLine {
                            item: it.sku.into(),
                            counted: u.stock[i],
                            lot: None,
                        })
                        .collect();
                    movements += ledger::record_report(
                        c,
                        &ids,
                        &StockReport {
                            site: u.code.clone(),
                            occurred_at: Some(noon(date, 19)),
                            reported_by: format!("{} nurse in charge", u.code),
                            lines,
                        },
                        noon(date, 19) + Duration::minutes(rng.random_range(0..300)),
                    )?
                    .movements
                    .len();
                    u.next_count = day + rng.random_range(2..7);
                }
            }
        }
        Ok(movements)
    })?;
    Ok(format!(
        "demo data: 1 warehouse, {UNITS} units in Drammen, {} items, {DAYS} days, {movements} movements",
        ITEMS.len()
    ))
}

/// The demo's vans: two of 1,100 kg and one of 1,500 kg at the central warehouse, on
/// 8-hour shifts with two trips a day (reload at the warehouse).
const FLEET: &[(&str, &str, f64, f64)] = &[
    ("VAN-1", "Van 1 (Ford Transit)", 1100.0, 10_000.0),
    ("VAN-2", "Van 2 (Ford Transit)", 1100.0, 10_000.0),
    ("VAN-3", "Van 3 (Mercedes Sprinter)", 1500.0, 14_000.0),
];

/// Seeds the demo fleet when the demo warehouse has no vehicle yet (also into a demo
/// database seeded before vehicles existed).
pub fn seed_fleet(db: &Db, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
    let has_depot = db
        .read(|c| catalogue::site_by_code(c, "WH-DRAMMEN"))?
        .is_some();
    if !has_depot || !db.read(fleet::list_vehicles)?.is_empty() {
        return Ok(None);
    }
    db.write(move |c| {
        for &(code, name, kg, litres) in FLEET {
            let van = NewVehicle {
                code: code.into(),
                name: name.into(),
                depot: "WH-DRAMMEN".into(),
                capacity_kg: kg,
                capacity_litres: litres,
                capacity_pallets: None,
                shift_start: "08:00".into(),
                shift_end: "16:00".into(),
                max_driving_minutes: Some(450),
                cost_per_km: 4.5,
                cost_per_hour: 450.0,
                fixed_cost_per_day: 250.0,
                max_trips: 2,
                active: true,
            }
            .validate()?;
            fleet::create_vehicle(c, &van, now)?;
        }
        Ok(())
    })?;
    Ok(Some(format!(
        "demo fleet: {} vans at WH-DRAMMEN",
        FLEET.len()
    )))
}

/// Use multiplier of an outbreak wave: a bell about three weeks wide, peaking at 3.5×.
fn wave_factor(peak: Option<i64>, day: i64) -> f64 {
    match peak {
        Some(p) => {
            let x = (day - p) as f64 / 10.0;
            1.0 + 2.5 * (-x * x).exp()
        }
        None => 1.0,
    }
}

fn kind_name(kind: UnitType) -> &'static str {
    match kind {
        UnitType::NursingHome => "Nursing home",
        UnitType::HomeCare => "Home care",
        UnitType::GpOffice => "GP office",
        UnitType::EmergencyWard => "Emergency ward",
        UnitType::School => "School",
        UnitType::Kindergarten => "Kindergarten",
        UnitType::DisabilityHousing => "Housing",
        UnitType::Other => "Unit",
    }
}

/// The demo's tokens: one per role, the reporter limited to one nursing home. The
/// variable name each is printed under, its role, its sites.
const DEMO_TOKENS: &[(&str, Role, &[&str])] = &[
    ("TOKEN", Role::Admin, &[]),
    ("LOGISTICS_TOKEN", Role::Logistics, &[]),
    ("VIEWER_TOKEN", Role::Viewer, &[]),
    ("REPORTER_TOKEN", Role::Reporter, &["NH-01"]),
];

fn demo_token_name(var: &str) -> String {
    format!("demo {}", var.to_ascii_lowercase().replace('_', " "))
}

/// Makes fresh demo tokens (revoking the ones an earlier start made, whose secrets are
/// gone) and returns the shell lines that export them, e.g. `export TOKEN=ppe_…  # admin`.
pub fn tokens(db: &Db, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    let names: Vec<String> = DEMO_TOKENS
        .iter()
        .map(|(v, ..)| demo_token_name(v))
        .collect();
    db.write(move |c| {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        tokens::revoke_named(c, &names, now)
    })?;
    let mut lines = Vec::new();
    for (var, role, sites) in DEMO_TOKENS {
        let t = NewToken {
            name: demo_token_name(var),
            role: *role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            expires_in_days: None,
        }
        .validate()?;
        let (info, secret) = crate::auth::issue(db, t, now)?;
        let scope = if info.sites.is_empty() {
            String::new()
        } else {
            format!(" at {}", info.sites.join(", "))
        };
        lines.push(format!("export {var}={secret}  # {}{scope}", info.role));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_mix_adds_up_to_the_documented_count() {
        assert_eq!(
            super::UNIT_MIX.iter().map(|m| m.2).sum::<usize>(),
            super::UNITS
        );
        assert_eq!(super::ITEMS.len(), 12);
    }

    #[test]
    fn demo_gtins_pass_the_check_digit() {
        for i in 0..super::ITEMS.len() {
            assert!(ppe_domain::gtin::normalise(&super::gtin_for(i)).is_ok());
        }
    }

    #[test]
    fn the_last_two_working_days_deliveries_are_in_transit_whatever_the_weekday() {
        use chrono::{Duration, NaiveDate};
        // Seven consecutive end days: every weekday the demo may end on.
        for offset in 0..7 {
            let start = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() + Duration::days(offset);
            let from = super::in_transit_from(start);
            let working = (from..super::DAYS)
                .filter(|&d| !super::is_weekend(start + Duration::days(d)))
                .count();
            assert_eq!(working, 2, "start {start}");
            assert!(super::DAYS - from <= 4, "start {start}: from day {from}");
        }
    }
}
