//! Loads what the ledger's invariants are checked on (`ppe_domain::integrity`): the
//! balances that differ from their movements' sum, negative balances, and each
//! transfer's totals. Plain SQL that SQLite and PostgreSQL both run, read in one
//! transaction so that the totals belong to one state of the database.

use crate::connection::DbConnection;
use crate::error::StoreError;
use diesel::Connection;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use ppe_domain::integrity::{TransferTotals, Violation, transfer_halves};
use ppe_domain::ledger::TransferStatus;

#[derive(QueryableByName)]
struct BalanceRow {
    #[diesel(sql_type = Text)]
    site: String,
    #[diesel(sql_type = Text)]
    item: String,
    #[diesel(sql_type = Text)]
    lot: String,
    #[diesel(sql_type = BigInt)]
    balance: i64,
    #[diesel(sql_type = BigInt)]
    ledger: i64,
}

#[derive(QueryableByName)]
struct TransferRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    shipped: i64,
    #[diesel(sql_type = BigInt)]
    taken_out: i64,
    #[diesel(sql_type = BigInt)]
    taken_in: i64,
    #[diesel(sql_type = BigInt)]
    returned: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    sent_back: i64,
}

/// Every (site, item, lot) whose balance row and movements disagree, or whose balance
/// is negative; a lot with movements and no balance row counts as balance 0.
const BALANCES: &str = "
SELECT s.code AS site, i.sku AS item, x.lot AS lot,
       CAST(x.balance AS BIGINT) AS balance, CAST(x.ledger AS BIGINT) AS ledger
FROM (
  SELECT COALESCE(b.site_id, m.site_id) AS site_id, COALESCE(b.item_id, m.item_id) AS item_id,
         COALESCE(b.lot, m.lot) AS lot,
         COALESCE(b.quantity, 0) AS balance, COALESCE(m.total, 0) AS ledger
  FROM balances b
  FULL OUTER JOIN (SELECT site_id, item_id, lot, SUM(quantity) AS total
                   FROM movements GROUP BY site_id, item_id, lot) m
    ON b.site_id = m.site_id AND b.item_id = m.item_id AND b.lot = m.lot
) x
JOIN sites s ON s.id = x.site_id
JOIN items i ON i.id = x.item_id
WHERE x.balance <> x.ledger OR x.balance < 0
ORDER BY s.code, i.sku, x.lot";

/// Each transfer's totals. A line received before receipts recorded per-line
/// quantities (`received` NULL on a received transfer) was accepted whole.
const TRANSFERS: &str = "
SELECT t.id AS id, t.status AS status,
  CAST(COALESCE((SELECT SUM(l.quantity) FROM transfer_lines l
                 WHERE l.transfer_id = t.id), 0) AS BIGINT) AS shipped,
  CAST(COALESCE((SELECT -SUM(m.quantity) FROM movements m WHERE m.transfer_id = t.id
                 AND m.kind = 'transfer_out' AND m.site_id = t.from_site_id), 0) AS BIGINT) AS taken_out,
  CAST(COALESCE((SELECT SUM(m.quantity) FROM movements m WHERE m.transfer_id = t.id
                 AND m.kind = 'transfer_in' AND m.site_id = t.to_site_id), 0) AS BIGINT) AS taken_in,
  CAST(COALESCE((SELECT SUM(m.quantity) FROM movements m WHERE m.transfer_id = t.id
                 AND m.kind = 'transfer_return' AND m.site_id = t.from_site_id), 0) AS BIGINT) AS returned,
  CAST(COALESCE((SELECT SUM(COALESCE(l.received, l.quantity)) FROM transfer_lines l
                 WHERE l.transfer_id = t.id), 0) AS BIGINT) AS accepted,
  CAST(COALESCE((SELECT SUM(l.quantity - l.received) FROM transfer_lines l
                 WHERE l.transfer_id = t.id AND l.disposition = 'returned'), 0) AS BIGINT) AS sent_back
FROM transfers t
ORDER BY t.id";

/// Every broken invariant, in a stable order; empty when the database is sound.
pub fn check(conn: &mut DbConnection) -> Result<Vec<Violation>, StoreError> {
    conn.transaction(|c| {
        let mut found = Vec::new();
        for b in diesel::sql_query(BALANCES).load::<BalanceRow>(c)? {
            if b.balance < 0 {
                found.push(Violation::NegativeBalance {
                    site: b.site.clone(),
                    item: b.item.clone(),
                    lot: b.lot.clone(),
                    balance: b.balance,
                });
            }
            if b.balance != b.ledger {
                found.push(Violation::BalanceDiffers {
                    site: b.site,
                    item: b.item,
                    lot: b.lot,
                    balance: b.balance,
                    ledger: b.ledger,
                });
            }
        }
        for t in diesel::sql_query(TRANSFERS).load::<TransferRow>(c)? {
            let status: TransferStatus = t
                .status
                .parse()
                .map_err(|e: String| StoreError::Encode(format!("transfer {}: {e}", t.id)))?;
            let totals = TransferTotals {
                shipped: t.shipped,
                taken_out: t.taken_out,
                taken_in: t.taken_in,
                returned: t.returned,
                accepted: t.accepted,
                sent_back: t.sent_back,
            };
            if let Err(why) = transfer_halves(status, &totals) {
                found.push(Violation::TransferHalves {
                    transfer: t.id,
                    status,
                    why,
                    totals,
                });
            }
        }
        Ok(found)
    })
}
