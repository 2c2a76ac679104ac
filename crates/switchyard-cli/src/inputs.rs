//! Fleet selection flags shared by every command, and running the pipeline
//! (extract → link → graph) with a progress bar on long scans.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchyard_extract::{FleetStats, Limits, Registry, cache::Cache, fleet};
use switchyard_graph::Digraph;
use switchyard_model::{Confidence, Edge, EdgeKind, FleetModel, RepoFacts};

#[derive(Args, Debug, Clone)]
pub struct FleetArgs {
    /// Repository folders, one repository each. Without them (and without --fleet) the current
    /// folder's switchyard.toml is used, else the folder as one repository when its root holds
    /// deployment files, else the folder as a fleet when its subfolders are git checkouts, else
    /// the folder as one repository.
    #[arg(value_name = "REPO_PATH")]
    pub repos: Vec<PathBuf>,

    /// A folder of repositories: its switchyard.toml when it has one; else the folder itself
    /// when its root holds deployment files (compose, Dockerfile, kustomization, Chart.yaml,
    /// package.json, nginx/Traefik config, .git); else each subfolder. The rule that applied
    /// is printed on stderr.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["repos", "config"])]
    pub fleet: Option<PathBuf>,

    /// A switchyard.toml listing the repositories.
    #[arg(long, value_name = "FILE", conflicts_with = "repos")]
    pub config: Option<PathBuf>,

    /// Do not read or write the facts cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Where cached facts live [default: <fleet root>/.switchyard/cache].
    #[arg(long, value_name = "DIR", env = "SWITCHYARD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Skip files larger than this many bytes (a diagnostic says so) [default: `max_file_bytes`
    /// of the `[limits]` table, else 8388608].
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,

    /// Show one alternative deployment of the repositories that hold several (a compose file,
    /// a manifest tree, a kustomize overlay, or a variant named in switchyard.toml): `NAME` in
    /// every repository that has it, `REPOSITORY:NAME` in one. `analyze` lists the variants.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
}

/// Which edges a command shows (`analyze`, `graph`, `deps`, `affected`). Deployment phases
/// (`plan`) always use every edge.
#[derive(Args, Debug, Clone)]
pub struct EdgeFilter {
    /// Only edges of these kinds (comma-separated): call, startup, build, browser, peer.
    #[arg(long = "kind", value_delimiter = ',', value_parser = parse_kind)]
    pub kinds: Vec<EdgeKind>,

    /// Leave out telemetry calls (scrape targets, trace and log exporters).
    #[arg(long)]
    pub no_telemetry: bool,

    /// Only edges at least this sure: low, medium or high.
    #[arg(long, value_parser = parse_confidence, default_value = "low")]
    pub min_confidence: Confidence,
}

fn parse_kind(text: &str) -> Result<EdgeKind, String> {
    EdgeKind::parse(text).ok_or_else(|| {
        format!("unknown edge kind `{text}` (expected call, startup, build, browser or peer)")
    })
}

fn parse_confidence(text: &str) -> Result<Confidence, String> {
    Confidence::parse(text)
        .ok_or_else(|| format!("unknown confidence `{text}` (expected low, medium or high)"))
}

impl EdgeFilter {
    pub fn keeps(&self, edge: &Edge) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&edge.kind))
            && !(self.no_telemetry && edge.telemetry)
            && edge.confidence >= self.min_confidence
    }
}

/// A fleet analysed end to end.
pub struct Analysis {
    pub fleet: fleet::Fleet,
    /// Each repository's facts, in fleet order (conflict detectors and strategies read them).
    pub facts: Vec<std::sync::Arc<RepoFacts>>,
    pub model: FleetModel,
    pub repo_graph: Digraph,
    pub stats: FleetStats,
    pub elapsed: Duration,
    /// Indexes over `model` and `facts` for conflict detection and proposals.
    pub lookup: switchyard_conflicts::Lookup,
    /// How long each stage took, printed with `--timings`.
    pub timings: Timings,
}

/// Wall time per pipeline stage, for `--timings`: each lap is the time since the previous one.
pub struct Timings {
    started: Instant,
    last: Instant,
    stages: Vec<(&'static str, Duration)>,
}

impl Timings {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            last: started,
            stages: Vec::new(),
        }
    }

    /// Ends the stage `name` now.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.stages.push((name, now - self.last));
        self.last = now;
    }

    /// The stages, one per line, and their total.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, took) in &self.stages {
            out.push_str(&format!(
                "timing: {name:<8} {:>8.3} s\n",
                took.as_secs_f64()
            ));
        }
        let total = self.last - self.started;
        out.push_str(&format!(
            "timing: {:<8} {:>8.3} s\n",
            "total",
            total.as_secs_f64()
        ));
        out
    }

    /// Prints the stages on stderr when `--timings` asked for them.
    pub fn print_if(&self, asked: bool) {
        if asked {
            eprint!("{}", self.render());
        }
    }
}

impl FleetArgs {
    /// The fleet these arguments name. When a folder was read by a rule (`--fleet DIR`, or no
    /// argument at all), which rule applied is said on stderr: a folder read as something the
    /// user did not mean is never silent.
    pub fn load_fleet(&self) -> Result<fleet::Fleet, fleet::FleetError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        if let Some(config) = &self.config {
            return fleet::load_config(config);
        }
        if !self.repos.is_empty() {
            return fleet::from_paths(&self.repos, &cwd);
        }
        let (fleet, rule) = match &self.fleet {
            Some(dir) => fleet::discover_explained(dir)?,
            None => fleet::from_working_dir_explained(&cwd)?,
        };
        crate::eprint_line(&format!("fleet: {rule}"));
        Ok(fleet)
    }

    pub fn cache(&self, root: &Path) -> Option<Cache> {
        if self.no_cache {
            return None;
        }
        Some(Cache::open(
            self.cache_dir
                .clone()
                .unwrap_or_else(|| root.join(".switchyard").join("cache")),
        ))
    }

    /// Loads the fleet and runs extract → link → graph, narrowed to `--variant` when given.
    pub fn analyze(&self) -> Result<Analysis, crate::Failure> {
        let fleet = self.load_fleet()?;
        let started = Instant::now();
        let registry = Registry::default();
        let limits = Limits {
            max_file_bytes: self.max_file_size.unwrap_or(fleet.limits.max_file_bytes),
            ..fleet.limits
        };
        let mut timings = Timings::new(started);
        let cache = self.cache(&fleet.root);
        let progress = Progress::new(fleet.repositories.len() as u64, started);
        let (facts, stats) =
            switchyard_extract::extract_fleet(&fleet, &registry, limits, cache.as_ref(), &|_| {
                progress.tick()
            });
        progress.finish();
        timings.lap("extract");
        let repositories: Vec<_> = fleet
            .repositories
            .iter()
            .map(|r| r.to_repository())
            .collect();
        let mut model = switchyard_link::link(&repositories, &facts);
        model.conventions = fleet.conventions.clone();
        timings.lap("link");
        if let Some(selector) = &self.variant {
            model = switchyard_graph::variant::select_variant(&model, selector).map_err(|e| {
                crate::Failure {
                    code: 2,
                    message: e.to_string(),
                }
            })?;
        }
        let facts = facts.into_iter().map(std::sync::Arc::new).collect();
        let repo_graph = Digraph::repositories(&model);
        timings.lap("graph");
        Ok(Analysis {
            fleet,
            facts,
            model,
            repo_graph,
            stats,
            elapsed: started.elapsed(),
            lookup: Default::default(),
            timings,
        })
    }
}

impl Analysis {
    /// Keeps only the edges `filter` lets through, and the repository graph made of them.
    pub fn filter_edges(&mut self, filter: &EdgeFilter) {
        let before = self.model.edges.len();
        self.model.edges.retain(|e| filter.keeps(e));
        if self.model.edges.len() != before {
            self.repo_graph = Digraph::repositories(&self.model);
            self.lookup = Default::default();
        }
    }

    /// What conflict detectors and strategies read.
    pub fn input(&self) -> switchyard_conflicts::FleetInput<'_> {
        switchyard_conflicts::FleetInput {
            model: &self.model,
            facts: &self.facts,
            lookup: &self.lookup,
        }
    }
}

/// A progress bar on stderr that appears only when the scan takes over a second and stderr is
/// a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
}

impl Progress {
    fn new(total: u64, started: Instant) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} scanning repositories {pos}/{len} {wide_bar} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self {
            bar,
            started,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        if self.enabled && self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_list_each_stage_and_the_total() {
        let started = Instant::now();
        let mut on = Timings::new(started);
        on.lap("extract");
        on.lap("link");
        let text = on.render();
        let names: Vec<&str> = text
            .lines()
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
            .collect();
        assert_eq!(names, ["extract", "link", "total"]);
        assert!(
            text.lines()
                .all(|l| l.starts_with("timing: ") && l.ends_with(" s"))
        );
    }
}
