//! Per-request context: a request id (taken from `X-Request-Id` when the client sent a
//! sane one) in every log line and on every response, and the rewrite of any error
//! response that is not yet a problem document (actix's own 404/405/extractor errors).

use crate::problem::{PROBLEM_JSON, Problem};
use actix_web::HttpMessage;
use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use rand::Rng;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let ok = (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| v.to_owned())
}

fn new_id() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let rid = incoming_id(&req).unwrap_or_else(new_id);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status();
    // The route table's template, found by `method_guard`; `match_pattern` walks the
    // router again, matching each `{parameter}` resource by a regex, on every request.
    let template = res
        .request()
        .extensions()
        .get::<crate::routes::RouteTemplate>()
        .copied();
    let route: Option<std::borrow::Cow<'static, str>> = match template {
        Some(t) => Some(t.0.into()),
        None => res.request().match_pattern().map(Into::into),
    };
    if status.is_server_error()
        && let Some(e) = res.response().error()
    {
        log::error!("rid={rid} {method} {path}: {e}");
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let mut res = if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let detail = match res.response().error() {
            Some(e) if !status.is_server_error() => e.to_string(),
            _ => status.canonical_reason().unwrap_or("error").to_owned(),
        };
        let slug = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
            .replace(' ', "-");
        let title = status.canonical_reason().unwrap_or("Error");
        let allow = res.headers().get(header::ALLOW).cloned();
        let (http_req, _) = res.into_parts();
        let mut rewritten = Problem::new(status, &slug, title, detail).error_response();
        if let Some(a) = allow {
            rewritten.headers_mut().insert(header::ALLOW, a);
        }
        ServiceResponse::new(http_req, rewritten).map_into_boxed_body()
    } else {
        res.map_into_boxed_body()
    };
    if let Ok(v) = HeaderValue::from_str(&rid) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let elapsed = started.elapsed();
    crate::metrics::request(method.as_str(), route.as_deref(), status.as_u16(), elapsed);
    log::info!(
        "rid={rid} {method} {path} {} {:.1}ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}
