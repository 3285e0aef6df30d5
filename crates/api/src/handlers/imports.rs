//! Spreadsheet imports: a count sheet for many units at once, and the catalogue and
//! sites, as CSV or an Excel workbook. The sheet is read on the heavy-work pool and
//! checked whole before anything is written: every bad row comes back in one 422 with
//! its line and column, and nothing is written. A valid sheet is written in one
//! transaction.

use super::blocking;
use crate::auth::Auth;
use crate::extract::{IdempotencyKeyHeader, read_limited};
use crate::problem::Problem;
use crate::sheet::{self, SheetFormat};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::import::{self, CatalogueImportSummary, CountImportSummary, CountRules, Table};
use ppe_domain::validation::{FieldError, Violations};
use ppe_persistence::imports;
use sha2::{Digest, Sha256};

/// Largest sheet accepted, in bytes: a region's count sheet is far larger than any
/// JSON request.
pub const IMPORT_BODY_LIMIT: usize = 10 * 1024 * 1024;

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountImportQuery {
    /// Who counted (free text, at most 100 characters); defaults to the token's name.
    pub reported_by: Option<String>,
}

/// The sheet's format from its Content-Type: 415 for anything else.
fn format_of(req: &HttpRequest) -> Result<SheetFormat, Problem> {
    let ct = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    SheetFormat::from_content_type(ct).ok_or_else(|| {
        Problem::field(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "Content-Type",
            format!(
                "must be {} (UTF-8) or {}, not `{ct}`",
                sheet::CSV_TYPE,
                sheet::XLSX_TYPE
            ),
        )
    })
}

/// Reads an upload: its format and at most [`IMPORT_BODY_LIMIT`] bytes.
async fn upload(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<(SheetFormat, Vec<u8>), Problem> {
    let format = format_of(req)?;
    let bytes = read_limited(req, &mut payload, IMPORT_BODY_LIMIT).await?;
    Ok((format, bytes))
}

/// A file that is no sheet at all: 400, like malformed JSON.
fn malformed(e: sheet::SheetError) -> Problem {
    let mut p = Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-sheet",
        "The body is not a readable sheet",
        e.to_string(),
    );
    p.errors.push(FieldError {
        field: "body".into(),
        message: e.message,
        line: e.line,
    });
    p
}

/// The rows of an upload, read on the heavy-work pool.
async fn parse(
    state: &web::Data<AppState>,
    format: SheetFormat,
    bytes: Vec<u8>,
) -> Result<Table, Problem> {
    state
        .heavy
        .run(move || sheet::read(format, &bytes))
        .await?
        .map_err(malformed)
}

/// Count sheet: many units' stock counts in one upload.
///
/// The body is a sheet with a header row and the columns `site`, `item` (SKU), `counted`
/// (base units on hand) and optionally `lot`, named in any order and case: CSV (UTF-8,
/// RFC 4180) or an Excel workbook (the first sheet). Each row means what a stock report's
/// line means: the difference to the balance is recorded as a count adjustment (a row
/// without a lot counts every lot of the item).
///
/// The sheet is checked whole first: an unknown site or item, a count that is not a whole
/// number from 0, a missing value, a site the token may not report for, the same site,
/// item and lot twice: every such row is listed in one 422 (`errors[]` with `line`, the
/// sheet's line with the header as line 1, and `field`, the column), and nothing is
/// written. A valid sheet is written in one transaction (every row or none), once per
/// `Idempotency-Key` (required): a retry with the same key and sheet writes nothing and
/// gets the first answer (`Idempotent-Replayed: true`); the same key with another sheet is
/// refused (422). Sheets up to 10 MiB.
#[utoipa::path(post, path = "/api/v1/stock-reports/import", tag = "stock",
    // No example value here: a client replaying one example under one key would be
    // refused as a reuse, so the example is in the description.
    request_body(description = "A count sheet: header `site,item,counted[,lot]`, e.g. `site,item,counted,lot` / `NH-01,FFP2,40,` / `NH-01,GLOVE-NIT-M,600,`", content(
        (String = "text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    params(("Idempotency-Key" = String, Header, description = "Required: client-chosen key; a retry with it returns the first answer and writes nothing"), CountImportQuery),
    responses(
        (status = 201, description = "Every row written", body = CountImportSummary),
        (status = 400, description = "Missing or malformed Idempotency-Key, or a body that is not a readable sheet", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Sheet larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is neither text/csv nor an .xlsx workbook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each in `errors` with its `line` and `field`; or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_counts(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    key: IdempotencyKeyHeader,
    q: web::Query<CountImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReportStock)?;
    let key = key.0.ok_or_else(|| {
        Problem::field(
            StatusCode::BAD_REQUEST,
            "bad-idempotency-key",
            "Bad Idempotency-Key",
            "Idempotency-Key",
            "is required: an import is written once per key",
        )
    })?;
    let reported_by = q
        .into_inner()
        .reported_by
        .unwrap_or_else(|| auth.0.token_name.clone());
    let mut v = Violations::default();
    v.text("reported_by", &reported_by, 100);
    v.finish()?;
    let (format, bytes) = upload(&req, payload).await?;
    let mut h = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        b" ",
        req.path().as_bytes(),
        b"\n",
        reported_by.as_bytes(),
        b"\n",
        format.content_type().as_bytes(),
        b"\n",
        &bytes,
    ] {
        h.update(part);
    }
    let fingerprint = hex::encode(h.finalize());

    let principal = auth.0.clone();
    let db = state.db.clone();
    let reports = state
        .heavy
        .run(move || -> Result<_, Problem> {
            let table = sheet::read(format, &bytes).map_err(malformed)?;
            let (sites, items) = db.read(imports::known_codes)?;
            let rows = import::count_rows(
                &table,
                &CountRules {
                    site_exists: &|s| sites.contains(s),
                    item_exists: &|i| items.contains(i),
                    may_report: &|s| {
                        principal
                            .require_at(Permission::ReportStock, s)
                            .map_err(|d| d.to_string())
                    },
                },
            )?;
            Ok(import::count_reports(&rows, &reported_by, None))
        })
        .await??;
    let sites: Vec<String> = reports.iter().map(|(r, _)| r.site.clone()).collect();
    let sites: Vec<&str> = sites.iter().map(String::as_str).collect();
    let ids = state.db.ids();
    super::write_keyed(
        &state,
        &auth,
        Some(key),
        fingerprint,
        super::Touches::sites(&sites),
        StatusCode::CREATED,
        move |c, stamp| imports::record_counts(c, &ids, &reports, stamp),
    )
    .await
}

/// Item sheet: create or update catalogue items by SKU.
///
/// Columns (by name, any order and case): `sku` (required) and the fields of
/// `POST /api/v1/items`: `name`, `category`, `base_unit`, `pack_size`, `gtin`, `standard`,
/// `shelf_life_days`, `volume_cm3`, `weight_g`. A new SKU is created and needs `name`,
/// `category`, `base_unit` and `pack_size`; an existing one is updated (audited, as a
/// `PATCH`): a column the sheet does not have keeps the stored value, a blank cell clears
/// an optional field, and the base unit never changes. A row equal to the stored item
/// writes nothing, so uploading a sheet twice is harmless. Checked whole (every bad row in
/// one 422 with `line` and `field`, nothing written); written in one transaction. CSV
/// (UTF-8) or .xlsx, up to 10 MiB.
#[utoipa::path(post, path = "/api/v1/items/import", tag = "catalogue",
    request_body(description = "An item sheet: header `sku,name,category,base_unit,pack_size,…`", content(
        (String = "text/csv", example = "sku,name,category,base_unit,pack_size,gtin\nFFP2-TOUR,FFP2 respirator,respirator,piece,20,4006381333931\n"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Every row created, updated or found unchanged", body = CatalogueImportSummary),
        (status = 400, description = "The body is not a readable sheet", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Sheet larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is neither text/csv nor an .xlsx workbook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each in `errors` with its `line` and `field`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_items(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let (format, bytes) = upload(&req, payload).await?;
    let table = parse(&state, format, bytes).await?;
    let stamp = auth.stamp();
    let summary = blocking(&state, move |db| {
        db.write(move |c| imports::import_items(c, &table, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Site sheet: create or update warehouses and units by code.
///
/// Columns (by name, any order and case): `code` (required) and the fields of
/// `POST /api/v1/sites`: `name`, `kind`, `unit_type`, `district`, `latitude`,
/// `longitude`, `address`, `opening_hours`, `priority_tier`, `lead_time_days`.
/// `opening_hours` is written as windows separated by `;`, each weekdays (1 = Monday … 7,
/// lists and ranges) and a time range: `1-5 08:00-15:30; 6 10:00-14:00`. A new code is
/// created and needs `name`, `kind`, `latitude` and `longitude` (priority tier 3 and lead
/// time 2 days unless given); an existing one is updated (audited): a column the sheet
/// does not have keeps the stored value, a blank cell clears an optional field, the kind
/// never changes. Checked whole (every bad row in one 422 with `line` and `field`,
/// nothing written); written in one transaction. CSV (UTF-8) or .xlsx, up to 10 MiB.
#[utoipa::path(post, path = "/api/v1/sites/import", tag = "sites",
    request_body(description = "A site sheet: header `code,name,kind,latitude,longitude,…`", content(
        (String = "text/csv", example = "code,name,kind,unit_type,district,latitude,longitude,opening_hours\nNH-TOUR,Tour nursing home,unit,nursing_home,Bragernes,59.745,10.2,1-5 08:00-15:30\n"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Every row created, updated or found unchanged", body = CatalogueImportSummary),
        (status = 400, description = "The body is not a readable sheet", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Sheet larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is neither text/csv nor an .xlsx workbook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each in `errors` with its `line` and `field`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_sites(
    auth: Auth,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::EditCatalogue)?;
    let (format, bytes) = upload(&req, payload).await?;
    let table = parse(&state, format, bytes).await?;
    let stamp = auth.stamp();
    let summary = blocking(&state, move |db| {
        db.write(move |c| imports::import_sites(c, &table, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}
