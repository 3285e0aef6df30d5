//! Spreadsheet imports: count sheets, the catalogue and sites arrive as a table of text
//! cells under a header row. Every row is checked before anything is written, and every
//! refusal names the sheet's line (as a spreadsheet shows it: the header is line 1) and
//! the column, so a whole sheet's mistakes come back in one answer.

use crate::catalogue::{Item, ItemPatch, NewItem};
use crate::commands::{CountLine, StockReport};
use crate::site::{NewSite, OpeningWindow, Site, SitePatch};
use crate::stock::MAX_LINE_QUANTITY;
use crate::text::{CODE_MAX, SKU_MAX};
use crate::validation::Violations;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

/// Most data rows one sheet may hold.
pub const MAX_ROWS: usize = 50_000;

/// The field that names the sheet as a whole (no rows, too many rows, a row wider than
/// the header).
pub const SHEET_FIELD: &str = "sheet";

/// A sheet as read from CSV or a workbook: the header's column names and the data rows,
/// each with its line number as a spreadsheet shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The line of the header row (1 unless the sheet starts lower).
    pub header_line: u64,
    pub header: Vec<String>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// What a sheet holds in one column of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell<'a> {
    /// The sheet has no such column.
    Absent,
    /// The column is there; this row leaves it empty (white space counts as empty).
    Blank,
    Text(&'a str),
}

/// The columns of a sheet by lower-case name: header names are matched without regard
/// to case or surrounding white space.
struct Columns(HashMap<&'static str, usize>);

impl Columns {
    /// Resolves the header against the columns an import knows; an unknown, repeated or
    /// missing required column is a refusal on the header line.
    fn resolve(
        table: &Table,
        known: &[&'static str],
        required: &[&'static str],
        v: &mut Violations,
    ) -> Columns {
        let mut by_name = HashMap::new();
        for (i, raw) in table.header.iter().enumerate() {
            let name = raw.trim().to_lowercase();
            if name.is_empty() {
                // An empty header cell (a workbook's trailing column) names nothing; a
                // value below it is refused with the row (see `check_width`).
                continue;
            }
            match known.iter().find(|k| **k == name) {
                None => v.add_at(
                    table.header_line,
                    raw.trim(),
                    format!(
                        "is not a column of this import; the columns are {}",
                        known.join(", ")
                    ),
                ),
                Some(k) => {
                    if by_name.insert(*k, i).is_some() {
                        v.add_at(table.header_line, *k, "is a column twice in the header");
                    }
                }
            }
        }
        for r in required {
            if !by_name.contains_key(r) {
                v.add_at(table.header_line, *r, "column is missing from the header");
            }
        }
        Columns(by_name)
    }

    fn cell<'a>(&self, row: &'a TableRow, name: &str) -> Cell<'a> {
        match self.0.get(name) {
            None => Cell::Absent,
            Some(&i) => match row.cells.get(i).map(|c| c.trim()) {
                None | Some("") => Cell::Blank,
                Some(t) => Cell::Text(t),
            },
        }
    }

    /// Refuses a value in a column the header does not name: it would be lost.
    fn check_width(&self, row: &TableRow, v: &mut Violations) {
        let named: HashSet<usize> = self.0.values().copied().collect();
        let stray = row
            .cells
            .iter()
            .enumerate()
            .any(|(i, c)| !c.trim().is_empty() && !named.contains(&i));
        if stray {
            v.add_at(
                row.line,
                SHEET_FIELD,
                "holds a value in a column the header does not name",
            );
        }
    }
}

/// The first line a key was seen on; `Some(first)` when `line` repeats it.
fn repeated<K: std::hash::Hash + Eq>(seen: &mut HashMap<K, u64>, key: K, line: u64) -> Option<u64> {
    match seen.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(line);
            None
        }
    }
}

/// Checks the sheet's size: at least one row, at most [`MAX_ROWS`].
fn check_size(table: &Table, v: &mut Violations) {
    if table.rows.is_empty() {
        v.add_at(
            table.header_line,
            SHEET_FIELD,
            "holds no rows below its header",
        );
    } else if table.rows.len() > MAX_ROWS {
        v.add_at(
            table.header_line,
            SHEET_FIELD,
            format!("holds more than {MAX_ROWS} rows; split it"),
        );
    }
}

/// A required value: the cell's text, or for an existing entry the stored value when
/// the sheet has no such column.
fn required<T>(
    cell: Cell<'_>,
    field: &str,
    stored: Option<T>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    v: &mut Violations,
) -> Option<T> {
    match (cell, stored) {
        (Cell::Text(t), _) => parse(t).map_err(|m| v.add(field, m)).ok(),
        (Cell::Absent, Some(s)) => Some(s),
        (Cell::Absent | Cell::Blank, _) => {
            v.add(field, "is required");
            None
        }
    }
}

/// An optional value: the cell's text; a blank cell clears it; without the column an
/// existing entry keeps what it has (`stored` is `None` for a new one).
fn optional<T>(
    cell: Cell<'_>,
    field: &str,
    stored: Option<Option<T>>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    v: &mut Violations,
) -> Option<Option<T>> {
    match cell {
        Cell::Text(t) => parse(t).map(Some).map_err(|m| v.add(field, m)).ok(),
        Cell::Blank => Some(None),
        Cell::Absent => Some(stored.unwrap_or(None)),
    }
}

fn text(s: &str) -> Result<String, String> {
    Ok(s.to_owned())
}

fn whole<T: FromStr>(s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("must be a whole number, not `{s}`"))
}

fn number(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("must be a number, not `{s}`"))
}

fn one_of<T: FromStr<Err = String>>(s: &str) -> Result<T, String> {
    s.parse()
}

// ---------------------------------------------------------------------------------
// Count sheets

/// The columns of a count sheet.
pub const COUNT_COLUMNS: &[&str] = &["site", "item", "counted", "lot"];
const COUNT_REQUIRED: &[&str] = &["site", "item", "counted"];

/// One valid row of a count sheet: what `site` holds of `item` (of `lot`, or of every
/// lot of the item when no lot is named), as a stock report's line counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub line: u64,
    pub site: String,
    pub item: String,
    pub counted: i64,
    pub lot: Option<String>,
}

/// What a count sheet's rows may name: the sites and items that exist, and the sites
/// the caller may report for.
pub struct CountRules<'a> {
    pub site_exists: &'a dyn Fn(&str) -> bool,
    pub item_exists: &'a dyn Fn(&str) -> bool,
    /// `Err` with the reason when the caller may not report for the site.
    pub may_report: &'a dyn Fn(&str) -> Result<(), String>,
}

/// Checks every row of a count sheet; all its rows, or every refusal with its line.
pub fn count_rows(table: &Table, rules: &CountRules<'_>) -> Result<Vec<CountRow>, Violations> {
    let mut v = Violations::default();
    let cols = Columns::resolve(table, COUNT_COLUMNS, COUNT_REQUIRED, &mut v);
    check_size(table, &mut v);
    if !v.is_empty() {
        // Without the right columns every row would repeat the header's problem.
        return Err(v);
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut first_line: HashMap<(String, String, String), u64> = HashMap::new();
    for row in &table.rows {
        let mut r = Violations::default();
        cols.check_width(row, &mut v);
        let site = required(cols.cell(row, "site"), "site", None, text, &mut r);
        if let Some(s) = &site {
            r.text("site", s, CODE_MAX);
            if r.is_empty() {
                if !(rules.site_exists)(s) {
                    r.add("site", format!("no site `{s}`"));
                } else if let Err(m) = (rules.may_report)(s) {
                    r.add("site", m);
                }
            }
        }
        let item = required(cols.cell(row, "item"), "item", None, text, &mut r);
        if let Some(i) = &item {
            let before = r.0.len();
            r.text("item", i, SKU_MAX);
            if r.0.len() == before && !(rules.item_exists)(i) {
                r.add("item", format!("no item `{i}`"));
            }
        }
        let counted = required(
            cols.cell(row, "counted"),
            "counted",
            None,
            |s| {
                whole::<i64>(s)
                    .ok()
                    .filter(|n| (0..=MAX_LINE_QUANTITY).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "must be a whole number of base units from 0 to {MAX_LINE_QUANTITY}, not `{s}`"
                        )
                    })
            },
            &mut r,
        );
        let lot = optional(cols.cell(row, "lot"), "lot", None, text, &mut r).flatten();
        if let Some(l) = &lot {
            r.text("lot", l, 64);
        }
        if let (Some(s), Some(i)) = (&site, &item) {
            let key = (s.clone(), i.clone(), lot.clone().unwrap_or_default());
            if let Some(first) = repeated(&mut first_line, key, row.line) {
                r.add(
                    "item",
                    format!("line {first} already counts this site, item and lot"),
                );
            }
        }
        match (site, item, counted, r.is_empty()) {
            (Some(site), Some(item), Some(counted), true) => rows.push(CountRow {
                line: row.line,
                site,
                item,
                counted,
                lot,
            }),
            _ => v.extend_at(row.line, r),
        }
    }
    v.finish().map(|()| rows)
}

/// The rows as one stock report per site (sites in code order, lines in sheet order),
/// each with the sheet lines of its lines: a count in a sheet means what it means in a
/// stock report.
pub fn count_reports(
    rows: &[CountRow],
    reported_by: &str,
    occurred_at: Option<DateTime<Utc>>,
) -> Vec<(StockReport, Vec<u64>)> {
    let mut by_site: BTreeMap<&str, (Vec<CountLine>, Vec<u64>)> = BTreeMap::new();
    for r in rows {
        let (lines, numbers) = by_site.entry(r.site.as_str()).or_default();
        lines.push(CountLine {
            item: r.item.clone(),
            counted: r.counted,
            lot: r.lot.clone(),
        });
        numbers.push(r.line);
    }
    by_site
        .into_iter()
        .map(|(site, (lines, numbers))| {
            (
                StockReport {
                    site: site.to_owned(),
                    occurred_at,
                    reported_by: reported_by.to_owned(),
                    lines,
                },
                numbers,
            )
        })
        .collect()
}

/// The answer to a count import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountImportSummary {
    /// Rows of the sheet written (every row: an import is all or nothing).
    pub rows: usize,
    /// Sites counted.
    pub sites: usize,
    /// Count-adjustment movements recorded (a count equal to the balance records one of
    /// zero; a count below it may draw on several lots).
    pub movements: usize,
    /// Rows whose count differed from the balance.
    pub changed: usize,
    /// Per row, in sheet order.
    pub lines: Vec<ImportedCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedCount {
    /// The sheet's line (the header is line 1).
    pub line: u64,
    pub site: String,
    pub item: String,
    #[serde(default)]
    pub lot: Option<String>,
    pub counted: i64,
    /// Counted less the balance before the count (the sum of the row's movements).
    pub adjustment: i64,
    /// Ids of the movements the row recorded.
    pub movement_ids: Vec<i64>,
}

// ---------------------------------------------------------------------------------
// The catalogue and sites

/// What an import did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    Created,
    Updated,
    /// The row equals what is stored; nothing was written.
    Unchanged,
}

/// One row of an item or site import: the entry as it will be stored, what was stored
/// before (none for a new one) and what the import does.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<New, Stored> {
    pub line: u64,
    pub after: New,
    pub before: Option<Stored>,
    pub outcome: ImportOutcome,
}

pub type ItemChange = Change<NewItem, Item>;
pub type SiteChange = Change<NewSite, Site>;

/// The answer to an item or site import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueImportSummary {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Per row, in sheet order.
    pub lines: Vec<ImportedEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedEntry {
    /// The sheet's line (the header is line 1).
    pub line: u64,
    /// The item's SKU or the site's code.
    pub key: String,
    pub outcome: ImportOutcome,
}

impl CatalogueImportSummary {
    pub fn of<N, S>(changes: &[Change<N, S>], key: impl Fn(&N) -> &str) -> Self {
        let count = |o| changes.iter().filter(|c| c.outcome == o).count();
        CatalogueImportSummary {
            rows: changes.len(),
            created: count(ImportOutcome::Created),
            updated: count(ImportOutcome::Updated),
            unchanged: count(ImportOutcome::Unchanged),
            lines: changes
                .iter()
                .map(|c| ImportedEntry {
                    line: c.line,
                    key: key(&c.after).to_owned(),
                    outcome: c.outcome,
                })
                .collect(),
        }
    }
}

/// The columns of an item sheet: the fields of `POST /api/v1/items`.
pub const ITEM_COLUMNS: &[&str] = &[
    "sku",
    "name",
    "category",
    "base_unit",
    "pack_size",
    "gtin",
    "standard",
    "shelf_life_days",
    "volume_cm3",
    "weight_g",
];

/// Checks an item sheet against the stored catalogue. A row whose SKU exists updates
/// that item: a column the sheet does not have keeps the stored value, a blank cell
/// clears an optional field. A new SKU needs every required field. The base unit of an
/// existing item never changes (the ledger counts in it).
pub fn item_changes(table: &Table, stored: &[Item]) -> Result<Vec<ItemChange>, Violations> {
    let mut v = Violations::default();
    let cols = Columns::resolve(table, ITEM_COLUMNS, &["sku"], &mut v);
    check_size(table, &mut v);
    if !v.is_empty() {
        return Err(v);
    }
    let by_sku: HashMap<&str, &Item> = stored.iter().map(|i| (i.sku.as_str(), i)).collect();
    let mut changes: Vec<ItemChange> = Vec::with_capacity(table.rows.len());
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        let mut r = Violations::default();
        cols.check_width(row, &mut v);
        let Some(mut sku) = required(cols.cell(row, "sku"), "sku", None, text, &mut r) else {
            v.extend_at(row.line, r);
            continue;
        };
        r.code("sku", &mut sku, SKU_MAX);
        if !r.is_empty() {
            v.extend_at(row.line, r);
            continue;
        }
        if let Some(first) = repeated(&mut first_line, sku.clone(), row.line) {
            r.add("sku", format!("line {first} already has this SKU"));
        }
        let before = by_sku.get(sku.as_str()).copied();
        let was = before.map(|b| ItemPatch::default().apply(b).0);
        let c = |name| cols.cell(row, name);
        let name = required(
            c("name"),
            "name",
            was.as_ref().map(|w| w.name.clone()),
            text,
            &mut r,
        );
        let category = required(
            c("category"),
            "category",
            was.as_ref().map(|w| w.category),
            one_of,
            &mut r,
        );
        let base_unit = required(
            c("base_unit"),
            "base_unit",
            was.as_ref().map(|w| w.base_unit),
            one_of,
            &mut r,
        );
        let pack_size = required(
            c("pack_size"),
            "pack_size",
            was.as_ref().map(|w| w.pack_size),
            whole,
            &mut r,
        );
        let gtin = optional(
            c("gtin"),
            "gtin",
            was.as_ref().map(|w| w.gtin.clone()),
            text,
            &mut r,
        );
        let standard = optional(
            c("standard"),
            "standard",
            was.as_ref().map(|w| w.standard.clone()),
            text,
            &mut r,
        );
        let shelf_life_days = optional(
            c("shelf_life_days"),
            "shelf_life_days",
            was.as_ref().map(|w| w.shelf_life_days),
            whole,
            &mut r,
        );
        let volume_cm3 = optional(
            c("volume_cm3"),
            "volume_cm3",
            was.as_ref().map(|w| w.volume_cm3),
            number,
            &mut r,
        );
        let weight_g = optional(
            c("weight_g"),
            "weight_g",
            was.as_ref().map(|w| w.weight_g),
            number,
            &mut r,
        );
        if let (Some(w), Some(unit)) = (&was, base_unit)
            && w.base_unit != unit
        {
            r.add(
                "base_unit",
                format!(
                    "cannot change: the ledger counts `{}` in {}",
                    w.sku, w.base_unit
                ),
            );
        }
        let (
            Some(name),
            Some(category),
            Some(base_unit),
            Some(pack_size),
            Some(gtin),
            Some(standard),
            Some(shelf_life_days),
            Some(volume_cm3),
            Some(weight_g),
        ) = (
            name,
            category,
            base_unit,
            pack_size,
            gtin,
            standard,
            shelf_life_days,
            volume_cm3,
            weight_g,
        )
        else {
            v.extend_at(row.line, r);
            continue;
        };
        let item = NewItem {
            sku,
            name,
            category,
            base_unit,
            pack_size,
            gtin,
            standard,
            shelf_life_days,
            volume_cm3,
            weight_g,
        };
        match item.validate() {
            Ok(after) if r.is_empty() => {
                let outcome = match &was {
                    None => ImportOutcome::Created,
                    Some(w) if *w == after => ImportOutcome::Unchanged,
                    Some(_) => ImportOutcome::Updated,
                };
                changes.push(Change {
                    line: row.line,
                    after,
                    before: before.cloned(),
                    outcome,
                });
            }
            Ok(_) => v.extend_at(row.line, r),
            Err(e) => {
                r.0.extend(e.0);
                v.extend_at(row.line, r);
            }
        }
    }
    check_gtins(&changes, stored, &mut v);
    v.finish().map(|()| changes)
}

/// A GTIN names one item: after the import, no two items may share one.
fn check_gtins(changes: &[ItemChange], stored: &[Item], v: &mut Violations) {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let imported: HashSet<&str> = changes.iter().map(|c| c.after.sku.as_str()).collect();
    for i in stored.iter().filter(|i| !imported.contains(i.sku.as_str())) {
        if let Some(g) = &i.gtin {
            owner.insert(g, &i.sku);
        }
    }
    for c in changes {
        if let Some(g) = &c.after.gtin {
            match owner.get(g.as_str()) {
                Some(other) => v.add_at(
                    c.line,
                    "gtin",
                    format!("`{g}` is already the GTIN of `{other}`"),
                ),
                None => {
                    owner.insert(g, &c.after.sku);
                }
            }
        }
    }
}

/// The columns of a site sheet: the fields of `POST /api/v1/sites`.
pub const SITE_COLUMNS: &[&str] = &[
    "code",
    "name",
    "kind",
    "unit_type",
    "district",
    "latitude",
    "longitude",
    "address",
    "opening_hours",
    "priority_tier",
    "lead_time_days",
];

/// Checks a site sheet against the stored sites, as [`item_changes`] does items. A new
/// site without `priority_tier` or `lead_time_days` gets the defaults of the API (3 and
/// 2); an existing site's kind never changes. `opening_hours` is written as in a
/// spreadsheet: windows separated by `;`, each weekdays (1 = Monday … 7, lists and
/// ranges) and a time range, e.g. `1-5 08:00-15:30; 6 10:00-14:00`.
pub fn site_changes(table: &Table, stored: &[Site]) -> Result<Vec<SiteChange>, Violations> {
    let mut v = Violations::default();
    let cols = Columns::resolve(table, SITE_COLUMNS, &["code"], &mut v);
    check_size(table, &mut v);
    if !v.is_empty() {
        return Err(v);
    }
    let by_code: HashMap<&str, &Site> = stored.iter().map(|s| (s.code.as_str(), s)).collect();
    let mut changes = Vec::with_capacity(table.rows.len());
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        let mut r = Violations::default();
        cols.check_width(row, &mut v);
        let Some(mut code) = required(cols.cell(row, "code"), "code", None, text, &mut r) else {
            v.extend_at(row.line, r);
            continue;
        };
        r.code("code", &mut code, CODE_MAX);
        if !r.is_empty() {
            v.extend_at(row.line, r);
            continue;
        }
        if let Some(first) = repeated(&mut first_line, code.clone(), row.line) {
            r.add("code", format!("line {first} already has this code"));
        }
        let before = by_code.get(code.as_str()).copied();
        let was = before.map(|b| SitePatch::default().apply(b).0);
        let c = |name| cols.cell(row, name);
        let w = was.as_ref();
        let name = required(c("name"), "name", w.map(|w| w.name.clone()), text, &mut r);
        let kind = required(c("kind"), "kind", w.map(|w| w.kind), one_of, &mut r);
        let unit_type = optional(
            c("unit_type"),
            "unit_type",
            w.map(|w| w.unit_type),
            one_of,
            &mut r,
        );
        let district = optional(
            c("district"),
            "district",
            w.map(|w| w.district.clone()),
            text,
            &mut r,
        );
        let latitude = required(
            c("latitude"),
            "latitude",
            w.map(|w| w.latitude),
            number,
            &mut r,
        );
        let longitude = required(
            c("longitude"),
            "longitude",
            w.map(|w| w.longitude),
            number,
            &mut r,
        );
        let address = optional(
            c("address"),
            "address",
            w.map(|w| w.address.clone()),
            text,
            &mut r,
        );
        let opening_hours = optional(
            c("opening_hours"),
            "opening_hours",
            w.map(|w| Some(w.opening_hours.clone())),
            parse_opening_hours,
            &mut r,
        )
        .map(Option::unwrap_or_default);
        let priority_tier = optional(
            c("priority_tier"),
            "priority_tier",
            w.map(|w| Some(w.priority_tier)),
            whole,
            &mut r,
        )
        .map(|p| p.unwrap_or(DEFAULT_PRIORITY_TIER));
        let lead_time_days = optional(
            c("lead_time_days"),
            "lead_time_days",
            w.map(|w| Some(w.lead_time_days)),
            whole,
            &mut r,
        )
        .map(|d| d.unwrap_or(DEFAULT_LEAD_TIME_DAYS));
        if let (Some(w), Some(k)) = (w, kind)
            && w.kind != k
        {
            r.add(
                "kind",
                format!("cannot change: `{}` is a {}", w.code, w.kind),
            );
        }
        let (
            Some(name),
            Some(kind),
            Some(unit_type),
            Some(district),
            Some(latitude),
            Some(longitude),
            Some(address),
            Some(opening_hours),
            Some(priority_tier),
            Some(lead_time_days),
        ) = (
            name,
            kind,
            unit_type,
            district,
            latitude,
            longitude,
            address,
            opening_hours,
            priority_tier,
            lead_time_days,
        )
        else {
            v.extend_at(row.line, r);
            continue;
        };
        let site = NewSite {
            code,
            name,
            kind,
            unit_type,
            district,
            latitude,
            longitude,
            address,
            opening_hours,
            priority_tier,
            lead_time_days,
        };
        match site.validate() {
            Ok(after) if r.is_empty() => {
                let outcome = match &was {
                    None => ImportOutcome::Created,
                    Some(w) if *w == after => ImportOutcome::Unchanged,
                    Some(_) => ImportOutcome::Updated,
                };
                changes.push(Change {
                    line: row.line,
                    after,
                    before: before.cloned(),
                    outcome,
                });
            }
            Ok(_) => v.extend_at(row.line, r),
            Err(e) => {
                r.0.extend(e.0);
                v.extend_at(row.line, r);
            }
        }
    }
    v.finish().map(|()| changes)
}

/// The API's defaults for a new site (see `NewSite`).
const DEFAULT_PRIORITY_TIER: i32 = 3;
const DEFAULT_LEAD_TIME_DAYS: i32 = 2;

/// Opening hours as a spreadsheet cell: `1-5 08:00-15:30; 6,7 10:00-14:00`.
pub fn parse_opening_hours(s: &str) -> Result<Vec<OpeningWindow>, String> {
    let bad = |part: &str| {
        format!(
            "`{part}` is not a window: write weekdays (1 = Monday … 7) and a time range, \
             e.g. `1-5 08:00-15:30; 6 10:00-14:00`"
        )
    };
    let mut windows = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (days, times) = part
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(part))?;
        let (opens, closes) = times.trim().split_once('-').ok_or_else(|| bad(part))?;
        let mut weekdays = Vec::new();
        for d in days.split(',') {
            let day = |x: &str| x.trim().parse::<u8>().map_err(|_| bad(part));
            match d.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    if a > b {
                        return Err(bad(part));
                    }
                    weekdays.extend(a..=b);
                }
                None => weekdays.push(day(d)?),
            }
        }
        windows.push(OpeningWindow {
            weekdays,
            opens: opens.trim().to_owned(),
            closes: closes.trim().to_owned(),
        });
    }
    Ok(windows)
}

#[cfg(test)]
mod tests;
