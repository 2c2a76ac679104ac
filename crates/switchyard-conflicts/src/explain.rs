//! The full evidence of one conflict, for `switchyard conflicts --explain ID`: why it has its
//! severity, every occurrence with its source line (redacted), the evidence chain a detector
//! recorded (reference → address → resolved service → what it serves → the fix), and every
//! strategy's proposal with its edits as a unified diff.
//!
//! Pure apart from reading files through [`FileSource`].

use crate::strategies::{FileSource, ranked_proposals};
use crate::{Conflict, ConflictKind, FleetInput, Occurrence, Severity, StepRole, patch};
use serde::Serialize;
use switchyard_model::redact::{redact_diff, redact_line};

/// Longest source line shown; longer ones are cut (minified files, base64 blobs).
const MAX_LINE: usize = 240;

/// Everything `--explain` prints for one conflict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub conflict: Conflict,
    /// Why the conflict has its severity, in one sentence.
    pub severity_reason: String,
    /// Each occurrence with the line it points at.
    pub evidence: Vec<Evidence>,
    /// Every strategy's proposal, best first.
    pub resolutions: Vec<ProposedFix>,
}

/// One occurrence and its source line.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    #[serde(flatten)]
    pub occurrence: Occurrence,
    /// The line at the occurrence's location, redacted and trimmed; `None` when the file cannot
    /// be read (moved, binary, outside the fleet).
    pub line: Option<String>,
}

/// A strategy's proposal with its edits as a redacted unified diff.
#[derive(Debug, Clone, Serialize)]
pub struct ProposedFix {
    pub strategy: &'static str,
    pub confidence: f32,
    pub automatic: bool,
    pub description: String,
    /// Empty for manual suggestions; an edit that no longer applies says so.
    pub diff: String,
}

/// The explanation of one conflict.
pub fn explain(conflict: &Conflict, input: FleetInput<'_>, files: &dyn FileSource) -> Explanation {
    let evidence = conflict
        .occurrences
        .iter()
        .map(|o| Evidence {
            occurrence: o.clone(),
            line: source_line(
                files,
                &o.location.repository,
                &o.location.path,
                o.location.line,
            ),
        })
        .collect();
    let resolutions = ranked_proposals(conflict, input, files)
        .into_iter()
        .map(|r| {
            let mut diff = String::new();
            for ((repository, path), edits) in patch::group_by_file(&r.edits) {
                let old = files.read(&repository, &path).unwrap_or_default();
                match patch::apply_edits(&old, &edits) {
                    Ok(new) => diff.push_str(&redact_diff(&patch::unified_diff(
                        &format!("{repository}/{path}"),
                        &old,
                        &new,
                    ))),
                    Err(e) => diff.push_str(&format!("# {repository}/{path}: {e}\n")),
                }
            }
            ProposedFix {
                strategy: r.strategy,
                confidence: r.confidence,
                automatic: r.automatic,
                description: r.description,
                diff,
            }
        })
        .collect();
    Explanation {
        conflict: conflict.clone(),
        severity_reason: severity_reason(conflict),
        evidence,
        resolutions,
    }
}

/// Line `line` (1-based) of a repository file, redacted, trimmed and cut to [`MAX_LINE`].
pub fn source_line(
    files: &dyn FileSource,
    repository: &str,
    path: &str,
    line: u32,
) -> Option<String> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let text = files.read(repository, path)?;
    let raw = text.lines().nth(index)?;
    let redacted = redact_line(raw);
    let trimmed = redacted.trim();
    if trimmed.chars().count() > MAX_LINE {
        let cut: String = trimmed.chars().take(MAX_LINE).collect();
        Some(format!("{cut}…"))
    } else {
        Some(trimmed.to_string())
    }
}

/// Why a conflict has its severity: the reason its detector recorded, else the rule of its kind.
pub fn severity_reason(conflict: &Conflict) -> String {
    if let Some(step) = conflict.chain.iter().find(|s| s.role == StepRole::Severity) {
        return step.text.clone();
    }
    use ConflictKind as K;
    use Severity as S;
    let reason = match (conflict.kind, conflict.severity) {
        (K::Port, S::High) => {
            "two deployments that run at the same time publish it: the second fails to start \
             (\"port is already allocated\")"
        }
        (K::Port, S::Medium) => {
            "a process started on the host (a dev server) and a deployment: the one started \
             second fails, but only while the host process runs"
        }
        (K::Port, S::Low) => {
            "only host processes (dev servers): they clash only while both run, and most move \
             to the next free port"
        }
        (K::Domain, S::High) => {
            "two repositories route the same name and path: one of them gets every request, \
             the other's users land on the wrong service"
        }
        (K::Domain, S::Medium) => {
            "a wildcard of another repository also matches the name: the specific route wins \
             in most routers, but a change of router or rule order flips it"
        }
        (K::Domain, S::Low) => {
            "nested path prefixes are often deliberate path routing: confirm the longer prefix \
             should take that part of the site"
        }
        (K::UnreachableUrl, S::High) => "the call fails every time it is made",
        (K::UnreachableUrl, _) => {
            "the call may fail or reach the wrong service, depending on which one answers"
        }
        (_, S::High) => {
            "it breaks at deploy or run time: a start-up failure, lost data or failed requests"
        }
        (_, S::Medium) => "it breaks in some setups or some of the time",
        (_, S::Low) => "likely harmless or deliberate, but worth a look",
    };
    reason.to_string()
}

/// Why an id named no single conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The prefix matches several conflicts: these.
    Ambiguous(Vec<String>),
    /// Nothing matches; the ids closest to it, at most five.
    Unknown(Vec<String>),
}

/// The conflict with id `id`, or the only one whose id starts with it.
pub fn find<'c>(conflicts: &'c [Conflict], id: &str) -> Result<&'c Conflict, Lookup> {
    let id = id.trim();
    if let Some(c) = conflicts.iter().find(|c| c.id == id) {
        return Ok(c);
    }
    let matching: Vec<&Conflict> = if id.is_empty() {
        Vec::new()
    } else {
        conflicts.iter().filter(|c| c.id.starts_with(id)).collect()
    };
    match matching.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut near: Vec<(usize, &str)> = conflicts
                .iter()
                .map(|c| (common_prefix(&c.id, id), c.id.as_str()))
                .collect();
            near.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            Err(Lookup::Unknown(
                near.into_iter()
                    .take(5)
                    .map(|(_, i)| i.to_string())
                    .collect(),
            ))
        }
        many => Err(Lookup::Ambiguous(
            many.iter().map(|c| c.id.clone()).collect(),
        )),
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Step, StepRole};
    use switchyard_model::Location;

    struct Files;
    impl FileSource for Files {
        fn read(&self, repository: &str, path: &str) -> Option<std::sync::Arc<str>> {
            (repository == "a" && path == ".env")
                .then(|| "PORT=3000\nDB_PASSWORD=hunter2\nAPI_URL=http://api:3001/v1\n".into())
        }
    }

    fn conflict(id_seed: &str) -> Conflict {
        Conflict::new(
            ConflictKind::UnreachableUrl,
            Severity::High,
            "local",
            "default",
            format!("url:{id_seed}"),
            vec![Occurrence {
                repository: "a".into(),
                service: Some("web".into()),
                location: Location::new("a", ".env", 3, 9, Default::default()),
                detail: "http://api:3001/v1".into(),
            }],
            "m".into(),
        )
    }

    #[test]
    fn source_lines_are_redacted_and_missing_files_are_none() {
        assert_eq!(
            source_line(&Files, "a", ".env", 2).as_deref(),
            Some("DB_PASSWORD=***")
        );
        assert_eq!(
            source_line(&Files, "a", ".env", 3).as_deref(),
            Some("API_URL=http://api:3001/v1")
        );
        assert_eq!(source_line(&Files, "a", ".env", 0), None);
        assert_eq!(source_line(&Files, "a", ".env", 99), None);
        assert_eq!(source_line(&Files, "b", "x", 1), None);
    }

    #[test]
    fn ids_and_unambiguous_prefixes_are_found() {
        let list = vec![conflict("a:1"), conflict("b:2"), conflict("c:3")];
        let id = list[1].id.clone();
        assert_eq!(find(&list, &id).map(|c| c.id.clone()), Ok(id.clone()));
        assert_eq!(
            find(&list, &id[..id.len() - 4]).map(|c| c.id.clone()),
            Ok(id.clone())
        );
        match find(&list, "unreachable_url-") {
            Err(Lookup::Ambiguous(ids)) => assert_eq!(ids.len(), 3),
            other => panic!("{other:?}"),
        }
        match find(&list, "port-123") {
            Err(Lookup::Unknown(near)) => assert_eq!(near.len(), 3),
            other => panic!("{other:?}"),
        }
        assert!(matches!(find(&list, ""), Err(Lookup::Unknown(_))));
    }

    #[test]
    fn a_recorded_reason_wins_over_the_rule_of_the_kind() {
        let c = conflict("x:1");
        assert_eq!(severity_reason(&c), "the call fails every time it is made");
        let c = c.with_chain(vec![Step::new(StepRole::Severity, "because", None)]);
        assert_eq!(severity_reason(&c), "because");
    }

    #[test]
    fn explanations_carry_lines() {
        let fx = crate::detect::index::testing::Fixture::default();
        let e = explain(&conflict("y:1"), fx.input(), &Files);
        assert_eq!(
            e.evidence[0].line.as_deref(),
            Some("API_URL=http://api:3001/v1")
        );
        assert!(e.resolutions.is_empty());
    }
}
