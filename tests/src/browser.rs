//! A real headless Chromium, driven through chromedriver (W3C WebDriver), for the
//! dashboard's tests. Blocking wrappers keep the tests as plain sequential code.
//!
//! Chromium is started with its background services off and with every request that
//! is not to a loopback address sent to a proxy that forwards nothing (so nothing leaves
//! the machine) and remembers what it was asked. What the page itself requested comes
//! from the DevTools network log of the page (chromedriver's performance log), which
//! the browser's own services do not appear in.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser itself rather than Debian's `/usr/bin/chromium` wrapper, which adds
/// flags that fetch extension updates and sets Google API keys.
const CHROMIUM: &str = "/usr/lib/chromium/chromium";

pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    /// The first line of every request that reached the proxy (any host but loopback).
    pub foreign: Arc<Mutex<Vec<String>>>,
    base: String,
    /// chromedriver's address and the session, for the log endpoint fantoccini lacks.
    driver_url: String,
    session: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Accepts connections, remembers each request line and closes: nothing is forwarded.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut line = String::new();
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = BufReader::new(&conn).read_line(&mut line);
            log.lock().unwrap().push(line.trim().to_owned());
        }
    });
    (port, seen)
}

fn chromium_present() -> bool {
    std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists()
}

/// Installs Debian's chromium and chromium-driver when they are missing, so that the
/// README's one test command works on a fresh machine; one installer at a time.
fn ensure_chromium() {
    if chromium_present() {
        return;
    }
    let script = "command -v apt-get >/dev/null && { apt-get update -qq && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }";
    let status = Command::new("flock")
        .args(["/tmp/ppe-tests-chromium.lock", "sh", "-c"])
        .arg(format!(
            "[ -x {CHROMIUM} ] && [ -x {CHROMEDRIVER} ] || {{ {script}; }}"
        ))
        .status();
    assert!(
        chromium_present(),
        "the dashboard tests need Debian's chromium and chromium-driver, and installing them failed ({status:?}): apt-get install chromium chromium-driver"
    );
}

/// Where the tests leave their screenshots: `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Starts chromedriver and a Chromium session against the server at `base`.
    pub fn start(base: &str) -> Browser {
        ensure_chromium();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let (proxy, foreign) = recording_proxy();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let profile = tempfile::tempdir().expect("profile").keep();
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": {"performance": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-default-apps", "--disable-sync", "--disable-extensions",
                    "--no-first-run", "--no-default-browser-check", "--metrics-recording-only",
                    "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                    "--safebrowsing-disable-auto-update", "--lang=en-GB", "--no-pings", "--allow-browser-signin=false",
                    "--disable-component-extensions-with-background-pages",
                    "--disable-breakpad", "--dns-prefetch-disable", "--password-store=basic",
                    "--disable-features=NetworkTimeServiceQuerying,AutofillServerCommunication,OptimizationHints,OptimizationHintsFetching,MediaRouter,DialMediaRouteProvider,Translate,CertificateTransparencyComponentUpdater,NetworkPrediction,SearchPrefetchServicePrefetching,SignInProfileCreation,PrivacySandboxSettings4,InterestFeedContentSuggestions,PreconnectToSearch,SearchEngineChoiceTrigger,UseDnsHttpsSvcb,OnDeviceModelPerformanceParams",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--proxy-server=http://127.0.0.1:{proxy}"),
                    "--window-size=1280,1000",
                ],
            },
        });
        let caps = caps.as_object().expect("caps").clone();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let tried = rt.block_on(
                ClientBuilder::native()
                    .capabilities(caps.clone())
                    .connect(&url),
            );
            match tried {
                Ok(c) => break c,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        let session = rt
            .block_on(client.session_id())
            .expect("session id")
            .expect("a session");
        Browser {
            rt,
            client: Some(client),
            driver,
            foreign,
            base: base.trim_end_matches('/').to_owned(),
            driver_url: url,
            session,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("session")
    }

    /// Opens a path of the server (`/`, `/#/map`).
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(self.c().goto(&url)).expect("goto");
    }

    /// Runs a script in the page (`return …` gives its value).
    pub fn script(&self, js: &str) -> Value {
        self.rt
            .block_on(self.c().execute(js, vec![]))
            .unwrap_or_else(|e| panic!("script {js}: {e}"))
    }

    /// Waits until `js` (an expression) is truthy in the page, or fails after 20 s.
    pub fn wait_for(&self, what: &str, js: &str) {
        let started = Instant::now();
        let probe = format!("return !!({js});");
        loop {
            if self.script(&probe) == Value::Bool(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited 20 s for {what}; the page says: {}",
                self.text("main")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Navigates by the dashboard's hash route and waits for that view to be drawn.
    pub fn view(&self, hash: &str) {
        let page = hash
            .trim_start_matches("#/")
            .split('/')
            .next()
            .unwrap_or("");
        self.script(&format!(
            "delete document.body.dataset.ready; location.hash = {};",
            json!(hash)
        ));
        self.wait_for(
            &format!("the {page} view"),
            &format!("document.body.dataset.ready === {}", json!(page)),
        );
    }

    pub fn count(&self, css: &str) -> usize {
        self.script(&format!(
            "return document.querySelectorAll({}).length;",
            json!(css)
        ))
        .as_u64()
        .expect("count") as usize
    }

    /// An attribute of every element matching `css`, in document order.
    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let v = self.script(&format!(
            "return [...document.querySelectorAll({})].map(e => e.getAttribute({}));",
            json!(css),
            json!(attr)
        ));
        v.as_array()
            .expect("list")
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn text(&self, css: &str) -> String {
        self.script(&format!(
            "const e = document.querySelector({}); return e ? e.innerText : '';",
            json!(css)
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Types into a field (replacing what it held), as a user would.
    pub fn type_into(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.expect(css);
            e.clear().await.expect("clear");
            e.send_keys(text).await.expect("keys");
        });
    }

    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            let e = self.c().find(Locator::Css(css)).await.expect(css);
            e.click().await.expect("click");
        });
    }

    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.c().set_window_size(width, height))
            .expect("resize");
    }

    /// Saves a PNG of the window under `target/screenshots/NAME.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.rt.block_on(self.c().screenshot()).expect("screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Signs in on the dashboard's form with an API token.
    pub fn sign_in(&self, token: &str) {
        self.open("/");
        self.script("sessionStorage.clear(); localStorage.clear();");
        self.open("/");
        self.wait_for("the sign-in form", "document.getElementById('token')");
        self.type_into("#token", token);
        self.click("form.signin button[type=submit]");
        self.wait_for(
            "the overview after sign-in",
            "document.body.dataset.ready === 'overview'",
        );
    }

    /// Every URL the server's pages asked for since the last call: the
    /// `Network.requestWillBeSent` events of documents loaded from the server (the
    /// browser's own services and its new-tab page are not among them).
    pub fn page_requests(&self) -> Vec<String> {
        let log: Value = reqwest::blocking::Client::new()
            .post(format!(
                "{}/session/{}/se/log",
                self.driver_url, self.session
            ))
            .json(&json!({"type": "performance"}))
            .send()
            .expect("performance log")
            .json()
            .expect("log json");
        log["value"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
            .filter(|m| {
                m["message"]["params"]["documentURL"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&self.base))
            })
            .filter_map(|m| {
                m["message"]["params"]["request"]["url"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Every URL the page loaded or fetched (the Resource Timing entries) and the page's
    /// own origin.
    pub fn resources(&self) -> (String, Vec<String>) {
        let v = self.script(
            "return [location.origin, performance.getEntriesByType('resource').map(e => e.name)];",
        );
        let origin = v[0].as_str().expect("origin").to_owned();
        let urls = v[1]
            .as_array()
            .expect("urls")
            .iter()
            .map(|u| u.as_str().expect("url").to_owned())
            .collect();
        (origin, urls)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
