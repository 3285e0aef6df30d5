//! Many clients at once at one site, with retries of the same idempotency keys:
//! balances equal the ledger, none is negative, each keyed request is written once.

use ppe_tests::Server;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[test]
fn concurrent_reports_issues_and_transfers_keep_the_ledger_exact() {
    let s = Arc::new(Server::start());
    s.seed_small();
    // Stock the unit so that its issues can race its counts.
    let t = s.create("/api/v1/transfers", json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "l", "lines": [{"item": "FFP2", "quantity": 200}, {"item": "GLOVE-M", "quantity": 200}]}));
    let id = t["transfer"]["id"].as_i64().unwrap();
    s.create(
        &format!("/api/v1/transfers/{id}/receive"),
        json!({"reported_by": "n"}),
    );

    // 200 requests: each sent once or twice (a retry with the same key), from 16 threads.
    let requests: Vec<(String, String, Value, usize)> = (0..200)
        .map(|i| {
            let key = format!("req-{i}");
            let (path, body) = match i % 4 {
                0 => ("/api/v1/stock-reports", json!({"site": "NH-01", "reported_by": "r", "lines": [{"item": "FFP2", "counted": 100 + i}]})),
                1 => ("/api/v1/issues", json!({"site": "NH-01", "reported_by": "r", "lines": [{"item": "FFP2", "quantity": 7}, {"item": "GLOVE-M", "quantity": 3}]})),
                2 => ("/api/v1/transfers", json!({"from_site": "WH", "to_site": "NH-01", "reported_by": "r", "lines": [{"item": "FFP2", "quantity": 5}]})),
                _ => ("/api/v1/issues", json!({"site": "WH", "reported_by": "r", "lines": [{"item": "GLOVE-M", "quantity": 1}]})),
            };
            (key, path.to_owned(), body, 1 + i % 2)
        })
        .collect();
    let requests = Arc::new(requests);
    let answers: Vec<(String, u16, Value)> = (0..16)
        .map(|t| {
            let s = Arc::clone(&s);
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || {
                let mut out = Vec::new();
                for (key, path, body, times) in requests.iter().skip(t).step_by(16) {
                    for _ in 0..*times {
                        let r = s.post_with_key(path, key, body);
                        let status = r.status().as_u16();
                        out.push((key.clone(), status, r.json::<Value>().unwrap()));
                    }
                }
                out
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    // Only successes or refusals for shortage; never a server error.
    let mut by_key: HashMap<&str, Vec<(u16, &Value)>> = HashMap::new();
    for (k, status, body) in &answers {
        assert!(matches!(status, 200 | 201 | 409), "{status} {body}");
        by_key.entry(k).or_default().push((*status, body));
    }
    // A retried key that succeeded answers the same body twice.
    let mut succeeded_keys = 0;
    for (k, rs) in &by_key {
        let ok: Vec<&Value> = rs
            .iter()
            .filter(|(s, _)| *s == 201)
            .map(|(_, b)| *b)
            .collect();
        if !ok.is_empty() {
            succeeded_keys += 1;
            assert!(
                ok.windows(2).all(|w| w[0] == w[1]),
                "key {k} answered differently"
            );
        }
    }
    // Each successful keyed request was written exactly once: the movement ids its
    // answer lists exist once in the ledger, and the ledger holds no others from the burst.
    let ledger = s.all_movements("");
    let mut ids: Vec<i64> = ledger.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    let len = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), len);
    let answered: std::collections::HashSet<i64> = by_key
        .values()
        .filter_map(|rs| rs.iter().find(|(s, _)| *s == 201))
        .flat_map(|(_, b)| {
            b["movements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap())
        })
        .collect();
    let setup_movements = 3 + 2 + 2; // receipt (2 lines... see seed_small) + dispatch + receive
    let from_burst: Vec<&Value> = ledger
        .iter()
        .filter(|m| !answered.contains(&m["id"].as_i64().unwrap()))
        .collect();
    assert!(
        from_burst.len() <= setup_movements,
        "movements not owned by any answer: {}",
        from_burst.len()
    );
    assert!(
        succeeded_keys >= 100,
        "only {succeeded_keys} keys succeeded"
    );

    // Balances equal ledger sums per site x item x lot, and none is negative.
    let mut sums: HashMap<(String, String, String), i64> = HashMap::new();
    for m in &ledger {
        *sums
            .entry((
                m["site"].as_str().unwrap().into(),
                m["item"].as_str().unwrap().into(),
                m["lot"].as_str().unwrap().into(),
            ))
            .or_default() += m["quantity"].as_i64().unwrap();
    }
    for site in ["WH", "NH-01"] {
        for b in s
            .get_json(&format!("/api/v1/sites/{site}/balances"))
            .as_array()
            .unwrap()
        {
            let k = (
                b["site"].as_str().unwrap().to_owned(),
                b["item"].as_str().unwrap().to_owned(),
                b["lot"].as_str().unwrap().to_owned(),
            );
            let q = b["quantity"].as_i64().unwrap();
            assert!(q >= 0, "{b}");
            assert_eq!(sums.remove(&k).unwrap_or(0), q, "{k:?}");
        }
    }
    assert!(
        sums.values().all(|v| *v == 0),
        "ledger sums without a balance: {sums:?}"
    );
}
