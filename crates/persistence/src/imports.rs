//! Spreadsheet imports: a count sheet becomes one stock report per site, the catalogue
//! and sites are created or updated row by row; each import in one transaction, so a
//! sheet is written whole or not at all.

use crate::catalogue::{self, IdCache};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::{self, Stamp};
use crate::schema::{items, sites};
use diesel::prelude::*;
use ppe_domain::commands::StockReport;
use ppe_domain::import::{self, CatalogueImportSummary, CountImportSummary, ImportOutcome, Table};
use std::collections::HashSet;

/// The codes of every site and the SKUs of every item: what a count sheet may name.
pub fn known_codes(
    conn: &mut DbConnection,
) -> Result<(HashSet<String>, HashSet<String>), StoreError> {
    let sites = sites::table.select(sites::code).load::<String>(conn)?;
    let items = items::table.select(items::sku).load::<String>(conn)?;
    Ok((sites.into_iter().collect(), items.into_iter().collect()))
}

/// Records the reports of a checked count sheet (see `import::count_reports`), each as
/// `POST /api/v1/stock-reports` would, and answers per sheet line.
pub fn record_counts(
    conn: &mut DbConnection,
    ids: &IdCache,
    reports: &[(StockReport, Vec<u64>)],
    now: impl Into<Stamp>,
) -> Result<CountImportSummary, StoreError> {
    let now = now.into();
    let mut lines = Vec::new();
    for (report, numbers) in reports {
        lines.extend(ledger::record_report_by_line(
            conn,
            ids,
            report,
            numbers,
            now.clone(),
        )?);
    }
    lines.sort_by_key(|l| l.line);
    Ok(CountImportSummary {
        rows: lines.len(),
        sites: reports.len(),
        movements: lines.iter().map(|l| l.movement_ids.len()).sum(),
        changed: lines.iter().filter(|l| l.adjustment != 0).count(),
        lines,
    })
}

/// Checks an item sheet against the catalogue as it is in this transaction, then
/// creates and updates (audited, like `POST` and `PATCH`); unchanged rows write nothing.
pub fn import_items(
    conn: &mut DbConnection,
    table: &Table,
    now: impl Into<Stamp>,
) -> Result<CatalogueImportSummary, StoreError> {
    let now = now.into();
    let stored = catalogue::list_items(conn)?;
    let changes = import::item_changes(table, &stored).map_err(StoreError::Invalid)?;
    for c in &changes {
        match (&c.before, c.outcome) {
            (_, ImportOutcome::Unchanged) => {}
            (Some(before), _) => {
                catalogue::update_item(conn, before, &c.after, before.active, now.clone())?;
            }
            (None, _) => {
                catalogue::create_item(conn, &c.after, now.clone())?;
            }
        }
    }
    Ok(CatalogueImportSummary::of(&changes, |i| &i.sku))
}

/// As [`import_items`], for sites.
pub fn import_sites(
    conn: &mut DbConnection,
    table: &Table,
    now: impl Into<Stamp>,
) -> Result<CatalogueImportSummary, StoreError> {
    let now = now.into();
    let stored = catalogue::list_sites(conn)?;
    let changes = import::site_changes(table, &stored).map_err(StoreError::Invalid)?;
    for c in &changes {
        match (&c.before, c.outcome) {
            (_, ImportOutcome::Unchanged) => {}
            (Some(before), _) => {
                catalogue::update_site(conn, before, &c.after, before.active, now.clone())?;
            }
            (None, _) => {
                catalogue::create_site(conn, &c.after, now.clone())?;
            }
        }
    }
    Ok(CatalogueImportSummary::of(&changes, |s| &s.code))
}
