//! The README's curl tour, word for word, against a demo server.

use ppe_tests::Server;

/// The shell commands between the tour markers, joined across continuation lines.
fn tour_commands() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme.find("<!-- tour -->").expect("tour start marker");
    let end = readme.find("<!-- /tour -->").expect("tour end marker");
    let mut cmds = Vec::new();
    let mut current = String::new();
    for line in readme[start..end].lines() {
        let l = line.trim_end();
        if l.starts_with("```") || l.starts_with('#') || l.starts_with("<!--") || l.is_empty() {
            continue;
        }
        match l.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(l);
                cmds.push(std::mem::take(&mut current));
            }
        }
    }
    cmds
}

#[test]
fn the_readme_tour_works_as_written() {
    let s = Server::start_with(&["--demo"]);
    // The demo prints `export NAME=secret  # role` lines; the tour uses them as it says.
    let vars: Vec<(String, String)> = s
        .banner
        .iter()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| {
            let (name, rest) = l.split_once('=')?;
            let value = rest.split_whitespace().next()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["TOKEN", "LOGISTICS_TOKEN", "VIEWER_TOKEN", "REPORTER_TOKEN"],
        "{:?}",
        s.banner
    );
    let cmds = tour_commands();
    assert!(cmds.len() >= 5, "{cmds:?}");
    for cmd in cmds {
        assert!(
            cmd.starts_with("curl -sf"),
            "tour commands must fail on HTTP errors: {cmd}"
        );
        let cmd = cmd.replace("http://localhost:8080", &s.base);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .envs(vars.iter().map(|(n, v)| (n, v)))
            .output()
            .expect("sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{cmd}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{cmd}: not JSON ({e}): {stdout}"));
    }
    // The count became a +40 adjustment, and the retry-safe key is stored.
    let b = s.get_json("/api/v1/sites/NH-TOUR/balances");
    assert!(
        b.as_array()
            .unwrap()
            .iter()
            .any(|r| r["item"] == "FFP2-TOUR" && r["quantity"] == 40),
        "{b}"
    );
    // The reporter's count is in NH-01's ledger under the demo reporter token.
    let nh01 = s.all_movements("&site=NH-01&kind=count_adjustment");
    assert!(
        nh01.iter()
            .any(|m| m["reported_by"] == "Ola" && m["token_name"] == "demo reporter token"),
        "{:?}",
        nh01.last()
    );
    // Tokens of an earlier demo start are revoked at the next one.
    let again = Server::start_on(s.stop(), &["--demo"]);
    let old = &vars[0].1;
    let r = again
        .client_for(Some(old))
        .get(again.url("/api/v1/items"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn demo_is_seeded_once_and_its_balances_equal_its_ledger() {
    let s = Server::start_with(&["--demo"]);
    let sites = s.get_json("/api/v1/sites");
    assert_eq!(sites.as_array().unwrap().len(), 41);
    assert_eq!(s.get_json("/api/v1/items").as_array().unwrap().len(), 12);
    let ledger = s.all_movements("&site=NH-02");
    assert!(ledger.len() > 300, "{}", ledger.len());
    s.assert_balances_equal_ledger("NH-02");
    // Some deliveries are still in transit; some units ran out at some point.
    assert!(
        !s.get_json("/api/v1/transfers?status=dispatched")
            .as_array()
            .unwrap()
            .is_empty()
    );
    let counts = s.all_movements("&kind=count_adjustment");
    assert!(
        counts.iter().any(|m| m["counted"] == 0),
        "no stockout in the demo"
    );
    // A second start on the same database seeds nothing new.
    let before = s.all_movements("").len();
    let again = Server::start_on(s.stop(), &["--demo"]);
    assert_eq!(again.all_movements("").len(), before);
}
