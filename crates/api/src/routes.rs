//! The route table: every operation's method, path template and the permission it
//! needs. The API document, the authorisation that runs before a body is read, and the
//! 405 answer with `Allow` all come from this one list.

use crate::problem::Problem;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ALLOW;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use ppe_domain::access::Permission;

/// The permission each operation needs (`None`: answered without a token). The document
/// lists, per operation, the roles that grant it (`x-roles`); a test checks that every
/// operation of the document is here, and the black-box suite checks each over HTTP.
pub const OPERATIONS: &[(&str, &str, Option<Permission>)] = &[
    ("get", "/healthz", None),
    ("get", "/readyz", None),
    ("post", "/api/v1/items", Some(Permission::EditCatalogue)),
    (
        "post",
        "/api/v1/items/import",
        Some(Permission::EditCatalogue),
    ),
    ("get", "/api/v1/items", Some(Permission::ReadCatalogue)),
    (
        "get",
        "/api/v1/items/{sku}",
        Some(Permission::ReadCatalogue),
    ),
    (
        "patch",
        "/api/v1/items/{sku}",
        Some(Permission::EditCatalogue),
    ),
    (
        "get",
        "/api/v1/items/{sku}/balances",
        Some(Permission::ReadStock),
    ),
    ("post", "/api/v1/sites", Some(Permission::EditCatalogue)),
    (
        "post",
        "/api/v1/sites/import",
        Some(Permission::EditCatalogue),
    ),
    ("get", "/api/v1/sites", Some(Permission::ReadCatalogue)),
    (
        "get",
        "/api/v1/sites/{code}",
        Some(Permission::ReadCatalogue),
    ),
    (
        "patch",
        "/api/v1/sites/{code}",
        Some(Permission::EditCatalogue),
    ),
    (
        "get",
        "/api/v1/sites/{code}/balances",
        Some(Permission::ReadStock),
    ),
    (
        "post",
        "/api/v1/stock-reports",
        Some(Permission::ReportStock),
    ),
    (
        "post",
        "/api/v1/stock-reports/import",
        Some(Permission::ReportStock),
    ),
    ("post", "/api/v1/receipts", Some(Permission::Receive)),
    ("post", "/api/v1/issues", Some(Permission::Issue)),
    ("post", "/api/v1/discards", Some(Permission::Discard)),
    ("post", "/api/v1/transfers", Some(Permission::Dispatch)),
    ("get", "/api/v1/transfers", Some(Permission::ReadStock)),
    ("get", "/api/v1/transfers/{id}", Some(Permission::ReadStock)),
    (
        "post",
        "/api/v1/transfers/{id}/receive",
        Some(Permission::ReceiveTransfer),
    ),
    (
        "post",
        "/api/v1/transfers/{id}/cancel",
        Some(Permission::Dispatch),
    ),
    ("get", "/api/v1/discrepancies", Some(Permission::ReadStock)),
    ("get", "/api/v1/audit", Some(Permission::ReadCatalogue)),
    ("get", "/api/v1/vehicles", Some(Permission::ReadCatalogue)),
    ("post", "/api/v1/vehicles", Some(Permission::PlanRoutes)),
    (
        "get",
        "/api/v1/vehicles/{code}",
        Some(Permission::ReadCatalogue),
    ),
    (
        "patch",
        "/api/v1/vehicles/{code}",
        Some(Permission::PlanRoutes),
    ),
    ("post", "/api/v1/requests", Some(Permission::RequestSupply)),
    ("get", "/api/v1/requests", Some(Permission::ReadStock)),
    ("get", "/api/v1/requests/{id}", Some(Permission::ReadStock)),
    (
        "post",
        "/api/v1/requests/{id}/cancel",
        Some(Permission::RequestSupply),
    ),
    ("get", "/api/v1/replenishment", Some(Permission::ReadStock)),
    (
        "post",
        "/api/v1/delivery-plans",
        Some(Permission::PlanRoutes),
    ),
    ("get", "/api/v1/delivery-plans", Some(Permission::ReadStock)),
    (
        "get",
        "/api/v1/delivery-plans/{id}",
        Some(Permission::ReadStock),
    ),
    (
        "post",
        "/api/v1/delivery-plans/{id}/cancel",
        Some(Permission::PlanRoutes),
    ),
    (
        "post",
        "/api/v1/delivery-plans/{id}/dispatch",
        Some(Permission::Dispatch),
    ),
    (
        "get",
        "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet",
        Some(Permission::ReadStock),
    ),
    (
        "post",
        "/api/v1/delivery-plans/{id}/routes/{n}/stops/{k}/receive",
        Some(Permission::ReceiveTransfer),
    ),
    ("get", "/api/v1/movements", Some(Permission::ReadStock)),
    ("get", "/api/v1/consumption", Some(Permission::ReadStock)),
    ("get", "/api/v1/forecasts", Some(Permission::ReadStock)),
    (
        "get",
        "/api/v1/forecasts/accuracy",
        Some(Permission::ReadStock),
    ),
    ("get", "/api/v1/supply-status", Some(Permission::ReadStock)),
    (
        "get",
        "/api/v1/supply-status/aggregates",
        Some(Permission::ReadStock),
    ),
    ("post", "/api/v1/scenarios", Some(Permission::ReadStock)),
    (
        "post",
        "/api/v1/routing/solve",
        Some(Permission::PlanRoutes),
    ),
    ("get", "/api/v1/me", Some(Permission::ReadCatalogue)),
    ("post", "/api/v1/tokens", Some(Permission::ManageTokens)),
    ("get", "/api/v1/tokens", Some(Permission::ManageTokens)),
    (
        "post",
        "/api/v1/tokens/{id}/revoke",
        Some(Permission::ManageTokens),
    ),
];

/// One segment of a path template: literal text, or a `{parameter}` that takes any
/// non-empty segment.
#[derive(Debug, Clone, Copy)]
enum Segment {
    Literal(&'static str),
    Parameter,
}

/// A distinct template of the table, split into segments once.
struct Template {
    text: &'static str,
    segments: Vec<Segment>,
    /// The more literal segments, the more specific: `/forecasts/accuracy` wins over
    /// `/forecasts/{site}`.
    literals: usize,
    /// The methods it answers, upper-case, in the table's order.
    methods: Vec<&'static str>,
}

fn templates() -> &'static [Template] {
    static TEMPLATES: std::sync::LazyLock<Vec<Template>> = std::sync::LazyLock::new(|| {
        let mut seen = std::collections::HashSet::new();
        OPERATIONS
            .iter()
            .map(|(_, t, _)| *t)
            .filter(|t| seen.insert(*t))
            .map(|text| {
                let segments: Vec<Segment> = text
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s)
                        }
                    })
                    .collect();
                let literals = segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                let methods = OPERATIONS
                    .iter()
                    .filter(|(_, t, _)| *t == text)
                    .map(|(m, _, _)| upper_case(m))
                    .collect();
                Template {
                    text,
                    segments,
                    literals,
                    methods,
                }
            })
            .collect()
    });
    &TEMPLATES
}

/// The table's methods as HTTP spells them.
fn upper_case(method: &str) -> &'static str {
    match method {
        "get" => "GET",
        "post" => "POST",
        "patch" => "PATCH",
        "put" => "PUT",
        "delete" => "DELETE",
        other => panic!("the route table names an unknown method {other}"),
    }
}

fn fits(template: &[Segment], path: &[&str]) -> bool {
    template.iter().zip(path).all(|(t, p)| match t {
        Segment::Literal(l) => l == p,
        Segment::Parameter => !p.is_empty(),
    })
}

fn template_for(path: &str) -> Option<&'static Template> {
    // Split once: every request asks, and only templates of as many segments compare.
    let parts: Vec<&str> = path.split('/').collect();
    templates()
        .iter()
        .filter(|t| t.segments.len() == parts.len() && fits(&t.segments, &parts))
        .max_by_key(|t| t.literals)
}

/// The table's template a request path falls under, the most specific when several fit.
pub fn template_of(path: &str) -> Option<&'static str> {
    template_for(path).map(|t| t.text)
}

/// The template of the request's path, found once by [`method_guard`] and kept in the
/// request for the checks after it.
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

/// The permission an operation needs: `None` when the operation is not in the table,
/// `Some(None)` when it needs no token.
pub fn permission_of(method: &str, template: &str) -> Option<Option<Permission>> {
    OPERATIONS
        .iter()
        .find(|(m, t, _)| *t == template && m.eq_ignore_ascii_case(method))
        .map(|(_, _, p)| *p)
}

/// Middleware: a known path asked with a method it does not answer gets 405 with the
/// methods it does answer in `Allow`, before authentication (the path's existence is
/// no secret: the document lists it).
pub async fn method_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(template) = template_for(req.path()) {
        let asked = req.method().as_str();
        if !template.methods.contains(&asked) {
            let allow = template.methods.join(", ");
            let problem = Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("{asked} is not answered here; use {allow}"),
            )
            .header(ALLOW, &allow);
            return Ok(req.into_response(problem.error_response()));
        }
        req.extensions_mut().insert(RouteTemplate(template.text));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The text policy for what arrives outside the body: a path segment or query value
/// with a refused character, or a query parameter sent empty, is a 400 naming it.
pub fn check_path_and_query(req: &HttpRequest, template: Option<&str>) -> Result<(), Problem> {
    if let Some(template) = template {
        for (name, raw) in template.split('/').zip(req.path().split('/')) {
            let Some(name) = name.strip_prefix('{').and_then(|n| n.strip_suffix('}')) else {
                continue;
            };
            let value = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            if let Err(m) = ppe_domain::text::check(&value) {
                return Err(Problem::field(
                    StatusCode::BAD_REQUEST,
                    "bad-path",
                    "Bad path parameter",
                    name,
                    m,
                ));
            }
        }
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| Problem::bad_query("query", &e.to_string()))?;
    for (name, value) in &pairs {
        if value.is_empty() {
            return Err(Problem::bad_query(
                name,
                "must not be empty; leave the parameter out instead",
            ));
        }
        if let Err(m) = ppe_domain::text::check(value) {
            return Err(Problem::bad_query(name, &m));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_template_and_literals_win() {
        assert_eq!(
            template_of("/api/v1/items/FFP2"),
            Some("/api/v1/items/{sku}")
        );
        assert_eq!(
            template_of("/api/v1/forecasts/accuracy"),
            Some("/api/v1/forecasts/accuracy")
        );
        assert_eq!(template_of("/api/v1/items/"), None);
        assert_eq!(template_of("/api/v1/nothing"), None);
        assert_eq!(
            template_for("/api/v1/items").unwrap().methods,
            ["POST", "GET"]
        );
        assert_eq!(
            permission_of("post", "/api/v1/issues"),
            Some(Some(Permission::Issue))
        );
        assert_eq!(permission_of("get", "/healthz"), Some(None));
        assert_eq!(permission_of("delete", "/api/v1/issues"), None);
    }
}
