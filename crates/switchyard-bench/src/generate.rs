//! Writes a planned fleet to disk: `switchyard.toml`, one directory per repository, and a marker
//! file recording the options so scripts can tell whether an existing fleet can be reused.

use crate::plan::{FleetPlan, Options, RepoPlan, plan};
use crate::render::{render_repo, subdirs};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Name of the marker file written last into the output directory.
pub const MARKER: &str = ".switchyard-bench";

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub repos: usize,
    pub files: u64,
    pub bytes: u64,
    /// `(from, to)` repositories of the `--cycle` back-reference.
    pub cycle: Option<(String, String)>,
}

#[derive(Debug)]
pub enum GenError {
    /// The output directory has content that this generator did not write.
    NotEmpty(PathBuf),
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::NotEmpty(path) => write!(
                f,
                "{} is not empty; use --force to replace a fleet generated earlier \
                 (only directories holding a {MARKER} marker are replaced)",
                path.display()
            ),
            GenError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for GenError {}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The marker text: the options that determine the output, one `key=value` a line.
pub fn marker_text(options: &Options) -> String {
    format!(
        "generator=switchyard-bench/1\nrepos={}\nseed={}\nservices_per_repo={}\ncycle={}\n",
        options.repos, options.seed, options.services_per_repo, options.cycle
    )
}

/// Whether `out` already holds a complete fleet generated with exactly `options`.
pub fn is_current(options: &Options, out: &Path) -> bool {
    fs::read_to_string(out.join(MARKER)).is_ok_and(|text| text == marker_text(options))
}

/// Generates the fleet of `options` into `out`. With `force`, a directory previously written by
/// this generator is removed first; any other non-empty directory is refused.
pub fn generate(options: &Options, out: &Path, force: bool) -> Result<Summary, GenError> {
    prepare_dir(out, force)?;
    let fleet = plan(options);
    let mut files = 0u64;
    let mut bytes = 0u64;
    let toml = fleet_toml(&fleet);
    write_file(&out.join("switchyard.toml"), &toml, &mut files, &mut bytes)?;

    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = fleet.repos.len().div_ceil(threads).max(1);
    let results: Vec<Result<(u64, u64), GenError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = fleet
            .repos
            .chunks(chunk)
            .map(|repos| scope.spawn(move || write_repos(out, repos)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(GenError::Io {
                        path: out.to_path_buf(),
                        source: io::Error::other("writer thread panicked"),
                    })
                })
            })
            .collect()
    });
    for result in results {
        let (f, b) = result?;
        files += f;
        bytes += b;
    }
    // Written last: a fleet with a marker is complete.
    write_file(
        &out.join(MARKER),
        &marker_text(options),
        &mut files,
        &mut bytes,
    )?;
    let name = |i: usize| {
        fleet
            .repos
            .get(i)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    Ok(Summary {
        repos: fleet.repos.len(),
        files,
        bytes,
        cycle: fleet.cycle.map(|(from, to)| (name(from), name(to))),
    })
}

fn prepare_dir(out: &Path, force: bool) -> Result<(), GenError> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                if force && out.join(MARKER).is_file() {
                    fs::remove_dir_all(out).map_err(io_at(out))?;
                } else {
                    return Err(GenError::NotEmpty(out.to_path_buf()));
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_at(out)(e)),
    }
    fs::create_dir_all(out).map_err(io_at(out))
}

/// `switchyard.toml` listing every repository by a path relative to the file.
pub fn fleet_toml(fleet: &FleetPlan) -> String {
    let mut text = String::with_capacity(64 + fleet.repos.len() * 56);
    text.push_str(&format!(
        "# Synthetic fleet: {} repositories, seed {} (switchyard-bench gen)\n",
        fleet.repos.len(),
        fleet.options.seed
    ));
    for repo in &fleet.repos {
        text.push_str("\n[[repository]]\nname = \"");
        text.push_str(&repo.name);
        text.push_str("\"\npath = \"");
        text.push_str(&repo.name);
        text.push_str("\"\n");
    }
    text
}

fn write_repos(out: &Path, repos: &[RepoPlan]) -> Result<(u64, u64), GenError> {
    let (mut files, mut bytes) = (0, 0);
    for repo in repos {
        let dir = out.join(&repo.name);
        fs::create_dir(&dir).map_err(io_at(&dir))?;
        let rendered = render_repo(repo);
        for sub in subdirs(&rendered) {
            let path = dir.join(sub);
            fs::create_dir(&path).map_err(io_at(&path))?;
        }
        for (rel, text) in &rendered {
            write_file(&dir.join(rel), text, &mut files, &mut bytes)?;
        }
    }
    Ok((files, bytes))
}

/// Each file is rendered completely in memory first, so one `write` per file is all the
/// buffering needed.
fn write_file(path: &Path, text: &str, files: &mut u64, bytes: &mut u64) -> Result<(), GenError> {
    fs::write(path, text).map_err(io_at(path))?;
    *files += 1;
    *bytes += text.len() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{RawRef, scan};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("switchyard-bench-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn options(repos: usize, seed: u64, cycle: bool) -> Options {
        Options {
            repos,
            seed,
            services_per_repo: 5,
            cycle,
        }
    }

    #[test]
    fn same_seed_gives_the_same_tree_and_another_seed_does_not() {
        let (a, b, c) = (TempDir::new("a"), TempDir::new("b"), TempDir::new("c"));
        let sa = generate(&options(150, 7, false), &a.0, false).unwrap();
        let sb = generate(&options(150, 7, false), &b.0, false).unwrap();
        generate(&options(150, 8, false), &c.0, false).unwrap();
        let (ha, hb, hc) = (
            scan(&a.0).unwrap(),
            scan(&b.0).unwrap(),
            scan(&c.0).unwrap(),
        );
        assert_eq!(ha.tree_hash, hb.tree_hash);
        assert_ne!(ha.tree_hash, hc.tree_hash);
        assert_eq!(sa, sb);
        assert_eq!(ha.files, sa.files);
        assert_eq!(ha.repos.len(), 150);
        assert_eq!(ha.repos[149], "repo-00149");
        assert!(sa.files >= 150 * 2 + 2, "{sa:?}");
    }

    #[test]
    fn references_parsed_back_form_a_dag_with_hubs() {
        let dir = TempDir::new("dag");
        generate(&options(600, 3, false), &dir.0, false).unwrap();
        let fleet = scan(&dir.0).unwrap();
        assert_eq!(fleet.find_cycle(), None);
        let edges = fleet.edges();
        assert!(
            edges.iter().all(|&(from, to)| to < from),
            "edge to a later repository"
        );
        // Every repository but the first calls at least one other, by port and by domain.
        for from in 1..600 {
            assert!(
                edges.iter().any(|&(f, _)| f == from),
                "repo {from} has no reference"
            );
            let n = fleet.raw_refs[from]
                .iter()
                .filter(|r| {
                    let owners = match r {
                        RawRef::Port(p) => fleet.published.get(p),
                        RawRef::Domain(d) => fleet.domains.get(d),
                    };
                    owners.is_some_and(|o| o.iter().any(|&o| o != from))
                })
                .count();
            assert!(
                (2..=4).contains(&n),
                "repo {from} has {n} cross-repository references"
            );
        }
        assert!(
            fleet
                .raw_refs
                .iter()
                .flatten()
                .any(|r| matches!(r, RawRef::Domain(_)))
        );
        // Long tail: the busiest repository is referenced far more often than the median one.
        let mut indegree = vec![0usize; 600];
        for &(_, to) in &edges {
            indegree[to] += 1;
        }
        let max = *indegree.iter().max().unwrap();
        indegree.sort_unstable();
        assert!(
            max >= 40 && indegree[300] <= 2,
            "max {max}, median {}",
            indegree[300]
        );
    }

    #[test]
    fn cycle_option_makes_exactly_one_cycle_through_the_back_reference() {
        let dir = TempDir::new("cycle");
        let summary = generate(&options(200, 3, true), &dir.0, false).unwrap();
        let (from, to) = summary.cycle.clone().unwrap();
        let fleet = scan(&dir.0).unwrap();
        let cycle = fleet.find_cycle().expect("a cycle");
        let names: Vec<&str> = cycle.iter().map(|&i| fleet.repos[i].as_str()).collect();
        assert!(
            names.contains(&from.as_str()) && names.contains(&to.as_str()),
            "{names:?}"
        );
        let backwards: Vec<_> = fleet.edges().into_iter().filter(|(f, t)| t > f).collect();
        assert_eq!(backwards.len(), 1, "{backwards:?}");
    }

    #[test]
    fn published_ports_are_unique_except_about_one_percent_deliberate_duplicates() {
        let dir = TempDir::new("ports");
        generate(&options(2_000, 1, false), &dir.0, false).unwrap();
        let fleet = scan(&dir.0).unwrap();
        let duplicates = fleet.duplicate_ports();
        assert!(
            (5..=45).contains(&duplicates.len()),
            "{} duplicates",
            duplicates.len()
        );
        for port in &duplicates {
            assert_eq!(fleet.published[port].len(), 2, "port {port}");
        }
        assert!(fleet.published.keys().all(|p| (20_000..65_000).contains(p)));
        // Every repository publishes at least its api and web.
        let mut per_repo = vec![0; 2_000];
        for owners in fleet.published.values() {
            for &o in owners {
                per_repo[o] += 1;
            }
        }
        assert!(per_repo.iter().all(|&n| n >= 2));
    }

    #[test]
    fn refuses_foreign_directories_and_force_replaces_only_generated_ones() {
        let dir = TempDir::new("force");
        fs::create_dir_all(&dir.0).unwrap();
        fs::write(dir.0.join("keep.txt"), "mine").unwrap();
        let err = generate(&options(2, 1, false), &dir.0, true).unwrap_err();
        assert!(matches!(err, GenError::NotEmpty(_)), "{err}");
        assert!(dir.0.join("keep.txt").exists());
        fs::remove_file(dir.0.join("keep.txt")).unwrap();

        generate(&options(5, 1, false), &dir.0, false).unwrap();
        assert!(matches!(
            generate(&options(3, 1, false), &dir.0, false),
            Err(GenError::NotEmpty(_))
        ));
        generate(&options(3, 1, false), &dir.0, true).unwrap();
        assert!(!dir.0.join("repo-00004").exists());
        assert_eq!(
            fs::read_to_string(dir.0.join(MARKER)).unwrap(),
            marker_text(&options(3, 1, false))
        );
        let toml = fs::read_to_string(dir.0.join("switchyard.toml")).unwrap();
        assert!(toml.contains("[[repository]]\nname = \"repo-00002\"\npath = \"repo-00002\"\n"));
        assert!(is_current(&options(3, 1, false), &dir.0));
        assert!(!is_current(&options(3, 2, false), &dir.0));
        assert!(!is_current(&options(4, 1, false), &dir.0));
    }
}
