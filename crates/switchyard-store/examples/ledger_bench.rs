//! Claim+release throughput of the ledger: SQLite on a temporary database, and PostgreSQL
//! (`--pg URL`, a fresh schema per run) through one or two stores, i.e. replicas, each with its
//! own connection pool, the workers spread over them.
//!
//! `cargo run --release -p switchyard-store --example ledger_bench -- [--seconds S] [--repeat N]
//!  [--workers 1,8,64] [--batch 1,256] [--sync always,grants,relaxed] [--engine batched,per-call]
//!  [--dir PATH] [--pg postgres://… [--replicas 1,2] [--pg-only]]`
//!
//! Each worker loops `claim` (exclusive, its own resource) then `release`; both count as one op.
//! Every combination of engine, durability and max batch is measured; with `--repeat N` a row
//! is the run with the median throughput of N (on a shared machine single runs are noisy).
//! The disk's own fsync latency is measured first: it is the floor under every FULL commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_store::{
    Durability, Engine, Operation, PgOptions, PgStore, Registration, ResourceType, SqliteOptions,
    SqliteStore, Store, Timestamp,
};

struct Args {
    seconds: f64,
    repeat: usize,
    workers: Vec<usize>,
    batches: Vec<usize>,
    syncs: Vec<String>,
    engines: Vec<String>,
    dir: Option<PathBuf>,
    pg: Option<String>,
    replicas: Vec<usize>,
    pg_only: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        seconds: 2.0,
        repeat: 1,
        workers: vec![1, 8, 64],
        batches: vec![1, 256],
        syncs: vec!["always".into(), "grants".into(), "relaxed".into()],
        engines: vec!["batched".into(), "per-call".into()],
        dir: None,
        pg: None,
        replicas: vec![1, 2],
        pg_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--pg-only" {
            args.pg_only = true;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--seconds" => args.seconds = value.parse().unwrap_or(args.seconds),
            "--repeat" => args.repeat = value.parse().unwrap_or(1).max(1),
            "--workers" => {
                args.workers = value.split(',').filter_map(|w| w.parse().ok()).collect();
            }
            "--batch" => {
                args.batches = value.split(',').filter_map(|w| w.parse().ok()).collect();
            }
            "--engine" => args.engines = value.split(',').map(str::to_string).collect(),
            "--sync" => args.syncs = value.split(',').map(str::to_string).collect(),
            "--dir" => args.dir = Some(PathBuf::from(value)),
            "--pg" => args.pg = Some(value),
            "--replicas" => {
                args.replicas = value.split(',').filter_map(|w| w.parse().ok()).collect();
            }
            other => eprintln!("ignoring unknown argument {other}"),
        }
    }
    args
}

struct Outcome {
    ops: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

async fn run(options: SqliteOptions, workers: usize, seconds: f64) -> Outcome {
    let store = Arc::new(SqliteStore::open(options).await.expect("open"));
    let stores: Vec<Arc<dyn Store>> = vec![store.clone()];
    let outcome = run_on(&stores, workers, seconds).await;
    drop(stores);
    match Arc::try_unwrap(store) {
        Ok(store) => store.close().await,
        Err(_) => unreachable!("workers finished"),
    }
    outcome
}

/// PostgreSQL: `replicas` stores on one fresh schema, as that many coordinators would be.
async fn run_pg(url: &str, replicas: usize, workers: usize, seconds: f64) -> Outcome {
    let schema = format!(
        "bench_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..replicas.max(1) {
        let options = PgOptions::from_url(url)
            .expect("PostgreSQL URL")
            .schema(schema.clone());
        stores.push(Arc::new(PgStore::open(options).await.expect("open")));
    }
    run_on(&stores, workers, seconds).await
}

async fn run_on(stores: &[Arc<dyn Store>], workers: usize, seconds: f64) -> Outcome {
    let store = stores[0].clone();
    let now = Timestamp::now_utc();
    for w in 0..workers {
        let registration = Registration::new(ResourceType::Port, (10_000 + w).to_string());
        store.register(&registration, now).await.expect("register");
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for w in 0..workers {
        let store = stores[w % stores.len()].clone();
        handles.push(tokio::spawn(async move {
            let id = format!("port:{}", 10_000 + w);
            let repository = format!("worker-{w}");
            let op = Operation::new("deploy").exclusive().ttl(60);
            let mut ops = 0u64;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let claim = store
                    .claim(&id, &repository, &op, Timestamp::now_utc())
                    .await
                    .expect("claim");
                let t2 = Instant::now();
                store
                    .release(&id, &claim.claim_id, Timestamp::now_utc())
                    .await
                    .expect("release");
                latencies.push(u32::try_from((t2 - t).as_micros()).unwrap_or(u32::MAX));
                latencies.push(u32::try_from(t2.elapsed().as_micros()).unwrap_or(u32::MAX));
                ops += 2;
            }
            (ops, latencies)
        }));
    }
    let mut total = 0;
    let mut latencies_us = Vec::new();
    for handle in handles {
        let (ops, latencies) = handle.await.expect("worker");
        total += ops;
        latencies_us.extend(latencies);
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    Outcome {
        ops: total,
        elapsed,
        latencies_us,
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Median latency of a 4 KiB write + fdatasync in `dir`.
fn fsync_probe(dir: &std::path::Path) -> Duration {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let Ok(mut file) = std::fs::File::create(&path) else {
        return Duration::ZERO;
    };
    let block = [0u8; 4096];
    let mut samples: Vec<Duration> = (0..100)
        .filter_map(|_| {
            let start = Instant::now();
            file.write_all(&block).ok()?;
            file.sync_data().ok()?;
            Some(start.elapsed())
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn temp_dir(args: &Args) -> tempfile::TempDir {
    match &args.dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("temp dir")
}

/// CPU time (user + system) this process has used, from /proc (clock ticks of 10 ms).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = parse_args();
    let parallelism = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("cpu: {} × {parallelism}", cpu_model());
    println!(
        "fsync (4 KiB write + fdatasync, median of 100): {} µs",
        fsync_probe(temp_dir(&args).path()).as_micros()
    );
    println!(
        "each run: {} s; ops/s, latencies and CPU of the median of {} runs; one op = one claim or one release (exclusive, TTL 60 s, \
         own resource per worker)",
        args.seconds, args.repeat
    );
    println!(
        "{:<9} {:<9} {:>9} {:>8} {:>10} {:>10} {:>9} {:>9} {:>10}",
        "engine",
        "sync",
        "max_batch",
        "workers",
        "ops/s",
        "best ops/s",
        "p50 µs",
        "p99 µs",
        "cpu µs/op"
    );
    let engines = [("batched", Engine::Batched), ("per-call", Engine::PerCall)];
    let durabilities = [
        ("always", Durability::Always),
        ("grants", Durability::Grants),
        ("relaxed", Durability::Relaxed),
    ];
    let mut configs = Vec::new();
    for (engine_name, engine) in engines {
        for (sync_name, durability) in durabilities {
            for &max_batch in &args.batches {
                for &workers in &args.workers {
                    let wanted = args.engines.iter().any(|e| e == engine_name)
                        && args.syncs.iter().any(|s| s == sync_name);
                    if wanted {
                        configs.push((
                            engine_name,
                            engine,
                            sync_name,
                            durability,
                            max_batch,
                            workers,
                        ));
                    }
                }
            }
        }
    }
    if args.pg_only {
        configs.clear();
    }
    for (engine_name, engine, sync_name, durability, max_batch, workers) in configs {
        let mut runs = Vec::new();
        for _ in 0..args.repeat {
            let dir = temp_dir(&args);
            let options = SqliteOptions::new(dir.path().join("bench.db"))
                .durability(durability)
                .engine(engine)
                .max_batch(max_batch);
            let cpu_before = process_cpu();
            let outcome = run(options, workers, args.seconds).await;
            let cpu = process_cpu().saturating_sub(cpu_before);
            let rate = outcome.ops as f64 / outcome.elapsed.as_secs_f64();
            runs.push((rate, outcome, cpu));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let best = runs.last().map_or(0.0, |r| r.0);
        let (rate, outcome, cpu) = runs.swap_remove(runs.len() / 2);
        println!(
            "{engine_name:<9} {sync_name:<9} {max_batch:>9} {workers:>8} {rate:>10.0} {best:>10.0} {:>9} {:>9} {:>10.1}",
            percentile(&outcome.latencies_us, 0.50),
            percentile(&outcome.latencies_us, 0.99),
            cpu.as_secs_f64() * 1e6 / outcome.ops.max(1) as f64,
        );
    }
    if let Some(url) = &args.pg {
        println!(
            "PostgreSQL (database clock, pool of 16 per replica, synchronous_commit as the server has it)"
        );
        println!(
            "{:<9} {:>8} {:>10} {:>10} {:>9} {:>9}",
            "replicas", "workers", "ops/s", "best ops/s", "p50 µs", "p99 µs"
        );
        for &replicas in &args.replicas {
            for &workers in &args.workers {
                let mut runs = Vec::new();
                for _ in 0..args.repeat {
                    let outcome = run_pg(url, replicas, workers, args.seconds).await;
                    let rate = outcome.ops as f64 / outcome.elapsed.as_secs_f64();
                    runs.push((rate, outcome));
                }
                runs.sort_by(|a, b| a.0.total_cmp(&b.0));
                let best = runs.last().map_or(0.0, |r| r.0);
                let (rate, outcome) = runs.swap_remove(runs.len() / 2);
                println!(
                    "{replicas:<9} {workers:>8} {rate:>10.0} {best:>10.0} {:>9} {:>9}",
                    percentile(&outcome.latencies_us, 0.50),
                    percentile(&outcome.latencies_us, 0.99),
                );
            }
        }
    }
}
