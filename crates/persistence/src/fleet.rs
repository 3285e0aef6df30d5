//! Vehicles: rows and their repository functions.

use crate::audit;
use crate::catalogue::{site_ref, utc};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::Stamp;
use crate::schema::{sites, vehicles};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use ppe_domain::audit::AuditedEntity;
use ppe_domain::fleet::{NewVehicle, Vehicle};
use ppe_domain::site::SiteKind;

type VehicleRow = (
    (
        i64,
        String,
        String,
        f64,
        f64,
        Option<i32>,
        String,
        String,
        Option<i32>,
    ),
    (f64, f64, f64, i32, bool, NaiveDateTime),
    String,
);

/// The selected columns, in `VehicleRow` order.
macro_rules! vehicle_columns {
    () => {
        (
            (
                vehicles::id,
                vehicles::code,
                vehicles::name,
                vehicles::capacity_kg,
                vehicles::capacity_litres,
                vehicles::capacity_pallets,
                vehicles::shift_start,
                vehicles::shift_end,
                vehicles::max_driving_minutes,
            ),
            (
                vehicles::cost_per_km,
                vehicles::cost_per_hour,
                vehicles::fixed_cost_per_day,
                vehicles::max_trips,
                vehicles::active,
                vehicles::created_at,
            ),
            sites::code,
        )
    };
}

fn to_vehicle(r: VehicleRow) -> Vehicle {
    let ((id, code, name, kg, litres, pallets, start, end, driving), rest, depot) = r;
    let (per_km, per_hour, fixed, trips, active, created) = rest;
    Vehicle {
        id,
        code,
        name,
        depot,
        capacity_kg: kg,
        capacity_litres: litres,
        capacity_pallets: pallets,
        shift_start: start,
        shift_end: end,
        max_driving_minutes: driving,
        cost_per_km: per_km,
        cost_per_hour: per_hour,
        fixed_cost_per_day: fixed,
        max_trips: trips,
        active,
        created_at: utc(created),
    }
}

/// The columns a vehicle's owner sets (all but the code and the creation time).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = vehicles, treat_none_as_null = true)]
struct VehicleFields<'a> {
    name: &'a str,
    depot_site_id: i64,
    capacity_kg: f64,
    capacity_litres: f64,
    capacity_pallets: Option<i32>,
    shift_start: &'a str,
    shift_end: &'a str,
    max_driving_minutes: Option<i32>,
    cost_per_km: f64,
    cost_per_hour: f64,
    fixed_cost_per_day: f64,
    max_trips: i32,
    active: bool,
}

fn fields(v: &NewVehicle, depot: i64) -> VehicleFields<'_> {
    VehicleFields {
        name: &v.name,
        depot_site_id: depot,
        capacity_kg: v.capacity_kg,
        capacity_litres: v.capacity_litres,
        capacity_pallets: v.capacity_pallets,
        shift_start: &v.shift_start,
        shift_end: &v.shift_end,
        max_driving_minutes: v.max_driving_minutes,
        cost_per_km: v.cost_per_km,
        cost_per_hour: v.cost_per_hour,
        fixed_cost_per_day: v.fixed_cost_per_day,
        max_trips: v.max_trips,
        active: v.active,
    }
}

/// The depot's id; it must be a warehouse.
fn depot_id(conn: &mut DbConnection, code: &str) -> Result<i64, StoreError> {
    let (id, kind) = site_ref(conn, "depot", code)?;
    if kind != SiteKind::Warehouse {
        return Err(StoreError::not_found("depot", "warehouse", code.trim()));
    }
    Ok(id)
}

/// Stores a validated vehicle.
pub fn create_vehicle(
    conn: &mut DbConnection,
    v: &NewVehicle,
    now: impl Into<Stamp>,
) -> Result<Vehicle, StoreError> {
    let now = now.into();
    let depot = depot_id(conn, &v.depot)?;
    let t = now.at.naive_utc();
    diesel::insert_into(vehicles::table)
        .values((
            fields(v, depot),
            vehicles::code.eq(&v.code),
            vehicles::created_at.eq(t),
        ))
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::Duplicate {
                field: "code".into(),
                value: v.code.clone(),
            },
            other => StoreError::Database(other),
        })?;
    let stored = vehicle_by_code(conn, &v.code)?
        .ok_or_else(|| StoreError::not_found("code", "vehicle", v.code.clone()))?;
    audit::record(
        conn,
        AuditedEntity::Vehicle,
        &v.code,
        None::<()>,
        &stored,
        &now,
    )?;
    Ok(stored)
}

/// Writes a patched vehicle (validated by the caller), audited.
pub fn update_vehicle(
    conn: &mut DbConnection,
    before: &Vehicle,
    after: &NewVehicle,
    now: impl Into<Stamp>,
) -> Result<Vehicle, StoreError> {
    let now = now.into();
    let depot = depot_id(conn, &after.depot)?;
    diesel::update(vehicles::table.find(before.id))
        .set(fields(after, depot))
        .execute(conn)?;
    let stored = vehicle_by_code(conn, &before.code)?
        .ok_or_else(|| StoreError::not_found("code", "vehicle", before.code.clone()))?;
    audit::record(
        conn,
        AuditedEntity::Vehicle,
        &before.code,
        before,
        &stored,
        &now,
    )?;
    Ok(stored)
}

/// Every vehicle, by code.
pub fn list_vehicles(conn: &mut DbConnection) -> Result<Vec<Vehicle>, StoreError> {
    Ok(vehicles::table
        .inner_join(sites::table)
        .order(vehicles::code)
        .select(vehicle_columns!())
        .load::<VehicleRow>(conn)?
        .into_iter()
        .map(to_vehicle)
        .collect())
}

pub fn vehicle_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Vehicle>, StoreError> {
    Ok(vehicles::table
        .inner_join(sites::table)
        .filter(vehicles::code.eq(code))
        .select(vehicle_columns!())
        .first::<VehicleRow>(conn)
        .optional()?
        .map(to_vehicle))
}
