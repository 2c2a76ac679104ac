//! `--watch` (`[server] watch = true`): one recursive notify watcher over every fleet
//! repository's folder. Changes are debounced (quiet for [`DEBOUNCE`], at most [`MAX_DELAY`]
//! after the first), mapped to repository names (the deepest repository folder containing the
//! path), and those repositories are re-analysed with [`AppState::reanalyze`] (no `git pull`).
//! Paths inside `.git/` or `.switchyard/` (the store, the cache) and pure reads or metadata
//! changes are ignored, so re-analysis itself never triggers another one. So are the server's
//! own files when they sit inside a repository folder (the operation log and its rotations, a
//! SQLite store with its `-wal`/`-shm`/`-journal`): every re-analysis writes them, and watching
//! them would re-analyse for ever.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::state::AppState;

/// Quiet time that ends a burst of changes.
pub const DEBOUNCE: Duration = Duration::from_millis(300);
/// Longest a burst is held back while files keep changing.
pub const MAX_DELAY: Duration = Duration::from_secs(3);
/// Folder names whose contents never affect the analysis.
pub const IGNORED_DIRS: &[&str] = &[".git", ".switchyard"];

/// Repository folders by name, to map a changed path to its repository.
#[derive(Debug, Clone)]
pub struct RepoPaths {
    /// (folder, name), deepest folders first so nested repositories win.
    roots: Vec<(PathBuf, String)>,
    /// Files the server writes itself; a path equal to one or extending its name is ignored.
    own_files: Vec<PathBuf>,
}

/// `path` with its folder canonicalized (the file itself may not exist yet).
fn canonical(path: &Path) -> PathBuf {
    if let Ok(path) = path.canonicalize() {
        return path;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match path.file_name() {
        Some(name) => parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
            .join(name),
        None => path.to_path_buf(),
    }
}

impl RepoPaths {
    pub fn new(repositories: impl IntoIterator<Item = (PathBuf, String)>) -> Self {
        let mut roots: Vec<(PathBuf, String)> = repositories
            .into_iter()
            .map(|(path, name)| (path.canonicalize().unwrap_or(path), name))
            .collect();
        roots.sort_by_key(|(path, _)| std::cmp::Reverse(path.components().count()));
        RepoPaths {
            roots,
            own_files: Vec::new(),
        }
    }

    /// Also ignores `files` and any path that extends one's name (`ops.jsonl.1`, `db-wal`).
    pub fn ignoring(mut self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        self.own_files
            .extend(files.into_iter().map(|f| canonical(&f)));
        self
    }

    fn is_own_file(&self, path: &Path) -> bool {
        let text = path.as_os_str().to_string_lossy();
        self.own_files
            .iter()
            .any(|own| text.starts_with(own.as_os_str().to_string_lossy().as_ref()))
    }

    /// The repository `path` belongs to, unless it is outside all of them or ignored.
    pub fn repository_of(&self, path: &Path) -> Option<&str> {
        if self.is_own_file(path) {
            return None;
        }
        self.roots.iter().find_map(|(root, name)| {
            let relative = path.strip_prefix(root).ok()?;
            (!is_ignored(relative)).then_some(name.as_str())
        })
    }

    /// The distinct repositories of `paths`, sorted.
    pub fn repositories_of<'a>(&self, paths: impl IntoIterator<Item = &'a PathBuf>) -> Vec<String> {
        paths
            .into_iter()
            .filter_map(|p| self.repository_of(p))
            .map(str::to_string)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    pub fn folders(&self) -> impl Iterator<Item = &Path> {
        self.roots.iter().map(|(path, _)| path.as_path())
    }
}

/// Whether a path relative to a repository folder is inside an ignored folder.
pub fn is_ignored(relative: &Path) -> bool {
    relative.components().any(|c| match c {
        std::path::Component::Normal(name) => IGNORED_DIRS.iter().any(|d| name == *d),
        _ => false,
    })
}

/// Whether an event kind can change what extraction reads.
fn is_change(kind: &EventKind) -> bool {
    use notify::event::ModifyKind;
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Other => false,
    }
}

/// The files the server itself writes: the operation log, and the SQLite store of a
/// `sqlite://PATH` URL.
fn own_files(state: &AppState) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = state.monitor.log_path().into_iter().collect();
    if let Some(url) = &state.config.store
        && let Some(path) = url.strip_prefix("sqlite://")
    {
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" {
            files.push(PathBuf::from(path));
        }
    }
    files
}

/// Starts the watcher when the configuration asks for it.
pub fn spawn(state: AppState) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    if !state.config.watch {
        return Ok(None);
    }
    let paths = RepoPaths::new(
        state
            .source
            .fleet
            .repositories
            .iter()
            .map(|r| (r.path.clone(), r.name.clone())),
    )
    .ignoring(own_files(&state));
    let (sender, receiver) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        if let Ok(event) = result
            && is_change(&event.kind)
        {
            // The receiver is gone only when the server is stopping.
            let _ = sender.send(event.paths);
        }
    })
    .map_err(|e| format!("--watch: cannot start the file watcher: {e}"))?;
    for folder in paths.folders() {
        watcher
            .watch(folder, RecursiveMode::Recursive)
            .map_err(|e| format!("--watch: cannot watch {}: {e}", folder.display()))?;
    }
    Ok(Some(tokio::spawn(run(state, watcher, paths, receiver))))
}

/// Collects a burst of changed paths: waits for the first, then until [`DEBOUNCE`] passes
/// without a new one (or [`MAX_DELAY`] since the first). `None` when the watcher stopped.
async fn burst(receiver: &mut mpsc::UnboundedReceiver<Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    let mut paths = receiver.recv().await?;
    let limit = tokio::time::Instant::now() + MAX_DELAY;
    loop {
        let quiet = (tokio::time::Instant::now() + DEBOUNCE).min(limit);
        match tokio::time::timeout_at(quiet, receiver.recv()).await {
            Ok(Some(more)) => paths.extend(more),
            Ok(None) | Err(_) => return Some(paths),
        }
    }
}

async fn run(
    state: AppState,
    watcher: notify::RecommendedWatcher,
    paths: RepoPaths,
    mut receiver: mpsc::UnboundedReceiver<Vec<PathBuf>>,
) {
    // Owned here so the watcher lives exactly as long as this task.
    let _watcher = watcher;
    let closed = state.events.closed();
    tokio::pin!(closed);
    loop {
        let changed = tokio::select! {
            () = &mut closed => return,
            changed = burst(&mut receiver) => changed,
        };
        let Some(changed) = changed else { return };
        let names = paths.repositories_of(&changed);
        if names.is_empty() {
            continue;
        }
        if let Err(error) = state.reanalyze(names.clone(), false).await {
            eprintln!(
                "switchyard: --watch: re-analysis of {} failed: {}",
                names.join(", "),
                error.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> RepoPaths {
        RepoPaths::new([
            (PathBuf::from("/fleet/api"), "api".to_string()),
            (PathBuf::from("/fleet/web"), "web".to_string()),
            (PathBuf::from("/fleet/web/plugins/auth"), "auth".to_string()),
        ])
    }

    #[test]
    fn paths_map_to_the_deepest_repository() {
        let p = paths();
        let of = |s: &str| p.repository_of(Path::new(s));
        assert_eq!(of("/fleet/api/docker-compose.yml"), Some("api"));
        assert_eq!(of("/fleet/api/k8s/deep/x.yaml"), Some("api"));
        assert_eq!(of("/fleet/api"), Some("api"));
        assert_eq!(of("/fleet/web/src/app.js"), Some("web"));
        assert_eq!(of("/fleet/web/plugins/auth/.env"), Some("auth"));
        assert_eq!(of("/fleet/web/plugins/authx/.env"), Some("web"));
        assert_eq!(of("/fleet/apix/file"), None);
        assert_eq!(of("/elsewhere/file"), None);
        let changed = [
            PathBuf::from("/fleet/web/a"),
            PathBuf::from("/fleet/api/b"),
            PathBuf::from("/fleet/web/c"),
            PathBuf::from("/fleet/api/.git/index"),
        ];
        assert_eq!(p.repositories_of(&changed), vec!["api", "web"]);
    }

    #[test]
    fn git_and_switchyard_folders_are_ignored() {
        let p = paths();
        let of = |s: &str| p.repository_of(Path::new(s));
        assert_eq!(of("/fleet/api/.git/HEAD"), None);
        assert_eq!(of("/fleet/api/.git"), None);
        assert_eq!(of("/fleet/api/.switchyard/state.db-wal"), None);
        assert_eq!(of("/fleet/api/sub/.git/config"), None);
        assert_eq!(of("/fleet/api/.gitignore"), Some("api"));
        assert_eq!(of("/fleet/api/.github/workflows/ci.yml"), Some("api"));
        assert_eq!(of("/fleet/api/my.switchyard/x"), Some("api"));
        assert!(is_ignored(Path::new(".git/objects/ab")));
        assert!(!is_ignored(Path::new("src/git/x")));
    }

    #[test]
    fn the_servers_own_files_are_ignored() {
        let p = paths().ignoring([
            PathBuf::from("/fleet/api/ops.jsonl"),
            PathBuf::from("/fleet/web/state.db"),
        ]);
        let of = |s: &str| p.repository_of(Path::new(s));
        assert_eq!(of("/fleet/api/ops.jsonl"), None);
        assert_eq!(of("/fleet/api/ops.jsonl.1"), None);
        assert_eq!(of("/fleet/web/state.db-wal"), None);
        assert_eq!(of("/fleet/web/state.db"), None);
        assert_eq!(of("/fleet/api/.env"), Some("api"));
        assert_eq!(of("/fleet/web/other.db"), Some("web"));
    }

    #[test]
    fn reads_and_metadata_are_not_changes() {
        use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind, ModifyKind};
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Any)));
        assert!(!is_change(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Any
        ))));
    }
}
