use super::*;
use crate::catalogue::{BaseUnit, Category};
use crate::site::{SiteKind, UnitType};

/// A sheet from CSV-like text: the first line is the header (line 1).
fn table(text: &str) -> Table {
    let mut lines = text.lines().enumerate();
    let (_, head) = lines.next().unwrap();
    Table {
        header_line: 1,
        header: head.split(',').map(str::to_owned).collect(),
        rows: lines
            .map(|(i, l)| TableRow {
                line: i as u64 + 1,
                cells: l.split(',').map(str::to_owned).collect(),
            })
            .collect(),
    }
}

fn lines_and_fields(v: &Violations) -> Vec<(u64, String)> {
    v.0.iter()
        .map(|e| (e.line.expect("a line"), e.field.clone()))
        .collect()
}

fn check_counts(t: &Table) -> Result<Vec<CountRow>, Violations> {
    let site_exists = |s: &str| ["NH-01", "NH-02", "WH"].contains(&s);
    let item_exists = |i: &str| ["FFP2", "GLOVE-M"].contains(&i);
    let may_report = |s: &str| {
        if s == "WH" {
            Err(format!("this token is not scoped to site `{s}`"))
        } else {
            Ok(())
        }
    };
    count_rows(
        t,
        &CountRules {
            site_exists: &site_exists,
            item_exists: &item_exists,
            may_report: &may_report,
        },
    )
}

#[test]
fn a_valid_count_sheet_becomes_rows_whatever_the_header_case_and_order() {
    let t = table("Counted , ITEM,Site,lot\n40,FFP2,NH-01,\n 7 ,GLOVE-M,NH-01,L1\n0,FFP2,NH-02,");
    let rows = check_counts(&t).unwrap();
    assert_eq!(
        rows,
        [
            CountRow {
                line: 2,
                site: "NH-01".into(),
                item: "FFP2".into(),
                counted: 40,
                lot: None
            },
            CountRow {
                line: 3,
                site: "NH-01".into(),
                item: "GLOVE-M".into(),
                counted: 7,
                lot: Some("L1".into())
            },
            CountRow {
                line: 4,
                site: "NH-02".into(),
                item: "FFP2".into(),
                counted: 0,
                lot: None
            },
        ]
    );
}

#[test]
fn every_bad_count_row_is_named_by_line_and_column() {
    let t = table(
        "site,item,counted,lot\n\
         NH-01,FFP2,40,\n\
         NH-99,FFP2,1,\n\
         NH-01,NOPE,1,\n\
         NH-01,GLOVE-M,-1,\n\
         NH-02,GLOVE-M,2.5,\n\
         NH-02,FFP2,,\n\
         WH,FFP2,3,\n\
         NH-01,FFP2,41,\n\
         ,,,\n\
         NH-02,GLOVE-M,5,A1\n\
         NH-02,GLOVE-M,6,A2",
    );
    let err = check_counts(&t).unwrap_err();
    assert_eq!(
        lines_and_fields(&err),
        [
            (3, "site".to_owned()),
            (4, "item".to_owned()),
            (5, "counted".to_owned()),
            (6, "counted".to_owned()),
            (7, "counted".to_owned()),
            (8, "site".to_owned()),
            (9, "item".to_owned()),
            (10, "site".to_owned()),
            (10, "item".to_owned()),
            (10, "counted".to_owned()),
        ]
    );
    assert!(err.0[6].message.contains("line 2"), "{:?}", err.0[6]);
    assert!(err.0[5].message.contains("not scoped"), "{:?}", err.0[5]);
    // Rendered for a person, each refusal starts with its line.
    assert!(err.to_string().starts_with("line 3, site: no site `NH-99`"));
}

#[test]
fn a_count_of_one_lot_and_of_another_are_different_rows() {
    let t = table("site,item,counted,lot\nNH-01,FFP2,1,A\nNH-01,FFP2,2,B\nNH-01,FFP2,3,");
    assert_eq!(check_counts(&t).unwrap().len(), 3);
}

#[test]
fn header_problems_are_reported_on_the_header_line_alone() {
    let t = table("site,item,colour,site\nNH-99,NOPE,red,NH-01");
    let err = check_counts(&t).unwrap_err();
    assert_eq!(
        lines_and_fields(&err),
        [
            (1, "colour".to_owned()),
            (1, "site".to_owned()),
            (1, "counted".to_owned())
        ]
    );
    let empty = table("site,item,counted");
    assert_eq!(
        lines_and_fields(&check_counts(&empty).unwrap_err()),
        [(1, SHEET_FIELD.to_owned())]
    );
}

#[test]
fn a_value_beyond_the_header_is_refused_not_dropped() {
    let t = table("site,item,counted\nNH-01,FFP2,4,extra\nNH-01,GLOVE-M,4,");
    assert_eq!(
        lines_and_fields(&check_counts(&t).unwrap_err()),
        [(2, SHEET_FIELD.to_owned())]
    );
}

/// A report as the test reads it: site, (item, counted) per line, the sheet lines.
type Shape<'a> = (&'a str, Vec<(&'a str, i64)>, &'a [u64]);

#[test]
fn rows_become_one_report_per_site_in_code_order() {
    let t = table("site,item,counted\nNH-02,FFP2,1\nNH-01,FFP2,2\nNH-02,GLOVE-M,3");
    let rows = check_counts(&t).unwrap();
    let reports = count_reports(&rows, "Kari", None);
    let shape: Vec<Shape> = reports
        .iter()
        .map(|(r, lines)| {
            (
                r.site.as_str(),
                r.lines
                    .iter()
                    .map(|l| (l.item.as_str(), l.counted))
                    .collect(),
                lines.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("NH-01", vec![("FFP2", 2)], &[3][..]),
            ("NH-02", vec![("FFP2", 1), ("GLOVE-M", 3)], &[2, 4][..]),
        ]
    );
    assert!(reports.iter().all(|(r, _)| r.reported_by == "Kari"));
}

fn stored_item(sku: &str, gtin: Option<&str>) -> Item {
    Item {
        id: 1,
        sku: sku.into(),
        name: format!("{sku} item"),
        category: Category::Respirator,
        base_unit: BaseUnit::Piece,
        pack_size: 20,
        gtin: gtin.map(str::to_owned),
        standard: Some("EN 149".into()),
        shelf_life_days: None,
        volume_cm3: Some(60.0),
        weight_g: None,
        active: true,
        created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn an_item_sheet_creates_new_skus_and_updates_only_the_columns_it_has() {
    let stored = [stored_item("FFP2", Some("04006381333931"))];
    let t = table(
        "sku,name,category,base_unit,pack_size,standard\n\
         FFP2,FFP2 respirator,respirator,piece,40,\n\
         GOWN-L,Gown L,gown,piece,10,EN 13795",
    );
    let changes = item_changes(&t, &stored).unwrap();
    assert_eq!(changes.len(), 2);
    let ffp2 = &changes[0];
    assert_eq!(ffp2.outcome, ImportOutcome::Updated);
    assert_eq!(ffp2.after.pack_size, 40);
    // No gtin column: the stored GTIN stays. A blank standard clears it.
    assert_eq!(ffp2.after.gtin.as_deref(), Some("04006381333931"));
    assert_eq!(ffp2.after.standard, None);
    assert_eq!(ffp2.after.volume_cm3, Some(60.0));
    assert_eq!(ffp2.before.as_ref().map(|b| b.id), Some(1));
    let gown = &changes[1];
    assert_eq!(gown.outcome, ImportOutcome::Created);
    assert_eq!(gown.after.category, Category::Gown);
    assert_eq!(gown.after.standard.as_deref(), Some("EN 13795"));
    assert!(gown.before.is_none());

    // The same sheet again against what it made: nothing to write.
    let now = [
        stored_item("FFP2", Some("04006381333931")),
        stored_item("GOWN-L", None),
    ];
    let mut after = now.clone();
    after[0].name = "FFP2 respirator".into();
    after[0].pack_size = 40;
    after[0].standard = None;
    after[1].name = "Gown L".into();
    after[1].category = Category::Gown;
    after[1].pack_size = 10;
    after[1].standard = Some("EN 13795".into());
    after[1].volume_cm3 = None;
    let again = item_changes(&t, &after).unwrap();
    assert!(
        again.iter().all(|c| c.outcome == ImportOutcome::Unchanged),
        "{again:?}"
    );
}

#[test]
fn bad_item_rows_are_named_and_a_new_sku_needs_every_required_field() {
    let stored = [
        stored_item("FFP2", Some("04006381333931")),
        stored_item("MASK", None),
    ];
    let t = table(
        "sku,name,category,base_unit,pack_size,gtin\n\
         NEW-1,New,respirator,piece,0,\n\
         NEW-2,New 2,hat,piece,5,\n\
         FFP2,FFP2,respirator,pair,20,\n\
         NEW-3,,,,,\n\
         NEW-4,Four,mask,piece,5,4006381333931\n\
         MASK,Mask,mask,piece,many,\n\
         NEW-1,Again,mask,piece,5,",
    );
    let err = item_changes(&t, &stored).unwrap_err();
    assert_eq!(
        lines_and_fields(&err),
        [
            (2, "pack_size".to_owned()),
            (3, "category".to_owned()),
            (4, "base_unit".to_owned()),
            (5, "name".to_owned()),
            (5, "category".to_owned()),
            (5, "base_unit".to_owned()),
            (5, "pack_size".to_owned()),
            (7, "pack_size".to_owned()),
            (8, "sku".to_owned()),
            (6, "gtin".to_owned()),
        ]
    );
}

fn stored_site(code: &str, kind: SiteKind) -> Site {
    Site {
        id: 7,
        code: code.into(),
        name: format!("{code} site"),
        kind,
        unit_type: (kind == SiteKind::Unit).then_some(UnitType::NursingHome),
        district: Some("North".into()),
        latitude: 59.7,
        longitude: 10.2,
        address: None,
        opening_hours: vec![],
        priority_tier: 1,
        lead_time_days: 2,
        active: true,
        created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn a_site_sheet_creates_with_the_api_defaults_and_updates_by_code() {
    let stored = [stored_site("NH-01", SiteKind::Unit)];
    let t = table(
        "Code,Name,Kind,Unit_Type,Latitude,Longitude,Opening_Hours\n\
         NH-01,Lia,unit,nursing_home,59.8,10.3,1-5 08:00-15:30; 6 10:00-14:00\n\
         HC-01,Home care,unit,home_care,59.7,10.1,",
    );
    let changes = site_changes(&t, &stored).unwrap();
    let nh = &changes[0];
    assert_eq!(nh.outcome, ImportOutcome::Updated);
    assert_eq!((nh.after.name.as_str(), nh.after.latitude), ("Lia", 59.8));
    // Columns the sheet lacks keep the stored values.
    assert_eq!(nh.after.priority_tier, 1);
    assert_eq!(nh.after.district.as_deref(), Some("North"));
    assert_eq!(nh.after.opening_hours.len(), 2);
    assert_eq!(nh.after.opening_hours[0].weekdays, [1, 2, 3, 4, 5]);
    let hc = &changes[1];
    assert_eq!(hc.outcome, ImportOutcome::Created);
    assert_eq!((hc.after.priority_tier, hc.after.lead_time_days), (3, 2));
    assert!(hc.after.opening_hours.is_empty());
}

#[test]
fn bad_site_rows_are_named() {
    let stored = [stored_site("WH", SiteKind::Warehouse)];
    let t = table(
        "code,name,kind,unit_type,latitude,longitude,opening_hours\n\
         WH,Warehouse,unit,,59.7,10.2,\n\
         NH-1,Home,unit,nursing_home,95,10.2,\n\
         NH-2,Home,unit,nursing_home,59,10.2,Mondays\n\
         NH-3,Home,unit,nursing_home,59,10.2,1-5 15:00-08:00\n\
         bad code!,Home,unit,,59,10,",
    );
    let err = site_changes(&t, &stored).unwrap_err();
    assert_eq!(
        lines_and_fields(&err),
        [
            (2, "kind".to_owned()),
            (3, "latitude".to_owned()),
            (4, "opening_hours".to_owned()),
            (5, "opening_hours[0].closes".to_owned()),
            (6, "code".to_owned()),
        ]
    );
}

#[test]
fn opening_hours_read_lists_and_ranges_of_weekdays() {
    let w = parse_opening_hours("1,3-4 07:30-12:00;7 09:00-10:00").unwrap();
    assert_eq!(w[0].weekdays, [1, 3, 4]);
    assert_eq!(
        (w[0].opens.as_str(), w[0].closes.as_str()),
        ("07:30", "12:00")
    );
    assert_eq!(w[1].weekdays, [7]);
    assert!(parse_opening_hours("").unwrap().is_empty());
    assert!(parse_opening_hours("5-1 08:00-09:00").is_err());
    assert!(parse_opening_hours("x 08:00-09:00").is_err());
}
