//! Mutation fuzzing of `switchyard analyze`: real fleets (the examples and the shared corpus)
//! are copied, mutated with a seed ([`mutate`]) and analyzed by the real binary with a time
//! limit. A run fails when the binary panics (exit 101 or "panicked"), hangs (killed at the
//! limit) or prints a marker planted in files outside the fleet (a read outside a repository).
//! Each failing run's tree and seed are kept; `--seed S --runs 1` replays one.

pub mod mutate;

use crate::rng::{Rng, mix};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Written into every file outside the fleet; must never appear in `analyze`'s output.
pub const MARKER: &str = "SWITCHYARD_FUZZ_OUTSIDE_7d41e0";

/// Files copied from a base fleet at most (bigger corpus entries are cut).
const MAX_COPIED_FILES: usize = 400;
const MAX_COPIED_BYTES: u64 = 512 * 1024;

pub struct FuzzOptions {
    pub binary: PathBuf,
    /// Folders whose subfolders are fleets (`examples/fleets`) …
    pub fleet_dirs: Vec<PathBuf>,
    /// … and folders whose subfolders are single repositories (`../shared/corpus`).
    pub repo_dirs: Vec<PathBuf>,
    pub seed: u64,
    pub budget: Duration,
    /// Stop after this many runs (replaying one seed: 1).
    pub max_runs: Option<u64>,
    pub run_timeout: Duration,
    /// Where failing trees are kept.
    pub failures: PathBuf,
    /// Scratch space (one run at a time).
    pub work: PathBuf,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct FuzzReport {
    pub runs: u64,
    pub panics: u64,
    pub hangs: u64,
    pub outside_reads: u64,
    /// Exits other than 0 and 101 (not failures: a mutated fleet may be refused).
    pub other_exits: u64,
    pub bases: usize,
}

impl FuzzReport {
    pub fn failures(&self) -> u64 {
        self.panics + self.hangs + self.outside_reads
    }
}

/// A fleet to start from: a folder of repositories, or one repository.
#[derive(Debug, Clone)]
struct Base {
    path: PathBuf,
    single_repository: bool,
}

enum Outcome {
    Ok,
    OtherExit,
    Panic(String),
    Hang,
    OutsideRead(String),
}

/// Runs seeds `seed, seed+1, …` until the budget or `max_runs` is spent.
pub fn run(options: &FuzzOptions, log: &mut dyn FnMut(&str)) -> io::Result<FuzzReport> {
    let bases = bases(options);
    let mut report = FuzzReport {
        bases: bases.len(),
        ..FuzzReport::default()
    };
    if bases.is_empty() {
        log("fuzz-analyze: no fleets found");
        return Ok(report);
    }
    let started = Instant::now();
    let mut seed = options.seed;
    while started.elapsed() < options.budget && options.max_runs.is_none_or(|m| report.runs < m) {
        let run_dir = options.work.join(format!("run-{seed}"));
        let _ = fs::remove_dir_all(&run_dir);
        let (base, mutations) = match prepare(&bases, seed, &run_dir) {
            Ok(prepared) => prepared,
            Err(e) => {
                // A tree the mutations could not build says nothing about the analysis.
                log(&format!(
                    "seed {seed}: could not prepare the tree: {e}; skipped"
                ));
                let _ = fs::remove_dir_all(&run_dir);
                seed = seed.wrapping_add(1);
                continue;
            }
        };
        let outcome = analyze(options, &run_dir.join("fleet"))?;
        report.runs += 1;
        let failure = match &outcome {
            Outcome::Ok => None,
            Outcome::OtherExit => {
                report.other_exits += 1;
                None
            }
            Outcome::Panic(tail) => {
                report.panics += 1;
                Some(format!("panic\n{tail}"))
            }
            Outcome::Hang => {
                report.hangs += 1;
                Some(format!("hang (killed after {:?})", options.run_timeout))
            }
            Outcome::OutsideRead(line) => {
                report.outside_reads += 1;
                Some(format!("outside read: the marker was printed\n{line}"))
            }
        };
        match failure {
            Some(what) => {
                let kept = options.failures.join(format!("seed-{seed}"));
                let _ = fs::remove_dir_all(&kept);
                fs::create_dir_all(&options.failures)?;
                fs::rename(&run_dir, &kept)?;
                let text = format!(
                    "seed {seed}\nbase {}\nreplay: switchyard-bench fuzz-analyze --seed {seed} --runs 1 --binary {}\nmutations:\n  {}\n{what}\n",
                    base.path.display(),
                    options.binary.display(),
                    mutations.join("\n  ")
                );
                fs::write(kept.join("failure.txt"), &text)?;
                log(&format!(
                    "FAIL seed {seed}: {} (kept in {})",
                    what.lines().next().unwrap_or_default(),
                    kept.display()
                ));
            }
            None => {
                let _ = fs::remove_dir_all(&run_dir);
            }
        }
        seed = seed.wrapping_add(1);
    }
    Ok(report)
}

/// The example fleets and the corpus repositories, sorted (a seed picks by index).
fn bases(options: &FuzzOptions) -> Vec<Base> {
    let mut out = Vec::new();
    for (dirs, single) in [(&options.fleet_dirs, false), (&options.repo_dirs, true)] {
        for dir in dirs {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with(['.', '_']))
                })
                .collect();
            found.sort();
            out.extend(found.into_iter().map(|path| Base {
                path,
                single_repository: single,
            }));
        }
    }
    out
}

/// Copies the seed's base into `run_dir/fleet`, plants the marker files in `run_dir/outside`
/// and applies 1–4 mutations.
fn prepare(bases: &[Base], seed: u64, run_dir: &Path) -> io::Result<(Base, Vec<String>)> {
    let mut rng = Rng::new(mix(seed));
    let base = bases[rng.below(bases.len() as u64) as usize].clone();
    let fleet = run_dir.join("fleet");
    let target = if base.single_repository {
        fleet.join(base.path.file_name().unwrap_or_default())
    } else {
        fleet.clone()
    };
    let mut budget = (MAX_COPIED_FILES, MAX_COPIED_BYTES * 8);
    copy_tree(&base.path, &target, &mut budget)?;
    let outside = run_dir.join("outside");
    fs::create_dir_all(&outside)?;
    fs::write(
        outside.join("secret.env"),
        format!("API_URL=http://{MARKER}:8080\nTOKEN={MARKER}\n"),
    )?;
    fs::write(
        outside.join("compose.yml"),
        format!("services:\n  {MARKER}:\n    image: {MARKER}\n    ports: [\"1:1\"]\n"),
    )?;
    fs::write(
        outside.join("config.json"),
        format!("{{\"url\": \"http://{MARKER}:1/\"}}\n"),
    )?;
    let mut mutations = Vec::new();
    for _ in 0..rng.range(1, 4) {
        mutations.push(mutate::apply(&mut rng, &fleet, &outside)?);
    }
    Ok((base, mutations))
}

/// Copies regular files and folders (not links, not `.git`), within `budget` (files, bytes).
fn copy_tree(from: &Path, to: &Path, budget: &mut (usize, u64)) -> io::Result<()> {
    fs::create_dir_all(to)?;
    let mut entries: Vec<_> = fs::read_dir(from)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" || name == "node_modules" || name == ".switchyard" {
            continue;
        }
        let meta = fs::symlink_metadata(entry.path())?;
        if meta.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), budget)?;
        } else if meta.is_file() && meta.len() <= MAX_COPIED_BYTES {
            if budget.0 == 0 || budget.1 < meta.len() {
                return Ok(());
            }
            budget.0 -= 1;
            budget.1 -= meta.len();
            fs::copy(entry.path(), to.join(&name))?;
        } else if meta.is_symlink()
            && let Ok(target) = fs::read_link(entry.path())
        {
            symlink(target, to.join(&name))?;
        }
    }
    Ok(())
}

/// Runs `analyze --format json --no-cache --fleet FLEET` under the time limit.
fn analyze(options: &FuzzOptions, fleet: &Path) -> io::Result<Outcome> {
    let mut child = Command::new(&options.binary)
        .args(["analyze", "--format", "json", "--no-cache", "--fleet"])
        .arg(fleet)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drained on threads: a full pipe would otherwise stall the child and look like a hang.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > options.run_timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        return Ok(Outcome::Hang);
    };
    let stderr = String::from_utf8_lossy(&stderr);
    for text in [String::from_utf8_lossy(&stdout), stderr.clone()] {
        if let Some(line) = text.lines().find(|l| l.contains(MARKER)) {
            return Ok(Outcome::OutsideRead(line.chars().take(400).collect()));
        }
    }
    let tail: String = stderr
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Ok(match status.code() {
        Some(0) if !stderr.contains("panicked") => Outcome::Ok,
        Some(101) => Outcome::Panic(tail),
        _ if stderr.contains("panicked") => Outcome::Panic(tail),
        // Killed by a signal (stack overflow aborts with SIGABRT/SIGSEGV): a crash.
        None => Outcome::Panic(format!("killed by a signal\n{tail}")),
        Some(_) => Outcome::OtherExit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_mutations() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleets");
        let options = FuzzOptions {
            binary: PathBuf::from("switchyard"),
            fleet_dirs: vec![examples],
            repo_dirs: Vec::new(),
            seed: 7,
            budget: Duration::ZERO,
            max_runs: Some(0),
            run_timeout: Duration::ZERO,
            failures: PathBuf::new(),
            work: PathBuf::new(),
        };
        let bases = bases(&options);
        assert!(bases.len() >= 5, "{bases:?}");
        let dir = tempfile::tempdir().unwrap();
        for seed in 0..20 {
            let (a_base, a) = prepare(&bases, seed, &dir.path().join(format!("a{seed}"))).unwrap();
            let (b_base, b) = prepare(&bases, seed, &dir.path().join(format!("b{seed}"))).unwrap();
            assert_eq!(a_base.path, b_base.path);
            // Absolute link targets name the run's folder; the rest is identical.
            let strip = |v: Vec<String>, run: &str| -> Vec<String> {
                v.into_iter()
                    .map(|m| m.replace(&dir.path().join(run).display().to_string(), "RUN"))
                    .collect()
            };
            assert_eq!(strip(a, &format!("a{seed}")), strip(b, &format!("b{seed}")));
            let secret = dir.path().join(format!("a{seed}/outside/secret.env"));
            assert!(fs::read_to_string(secret).unwrap().contains(MARKER));
        }
    }
}
