//! `switchyard`: reads a fleet of repositories, infers the dependency graph between services
//! and repositories with file:line evidence, detects cycles and plans deployment phases.
//!
//! Exit codes: 0 success; 1 the fleet has a dependency cycle (`plan`, `check`,
//! `analyze --fail-on-cycle`) or conflicts at/above `--fail-on` (`conflicts`, `check`), or an
//! applied resolution could not be verified; 2 bad arguments or fleet configuration.

mod conflicts;
mod inputs;
mod report;
mod resources;
mod serve;
mod table;
mod terminal;

use clap::{Parser, Subcommand, ValueEnum};
use inputs::{EdgeFilter, FleetArgs};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_graph::{Digraph, export};
use switchyard_model::redact::{self, redact_output_line};

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
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
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Exit with 1 when the repository graph has a cycle.
        #[arg(long)]
        fail_on_cycle: bool,
    },
    /// Print the deployment phases (dependencies first; parallel where possible).
    Plan {
        #[command(flatten)]
        fleet: FleetArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Export the dependency graph.
    Graph {
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Graph of repositories or of services.
        #[arg(long, value_enum, default_value_t = Level::Repository)]
        level: Level,
    },
    /// Repositories affected by a change: everything that depends on the changed ones.
    Affected {
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// A changed repository (repeat or comma-separate for several).
        #[arg(long, required = true, value_delimiter = ',')]
        changed: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Transitive dependencies of a repository (or a service id with --level service).
    Deps {
        /// Repository name, or `repo/service` with --level service.
        target: String,
        #[command(flatten)]
        fleet: FleetArgs,
        #[command(flatten)]
        edges: EdgeFilter,
        /// Follow at most this many hops.
        #[arg(long)]
        max_depth: Option<usize>,
        #[arg(long, value_enum, default_value_t = Level::Repository)]
        level: Level,
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
    },
    /// CI gate: analysis + conflicts; fails on cycles and on conflicts at/above --fail-on.
    Check {
        #[command(flatten)]
        fleet: FleetArgs,
        #[arg(long, value_enum, default_value_t = conflicts::ConflictFormat::Table)]
        format: conflicts::ConflictFormat,
        #[arg(long, value_enum, default_value_t = conflicts::FailOn::High)]
        fail_on: conflicts::FailOn,
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
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Level {
    Repository,
    Service,
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

pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = Redacting::new(std::io::stdout().lock());
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
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let report = report::build(&analysis);
            match format {
                Format::Json => print_json(&report)?,
                Format::Table => {
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
            let code = u8::from(fail_on_cycle && !report.cycles.is_empty());
            leave_to_exit((analysis, report));
            Ok(code)
        }
        Command::Plan { fleet, format } => {
            let analysis = fleet.analyze()?;
            let phases = analysis.repo_graph.phases();
            let cycles = analysis.repo_graph.cycles();
            match format {
                Format::Json => print(&json(&serde_json::json!({
                    "phases": phases,
                    "cycles": cycles,
                    "cycleCut": analysis.repo_graph.cut_set(),
                })))?,
                Format::Table => print(&table::phases(
                    &phases,
                    &cycles,
                    &analysis.repo_graph.cut_set(),
                ))?,
            }
            Ok(if cycles.is_empty() { 0 } else { 1 })
        }
        Command::Graph {
            fleet,
            edges,
            format,
            level,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let graph = match level {
                Level::Repository => analysis.repo_graph.clone(),
                Level::Service => Digraph::services(&analysis.model),
            };
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
            format,
        } => {
            let mut analysis = fleet.analyze()?;
            analysis.filter_edges(&edges);
            let graph = &analysis.repo_graph;
            unknown(graph, &changed, "repository")?;
            let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
            let affected = graph.affected(&refs);
            match format {
                Format::Json => print(&json(&serde_json::json!({
                    "changed": changed,
                    "affected": affected,
                })))?,
                Format::Table if affected.is_empty() => print(&format!(
                    "No repository depends on {}.\n",
                    changed.join(", ")
                ))?,
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
            let graph = match level {
                Level::Repository => analysis.repo_graph.clone(),
                Level::Service => Digraph::services(&analysis.model),
            };
            let what = if level == Level::Service {
                "service"
            } else {
                "repository"
            };
            unknown(&graph, std::slice::from_ref(&target), what)?;
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
        } => {
            let kinds = conflicts::parse_kinds(&types)?;
            let analysis = fleet.analyze()?;
            let found = conflicts::detect_conflicts(&analysis, &kinds, environment.as_deref());
            if let Some(id) = explain {
                print(&conflicts::explain(&found, &analysis, &id, format)?)?;
                return Ok(0);
            }
            print(&conflicts::render(&found, &analysis, format))?;
            let code = u8::from(conflicts::fails(&found, fail_on));
            leave_to_exit((analysis, found));
            Ok(code)
        }
        Command::Check {
            fleet,
            format,
            fail_on,
        } => {
            let analysis = fleet.analyze()?;
            let found = conflicts::detect_conflicts(&analysis, &[], None);
            let cycles = analysis.repo_graph.cycles();
            print(&conflicts::render(&found, &analysis, format))?;
            for c in &cycles {
                eprint_line(&format!("dependency cycle: {}", c.join(" -> ")));
            }
            let failed = !cycles.is_empty() || conflicts::fails(&found, fail_on);
            eprintln!(
                "check {}: {} conflicts, {} cycles, {} diagnostics",
                if failed { "failed" } else { "passed" },
                found.len(),
                cycles.len(),
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
        Command::Init { dir, force } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let target = dir.join(switchyard_extract::fleet::CONFIG_FILE);
            if target.exists() && !force {
                return Err(Failure {
                    code: 2,
                    message: format!("{} exists; use --force to overwrite", target.display()),
                });
            }
            let fleet = switchyard_extract::fleet::subdirectories(&dir)?;
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

fn unknown(graph: &Digraph, names: &[String], what: &str) -> Result<(), Failure> {
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !graph.contains(n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure {
        code: 2,
        message: format!(
            "unknown {what}: {} (known: {})",
            missing.join(", "),
            graph
                .nodes()
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
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
