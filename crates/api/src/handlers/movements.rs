//! The movement ledger, filtered and paged by cursor; or, as CSV, streamed whole.

use super::blocking;
use crate::auth::Auth;
use crate::export::{self, ExportFormat};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use ppe_domain::access::Permission;
use ppe_domain::ledger::Movement;
use ppe_domain::stock::MovementKind;
use ppe_persistence::reads::{self, MovementFilter};
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    /// Site code.
    pub site: Option<String>,
    /// Item SKU.
    pub item: Option<String>,
    pub kind: Option<MovementKind>,
    /// Occurred at or after (UTC, ISO 8601).
    pub from: Option<DateTime<Utc>>,
    /// Occurred before (UTC, ISO 8601).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100). A CSV answer is not paged: it streams every
    /// movement that matches (after `cursor`, when given).
    pub limit: Option<i64>,
    /// `json` (default), `csv` (streamed, the whole filtered ledger) or `xlsx` (one page).
    pub format: Option<ExportFormat>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MovementPage {
    pub items: Vec<Movement>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The ledger in recording order.
#[utoipa::path(get, path = "/api/v1/movements", tag = "stock", params(MovementQuery), responses(
    (status = 200, description = "A page as JSON or a workbook; as CSV, every matching movement", content(
        (MovementPage = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown site or item", body = Problem, content_type = "application/problem+json"),
))]
pub async fn list_movements(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<MovementQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let format = ExportFormat::negotiate(q.format, &req);
    let limit = super::limit_param(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    // The cursor is the id of the last movement seen; opaque to clients.
    let after_id = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| Problem::bad_query("cursor", "is not a cursor this server gave"))?,
        ),
    };
    let filter = MovementFilter {
        site: q.site,
        item: q.item,
        kind: q.kind,
        from: q.from,
        to: q.to,
        after_id,
        limit,
    };
    if format == ExportFormat::Csv {
        return stream_csv(state, filter).await;
    }
    let (items, more) = blocking(&state, move |db| {
        db.read(|c| reads::movements_page(c, &filter))
    })
    .await?;
    if format == ExportFormat::Xlsx {
        return export::respond_rows(format, "ledger", &items).await;
    }
    let next_cursor = if more {
        items.last().map(|m| m.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(MovementPage { items, next_cursor }))
}

/// The CSV columns: `Movement`'s fields in declaration order (a test holds them equal).
const COLUMNS: [&str; 15] = [
    "id",
    "kind",
    "site",
    "item",
    "lot",
    "expires_on",
    "quantity",
    "counted",
    "reason",
    "transfer_id",
    "reported_by",
    "token_id",
    "token_name",
    "occurred_at",
    "recorded_at",
];

/// Every movement the filter matches, read a page of `MAX_LIMIT` at a time and written
/// as it is read: memory stays one page whatever the ledger's size. The first page is
/// read before the answer starts, so an unknown site or item, or a database that is
/// down, is still a problem document; a read that fails later ends the body early (the
/// chunked transfer is left unterminated, which clients report as an incomplete download).
async fn stream_csv(
    state: web::Data<AppState>,
    mut filter: MovementFilter,
) -> Result<HttpResponse, Problem> {
    filter.limit = MAX_LIMIT;
    let (first, next) = read_page(&state, filter).await?;
    let head = [csv_bytes(&[], true)?, csv_bytes(&first, false)?].concat();
    let rest = futures_util::stream::try_unfold(next, move |next| {
        let state = state.clone();
        async move {
            let Some(filter) = next else {
                return Ok::<_, actix_web::Error>(None);
            };
            let (items, next) = read_page(&state, filter).await?;
            Ok(Some((csv_bytes(&items, false)?, next)))
        }
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async { Ok(web::Bytes::from(head)) }),
        rest,
    );
    Ok(export::attachment(export::CSV_TYPE, "ledger", "csv").streaming(body))
}

/// One page, and the filter of the page after it (none after the last).
async fn read_page(
    state: &web::Data<AppState>,
    filter: MovementFilter,
) -> Result<(Vec<Movement>, Option<MovementFilter>), Problem> {
    let f = filter.clone();
    let (items, more) =
        blocking(state, move |db| db.read(|c| reads::movements_page(c, &f))).await?;
    let next = match items.last() {
        Some(last) if more => Some(MovementFilter {
            after_id: Some(last.id),
            ..filter
        }),
        _ => None,
    };
    Ok((items, next))
}

fn csv_bytes(items: &[Movement], header: bool) -> Result<web::Bytes, Problem> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| {
        log::error!("writing the ledger as CSV: {e}");
        Problem::internal()
    };
    if header {
        w.write_record(COLUMNS).map_err(fail)?;
    }
    for m in items {
        w.serialize(m).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| fail(e.into_error().into()))?;
    Ok(web::Bytes::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_csv_header_names_the_serialised_fields_in_order() {
        let m = Movement {
            id: 7,
            kind: MovementKind::Issue,
            site: "NH-01".into(),
            item: "FFP2".into(),
            lot: "L1".into(),
            expires_on: None,
            quantity: -3,
            counted: None,
            reason: Some("ward, \"B\"".into()),
            transfer_id: None,
            reported_by: "Kari".into(),
            token_id: Some(2),
            token_name: None,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
        };
        let json = serde_json::to_value(&m).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        let mut sorted_columns = COLUMNS.to_vec();
        sorted_columns.sort();
        assert_eq!(keys, sorted_columns, "the same fields");
        let body = [
            csv_bytes(&[], true).unwrap(),
            csv_bytes(&[m], false).unwrap(),
        ]
        .concat();
        let mut r = csv::Reader::from_reader(body.as_slice());
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, COLUMNS);
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(row.len(), COLUMNS.len());
        for (name, cell) in header.iter().zip(row.iter()) {
            let want = match &json[name.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert_eq!(cell, want, "column {name}");
        }
    }
}
