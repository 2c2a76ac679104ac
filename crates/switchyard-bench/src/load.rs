//! An open-loop HTTP load generator for `switchyard serve`: requests are sent on a fixed schedule
//! (not when the previous one returns), and each latency is measured from its scheduled start, so a
//! stalled server shows up in the tail instead of silently lowering the rate (coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Mutex;

/// What one benchmark run does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub base: String,
    pub scenario: Scenario,
    /// Target iterations per second.
    pub rate: u32,
    pub duration: Duration,
    /// Iterations allowed in flight at once (more are counted as dropped, never queued).
    pub max_in_flight: usize,
    /// Resources registered for the claim scenario (claims rotate over them).
    pub resources: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// POST …/claim then DELETE …/claims/:id on a rotating set of ports (two requests per iteration).
    Claim,
    /// GET /api/coordination/dependencies (one request per iteration).
    Dependencies,
}

/// Latency statistics in microseconds over successful requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// Nearest-rank percentiles of `samples` (sorted in place); `None` when empty.
pub fn percentiles(samples: &mut [u64]) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let rank = |q: f64| {
        let n = samples.len();
        let index = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        samples[index]
    };
    Some(Percentiles {
        count: samples.len(),
        p50: rank(0.50),
        p90: rank(0.90),
        p99: rank(0.99),
        p999: rank(0.999),
        max: samples[samples.len() - 1],
    })
}

/// The schedule: iteration `i` starts `i / rate` seconds after the start.
pub fn scheduled_offset(i: u64, rate: u32) -> Duration {
    Duration::from_nanos(i.saturating_mul(1_000_000_000) / u64::from(rate.max(1)))
}

#[derive(Debug, Default)]
pub struct LoadReport {
    pub iterations: u64,
    pub requests: u64,
    pub errors: u64,
    /// Iterations skipped because `max_in_flight` were still running.
    pub dropped: u64,
    pub elapsed: Duration,
    /// Per-request latency (µs) from the scheduled start of its iteration.
    pub latencies_us: Vec<u64>,
    pub first_error: Option<String>,
}

impl LoadReport {
    pub fn achieved_rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Registers the claim scenario's resources (`port:20000…`).
pub async fn prepare(client: &reqwest::Client, options: &LoadOptions) -> Result<(), String> {
    if options.scenario != Scenario::Claim {
        return Ok(());
    }
    for i in 0..options.resources {
        let response = client
            .post(format!(
                "{}/api/coordination/resources/register",
                options.base
            ))
            .json(&json!({ "type": "port", "identifier": (20000 + i).to_string() }))
            .send()
            .await
            .map_err(|e| format!("register: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("register answered {}", response.status()));
        }
    }
    Ok(())
}

/// One iteration; returns per-request latencies from `scheduled`.
async fn iteration(
    client: &reqwest::Client,
    options: &LoadOptions,
    i: u64,
    scheduled: Instant,
) -> Result<Vec<u64>, String> {
    let micros = || u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX);
    match options.scenario {
        Scenario::Dependencies => {
            let response = client
                .get(format!("{}/api/coordination/dependencies", options.base))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            response.bytes().await.map_err(|e| e.to_string())?;
            let latency = micros();
            if !status.is_success() {
                return Err(format!("dependencies answered {status}"));
            }
            Ok(vec![latency])
        }
        Scenario::Claim => {
            let port = 20000 + (i as usize % options.resources.max(1));
            let claim_url = format!(
                "{}/api/coordination/resources/port:{port}/claim",
                options.base
            );
            let response = client
                .post(claim_url)
                .json(
                    &json!({ "repository": "bench", "operation": { "type": "deploy", "ttl": 60 } }),
                )
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            let claimed = micros();
            if status.as_u16() != 201 {
                return Err(format!("claim answered {status}: {body}"));
            }
            let claim_id = body["claimId"].as_str().unwrap_or_default().to_string();
            let started = Instant::now();
            let response = client
                .delete(format!(
                    "{}/api/coordination/resources/port:{port}/claims/{claim_id}",
                    options.base
                ))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            response.bytes().await.map_err(|e| e.to_string())?;
            let released = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            if !status.is_success() {
                return Err(format!("release answered {status}"));
            }
            Ok(vec![claimed, released])
        }
    }
}

/// Runs the schedule for `options.duration`.
pub async fn run(options: LoadOptions) -> Result<LoadReport, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.max_in_flight)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    prepare(&client, &options).await?;
    let report = Arc::new(Mutex::new(LoadReport::default()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(options.max_in_flight.max(1)));
    let options = Arc::new(options);
    let start = Instant::now();
    let total = u64::from(options.rate) * options.duration.as_secs().max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + scheduled_offset(i, options.rate);
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            report.lock().await.dropped += 1;
            continue;
        };
        let (client, options, report) = (client.clone(), options.clone(), report.clone());
        tasks.spawn(async move {
            let outcome = iteration(&client, &options, i, scheduled).await;
            drop(permit);
            let mut report = report.lock().await;
            report.iterations += 1;
            match outcome {
                Ok(latencies) => {
                    report.requests += latencies.len() as u64;
                    report.latencies_us.extend(latencies);
                }
                Err(e) => {
                    report.errors += 1;
                    report.first_error.get_or_insert(e);
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    let mut report = std::mem::take(&mut *report.lock().await);
    report.elapsed = elapsed;
    Ok(report)
}

/// One signed GitHub `push` for `repository`: the round trip in µs and the server's body.
pub async fn webhook_push(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    repository: &str,
) -> Result<(u64, serde_json::Value), String> {
    use hmac::{Hmac, Mac};
    let body =
        json!({ "ref": "refs/heads/main", "repository": { "name": repository } }).to_string();
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(body.as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/webhooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if !status.is_success() {
        return Err(format!("webhook answered {status}: {answer}"));
    }
    Ok((micros, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u64> = (1..=1000).rev().collect();
        let p = percentiles(&mut samples);
        assert_eq!(
            p,
            Some(Percentiles {
                count: 1000,
                p50: 500,
                p90: 900,
                p99: 990,
                p999: 999,
                max: 1000
            })
        );
        assert_eq!(percentiles(&mut []), None);
        assert_eq!(percentiles(&mut [7]).map(|p| (p.p50, p.p99)), Some((7, 7)));
    }

    #[test]
    fn schedule_is_evenly_spaced() {
        assert_eq!(scheduled_offset(0, 2000), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 2000), Duration::from_micros(500));
        assert_eq!(scheduled_offset(2000, 2000), Duration::from_secs(1));
        assert_eq!(scheduled_offset(3, 0), Duration::from_secs(3));
    }
}
