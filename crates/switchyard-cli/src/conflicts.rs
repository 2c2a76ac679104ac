//! `switchyard conflicts`, `check` and `resolve`: detection output (table, JSON, SARIF), the CI
//! gate, `--explain ID` (one conflict's full evidence), and resolutions as unified diffs that
//! `--apply` writes and re-verifies.

use crate::Failure;
use crate::inputs::{Analysis, FleetArgs};
use crate::report::Loc;
use crate::terminal::cell;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use switchyard_conflicts::disk::DiskFiles;
use switchyard_conflicts::strategies::{FileSource, strategies};
use switchyard_conflicts::{Conflict, ConflictKind, Resolution, Severity, detect, explain, patch};
use switchyard_model::redact::redact_diff;

/// Reads repository files from disk for strategies. Proposals for many conflicts read the same
/// files (a repository's compose file, its `.env`), so each file is read once per run.
/// Parses `--types port,domain`.
pub fn parse_kinds(types: &[String]) -> Result<Vec<ConflictKind>, Failure> {
    types
        .iter()
        .map(|t| {
            ConflictKind::parse(t.trim()).ok_or_else(|| Failure {
                code: 2,
                message: format!(
                    "unknown conflict type {t:?} (known: {})",
                    ConflictKind::ALL.map(|k| k.as_str()).join(", ")
                ),
            })
        })
        .collect()
}

/// Conflicts of an analysis, restricted to kinds and an environment.
pub fn detect_conflicts(
    analysis: &Analysis,
    kinds: &[ConflictKind],
    environment: Option<&str>,
) -> Vec<Conflict> {
    detect::detect(analysis.input(), kinds)
        .into_iter()
        .filter(|c| environment.is_none_or(|e| c.environment == e))
        .collect()
}

#[derive(Serialize)]
struct StrategyOut {
    name: &'static str,
    confidence: f32,
    automatic: bool,
    description: String,
}

#[derive(Serialize)]
struct OccurrenceOut {
    repository: String,
    service: Option<String>,
    detail: String,
    location: Loc,
}

#[derive(Serialize)]
struct ConflictOut {
    id: String,
    #[serde(rename = "type")]
    kind: ConflictKind,
    resource: String,
    severity: Severity,
    host: String,
    environment: String,
    repositories: Vec<String>,
    message: String,
    occurrences: Vec<OccurrenceOut>,
    strategies: Vec<StrategyOut>,
}

/// `conflicts --format json`: every conflict with its proposals, and the counts.
#[derive(Serialize)]
struct Document {
    conflicts: Vec<ConflictOut>,
    summary: Summary,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    total: usize,
    by_severity: BTreeMap<Severity, usize>,
    by_type: BTreeMap<&'static str, usize>,
    repositories: usize,
}

/// Every strategy's proposal for a conflict, best first (automatic, then confidence).
fn proposals(conflict: &Conflict, analysis: &Analysis, files: &DiskFiles) -> Vec<Resolution> {
    switchyard_conflicts::strategies::ranked_proposals(conflict, analysis.input(), files)
}

/// The `conflicts` (and `check`) output in the requested format. `cycles` are reported by the
/// CI formats (SARIF, compact, github); the table and JSON list conflicts only.
pub fn render(
    conflicts: &[Conflict],
    cycles: &[switchyard_conflicts::sarif::CycleFinding],
    analysis: &Analysis,
    format: ConflictFormat,
) -> String {
    match format {
        ConflictFormat::Sarif => {
            let root = std::fs::canonicalize(&analysis.fleet.root)
                .unwrap_or_else(|_| analysis.fleet.root.clone());
            let run = switchyard_conflicts::sarif::RunInfo {
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                fleet_root_uri: Some(switchyard_conflicts::sarif::folder_uri(
                    &root.to_string_lossy(),
                )),
            };
            crate::json(&switchyard_conflicts::sarif::log(conflicts, cycles, &run))
        }
        ConflictFormat::Compact => crate::findings::compact(conflicts, cycles),
        ConflictFormat::Github => crate::findings::github(conflicts, cycles),
        ConflictFormat::Json => {
            let files = DiskFiles::new(&analysis.fleet);
            // Proposals read files and search the fleet per conflict: one conflict per task.
            let out: Vec<ConflictOut> = conflicts
                .par_iter()
                .map(|c| ConflictOut {
                    id: c.id.clone(),
                    kind: c.kind,
                    resource: c.resource.clone(),
                    severity: c.severity,
                    host: c.host.clone(),
                    environment: c.environment.clone(),
                    repositories: c.repositories.clone(),
                    message: c.message.clone(),
                    occurrences: c
                        .occurrences
                        .iter()
                        .map(|o| OccurrenceOut {
                            repository: o.repository.clone(),
                            service: o.service.clone(),
                            detail: o.detail.clone(),
                            location: (&o.location).into(),
                        })
                        .collect(),
                    strategies: proposals(c, analysis, &files)
                        .into_iter()
                        .map(|r| StrategyOut {
                            name: r.strategy,
                            confidence: r.confidence,
                            automatic: r.automatic,
                            description: r.description,
                        })
                        .collect(),
                })
                .collect();
            let mut by_severity = BTreeMap::new();
            let mut by_type = BTreeMap::new();
            let mut repos = BTreeSet::new();
            for c in conflicts {
                *by_severity.entry(c.severity).or_insert(0) += 1;
                *by_type.entry(c.kind.as_str()).or_insert(0) += 1;
                repos.extend(c.repositories.iter().cloned());
            }
            crate::json(&Document {
                conflicts: out,
                summary: Summary {
                    total: conflicts.len(),
                    by_severity,
                    by_type,
                    repositories: repos.len(),
                },
            })
        }
        ConflictFormat::Table => table(conflicts),
    }
}

fn table(conflicts: &[Conflict]) -> String {
    if conflicts.is_empty() {
        return "No conflicts.\n".to_string();
    }
    let longest = conflicts
        .iter()
        .flat_map(|c| c.occurrences.iter())
        .map(|o| Loc::from(&o.location).to_string().chars().count())
        .chain(conflicts.iter().map(|c| c.id.chars().count() + 24))
        .max()
        .unwrap_or(0);
    if !crate::table::fits(longest, 3) {
        return list(conflicts);
    }
    let mut t = crate::table::table(&["id", "severity", "resource", "where"]);
    let mut locations: Vec<String> = Vec::new();
    let messages: Vec<String> = conflicts.iter().map(|c| cell(&c.message)).collect();
    for c in conflicts {
        locations.extend(
            c.occurrences
                .iter()
                .map(|o| Loc::from(&o.location).to_string()),
        );
        let places: Vec<String> = c
            .occurrences
            .iter()
            .map(|o| format!("{} {}", Loc::from(&o.location), cell(&o.detail)))
            .collect();
        t.add_row(vec![
            cell(&c.id),
            serde_json::to_value(c.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            format!("{}\n{}", cell(&c.resource), cell(&c.message)),
            places.join("\n"),
        ]);
    }
    crate::table::keep_whole(&mut t, 3, locations.iter().map(String::as_str));
    // Ids are what `--explain` takes: copied as they are, never wrapped.
    let ids: Vec<String> = conflicts.iter().map(|c| cell(&c.id)).collect();
    crate::table::keep_whole(&mut t, 0, ids.iter().map(String::as_str));
    crate::table::keep_whole(&mut t, 1, ["severity"]);
    crate::table::keep_whole(
        &mut t,
        2,
        messages.iter().flat_map(|m| crate::table::locations_in(m)),
    );
    format!("{} conflicts\n{t}\n", conflicts.len())
}

/// The conflicts as a list, for terminals too narrow for the table: a heading line per
/// conflict, its message wrapped at spaces only, then each occurrence's location (whole) and
/// detail.
fn list(conflicts: &[Conflict]) -> String {
    let width = usize::from(crate::table::width());
    let mut out = format!("{} conflicts\n", conflicts.len());
    for c in conflicts {
        out.push_str(&format!(
            "\n{}  {}  {}\n",
            cell(&c.id),
            severity_name(c.severity),
            cell(&c.resource)
        ));
        out.push_str(&crate::table::wrap_words(&cell(&c.message), width, "  "));
        for o in &c.occurrences {
            out.push_str(&format!("  - {}\n", Loc::from(&o.location)));
            out.push_str(&crate::table::wrap_words(&cell(&o.detail), width, "      "));
        }
    }
    out
}

/// `conflicts --explain ID`: the full evidence of one conflict (an id or an unambiguous prefix
/// of one), as text or JSON. An unknown or ambiguous id is exit 2 with the ids nearest to it.
pub fn explain(
    conflicts: &[Conflict],
    analysis: &Analysis,
    id: &str,
    format: ConflictFormat,
) -> Result<String, Failure> {
    let conflict = switchyard_conflicts::explain::find(conflicts, id).map_err(|e| {
        let (what, ids) = match e {
            explain::Lookup::Ambiguous(ids) => ("matches several conflicts", ids),
            explain::Lookup::Unknown(ids) => ("is not a conflict of this fleet", ids),
        };
        let listed = if ids.is_empty() {
            "there are no conflicts".to_string()
        } else {
            format!("nearest: {}", ids.join(", "))
        };
        Failure {
            code: 2,
            message: format!(
                "{} {what} ({listed}; run `switchyard conflicts` to list them)",
                cell(id)
            ),
        }
    })?;
    let files = DiskFiles::new(&analysis.fleet);
    let e = explain::explain(conflict, analysis.input(), &files);
    Ok(match format {
        ConflictFormat::Table => explanation_text(&e),
        _ => crate::json(&e),
    })
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

/// The text form of an explanation: what, why this severity, where (with the source lines),
/// the evidence chain, and the proposed resolutions as diffs.
fn explanation_text(e: &explain::Explanation) -> String {
    use std::fmt::Write as _;
    let c = &e.conflict;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} ({}, {} severity)
  resource: {}
  host {}, environment {}; repositories: {}
",
        cell(&c.id),
        c.kind.as_str(),
        severity_name(c.severity),
        cell(&c.resource),
        cell(&c.host),
        cell(&c.environment),
        cell(&c.repositories.join(", ")),
    );
    let _ = writeln!(
        t,
        "{}
",
        cell(&c.message)
    );
    let _ = writeln!(
        t,
        "Why {}: {}
",
        severity_name(c.severity),
        cell(&e.severity_reason)
    );
    let _ = writeln!(t, "Occurrences:");
    for ev in &e.evidence {
        let o = &ev.occurrence;
        let who = o
            .service
            .as_deref()
            .map(|s| format!(" [{}/{}]", cell(&o.repository), cell(s)))
            .unwrap_or_default();
        let _ = writeln!(t, "  {}{who}  {}", Loc::from(&o.location), cell(&o.detail));
        match &ev.line {
            Some(line) => {
                let _ = writeln!(t, "    {:>5} | {}", o.location.line, cell(line));
            }
            None => {
                let _ = writeln!(t, "          (source line not readable)");
            }
        }
    }
    if !c.chain.is_empty() {
        let _ = writeln!(
            t,
            "
Evidence chain:"
        );
        for step in c
            .chain
            .iter()
            .filter(|s| s.role != switchyard_conflicts::StepRole::Severity)
        {
            let _ = writeln!(t, "  {:<9} {}", step.role.as_str(), cell(&step.text));
            if let Some(l) = &step.location {
                let _ = writeln!(t, "  {:<9}   at {}", "", Loc::from(l));
            }
        }
    }
    let _ = writeln!(
        t,
        "
Resolutions:"
    );
    if e.resolutions.is_empty() {
        let _ = writeln!(t, "  none proposed; make the change the message describes");
    }
    for (n, r) in e.resolutions.iter().enumerate() {
        let _ = writeln!(
            t,
            "  {}. {} ({}, confidence {:.2}): {}",
            n + 1,
            r.strategy,
            if r.automatic { "automatic" } else { "manual" },
            r.confidence,
            cell(&r.description)
        );
        if r.diff.is_empty() {
            let _ = writeln!(t, "     (no edits: a change for a person to make)");
        } else {
            for line in r.diff.lines() {
                let _ = writeln!(t, "     {}", cell(line));
            }
        }
    }
    t
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum ConflictFormat {
    Table,
    Json,
    Sarif,
    /// `repo/path:line:col: severity: message`, one line per location.
    Compact,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`).
    Github,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Never,
}

/// Whether conflicts at or above the threshold exist.
pub fn fails(conflicts: &[Conflict], fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Never => return false,
    };
    conflicts.iter().any(|c| c.severity >= threshold)
}

/// What `resolve` did for one conflict.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    conflict_id: String,
    strategy: Option<&'static str>,
    description: String,
    changes: Vec<Change>,
    applied: bool,
    verified: bool,
}

#[derive(Serialize)]
struct Change {
    repository: String,
    path: String,
    diff: String,
}

/// `switchyard resolve`.
pub fn resolve(
    fleet: &FleetArgs,
    conflict_id: Option<&str>,
    strategy: Option<&str>,
    apply: bool,
    git_branch: Option<&str>,
    json_output: bool,
) -> Result<u8, Failure> {
    let analysis = fleet.analyze()?;
    let conflicts = detect_conflicts(&analysis, &[], None);
    let selected: Vec<&Conflict> = conflicts
        .iter()
        .filter(|c| conflict_id.is_none_or(|id| c.id == id))
        .collect();
    if let Some(id) = conflict_id
        && selected.is_empty()
    {
        return Err(Failure {
            code: 2,
            message: format!("no conflict with id {id} (run `switchyard conflicts` to list them)"),
        });
    }
    if let Some(name) = strategy
        && !strategies().iter().any(|s| s.name() == name)
    {
        let known: Vec<&str> = strategies().iter().map(|s| s.name()).collect();
        return Err(Failure {
            code: 2,
            message: format!("unknown strategy {name:?} (known: {})", known.join(", ")),
        });
    }
    let files = DiskFiles::new(&analysis.fleet);
    let mut outcomes = Vec::new();
    let mut chosen: Vec<Resolution> = Vec::new();
    for conflict in selected {
        let all = proposals(conflict, &analysis, &files);
        let pick = match strategy {
            Some(name) => all.into_iter().find(|r| r.strategy == name),
            // Without a name, the best automatic resolution: a dry run shows what `--apply`
            // would write (the API's default pick too).
            None => all.into_iter().find(|r| r.automatic),
        };
        let Some(resolution) = pick else {
            outcomes.push(Outcome {
                conflict_id: conflict.id.clone(),
                strategy: None,
                description: match strategy {
                    Some(name) => format!("strategy {name} does not apply to this conflict"),
                    None => {
                        "no automatic resolution; see the strategies in `conflicts --format json`"
                            .into()
                    }
                },
                changes: Vec::new(),
                applied: false,
                verified: false,
            });
            continue;
        };
        let mut changes = Vec::new();
        for ((repository, path), edits) in patch::group_by_file(&resolution.edits) {
            let old = files.read(&repository, &path).unwrap_or_default();
            let new = patch::apply_edits(&old, &edits).map_err(|e| Failure {
                code: 1,
                message: format!("{repository}/{path}: {e}"),
            })?;
            changes.push(Change {
                diff: redact_diff(&patch::unified_diff(
                    &cell(&format!("{repository}/{path}")),
                    &old,
                    &new,
                )),
                repository,
                path,
            });
        }
        outcomes.push(Outcome {
            conflict_id: conflict.id.clone(),
            strategy: Some(resolution.strategy),
            description: resolution.description.clone(),
            changes,
            applied: false,
            verified: false,
        });
        chosen.push(resolution);
    }

    if apply && !chosen.is_empty() {
        let roots: HashMap<String, PathBuf> = analysis
            .fleet
            .repositories
            .iter()
            .map(|r| (r.name.clone(), r.path.clone()))
            .collect();
        let edits: Vec<_> = chosen
            .iter()
            .flat_map(|r| r.edits.iter().cloned())
            .collect();
        let touched: BTreeSet<&str> = edits.iter().map(|e| e.repository.as_str()).collect();
        if let Some(branch) = git_branch {
            for repo in &touched {
                git(&roots[*repo], &["checkout", "-b", branch])?;
            }
        }
        patch::apply_to_disk(&roots, &edits).map_err(|e| Failure {
            code: 1,
            message: format!("not applied: {e}"),
        })?;
        if let Some(branch) = git_branch {
            for repo in &touched {
                let root = &roots[*repo];
                let paths: BTreeSet<&str> = edits
                    .iter()
                    .filter(|e| e.repository == *repo)
                    .map(|e| e.path.as_str())
                    .collect();
                let mut add = vec!["add", "--"];
                add.extend(paths.iter().copied());
                git(root, &add)?;
                let message = format!(
                    "switchyard resolve: {}",
                    chosen
                        .iter()
                        .map(|r| r.conflict_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                git(root, &["commit", "-m", &message])?;
                crate::eprint_line(&format!("committed on branch {branch} in {repo}"));
            }
        }
        // Verify: re-analyze; a conflict is verified when it is gone and nothing new appeared.
        let after = fleet.analyze()?;
        let after_ids: BTreeSet<String> = detect_conflicts(&after, &[], None)
            .into_iter()
            .map(|c| c.id)
            .collect();
        let before_ids: BTreeSet<&str> = conflicts.iter().map(|c| c.id.as_str()).collect();
        let nothing_new = after_ids.iter().all(|id| before_ids.contains(id.as_str()));
        // A suggestion without edits (a person's decision) changed nothing: not applied.
        for o in outcomes
            .iter_mut()
            .filter(|o| o.strategy.is_some() && !o.changes.is_empty())
        {
            o.applied = true;
            o.verified = nothing_new && !after_ids.contains(&o.conflict_id);
        }
    }

    if json_output {
        crate::print(&crate::json(
            &serde_json::json!({ "resolutions": outcomes }),
        ))?;
    } else {
        let mut text = String::new();
        for o in &outcomes {
            text.push_str(&format!(
                "# {} — {}: {}\n",
                o.conflict_id,
                o.strategy.unwrap_or("none"),
                cell(&o.description)
            ));
            for c in &o.changes {
                text.push_str(&c.diff);
            }
            if apply && o.strategy.is_some() && o.changes.is_empty() {
                text.push_str("# nothing written: this proposal is a decision for a person\n");
            }
            if o.applied {
                text.push_str(if o.verified {
                    "# applied and verified: the conflict is gone and no new conflict appeared\n"
                } else {
                    "# applied, NOT verified: re-analysis still reports it or found a new conflict\n"
                });
            }
            text.push('\n');
        }
        if outcomes.is_empty() {
            text.push_str("No conflicts to resolve.\n");
        } else if !apply {
            text.push_str("Dry run: nothing was written. Use --apply to write these changes.\n");
        }
        crate::print(&text)?;
    }
    let unverified = outcomes.iter().any(|o| o.applied && !o.verified);
    Ok(if unverified { 1 } else { 0 })
}

fn git(root: &Path, args: &[&str]) -> Result<(), Failure> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| Failure {
            code: 2,
            message: format!("cannot run git: {e}"),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Failure {
            code: 2,
            message: format!(
                "git {} in {}: {}",
                args.join(" "),
                root.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}
