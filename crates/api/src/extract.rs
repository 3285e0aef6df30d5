//! Request extractors that answer bad input with a problem naming the field: JSON
//! bodies (content type, size limit, syntax, schema) and the Idempotency-Key header.

use crate::problem::Problem;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use ppe_domain::validation::Violations;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;

/// Largest JSON body accepted, in bytes.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// A JSON body, with the fingerprint of the request for idempotency checks.
pub struct JsonBody<T> {
    pub value: T,
    /// SHA-256 of method, path and the canonical JSON (keys sorted), so a retry that
    /// re-serialises the same data in another key order still matches.
    pub fingerprint: String,
}

fn check_content_type(req: &HttpRequest) -> Result<(), Problem> {
    let ct = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(Problem::field(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "Content-Type",
            format!("must be application/json, not `{ct}`"),
        ))
    }
}

/// Reads a body of at most `limit` bytes: 413 naming the limit beyond it.
pub async fn read_limited<S>(
    req: &HttpRequest,
    payload: &mut S,
    limit: usize,
) -> Result<Vec<u8>, Problem>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>>
        + Unpin,
{
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Body too large",
            format!("the body exceeds {limit} bytes"),
        )
        .with("limit", limit)
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-body",
                "Unreadable body",
                e.to_string(),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses bytes to `T`: syntax errors are 400, shape errors 422 naming the JSON path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, String), Problem> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            e.to_string(),
        )
        .with("line", e.line())
        .with("column", e.column())
    })?;
    let mut value = value;
    // Every body is an object; serde would also read a struct from an array.
    if !value.is_object() {
        return Err(Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "The body does not fit the schema",
            "body",
            "must be a JSON object",
        ));
    }
    let mut refused = Violations::default();
    normalise(&mut value, &mut String::new(), &mut refused);
    if !refused.0.is_empty() {
        return Err(Problem::validation(refused));
    }
    let canonical = value.to_string();
    let t = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let message = e.inner().to_string();
        // serde names an unknown field in its message; put it in the path too.
        let field = match message.strip_prefix("unknown field `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or("");
                if field == "body" {
                    name.to_owned()
                } else if field.ends_with(name) {
                    field
                } else {
                    format!("{field}.{name}")
                }
            }
            None => field,
        };
        Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "The body does not fit the schema",
            &field,
            message,
        )
    })?;
    Ok((t, canonical))
}

/// One pass over a body before it meets its type: every string is held to the text
/// policy (a refused character is a 422 naming the JSON path, whatever the field), and
/// a number with no fractional part becomes an integer, since JSON Schema counts `2.0`
/// as an integer and so must the server.
fn normalise(value: &mut serde_json::Value, path: &mut String, refused: &mut Violations) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Err(m) = ppe_domain::text::check(s) {
                let field = if path.is_empty() {
                    "body"
                } else {
                    path.as_str()
                };
                refused.add(field, m);
            }
        }
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                normalise(item, path, refused);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                normalise(item, path, refused);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Problem>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            check_content_type(&req)?;
            let bytes = read_limited(&req, &mut payload, BODY_LIMIT).await?;
            let (value, canonical) = parse_json::<T>(&bytes)?;
            let mut h = Sha256::new();
            h.update(req.method().as_str());
            h.update(b" ");
            h.update(req.path());
            h.update(b"\n");
            h.update(canonical);
            Ok(JsonBody {
                value,
                fingerprint: hex::encode(h.finalize()),
            })
        })
    }
}

/// The optional `Idempotency-Key` header: 1–200 visible ASCII characters.
pub struct IdempotencyKeyHeader(pub Option<String>);

impl FromRequest for IdempotencyKeyHeader {
    type Error = Problem;
    type Future = std::future::Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bad = |m: &str| {
            Problem::field(
                StatusCode::BAD_REQUEST,
                "bad-idempotency-key",
                "Bad Idempotency-Key",
                "Idempotency-Key",
                m,
            )
        };
        let out = match req.headers().get("Idempotency-Key") {
            None => Ok(IdempotencyKeyHeader(None)),
            Some(v) => match v.to_str() {
                Ok(s)
                    if !s.is_empty()
                        && s.len() <= 200
                        && s.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKeyHeader(Some(s.to_owned())))
                }
                _ => Err(bad("must be 1 to 200 visible ASCII characters")),
            },
        };
        std::future::ready(out)
    }
}

/// Query strings answered as problems naming the parameter.
pub fn query_error(e: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "bad-query",
        "Bad query string",
        e.to_string(),
    )
    .into()
}

/// Path parameters that do not parse name no resource: 404.
pub fn path_error(e: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("{}: {e}", req.path()),
    )
    .into()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error));
}
