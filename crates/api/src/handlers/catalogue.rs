//! Items and sites.

use super::blocking;
use crate::auth::Auth;
use crate::export::{self, ExportFormat, FormatQuery};
use crate::extract::JsonBody;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::catalogue::{Item, ItemPatch, NewItem};
use ppe_domain::ledger::Balance;
use ppe_domain::site::{NewSite, Site, SitePatch};
use ppe_persistence::{StoreError, catalogue, reads};

/// Add an item to the catalogue.
#[utoipa::path(post, path = "/api/v1/items", tag = "catalogue", request_body = NewItem, responses(
    (status = 201, body = Item),
    (status = 409, description = "SKU or GTIN taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
pub async fn create_item(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<NewItem>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let item = body.value.validate()?;
    let stamp = auth.stamp();
    let stored = blocking(&state, move |db| {
        db.write(move |c| catalogue::create_item(c, &item, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Created().json(stored))
}

/// The whole catalogue, by SKU.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalogue", responses((status = 200, body = Vec<Item>)))]
pub async fn list_items(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let items = blocking(&state, |db| db.read(catalogue::list_items)).await?;
    Ok(HttpResponse::Ok().json(items))
}

/// One item.
#[utoipa::path(get, path = "/api/v1/items/{sku}", tag = "catalogue",
    params(("sku" = String, Path, description = "Item SKU")),
    responses((status = 200, body = Item), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_item(
    auth: Auth,
    state: web::Data<AppState>,
    sku: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let sku = sku.into_inner();
    let key = sku.clone();
    let item = blocking(&state, move |db| {
        db.read(|c| catalogue::item_by_sku(c, &key))
    })
    .await?;
    item.map(|i| HttpResponse::Ok().json(i))
        .ok_or_else(|| Problem::not_found("item", &sku))
}

/// Balances of one item at every site that holds or held it.
#[utoipa::path(get, path = "/api/v1/items/{sku}/balances", tag = "stock",
    params(("sku" = String, Path, description = "Item SKU"), FormatQuery),
    responses(
        (status = 200, description = "The balances, as JSON, CSV or an Excel workbook", content(
            (Vec<Balance> = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn item_balances(
    auth: Auth,
    state: web::Data<AppState>,
    sku: web::Path<String>,
    q: web::Query<FormatQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadStock)?;
    let format = ExportFormat::negotiate(q.format, &req);
    let sku = sku.into_inner();
    let name = format!("balances-{sku}");
    let rows = blocking(&state, move |db| {
        db.read(|c| reads::balances_of_item(c, &sku))
    })
    .await
    .map_err(not_found_in_path)?;
    // A token limited to some sites sees only their balances.
    let rows: Vec<Balance> = rows.into_iter().filter(|b| auth.covers(&b.site)).collect();
    export::respond_rows(format, &name, &rows).await
}

/// A reference in the path that does not resolve is the missing resource itself:
/// `/problems/not-found`, not a field of the request that names something missing.
pub(crate) fn not_found_in_path(p: Problem) -> Problem {
    if p.kind == "/problems/unknown-reference" {
        let mut nf = Problem::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            p.detail,
        );
        nf.errors = p.errors;
        nf
    } else {
        p
    }
}

/// Register a warehouse or a unit.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = NewSite, responses(
    (status = 201, body = Site),
    (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
))]
pub async fn create_site(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<NewSite>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let site = body.value.validate()?;
    let stamp = auth.stamp();
    let stored = blocking(&state, move |db| {
        db.write(move |c| catalogue::create_site(c, &site, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Created().json(stored))
}

/// All sites, by code.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", responses((status = 200, body = Vec<Site>)))]
pub async fn list_sites(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let sites = blocking(&state, |db| db.read(catalogue::list_sites)).await?;
    Ok(HttpResponse::Ok().json(sites))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{code}", tag = "sites",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = Site), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_site(
    auth: Auth,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let code = code.into_inner();
    let key = code.clone();
    let site = blocking(&state, move |db| {
        db.read(|c| catalogue::site_by_code(c, &key))
    })
    .await?;
    site.map(|s| HttpResponse::Ok().json(s))
        .ok_or_else(|| Problem::not_found("site", &code))
}

/// Balances of one site, per item and lot.
#[utoipa::path(get, path = "/api/v1/sites/{code}/balances", tag = "stock",
    params(("code" = String, Path, description = "Site code"), FormatQuery),
    responses(
        (status = 200, description = "The balances, as JSON, CSV or an Excel workbook", content(
            (Vec<Balance> = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn site_balances(
    auth: Auth,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<FormatQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let code = code.into_inner();
    auth.require_at(Permission::ReadStock, &code)?;
    let format = ExportFormat::negotiate(q.format, &req);
    let name = format!("balances-{code}");
    let rows = blocking(&state, move |db| {
        db.read(|c| reads::balances_of_site(c, &code))
    })
    .await
    .map_err(not_found_in_path)?;
    export::respond_rows(format, &name, &rows).await
}

/// Change an item (name, category, pack size, GTIN, weight and volume per base unit,
/// `active: false` to retire it); absent fields stay, `null` clears an optional one. The
/// SKU and base unit never change. Audited.
#[utoipa::path(patch, path = "/api/v1/items/{sku}", tag = "catalogue", request_body = ItemPatch,
    params(("sku" = String, Path, description = "Item SKU")),
    responses(
        (status = 200, body = Item),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "GTIN taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_item(
    auth: Auth,
    state: web::Data<AppState>,
    sku: web::Path<String>,
    body: JsonBody<ItemPatch>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let sku = sku.into_inner();
    let patch = body.value;
    let stamp = auth.stamp();
    // Read, patch and write in one transaction, so two edits never lose each other.
    let stored = blocking(&state, move |db| {
        db.write(move |c| {
            let before = catalogue::item_by_sku(c, &sku)?
                .ok_or_else(|| StoreError::not_found("sku", "item", sku.clone()))?;
            let (after, active) = patch.clone().apply(&before);
            let after = after.validate()?;
            catalogue::update_item(c, &before, &after, active, stamp.clone())
        })
    })
    .await
    .map_err(not_found_in_path)?;
    Ok(HttpResponse::Ok().json(stored))
}

/// Change a site (name, district, coordinates, address, opening hours, priority tier, lead
/// time, `active: false` to deactivate it: no new deliveries or requests, out of supply
/// status, history kept); absent fields stay, `null` clears an optional one. The code and
/// kind never change. Audited.
#[utoipa::path(patch, path = "/api/v1/sites/{code}", tag = "sites", request_body = SitePatch,
    params(("code" = String, Path, description = "Site code")),
    responses(
        (status = 200, body = Site),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_site(
    auth: Auth,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: JsonBody<SitePatch>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let code = code.into_inner();
    let patch = body.value;
    let stamp = auth.stamp();
    // Read, patch and write in one transaction, so two edits never lose each other.
    let stored = blocking(&state, move |db| {
        db.write(move |c| {
            let before = catalogue::site_by_code(c, &code)?
                .ok_or_else(|| StoreError::not_found("code", "site", code.clone()))?;
            let (after, active) = patch.clone().apply(&before);
            let after = after.validate()?;
            catalogue::update_site(c, &before, &after, active, stamp.clone())
        })
    })
    .await
    .map_err(not_found_in_path)?;
    Ok(HttpResponse::Ok().json(stored))
}
