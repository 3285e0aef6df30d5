//! The storage conformance suite: the same stories on SQLite and, with
//! `PPE_TEST_BACKEND=postgres`, on PostgreSQL.

use chrono::{DateTime, Utc};
use ppe_domain::commands::{
    CountLine, Dispatch, IssueReport, QuantityLine, Receipt, ReceiptLine, ReceiveTransfer,
    StockReport,
};
use ppe_domain::ledger::Recorded;
use ppe_domain::site::SiteKind;
use ppe_domain::stock::MovementKind;
use ppe_persistence::idempotency::{self, IdempotencyKey};
use ppe_persistence::reads::{self, MovementFilter};
use ppe_persistence::testing::{TestDatabase, item, site};
use ppe_persistence::{Db, DbOptions, StoreError, catalogue, ledger, migrations};
use std::collections::BTreeSet;

fn now() -> DateTime<Utc> {
    "2026-03-12T18:00:00Z".parse().unwrap()
}

/// A database with one warehouse WH holding 100 FFP2 (lot A, early) + 50 (lot B) and one unit NH.
fn stocked() -> (TestDatabase, Db) {
    let t = TestDatabase::new();
    let db = Db::open(&t.url, &DbOptions::default()).unwrap();
    db.write(move |c| {
        catalogue::create_item(c, &item("FFP2"), now())?;
        catalogue::create_site(c, &site("WH", SiteKind::Warehouse), now())?;
        catalogue::create_site(c, &site("NH", SiteKind::Unit), now())?;
        ledger::record_receipt(
            c,
            &ppe_persistence::catalogue::IdCache::default(),
            &ffp2_receipt_at_wh(vec![
                ffp2_line("B", "2028-01-01", 50),
                ffp2_line("A", "2027-01-01", 100),
            ]),
            now(),
        )
    })
    .unwrap();
    (t, db)
}

/// A receipt at WH of the given FFP2 lines.
fn ffp2_receipt_at_wh(lines: Vec<ReceiptLine>) -> Receipt {
    Receipt {
        site: "WH".into(),
        occurred_at: None,
        reported_by: "test".into(),
        reference: None,
        lines,
    }
}

/// `quantity` FFP2 of `lot`, expiring on `expires_on`.
fn ffp2_line(lot: &str, expires_on: &str, quantity: i64) -> ReceiptLine {
    ReceiptLine {
        item: "FFP2".into(),
        quantity,
        lot: Some(lot.into()),
        expires_on: Some(expires_on.parse().unwrap()),
    }
}

fn on_hand(db: &Db, site: &str) -> i64 {
    db.read(|c| reads::balances_of_site(c, site))
        .unwrap()
        .iter()
        .map(|b| b.quantity)
        .sum()
}

fn ledger_sum(db: &Db, site: &str) -> i64 {
    movements_at(db, site).iter().map(|m| m.quantity).sum()
}

/// Every movement at `site`, oldest first.
/// Dispatches `quantity` FFP2 from WH to NH, lots chosen by the ledger.
fn dispatch_ffp2(db: &Db, quantity: i64) -> Recorded {
    db.write(move |c| {
        ledger::dispatch_transfer(
            c,
            &ppe_persistence::catalogue::IdCache::default(),
            &Dispatch {
                from_site: "WH".into(),
                to_site: "NH".into(),
                occurred_at: None,
                reported_by: "t".into(),
                lines: vec![QuantityLine {
                    item: "FFP2".into(),
                    quantity,
                    lot: None,
                }],
            },
            now(),
        )
    })
    .unwrap()
}

fn movements_at(db: &Db, site: &str) -> Vec<ppe_domain::ledger::Movement> {
    let f = MovementFilter {
        site: Some(site.into()),
        limit: 1000,
        ..Default::default()
    };
    db.read(|c| reads::movements_page(c, &f)).unwrap().0
}

#[test]
fn migration_folders_hold_the_same_versions() {
    let versions = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!(
            "{}/../../migrations/{dir}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
    };
    let (s, p) = (versions("sqlite"), versions("postgres"));
    assert!(!s.is_empty());
    assert_eq!(s, p);
}

#[test]
fn migrations_run_up_down_and_up_again() {
    let t = TestDatabase::new();
    let target = ppe_persistence::connection::Target::parse(&t.url).unwrap();
    let mut c = target.connect().unwrap();
    let up = migrations::run_pending(&mut c).unwrap();
    assert!(!up.is_empty());
    let down = migrations::revert_all(&mut c).unwrap();
    assert_eq!(up.len(), down.len());
    let again = migrations::run_pending(&mut c).unwrap();
    assert_eq!(up, again);
    // And the schema works after the round trip.
    drop(c);
    let db = Db::open(&t.url, &DbOptions::default()).unwrap();
    db.write(move |c| catalogue::create_item(c, &item("X"), now()))
        .unwrap();
}

#[test]
fn unreachable_database_names_the_cause() {
    let err = Db::open("postgres://nobody@127.0.0.1:1/none", &DbOptions::default())
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(msg.contains("cannot connect to PostgreSQL"), "{msg}");
    assert!(
        msg.to_lowercase().contains("refused") || msg.contains("connect"),
        "{msg}"
    );
    let err = Db::open("mysql://x", &DbOptions::default()).err().unwrap();
    assert!(err.to_string().contains("sqlite:// or postgres://"));
}

#[test]
fn duplicate_sku_is_refused_by_name() {
    let (_t, db) = stocked();
    let err = db
        .write(|c| catalogue::create_item(c, &item("FFP2"), now()))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { ref field, .. } if field == "sku"),
        "{err:?}"
    );
}

#[test]
fn issue_above_balance_is_refused_and_writes_nothing() {
    let (_t, db) = stocked();
    let before = ledger_sum(&db, "WH");
    let err = db
        .write(|c| {
            ledger::record_issue(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &IssueReport {
                    site: "WH".into(),
                    occurred_at: None,
                    reported_by: "t".into(),
                    lines: vec![
                        QuantityLine {
                            item: "FFP2".into(),
                            quantity: 100,
                            lot: None,
                        },
                        QuantityLine {
                            item: "FFP2".into(),
                            quantity: 51,
                            lot: None,
                        },
                    ],
                },
                now(),
            )
        })
        .unwrap_err();
    match err {
        StoreError::InsufficientStock {
            site,
            item,
            balance,
            requested,
            ..
        } => {
            assert_eq!(
                (site.as_str(), item.as_str(), balance, requested),
                ("WH", "FFP2", 50, 51)
            );
        }
        other => panic!("{other:?}"),
    }
    // The first line was not written either: all or nothing.
    assert_eq!(ledger_sum(&db, "WH"), before);
    assert_eq!(on_hand(&db, "WH"), 150);
}

#[test]
fn transfer_moves_lots_first_expiry_first_and_balances_follow_the_ledger() {
    let (_t, db) = stocked();
    let rec = dispatch_ffp2(&db, 120);
    let t = rec.transfer.unwrap();
    let lots: Vec<(&str, i64)> = t
        .lines
        .iter()
        .map(|l| (l.lot.as_str(), l.quantity))
        .collect();
    assert_eq!(lots, [("A", 100), ("B", 20)]);
    assert_eq!(on_hand(&db, "NH"), 0, "in transit until received");
    db.write(move |c| {
        ledger::receive_transfer(
            c,
            &ppe_persistence::catalogue::IdCache::default(),
            t.id,
            &ReceiveTransfer {
                occurred_at: None,
                reported_by: "nh".into(),
                lines: vec![],
            },
            now(),
        )
    })
    .unwrap();
    assert_eq!(on_hand(&db, "NH"), 120);
    let again = db.write(move |c| {
        ledger::receive_transfer(
            c,
            &ppe_persistence::catalogue::IdCache::default(),
            t.id,
            &ReceiveTransfer {
                occurred_at: None,
                reported_by: "nh".into(),
                lines: vec![],
            },
            now(),
        )
    });
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    for s in ["WH", "NH"] {
        assert_eq!(on_hand(&db, s), ledger_sum(&db, s), "site {s}");
    }
}

#[test]
fn count_records_the_difference_as_an_adjustment() {
    let (_t, db) = stocked();
    let rec = db
        .write(|c| {
            ledger::record_report(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &StockReport {
                    site: "WH".into(),
                    occurred_at: None,
                    reported_by: "t".into(),
                    lines: vec![CountLine {
                        item: "FFP2".into(),
                        counted: 140,
                        lot: None,
                    }],
                },
                now(),
            )
        })
        .unwrap();
    assert_eq!(rec.movements.len(), 1);
    assert_eq!(rec.movements[0].kind, MovementKind::CountAdjustment);
    assert_eq!(
        (rec.movements[0].quantity, rec.movements[0].counted),
        (-10, Some(140))
    );
    assert_eq!(rec.movements[0].lot, "A");
    assert_eq!(on_hand(&db, "WH"), 140);
}

#[test]
fn unknown_references_name_their_field() {
    let (_t, db) = stocked();
    let err = db
        .write(|c| {
            ledger::record_issue(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &IssueReport {
                    site: "WH".into(),
                    occurred_at: None,
                    reported_by: "t".into(),
                    lines: vec![QuantityLine {
                        item: "NOPE".into(),
                        quantity: 1,
                        lot: None,
                    }],
                },
                now(),
            )
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { ref field, .. } if field == "lines[0].item"),
        "{err:?}"
    );
}

#[test]
fn idempotent_write_runs_once_and_refuses_a_different_body() {
    let (_t, db) = stocked();
    let write = || {
        let mut key = IdempotencyKey::new("k1", "h1");
        db.write(move |c| {
            idempotency::run_once(c, Some(&mut key), now(), |c| {
                ledger::record_issue(
                    c,
                    &ppe_persistence::catalogue::IdCache::default(),
                    &IssueReport {
                        site: "WH".into(),
                        occurred_at: None,
                        reported_by: "t".into(),
                        lines: vec![QuantityLine {
                            item: "FFP2".into(),
                            quantity: 5,
                            lot: None,
                        }],
                    },
                    now(),
                )
                .map(|r| (201, r))
            })
        })
    };
    let first = write().unwrap();
    let second = write().unwrap();
    assert!(!first.replayed && second.replayed);
    // The first answer is rendered from what the write returned, the replay from the
    // ledger's rows: the same bytes.
    assert!(matches!(first.body, idempotency::Body::Value(_)));
    assert_eq!(first.json().unwrap(), second.json().unwrap());
    assert_eq!(on_hand(&db, "WH"), 145);
    let mut other = IdempotencyKey::new("k1", "h2");
    let err = db
        .write(move |c| {
            idempotency::run_once(c, Some(&mut other), now(), |_| {
                Ok((
                    201,
                    Recorded {
                        movements: vec![],
                        transfer: None,
                    },
                ))
            })
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyMismatch));
}

/// An issue of `quantity` at WH under idempotency key `key` (fingerprint = the key).
fn keyed_issue(
    key: &str,
    quantity: i64,
) -> impl FnMut(&mut ppe_persistence::DbConnection) -> Result<idempotency::Answer<Recorded>, StoreError>
+ Send
+ use<> {
    let mut key = IdempotencyKey::new(key, key);
    move |c| {
        idempotency::run_once(c, Some(&mut key), now(), |c| {
            let r = ledger::record_issue(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &IssueReport {
                    site: "WH".into(),
                    occurred_at: None,
                    reported_by: "t".into(),
                    lines: vec![QuantityLine {
                        item: "FFP2".into(),
                        quantity,
                        lot: None,
                    }],
                },
                now(),
            )?;
            Ok((201, r))
        })
    }
}

/// The ids of the movements an answer names.
fn answered_ids(a: &idempotency::Answer<Recorded>) -> Vec<i64> {
    let json = a.clone().json().unwrap();
    let r: Recorded = serde_json::from_str(&json).unwrap();
    r.movements.iter().map(|m| m.id).collect()
}

/// The stock an issue of FFP2 at WH touches, declared so that a PostgreSQL group of
/// such writes shares its statements.
fn wh_ffp2() -> Option<Vec<(String, String)>> {
    Some(vec![("WH".into(), "FFP2".into())])
}

/// Holds the writer of WH's lane until the flag is set, so that writes queued meanwhile
/// are committed as one group.
fn hold_writer(
    db: &ppe_persistence::Db,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    futures_channel::oneshot::Receiver<Result<(), StoreError>>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let gate = Arc::new(AtomicBool::new(false));
    let open = Arc::clone(&gate);
    let hold = db.write_queued(&["WH"], None, move |_| {
        while !open.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(())
    });
    (gate, hold)
}

fn wait_for<T>(mut rx: futures_channel::oneshot::Receiver<T>) -> T {
    loop {
        if let Some(v) = rx.try_recv().expect("the writer answers") {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn one_group_commit_keeps_its_good_writes_when_others_fail() {
    let (_t, db) = stocked();
    let done = db.write(keyed_issue("done", 5)).unwrap();
    assert!(!done.replayed);
    // Hold the writer so the next writes queue up and are committed as one group.
    let (gate, hold) = hold_writer(&db);
    let fresh = db.write_queued(&["WH"], wh_ffp2(), keyed_issue("fresh", 10));
    let too_big = db.write_queued(&["WH"], wh_ffp2(), keyed_issue("too-big", 1000));
    let retry = db.write_queued(&["WH"], wh_ffp2(), keyed_issue("done", 5));
    let twice = db.write_queued(&["WH"], wh_ffp2(), keyed_issue("fresh", 10));
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for(hold).unwrap();
    let fresh = wait_for(fresh).unwrap();
    assert!(!fresh.replayed);
    assert!(matches!(
        wait_for(too_big),
        Err(StoreError::InsufficientStock { .. })
    ));
    assert!(wait_for(retry).unwrap().replayed);
    let twice = wait_for(twice).unwrap();
    assert!(twice.replayed);
    assert_eq!(twice.json().unwrap(), fresh.json().unwrap());
    // 150 received, 5 and 10 issued once each; the refused and replayed writes left no trace.
    assert_eq!(on_hand(&db, "WH"), 135);
    assert_eq!(ledger_sum(&db, "WH"), 135);
}

#[test]
fn a_group_of_ledger_writes_at_one_stock_leaves_balance_equal_to_ledger() {
    let (_t, db) = stocked();
    let (gate, hold) = hold_writer(&db);
    // 40 issues of 3 queue behind the held writer and commit together (PostgreSQL:
    // as one batch); each must see the balance the one before it left.
    let queued: Vec<_> = (0..40)
        .map(|i| db.write_queued(&["WH"], wh_ffp2(), keyed_issue(&format!("k{i}"), 3)))
        .collect();
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for(hold).unwrap();
    let answers: Vec<_> = queued.into_iter().map(|rx| wait_for(rx).unwrap()).collect();
    assert!(answers.iter().all(|a| a.status == 201 && !a.replayed));
    // 150 received, 40 x 3 issued: 30 left, and the ledger says the same.
    assert_eq!(on_hand(&db, "WH"), 30);
    assert_eq!(ledger_sum(&db, "WH"), 30);
    // The next one is refused for want of stock, and the key replays the first answer.
    let short = db.write_queued(&["WH"], wh_ffp2(), keyed_issue("short", 31));
    assert!(matches!(
        wait_for(short),
        Err(StoreError::InsufficientStock { .. })
    ));
    let again = wait_for(db.write_queued(&["WH"], wh_ffp2(), keyed_issue("k0", 3))).unwrap();
    assert!(again.replayed);
    assert_eq!(on_hand(&db, "WH"), 30);
}

/// A receipt of `quantity` FFP2 into WH's lot A, written as one plain (not batched) write.
fn receive_into_lot_a(db: &Db, quantity: i64) {
    db.write(move |c| {
        ledger::record_receipt(
            c,
            &ppe_persistence::catalogue::IdCache::default(),
            &ffp2_receipt_at_wh(vec![ffp2_line("A", "2027-01-01", quantity)]),
            now(),
        )
    })
    .unwrap();
}

#[test]
fn batched_writes_see_every_balance_written_by_other_means_or_other_processes() {
    // A SQLite lane remembers the balances its batched groups committed. Between the
    // batched issues below, lot A grows by writes outside those groups: one on the same
    // lane that was not batched, and one by another process (a second handle on the
    // database). A lane that used what it remembered would write lot A's old quantity
    // less the issue, and the balance would no longer equal the ledger.
    let (t, db) = stocked();
    let first = wait_for(db.write_queued(&["WH"], wh_ffp2(), keyed_issue("first", 10))).unwrap();
    assert!(!first.replayed);
    receive_into_lot_a(&db, 60);
    wait_for(db.write_queued(&["WH"], wh_ffp2(), keyed_issue("second", 20))).unwrap();
    // Lot A: 100 - 10 + 60 - 20; lot B: 50.
    assert_eq!(on_hand(&db, "WH"), 180);
    let other = Db::open(&t.url, &DbOptions::default()).unwrap();
    receive_into_lot_a(&other, 100);
    other.close(std::time::Duration::from_secs(5));
    wait_for(db.write_queued(&["WH"], wh_ffp2(), keyed_issue("third", 30))).unwrap();
    assert_eq!(on_hand(&db, "WH"), 250);
    assert_eq!(ledger_sum(&db, "WH"), 250);
}

#[test]
fn twin_keys_in_one_group_write_once_and_ids_follow_the_ledger() {
    let (_t, db) = stocked();
    let ids_before = movement_ids(&db);
    let (gate, hold) = hold_writer(&db);
    // Five issues and, among them, a twin of the second (same key, same body): the
    // group's keys collide when stored together, and the group runs again write by write.
    let keys = ["a", "b", "c", "b", "d", "e"];
    let queued: Vec<_> = keys
        .iter()
        .map(|k| db.write_queued(&["WH"], wh_ffp2(), keyed_issue(k, 2)))
        .collect();
    gate.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for(hold).unwrap();
    let answers: Vec<_> = queued.into_iter().map(|rx| wait_for(rx).unwrap()).collect();
    assert_eq!(
        answers[3].clone().json().unwrap(),
        answers[1].clone().json().unwrap()
    );
    assert!(answers[3].replayed && !answers[1].replayed);
    assert_eq!(answers.iter().filter(|a| a.replayed).count(), 1);
    assert_eq!(on_hand(&db, "WH"), 150 - 5 * 2);
    assert_eq!(ledger_sum(&db, "WH"), 150 - 5 * 2);
    // The ids the answers name are the ledger's new movements, after every older one.
    let new_ids: Vec<i64> = movement_ids(&db)
        .into_iter()
        .filter(|id| !ids_before.contains(id))
        .collect();
    let answered: Vec<Vec<i64>> = answers
        .iter()
        .filter(|a| !a.replayed)
        .map(answered_ids)
        .collect();
    let expected: Vec<Vec<i64>> = new_ids.iter().map(|id| vec![*id]).collect();
    assert_eq!(answered, expected);
    assert!(
        new_ids
            .iter()
            .all(|id| ids_before.iter().all(|old| id > old))
    );
}

/// Ids of every movement at WH, oldest first.
fn movement_ids(db: &Db) -> Vec<i64> {
    movements_at(db, "WH").iter().map(|m| m.id).collect()
}

#[test]
fn ledger_pages_by_cursor_and_filters_by_kind() {
    let (_t, db) = stocked();
    for _ in 0..5 {
        db.write(move |c| {
            ledger::record_issue(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &IssueReport {
                    site: "WH".into(),
                    occurred_at: None,
                    reported_by: "t".into(),
                    lines: vec![QuantityLine {
                        item: "FFP2".into(),
                        quantity: 1,
                        lot: None,
                    }],
                },
                now(),
            )
        })
        .unwrap();
    }
    let mut f = MovementFilter {
        kind: Some(MovementKind::Issue),
        limit: 2,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let (page, more) = db.read(|c| reads::movements_page(c, &f)).unwrap();
        assert!(page.iter().all(|m| m.kind == MovementKind::Issue));
        seen.extend(page.iter().map(|m| m.id));
        if !more {
            break;
        }
        f.after_id = page.last().map(|m| m.id);
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn tokens_are_found_by_hash_scoped_to_sites_revoked_and_stamp_their_movements() {
    use ppe_domain::access::{NewToken, Role};
    use ppe_persistence::ledger::Stamp;
    use ppe_persistence::tokens::{self, TokenRef};
    let (_t, db) = stocked();
    let new = NewToken {
        name: "Tablet".into(),
        role: Role::Reporter,
        sites: vec!["NH".into()],
        expires_in_days: Some(30),
    };
    let created = db
        .write(move |c| tokens::create_token(c, &new, "hash-1", now()))
        .unwrap();
    assert_eq!(created.sites, vec!["NH"]);
    assert_eq!(created.expires_at, Some(now() + chrono::Duration::days(30)));
    let found = db
        .read(|c| tokens::token_by_hash(c, "hash-1"))
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert!(
        db.read(|c| tokens::token_by_hash(c, "hash-2"))
            .unwrap()
            .is_none()
    );

    let unknown = NewToken {
        name: "x".into(),
        role: Role::Viewer,
        sites: vec!["NOPE".into()],
        expires_in_days: None,
    };
    let err = db
        .write(move |c| tokens::create_token(c, &unknown, "hash-3", now()))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { ref field, .. } if field == "sites[0]"),
        "{err}"
    );

    let id = created.id;
    let by = TokenRef {
        id,
        name: "Tablet".into(),
    };
    let rec = db
        .write(move |c| {
            ledger::record_report(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &StockReport {
                    site: "NH".into(),
                    reported_by: "Kari".into(),
                    occurred_at: None,
                    lines: vec![CountLine {
                        item: "FFP2".into(),
                        lot: None,
                        counted: 3,
                    }],
                },
                Stamp {
                    at: now(),
                    by: Some(by.clone()),
                },
            )
        })
        .unwrap();
    assert_eq!(rec.movements[0].token_id, Some(id));
    let (page, _) = db
        .read(|c| {
            reads::movements_page(
                c,
                &MovementFilter {
                    site: Some("NH".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(page.last().unwrap().token_name.as_deref(), Some("Tablet"));

    let later = now() + chrono::Duration::hours(1);
    let revoked = db
        .write(move |c| tokens::revoke_token(c, id, later))
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(later));
    let again = db
        .write(move |c| tokens::revoke_token(c, id, later + chrono::Duration::hours(1)))
        .unwrap();
    assert_eq!(again.revoked_at, Some(later));
    assert!(matches!(
        db.write(move |c| tokens::revoke_token(c, 999, later)),
        Err(StoreError::NotFound { .. })
    ));
    db.write(move |c| tokens::touch_token(c, id, later))
        .unwrap();
    let all = db.read(tokens::list_tokens).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].last_used_at, Some(later));
}

#[test]
fn a_poll_for_new_movements_names_each_touched_pair_once_with_its_newest_id_and_earliest_time() {
    use ppe_persistence::forecasts::{Touch, touched_since};
    let (_t, db) = stocked();
    let (wh, nh, ffp2) = db
        .read(|c| {
            Ok::<_, StoreError>((
                catalogue::site_ref(c, "site", "WH")?.0,
                catalogue::site_ref(c, "site", "NH")?.0,
                catalogue::item_id(c, "item", "FFP2")?,
            ))
        })
        .unwrap();
    let (before, received) = db.read(|c| touched_since(c, 0)).unwrap();
    assert_eq!(before.keys().copied().collect::<Vec<_>>(), [(wh, ffp2)]);
    // Two issues, the later one dated earlier (a late report), then a dispatch to NH.
    let late = now() - chrono::Duration::days(3);
    for (quantity, occurred_at) in [(5, None), (7, Some(late))] {
        db.write(move |c| {
            ledger::record_issue(
                c,
                &ppe_persistence::catalogue::IdCache::default(),
                &IssueReport {
                    site: "WH".into(),
                    occurred_at,
                    reported_by: "t".into(),
                    lines: vec![QuantityLine {
                        item: "FFP2".into(),
                        quantity,
                        lot: Some("A".into()),
                    }],
                },
                now(),
            )
        })
        .unwrap();
    }
    let dispatched = dispatch_ffp2(&db, 10);
    let newest_id = dispatched.movements.iter().map(|m| m.id).max().unwrap();
    let (touched, newest) = db.read(|c| touched_since(c, received)).unwrap();
    assert_eq!(newest, newest_id);
    assert_eq!(touched.len(), 2, "{touched:?}");
    let at_wh = touched[&(wh, ffp2)];
    assert_eq!(at_wh.newest_id, newest_id);
    let earliest = at_wh.earliest.unwrap().and_utc();
    assert!(
        (earliest - late).num_milliseconds().abs() < 1,
        "earliest {earliest}, late report {late}"
    );
    assert_eq!(
        touched[&(nh, ffp2)],
        Touch::default(),
        "the receiving unit's stock in transit changed, not its own ledger"
    );
    let (none, same) = db.read(|c| touched_since(c, newest)).unwrap();
    assert!(none.is_empty());
    assert_eq!(same, newest);
}
