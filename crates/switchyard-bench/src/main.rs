//! `switchyard-bench`: writes synthetic fleets (`gen`) and checks them (`check`).
//! The timing itself is done by `scripts/bench.sh` around the real `switchyard` binary.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use switchyard_bench::generate::{generate, is_current};
use switchyard_bench::plan::Options;
use switchyard_bench::scan::scan;

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
}

fn main() -> ExitCode {
    match Cli::parse().command {
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
