//! Spreadsheet imports over real HTTP and from the command line: a 2,000-row count sheet
//! for the demo municipality (checked whole, written whole, once per key), the same as
//! an Excel workbook, items and sites created then updated, and `ppe import`.

use ppe_persistence::testing::TestDatabase;
use ppe_tests::{Server, assert_check_passes, assert_problem, ppe};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn upload(
    client: &Client,
    s: &Server,
    path: &str,
    content_type: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> Response {
    let mut req = client
        .post(s.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().expect("upload")
}

/// One row of a count sheet, as text cells.
#[derive(Clone, Debug)]
struct CountRow {
    site: String,
    item: String,
    counted: String,
    lot: String,
}

fn count_csv(rows: &[CountRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["site", "item", "counted", "lot"]).unwrap();
    for r in rows {
        w.write_record([&r.site, &r.item, &r.counted, &r.lot])
            .unwrap();
    }
    w.into_inner().unwrap()
}

/// Every balance of `sites`: (site, item, lot) → quantity.
fn balances(s: &Server, sites: &[String]) -> BTreeMap<(String, String, String), i64> {
    let mut out = BTreeMap::new();
    for site in sites {
        for b in s
            .get_json(&format!("/api/v1/sites/{site}/balances"))
            .as_array()
            .unwrap()
        {
            out.insert(
                (
                    site.clone(),
                    b["item"].as_str().unwrap().to_owned(),
                    b["lot"].as_str().unwrap().to_owned(),
                ),
                b["quantity"].as_i64().unwrap(),
            );
        }
    }
    out
}

fn on_hand(balances: &BTreeMap<(String, String, String), i64>, site: &str, item: &str) -> i64 {
    balances
        .iter()
        .filter(|((s, i, _), _)| s == site && i == item)
        .map(|(_, q)| q)
        .sum()
}

fn movement_count(s: &Server) -> i64 {
    s.database().query_count("SELECT COUNT(*) FROM movements")
}

/// (line, field) of every error of a problem, in its order.
fn lines_and_fields(p: &Value) -> Vec<(u64, String)> {
    p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().expect("line"),
                e["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect()
}

/// Checks a count import's answer against the sheet and the balances before it: every
/// row written once, each recording the difference to what was there.
fn assert_counted(
    summary: &Value,
    rows: &[CountRow],
    before: &BTreeMap<(String, String, String), i64>,
    after: &BTreeMap<(String, String, String), i64>,
) {
    assert_eq!(summary["rows"], rows.len());
    let lines = summary["lines"].as_array().unwrap();
    assert_eq!(lines.len(), rows.len());
    let mut movements = 0;
    // What the sheet says each (site, item) and each named lot hold after it, in order.
    let mut expected_on_hand: HashMap<(String, String), i64> = HashMap::new();
    for (i, (line, row)) in lines.iter().zip(rows).enumerate() {
        assert_eq!(line["line"], i as u64 + 2, "{line}");
        assert_eq!(line["site"], row.site.as_str());
        assert_eq!(line["item"], row.item.as_str());
        let counted: i64 = row.counted.parse().unwrap();
        assert_eq!(line["counted"], counted);
        movements += line["movement_ids"].as_array().unwrap().len();
        let key = (row.site.clone(), row.item.clone());
        let current = *expected_on_hand
            .entry(key.clone())
            .or_insert_with(|| on_hand(before, &row.site, &row.item));
        if row.lot.is_empty() {
            // A count of the item: its difference to everything on hand.
            assert_eq!(line["adjustment"], counted - current, "{line}");
            expected_on_hand.insert(key, counted);
        } else {
            let lot_before = before
                .get(&(row.site.clone(), row.item.clone(), row.lot.clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(line["adjustment"], counted - lot_before, "{line}");
            assert_eq!(
                after[&(row.site.clone(), row.item.clone(), row.lot.clone())],
                counted,
                "{line}"
            );
            expected_on_hand.insert(key, current - lot_before + counted);
        }
    }
    assert_eq!(summary["movements"], movements);
    for ((site, item), expected) in expected_on_hand {
        assert_eq!(on_hand(after, &site, &item), expected, "{site} {item}");
    }
}

#[test]
fn a_two_thousand_row_count_sheet_is_refused_whole_then_written_whole_once() {
    let s = Server::start_with(&["--demo", "--forecast-refresh", "false"]);
    let units: Vec<String> = s
        .get_json("/api/v1/sites")
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "unit")
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect();
    let items: Vec<String> = s
        .get_json("/api/v1/items")
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["sku"].as_str().unwrap().to_owned())
        .collect();
    let pairs: Vec<(&String, &String)> = units
        .iter()
        .flat_map(|u| items.iter().map(move |i| (u, i)))
        .collect();
    assert!(
        pairs.len() < 2000 && pairs.len() * 5 >= 2000,
        "{} unit × item pairs",
        pairs.len()
    );
    // Each pair counted whole first (its difference to the demo's history), then lots of
    // its own; no (site, item, lot) twice.
    let good: Vec<CountRow> = (0..2000)
        .map(|k| {
            let (site, item) = pairs[k % pairs.len()];
            let round = k / pairs.len();
            CountRow {
                site: site.clone(),
                item: item.clone(),
                counted: ((k * 7919) % 1000).to_string(),
                lot: if round == 0 {
                    String::new()
                } else {
                    format!("SHEET-{round}")
                },
            }
        })
        .collect();
    let mut bad = good.clone();
    bad[136].site = "NH-404".into();
    bad[1023].item = "NO-SUCH-SKU".into();
    bad[1998].counted = "-3".into();

    let before = balances(&s, &units);
    let movements_before = movement_count(&s);
    let path = "/api/v1/stock-reports/import?reported_by=sheet%20test";
    let r = upload(
        &s.client,
        &s,
        path,
        "text/csv",
        Some("count-sheet-1"),
        count_csv(&bad),
    );
    let p = assert_problem(r, 422);
    assert_eq!(p["type"], "/problems/validation");
    assert_eq!(
        lines_and_fields(&p),
        [
            (138, "site".to_owned()),
            (1025, "item".to_owned()),
            (2000, "counted".to_owned())
        ],
        "{p}"
    );
    assert_eq!(movement_count(&s), movements_before, "nothing written");
    assert_eq!(balances(&s, &units), before);

    // Fixed, under the same key (a refusal is not remembered): every row once.
    let body = count_csv(&good);
    let first = upload(
        &s.client,
        &s,
        path,
        "text/csv",
        Some("count-sheet-1"),
        body.clone(),
    );
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let summary: Value = first.json().unwrap();
    let after = balances(&s, &units);
    assert_counted(&summary, &good, &before, &after);
    assert_eq!(summary["sites"], units.len());
    let written = movement_count(&s) - movements_before;
    assert_eq!(summary["movements"], written);
    assert_eq!(
        s.database().query_count(
            "SELECT COUNT(*) FROM movements WHERE reported_by = 'sheet test' \
             AND kind = 'count_adjustment'"
        ),
        written
    );
    for site in &units {
        s.assert_balances_equal_ledger(site);
    }

    // A replay writes nothing and answers the same.
    let again = upload(
        &s.client,
        &s,
        path,
        "text/csv",
        Some("count-sheet-1"),
        body.clone(),
    );
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("Idempotent-Replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json::<Value>().unwrap(), summary);
    assert_eq!(movement_count(&s) - movements_before, written);
    assert_eq!(balances(&s, &units), after);

    // The same key with another sheet is a reused key.
    let mut other = good.clone();
    other[0].counted = "1".into();
    let p = assert_problem(
        upload(
            &s.client,
            &s,
            path,
            "text/csv",
            Some("count-sheet-1"),
            count_csv(&other),
        ),
        422,
    );
    assert_eq!(p["type"], "/problems/idempotency-key-reused");
    assert_eq!(movement_count(&s) - movements_before, written);
}

/// The small world with a second unit.
fn two_units() -> Server {
    let s = Server::start();
    s.seed_small();
    s.create(
        "/api/v1/sites",
        json!({"code": "NH-02", "name": "Second home", "kind": "unit",
            "unit_type": "nursing_home", "latitude": 59.75, "longitude": 10.25}),
    );
    s
}

/// A count workbook: header in mixed case, counts as numbers (or text when not one).
fn count_xlsx(rows: &[CountRow]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["Site", "Item", "Counted", "LOT"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.site).unwrap();
        ws.write_string(row, 1, &r.item).unwrap();
        match r.counted.parse::<f64>() {
            Ok(n) => ws.write_number(row, 2, n).unwrap(),
            Err(_) => ws.write_string(row, 2, &r.counted).unwrap(),
        };
        if !r.lot.is_empty() {
            ws.write_string(row, 3, &r.lot).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn a_count_workbook_is_checked_written_and_replayed_like_csv() {
    let s = two_units();
    let sites = vec!["NH-01".to_owned(), "NH-02".to_owned()];
    let mut good = Vec::new();
    for site in &sites {
        for item in ["FFP2", "GLOVE-M"] {
            for lot in 1..=10 {
                good.push(CountRow {
                    site: site.clone(),
                    item: item.into(),
                    counted: (lot * 3 + good.len()).to_string(),
                    lot: format!("L{lot}"),
                });
            }
        }
    }
    let mut bad = good.clone();
    bad[17].counted = "2.5".into();
    bad[31].lot = "L1".into();
    let before = balances(&s, &sites);
    let movements_before = movement_count(&s);
    let path = "/api/v1/stock-reports/import";
    let p = assert_problem(
        upload(&s.client, &s, path, XLSX, Some("book-1"), count_xlsx(&bad)),
        422,
    );
    assert_eq!(
        lines_and_fields(&p),
        [(19, "counted".to_owned()), (33, "item".to_owned())],
        "{p}"
    );
    assert_eq!(movement_count(&s), movements_before);

    let body = count_xlsx(&good);
    let first = upload(&s.client, &s, path, XLSX, Some("book-1"), body.clone());
    assert_eq!(first.status(), 201);
    let summary: Value = first.json().unwrap();
    let after = balances(&s, &sites);
    assert_counted(&summary, &good, &before, &after);
    let written = movement_count(&s) - movements_before;
    assert_eq!(summary["movements"], written);
    // Movements name the token's name when the request names nobody.
    assert_eq!(
        s.database()
            .query_count("SELECT COUNT(*) FROM movements WHERE reported_by = 'test admin'"),
        written
    );

    let again = upload(&s.client, &s, path, XLSX, Some("book-1"), body);
    assert_eq!(again.status(), 201);
    assert_eq!(again.json::<Value>().unwrap(), summary);
    assert_eq!(movement_count(&s) - movements_before, written);
    assert_eq!(balances(&s, &sites), after);
}

#[test]
fn a_count_sheet_is_refused_for_sites_beyond_the_token_and_for_bad_requests() {
    let s = two_units();
    let (_, reporter) = s.new_token("reporter", &["NH-01"], None);
    let (_, viewer) = s.new_token("viewer", &[], None);
    let tablet = s.client_for(Some(&reporter));
    let path = "/api/v1/stock-reports/import";
    let sheet = b"site,item,counted\nNH-01,FFP2,5\nNH-02,FFP2,5\nNH-01,GLOVE-M,7\n".to_vec();
    let movements_before = movement_count(&s);
    let p = assert_problem(
        upload(
            &tablet,
            &s,
            path,
            "text/csv",
            Some("tablet-1"),
            sheet.clone(),
        ),
        422,
    );
    assert_eq!(lines_and_fields(&p), [(3, "site".to_owned())]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NH-02"),
        "{p}"
    );
    assert_eq!(movement_count(&s), movements_before);
    // Its own sites only: written.
    let own = b"site,item,counted\nNH-01,FFP2,5\nNH-01,GLOVE-M,7\n".to_vec();
    let r = upload(&tablet, &s, path, "text/csv", Some("tablet-2"), own.clone());
    assert_eq!(r.status(), 201);
    assert_eq!(s.on_hand("NH-01", "FFP2"), 5);
    assert_eq!(s.on_hand("NH-01", "GLOVE-M"), 7);

    // No key, not a sheet, a viewer, a broken workbook, a header without the columns.
    let p = assert_problem(
        upload(&tablet, &s, path, "text/csv", None, own.clone()),
        400,
    );
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key");
    assert_problem(
        upload(
            &tablet,
            &s,
            path,
            "application/json",
            Some("k-json"),
            own.clone(),
        ),
        415,
    );
    assert_problem(
        upload(
            &s.client_for(Some(&viewer)),
            &s,
            path,
            "text/csv",
            Some("k-viewer"),
            own.clone(),
        ),
        403,
    );
    let p = assert_problem(
        upload(
            &s.client,
            &s,
            path,
            XLSX,
            Some("k-broken"),
            b"not a workbook".to_vec(),
        ),
        400,
    );
    assert_eq!(p["type"], "/problems/malformed-sheet");
    let p = assert_problem(
        upload(
            &s.client,
            &s,
            path,
            "text/csv",
            Some("k-header"),
            b"Site;Item;Counted\nNH-01;FFP2;3\n".to_vec(),
        ),
        422,
    );
    assert!(
        lines_and_fields(&p).iter().all(|(line, _)| *line == 1),
        "{p}"
    );
    let big = vec![b'a'; 11 * 1024 * 1024];
    assert_problem(
        upload(&s.client, &s, path, "text/csv", Some("k-big"), big),
        413,
    );
    assert_eq!(movement_count(&s), movements_before + 2);
}

#[test]
fn items_and_sites_are_created_then_updated_by_sheet() {
    let s = Server::start();
    let sites = "code,name,kind,unit_type,district,latitude,longitude,opening_hours,priority_tier\n\
        WH-A,Warehouse A,warehouse,,,59.7,10.2,,\n\
        NH-A,Home A,unit,nursing_home,North,59.75,10.25,1-5 08:00-15:30; 6 10:00-14:00,1\n";
    let r = upload(
        &s.client,
        &s,
        "/api/v1/sites/import",
        "text/csv",
        None,
        sites.into(),
    );
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["updated"].as_u64()),
        (Some(2), Some(0))
    );
    let nh = s.get_json("/api/v1/sites/NH-A");
    assert_eq!(nh["opening_hours"].as_array().unwrap().len(), 2);
    assert_eq!(nh["opening_hours"][0]["weekdays"], json!([1, 2, 3, 4, 5]));
    assert_eq!(
        (nh["priority_tier"].as_i64(), nh["lead_time_days"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(s.get_json("/api/v1/sites/WH-A")["kind"], "warehouse");

    // Only the columns it has: a new name and lead time; the rest stays.
    let update = "code,name,lead_time_days\nNH-A,Home A renamed,4\nWH-A,Warehouse A,2\n";
    let r = upload(
        &s.client,
        &s,
        "/api/v1/sites/import",
        "text/csv",
        None,
        update.into(),
    );
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().unwrap();
    let outcomes: Vec<(&str, &str)> = summary["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["key"].as_str().unwrap(), l["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("NH-A", "updated"), ("WH-A", "unchanged")]);
    let nh = s.get_json("/api/v1/sites/NH-A");
    assert_eq!(nh["name"], "Home A renamed");
    assert_eq!(nh["lead_time_days"], 4);
    assert_eq!(nh["district"], "North");
    assert_eq!(nh["opening_hours"].as_array().unwrap().len(), 2);
    let audit = s.get_json("/api/v1/audit?entity=site&key=NH-A");
    assert_eq!(audit.as_array().map(Vec::len), Some(2), "{audit}");

    // A bad sheet: every bad line named, nothing created or changed.
    let bad = "code,name,kind,latitude,longitude\n\
        NH-B,Home B,unit,59.7,10.2\n\
        WH-A,Warehouse A,unit,59.7,10.2\n\
        NH-C,Home C,unit,95,10.2\n\
        NH-A,Renamed again,unit,59.75,10.25\n";
    let p = assert_problem(
        upload(
            &s.client,
            &s,
            "/api/v1/sites/import",
            "text/csv",
            None,
            bad.into(),
        ),
        422,
    );
    assert_eq!(
        lines_and_fields(&p),
        [(3, "kind".to_owned()), (4, "latitude".to_owned())]
    );
    assert_eq!(s.get_json("/api/v1/sites").as_array().unwrap().len(), 2);
    assert_eq!(s.get_json("/api/v1/sites/NH-A")["name"], "Home A renamed");

    // Items, from a workbook: created, then updated by a CSV without the GTIN column.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let head = [
        "sku",
        "name",
        "category",
        "base_unit",
        "pack_size",
        "gtin",
        "standard",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_row(1, 0, ["FFP2-S", "FFP2 respirator", "respirator", "piece"])
        .unwrap();
    ws.write_number(1, 4, 20).unwrap();
    ws.write_string(1, 5, "4006381333931").unwrap();
    ws.write_string(1, 6, "EN 149 FFP2").unwrap();
    ws.write_row(2, 0, ["GLOVE-S", "Nitrile gloves S", "gloves", "piece"])
        .unwrap();
    ws.write_number(2, 4, 200).unwrap();
    let r = upload(
        &s.client,
        &s,
        "/api/v1/items/import",
        XLSX,
        None,
        book.save_to_buffer().unwrap(),
    );
    assert_eq!(r.status(), 200);
    let ffp2 = s.get_json("/api/v1/items/FFP2-S");
    assert_eq!(ffp2["pack_size"], 20);
    assert_eq!(ffp2["gtin"], "04006381333931");
    assert_eq!(s.get_json("/api/v1/items/GLOVE-S")["category"], "gloves");

    let update = "SKU,Pack_Size,Standard\nFFP2-S,40,\n";
    let r = upload(
        &s.client,
        &s,
        "/api/v1/items/import",
        "text/csv",
        None,
        update.into(),
    );
    assert_eq!(r.status(), 200);
    let ffp2 = s.get_json("/api/v1/items/FFP2-S");
    assert_eq!(ffp2["pack_size"], 40);
    assert_eq!(ffp2["gtin"], "04006381333931", "no gtin column: kept");
    assert!(ffp2["standard"].is_null(), "a blank cell clears: {ffp2}");

    let bad = "sku,name,category,base_unit,pack_size,gtin\n\
        NEW-1,New,mask,piece,10,4006381333931\n\
        GLOVE-S,Nitrile gloves S,gloves,pair,200,\n\
        NEW-2,New 2,mask,piece,10,\n";
    let p = assert_problem(
        upload(
            &s.client,
            &s,
            "/api/v1/items/import",
            "text/csv",
            None,
            bad.into(),
        ),
        422,
    );
    assert_eq!(
        lines_and_fields(&p),
        [(3, "base_unit".to_owned()), (2, "gtin".to_owned())]
    );
    assert_eq!(s.get_json("/api/v1/items").as_array().unwrap().len(), 2);
}

#[test]
fn ppe_import_checks_and_writes_sheets_without_a_server() {
    let db = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &db.url]);
        ppe(&all)
    };
    let sites = file(
        "sites.csv",
        b"code,name,kind,unit_type,latitude,longitude\n\
          WH-C,Warehouse C,warehouse,,59.7,10.2\n\
          NH-C1,Home C1,unit,nursing_home,59.75,10.25\n\
          NH-C2,Home C2,unit,home_care,59.76,10.26\n",
    );
    let out = run(&["import", "sites", &sites]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 created"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let items = file(
        "items.csv",
        b"sku,name,category,base_unit,pack_size\nFFP2-C,FFP2,respirator,piece,20\nGEL-C,Hand gel,hand_hygiene,ml,500\n",
    );
    assert!(run(&["import", "items", &items]).status.success());

    let bad = file(
        "counts.csv",
        b"site,item,counted,lot\nNH-C1,FFP2-C,40,\nNH-C9,FFP2-C,4,\nNH-C2,GEL-C,1500,\nNH-C2,FFP2-C,many,\n",
    );
    let out = run(&["import", "counts", &bad, "--reported-by", "Kari"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("counts.csv:3: site:"), "{err}");
    assert!(err.contains("counts.csv:5: counted:"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        ppe_persistence::testing::query_count_at(&db.url, "SELECT COUNT(*) FROM movements"),
        0
    );

    let good = file(
        "counts-fixed.csv",
        b"site,item,counted,lot\nNH-C1,FFP2-C,40,\nNH-C1,GEL-C,4,\nNH-C2,GEL-C,1500,\nNH-C2,FFP2-C,12,A1\n",
    );
    let out = run(&["import", "counts", &good, "--reported-by", "Kari"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported 4 rows at 2 sites"), "{stdout}");
    assert_check_passes(&db.url);
    assert!(
        !run(&[
            "import",
            "counts",
            &file("counts.txt", b"site,item,counted\n")
        ])
        .status
        .success()
    );

    let s = Server::start_on(db, &[]);
    assert_eq!(s.on_hand("NH-C1", "FFP2-C"), 40);
    assert_eq!(s.on_hand("NH-C1", "GEL-C"), 4);
    assert_eq!(s.on_hand("NH-C2", "GEL-C"), 1500);
    let nh2 = s.get_json("/api/v1/sites/NH-C2/balances");
    let lot = nh2
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["item"] == "FFP2-C")
        .unwrap();
    assert_eq!(
        (lot["lot"].as_str(), lot["quantity"].as_i64()),
        (Some("A1"), Some(12))
    );
    let ledger = s.all_movements("&site=NH-C1");
    assert_eq!(ledger.len(), 2);
    assert!(
        ledger
            .iter()
            .all(|m| m["reported_by"] == "Kari" && m["kind"] == "count_adjustment")
    );
}
