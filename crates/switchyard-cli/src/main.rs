//! `switchyard`: reads a fleet of repositories, infers the dependency graph between services
//! and repositories with file:line evidence, detects cycles and plans deployment phases.
//!
//! Exit codes: 0 success; 1 the fleet has a dependency cycle (`plan`, `check`,
//! `analyze --fail-on-cycle`) or conflicts at/above `--fail-on` (`conflicts`, `check`), or an
//! applied resolution could not be verified; 2 bad arguments or fleet configuration.

mod baseline;
mod changes;
mod conflicts;
mod findings;
mod inputs;
mod packages;
mod report;
mod resources;
mod serve;
mod table;
mod terminal;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use inputs::{EdgeFilter, FleetArgs};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_graph::{Digraph, export};
use switchyard_model::redact::{self, redact_output_line};

/// `switchyard --version`: the package version and the git commit it was built from (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SWITCHYARD_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "switchyard",
    version = VERSION,
    about = "Cross-repository dependency graph, conflicts and deployment order for a fleet of repositories",
    after_help = "Exit codes: 0 success, 1 dependency cycle or conflicts at/above --fail-on (plan, check, conflicts, analyze --fail-on-cycle) or an unverified applied resolution or a failed ledger operation, 2 bad arguments or configuration, 3 claim refused.\nDocs: README.md and docs/ in the Switchyard repository."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze a fleet: services, dependencies with evidence, cycles, phases, diagnostics.
    Analyze {
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// compact: one `repo/path:line:col: severity: message` line per diagnostic, unresolved
        /// reference and cycle edge.
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Table)]
        format: AnalyzeFormat,
        /// Exit with 1 when the repository graph has a cycle.
        #[arg(long)]
        fail_on_cycle: bool,
        /// Print each stage's wall time on stderr at the end (extract, link, graph, report,
        /// output).
        #[arg(long)]
        timings: bool,
    },
    /// Print the deployment phases (dependencies first; parallel where possible). With
    /// `--level package`: the build phases of each repository's workspace packages (Turborepo's
    /// `^build` levels). Exit 1 on a cycle between repositories or between packages of one
    /// repository.
    Plan {
        #[command(flatten)]
        fleet: FleetArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Level::Repository)]
        level: Level,
        /// With --level package: the phases of running this task in every package, ordered as
        /// the repository's turbo.json / nx.json `dependsOn` say (`^build`, `test`, `web#build`).
        #[arg(long, value_name = "TASK")]
        task: Option<String>,
    },
    /// Export the dependency graph.
    Graph {
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Graph of repositories, of services, or of workspace packages (build edges).
        #[arg(long, value_enum, default_value_t = Level::Repository)]
        level: Level,
    },
    /// What a change affects: everything that depends on the changed repositories or packages
    /// (`--changed`), or on the packages and services owning changed files (`--files`,
    /// `--base`).
    Affected {
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// A changed repository, package (`@repo/ui`, `repo/@repo/ui`) or service id (repeat or
        /// comma-separate for several).
        #[arg(long, value_delimiter = ',', required_unless_present_any = ["files", "base"], conflicts_with_all = ["files", "base"])]
        changed: Vec<String>,
        /// Changed files (comma-separated; `-` reads one a line from stdin): paths inside the
        /// repositories' folders, or `repository/path`.
        #[arg(long, value_delimiter = ',', conflicts_with = "base")]
        files: Vec<String>,
        /// Changed files from `git diff` in every repository: `BASE...HEAD` with --head, else
        /// BASE against the working tree.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        #[arg(long, value_name = "REV", requires = "base")]
        head: Option<String>,
        /// Level of --changed names [default: repository, or package when the names are packages].
        #[arg(long, value_enum)]
        level: Option<Level>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Transitive dependencies of a repository, a package (`@repo/ui` or `repo/@repo/ui`, build
    /// edges) or a service id (`--level service`).
    Deps {
        /// Repository name, package name, or `repo/service` with --level service.
        target: String,
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// Follow at most this many hops.
        #[arg(long)]
        max_depth: Option<usize>,
        /// [default: repository, or package when the target is a package]
        #[arg(long, value_enum)]
        level: Option<Level>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Cross-repository conflicts: ports, domains, volumes, networks, container names, config
    /// drift and integration mismatches, each with every occurrence's location.
    Conflicts {
        #[command(flatten)]
        fleet: FleetArgs,
        #[arg(long, value_enum, default_value_t = conflicts::ConflictFormat::Table)]
        format: conflicts::ConflictFormat,
        /// Only these types (comma-separated): port, domain, volume, network, container_name,
        /// env_drift, unreachable_url, cors_missing_origin, websocket_mismatch,
        /// shared_dependency_version, dangling_package.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Only conflicts of this environment.
        #[arg(long)]
        environment: Option<String>,
        /// Exit with 1 when a conflict of this severity or higher exists.
        #[arg(long, value_enum, default_value_t = conflicts::FailOn::High)]
        fail_on: conflicts::FailOn,
        /// Print the full evidence of one conflict (its id, or an unambiguous prefix of it): why
        /// its severity, each occurrence with its source line, the evidence chain and the
        /// proposed resolutions as diffs. Exit 0, or 2 for an unknown id.
        #[arg(long, value_name = "ID")]
        explain: Option<String>,
        /// Print each stage's wall time on stderr at the end (extract, link, graph, detect,
        /// render, output).
        #[arg(long)]
        timings: bool,
    },
    /// CI gate: analysis + conflicts; fails on cycles and on conflicts at/above --fail-on.
    Check {
        #[command(flatten)]
        fleet: FleetArgs,
        #[arg(long, value_enum, default_value_t = conflicts::ConflictFormat::Table)]
        format: conflicts::ConflictFormat,
        #[arg(long, value_enum, default_value_t = conflicts::FailOn::High)]
        fail_on: conflicts::FailOn,
        /// Waivers: when FILE does not exist, record today's findings in it (and pass); when it
        /// does, report only findings it does not waive (a waiver holds until its `expires`).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Only findings the change touches: conflicts with an occurrence in a file `git diff`
        /// names (`BASE...HEAD` with --head, else BASE against the working tree), package
        /// cycles declared in a changed file, repository cycles through a changed repository.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        #[arg(long, value_name = "REV", requires = "base")]
        head: Option<String>,
    },
    /// Propose (dry run, the default) or apply resolutions as byte-exact patches.
    Resolve {
        #[command(flatten)]
        fleet: FleetArgs,
        /// Only this conflict id (see `switchyard conflicts`).
        #[arg(long)]
        conflict: Option<String>,
        /// Use this strategy (default: the best automatic one).
        #[arg(long)]
        strategy: Option<String>,
        /// Show the diffs without writing (the default).
        #[arg(long, conflicts_with = "apply")]
        dry_run: bool,
        /// Write the changes (atomically), then re-analyze and verify.
        #[arg(long)]
        apply: bool,
        /// With --apply: commit the change per repository on a new git branch.
        #[arg(long, requires = "apply", value_name = "NAME")]
        git_branch: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The shared-resource ledger: register, claim, renew, release, list, status, delete, sync.
    /// A refused claim exits with 3 and names the holders.
    Resources {
        /// Where the ledger lives: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB.
        #[arg(
            long,
            env = "SWITCHYARD_STORE",
            default_value = "sqlite://.switchyard/state.db"
        )]
        store: String,
        #[command(subcommand)]
        command: resources::ResourcesCommand,
    },
    /// Run the coordination server (REST API, events, webhooks, metrics) on the fleet.
    /// Stops gracefully on SIGTERM or Ctrl-C.
    Serve(serve::ServeArgs),
    /// Write a commented switchyard.toml listing the repositories found in DIR.
    Init {
        /// Folder whose subfolders are the repositories [default: .].
        dir: Option<PathBuf>,
        /// Overwrite an existing switchyard.toml.
        #[arg(long)]
        force: bool,
    },
    /// Export the fleet for other tools: a Backstage catalog (catalog-info.yaml), JSON Graph
    /// Format or GraphML.
    Export {
        /// backstage: a System per repository, a Component per service (spec.dependsOn from the
        /// graph), a Resource per database, cache or broker. jgf, graphml: the dependency graph.
        what: ExportKind,
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// jgf and graphml: graph of services or of repositories.
        #[arg(long, value_enum, default_value_t = Level::Service)]
        level: Level,
        /// backstage: spec.owner of every entity (an entity reference such as group:platform).
        #[arg(long, default_value = "unknown")]
        owner: String,
        /// backstage: spec.lifecycle of every Component.
        #[arg(long, default_value = "production")]
        lifecycle: String,
        /// backstage: print the entities as one JSON array instead of YAML documents.
        #[arg(long)]
        json: bool,
        /// Write to this file instead of stdout (e.g. catalog-info.yaml).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print a shell completion script: `switchyard completions bash > ~/.local/share/bash-completion/completions/switchyard`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of switchyard, or write one page per command into a folder.
    Man {
        /// Write switchyard.1 and switchyard-COMMAND.1 pages into this folder instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum AnalyzeFormat {
    Table,
    Json,
    Compact,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ExportKind {
    Backstage,
    Jgf,
    Graphml,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Level {
    Repository,
    Service,
    /// Workspace packages and the build edges between them.
    Package,
}

/// A command's failure, with the exit code it maps to.
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
}

impl From<switchyard_extract::fleet::FleetError> for Failure {
    fn from(e: switchyard_extract::fleet::FleetError) -> Self {
        Failure {
            code: 2,
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprint_line(&format!("switchyard: {}", f.message));
            ExitCode::from(f.code)
        }
    }
}

/// Every byte the CLI prints to stdout passes through here: lines are redacted at this one
/// boundary (passwords in URLs and connection strings, secret `key=value` pairs, bearer
/// credentials, JSON members under secret-looking keys), whatever format produced them, and
/// control characters other than line breaks and tabs are escaped.
struct Redacting<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Redacting<W> {
    fn new(inner: W) -> Self {
        Redacting {
            inner,
            line: Vec::new(),
        }
    }

    fn emit_line(&mut self) -> std::io::Result<()> {
        let result = Self::emit(&mut self.inner, &self.line);
        self.line.clear();
        result
    }

    /// Writes one line (without its newline) redacted and escaped. Most lines of a large output
    /// are printable ASCII with nothing to redact: those are copied as they are.
    fn emit(inner: &mut W, line: &[u8]) -> std::io::Result<()> {
        if redact::output_line_is_plain(line) {
            return inner.write_all(line);
        }
        // Tabs are layout; any other control character in a line came from input.
        let text = String::from_utf8_lossy(line);
        let safe = redact_output_line(&text);
        let safe = terminal::escape_keeping(&safe, &['\t']);
        inner.write_all(safe.as_bytes())
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            if self.line.is_empty() {
                // A whole line inside `buf`: no copy into the line buffer.
                Self::emit(&mut self.inner, &rest[..at])?;
            } else {
                self.line.extend_from_slice(&rest[..at]);
                self.emit_line()?;
            }
            self.inner.write_all(b"\n")?;
            rest = &rest[at + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            self.emit_line()?;
        }
        self.inner.flush()
    }
}

fn write_result(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure {
            code: 2,
            message: format!("cannot write output: {e}"),
        }),
    }
}

/// One line on stderr, redacted and escaped like stdout.
pub(crate) fn eprint_line(text: &str) {
    let safe = redact_output_line(text);
    eprintln!("{}", terminal::escape(&safe));
}

/// Writes text to stdout, redacted and escaped line by line. Buffered: stdout alone flushes at
/// every newline, which made a large document one `write` call per line.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = Redacting::new(std::io::BufWriter::with_capacity(
        1 << 16,
        std::io::stdout().lock(),
    ));
    write_result(out.write_all(text.as_bytes()).and_then(|_| out.flush()))
}

/// Leaves a one-shot command's analysis to the operating system at exit instead of freeing its
/// millions of small allocations one by one (about a tenth of a 10,000-repository run).
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Writes a (possibly large) JSON document straight to stdout, without building a string.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let mut out = std::io::BufWriter::with_capacity(
        1 << 16,
        Redacting::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        )),
    );
    write_result(
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::from)
            .and_then(|_| out.write_all(b"\n"))
            .and_then(|_| out.flush()),
    )
}

fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Analyze {
            fleet,
            edges,
            format,
            fail_on_cycle,
            timings,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let report = report::build(&analysis);
            analysis.timings.lap("report");
            match format {
                AnalyzeFormat::Json => print_json(&report)?,
                AnalyzeFormat::Compact => print(&findings::analysis_compact(
                    &report,
                    &findings::cycles(&analysis),
                ))?,
                AnalyzeFormat::Table => {
                    print(&table::analysis(&report))?;
                    eprintln!(
                        "analyzed {} repositories ({} files, {} from cache) in {:.2}s",
                        analysis.stats.repositories,
                        analysis.stats.files_scanned,
                        analysis.stats.cache_hits,
                        analysis.elapsed.as_secs_f64()
                    );
                }
            }
            analysis.timings.lap("output");
            analysis.timings.print_if(timings);
            let code = u8::from(fail_on_cycle && !report.cycles.is_empty());
            leave_to_exit((analysis, report));
            Ok(code)
        }
        Command::Plan {
            fleet,
            format,
            level,
            task,
        } => {
            let analysis = fleet.analyze()?;
            let packages = packages::PackageLevel::of(&analysis.model);
            if let Some(task) = task {
                if level != Level::Package {
                    return Err(Failure {
                        code: 2,
                        message: "--task needs --level package".into(),
                    });
                }
                let plan = packages::TaskPlan::of(&analysis, &packages, &task)?;
                match format {
                    Format::Json => print(&json(&plan.json()))?,
                    Format::Table => print(&plan.table())?,
                }
                return Ok(u8::from(plan.fails() || !packages.cycles.is_empty()));
            }
            let graph = match level {
                Level::Package => {
                    match format {
                        Format::Json => print(&json(&packages.json()))?,
                        Format::Table => print(&packages.table())?,
                    }
                    let code = u8::from(!packages.cycles.is_empty());
                    leave_to_exit((analysis, packages));
                    return Ok(code);
                }
                Level::Service => Digraph::services(&analysis.model),
                Level::Repository => analysis.repo_graph.clone(),
            };
            let phases = graph.phases();
            let cycles = graph.cycles();
            match format {
                Format::Json => {
                    let mut doc = serde_json::json!({
                        "phases": phases,
                        "cycles": cycles,
                        "cycleCut": graph.cut_set(),
                    });
                    if !packages.cycles.is_empty() {
                        doc["packageCycles"] = serde_json::json!(packages.cycles);
                        doc["packageCycleCut"] = serde_json::json!(packages.cut);
                    }
                    print(&json(&doc))?
                }
                Format::Table => {
                    let mut text = table::phases(&phases, &cycles, &graph.cut_set());
                    if !packages.cycles.is_empty() {
                        text.push_str("Package cycles (see plan --level package)\n");
                        for line in packages.cycle_lines() {
                            text.push_str(&format!("  {line}\n"));
                        }
                    }
                    print(&text)?
                }
            }
            Ok(u8::from(!cycles.is_empty() || !packages.cycles.is_empty()))
        }
        Command::Graph {
            fleet,
            edges,
            format,
            level,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let graph = packages::graph_for(&analysis, level);
            let kinds = export::edge_kinds(&analysis.model, level == Level::Repository);
            let text = match format {
                GraphFormat::Dot => export::dot_with_kinds(&graph, "fleet", Some(&kinds)),
                GraphFormat::Mermaid => export::mermaid_with_kinds(&graph, Some(&kinds)),
                GraphFormat::Json => json(&serde_json::json!({
                    "nodes": graph.nodes(),
                    "edges": graph.edges().iter().map(|(a, b)| {
                        let (kind, telemetry) = kinds
                            .get(&(a.to_string(), b.to_string()))
                            .copied()
                            .unwrap_or_default();
                        serde_json::json!({"from": a, "to": b, "kind": kind, "telemetry": telemetry})
                    }).collect::<Vec<_>>(),
                })),
            };
            print(&text)?;
            Ok(0)
        }
        Command::Affected {
            fleet,
            edges,
            changed,
            files,
            base,
            head,
            level,
            format,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            if !files.is_empty() || base.is_some() {
                let located = match &base {
                    Some(base) => changes::git_changes(&analysis, base, head.as_deref())?,
                    None => changes::locate_all(&analysis, &changes::listed_files(&files)?)?,
                };
                let impact = changes::impact(&analysis, located);
                match format {
                    Format::Json => print(&json(&impact))?,
                    Format::Table => print(&changes::table(&impact))?,
                }
                return Ok(0);
            }
            let level = level.unwrap_or_else(|| {
                let package = changed.iter().all(|c| {
                    !analysis.repo_graph.contains(c)
                        && packages::names_a_package(&analysis.model, c)
                });
                if package {
                    Level::Package
                } else {
                    Level::Repository
                }
            });
            let graph = packages::graph_for(&analysis, level);
            let what = level_name(level);
            let changed: Vec<String> = changed
                .iter()
                .map(|c| packages::resolve(&graph, &analysis.model, c, what))
                .collect::<Result<_, _>>()?;
            let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
            let affected = graph.affected(&refs);
            match format {
                Format::Json => print(&json(&serde_json::json!({
                    "changed": changed,
                    "affected": affected,
                })))?,
                Format::Table if affected.is_empty() => {
                    print(&format!("No {what} depends on {}.\n", changed.join(", ")))?
                }
                Format::Table => print(&format!(
                    "Affected by a change to {}:\n{}\n",
                    changed.join(", "),
                    affected
                        .iter()
                        .map(|a| format!("  {a}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ))?,
            }
            Ok(0)
        }
        Command::Deps {
            target,
            fleet,
            edges,
            max_depth,
            level,
            format,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let level = level.unwrap_or(
                if !analysis.repo_graph.contains(&target)
                    && packages::names_a_package(&analysis.model, &target)
                {
                    Level::Package
                } else {
                    Level::Repository
                },
            );
            let graph = packages::graph_for(&analysis, level);
            let what = level_name(level);
            let target = packages::resolve(&graph, &analysis.model, &target, what)?;
            let direct = graph.dependencies(&target);
            let transitive = graph.transitive(&target, max_depth);
            match format {
                Format::Json => print(&json(&serde_json::json!({
                    "target": target,
                    "direct": direct,
                    "transitive": transitive,
                    "maxDepth": max_depth,
                })))?,
                Format::Table => print(&format!(
                    "{target} depends on {} directly and {} transitively{}:\n{}\n",
                    direct.len(),
                    transitive.len(),
                    max_depth
                        .map(|d| format!(" (within {d} hops)"))
                        .unwrap_or_default(),
                    transitive
                        .iter()
                        .map(|d| format!(
                            "  {d}{}",
                            if direct.contains(d) {
                                ""
                            } else {
                                "  (transitive)"
                            }
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                ))?,
            }
            Ok(0)
        }
        Command::Conflicts {
            fleet,
            format,
            types,
            environment,
            fail_on,
            explain,
            timings,
        } => {
            let kinds = conflicts::parse_kinds(&types)?;
            let mut analysis = fleet.analyze()?;
            let found = conflicts::detect_conflicts(&analysis, &kinds, environment.as_deref());
            analysis.timings.lap("detect");
            if let Some(id) = explain {
                print(&conflicts::explain(&found, &analysis, &id, format)?)?;
                return Ok(0);
            }
            let text = conflicts::render(&found, &[], &analysis, format);
            analysis.timings.lap("render");
            print(&text)?;
            analysis.timings.lap("output");
            analysis.timings.print_if(timings);
            let code = u8::from(conflicts::fails(&found, fail_on));
            leave_to_exit((analysis, found));
            Ok(code)
        }
        Command::Check {
            fleet,
            format,
            fail_on,
            baseline,
            base,
            head,
        } => {
            let analysis = fleet.analyze()?;
            let mut found = conflicts::detect_conflicts(&analysis, &[], None);
            let mut cycles = findings::cycles(&analysis);
            let mut packages = packages::PackageLevel::of(&analysis.model);
            if let Some(base) = &base {
                let changed: std::collections::BTreeSet<(String, String)> =
                    changes::git_changes(&analysis, base, head.as_deref())?
                        .into_iter()
                        .collect();
                let touched = |repo: &str, path: &str| {
                    changed.contains(&(repo.to_string(), path.to_string()))
                };
                found.retain(|c| {
                    c.occurrences
                        .iter()
                        .any(|o| touched(&o.repository, &o.location.path))
                });
                cycles.retain(|c| {
                    c.members
                        .iter()
                        .any(|r| changed.iter().any(|(repo, _)| repo == r))
                });
                packages
                    .cycles
                    .retain(|c| c.evidence.iter().any(|l| touched(&l.repository, &l.path)));
                eprintln!("check --base {base}: {} changed files", changed.len());
            }
            if let Some(path) = &baseline {
                let cycle_id = |c: &switchyard_conflicts::sarif::CycleFinding| {
                    format!("cycle:{}", c.members.join(" -> "))
                };
                let package_cycle_id = |c: &switchyard_graph::packages::PackageCycle| {
                    format!("package-cycle:{}:{}", c.repository, c.path.join(" -> "))
                };
                match baseline::Baseline::read(path)? {
                    None => {
                        let mut today: Vec<baseline::Finding> = found
                            .iter()
                            .map(|c| baseline::Finding {
                                id: c.id.clone(),
                                description: format!("{}: {}", c.kind.as_str(), c.message),
                            })
                            .collect();
                        today.extend(cycles.iter().map(|c| baseline::Finding {
                            id: cycle_id(c),
                            description: "dependency cycle between repositories".into(),
                        }));
                        today.extend(packages.cycles.iter().map(|c| baseline::Finding {
                            id: package_cycle_id(c),
                            description: "package cycle".into(),
                        }));
                        baseline::Baseline::record(&today).write(path)?;
                        eprintln!(
                            "baseline {} recorded with {} findings; later runs report only new ones",
                            path.display(),
                            today.len()
                        );
                        found.clear();
                        cycles.clear();
                        packages.cycles.clear();
                    }
                    Some(waivers) => {
                        let today = baseline::today();
                        let before = found.len() + cycles.len() + packages.cycles.len();
                        found.retain(|c| !waivers.waives(&c.id, &today));
                        cycles.retain(|c| !waivers.waives(&cycle_id(c), &today));
                        packages
                            .cycles
                            .retain(|c| !waivers.waives(&package_cycle_id(c), &today));
                        let after = found.len() + cycles.len() + packages.cycles.len();
                        eprintln!(
                            "baseline {}: {} findings waived",
                            path.display(),
                            before - after
                        );
                    }
                }
            }
            // Package cycles are findings like repository cycles: in SARIF, compact and github.
            let mut every_cycle = cycles.clone();
            every_cycle.extend(packages.cycle_findings());
            print(&conflicts::render(&found, &every_cycle, &analysis, format))?;
            for c in &cycles {
                eprint_line(&format!("dependency cycle: {}", c.members.join(" -> ")));
            }
            for line in packages.cycle_lines() {
                eprint_line(&line);
            }
            let missing_tasks = packages::missing_task_lines(&analysis);
            for line in &missing_tasks {
                eprint_line(line);
            }
            let all_cycles = cycles.len() + packages.cycles.len();
            let failed =
                all_cycles > 0 || !missing_tasks.is_empty() || conflicts::fails(&found, fail_on);
            eprintln!(
                "check {}: {} conflicts, {} cycles, {} diagnostics",
                if failed { "failed" } else { "passed" },
                found.len(),
                all_cycles,
                analysis.model.diagnostics.len()
            );
            Ok(u8::from(failed))
        }
        Command::Resolve {
            fleet,
            conflict,
            strategy,
            dry_run: _,
            apply,
            git_branch,
            format,
        } => conflicts::resolve(
            &fleet,
            conflict.as_deref(),
            strategy.as_deref(),
            apply,
            git_branch.as_deref(),
            format == Format::Json,
        ),
        Command::Resources { store, command } => resources::run(&store, command),
        Command::Serve(args) => serve::run(args),
        Command::Export {
            what,
            fleet,
            edges,
            level,
            owner,
            lifecycle,
            json: as_json,
            output,
        } => {
            for (flag, value) in [("--owner", &owner), ("--lifecycle", &lifecycle)] {
                if value.trim().is_empty() || value.chars().any(char::is_whitespace) {
                    return Err(Failure {
                        code: 2,
                        message: format!("{flag} needs one word without spaces, not {value:?}"),
                    });
                }
            }
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let text = match what {
                ExportKind::Backstage => {
                    let options = switchyard_graph::backstage::CatalogOptions { owner, lifecycle };
                    let entities = switchyard_graph::backstage::catalog(&analysis.model, &options);
                    if as_json {
                        json(&entities)
                    } else {
                        switchyard_graph::backstage::to_yaml(&entities)
                    }
                }
                ExportKind::Jgf | ExportKind::Graphml => {
                    let repositories = level == Level::Repository;
                    let graph = if repositories {
                        analysis.repo_graph.clone()
                    } else {
                        Digraph::services(&analysis.model)
                    };
                    let kinds = export::edge_kinds(&analysis.model, repositories);
                    let evidence = export::edge_evidence(&analysis.model, repositories);
                    if what == ExportKind::Jgf {
                        json(&export::jgf(&graph, "fleet", &kinds, &evidence))
                    } else {
                        export::graphml(&graph, "fleet", &kinds, &evidence)
                    }
                }
            };
            // GraphML redacts its text itself (its `<data key="…">` markup is not a secret).
            let redact_lines = what != ExportKind::Graphml;
            match output {
                None if redact_lines => print(&text)?,
                None => write_result(std::io::stdout().lock().write_all(text.as_bytes()))?,
                Some(path) => {
                    let cannot = |e: std::io::Error| Failure {
                        code: 2,
                        message: format!("cannot write {}: {e}", path.display()),
                    };
                    let file = std::fs::File::create(&path).map_err(cannot)?;
                    if redact_lines {
                        let mut out = Redacting::new(std::io::BufWriter::new(file));
                        out.write_all(text.as_bytes())
                            .and_then(|()| out.flush())
                            .map_err(cannot)?;
                    } else {
                        let mut out = std::io::BufWriter::new(file);
                        out.write_all(text.as_bytes())
                            .and_then(|()| out.flush())
                            .map_err(cannot)?;
                    }
                    eprintln!("wrote {}", path.display());
                }
            }
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "switchyard", &mut out);
            write_result(std::io::stdout().lock().write_all(&out))?;
            Ok(0)
        }
        Command::Man { out_dir } => man(out_dir.as_deref()),
        Command::Init { dir, force } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let target = dir.join(switchyard_extract::fleet::CONFIG_FILE);
            if target.exists() && !force {
                return Err(Failure {
                    code: 2,
                    message: format!("{} exists; use --force to overwrite", target.display()),
                });
            }
            // The same rule as discovery: a folder whose root holds deployment files is one
            // repository, not a fleet of its source folders.
            let markers = switchyard_extract::fleet::root_markers(&dir);
            let fleet = if markers.is_empty() {
                switchyard_extract::fleet::subdirectories(&dir)?
            } else {
                eprintln!(
                    "fleet: {} is one repository (its root holds {})",
                    dir.display(),
                    markers.join(", ")
                );
                switchyard_extract::fleet::from_paths(std::slice::from_ref(&dir), &dir)?
            };
            let text = switchyard_extract::fleet::render_config(&fleet);
            std::fs::write(&target, text).map_err(|e| Failure {
                code: 2,
                message: format!("cannot write {}: {e}", target.display()),
            })?;
            eprintln!(
                "wrote {} with {} repositories",
                target.display(),
                fleet.repositories.len()
            );
            Ok(0)
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Repository => "repository",
        Level::Service => "service",
        Level::Package => "package",
    }
}

/// `switchyard man`: the top-level page on stdout, or every page into `out_dir`.
fn man(out_dir: Option<&std::path::Path>) -> Result<u8, Failure> {
    let command = Cli::command();
    match out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|e| Failure {
                    code: 2,
                    message: format!("cannot render the man page: {e}"),
                })?;
            write_result(std::io::stdout().lock().write_all(&out))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command, dir))
                .map_err(|e| Failure {
                    code: 2,
                    message: format!("cannot write man pages into {}: {e}", dir.display()),
                })?;
            eprintln!("wrote man pages into {}", dir.display());
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::Redacting;
    use std::io::Write;

    /// Output written in arbitrary pieces comes out line by line: clean lines unchanged,
    /// secrets hidden, control characters escaped, also when a line spans two writes.
    #[test]
    fn redacting_writer_in_pieces() {
        let text =
            "  \"from\": \"api\",\n  \"token\": \"abc\",\nurl redis://:pw@r:6379\nbell\u{7}\ntail";
        let want =
            "  \"from\": \"api\",\n  \"token\": \"***\",\nurl redis://:***@r:6379\nbell\\x07\ntail";
        for piece in [1, 3, 7, text.len()] {
            let mut out = Redacting::new(Vec::new());
            for chunk in text.as_bytes().chunks(piece) {
                out.write_all(chunk).expect("write to a Vec");
            }
            out.flush().expect("flush to a Vec");
            assert_eq!(
                String::from_utf8_lossy(&out.inner),
                want,
                "pieces of {piece}"
            );
        }
    }
}
