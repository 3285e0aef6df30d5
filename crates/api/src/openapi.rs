//! The OpenAPI 3.1 document, generated from the handlers and schemas.

use crate::handlers::{catalogue, health, ledger, movements, transfers};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PPE Depot",
        description = "Protective-equipment inventory and logistics: stock ledger, balances, transfers.",
        license(name = "MIT"),
    ),
    paths(
        health::healthz,
        health::readyz,
        catalogue::create_item,
        catalogue::list_items,
        catalogue::get_item,
        catalogue::item_balances,
        catalogue::create_site,
        catalogue::list_sites,
        catalogue::get_site,
        catalogue::site_balances,
        ledger::post_stock_report,
        ledger::post_receipt,
        ledger::post_issue,
        ledger::post_discard,
        transfers::dispatch,
        transfers::receive,
        transfers::list,
        transfers::get,
        movements::list_movements,
    ),
    components(schemas(ppe_domain::validation::FieldError)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "catalogue", description = "Items"),
        (name = "sites", description = "Warehouses and units"),
        (name = "stock", description = "The stock ledger and balances"),
        (name = "transfers", description = "Deliveries from the warehouse to units"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON with a trailing newline, as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
