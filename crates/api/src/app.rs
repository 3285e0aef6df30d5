//! The HTTP application: routes, middleware, API document and Swagger UI.

use crate::handlers::{
    audit, catalogue, fleet, forecasts, health, imports, ledger, movements, plans, requests,
    routing, scenarios, tokens, transfers,
};
use crate::request_context::request_context;
use crate::state::AppState;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

async fn not_found() -> HttpResponse {
    // Rewritten into a problem document by the request context.
    HttpResponse::NotFound().finish()
}

/// The API document, built once.
async fn api_document() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(crate::openapi::document_json);
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body.as_str())
}

/// Registers everything on an app; the caller owns the server and the state.
pub fn configure(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state);
        crate::extract::configure(cfg);
        // The API first: its prefix is a literal, and every call of a client goes there.
        cfg.service(
            web::scope("/api/v1")
                .wrap(from_fn(crate::auth::authenticate))
                // The ledger's writes first: they are most of the traffic, and the router
                // tries resources in order, matching each `{parameter}` one by a regex.
                .route("/stock-reports", web::post().to(ledger::post_stock_report))
                .route(
                    "/stock-reports/import",
                    web::post().to(imports::import_counts),
                )
                .route("/receipts", web::post().to(ledger::post_receipt))
                .route("/issues", web::post().to(ledger::post_issue))
                .route("/discards", web::post().to(ledger::post_discard))
                .service(
                    web::resource("/items")
                        .route(web::get().to(catalogue::list_items))
                        .route(web::post().to(catalogue::create_item)),
                )
                // Before `/items/{sku}`, which would take `import` for a SKU.
                .route("/items/import", web::post().to(imports::import_items))
                .service(
                    web::resource("/items/{sku}")
                        .route(web::get().to(catalogue::get_item))
                        .route(web::patch().to(catalogue::patch_item)),
                )
                .route(
                    "/items/{sku}/balances",
                    web::get().to(catalogue::item_balances),
                )
                .service(
                    web::resource("/sites")
                        .route(web::get().to(catalogue::list_sites))
                        .route(web::post().to(catalogue::create_site)),
                )
                .route("/sites/import", web::post().to(imports::import_sites))
                .service(
                    web::resource("/sites/{code}")
                        .route(web::get().to(catalogue::get_site))
                        .route(web::patch().to(catalogue::patch_site)),
                )
                .route(
                    "/sites/{code}/balances",
                    web::get().to(catalogue::site_balances),
                )
                .service(
                    web::resource("/transfers")
                        .route(web::get().to(transfers::list))
                        .route(web::post().to(transfers::dispatch)),
                )
                .route("/transfers/{id}", web::get().to(transfers::get))
                .route(
                    "/transfers/{id}/receive",
                    web::post().to(transfers::receive),
                )
                .route("/transfers/{id}/cancel", web::post().to(transfers::cancel))
                .route("/discrepancies", web::get().to(transfers::discrepancies))
                .route("/audit", web::get().to(audit::list))
                .service(
                    web::resource("/vehicles")
                        .route(web::get().to(fleet::list))
                        .route(web::post().to(fleet::create)),
                )
                .service(
                    web::resource("/vehicles/{code}")
                        .route(web::get().to(fleet::get))
                        .route(web::patch().to(fleet::patch)),
                )
                .service(
                    web::resource("/requests")
                        .route(web::get().to(requests::list))
                        .route(web::post().to(requests::create)),
                )
                .route("/requests/{id}", web::get().to(requests::get))
                .route("/requests/{id}/cancel", web::post().to(requests::cancel))
                .route("/replenishment", web::get().to(plans::replenishment))
                .service(
                    web::resource("/delivery-plans")
                        .route(web::get().to(plans::list))
                        .route(web::post().to(plans::create)),
                )
                .route("/delivery-plans/{id}", web::get().to(plans::get))
                .route("/delivery-plans/{id}/cancel", web::post().to(plans::cancel))
                .route(
                    "/delivery-plans/{id}/dispatch",
                    web::post().to(plans::dispatch),
                )
                .route(
                    "/delivery-plans/{id}/routes/{n}/run-sheet",
                    web::get().to(plans::run_sheet),
                )
                .route(
                    "/delivery-plans/{id}/routes/{n}/stops/{k}/receive",
                    web::post().to(plans::receive_stop),
                )
                .route("/movements", web::get().to(movements::list_movements))
                .route(
                    "/consumption",
                    web::get().to(forecasts::consumption_history),
                )
                .route("/forecasts", web::get().to(forecasts::list_forecasts))
                .route("/forecasts/accuracy", web::get().to(forecasts::accuracy))
                .route("/supply-status", web::get().to(forecasts::supply_status))
                .route(
                    "/supply-status/aggregates",
                    web::get().to(forecasts::aggregates),
                )
                .route("/scenarios", web::post().to(scenarios::run))
                .route("/routing/solve", web::post().to(routing::solve))
                .route("/me", web::get().to(tokens::me))
                .service(
                    web::resource("/tokens")
                        .route(web::get().to(tokens::list))
                        .route(web::post().to(tokens::create)),
                )
                .route("/tokens/{id}/revoke", web::post().to(tokens::revoke)),
        )
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(crate::metrics::scrape))
        .route("/api-docs/openapi.json", web::get().to(api_document))
        .configure(crate::dashboard::configure)
        .service(
            SwaggerUi::new("/swagger-ui/{_:.*}")
                .config(Config::new(["/api-docs/openapi.json"]).validator_url("none")),
        )
        .default_service(web::to(not_found));
    }
}

/// Wraps the app in the request context (request id, logging, problem rewrite).
pub fn build(
    state: web::Data<AppState>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .wrap(from_fn(crate::routes::method_guard))
        .wrap(from_fn(request_context))
        .configure(configure(state))
}
