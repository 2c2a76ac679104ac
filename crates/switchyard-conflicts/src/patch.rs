//! Edits → unified diffs, and applying them to files.
//!
//! [`apply_edits`], [`unified_diff`] and [`group_by_file`] are pure. [`write_atomically`] and
//! [`apply_to_disk`] are the only functions of this crate that touch the disk: they refuse
//! paths that leave a repository and files changed since analysis, check every file before
//! writing any, and replace each file by a rename so a crash never leaves half a file.
//!
//! **New files.** An [`Edit`] with the empty span `0..0` and `expected == ""` on a path that does
//! not exist creates that file with `replacement` as its content (a strategy uses it for an
//! override file). On an existing file the same edit is an insertion at the start; strategies
//! only propose it after checking the file does not exist.

use crate::Edit;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Why edits could not be applied. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{repository}/{path} changed since it was analyzed; analyze again before resolving")]
    Stale { repository: String, path: String },
    #[error("{repository}/{path}: two edits overlap at byte {at}")]
    Overlap {
        repository: String,
        path: String,
        at: usize,
    },
    #[error(
        "{repository}/{path}: byte span {start}..{end} is outside the file or splits a character"
    )]
    InvalidSpan {
        repository: String,
        path: String,
        start: usize,
        end: usize,
    },
    #[error("{repository}/{path} is outside the repository; refusing to write it")]
    Escape { repository: String, path: String },
    #[error("no path is known for repository {repository}")]
    UnknownRepository { repository: String },
    #[error("{repository}/{path} does not exist")]
    Missing { repository: String, path: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Applies the edits of one file to its text. Edits may come in any order; they must not
/// overlap, each must find `expected` at its span (else [`PatchError::Stale`]), and spans must
/// lie on character boundaries.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> Result<String, PatchError> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    let mut previous: Option<&Edit> = None;
    for edit in sorted {
        let (start, end) = (edit.span.start, edit.span.end);
        let Some(current) = text.get(start..end) else {
            return Err(PatchError::InvalidSpan {
                repository: edit.repository.clone(),
                path: edit.path.clone(),
                start,
                end,
            });
        };
        if let Some(prev) = previous {
            // Two insertions at one offset have no defined order: refuse them like an overlap.
            let same_insertion = prev.span == edit.span && start == end;
            if start < prev.span.end || same_insertion {
                return Err(PatchError::Overlap {
                    repository: edit.repository.clone(),
                    path: edit.path.clone(),
                    at: start,
                });
            }
        }
        if current != edit.expected {
            return Err(PatchError::Stale {
                repository: edit.repository.clone(),
                path: edit.path.clone(),
            });
        }
        out.push_str(&text[at..start]);
        out.push_str(&edit.replacement);
        at = end;
        previous = Some(edit);
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// A unified diff of one file (`diff -u` / `git diff` shape: `--- a/PATH`, `+++ b/PATH`, hunks
/// with 3 lines of context). `repo_path` is `repository/path`. A file that did not exist
/// (`old` empty) is diffed from `/dev/null`. Empty when nothing changed.
pub fn unified_diff(repo_path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let from = if old.is_empty() {
        "/dev/null".to_string()
    } else {
        format!("a/{repo_path}")
    };
    let diff = similar::TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&from, &format!("b/{repo_path}"))
        .to_string()
}

/// Edits grouped by `(repository, path)`, each group in span order.
pub fn group_by_file(edits: &[Edit]) -> BTreeMap<(String, String), Vec<&Edit>> {
    let mut groups: BTreeMap<(String, String), Vec<&Edit>> = BTreeMap::new();
    for edit in edits {
        groups
            .entry((edit.repository.clone(), edit.path.clone()))
            .or_default()
            .push(edit);
    }
    for group in groups.values_mut() {
        group.sort_by_key(|e| (e.span.start, e.span.end));
    }
    groups
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PatchError + '_ {
    move |source| PatchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Replaces `path` with `text`: writes a temporary file in the same directory, flushes it to
/// disk, gives it the old file's permissions, and renames it over `path`.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let permissions = fs::metadata(path).ok().map(|m| m.permissions());
    let (tmp_path, mut file) = create_temp(&dir, &name)?;
    let written = (|| {
        file.write_all(text.as_bytes())?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    // The rename is durable only once the directory entry is flushed too (best effort: not
    // every platform lets a directory be opened).
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, fs::File)> {
    let pid = std::process::id();
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(".{name}.switchyard-{pid}-{attempt}.tmp"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a temporary file",
    ))
}

/// Whether a repo-relative path stays inside its repository by its text alone: relative, no
/// `..`, no drive or root.
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// One checked file, ready to be written.
struct Planned {
    target: PathBuf,
    text: String,
    /// Directories to create first (a new file in a new folder).
    create_dir: Option<PathBuf>,
}

/// Checks one file's edits against the disk and computes its new text.
fn plan_file(
    root: &Path,
    repository: &str,
    path: &str,
    edits: &[&Edit],
) -> Result<Planned, PatchError> {
    let escape = || PatchError::Escape {
        repository: repository.to_string(),
        path: path.to_string(),
    };
    if !is_plain_relative(path) {
        return Err(escape());
    }
    let root = root.canonicalize().map_err(io_error(root))?;
    let full = root.join(path);
    match fs::symlink_metadata(&full) {
        Ok(_) => {
            // Follow symlinks, then require the real file to be inside the repository; the
            // real path is what gets replaced, so a link inside the repo stays a link.
            let target = full.canonicalize().map_err(|_| escape())?;
            if !target.starts_with(&root) || !target.is_file() {
                return Err(escape());
            }
            let current = fs::read_to_string(&target).map_err(io_error(&target))?;
            let text = apply_edits(&current, edits)?;
            Ok(Planned {
                target,
                text,
                create_dir: None,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let creates = edits
                .iter()
                .all(|e| e.span.start == 0 && e.span.end == 0 && e.expected.is_empty());
            if !creates {
                return Err(PatchError::Missing {
                    repository: repository.to_string(),
                    path: path.to_string(),
                });
            }
            // The nearest existing ancestor must be inside the repository (it may be a link).
            let parent = full.parent().ok_or_else(escape)?;
            let mut existing = parent;
            while fs::symlink_metadata(existing).is_err() {
                existing = existing.parent().ok_or_else(escape)?;
            }
            let real = existing.canonicalize().map_err(|_| escape())?;
            if !real.starts_with(&root) || !real.is_dir() {
                return Err(escape());
            }
            let rest = parent.strip_prefix(existing).map_err(|_| escape())?;
            let text = apply_edits("", edits)?;
            let file_name = full.file_name().ok_or_else(escape)?;
            let dir = real.join(rest);
            Ok(Planned {
                target: dir.join(file_name),
                text,
                create_dir: (!rest.as_os_str().is_empty()).then_some(dir),
            })
        }
        Err(e) => Err(PatchError::Io {
            path: full,
            source: e,
        }),
    }
}

/// Applies edits to the files of the repositories at `repo_roots`. Every file is checked first
/// (path inside its repository, symlinks resolved; current content matches every `expected`);
/// only then is each written with [`write_atomically`]. Returns the written paths.
pub fn apply_to_disk(
    repo_roots: &HashMap<String, PathBuf>,
    edits: &[Edit],
) -> Result<Vec<PathBuf>, PatchError> {
    let mut planned = Vec::new();
    for ((repository, path), file_edits) in group_by_file(edits) {
        let root = repo_roots
            .get(&repository)
            .ok_or_else(|| PatchError::UnknownRepository {
                repository: repository.clone(),
            })?;
        planned.push(plan_file(root, &repository, &path, &file_edits)?);
    }
    let mut written = Vec::with_capacity(planned.len());
    for p in planned {
        if let Some(dir) = &p.create_dir {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        write_atomically(&p.target, &p.text).map_err(io_error(&p.target))?;
        written.push(p.target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::ByteSpan;

    fn edit(path: &str, start: usize, end: usize, expected: &str, replacement: &str) -> Edit {
        Edit {
            repository: "r".into(),
            path: path.into(),
            span: ByteSpan::new(start, end),
            expected: expected.into(),
            replacement: replacement.into(),
        }
    }

    const COMPOSE: &str = "services:\n  web:\n    ports: [\"8080:80\"] # keep\n";

    #[test]
    fn applies_edits_in_any_order() {
        let at = COMPOSE.find("8080").unwrap();
        let a = edit("c.yml", at, at + 4, "8080", "20000");
        let b = edit("c.yml", 12, 15, "web", "api");
        let out = apply_edits(COMPOSE, &[&a, &b]).unwrap();
        assert_eq!(out, "services:\n  api:\n    ports: [\"20000:80\"] # keep\n");
        // An insertion right where a replacement starts is fine: order is defined.
        let ins = edit("c.yml", at, at, "", "1");
        assert_eq!(
            apply_edits(COMPOSE, &[&a, &ins]).unwrap(),
            "services:\n  web:\n    ports: [\"120000:80\"] # keep\n"
        );
    }

    #[test]
    fn refuses_stale_overlapping_and_split_spans() {
        let at = COMPOSE.find("8080").unwrap();
        let stale = edit("c.yml", at, at + 4, "9090", "20000");
        assert!(matches!(
            apply_edits(COMPOSE, &[&stale]),
            Err(PatchError::Stale { path, .. }) if path == "c.yml"
        ));
        let a = edit("c.yml", at, at + 4, "8080", "1");
        let b = edit("c.yml", at + 2, at + 6, "80:8", "2");
        assert!(matches!(
            apply_edits(COMPOSE, &[&b, &a]),
            Err(PatchError::Overlap { at: x, .. }) if x == at + 2
        ));
        let i1 = edit("c.yml", 0, 0, "", "a");
        let i2 = edit("c.yml", 0, 0, "", "b");
        assert!(matches!(
            apply_edits(COMPOSE, &[&i1, &i2]),
            Err(PatchError::Overlap { .. })
        ));
        let split = edit("c.yml", 1, 2, "", "x");
        assert!(matches!(
            apply_edits("é", &[&split]),
            Err(PatchError::InvalidSpan { .. })
        ));
        let past = edit("c.yml", 3, 9, "", "x");
        assert!(matches!(
            apply_edits("abc", &[&past]),
            Err(PatchError::InvalidSpan { .. })
        ));
    }

    #[test]
    fn unified_diff_has_the_diff_u_shape() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
        let new = old.replace("b\n", "B\n").replace("l\n", "L\n");
        let expected = "--- a/r/o.txt\n+++ b/r/o.txt\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n\
                        @@ -9,5 +9,5 @@\n i\n j\n k\n-l\n+L\n m\n";
        assert_eq!(unified_diff("r/o.txt", old, &new), expected);
        assert_eq!(
            unified_diff("r/x", "x\ny", "x\nz"),
            "--- a/r/x\n+++ b/r/x\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n"
        );
        assert_eq!(
            unified_diff("r/new.yml", "", "x\n"),
            "--- /dev/null\n+++ b/r/new.yml\n@@ -0,0 +1 @@\n+x\n"
        );
        assert_eq!(unified_diff("r/x", "same\n", "same\n"), "");
    }

    #[test]
    fn unified_diff_is_accepted_by_patch_tools() {
        // `git apply --check` (when git is installed) is the ground truth for the format.
        let dir = tempfile::tempdir().unwrap();
        let old = "services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"\n    restart: always\n";
        let new = old.replace("8080", "20000");
        fs::create_dir_all(dir.path().join("r")).unwrap();
        fs::write(dir.path().join("r/compose.yml"), old).unwrap();
        fs::write(
            dir.path().join("p.diff"),
            unified_diff("r/compose.yml", old, &new),
        )
        .unwrap();
        let Ok(status) = std::process::Command::new("git")
            .args(["apply", "p.diff"])
            .current_dir(dir.path())
            .status()
        else {
            return;
        };
        assert!(status.success());
        assert_eq!(
            fs::read_to_string(dir.path().join("r/compose.yml")).unwrap(),
            new
        );
    }

    proptest::proptest! {
        /// Any set of disjoint replacements, in any order, gives the text rebuilt by hand.
        #[test]
        fn disjoint_edits_apply_in_any_order(text in "[a-zé\n]{0,40}", cuts in proptest::collection::vec(0usize..60, 0..8), reverse: bool) {
            let bounds: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
            let mut points: Vec<usize> = cuts.iter().map(|c| bounds[c % bounds.len()]).collect();
            points.sort_unstable();
            points.dedup();
            let mut edits = Vec::new();
            let mut expected = String::new();
            let mut at = 0;
            for pair in points.chunks(2) {
                let (start, end) = (pair[0], *pair.get(1).unwrap_or(&pair[0]));
                expected.push_str(&text[at..start]);
                expected.push_str("<>");
                edits.push(edit("f", start, end, &text[start..end], "<>"));
                at = end;
            }
            expected.push_str(&text[at..]);
            let mut refs: Vec<&Edit> = edits.iter().collect();
            if reverse {
                refs.reverse();
            }
            proptest::prop_assert_eq!(apply_edits(&text, &refs).unwrap(), expected);
        }
    }

    #[test]
    fn groups_by_file_in_span_order() {
        let edits = vec![
            edit("b", 5, 6, "", ""),
            edit("a", 9, 9, "", ""),
            edit("b", 1, 2, "", ""),
        ];
        let groups = group_by_file(&edits);
        let keys: Vec<_> = groups.keys().map(|(_, p)| p.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        let b: Vec<usize> = groups[&("r".to_string(), "b".to_string())]
            .iter()
            .map(|e| e.span.start)
            .collect();
        assert_eq!(b, [1, 5]);
    }

    fn repo() -> (tempfile::TempDir, HashMap<String, PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("r");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("c.yml"), COMPOSE).unwrap();
        fs::write(root.join(".env"), "PORT=8080\n").unwrap();
        let roots = HashMap::from([("r".to_string(), root)]);
        (dir, roots)
    }

    #[test]
    fn applies_to_disk_and_creates_new_files() {
        let (dir, roots) = repo();
        let at = COMPOSE.find("8080").unwrap();
        let edits = vec![
            edit("c.yml", at, at + 4, "8080", "20000"),
            edit(".env", 5, 9, "8080", "20000"),
            edit("deploy/override.yml", 0, 0, "", "services: {}\n"),
        ];
        let written = apply_to_disk(&roots, &edits).unwrap();
        assert_eq!(written.len(), 3);
        let root = dir.path().join("r");
        assert_eq!(
            fs::read_to_string(root.join("c.yml")).unwrap(),
            COMPOSE.replace("8080", "20000")
        );
        assert_eq!(
            fs::read_to_string(root.join(".env")).unwrap(),
            "PORT=20000\n"
        );
        assert_eq!(
            fs::read_to_string(root.join("deploy/override.yml")).unwrap(),
            "services: {}\n"
        );
        // No temporary files are left behind.
        let names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("switchyard")), "{names:?}");
    }

    #[test]
    fn stale_file_refuses_the_whole_call() {
        let (dir, roots) = repo();
        let root = dir.path().join("r");
        let at = COMPOSE.find("8080").unwrap();
        let edits = vec![
            edit("c.yml", at, at + 4, "8080", "20000"),
            // The .env changed since analysis: PORT is no longer 8080 there.
            edit(".env", 5, 9, "9999", "20000"),
        ];
        fs::write(root.join(".env"), "PORT=8081\n").unwrap();
        let err = apply_to_disk(&roots, &edits).unwrap_err();
        assert!(matches!(err, PatchError::Stale { ref path, .. } if path == ".env"));
        // Nothing was written, not even the file that was fine.
        assert_eq!(fs::read_to_string(root.join("c.yml")).unwrap(), COMPOSE);
        // A missing file that is not a creation is refused too.
        let gone = vec![edit("gone.yml", 1, 2, "x", "y")];
        assert!(matches!(
            apply_to_disk(&roots, &gone),
            Err(PatchError::Missing { .. })
        ));
        let unknown = vec![Edit {
            repository: "nope".into(),
            ..edit("c.yml", 0, 0, "", "")
        }];
        assert!(matches!(
            apply_to_disk(&roots, &unknown),
            Err(PatchError::UnknownRepository { .. })
        ));
    }

    #[test]
    fn refuses_paths_leaving_the_repository() {
        let (dir, roots) = repo();
        fs::write(dir.path().join("outside.txt"), "secret\n").unwrap();
        for path in ["../outside.txt", "/etc/passwd", "a/../../outside.txt", ""] {
            let edits = vec![edit(path, 0, 0, "", "x")];
            assert!(
                matches!(
                    apply_to_disk(&roots, &edits),
                    Err(PatchError::Escape { .. })
                ),
                "{path}"
            );
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("outside.txt")).unwrap(),
            "secret\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_resolving_outside() {
        let (dir, roots) = repo();
        let root = dir.path().join("r");
        fs::write(dir.path().join("outside.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        for path in ["link.txt", "up/outside.txt", "up/new.txt"] {
            let edits = vec![edit(path, 0, 0, "", "x")];
            assert!(
                matches!(
                    apply_to_disk(&roots, &edits),
                    Err(PatchError::Escape { .. })
                ),
                "{path}"
            );
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("outside.txt")).unwrap(),
            "secret\n"
        );
        assert!(!dir.path().join("new.txt").exists());
        // A link to a file inside the repository is followed and stays a link.
        std::os::unix::fs::symlink(root.join(".env"), root.join("env-link")).unwrap();
        let edits = vec![edit("env-link", 5, 9, "8080", "20000")];
        apply_to_disk(&roots, &edits).unwrap();
        assert!(
            fs::symlink_metadata(root.join("env-link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(root.join(".env")).unwrap(),
            "PORT=20000\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        fs::write(&path, "echo old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
        write_atomically(&path, "echo new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "echo new\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
