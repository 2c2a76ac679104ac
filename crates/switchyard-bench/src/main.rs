//! `switchyard-bench`: writes synthetic fleets (`gen`) and checks them (`check`).
//! The timing itself is done by `scripts/bench.sh` around the real `switchyard` binary.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_bench::generate::{generate, is_current};
use switchyard_bench::load::{self, LoadOptions, Scenario};
use switchyard_bench::plan::Options;
use switchyard_bench::scan::scan;
use switchyard_bench::stages::Edit;

#[derive(Parser)]
#[command(
    name = "switchyard-bench",
    version,
    about = "Synthetic fleets for benchmarking Switchyard"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic fleet: DIR/switchyard.toml and DIR/repo-00000 … DIR/repo-NNNNN.
    Gen {
        /// Number of repositories.
        #[arg(long)]
        repos: usize,
        /// Output directory (created; must be empty unless --force).
        #[arg(long)]
        out: PathBuf,
        /// Seed: the same seed and options always give byte-identical fleets.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Services in each repository's docker-compose.yml.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=64))]
        services_per_repo: u16,
        /// Add one back-reference that makes a cross-repository cycle.
        #[arg(long)]
        cycle: bool,
        /// Replace OUT if it holds a fleet generated earlier.
        #[arg(long)]
        force: bool,
        /// Keep OUT as is when it already holds this exact fleet (same options and seed);
        /// otherwise replace it like --force.
        #[arg(long)]
        reuse: bool,
    },
    /// Read a generated fleet back and report its references, duplicate ports and cycles.
    Check {
        /// Fleet directory (holding switchyard.toml).
        dir: PathBuf,
    },
    /// Open-loop HTTP load against a running `switchyard serve` (loopback only); prints
    /// latency percentiles from each request's scheduled start.
    Load {
        /// Base URL of the server.
        #[arg(long, default_value = "http://127.0.0.1:7700")]
        url: String,
        #[arg(long, value_enum, default_value_t = Scenario::Claim)]
        scenario: Scenario,
        /// Iterations per second (the claim scenario makes two requests per iteration).
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        /// Seconds to run.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
        /// Iterations in flight at most; beyond it an iteration is counted as dropped.
        #[arg(long, default_value_t = 256)]
        max_in_flight: usize,
        /// Ports registered for the claim scenario.
        #[arg(long, default_value_t = 1000)]
        resources: usize,
    },
    /// Time the server's analysis in process: a full analysis, re-analyses of one repository
    /// (unchanged and, with --edit, after an edit), and each conflict detector alone.
    Stages {
        /// Fleet directory (holding switchyard.toml).
        dir: PathBuf,
        /// Repository to re-analyse.
        #[arg(long)]
        repository: String,
        /// A file of that repository to edit before every edited run (restored afterwards).
        #[arg(long)]
        edit: Option<PathBuf>,
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
    },
    /// Signed GitHub push webhooks for one repository: round trip and the server's re-analysis time.
    Webhook {
        #[arg(long, default_value = "http://127.0.0.1:7700")]
        url: String,
        /// The server's webhook secret.
        #[arg(long, env = "SWITCHYARD_WEBHOOK_SECRET")]
        secret: String,
        /// Repository named in the push.
        #[arg(long)]
        repository: String,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
        /// A file of that repository (e.g. FLEET/repo-05000/.env) to change before every push:
        /// `SWITCHYARD_BENCH_EDIT=<n>` is appended (the file is created when missing), so each
        /// push carries a real change of facts. Restored afterwards. Without it the pushes
        /// change nothing on disk.
        #[arg(long)]
        edit: Option<PathBuf>,
    },
    /// Mutation fuzzing of `switchyard analyze` on copies of real fleets: counts panics, hangs
    /// and reads outside a repository; keeps each failing seed's tree. Exit 1 on any failure.
    FuzzAnalyze {
        /// The `switchyard` binary to run.
        #[arg(long, default_value = "target/release/switchyard")]
        binary: PathBuf,
        /// Folders whose subfolders are fleets.
        #[arg(long = "fleets", default_value = "examples/fleets")]
        fleet_dirs: Vec<PathBuf>,
        /// Folders whose subfolders are single repositories (skipped when absent).
        #[arg(long = "repositories", default_value = "../shared/corpus")]
        repo_dirs: Vec<PathBuf>,
        /// First seed; run N uses seed + N.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time budget in seconds.
        #[arg(long, default_value_t = 120)]
        seconds: u64,
        /// Stop after this many runs (`--seed S --runs 1` replays one failure).
        #[arg(long)]
        runs: Option<u64>,
        /// Seconds one `analyze` may take before it counts as a hang.
        #[arg(long, default_value_t = 20)]
        run_timeout: u64,
        /// Where failing seeds and their trees are kept.
        #[arg(long, default_value = "target/fuzz-failures")]
        failures: PathBuf,
    },
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("switchyard-bench: cannot start the async runtime: {e}");
            None
        }
    }
}

fn load(options: LoadOptions) -> ExitCode {
    let Some(rt) = runtime() else {
        return ExitCode::FAILURE;
    };
    let (scenario, rate) = (options.scenario, options.rate);
    match rt.block_on(load::run(options)) {
        Ok(mut report) => {
            let rate_done = report.achieved_rate();
            println!(
                "{scenario:?}: {} iterations, {} requests in {:.2}s ({rate_done:.0} req/s; target {rate} it/s), {} errors, {} dropped",
                report.iterations,
                report.requests,
                report.elapsed.as_secs_f64(),
                report.errors,
                report.dropped
            );
            if let Some(p) = load::percentiles(&mut report.latencies_us) {
                println!(
                    "latency µs: p50 {} p90 {} p99 {} p99.9 {} max {} (n={})",
                    p.p50, p.p90, p.p99, p.p999, p.max, p.count
                );
            }
            if let Some(e) = report.first_error {
                println!("first error: {e}");
            }
            if report.errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("switchyard-bench load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn webhook(
    url: &str,
    secret: &str,
    repository: &str,
    repeat: u32,
    edit: Option<&std::path::Path>,
) -> ExitCode {
    let Some(rt) = runtime() else {
        return ExitCode::FAILURE;
    };
    let edit = match edit.map(Edit::open).transpose() {
        Ok(edit) => edit,
        Err(e) => {
            eprintln!("switchyard-bench webhook: --edit: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = pushes(&rt, url, secret, repository, repeat, edit.as_ref());
    if let Some(edit) = edit
        && let Err(e) = edit.restore()
    {
        eprintln!("switchyard-bench webhook: restoring the edited file: {e}");
        return ExitCode::FAILURE;
    }
    code
}

fn pushes(
    rt: &tokio::runtime::Runtime,
    url: &str,
    secret: &str,
    repository: &str,
    repeat: u32,
    edit: Option<&Edit>,
) -> ExitCode {
    let client = reqwest::Client::new();
    let mut round_trips = Vec::new();
    let mut server_ms = Vec::new();
    let mut stages = serde_json::Value::Null;
    for n in 0..repeat {
        if let Some(edit) = edit
            && let Err(e) = edit.apply(n as usize)
        {
            eprintln!("switchyard-bench webhook: --edit: {e}");
            return ExitCode::FAILURE;
        }
        match rt.block_on(load::webhook_push(&client, url, secret, repository)) {
            Ok((micros, body)) => {
                round_trips.push(micros);
                let summary = &body["summary"];
                if let Some(ms) = summary["durationMs"].as_f64() {
                    server_ms.push((ms * 1000.0) as u64);
                }
                stages = summary["stages"].clone();
            }
            Err(e) => {
                eprintln!("switchyard-bench webhook: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let show = |label: &str, samples: &mut Vec<u64>| {
        if let Some(p) = load::percentiles(samples) {
            println!(
                "{label} ms: p50 {:.1} p90 {:.1} max {:.1} (n={})",
                p.p50 as f64 / 1000.0,
                p.p90 as f64 / 1000.0,
                p.max as f64 / 1000.0,
                p.count
            );
        }
    };
    show("webhook round trip", &mut round_trips);
    show("server re-analysis", &mut server_ms);
    if !stages.is_null() {
        println!("last re-analysis by stage (ms): {stages}");
    }
    ExitCode::SUCCESS
}

fn stages(
    dir: &std::path::Path,
    repository: &str,
    edit: Option<&std::path::Path>,
    repeat: usize,
) -> ExitCode {
    let fleet = match switchyard_extract::fleet::discover(dir) {
        Ok(fleet) => fleet,
        Err(e) => {
            eprintln!("switchyard-bench stages: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !fleet.repositories.iter().any(|r| r.name == repository) {
        eprintln!(
            "switchyard-bench stages: no repository {repository} in {}",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let source = switchyard_server::analysis::FleetSource::new(fleet, None);
    let report = match switchyard_bench::stages::measure(&source, repository, edit, repeat) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("switchyard-bench stages: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} repositories, {} services, {} edges, {} conflicts (medians of {repeat} runs)",
        report.repositories, report.services, report.edges, report.conflicts
    );
    println!(
        "full analysis            {:>9.1} ms",
        report.full_analysis_ms
    );
    println!("re-read, nothing changed {:>9.1} ms", report.unchanged_ms);
    if let (Some(ms), Some(s)) = (report.edited_ms, report.edited_stages) {
        println!(
            "re-analysis after edit   {ms:>9.1} ms (extract {:.1}, link {:.1}, detect {:.1}, compare {:.1})",
            s.extract_ms, s.link_ms, s.detect_ms, s.compare_ms
        );
    }
    println!("detector index           {:>9.1} ms", report.index_ms);
    for (kind, ms) in &report.detectors_ms {
        println!("  {kind:<22} {ms:>9.1} ms");
    }
    ExitCode::SUCCESS
}

fn fuzz_analyze(options: switchyard_bench::fuzz::FuzzOptions) -> ExitCode {
    for dir in options.repo_dirs.iter().chain(&options.fleet_dirs) {
        if !dir.is_dir() {
            println!("fuzz-analyze: {} not found: skipped", dir.display());
        }
    }
    let report = match switchyard_bench::fuzz::run(&options, &mut |line| println!("{line}")) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("switchyard-bench: fuzz-analyze: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = std::fs::remove_dir_all(&options.work);
    println!(
        "fuzz-analyze: {} runs over {} base fleets: {} panics, {} hangs, {} outside reads ({} other exits)",
        report.runs,
        report.bases,
        report.panics,
        report.hangs,
        report.outside_reads,
        report.other_exits
    );
    if report.failures() > 0 {
        println!(
            "failing seeds and their trees: {}",
            options.failures.display()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::FuzzAnalyze {
            binary,
            fleet_dirs,
            repo_dirs,
            seed,
            seconds,
            runs,
            run_timeout,
            failures,
        } => {
            let work = failures
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join(format!("fuzz-work-{}", std::process::id()));
            fuzz_analyze(switchyard_bench::fuzz::FuzzOptions {
                binary,
                fleet_dirs,
                repo_dirs,
                seed,
                budget: std::time::Duration::from_secs(seconds),
                max_runs: runs,
                run_timeout: std::time::Duration::from_secs(run_timeout),
                failures,
                work,
            })
        }
        Command::Gen {
            repos,
            out,
            seed,
            services_per_repo,
            cycle,
            force,
            reuse,
        } => {
            let options = Options {
                repos,
                seed,
                services_per_repo: usize::from(services_per_repo),
                cycle,
            };
            if reuse && is_current(&options, &out) {
                println!(
                    "reusing {}: {repos} repos, seed {seed} already generated",
                    out.display()
                );
                return ExitCode::SUCCESS;
            }
            let started = Instant::now();
            match generate(&options, &out, force || reuse) {
                Ok(summary) => {
                    let cycle = summary
                        .cycle
                        .map(|(from, to)| format!(", cycle {from} -> {to}"))
                        .unwrap_or_default();
                    println!(
                        "generated {} repos, {} files, {} bytes ({:.1} MiB) in {} in {:.2}s (seed {seed}{cycle})",
                        summary.repos,
                        summary.files,
                        summary.bytes,
                        summary.bytes as f64 / (1024.0 * 1024.0),
                        out.display(),
                        started.elapsed().as_secs_f64(),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("switchyard-bench gen: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Load {
            url,
            scenario,
            rate,
            seconds,
            max_in_flight,
            resources,
        } => load(LoadOptions {
            base: url.trim_end_matches('/').to_string(),
            scenario,
            rate,
            duration: std::time::Duration::from_secs(seconds),
            max_in_flight,
            resources,
        }),
        Command::Webhook {
            url,
            secret,
            repository,
            repeat,
            edit,
        } => webhook(
            url.trim_end_matches('/'),
            &secret,
            &repository,
            repeat,
            edit.as_deref(),
        ),
        Command::Stages {
            dir,
            repository,
            edit,
            repeat,
        } => stages(&dir, &repository, edit.as_deref(), repeat as usize),
        Command::Check { dir } => match scan(&dir) {
            Ok(fleet) => {
                let edges = fleet.edges();
                let mut indegree = vec![0usize; fleet.repos.len()];
                for &(_, to) in &edges {
                    indegree[to] += 1;
                }
                let hub = indegree
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, d)| (**d, usize::MAX - i));
                let name = |i: usize| fleet.repos.get(i).cloned().unwrap_or_default();
                println!(
                    "{} repos, {} files, {} repo edges, {} duplicated host ports, tree hash {:016x}",
                    fleet.repos.len(),
                    fleet.files,
                    edges.len(),
                    fleet.duplicate_ports().len(),
                    fleet.tree_hash
                );
                if let Some((i, d)) = hub {
                    println!("most referenced: {} ({d} repos)", name(i));
                }
                match fleet.find_cycle() {
                    Some(cycle) => {
                        let path: Vec<String> = cycle.into_iter().map(name).collect();
                        println!("cycle: {}", path.join(" -> "));
                    }
                    None => println!("repository graph is acyclic"),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("switchyard-bench check: {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        },
    }
}
