//! Delivery planning over real HTTP: proposal → plan → dispatch → proof of delivery on the
//! demo municipality, concurrent dispatches, a dispatch racing a count that empties the
//! warehouse, re-plans and cancellations, and bad input for every new operation.

use ppe_tests::{Server, assert_problem, problem_fields};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// A delivery day every test server accepts: tomorrow (UTC), never before the local today.
fn tomorrow() -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string()
}

/// The small world with what planning needs: weights and volumes, a van at WH.
fn plannable() -> Server {
    let s = Server::start();
    s.seed_small();
    for (sku, g, cm3) in [("FFP2", 10.0, 60.0), ("GLOVE-M", 3.5, 4.0)] {
        let r = s.patch(
            &format!("/api/v1/items/{sku}"),
            &json!({"weight_g": g, "volume_cm3": cm3}),
        );
        assert_eq!(r.status(), 200);
    }
    s.create(
        "/api/v1/sites",
        json!({"code": "NH-02", "name": "Second home", "kind": "unit",
            "unit_type": "nursing_home", "latitude": 59.75, "longitude": 10.25,
            "priority_tier": 1}),
    );
    s.create(
        "/api/v1/vehicles",
        json!({"code": "VAN-A", "name": "Van A", "depot": "WH", "capacity_kg": 1000,
            "capacity_litres": 8000, "shift_start": "08:00", "shift_end": "16:00",
            "cost_per_km": 4.5, "cost_per_hour": 450, "max_trips": 2}),
    );
    s
}

fn plan_lines(s: &Server, lines: Value) -> Value {
    s.create(
        "/api/v1/delivery-plans",
        json!({"date": tomorrow(), "depot": "WH", "lines": lines, "time_limit": 0.2}),
    )
}

fn items_by_sku(s: &Server) -> HashMap<String, Value> {
    s.get_json("/api/v1/items")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["sku"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

/// Base units per item on a plan's routed lines.
fn routed_per_item(plan: &Value) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for l in plan["lines"].as_array().unwrap() {
        if l["routed"] == true {
            *out.entry(l["item"].as_str().unwrap().to_owned())
                .or_default() += l["allocated"].as_i64().unwrap();
        }
    }
    out
}

fn warehouse_per_item(s: &Server, site: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for b in s
        .get_json(&format!("/api/v1/sites/{site}/balances"))
        .as_array()
        .unwrap()
    {
        *out.entry(b["item"].as_str().unwrap().to_owned())
            .or_default() += b["quantity"].as_i64().unwrap();
    }
    out
}

/// The value at a CSV column's dotted path in a JSON row, as the CSV writes it.
fn cell_text(row: &Value, column: &str) -> String {
    let v = column
        .split('.')
        .try_fold(row, |v, k| v.get(k))
        .unwrap_or(&Value::Null);
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// CSV of `path` (with `?format=csv`), parsed: its header and records.
fn csv_of(s: &Server, path: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = s.get(&format!("{path}{sep}format=csv"));
    assert_eq!(r.status(), 200, "{path}");
    let text = r.text().unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    (headers, reader.records().map(Result::unwrap).collect())
}

/// Every CSV `record` holds `row`'s value in each of its columns.
fn same_rows(headers: &[String], records: &[csv::StringRecord], rows: &[Value]) {
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(rows) {
        for (i, column) in headers.iter().enumerate() {
            assert_eq!(record[i], cell_text(row, column), "{column} of {row}");
        }
    }
}

/// The other lists as CSV: balances, transfers, consumption and forecasts row for row as
/// their JSON; the ledger streamed whole, every movement the JSON pages hold, once.
fn every_list_downloads_as_csv(s: &Server) {
    for path in [
        "/api/v1/sites/NH-01/balances",
        "/api/v1/items/FFP2/balances",
        "/api/v1/transfers?limit=500",
    ] {
        let json = s.get_json(path);
        let (headers, records) = csv_of(s, path);
        same_rows(&headers, &records, json.as_array().unwrap());
    }
    let consumption = s.get_json("/api/v1/consumption?site=NH-01&item=FFP2");
    let (headers, records) = csv_of(s, "/api/v1/consumption?site=NH-01&item=FFP2");
    assert_eq!(&headers[..2], ["site", "item"]);
    let days: Vec<Value> = consumption["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d["site"] = "NH-01".into();
            d["item"] = "FFP2".into();
            d
        })
        .collect();
    same_rows(&headers, &records, &days);
    let forecasts = s.get_json("/api/v1/forecasts?site=NH-01&horizon=14");
    let (headers, records) = csv_of(s, "/api/v1/forecasts?site=NH-01&horizon=14");
    let points: Vec<Value> = forecasts
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["points"].as_array().unwrap().iter().map(|p| {
                let mut p = p.clone();
                p["site"] = f["site"].clone();
                p["item"] = f["item"].clone();
                p
            })
        })
        .collect();
    assert_eq!(points.len(), 12 * 14);
    same_rows(&headers, &records, &points);

    // The ledger: the JSON pages, followed to the end, against one streamed CSV.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = s.get_json(&format!("/api/v1/movements?item=FFP2&limit=1000{cursor}"));
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(paged.len() > 1000, "more than one page: {}", paged.len());
    let r = s.get("/api/v1/movements?item=FFP2&format=csv");
    assert_eq!(r.status(), 200);
    assert!(r.content_length().is_none(), "streamed, not buffered");
    let (headers, records) = csv_of(s, "/api/v1/movements?item=FFP2");
    same_rows(&headers, &records, &paged);
    // A filter naming nothing is refused before the stream begins.
    let json = s.get("/api/v1/movements?site=NO-SUCH-SITE").status();
    assert!(json.is_client_error());
    let r = s.get("/api/v1/movements?site=NO-SUCH-SITE&format=csv");
    assert_eq!(r.status(), json);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
}

/// Supply status as CSV (by `?format=` and by `Accept`) and as an Excel workbook: the JSON
/// answer's rows, row for row, with the right headers and cell types.
fn spreadsheets_hold_the_json_rows(s: &Server) {
    let path = "/api/v1/supply-status?band=red,amber,green";
    let (json, csv_text, accepted, xlsx) = loop {
        let before = s.get_json(path);
        let csv = s.get(&format!("{path}&format=csv"));
        assert_eq!(csv.status(), 200);
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"),
            "{:?}",
            csv.headers()
        );
        let csv = csv.text().unwrap();
        let accepted = s
            .client
            .get(s.url(path))
            .header("Accept", "text/csv, application/json;q=0.5")
            .send()
            .unwrap()
            .text()
            .unwrap();
        let xlsx = s.get(&format!("{path}&format=xlsx"));
        assert_eq!(xlsx.status(), 200);
        let xlsx = xlsx.bytes().unwrap().to_vec();
        // Forecasts refreshed in between would change the rows: read again then.
        if s.get_json(path) == before {
            break (before, csv, accepted, xlsx);
        }
    };
    assert_eq!(csv_text, accepted);
    let rows = json.as_array().unwrap();
    assert!(rows.len() > 10);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in [
        "site",
        "item",
        "band",
        "on_hand",
        "days_of_supply.q50",
        "provenance.computed_at",
    ] {
        assert!(
            headers.iter().any(|h| h == column),
            "{column} not in {headers:?}"
        );
    }
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(rows) {
        for (i, column) in headers.iter().enumerate() {
            assert_eq!(record[i], cell_text(row, column), "{column} of {row}");
        }
    }

    use calamine::{Data, Reader};
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range("supply-status").unwrap();
    let mut cells = sheet.rows();
    let head: Vec<String> = cells
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(head, headers);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut n = 0;
    for (cells, row) in cells.zip(rows) {
        n += 1;
        assert_eq!(
            cells[col("site")],
            Data::String(row["site"].as_str().unwrap().into())
        );
        assert_eq!(
            cells[col("on_hand")],
            Data::Float(row["on_hand"].as_f64().unwrap())
        );
        match row["days_of_supply"]["q50"].as_f64() {
            Some(d) => assert_eq!(cells[col("days_of_supply.q50")], Data::Float(d)),
            None => assert_eq!(cells[col("days_of_supply.q50")], Data::Empty),
        }
        assert!(
            matches!(cells[col("provenance.computed_at")], Data::DateTime(_)),
            "{:?}",
            cells[col("provenance.computed_at")]
        );
    }
    assert_eq!(n, rows.len());
}

/// Supply status as a planner reads it: several values per filter, pages that add up to
/// the whole list, items nobody uses after every real risk.
fn supply_status_is_a_planners_list(s: &Server) {
    let all = s.get_json("/api/v1/supply-status");
    let all = all.as_array().unwrap();
    let band = |r: &Value| r["band"].as_str().unwrap().to_owned();
    let key = |r: &Value| format!("{}/{}", r["site"], r["item"]);
    // Pairs that neither use nor hold an item are not red: they come last, without risk.
    let first_no_demand = all
        .iter()
        .position(|r| band(r) == "no_demand")
        .expect("the demo has items some units never use");
    assert!(
        all[first_no_demand..]
            .iter()
            .all(|r| band(r) == "no_demand")
    );
    for r in &all[first_no_demand..] {
        assert_eq!(
            r["on_hand"].as_i64().unwrap() + r["in_transit"].as_i64().unwrap(),
            0
        );
        assert_eq!(r["stockout_probability"], 0.0);
        assert_eq!(r["suggested_order"], 0);
    }
    assert!(all.iter().any(|r| band(r) == "red"));
    // band=red,amber is the red and the amber rows, in the same order.
    let ra = s.get_json("/api/v1/supply-status?band=red,amber");
    let expected: Vec<String> = all
        .iter()
        .filter(|r| ["red", "amber"].contains(&band(r).as_str()))
        .map(key)
        .collect();
    assert_eq!(
        ra.as_array().unwrap().iter().map(key).collect::<Vec<_>>(),
        expected
    );
    let two =
        s.get_json("/api/v1/supply-status?district=Bragernes,Strømsø&category=respirator,gloves");
    let two = two.as_array().unwrap();
    assert!(!two.is_empty());
    assert!(two.iter().all(|r| {
        ["Bragernes", "Strømsø"].contains(&r["district"].as_str().unwrap())
            && ["respirator", "gloves"].contains(&r["category"].as_str().unwrap())
    }));
    assert_problem(s.get("/api/v1/supply-status?band=red,purple"), 400);
    // Pages of 100 add up to the whole list; a full page links to the next.
    let mut paged = Vec::new();
    let mut next = Some("/api/v1/supply-status?limit=100".to_owned());
    while let Some(path) = next {
        let r = s.get(&path);
        next = r.headers().get("link").map(|l| {
            l.to_str()
                .unwrap()
                .split(['<', '>'])
                .nth(1)
                .unwrap()
                .to_owned()
        });
        let page: Value = r.json().unwrap();
        paged.extend(page.as_array().unwrap().iter().map(key));
        assert!(paged.len() <= all.len() + 100);
    }
    assert_eq!(paged, all.iter().map(key).collect::<Vec<_>>());
    // The aggregates count every band, no_demand included.
    let agg = s.get_json("/api/v1/supply-status/aggregates?by=municipality");
    let agg = agg.as_array().unwrap();
    let units: u64 = agg.iter().map(|a| a["units"].as_u64().unwrap()).sum();
    let banded: u64 = agg
        .iter()
        .flat_map(|a| {
            ["red", "amber", "green", "no_demand"]
                .iter()
                .map(|b| a[b].as_u64().unwrap())
        })
        .sum();
    assert_eq!(units as usize, all.len());
    assert_eq!(banded, units);
}

#[test]
fn the_demo_municipality_from_supply_status_to_received_deliveries() {
    let s = Server::start_demo();
    supply_status_is_a_planners_list(&s);
    spreadsheets_hold_the_json_rows(&s);
    every_list_downloads_as_csv(&s);
    let items = items_by_sku(&s);
    let day = tomorrow();

    // The proposal: whole packs, a reason per line, days before and after.
    let proposal = s.get_json(&format!(
        "/api/v1/replenishment?depot=WH-DRAMMEN&date={day}"
    ));
    let lines = proposal["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    for l in lines {
        let pack = items[l["item"].as_str().unwrap()]["pack_size"]
            .as_i64()
            .unwrap();
        assert_eq!(l["need"].as_i64().unwrap() % pack, 0, "{l}");
        assert!(l["allocated"].as_i64().unwrap() <= l["need"].as_i64().unwrap());
        assert!(["forecast", "request", "both"].contains(&l["reason"].as_str().unwrap()));
        if let (Some(before), Some(after)) = (l["days_before"].as_f64(), l["days_after"].as_f64()) {
            assert!(after >= before - 1e-9, "{l}");
        }
        // Stock delivered never raises the risk of running out.
        if let (Some(before), Some(after)) = (
            l["stockout_probability_before"].as_f64(),
            l["stockout_probability_after_allocation"].as_f64(),
        ) {
            assert!(after <= before + 1e-9, "{l}");
        }
    }

    assert!(
        lines
            .iter()
            .any(|l| l["stockout_probability_after_allocation"].is_f64())
    );
    let warehouse_before = warehouse_per_item(&s, "WH-DRAMMEN");
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"date": day, "depot": "WH-DRAMMEN", "time_limit": 1}),
    );
    assert_eq!(plan["status"], "planned");
    assert_eq!(plan["vehicles"], json!(["VAN-1", "VAN-2", "VAN-3"]));
    let routes = plan["routes"].as_array().unwrap();
    assert!(!routes.is_empty());
    // Loads fit the vans; lots cover each line exactly.
    let vans: HashMap<String, Value> = s
        .get_json("/api/v1/vehicles")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap().to_owned(), v.clone()))
        .collect();
    for r in routes {
        let van = &vans[r["vehicle"].as_str().unwrap()];
        for t in r["trips"].as_array().unwrap() {
            assert!(t["load_kg"].as_f64().unwrap() <= van["capacity_kg"].as_f64().unwrap());
            assert!(t["load_litres"].as_f64().unwrap() <= van["capacity_litres"].as_f64().unwrap());
        }
    }
    for l in plan["lines"].as_array().unwrap() {
        let picked: i64 = l["lots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(picked, l["allocated"].as_i64().unwrap(), "{l}");
    }
    let routed = routed_per_item(&plan);
    assert_eq!(
        plan["totals"]["stock_delivered"].as_i64().unwrap(),
        routed.values().sum::<i64>()
    );

    // Dispatch: one transfer per routed stop; the warehouse goes down by exactly that.
    let first = s.post(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        &json!({"reported_by": "Per"}),
    );
    assert_eq!(first.status(), 200);
    let first = first.text().unwrap();
    let dispatched: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(dispatched["status"], "dispatched");
    let stops: usize = routes
        .iter()
        .flat_map(|r| r["trips"].as_array().unwrap())
        .map(|t| t["stops"].as_array().unwrap().len())
        .sum();
    let transfers: Vec<i64> = dispatched["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    assert_eq!(transfers.len(), stops);
    let warehouse_after = warehouse_per_item(&s, "WH-DRAMMEN");
    for (item, before) in &warehouse_before {
        let sent = routed.get(item).copied().unwrap_or(0);
        assert_eq!(warehouse_after[item], before - sent, "{item}");
    }
    // A second dispatch gets the first answer and moves nothing.
    let again = s.post(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        &json!({"reported_by": "Per"}),
    );
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().unwrap(), first);
    assert_eq!(warehouse_per_item(&s, "WH-DRAMMEN"), warehouse_after);

    // Proof of delivery: the first stop is one short (lost in transit), the rest whole.
    let short = s.get_json(&format!("/api/v1/transfers/{}", transfers[0]));
    let unit = short["to_site"].as_str().unwrap().to_owned();
    let line = &short["lines"][0];
    let (short_item, shipped) = (
        line["item"].as_str().unwrap().to_owned(),
        line["quantity"].as_i64().unwrap(),
    );
    // Every lot of the item on this transfer; all but one unit of line 0 arrive.
    let item_shipped: i64 = short["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["item"] == short_item.as_str())
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    let unit_before = s.on_hand(&unit, &short_item);
    let r = s.post(
        &format!("/api/v1/transfers/{}/receive", transfers[0]),
        &json!({"reported_by": "Kari", "lines": [{"line": line["line"], "received": shipped - 1,
            "outcome": "short", "disposition": "lost", "note": "one box missing"}]}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.on_hand(&unit, &short_item),
        unit_before + item_shipped - 1
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/transfers/{}", transfers[0]))["status"],
        "received_with_discrepancy"
    );
    for t in &transfers[1..] {
        assert_eq!(
            s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
            "dispatched"
        );
        let r = s.post(
            &format!("/api/v1/transfers/{t}/receive"),
            &json!({"reported_by": "Ola"}),
        );
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
        "completed"
    );
    // The shortfall is recorded where the note says, and nowhere else.
    let d = s.get_json(&format!("/api/v1/discrepancies?plan={}", plan["id"]));
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["to_site"], unit.as_str());
    assert_eq!(d[0]["missing"], 1);
    assert_eq!(d[0]["disposition"], "lost");
    assert_eq!(d[0]["note"], "one box missing");
    // Lost stock is not back at the depot; every ledger stays whole.
    assert_eq!(warehouse_per_item(&s, "WH-DRAMMEN"), warehouse_after);
    s.assert_balances_equal_ledger("WH-DRAMMEN");
    for t in &transfers[..3.min(transfers.len())] {
        let site = s.get_json(&format!("/api/v1/transfers/{t}"))["to_site"]
            .as_str()
            .unwrap()
            .to_owned();
        s.assert_balances_equal_ledger(&site);
    }
    // The run sheet of route 1 names its stops, lots and transfers.
    let csv = s
        .get("/api/v1/delivery-plans/1/routes/1/run-sheet?format=csv")
        .text()
        .unwrap();
    assert!(csv.starts_with("plan,route,vehicle,trip,stop,site"));
    assert!(csv.contains(&format!(",{}\n", transfers[0])), "{csv}");
    let html = s.get("/api/v1/delivery-plans/1/routes/1/run-sheet");
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.text().unwrap().contains("signature"));
}

#[test]
fn two_concurrent_dispatches_of_one_plan_move_the_stock_once() {
    let s = plannable();
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 200},
               {"site": "NH-02", "item": "FFP2", "quantity": 100},
               {"site": "NH-02", "item": "GLOVE-M", "quantity": 200}]),
    );
    let url = s.url(&format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]));
    let answers: Vec<(u16, String)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (c, url) = (s.client.clone(), url.clone());
                sc.spawn(move || {
                    let r = c
                        .post(&url)
                        .json(&json!({"reported_by": "twin"}))
                        .send()
                        .unwrap();
                    (r.status().as_u16(), r.text().unwrap())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    assert_eq!(answers[1].0, 200, "{}", answers[1].1);
    assert_eq!(answers[0].1, answers[1].1);
    assert_eq!(s.on_hand("WH", "FFP2"), 1000 - 300);
    assert_eq!(s.on_hand("WH", "GLOVE-M"), 500 - 200);
    let transfers = s.get_json("/api/v1/transfers?site=WH");
    assert_eq!(transfers.as_array().unwrap().len(), 2);
    s.assert_balances_equal_ledger("WH");
}

#[test]
fn a_dispatch_after_the_warehouse_was_emptied_is_refused_whole() {
    let s = plannable();
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 200},
               {"site": "NH-02", "item": "GLOVE-M", "quantity": 200}]),
    );
    // A count finds no FFP2 at the warehouse.
    s.create(
        "/api/v1/stock-reports",
        json!({"site": "WH", "reported_by": "goods-in",
            "lines": [{"item": "FFP2", "counted": 0, "lot": "A1"}]}),
    );
    let before = (s.on_hand("WH", "GLOVE-M"), s.all_movements("").len());
    let p = assert_problem(
        s.post(
            &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
            &json!({"reported_by": "Per"}),
        ),
        409,
    );
    assert_eq!(p["type"], "/problems/stock-changed");
    assert_eq!(p["lines"][0]["item"], "FFP2");
    assert_eq!(p["lines"][0]["site"], "NH-01");
    assert_eq!(p["lines"].as_array().unwrap().len(), 1, "{p}");
    // Nothing partial: not the gloves either, and the plan is still planned.
    assert_eq!(
        (s.on_hand("WH", "GLOVE-M"), s.all_movements("").len()),
        before
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
        "planned"
    );
    assert!(
        s.get_json("/api/v1/transfers?site=WH")
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_dispatch_racing_a_count_that_empties_the_warehouse_is_all_or_nothing() {
    for _ in 0..3 {
        let s = plannable();
        let plan = plan_lines(
            &s,
            json!([{"site": "NH-01", "item": "FFP2", "quantity": 600},
                   {"site": "NH-02", "item": "FFP2", "quantity": 400}]),
        );
        let (dispatch, count) = std::thread::scope(|sc| {
            let d = sc.spawn(|| {
                s.post(
                    &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
                    &json!({"reported_by": "Per"}),
                )
                .status()
                .as_u16()
            });
            let c = sc.spawn(|| {
                s.post(
                    "/api/v1/stock-reports",
                    &json!({"site": "WH", "reported_by": "goods-in",
                        "lines": [{"item": "FFP2", "counted": 0}]}),
                )
                .status()
                .as_u16()
            });
            (d.join().unwrap(), c.join().unwrap())
        });
        assert_eq!(count, 201);
        let out: i64 = s
            .get_json("/api/v1/transfers?site=WH")
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["lines"].as_array().unwrap().clone())
            .map(|l| l["quantity"].as_i64().unwrap())
            .sum();
        match dispatch {
            // The dispatch went first: everything left, then the count found nothing.
            200 => assert_eq!(out, 1000),
            // The count went first: nothing left at all.
            409 => assert_eq!(out, 0),
            other => panic!("dispatch answered {other}"),
        }
        assert_eq!(s.on_hand("WH", "FFP2"), 0);
        s.assert_balances_equal_ledger("WH");
    }
}

#[test]
fn shortage_is_shared_by_tier_then_days_of_supply_and_plans_hold_their_stock() {
    let s = plannable();
    // NH-02 is tier 1, NH-01 tier 3: 1000 FFP2 for 1400 asked, NH-02 first.
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 800},
               {"site": "NH-02", "item": "FFP2", "quantity": 600}]),
    );
    let by_site: HashMap<&str, &Value> = plan["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["site"].as_str().unwrap(), l))
        .collect();
    assert_eq!(by_site["NH-02"]["allocated"], 600);
    assert_eq!(by_site["NH-02"]["reason"]["kind"], "full");
    assert_eq!(by_site["NH-01"]["allocated"], 400);
    assert_eq!(by_site["NH-01"]["allocated"].as_i64().unwrap() % 20, 0);
    // A second plan finds the stock held by the first.
    let second = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 100}]),
    );
    assert_eq!(second["lines"][0]["allocated"], 0);
    assert_eq!(second["lines"][0]["reason"]["kind"], "no_stock");
    // An override is kept and reported beside what allocation would have given.
    let third = s.create(
        "/api/v1/delivery-plans",
        json!({"date": tomorrow(), "depot": "WH", "replaces": plan["id"], "time_limit": 0.2,
            "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 800},
                      {"site": "NH-02", "item": "FFP2", "quantity": 600}],
            "overrides": [{"site": "NH-01", "item": "FFP2", "quantity": 500}]}),
    );
    assert_eq!(third["version"], 2);
    assert_eq!(third["replaces"], plan["id"]);
    let nh01 = third["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["site"] == "NH-01")
        .unwrap();
    assert_eq!(nh01["allocated"], 500);
    assert_eq!(nh01["overridden_from"], 400);
    assert_eq!(
        s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
        "superseded"
    );
    // A superseded plan cannot be dispatched, re-planned or cancelled.
    for op in ["dispatch", "cancel"] {
        assert_problem(
            s.post(
                &format!("/api/v1/delivery-plans/{}/{op}", plan["id"]),
                &json!({"reported_by": "Per"}),
            ),
            409,
        );
    }
    assert_eq!(
        s.post(
            &format!("/api/v1/delivery-plans/{}/cancel", third["id"]),
            &json!({})
        )
        .status(),
        200
    );
}

#[test]
fn a_request_is_planned_delivered_or_reopened_with_its_plan() {
    let s = plannable();
    let (_, reporter) = s.new_token("reporter", &["NH-01"], None);
    let tablet = s.client_for(Some(&reporter));
    let req = json!({"site": "NH-01", "requested_by": "Kari", "urgent": true,
        "reason": "outbreak on ward 2", "lines": [{"item": "FFP2", "quantity": 50}]});
    let first = tablet
        .post(s.url("/api/v1/requests"))
        .header("Idempotency-Key", "nh01-req-1")
        .json(&req)
        .send()
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().unwrap();
    let replay = tablet
        .post(s.url("/api/v1/requests"))
        .header("Idempotency-Key", "nh01-req-1")
        .json(&req)
        .send()
        .unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().unwrap(), first);
    assert_eq!(
        s.get_json("/api/v1/requests?site=NH-01")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The proposal takes the request up, rounded to whole packs, in tier 1 (urgent).
    let p = s.get_json(&format!(
        "/api/v1/replenishment?depot=WH&date={}",
        tomorrow()
    ));
    let line = &p["lines"][0];
    assert_eq!(
        (
            line["site"].as_str(),
            line["need"].as_i64(),
            line["tier"].as_i64()
        ),
        (Some("NH-01"), Some(60), Some(1))
    );
    assert_eq!(line["reason"], "request");
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"date": tomorrow(), "depot": "WH", "time_limit": 0.2}),
    );
    let id = first["id"].as_i64().unwrap();
    let r = s.get_json(&format!("/api/v1/requests/{id}"));
    assert_eq!(
        (r["status"].as_str(), r["plan_id"].clone()),
        (Some("planned"), plan["id"].clone())
    );
    // A planned request is the plan's: the unit cannot cancel it.
    assert_problem(
        tablet
            .post(s.url(&format!("/api/v1/requests/{id}/cancel")))
            .send()
            .unwrap(),
        409,
    );
    // Cancelling the plan opens it again; dispatching a new plan and receiving delivers it.
    s.create(
        &format!("/api/v1/delivery-plans/{}/cancel", plan["id"]),
        json!({}),
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/requests/{id}"))["status"],
        "open"
    );
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"date": tomorrow(), "depot": "WH", "time_limit": 0.2}),
    );
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    let t = d["transfers"][0].as_i64().unwrap();
    let r = tablet
        .post(s.url(&format!("/api/v1/transfers/{t}/receive")))
        .json(&json!({"reported_by": "Kari"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.get_json(&format!("/api/v1/requests/{id}"))["status"],
        "delivered"
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
        "completed"
    );
}

#[test]
fn a_cancelled_transfer_puts_its_stock_back_and_a_returned_line_too() {
    let s = plannable();
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 200},
               {"site": "NH-02", "item": "FFP2", "quantity": 100}]),
    );
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    assert_eq!(s.on_hand("WH", "FFP2"), 700);
    let transfers: Vec<Value> = d["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| s.get_json(&format!("/api/v1/transfers/{t}")))
        .collect();
    // The van to one unit never left.
    let r = s.post(
        &format!("/api/v1/transfers/{}/cancel", transfers[0]["id"]),
        &json!({"reported_by": "Per", "reason": "van broke down"}),
    );
    assert_eq!(r.status(), 200);
    let back = transfers[0]["lines"][0]["quantity"].as_i64().unwrap();
    assert_eq!(s.on_hand("WH", "FFP2"), 700 + back);
    assert_problem(
        s.post(
            &format!("/api/v1/transfers/{}/receive", transfers[0]["id"]),
            &json!({"reported_by": "Kari"}),
        ),
        409,
    );
    // The other unit refuses 20 damaged respirators; the driver takes them back.
    let other = &transfers[1];
    let shipped = other["lines"][0]["quantity"].as_i64().unwrap();
    let r = s.post(
        &format!("/api/v1/transfers/{}/receive", other["id"]),
        &json!({"reported_by": "Ola", "lines": [{"line": 0, "received": shipped - 20,
            "outcome": "damaged", "disposition": "returned"}]}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(s.on_hand("WH", "FFP2"), 700 + back + 20);
    assert_eq!(
        s.on_hand(other["to_site"].as_str().unwrap(), "FFP2"),
        shipped - 20
    );
    assert_eq!(
        s.get_json(&format!("/api/v1/delivery-plans/{}", plan["id"]))["status"],
        "completed"
    );
    for site in ["WH", "NH-01", "NH-02"] {
        s.assert_balances_equal_ledger(site);
    }
}

#[test]
fn bad_input_to_every_planning_operation_names_the_field_and_writes_nothing() {
    let s = plannable();
    let count = |s: &Server| {
        (
            s.get_json("/api/v1/vehicles").as_array().unwrap().len(),
            s.get_json("/api/v1/delivery-plans")
                .as_array()
                .unwrap()
                .len(),
            s.get_json("/api/v1/requests").as_array().unwrap().len(),
            s.all_movements("").len(),
        )
    };
    let before = count(&s);
    let cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            "post",
            "/api/v1/vehicles",
            json!({"code": "V", "name": "V", "depot": "WH",
            "capacity_kg": 0, "capacity_litres": 10, "shift_start": "08:00", "shift_end": "16:00"}),
            422,
            "capacity_kg",
        ),
        (
            "post",
            "/api/v1/vehicles",
            json!({"code": "V", "name": "V", "depot": "NH-01",
            "capacity_kg": 10, "capacity_litres": 10, "shift_start": "08:00", "shift_end": "16:00"}),
            404,
            "depot",
        ),
        (
            "patch",
            "/api/v1/vehicles/VAN-A",
            json!({"shift_end": "07:00"}),
            422,
            "shift_end",
        ),
        (
            "patch",
            "/api/v1/items/FFP2",
            json!({"pack_size": 0}),
            422,
            "pack_size",
        ),
        (
            "patch",
            "/api/v1/items/FFP2",
            json!({"sku": "OTHER"}),
            422,
            "sku",
        ),
        (
            "patch",
            "/api/v1/items/FFP2",
            json!({"pack_size": null}),
            422,
            "pack_size",
        ),
        (
            "patch",
            "/api/v1/vehicles/VAN-A",
            json!({"capacity_kg": null}),
            422,
            "capacity_kg",
        ),
        (
            "patch",
            "/api/v1/sites/NH-01",
            json!({"latitude": 200}),
            422,
            "latitude",
        ),
        (
            "post",
            "/api/v1/requests",
            json!({"site": "NH-01", "requested_by": "K",
            "lines": [{"item": "FFP2", "quantity": 0}]}),
            422,
            "lines[0].quantity",
        ),
        (
            "post",
            "/api/v1/requests",
            json!({"site": "WH", "requested_by": "K",
            "lines": [{"item": "FFP2", "quantity": 1}]}),
            404,
            "site",
        ),
        (
            "post",
            "/api/v1/requests",
            json!({"site": "NH-01", "requested_by": "K",
            "lines": [{"item": "NOPE", "quantity": 1}]}),
            404,
            "lines[0].item",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": "2020-01-01", "depot": "WH"}),
            422,
            "date",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": tomorrow(), "depot": "NH-01"}),
            404,
            "depot",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": tomorrow(), "depot": "WH",
            "time_limit": 99}),
            422,
            "time_limit",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": tomorrow(), "depot": "WH",
            "vehicles": ["NOPE"]}),
            409,
            "vehicles[0]",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": tomorrow(), "depot": "WH",
            "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 10}],
            "overrides": [{"site": "NH-01", "item": "FFP2", "quantity": 5000}]}),
            409,
            "overrides[0].quantity",
        ),
        (
            "post",
            "/api/v1/delivery-plans",
            json!({"date": tomorrow(), "depot": "WH",
            "replaces": 999}),
            404,
            "replaces",
        ),
    ];
    for (method, path, body, status, field) in cases {
        let r = match method {
            "post" => s.post(path, &body),
            _ => s.patch(path, &body),
        };
        let p = assert_problem(r, status);
        assert!(
            problem_fields(&p).iter().any(|f| f == field),
            "{method} {path} {body}: {p}"
        );
    }
    // An item without weight cannot be loaded; an empty fleet cannot drive.
    s.create(
        "/api/v1/items",
        json!({"sku": "GOWN", "name": "Gown", "category": "gown", "base_unit": "piece",
            "pack_size": 10}),
    );
    s.create(
        "/api/v1/receipts",
        json!({"site": "WH", "reported_by": "in", "lines": [{"item": "GOWN", "quantity": 50}]}),
    );
    let p = assert_problem(
        s.post(
            "/api/v1/delivery-plans",
            &json!({"date": tomorrow(), "depot": "WH",
                "lines": [{"site": "NH-01", "item": "GOWN", "quantity": 10}]}),
        ),
        409,
    );
    assert!(
        problem_fields(&p).contains(&"items[GOWN].weight_g".to_owned()),
        "{p}"
    );
    assert_eq!(
        s.patch("/api/v1/vehicles/VAN-A", &json!({"active": false}))
            .status(),
        200
    );
    let p = assert_problem(
        s.post(
            "/api/v1/delivery-plans",
            &json!({"date": tomorrow(), "depot": "WH",
                "lines": [{"site": "NH-01", "item": "FFP2", "quantity": 10}]}),
        ),
        409,
    );
    assert_eq!(problem_fields(&p), ["vehicles"]);
    assert_eq!(
        s.patch("/api/v1/vehicles/VAN-A", &json!({"active": true}))
            .status(),
        200
    );
    let movements_before = s.all_movements("").len();
    assert_eq!(count(&s).0, before.0);
    assert_eq!(count(&s).1, before.1);
    assert_eq!(count(&s).2, before.2);

    // Proof of delivery with impossible lines; a cancel without a reason; a bad format.
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "FFP2", "quantity": 40}]),
    );
    assert_problem(
        s.post(
            &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
            &json!({"reported_by": " "}),
        ),
        422,
    );
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    let t = d["transfers"][0].as_i64().unwrap();
    let after_dispatch = s.all_movements("").len();
    assert!(after_dispatch > movements_before);
    for (lines, field) in [
        (json!([{"line": 0, "received": 41}]), "lines[0].received"),
        (
            json!([{"line": 0, "received": 30, "outcome": "short"}]),
            "lines[0].disposition",
        ),
        (
            json!([{"line": 0, "received": 30, "disposition": "lost"}]),
            "lines[0].outcome",
        ),
        (json!([{"line": 7, "received": 1}]), "lines[0].line"),
    ] {
        let p = assert_problem(
            s.post(
                &format!("/api/v1/transfers/{t}/receive"),
                &json!({"reported_by": "Kari", "lines": lines}),
            ),
            409,
        );
        assert_eq!(p["type"], "/problems/contradicts-state");
        assert!(problem_fields(&p).iter().any(|f| f == field), "{p}");
    }
    let p = assert_problem(
        s.post(
            &format!("/api/v1/transfers/{t}/cancel"),
            &json!({"reported_by": "Per", "reason": ""}),
        ),
        422,
    );
    assert_eq!(problem_fields(&p), ["reason"]);
    assert_eq!(s.all_movements("").len(), after_dispatch);
    assert_eq!(
        s.get_json(&format!("/api/v1/transfers/{t}"))["status"],
        "dispatched"
    );
    let p = assert_problem(
        s.get(&format!(
            "/api/v1/delivery-plans/{}/routes/1/run-sheet?format=pdf",
            plan["id"]
        )),
        400,
    );
    assert_eq!(problem_fields(&p), ["format"]);
    assert_problem(s.get("/api/v1/replenishment"), 400);
    assert_problem(s.get("/api/v1/delivery-plans/999"), 404);
    assert_problem(s.get("/api/v1/vehicles/NOPE"), 404);
}

#[test]
fn edits_are_audited_and_a_deactivated_unit_leaves_planning() {
    let s = plannable();
    let r = s.patch(
        "/api/v1/sites/NH-02",
        &json!({"active": false, "address": "Nedre gate 1"}),
    );
    assert_eq!(r.status(), 200);
    let site: Value = r.json().unwrap();
    assert_eq!(
        (site["active"].as_bool(), site["address"].as_str()),
        (Some(false), Some("Nedre gate 1"))
    );
    // Null clears an optional field; absent fields stay.
    let site: Value = s
        .patch("/api/v1/sites/NH-02", &json!({"address": null}))
        .json()
        .unwrap();
    assert!(site["address"].is_null());
    assert_eq!(site["name"], "Second home");
    let p = assert_problem(
        s.post(
            "/api/v1/delivery-plans",
            &json!({"date": tomorrow(), "depot": "WH",
                "lines": [{"site": "NH-02", "item": "FFP2", "quantity": 10}]}),
        ),
        409,
    );
    assert_eq!(problem_fields(&p), ["lines[0].site"]);
    let p = assert_problem(
        s.post(
            "/api/v1/requests",
            &json!({"site": "NH-02", "requested_by": "K",
                "lines": [{"item": "FFP2", "quantity": 1}]}),
        ),
        409,
    );
    assert_eq!(problem_fields(&p), ["site"]);
    // Created, then edited twice: newest first, each with the record before and after.
    let audit = s.get_json("/api/v1/audit?entity=site&key=NH-02");
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "update", "create"]);
    assert_eq!(audit[0]["before"]["address"], "Nedre gate 1");
    assert!(audit[0]["after"]["address"].is_null());
    assert!(audit[2]["before"].is_null());
    assert_eq!(audit[0]["token_name"], "test admin");
    let stored = s.database().query_count(
        "SELECT COUNT(*) FROM audit_events WHERE entity = 'site' AND entity_key = 'NH-02'",
    );
    assert_eq!(stored, 3);
}

#[test]
fn a_plan_ships_exactly_its_lots_and_never_a_short_dated_one() {
    let s = plannable();
    // Beside the unrecorded gloves: a lot that expires within the 30 days of shelf life a
    // delivery must keep.
    let soon = (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string();
    s.create(
        "/api/v1/receipts",
        json!({"site": "WH", "reported_by": "in", "lines": [{"item": "GLOVE-M",
            "quantity": 400, "lot": "SOON", "expires_on": soon}]}),
    );
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "GLOVE-M", "quantity": 400}]),
    );
    let lots: Vec<&str> = plan["lines"][0]["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap())
        .collect();
    assert_eq!(lots, [""]);
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    let t = s.get_json(&format!("/api/v1/transfers/{}", d["transfers"][0]));
    assert_eq!(t["lines"].as_array().unwrap().len(), 1);
    assert_eq!(t["lines"][0]["lot"], "");
    let soon_left: i64 = s
        .get_json("/api/v1/sites/WH/balances")
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["lot"] == "SOON")
        .map(|b| b["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(soon_left, 400);
}

#[test]
fn a_plan_takes_up_only_the_requests_it_serves_and_a_lost_line_reopens_one() {
    let s = plannable();
    // No gloves left at the warehouse.
    s.create(
        "/api/v1/discards",
        json!({"site": "WH", "reported_by": "in", "reason": "damaged",
            "lines": [{"item": "GLOVE-M", "quantity": 500}]}),
    );
    let masks = s.create(
        "/api/v1/requests",
        json!({"site": "NH-01", "requested_by": "Kari", "lines": [{"item": "FFP2", "quantity": 40}]}),
    );
    let gloves = s.create(
        "/api/v1/requests",
        json!({"site": "NH-01", "requested_by": "Kari", "lines": [{"item": "GLOVE-M", "quantity": 200}]}),
    );
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"date": tomorrow(), "depot": "WH", "time_limit": 0.2}),
    );
    let status = |r: &Value| s.get_json(&format!("/api/v1/requests/{}", r["id"]))["status"].clone();
    assert_eq!(status(&masks), "planned");
    assert_eq!(status(&gloves), "open");
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    // Everything on the stop is lost on the way: the request is open again.
    let t = d["transfers"][0].as_i64().unwrap();
    let r = s.post(
        &format!("/api/v1/transfers/{t}/receive"),
        &json!({"reported_by": "Kari", "lines": [{"line": 0, "received": 0,
            "outcome": "short", "disposition": "lost"}]}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(status(&masks), "open");
    // The unit's ledger says what happened, without changing its balance.
    let loss = s.all_movements("&site=NH-01&kind=transfer_loss");
    assert_eq!(loss.len(), 1);
    assert_eq!(loss[0]["quantity"], 0);
    assert_eq!(loss[0]["transfer_id"], t);
    assert_eq!(s.on_hand("NH-01", "FFP2"), 0);
    s.assert_balances_equal_ledger("NH-01");
    s.assert_balances_equal_ledger("WH");
}

#[test]
fn a_plan_with_nothing_to_route_is_done_when_dispatched() {
    let s = plannable();
    s.create(
        "/api/v1/discards",
        json!({"site": "WH", "reported_by": "in", "reason": "damaged",
            "lines": [{"item": "GLOVE-M", "quantity": 500}]}),
    );
    let plan = plan_lines(
        &s,
        json!([{"site": "NH-01", "item": "GLOVE-M", "quantity": 200}]),
    );
    assert!(plan["routes"].as_array().unwrap().is_empty());
    let d = s.create(
        &format!("/api/v1/delivery-plans/{}/dispatch", plan["id"]),
        json!({"reported_by": "Per"}),
    );
    assert_eq!(d["status"], "completed");
    assert!(d["transfers"].as_array().unwrap().is_empty());
}
