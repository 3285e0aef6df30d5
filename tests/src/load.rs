//! A write load for fault tests: threads that keep sending keyed writes, as a careful
//! client does. A write answered 503 or lost in transport is sent again with the same
//! Idempotency-Key until it is acknowledged, so that after the run every acknowledged
//! key must be in the database exactly once. Every attempt is recorded with its start
//! time, outcome and latency.

use reqwest::blocking::Client;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Status(u16),
    /// Could not connect: the request never reached the server.
    Refused,
    /// Connected, but no answer came (reset, closed, timed out).
    NoAnswer(String),
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub key: String,
    pub started: Instant,
    pub took: Duration,
    pub ended: Ended,
    /// The answer's body, for 2xx.
    pub body: Option<Value>,
}

/// Which server a thread writes to and what it sends.
pub struct Plan {
    /// Base URLs; thread `t` writes to `bases[t % len]`.
    pub bases: Vec<String>,
    pub token: String,
    pub threads: usize,
    /// Key prefix, so that runs in one database do not collide.
    pub prefix: String,
    /// Resend on 503 and transport errors until acknowledged.
    pub retry: bool,
    /// A fresh connection per request (no keep-alive), so that a transport error
    /// tells a refused connection from an unanswered request.
    pub fresh_connections: bool,
}

pub struct Running {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<Attempt>>>,
}

/// Starts the load; `make(thread, n)` gives the n-th write of a thread (path, body).
pub fn start(
    plan: Plan,
    make: impl Fn(usize, usize) -> (String, Value) + Send + Sync + 'static,
) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let make = Arc::new(make);
    let plan = Arc::new(plan);
    let threads = (0..plan.threads)
        .map(|t| {
            let stop = Arc::clone(&stop);
            let make = Arc::clone(&make);
            let plan = Arc::clone(&plan);
            std::thread::spawn(move || writer(t, &plan, &stop, &*make))
        })
        .collect();
    Running { stop, threads }
}

impl Running {
    /// Stops sending new writes, lets the ones being retried finish, returns every attempt.
    pub fn finish(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::SeqCst);
        self.threads
            .into_iter()
            .flat_map(|t| t.join().expect("load thread"))
            .collect()
    }
}

fn client(plan: &Plan) -> Client {
    let mut b = Client::builder().timeout(Duration::from_secs(30));
    if plan.fresh_connections {
        b = b.pool_max_idle_per_host(0);
    }
    b.build().expect("client")
}

/// How long after the stop a write that keeps failing is still retried.
const GIVE_UP_AFTER_STOP: Duration = Duration::from_secs(60);

fn writer(
    t: usize,
    plan: &Plan,
    stop: &AtomicBool,
    make: &(dyn Fn(usize, usize) -> (String, Value) + Send + Sync),
) -> Vec<Attempt> {
    let http = client(plan);
    let base = &plan.bases[t % plan.bases.len()];
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let key = format!("{}-{t}-{n}", plan.prefix);
        let (path, body) = make(t, n);
        n += 1;
        let mut stopped_at: Option<Instant> = None;
        loop {
            let started = Instant::now();
            let sent = http
                .post(format!("{base}{path}"))
                .bearer_auth(&plan.token)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send();
            let (ended, answer) = match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let answer = if r.status().is_success() {
                        r.json::<Value>().ok()
                    } else {
                        let _ = r.bytes();
                        None
                    };
                    (Ended::Status(status), answer)
                }
                Err(e) if e.is_connect() => (Ended::Refused, None),
                Err(e) => (Ended::NoAnswer(e.to_string()), None),
            };
            let retry = plan.retry
                && matches!(
                    ended,
                    Ended::Status(503) | Ended::Refused | Ended::NoAnswer(_)
                );
            out.push(Attempt {
                key: key.clone(),
                started,
                took: started.elapsed(),
                ended,
                body: answer,
            });
            if !retry {
                break;
            }
            if stop.load(Ordering::SeqCst) {
                let since = *stopped_at.get_or_insert_with(Instant::now);
                if since.elapsed() > GIVE_UP_AFTER_STOP {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    out
}

/// The keys whose last attempt was acknowledged (2xx), with that answer.
pub fn acknowledged(attempts: &[Attempt]) -> std::collections::BTreeMap<String, Value> {
    attempts
        .iter()
        .filter(|a| matches!(a.ended, Ended::Status(200..=299)))
        .map(|a| (a.key.clone(), a.body.clone().unwrap_or(Value::Null)))
        .collect()
}

/// The p-quantile (0..=1) of the latencies of answered attempts.
pub fn latency_quantile(attempts: &[Attempt], p: f64) -> Duration {
    let mut l: Vec<Duration> = attempts
        .iter()
        .filter(|a| matches!(a.ended, Ended::Status(_)))
        .map(|a| a.took)
        .collect();
    l.sort();
    if l.is_empty() {
        return Duration::ZERO;
    }
    let i = ((l.len() as f64 - 1.0) * p).round() as usize;
    l[i]
}
