//! The fleet: vehicles that carry deliveries.

use super::blocking;
use crate::auth::Auth;
use crate::extract::JsonBody;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::fleet::{NewVehicle, Vehicle, VehiclePatch};
use ppe_persistence::{StoreError, fleet};

/// Add a vehicle to the fleet.
#[utoipa::path(post, path = "/api/v1/vehicles", tag = "fleet", request_body = NewVehicle, responses(
    (status = 201, body = Vehicle),
    (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
pub async fn create(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<NewVehicle>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::PlanRoutes)?;
    let v = body.value.validate()?;
    let stamp = auth.stamp();
    let stored = blocking(&state, move |db| {
        db.write(move |c| fleet::create_vehicle(c, &v, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Created().json(stored))
}

/// The whole fleet, by code (inactive vehicles included).
#[utoipa::path(get, path = "/api/v1/vehicles", tag = "fleet", responses((status = 200, body = Vec<Vehicle>)))]
pub async fn list(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let rows = blocking(&state, |db| db.read(fleet::list_vehicles)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One vehicle.
#[utoipa::path(get, path = "/api/v1/vehicles/{code}", tag = "fleet",
    params(("code" = String, Path, description = "Vehicle code")),
    responses((status = 200, body = Vehicle), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let code = code.into_inner();
    let key = code.clone();
    blocking(&state, move |db| {
        db.read(|c| fleet::vehicle_by_code(c, &key))
    })
    .await?
    .map(|v| HttpResponse::Ok().json(v))
    .ok_or_else(|| Problem::not_found("vehicle", &code))
}

/// Change a vehicle (capacities, shift, costs, depot, `active: false` to retire it);
/// absent fields stay, `null` clears an optional one. Audited.
#[utoipa::path(patch, path = "/api/v1/vehicles/{code}", tag = "fleet", request_body = VehiclePatch,
    params(("code" = String, Path, description = "Vehicle code")),
    responses(
        (status = 200, body = Vehicle),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    auth: Auth,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: JsonBody<VehiclePatch>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::PlanRoutes)?;
    let code = code.into_inner();
    let patch = body.value;
    let stamp = auth.stamp();
    // Read, patch and write in one transaction, so two edits never lose each other.
    let stored = blocking(&state, move |db| {
        db.write(move |c| {
            let before = fleet::vehicle_by_code(c, &code)?
                .ok_or_else(|| StoreError::not_found("code", "vehicle", code.clone()))?;
            let after = patch.clone().apply(&before).validate()?;
            fleet::update_vehicle(c, &before, &after, stamp.clone())
        })
    })
    .await
    .map_err(crate::handlers::catalogue::not_found_in_path)?;
    Ok(HttpResponse::Ok().json(stored))
}
