//! The built-in dashboard in a real headless Chromium, against the real binary on the
//! demo municipality. Screenshots of every page go to `target/screenshots/`.

use ppe_tests::Server;
use ppe_tests::browser::Browser;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const RANK: [&str; 4] = ["red", "amber", "green", "no_demand"];

fn rank(band: &str) -> usize {
    RANK.iter().position(|b| *b == band).expect("band")
}

/// The page asked no host but the server: neither in its DevTools network log (every
/// request since the browser started) nor in its Resource Timing entries. What the
/// browser's own services tried went to a proxy that forwards nothing; it is printed.
fn asked_only_the_server(b: &Browser, base: &str) {
    let asked = b.page_requests();
    assert!(asked.iter().any(|u| u.contains("/api/v1/")), "{asked:?}");
    for u in &asked {
        assert!(
            u.starts_with(base) || u.starts_with("blob:") || u.starts_with("data:"),
            "the page asked another host: {u}"
        );
    }
    let (origin, urls) = b.resources();
    assert!(!urls.is_empty());
    for u in &urls {
        assert!(
            u.starts_with(&origin),
            "the page loaded from another host: {u}"
        );
    }
    eprintln!(
        "the browser's own services tried (and the proxy refused): {:?}",
        b.foreign.lock().unwrap()
    );
}

fn quantity_held(s: &Server, site: &str, item: &str) -> i64 {
    s.get_json(&format!("/api/v1/sites/{site}/balances"))
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["item"] == item)
        .map(|b| b["quantity"].as_i64().unwrap())
        .sum()
}

#[test]
fn the_dashboard_shows_the_demo_municipality_to_a_viewer() {
    let s = Server::start_demo();
    // A delivery plan, so that the map has routes to draw.
    let plan = s.create(
        "/api/v1/delivery-plans",
        json!({"depot": "WH-DRAMMEN", "time_limit": 1}),
    );
    let trips: usize = plan["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trips"].as_array().unwrap().len())
        .sum();
    assert!(trips > 0, "{plan}");
    let (_, viewer) = s.new_token("viewer", &[], None);
    let status = s.get_json("/api/v1/supply-status");
    let rows = status.as_array().unwrap();

    let b = Browser::start(&s.base);
    b.sign_in(&viewer);

    // Overview: exactly the demo's red unit × item rows are listed as red.
    let red: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r["band"] == "red")
        .map(|r| {
            (
                r["site"].as_str().unwrap().into(),
                r["item"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(!red.is_empty(), "the demo has no red units");
    let shown: BTreeSet<(String, String)> = b
        .attrs("#risk tbody tr[data-band=red]", "data-site")
        .into_iter()
        .zip(b.attrs("#risk tbody tr[data-band=red]", "data-item"))
        .collect();
    assert_eq!(shown, red);
    // The riskiest first: no amber row above a red one.
    let bands = b.attrs("#risk tbody tr", "data-band");
    assert!(
        bands.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "{bands:?}"
    );
    // One card per district besides the municipality's.
    let districts: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["district"].as_str().unwrap())
        .collect();
    assert_eq!(b.count("[data-district]"), districts.len());
    b.screenshot("overview");
    // A viewer is offered no write form, not even at its address.
    assert_eq!(b.count("#nav a[data-nav=report]"), 0);
    assert!(b.count("#nav a[data-nav=map]") == 1);
    b.view("#/report/NH-01");
    assert_eq!(b.count("form#report"), 0);
    assert_eq!(b.count("#report-denied"), 1);

    // Map: every site at its place, coloured by its worst band; the plan's trips drawn.
    let sites = s.get_json("/api/v1/sites");
    let mut worst: BTreeMap<&str, &str> = BTreeMap::new();
    for r in rows {
        let e = worst
            .entry(r["site"].as_str().unwrap())
            .or_insert("no_demand");
        if rank(r["band"].as_str().unwrap()) < rank(e) {
            *e = r["band"].as_str().unwrap();
        }
    }
    b.view("#/map");
    let marked = b.attrs("svg.map [data-site]", "data-site");
    let codes: BTreeSet<String> = sites
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(marked.iter().cloned().collect::<BTreeSet<_>>(), codes);
    assert_eq!(marked.len(), codes.len());
    for (code, band) in marked
        .iter()
        .zip(b.attrs("svg.map [data-site]", "data-band"))
    {
        if let Some(w) = worst.get(code.as_str()) {
            assert_eq!(&band, w, "{code}");
        } else {
            assert_eq!(band, "depot", "{code}");
        }
    }
    assert_eq!(b.count("svg.map polyline.route"), trips);
    b.screenshot("map");

    // Site: the riskiest unit's chart has its days as points and a forecast fan.
    let first = &rows
        .iter()
        .min_by(|a, b| {
            rank(a["band"].as_str().unwrap())
                .cmp(&rank(b["band"].as_str().unwrap()))
                .then(
                    b["stockout_probability"]
                        .as_f64()
                        .unwrap()
                        .total_cmp(&a["stockout_probability"].as_f64().unwrap()),
                )
        })
        .unwrap();
    let site = first["site"].as_str().unwrap();
    b.view(&format!("#/site/{site}"));
    b.wait_for("the chart", "document.querySelector('svg.chart.use')");
    let item = b.script("return document.getElementById('chart-item').value;");
    let item = item.as_str().unwrap();
    let days = s.get_json(&format!("/api/v1/consumption?site={site}&item={item}"))["days"]
        .as_array()
        .unwrap()
        .len();
    assert!(days > 0);
    assert_eq!(b.count("svg.chart.use circle.point"), days.min(56));
    assert_eq!(b.count("svg.chart.use polygon.fan"), 1);
    assert_eq!(b.count("svg.chart.stock polyline.balance"), 1);
    let held: Vec<Value> = s
        .get_json(&format!("/api/v1/sites/{site}/balances"))
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["quantity"] != 0)
        .cloned()
        .collect();
    assert_eq!(b.count("#balances tbody tr[data-item]"), held.len());
    b.screenshot("site");

    // Item: one row per district (the aggregates), and where it is held.
    b.view("#/item/FFP2");
    let agg = s.get_json("/api/v1/supply-status/aggregates?item=FFP2");
    assert_eq!(
        b.count("#districts tbody tr"),
        agg.as_array().unwrap().len()
    );
    b.screenshot("item");

    // Accuracy: the summary and one row per series.
    b.view("#/accuracy");
    let acc = s.get_json("/api/v1/forecasts/accuracy");
    assert_eq!(
        b.count("#series tbody tr"),
        acc["series"].as_array().unwrap().len()
    );
    b.screenshot("accuracy");

    // Norwegian: the chrome and the numbers follow the chosen language.
    b.script(
        "const l = document.getElementById('lang'); l.value = 'nb'; l.dispatchEvent(new Event('change'));",
    );
    b.wait_for(
        "the Norwegian view",
        "document.querySelector('#nav a[data-nav=overview]').textContent === 'Oversikt' && document.body.dataset.ready === 'accuracy'",
    );
    let mase = b.text("dl.summary dd:nth-of-type(2)");
    assert!(mase.contains(','), "a Norwegian decimal comma in {mase:?}");
    b.view("#/overview");
    // Categories are named in the language too (the API's `respirator`).
    let bands = b.text("#bands-municipality");
    assert!(
        bands.contains("Åndedrettsvern") && !bands.contains("respirator"),
        "{bands}"
    );
    b.screenshot("overview-nb");

    asked_only_the_server(&b, &s.base);
}

#[test]
fn a_unit_reports_its_count_on_the_phone_form() {
    let s = Server::start_demo();
    let (_, reporter) = s.new_token("reporter", &["NH-01"], None);
    let before = quantity_held(&s, "NH-01", "FFP2");
    // How many movements NH-01 has (fewer than a page in the demo).
    let movements = |s: &Server| {
        let page = s.get_json("/api/v1/movements?site=NH-01&limit=1000");
        assert!(page["next_cursor"].is_null());
        page["items"].as_array().unwrap().len()
    };
    let last = movements(&s);

    let b = Browser::start(&s.base);
    b.resize(390, 844);
    b.sign_in(&reporter);
    // A scoped token's overview shows its own site only.
    let sites: BTreeSet<String> = b
        .attrs("#risk tbody tr[data-site]", "data-site")
        .into_iter()
        .collect();
    assert!(sites.iter().all(|x| x == "NH-01"), "{sites:?}");
    assert_eq!(b.count("[data-district]"), 1);
    assert_eq!(b.count("#nav a[data-nav=report]"), 1);
    b.click("#nav a[data-nav=report]");
    b.wait_for("the report form", "document.querySelector('form#report')");
    b.type_into("#reported_by", "Kari");

    // A bad count: its field says why, and nothing is written.
    b.type_into("#count-FFP2", "-5");
    b.click("form#report button[type=submit]");
    b.wait_for(
        "the field error",
        "document.querySelector('[data-error-for=FFP2]').textContent !== ''",
    );
    assert!(b.text("[data-error-for=FFP2]").contains("between 0"));
    assert_eq!(b.count("#count-FFP2[aria-invalid]"), 1);
    b.script("document.getElementById('count-FFP2').scrollIntoView({block: 'center'});");
    b.screenshot("report-error");
    assert_eq!(movements(&s), last);
    assert_eq!(quantity_held(&s, "NH-01", "FFP2"), before);

    // The corrected count is written once and shows on the form and the site page.
    let counted = if before == 123 { 124 } else { 123 };
    b.type_into("#count-FFP2", &counted.to_string());
    b.click("form#report button[type=submit]");
    b.wait_for(
        "the saved report",
        "document.querySelector('#report-message.ok')",
    );
    assert_eq!(quantity_held(&s, "NH-01", "FFP2"), counted);
    assert!(movements(&s) > last);
    assert_eq!(b.count("[aria-invalid]"), 0);
    b.screenshot("report");
    b.view("#/site/NH-01");
    let shown: i64 = b
        .attrs("#balances tbody tr[data-item=FFP2]", "data-quantity")
        .iter()
        .map(|q| q.parse::<i64>().unwrap())
        .sum();
    assert_eq!(shown, counted);

    asked_only_the_server(&b, &s.base);

    // A token of two units: every view it is offered asks per site and works.
    let (_, two) = s.new_token("reporter", &["NH-01", "NH-02"], None);
    b.sign_in(&two);
    let sites: BTreeSet<String> = b
        .attrs("#risk tbody tr[data-site]", "data-site")
        .into_iter()
        .collect();
    assert!(
        sites.iter().all(|x| x == "NH-01" || x == "NH-02"),
        "{sites:?}"
    );
    for view in ["#/map", "#/accuracy", "#/item/FFP2", "#/site/NH-02"] {
        b.view(view);
        assert_eq!(b.count(".error"), 0, "{view}: {}", b.text("main"));
    }
}
