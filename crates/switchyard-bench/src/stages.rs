//! In-process timing of the server's analysis: one full analysis of a fleet, then re-analyses of
//! one repository as a push triggers them (the file untouched, and with an edited file), and
//! every conflict detector on its own. It runs the same code as `switchyard serve`
//! ([`Snapshot::analyze`] and [`Snapshot::reanalyze`]), without HTTP, so the figures isolate
//! the analysis from the request path.

use std::path::Path;
use std::time::Instant;

use switchyard_conflicts::FleetInput;
use switchyard_conflicts::detect::detectors;
use switchyard_conflicts::detect::index::FleetIndex;
use switchyard_server::analysis::{FleetSource, Snapshot, StageTimings};
use switchyard_store::Timestamp;

/// A file changed before each measured push: `SWITCHYARD_BENCH_EDIT=<n>` appended to what it
/// held (a `.env` line; a missing file is created), put back by [`Edit::restore`].
pub struct Edit {
    path: std::path::PathBuf,
    original: Option<String>,
}

impl Edit {
    pub fn open(path: &Path) -> std::io::Result<Edit> {
        let original = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Edit {
            path: path.to_path_buf(),
            original,
        })
    }

    /// Writes the `n`th version of the file.
    pub fn apply(&self, n: usize) -> std::io::Result<()> {
        let text = self.original.as_deref().unwrap_or("");
        let newline = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        std::fs::write(
            &self.path,
            format!("{text}{newline}SWITCHYARD_BENCH_EDIT={n}\n"),
        )
    }

    /// Puts the file back as it was (removes it when it did not exist).
    pub fn restore(&self) -> std::io::Result<()> {
        match &self.original {
            Some(text) => std::fs::write(&self.path, text),
            None => std::fs::remove_file(&self.path),
        }
    }
}

/// Milliseconds of each measured step, medians over the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct StageReport {
    pub repositories: usize,
    pub services: usize,
    pub edges: usize,
    pub conflicts: usize,
    pub full_analysis_ms: f64,
    /// Re-reading the repository when nothing it holds changed.
    pub unchanged_ms: f64,
    /// Re-analysis after an edit, with the stages of the median run.
    pub edited_ms: Option<f64>,
    pub edited_stages: Option<StageTimings>,
    /// `FleetIndex` construction, then each detector alone on that index.
    pub index_ms: f64,
    pub detectors_ms: Vec<(String, f64)>,
}

fn millis(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

/// Measures `source` with `repeat` runs of each step. `edit`, a file of `repository`, gets a
/// changing `SWITCHYARD_BENCH_EDIT=<n>` line before each edited run and is restored after.
pub fn measure(
    source: &FleetSource,
    repository: &str,
    edit: Option<&Path>,
    repeat: usize,
) -> std::io::Result<StageReport> {
    let repeat = repeat.max(1);
    let now = Timestamp::now_utc();
    let started = Instant::now();
    let snapshot = Snapshot::analyze(source, now);
    let full_analysis_ms = millis(started);
    let names = [repository.to_string()];

    let mut unchanged = Vec::new();
    for _ in 0..repeat {
        let (_, summary) = snapshot.reanalyze(source, &names, now);
        unchanged.push(summary.duration_ms);
    }

    let (mut edited_ms, mut edited_stages) = (None, None);
    if let Some(path) = edit {
        let edit = Edit::open(path)?;
        let mut runs = Vec::new();
        let mut outcome = Ok(());
        for n in 0..repeat {
            if let Err(e) = edit.apply(n) {
                outcome = Err(e);
                break;
            }
            let (_, summary) = snapshot.reanalyze(source, &names, now);
            runs.push((summary.duration_ms, summary.stages));
        }
        edit.restore()?;
        outcome?;
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((ms, stages)) = runs.get(runs.len() / 2) {
            edited_ms = Some(*ms);
            edited_stages = Some(*stages);
        }
    }

    let lookup = switchyard_conflicts::Lookup::default();
    let input = FleetInput {
        model: &snapshot.model,
        facts: &snapshot.facts,
        lookup: &lookup,
    };
    let mut index_runs = Vec::new();
    for _ in 0..repeat {
        let started = Instant::now();
        let index = FleetIndex::new(input);
        index_runs.push(millis(started));
        drop(index);
    }
    let index = FleetIndex::new(input);
    let detectors_ms = detectors()
        .iter()
        .map(|d| {
            let runs = (0..repeat)
                .map(|_| {
                    let started = Instant::now();
                    let found = d.detect_in(&index);
                    let ms = millis(started);
                    drop(found);
                    ms
                })
                .collect();
            (d.kind().as_str().to_string(), median(runs))
        })
        .collect();

    Ok(StageReport {
        repositories: snapshot.repositories.len(),
        services: snapshot.model.services.len(),
        edges: snapshot.model.edges.len(),
        conflicts: snapshot.conflicts.len(),
        full_analysis_ms,
        unchanged_ms: median(unchanged),
        edited_ms,
        edited_stages,
        index_ms: median(index_runs),
        detectors_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_generated_fleet_and_restores_the_edited_file() {
        let dir = tempfile::tempdir().unwrap();
        crate::generate::generate(
            &crate::plan::Options {
                repos: 12,
                seed: 3,
                services_per_repo: 3,
                cycle: false,
            },
            dir.path(),
            false,
        )
        .unwrap();
        let fleet = switchyard_extract::fleet::discover(dir.path()).unwrap();
        let source = FleetSource::new(fleet, None);
        let env = dir.path().join("repo-00005/.env");
        let before = std::fs::read_to_string(&env).ok();
        let report = measure(&source, "repo-00005", Some(&env), 2).unwrap();
        assert_eq!(report.repositories, 12);
        assert!(report.services >= 12, "{report:?}");
        assert_eq!(report.detectors_ms.len(), detectors().len());
        let stages = report.edited_stages.expect("edited runs");
        assert!(stages.link_ms > 0.0, "an edit re-links: {report:?}");
        assert_eq!(std::fs::read_to_string(&env).ok(), before, "restored");
    }
}

#[cfg(test)]
mod edit_tests {
    use super::Edit;

    #[test]
    fn an_edit_appends_a_numbered_line_and_restores_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        let missing = Edit::open(&dir.path().join("none.env")).unwrap();
        missing.apply(0).unwrap();
        assert!(dir.path().join("none.env").exists());
        missing.restore().unwrap();
        assert!(
            !dir.path().join("none.env").exists(),
            "a created file is removed"
        );

        std::fs::write(&path, "A=1").unwrap();
        let edit = Edit::open(&path).unwrap();
        edit.apply(3).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "A=1\nSWITCHYARD_BENCH_EDIT=3\n"
        );
        edit.restore().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=1");
    }
}
