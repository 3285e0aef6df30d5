//! Stored forecasts and supply assessments: what the background refresh reads from the ledger,
//! what it writes, and what the API reads back. The computation itself lives in the service;
//! this module only moves rows.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{balances, forecasts, items, movements, sites, transfer_lines, transfers};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use ppe_domain::ledger::TransferStatus;
use ppe_domain::site::SiteKind;
use ppe_domain::stock::MovementKind;
use ppe_domain::supply::Band;
use std::collections::{BTreeMap, BTreeSet};

/// One site × item.
pub type Pair = (i64, i64);

/// One stored row, as computed. `status` and `detail` are JSON documents of the service.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = forecasts)]
pub struct ForecastRow {
    pub site_id: i64,
    pub item_id: i64,
    pub computed_at: NaiveDateTime,
    pub data_through_id: i64,
    /// First forecast day (local).
    pub first_day: NaiveDate,
    pub band: String,
    pub stockout_probability: f64,
    pub dos_q50: f64,
    pub status: String,
    pub detail: String,
}

/// The small part of a stored row: all but `detail`.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StatusRow {
    pub site_id: i64,
    pub item_id: i64,
    pub computed_at: NaiveDateTime,
    pub data_through_id: i64,
    pub first_day: NaiveDate,
    pub band: String,
    pub stockout_probability: f64,
    pub dos_q50: f64,
    pub status: String,
}

/// A stored row with the names of its site and item.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<R> {
    pub site: String,
    pub site_name: String,
    pub district: Option<String>,
    pub item: String,
    pub category: String,
    pub row: R,
}

/// One ledger movement of a pair, as the consumption rebuild needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PairEvent {
    pub id: i64,
    pub kind: MovementKind,
    pub delta: i64,
    pub occurred_at: NaiveDateTime,
}

/// Everything the computation of one unit × item needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PairInput {
    pub site_id: i64,
    pub item_id: i64,
    pub lead_time_days: i32,
    pub pack_size: i64,
    /// In ledger order.
    pub events: Vec<PairEvent>,
    pub on_hand: i64,
    pub in_transit: i64,
}

/// The newest movement id (0 for an empty ledger).
pub fn newest_movement(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(movements::table
        .select(diesel::dsl::max(movements::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// What changed for one pair since a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Touch {
    /// The newest of its own new movements (0 when only stock in transit to it changed).
    pub newest_id: i64,
    /// When the earliest of its own new movements happened.
    pub earliest: Option<NaiveDateTime>,
}

/// The pairs whose forecast a movement after `after_id` changes: its own site × item, and for a
/// dispatch the receiving site × item (whose stock in transit changed). Also the newest id seen.
pub fn touched_since(
    conn: &mut DbConnection,
    after_id: i64,
) -> Result<(BTreeMap<Pair, Touch>, i64), StoreError> {
    // Aggregated by the database: under a flood of writes a poll covers tens of
    // thousands of movements but a few hundred pairs, and building a row costs more
    // than adding one.
    let (rows, dispatched) = match conn {
        DbConnection::Sqlite(lite) => touched_since_sqlite(lite, after_id)?,
        DbConnection::Postgresql(_) => {
            use diesel::dsl::{max, min};
            let rows = movements::table
                .filter(movements::id.gt(after_id))
                .group_by((movements::site_id, movements::item_id))
                .select((
                    movements::site_id,
                    movements::item_id,
                    max(movements::id),
                    min(movements::occurred_at),
                ))
                .load(conn)?;
            let dispatched = movements::table
                .inner_join(
                    transfers::table.on(movements::transfer_id.eq(transfers::id.nullable())),
                )
                .filter(movements::id.gt(after_id))
                .select((
                    movements::site_id,
                    transfers::to_site_id,
                    movements::item_id,
                ))
                .distinct()
                .load(conn)?;
            (rows, dispatched)
        }
    };
    let mut pairs: BTreeMap<Pair, Touch> = BTreeMap::new();
    let mut newest = after_id;
    for (site, item, id, occurred_at) in rows {
        let id = id.unwrap_or(after_id);
        newest = newest.max(id);
        pairs.insert(
            (site, item),
            Touch {
                newest_id: id,
                earliest: occurred_at,
            },
        );
    }
    for (from, to, item) in dispatched {
        if to != from {
            pairs.entry((to, item)).or_default();
        }
    }
    Ok((pairs, newest))
}

const SQLITE_TOUCHED: &str = "SELECT site_id, item_id, max(id) AS newest, \
     min(occurred_at) AS earliest FROM movements NOT INDEXED WHERE id > ? \
     GROUP BY site_id, item_id";
const SQLITE_DISPATCHED: &str = "SELECT DISTINCT m.site_id, t.to_site_id, m.item_id \
     FROM movements AS m NOT INDEXED JOIN transfers AS t ON m.transfer_id = t.id \
     WHERE m.id > ?";

type TouchedRows = (
    Vec<(i64, i64, Option<i64>, Option<NaiveDateTime>)>,
    Vec<(i64, i64, i64)>,
);

/// [`touched_since`]'s two queries on SQLite, written out to read only the new
/// movements. Left to itself, SQLite's planner answers a `GROUP BY site_id, item_id`
/// (or a `DISTINCT` over them) by walking the whole `movements_site_item` index, whose
/// order saves it a sort: every poll would read the entire ledger. `NOT INDEXED` keeps
/// it on the rowid range `id > ?`.
fn touched_since_sqlite(
    conn: &mut SqliteConnection,
    after_id: i64,
) -> Result<TouchedRows, StoreError> {
    use diesel::sql_types::{BigInt, Nullable, Timestamp};
    #[derive(QueryableByName)]
    struct Touched {
        #[diesel(sql_type = BigInt)]
        site_id: i64,
        #[diesel(sql_type = BigInt)]
        item_id: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        newest: Option<i64>,
        #[diesel(sql_type = Nullable<Timestamp>)]
        earliest: Option<NaiveDateTime>,
    }
    #[derive(QueryableByName)]
    struct Dispatched {
        #[diesel(sql_type = BigInt)]
        site_id: i64,
        #[diesel(sql_type = BigInt)]
        to_site_id: i64,
        #[diesel(sql_type = BigInt)]
        item_id: i64,
    }
    let rows = diesel::sql_query(SQLITE_TOUCHED)
        .bind::<BigInt, _>(after_id)
        .load::<Touched>(conn)?
        .into_iter()
        .map(|t| (t.site_id, t.item_id, t.newest, t.earliest))
        .collect();
    let dispatched = diesel::sql_query(SQLITE_DISPATCHED)
        .bind::<BigInt, _>(after_id)
        .load::<Dispatched>(conn)?
        .into_iter()
        .map(|d| (d.site_id, d.to_site_id, d.item_id))
        .collect();
    Ok((rows, dispatched))
}

/// On hand and in transit of the given pairs (zero when none).
pub fn positions(
    conn: &mut DbConnection,
    pairs: &BTreeSet<Pair>,
) -> Result<BTreeMap<Pair, (i64, i64)>, StoreError> {
    let mut out: BTreeMap<Pair, (i64, i64)> = pairs.iter().map(|p| (*p, (0, 0))).collect();
    let sites: BTreeSet<i64> = pairs.iter().map(|p| p.0).collect();
    for (site, item, q) in balances::table
        .filter(balances::site_id.eq_any(sites.iter().copied().collect::<Vec<_>>()))
        .select((balances::site_id, balances::item_id, balances::quantity))
        .load::<(i64, i64, i64)>(conn)?
    {
        if let Some(p) = out.get_mut(&(site, item)) {
            p.0 += q;
        }
    }
    for (site, item, q) in in_transit_lines(conn)? {
        if let Some(p) = out.get_mut(&(site, item)) {
            p.1 += q;
        }
    }
    Ok(out)
}

fn in_transit_lines(conn: &mut DbConnection) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    Ok(transfer_lines::table
        .inner_join(transfers::table)
        .filter(transfers::status.eq(TransferStatus::Dispatched.as_str()))
        .select((
            transfers::to_site_id,
            transfer_lines::item_id,
            transfer_lines::quantity,
        ))
        .load::<(i64, i64, i64)>(conn)?)
}

/// The stored rows of the given pairs.
pub fn stored_rows(
    conn: &mut DbConnection,
    pairs: &BTreeSet<Pair>,
) -> Result<Vec<ForecastRow>, StoreError> {
    let sites: Vec<i64> = pairs
        .iter()
        .map(|p| p.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(forecasts::table
        .filter(forecasts::site_id.eq_any(sites))
        .select(ForecastRow::as_select())
        .load::<ForecastRow>(conn)?
        .into_iter()
        .filter(|r| pairs.contains(&(r.site_id, r.item_id)))
        .collect())
}

/// Inputs of the given unit pairs, or of every unit × item with any movement or stock in
/// transit when `only` is `None`. Warehouse pairs are left out: a warehouse's outflow is the
/// units' supply, not consumption.
pub fn load_inputs(
    conn: &mut DbConnection,
    only: Option<&BTreeSet<Pair>>,
) -> Result<Vec<PairInput>, StoreError> {
    let units: BTreeMap<i64, i32> = sites::table
        .filter(sites::kind.eq(SiteKind::Unit.as_str()))
        .select((sites::id, sites::lead_time_days))
        .load::<(i64, i32)>(conn)?
        .into_iter()
        .collect();
    let packs: BTreeMap<i64, i64> = items::table
        .select((items::id, items::pack_size))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let wanted = |p: &Pair| units.contains_key(&p.0) && only.is_none_or(|o| o.contains(p));

    let mut inputs: BTreeMap<Pair, PairInput> = BTreeMap::new();
    let slot = |inputs: &mut BTreeMap<Pair, PairInput>, p: Pair| {
        inputs.entry(p).or_insert_with(|| PairInput {
            site_id: p.0,
            item_id: p.1,
            lead_time_days: units.get(&p.0).copied().unwrap_or(1),
            pack_size: packs.get(&p.1).copied().unwrap_or(1),
            events: Vec::new(),
            on_hand: 0,
            in_transit: 0,
        });
    };
    // Movements: per pair (indexed) when some are asked for, in one scan for all.
    let rows: Vec<EventTuple> = match only {
        Some(o) => {
            let mut all = Vec::new();
            for &p in o.iter().filter(|p| units.contains_key(&p.0)) {
                all.extend(event_query(conn, Some(p))?);
            }
            all
        }
        None => event_query(conn, None)?,
    };
    for (id, site, item, kind, delta, occurred_at) in rows {
        let p = (site, item);
        if !wanted(&p) {
            continue;
        }
        slot(&mut inputs, p);
        if let Some(input) = inputs.get_mut(&p) {
            input.events.push(PairEvent {
                id,
                kind: crate::catalogue::parse_text(&kind)?,
                delta,
                occurred_at,
            });
        }
    }
    for (site, item, q) in balances::table
        .select((balances::site_id, balances::item_id, balances::quantity))
        .load::<(i64, i64, i64)>(conn)?
    {
        if let Some(p) = inputs.get_mut(&(site, item)) {
            p.on_hand += q;
        }
    }
    for (site, item, q) in in_transit_lines(conn)? {
        let p = (site, item);
        if wanted(&p) {
            slot(&mut inputs, p);
            if let Some(input) = inputs.get_mut(&p) {
                input.in_transit += q;
            }
        }
    }
    Ok(inputs.into_values().collect())
}

type EventTuple = (i64, i64, i64, String, i64, NaiveDateTime);

fn event_query(conn: &mut DbConnection, pair: Option<Pair>) -> Result<Vec<EventTuple>, StoreError> {
    let q = movements::table
        .select((
            movements::id,
            movements::site_id,
            movements::item_id,
            movements::kind,
            movements::quantity,
            movements::occurred_at,
        ))
        .into_boxed();
    let q = match pair {
        Some((s, i)) => q
            .filter(movements::site_id.eq(s))
            .filter(movements::item_id.eq(i))
            .order(movements::id),
        None => q.order((movements::site_id, movements::item_id, movements::id)),
    };
    Ok(q.load(conn)?)
}

/// Replaces the stored rows of these pairs.
pub fn store(conn: &mut DbConnection, rows: &[ForecastRow]) -> Result<(), StoreError> {
    for r in rows {
        diesel::delete(
            forecasts::table
                .filter(forecasts::site_id.eq(r.site_id))
                .filter(forecasts::item_id.eq(r.item_id)),
        )
        .execute(conn)?;
        diesel::insert_into(forecasts::table)
            .values(r)
            .execute(conn)?;
    }
    Ok(())
}

/// Updates the status of stored rows, leaving their detail (the daily forecast) as it is.
pub fn update_status(conn: &mut DbConnection, rows: &[ForecastRow]) -> Result<(), StoreError> {
    for r in rows {
        diesel::update(
            forecasts::table
                .filter(forecasts::site_id.eq(r.site_id))
                .filter(forecasts::item_id.eq(r.item_id)),
        )
        .set((
            forecasts::computed_at.eq(r.computed_at),
            forecasts::data_through_id.eq(r.data_through_id),
            forecasts::band.eq(&r.band),
            forecasts::stockout_probability.eq(r.stockout_probability),
            forecasts::dos_q50.eq(r.dos_q50),
            forecasts::status.eq(&r.status),
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Which stored rows to read: each list keeps rows matching any of its values (empty: no
/// filter on it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ForecastFilter {
    pub site: Option<String>,
    pub items: Vec<String>,
    pub districts: Vec<String>,
    pub bands: Vec<String>,
    pub categories: Vec<String>,
    /// At most this many rows after skipping `offset` (the order is total, so pages are
    /// stable while the rows do not change).
    pub limit: Option<i64>,
    pub offset: i64,
}

/// Stored status rows, riskiest first: by stockout probability, then fewest median days of
/// supply; pairs without demand (no use, nothing held) after every real risk.
pub fn read_status(
    conn: &mut DbConnection,
    filter: &ForecastFilter,
) -> Result<Vec<Named<StatusRow>>, StoreError> {
    let q = filtered(filter).select((
        sites::code,
        sites::name,
        sites::district,
        items::sku,
        items::category,
        (
            forecasts::site_id,
            forecasts::item_id,
            forecasts::computed_at,
            forecasts::data_through_id,
            forecasts::first_day,
            forecasts::band,
            forecasts::stockout_probability,
            forecasts::dos_q50,
            forecasts::status,
        ),
    ));
    Ok(
        q.load::<(String, String, Option<String>, String, String, StatusRow)>(conn)?
            .into_iter()
            .map(named)
            .collect(),
    )
}

/// Whole stored rows (with the daily detail), in the same order.
pub fn read_full(
    conn: &mut DbConnection,
    filter: &ForecastFilter,
) -> Result<Vec<Named<ForecastRow>>, StoreError> {
    let q = filtered(filter).select((
        sites::code,
        sites::name,
        sites::district,
        items::sku,
        items::category,
        ForecastRow::as_select(),
    ));
    Ok(
        q.load::<(String, String, Option<String>, String, String, ForecastRow)>(conn)?
            .into_iter()
            .map(named)
            .collect(),
    )
}

fn named<R>(
    (site, site_name, district, item, category, row): (
        String,
        String,
        Option<String>,
        String,
        String,
        R,
    ),
) -> Named<R> {
    Named {
        site,
        site_name,
        district,
        item,
        category,
        row,
    }
}

type Joined =
    diesel::dsl::InnerJoin<diesel::dsl::InnerJoin<forecasts::table, sites::table>, items::table>;

fn filtered<'a>(
    filter: &ForecastFilter,
) -> diesel::dsl::IntoBoxed<'a, Joined, crate::connection::MultiBackend> {
    // A deactivated site or item keeps its history but drops out of supply status.
    let mut q = forecasts::table
        .inner_join(sites::table)
        .inner_join(items::table)
        .filter(sites::active.eq(true))
        .filter(items::active.eq(true))
        .into_boxed();
    if let Some(s) = &filter.site {
        q = q.filter(sites::code.eq(s.trim().to_owned()));
    }
    if !filter.items.is_empty() {
        q = q.filter(items::sku.eq_any(filter.items.clone()));
    }
    if !filter.districts.is_empty() {
        q = q.filter(sites::district.eq_any(filter.districts.clone()));
    }
    if !filter.bands.is_empty() {
        q = q.filter(forecasts::band.eq_any(filter.bands.clone()));
    }
    if !filter.categories.is_empty() {
        q = q.filter(items::category.eq_any(filter.categories.clone()));
    }
    if let Some(limit) = filter.limit {
        q = q.limit(limit).offset(filter.offset.max(0));
    }
    q.order((
        forecasts::band.eq(Band::NoDemand.as_str()).asc(),
        forecasts::stockout_probability.desc(),
        forecasts::dos_q50.asc(),
        sites::code.asc(),
        items::sku.asc(),
    ))
}

/// The ledger of one site × item, for reading its consumption.
pub fn pair_events(conn: &mut DbConnection, pair: Pair) -> Result<Vec<PairEvent>, StoreError> {
    event_query(conn, Some(pair))?
        .into_iter()
        .map(|(id, _, _, kind, delta, occurred_at)| {
            Ok(PairEvent {
                id,
                kind: crate::catalogue::parse_text(&kind)?,
                delta,
                occurred_at,
            })
        })
        .collect()
}

/// What a kept answer of the stored rows depends on: the newest computation time and the
/// row count of the forecasts (rows are only ever replaced with a new `computed_at`, or
/// added), and the newest audit entry (an item or site created, renamed, moved to another
/// district or deactivated changes which rows a read returns and how they are named).
pub type Version = (Option<NaiveDateTime>, i64, Option<i64>);

pub fn version(conn: &mut DbConnection) -> Result<Version, StoreError> {
    let (computed, rows): (Option<NaiveDateTime>, i64) = forecasts::table
        .select((
            diesel::dsl::max(forecasts::computed_at),
            diesel::dsl::count_star(),
        ))
        .first(conn)?;
    let audit: Option<i64> = crate::schema::audit_events::table
        .select(diesel::dsl::max(crate::schema::audit_events::id))
        .first(conn)?;
    Ok((computed, rows, audit))
}

#[cfg(test)]
mod tests {
    use super::{SQLITE_DISPATCHED, SQLITE_TOUCHED};
    use crate::connection::{DbConnection, Target};
    use crate::testing::TestDatabase;
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;

    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// A poll reads the movements after the last one it saw, never the whole ledger.
    #[test]
    fn sqlite_polls_read_only_the_new_movements() {
        let db = TestDatabase::sqlite();
        let mut conn = Target::parse(&db.url).and_then(|t| t.connect()).unwrap();
        crate::migrations::run_pending(&mut conn).unwrap();
        let DbConnection::Sqlite(lite) = &mut conn else {
            unreachable!("a SQLite test database")
        };
        for sql in [SQLITE_TOUCHED, SQLITE_DISPATCHED] {
            let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load::<Step>(lite)
                .unwrap()
                .into_iter()
                .map(|s| s.detail)
                .collect();
            assert!(
                plan[0].starts_with("SEARCH") && plan[0].contains("PRIMARY KEY (rowid>?)"),
                "{sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|s| s.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }
}
