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

/// The depot's id; it must be a warehouse.
fn depot_id(conn: &mut DbConnection, code: &str) -> Result<i64, StoreError> {
    let (id, kind) = site_ref(conn, "depot", code)?;
    if kind != SiteKind::Warehouse {
        return Err(StoreError::invalid("depot", "must be a warehouse"));
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
            vehicles::code.eq(&v.code),
            vehicles::name.eq(&v.name),
            vehicles::depot_site_id.eq(depot),
            vehicles::capacity_kg.eq(v.capacity_kg),
            vehicles::capacity_litres.eq(v.capacity_litres),
            vehicles::capacity_pallets.eq(v.capacity_pallets),
            vehicles::shift_start.eq(&v.shift_start),
            vehicles::shift_end.eq(&v.shift_end),
            vehicles::max_driving_minutes.eq(v.max_driving_minutes),
            vehicles::cost_per_km.eq(v.cost_per_km),
            vehicles::cost_per_hour.eq(v.cost_per_hour),
            vehicles::fixed_cost_per_day.eq(v.fixed_cost_per_day),
            vehicles::max_trips.eq(v.max_trips),
            vehicles::active.eq(v.active),
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
        .set((
            vehicles::name.eq(&after.name),
            vehicles::depot_site_id.eq(depot),
            vehicles::capacity_kg.eq(after.capacity_kg),
            vehicles::capacity_litres.eq(after.capacity_litres),
            vehicles::capacity_pallets.eq(after.capacity_pallets),
            vehicles::shift_start.eq(&after.shift_start),
            vehicles::shift_end.eq(&after.shift_end),
            vehicles::max_driving_minutes.eq(after.max_driving_minutes),
            vehicles::cost_per_km.eq(after.cost_per_km),
            vehicles::cost_per_hour.eq(after.cost_per_hour),
            vehicles::fixed_cost_per_day.eq(after.fixed_cost_per_day),
            vehicles::max_trips.eq(after.max_trips),
            vehicles::active.eq(after.active),
        ))
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
