//! The one error policy of the API: every error is an RFC 9457 problem document.
//! Storage and domain errors know nothing of HTTP; here each kind gets a status and a
//! stable problem type. Internal errors are logged with their cause and answered
//! opaquely.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use ppe_domain::validation::{FieldError, Violations};
use ppe_persistence::StoreError;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level problems, each naming the JSON path of the field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extension members (e.g. `balance` and `requested` for a shortage).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
    /// Response headers that belong to the problem (e.g. `WWW-Authenticate`).
    #[serde(skip)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    /// 503 with `Retry-After`: the request may well succeed when sent again.
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
        .retry_after(ppe_persistence::health::RETRY_AFTER.as_secs())
    }

    /// 503 with `Retry-After`: the server's bounded pool for heavy work is full.
    pub fn busy(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy", detail).retry_after(2)
    }

    /// Adds `Retry-After` in seconds.
    pub fn retry_after(self, seconds: u64) -> Problem {
        self.header(header::RETRY_AFTER, &seconds.to_string())
    }

    /// Adds a response header; a value that is not a valid header is dropped.
    pub fn header(mut self, name: HeaderName, value: &str) -> Problem {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn field(
        status: StatusCode,
        slug: &str,
        title: &str,
        field: &str,
        message: impl Into<String>,
    ) -> Problem {
        let message = message.into();
        let mut p = Problem::new(status, slug, title, format!("{field}: {message}"));
        p.errors.push(FieldError {
            field: field.to_owned(),
            message,
            line: None,
        });
        p
    }

    /// A problem listing field errors.
    fn fields(status: StatusCode, slug: &str, title: &str, v: Violations) -> Problem {
        let mut p = Problem::new(status, slug, title, v.to_string());
        p.errors = v.0;
        p
    }

    /// A rule the request breaks on its own: 422.
    pub fn validation(v: Violations) -> Problem {
        Problem::fields(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request breaks a rule",
            v,
        )
    }

    pub fn not_found(what: &str, key: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no {what} `{key}`"),
        )
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Problem {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// A query parameter that does not parse or is out of range: 400 naming it.
    pub fn bad_query(field: &str, message: &str) -> Problem {
        Problem::field(
            StatusCode::BAD_REQUEST,
            "bad-query",
            "Bad query string",
            field,
            message,
        )
    }

    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed; the request id in the X-Request-Id header finds it in the log",
        )
    }

    /// A problem for a resource named in the path: NotFound there means 404.
    pub fn from_path_lookup(e: StoreError) -> Problem {
        match e {
            StoreError::NotFound { what, key, .. } => Problem::not_found(what, &key),
            other => other.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code()).json(self);
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in &self.headers {
            res.headers_mut().insert(name.clone(), value.clone());
        }
        res
    }
}

impl From<Violations> for Problem {
    fn from(v: Violations) -> Self {
        Problem::validation(v)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            // A reference inside the request body or query to something that does not exist.
            // 404 rather than 422: the request is well-formed, what it names is missing.
            StoreError::NotFound { field, what, key } => Problem::field(
                StatusCode::NOT_FOUND,
                "unknown-reference",
                "The request refers to something that does not exist",
                &field,
                format!("no {what} `{key}`"),
            ),
            StoreError::Duplicate { field, value } => Problem::field(
                StatusCode::CONFLICT,
                "duplicate",
                "Already exists",
                &field,
                format!("`{value}` is already taken"),
            ),
            StoreError::Invalid(v) => Problem::validation(v),
            StoreError::Contradicts(v) => Problem::fields(
                StatusCode::CONFLICT,
                "contradicts-state",
                "The request contradicts what it names",
                v,
            ),
            StoreError::InsufficientStock {
                ref site,
                ref item,
                ref lot,
                balance,
                requested,
            } => {
                let detail = e.to_string();
                Problem::new(
                    StatusCode::CONFLICT,
                    "insufficient-stock",
                    "Not enough stock",
                    detail,
                )
                .with("site", site.clone())
                .with("item", item.clone())
                .with("lot", lot.clone())
                .with("balance", balance)
                .with("requested", requested)
            }
            StoreError::StockChanged(ref lines) => Problem::new(
                StatusCode::CONFLICT,
                "stock-changed",
                "Stock changed since planning",
                e.to_string(),
            )
            .with(
                "lines",
                serde_json::to_value(lines).unwrap_or(serde_json::Value::Null),
            ),
            StoreError::Conflict(m) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", m)
            }
            StoreError::IdempotencyMismatch => Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
                "Idempotency-Key",
                "was already used for a different request; choose a new key",
            ),
            e if e.is_transient() => {
                log::warn!("answered 503: {e}");
                Problem::unavailable("the database is not reachable or busy; retry later")
            }
            StoreError::Encode(e) => {
                log::error!("{e}");
                Problem::internal()
            }
            e => {
                log::error!("database error: {e}");
                Problem::internal()
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for Problem {
    fn from(e: actix_web::error::BlockingError) -> Self {
        log::error!("blocking task failed: {e}");
        Problem::internal()
    }
}
