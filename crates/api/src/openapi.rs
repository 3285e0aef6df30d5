//! The OpenAPI 3.1 document, generated from the handlers and schemas.

use crate::handlers::{
    audit, catalogue, fleet, forecasts, health, imports, ledger, movements, plans, requests,
    routing, scenarios, tokens, transfers,
};
use crate::routes::OPERATIONS;
use ppe_domain::access::{Permission, Role};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// What a site scope means for each permission, for the operation's description.
fn scope_note(p: Permission) -> &'static str {
    match p {
        Permission::ReadCatalogue
        | Permission::EditCatalogue
        | Permission::ManageTokens
        | Permission::PlanRoutes => "",
        Permission::RequestSupply => {
            " A token limited to sites (every reporter) asks and cancels only for those sites."
        }
        Permission::ReadStock => {
            " A token limited to sites (every reporter) reads only those sites: balances of an \
             item are filtered to them; the ledger, transfer, forecast and supply-status lists \
             need `site=` naming one of them; aggregates over many sites are refused."
        }
        Permission::ReceiveTransfer => {
            " A token limited to sites receives only transfers whose destination is one of them."
        }
        Permission::Dispatch => " A token limited to sites dispatches only from them.",
        _ => " A token limited to sites (every reporter) writes only at those sites.",
    }
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                crate::problem::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Declares the bearer scheme and, per operation, the roles allowed and the 401/403/429 answers.
struct Access;

impl Modify for Access {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("ppe_<64 hex digits>")
                        .description(Some(
                            "An API token from `ppe token create` or `POST /api/v1/tokens`.",
                        ))
                        .build(),
                ),
            );
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ] {
                let Some(op) = op else { continue };
                let Some((_, _, Some(p))) = OPERATIONS
                    .iter()
                    .find(|(m, pa, _)| *m == method && *pa == path.as_str())
                else {
                    continue;
                };
                let roles: Vec<&str> = Role::granting(*p).into_iter().map(Role::as_str).collect();
                let note = format!("**Roles:** {}.{}", roles.join(", "), scope_note(*p));
                op.description = Some(match op.description.take() {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                    _ => note,
                });
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                op.extensions
                    .get_or_insert_with(Default::default)
                    .insert("x-roles".to_owned(), serde_json::json!(roles));
                let r = &mut op.responses.responses;
                r.insert(
                    "401".into(),
                    problem_response("No valid token: missing, unknown, expired or revoked"),
                );
                r.insert(
                    "403".into(),
                    problem_response("The token's role or sites do not allow this"),
                );
                r.insert(
                    "429".into(),
                    problem_response(
                        "Too many failed authentications from this address (see Retry-After)",
                    ),
                );
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PPE Depot",
        description = "Protective-equipment inventory and logistics: stock ledger, balances, transfers. Every operation but the health checks needs `Authorization: Bearer <token>`; each lists the roles it allows.",
        license(name = "MIT"),
    ),
    paths(
        health::healthz,
        health::readyz,
        catalogue::create_item,
        catalogue::list_items,
        catalogue::get_item,
        catalogue::item_balances,
        catalogue::patch_item,
        imports::import_items,
        catalogue::create_site,
        catalogue::list_sites,
        catalogue::get_site,
        catalogue::site_balances,
        catalogue::patch_site,
        imports::import_sites,
        ledger::post_stock_report,
        imports::import_counts,
        ledger::post_receipt,
        ledger::post_issue,
        ledger::post_discard,
        transfers::dispatch,
        transfers::receive,
        transfers::list,
        transfers::get,
        transfers::cancel,
        transfers::discrepancies,
        audit::list,
        fleet::create,
        fleet::list,
        fleet::get,
        fleet::patch,
        requests::create,
        requests::list,
        requests::get,
        requests::cancel,
        plans::replenishment,
        plans::create,
        plans::list,
        plans::get,
        plans::cancel,
        plans::dispatch,
        plans::run_sheet,
        plans::receive_stop,
        movements::list_movements,
        forecasts::consumption_history,
        forecasts::list_forecasts,
        forecasts::accuracy,
        forecasts::supply_status,
        forecasts::aggregates,
        scenarios::run,
        routing::solve,
        tokens::create,
        tokens::list,
        tokens::revoke,
        tokens::me,
    ),
    components(schemas(
        ppe_domain::validation::FieldError,
        forecasts::AggregateLevel,
        crate::export::ExportFormat
    )),
    modifiers(&Access),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "catalogue", description = "Items"),
        (name = "sites", description = "Warehouses and units"),
        (name = "stock", description = "The stock ledger and balances"),
        (name = "transfers", description = "Deliveries from the warehouse to units"),
        (name = "forecasts", description = "Consumption, forecasts, days of supply, stockout risk and what-if scenarios"),
        (name = "routing", description = "Vehicle routes for deliveries"),
        (name = "fleet", description = "The vehicles that carry deliveries"),
        (name = "requests", description = "Units asking for stock"),
        (name = "planning", description = "From what units need to routed, dispatched and received deliveries: replenishment proposal, fair allocation under shortage, delivery plans, dispatch, run sheets"),
        (name = "tokens", description = "API tokens (administrators)"),
    )
)]
pub struct ApiDoc;

/// The document the server publishes: the generated one with the server's rules put
/// in (see [`crate::contract`]). Kept as JSON: the rules use parts of OpenAPI 3.1 that
/// the generator's types do not carry (link `operationRef`).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    crate::contract::constrain(&mut doc);
    doc
}

/// The document as pretty JSON with a trailing newline, as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut s = serde_json::to_string_pretty(&document())
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_document_has_an_access_rule() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                found.push((method.clone(), path.clone()));
            }
        }
        found.sort();
        let mut listed: Vec<(String, String)> = OPERATIONS
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn protected_operations_declare_bearer_roles_and_refusals() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let issue = &doc["paths"]["/api/v1/issues"]["post"];
        assert_eq!(issue["x-roles"], serde_json::json!(["admin", "reporter"]));
        assert!(issue["responses"]["401"].is_object());
        assert!(issue["responses"]["403"].is_object());
        assert!(doc["paths"]["/healthz"]["get"]["security"].is_null());
    }
}
