//! The built-in web dashboard: one HTML page, one script and one style sheet, compiled
//! into the binary so that it works offline and needs no build step.
//!
//! The page is a thin client of the JSON API: it signs in with an API token (kept in the
//! browser's session storage), asks `/api/v1/me` what the token may do and renders every
//! view from the same operations a script would call. So the dashboard has no second
//! authorisation path, no cookies and nothing to keep in step with the API but the API
//! document itself. Its Content-Security-Policy lets it load and fetch only from this
//! server.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// Only this origin, no inline script, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../dashboard/app.js"),
    },
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../dashboard/app.css"),
    },
];

const INDEX: &str = include_str!("../dashboard/index.html");

fn page(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // Revalidated on every load: a new binary serves new assets at the same paths.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

async fn index() -> HttpResponse {
    page("text/html; charset=utf-8", INDEX)
}

async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.path == name.as_str()) {
        Some(a) => page(a.content_type, a.body),
        // Rewritten into a problem document by the request context.
        None => HttpResponse::NotFound().finish(),
    }
}

async fn to_swagger() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/swagger-ui/"))
        .finish()
}

/// `/` and `/dashboard/…`; `/swagger-ui` without its slash finds the API browser.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/dashboard/{name}", web::get().to(asset))
        .route("/swagger-ui", web::get().to(to_swagger));
}
