//! Lists as spreadsheets. A list operation that answers JSON rows can also answer them as
//! CSV (RFC 4180, UTF-8, a header row) or as an Excel workbook (Office Open XML): the same
//! rows in the same order under the same filters, asked for with `?format=csv|xlsx` or an
//! `Accept` header that ranks `text/csv` or the workbook type above JSON.
//!
//! A row's nested objects become columns named by their path (`days_of_supply.q50`), in
//! the order the JSON gives them; lists inside a row stay JSON text in one cell. In the
//! workbook, numbers are numbers, true/false are booleans, dates and times are Excel
//! dates (UTC), and everything else is text.

use crate::problem::Problem;
use actix_web::http::header::{self, Header as _, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use indexmap::{IndexMap, IndexSet};
use serde::Deserialize;
use serde_json::Value;

/// The representations a list operation answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Json,
    Csv,
    Xlsx,
}

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl ExportFormat {
    /// `?format=` when given; else the first of the `Accept` header's ranked types that
    /// names one of the three (JSON when none does).
    pub fn negotiate(asked: Option<ExportFormat>, req: &HttpRequest) -> ExportFormat {
        if let Some(f) = asked {
            return f;
        }
        let Ok(accept) = header::Accept::parse(req) else {
            return ExportFormat::Json;
        };
        for mime in accept.ranked() {
            match (mime.type_().as_str(), mime.subtype().as_str()) {
                ("text", "csv") => return ExportFormat::Csv,
                ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet") => {
                    return ExportFormat::Xlsx;
                }
                ("application", "json") | ("application", "*") | ("*", "*") => {
                    return ExportFormat::Json;
                }
                _ => {}
            }
        }
        ExportFormat::Json
    }
}

/// A JSON value that keeps the order of an object's keys (the columns' order).
#[derive(Deserialize)]
#[serde(untagged)]
enum Node {
    Object(IndexMap<String, Node>),
    Leaf(Value),
}

/// Rows flattened into named columns.
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

fn flatten(prefix: &str, node: Node, out: &mut Vec<(String, Value)>) {
    match node {
        Node::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        Node::Leaf(v) => out.push((prefix.to_owned(), v)),
    }
}

impl Table {
    /// The table of a JSON array of objects (as the list operations answer).
    pub fn from_json(rows: &[u8]) -> Result<Table, serde_json::Error> {
        let rows: Vec<Node> = serde_json::from_slice(rows)?;
        let mut flat = Vec::with_capacity(rows.len());
        let mut columns = IndexSet::new();
        for row in rows {
            let mut cells = Vec::new();
            flatten("", row, &mut cells);
            for (name, _) in &cells {
                if !columns.contains(name) {
                    columns.insert(name.clone());
                }
            }
            flat.push(cells.into_iter().collect::<IndexMap<_, _>>());
        }
        let rows = flat
            .into_iter()
            .map(|mut cells| {
                columns
                    .iter()
                    .map(|c| cells.swap_remove(c).unwrap_or(Value::Null))
                    .collect()
            })
            .collect();
        Ok(Table {
            columns: columns.into_iter().collect(),
            rows,
        })
    }

    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns)?;
        for row in &self.rows {
            w.write_record(row.iter().map(csv_cell))?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }

    pub fn to_xlsx(&self, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(sheet))?;
        let bold = Format::new().set_bold();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for (c, name) in self.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, name, &bold)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    Value::Null => {}
                    Value::Bool(b) => {
                        ws.write_boolean(r, c, *b)?;
                    }
                    Value::Number(n) => match n.as_f64() {
                        Some(x) => {
                            ws.write_number(r, c, x)?;
                        }
                        None => {
                            ws.write_string(r, c, n.to_string())?;
                        }
                    },
                    Value::String(s) => match when(s) {
                        Some(When::Date(d)) => {
                            let d =
                                ExcelDateTime::parse_from_str(&d.format("%Y-%m-%d").to_string())?;
                            ws.write_datetime_with_format(r, c, &d, &date)?;
                        }
                        Some(When::Time(t)) => {
                            let t = ExcelDateTime::parse_from_str(
                                &t.format("%Y-%m-%d %H:%M:%S").to_string(),
                            )?;
                            ws.write_datetime_with_format(r, c, &t, &datetime)?;
                        }
                        None => {
                            ws.write_string(r, c, cell_text(s))?;
                        }
                    },
                    Value::Array(_) | Value::Object(_) => {
                        ws.write_string(r, c, cell_text(&v.to_string()))?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        book.save_to_buffer()
    }
}

/// Most characters an Excel cell holds.
const EXCEL_CELL_MAX: usize = 32_767;

/// Text as a workbook cell can hold it: longer text is cut at Excel's limit and ends
/// in `…` (the CSV and JSON answers keep it whole).
fn cell_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= EXCEL_CELL_MAX {
        return s.into();
    }
    let mut cut: String = s.chars().take(EXCEL_CELL_MAX - 1).collect();
    cut.push('…');
    cut.into()
}

/// Excel's rules for a sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.is_empty() {
        "rows".into()
    } else {
        clean
    }
}

enum When {
    Date(chrono::NaiveDate),
    Time(chrono::NaiveDateTime),
}

/// A date (`2026-03-12`) or an RFC 3339 time, as the API writes them; times in UTC.
fn when(s: &str) -> Option<When> {
    use chrono::Datelike;
    // Excel counts days from 1900 and stops at 9999: other dates stay text.
    let in_excel = |d: chrono::NaiveDate| (1900..=9999).contains(&d.year());
    if s.len() == 10 {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|d| in_excel(*d))
            .map(When::Date);
    }
    if s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') {
        return chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.naive_utc())
            .filter(|t| in_excel(t.date()))
            .map(When::Time);
    }
    None
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `?format=` alone, for list operations that have no other query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` or the workbook type also works.
    pub format: Option<ExportFormat>,
}

/// Answers JSON `rows` (a serialised array of objects) in `format`; `name` is the
/// download's file name without extension and the workbook's sheet name.
pub async fn respond(
    format: ExportFormat,
    name: &str,
    rows: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let (content_type, ext) = match format {
        ExportFormat::Json => {
            return Ok(HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .body(rows));
        }
        ExportFormat::Csv => (CSV_TYPE, "csv"),
        ExportFormat::Xlsx => (XLSX_TYPE, "xlsx"),
    };
    let sheet = name.to_owned();
    // Flattening thousands of rows and zipping a workbook is CPU work: off the async worker.
    let body = web::block(move || -> Result<Vec<u8>, String> {
        let t = Table::from_json(&rows).map_err(|e| e.to_string())?;
        if format == ExportFormat::Xlsx {
            t.to_xlsx(&sheet).map_err(|e| e.to_string())
        } else {
            t.to_csv().map_err(|e| e.to_string())
        }
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(|e| {
        log::error!("exporting {name}: {e}");
        Problem::internal()
    })?;
    Ok(attachment(content_type, name, ext).body(body))
}

/// A 200 answer that browsers save as `name.ext`.
pub fn attachment(content_type: &str, name: &str, ext: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.content_type(content_type);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        res.insert_header((header::CONTENT_DISPOSITION, v));
    }
    res
}

/// Serialises `rows` and answers them in `format`.
pub async fn respond_rows<T: serde::Serialize>(
    format: ExportFormat,
    name: &str,
    rows: &T,
) -> Result<HttpResponse, Problem> {
    let json = serde_json::to_vec(rows).map_err(|e| {
        log::error!("{name} not serialisable: {e}");
        Problem::internal()
    })?;
    respond(format, name, web::Bytes::from(json)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_become_dotted_columns_in_json_order() {
        let t = Table::from_json(
            br#"[{"site":"NH-01","days":{"q90":9,"q10":1},"tags":[1,2],"note":null},
                 {"site":"NH-02","extra":true,"days":{"q90":3,"q10":2}}]"#,
        )
        .unwrap();
        assert_eq!(
            t.columns,
            ["site", "days.q90", "days.q10", "tags", "note", "extra"]
        );
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "site,days.q90,days.q10,tags,note,extra");
        assert_eq!(lines[1], "NH-01,9,1,\"[1,2]\",,");
        assert_eq!(lines[2], "NH-02,3,2,,,true");
    }

    #[test]
    fn text_with_commas_quotes_and_newlines_survives_a_round_trip() {
        let t = Table::from_json(br#"[{"name":"Tr\u00f8nder, \"B\"\nline"}]"#).unwrap();
        let csv = t.to_csv().unwrap();
        let mut r = csv::Reader::from_reader(csv.as_slice());
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "Trønder, \"B\"\nline");
    }

    #[test]
    fn text_longer_than_a_cell_is_cut_not_refused() {
        let long = "x".repeat(40_000);
        let t = Table::from_json(
            format!(r#"[{{"note":"{long}","lines":[{{"a":"{long}"}}]}}]"#).as_bytes(),
        )
        .unwrap();
        assert!(t.to_xlsx("rows").is_ok());
        let cut = cell_text(&long);
        assert_eq!(cut.chars().count(), EXCEL_CELL_MAX);
        assert!(cut.ends_with('…'));
        assert_eq!(cell_text("short"), "short");
    }

    #[test]
    fn any_name_makes_a_workbook() {
        let t = Table::from_json(br#"[{"a":1}]"#).unwrap();
        for name in [
            "balances-A-VERY-LONG-SKU-OF-THIRTY-TWO-CHARS",
            "a/b[c]:d*e?f\\g",
            "",
        ] {
            assert!(t.to_xlsx(name).is_ok(), "{name}");
            assert!(sheet_name(name).chars().count() <= 31);
        }
    }

    #[test]
    fn dates_and_times_are_recognised_only_in_the_api_formats() {
        assert!(matches!(when("2026-03-12"), Some(When::Date(_))));
        assert!(matches!(
            when("2026-03-12T08:30:00.250Z"),
            Some(When::Time(_))
        ));
        assert!(when("NH-01-2026").is_none());
        assert!(when("0094-06-03").is_none(), "before Excel's first day");
        let t = Table::from_json(br#"[{"d":"0094-06-03","t":"0001-01-01T00:00:00Z"}]"#).unwrap();
        assert!(t.to_xlsx("rows").is_ok());
        assert!(when("2026-13-01").is_none());
    }

    #[test]
    fn a_workbook_is_written() {
        let t = Table::from_json(br#"[{"a":1.5,"b":"2026-03-12","c":"x"}]"#).unwrap();
        let bytes = t.to_xlsx("rows").unwrap();
        // An Office Open XML file is a ZIP archive.
        assert_eq!(&bytes[..2], b"PK");
    }
}
