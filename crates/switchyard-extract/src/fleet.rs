//! Which repositories make up the fleet: `switchyard.toml`, a folder of repositories, or
//! explicit paths; and the commented `switchyard.toml` that `switchyard init` writes.

use crate::walk::Limits;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_model::{ConventionValue, Conventions, Repository};

/// The fleet configuration file name.
pub const CONFIG_FILE: &str = "switchyard.toml";
pub const DEFAULT_HOST: &str = "local";
pub const DEFAULT_ENVIRONMENT: &str = "default";

/// A fleet: its repositories and the folder relative paths and the cache are anchored at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    pub root: PathBuf,
    pub repositories: Vec<RepoSpec>,
    /// How far the walk of each repository may go (`[limits]` in `switchyard.toml`).
    pub limits: Limits,
    /// Env keys that must agree fleet-wide (`[conventions]` in `switchyard.toml`).
    pub conventions: Conventions,
}

/// One repository and where it lives on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    pub name: String,
    pub path: PathBuf,
    pub host: String,
    pub environment: String,
    /// Variants named in `switchyard.toml` (`[[repository.variants]]`); when given they
    /// replace the ones found in the files.
    pub variants: Vec<VariantSpec>,
}

/// A named alternative deployment of a repository: the files and folders it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    pub name: String,
    /// Repo-relative files or folders.
    pub paths: Vec<String>,
}

impl VariantSpec {
    /// The variant as facts hold it: each path as a file and as a folder.
    pub fn to_variant(&self) -> switchyard_model::Variant {
        let mut files = Vec::new();
        for path in &self.paths {
            let path = path.trim_start_matches("./").trim_end_matches('/');
            if path.is_empty() || path == "." {
                files.push("/".to_string());
            } else {
                files.push(path.to_string());
                files.push(format!("{path}/"));
            }
        }
        switchyard_model::Variant {
            name: self.name.clone(),
            files,
        }
    }
}

impl RepoSpec {
    pub fn to_repository(&self) -> Repository {
        Repository {
            name: self.name.clone(),
            path: self.path.display().to_string(),
            host: self.host.clone(),
            environment: self.environment.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    #[error(
        "two repositories are named {name:?} ({first} and {second}); give one a `name` in {CONFIG_FILE}"
    )]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("no repositories found in {0}")]
    Empty(PathBuf),
    #[error("{config} declares {} that {}: {}", plural(.missing.len()), if .missing.len() == 1 { "does not exist" } else { "do not exist" }, .missing.join(", "))]
    MissingRepositories {
        config: PathBuf,
        missing: Vec<String>,
    },
}

fn plural(n: usize) -> String {
    if n == 1 {
        "a repository folder".into()
    } else {
        format!("{n} repository folders")
    }
}

/// Which rule decided what a folder's repositories are; the CLI prints it on stderr so a
/// surprising reading of a folder is never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The folder's `switchyard.toml` lists them.
    Config(PathBuf),
    /// The folder is one repository: its root holds these deployment files (or `.git`).
    RootHoldsDeploymentFiles { dir: PathBuf, markers: Vec<String> },
    /// Every immediate, non-hidden subfolder is a repository.
    Subfolders { dir: PathBuf, count: usize },
    /// The working folder's subfolders are git checkouts: each subfolder is a repository.
    GitCheckouts { dir: PathBuf, count: usize },
    /// Nothing says otherwise: the working folder is one repository.
    WorkingFolder(PathBuf),
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Config(path) => write!(f, "repositories listed in {}", path.display()),
            Rule::RootHoldsDeploymentFiles { dir, markers } => write!(
                f,
                "{} is one repository: its root holds {} (list its subfolders in a {CONFIG_FILE} or as REPO_PATH arguments to read them as a fleet)",
                dir.display(),
                markers.join(", ")
            ),
            Rule::Subfolders { dir, count } => write!(
                f,
                "{count} subfolders of {} are the repositories (its root holds no deployment files)",
                dir.display()
            ),
            Rule::GitCheckouts { dir, count } => write!(
                f,
                "{count} subfolders of {} are the repositories (some are git checkouts)",
                dir.display()
            ),
            Rule::WorkingFolder(dir) => write!(
                f,
                "{} is one repository (no {CONFIG_FILE}, no git checkouts in its subfolders)",
                dir.display()
            ),
        }
    }
}

/// The names at the root of `dir` that make it a repository rather than a folder of
/// repositories: compose files, a Dockerfile, Kubernetes kustomization or Helm chart, a package
/// workspace, nginx or Traefik configuration, or a git checkout. Sorted.
pub fn root_markers(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut markers: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| is_root_marker(name))
        .collect();
    markers.sort();
    markers
}

fn is_root_marker(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    (yaml
        && (lower.starts_with("docker-compose")
            || lower.starts_with("compose")
            || lower.starts_with("docker-stack")))
        || matches!(
            lower.as_str(),
            ".git"
                | "dockerfile"
                | "containerfile"
                | "kustomization.yaml"
                | "kustomization.yml"
                | "chart.yaml"
                | "package.json"
                | "pnpm-workspace.yaml"
                | "nginx.conf"
                | "traefik.yml"
                | "traefik.yaml"
                | "traefik.toml"
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default, rename = "repository")]
    repositories: Vec<RepoEntry>,
    #[serde(default)]
    limits: LimitsTable,
    #[serde(default)]
    conventions: ConventionsTable,
    /// `switchyard serve` settings; the server reads them, the fleet does not.
    #[serde(default)]
    #[allow(dead_code)]
    server: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    host: Option<String>,
    environment: Option<String>,
}

/// `[limits]`: every key optional, the rest from [`Limits::default`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsTable {
    max_file_bytes: Option<u64>,
    max_files: Option<usize>,
    max_depth: Option<usize>,
    max_total_bytes: Option<u64>,
    walk_timeout_seconds: Option<f64>,
}

impl LimitsTable {
    fn limits(&self) -> Result<Limits, String> {
        let d = Limits::default();
        let walk_timeout = match self.walk_timeout_seconds {
            None => d.walk_timeout,
            Some(s) => Duration::try_from_secs_f64(s)
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| {
                    format!("limits.walk_timeout_seconds must be a positive number, not {s}")
                })?,
        };
        Ok(Limits {
            max_file_bytes: self.max_file_bytes.unwrap_or(d.max_file_bytes),
            max_files: self.max_files.unwrap_or(d.max_files),
            max_depth: self.max_depth.unwrap_or(d.max_depth),
            max_total_bytes: self.max_total_bytes.unwrap_or(d.max_total_bytes),
            walk_timeout,
        })
    }
}

/// `[conventions]`: env keys that must agree across the fleet, and keys with one fixed value.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConventionsTable {
    #[serde(default)]
    agree: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    values: std::collections::BTreeMap<String, toml::Spanned<toml::Value>>,
}

impl ConventionsTable {
    /// The conventions, with each value's line in `text`.
    fn conventions(self, text: &str) -> Result<Conventions, String> {
        let mut values = Vec::new();
        for (key, spanned) in self.values {
            let line = text
                .get(..spanned.span().start)
                .map_or(0, |before| before.matches('\n').count() + 1);
            let value = match spanned.into_inner() {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    return Err(format!(
                        "conventions.values.{key} must be a string, a number or a boolean"
                    ));
                }
            };
            values.push(ConventionValue {
                key,
                value,
                line: u32::try_from(line).unwrap_or(0),
            });
        }
        for pattern in self.agree.iter().chain(&self.ignore) {
            if pattern.trim().is_empty() {
                return Err("conventions: a key pattern is empty".into());
            }
        }
        Ok(Conventions {
            agree: self.agree,
            ignore: self.ignore,
            values,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoEntry {
    name: Option<String>,
    path: String,
    host: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    variants: Vec<VariantSpec>,
}

/// Reads a `switchyard.toml`. Relative repository paths are relative to the file's folder.
pub fn load_config(path: &Path) -> Result<Fleet, FleetError> {
    let text = std::fs::read_to_string(path).map_err(|source| FleetError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let fleet = parse_config(&text, &root)
        .map_err(|message| FleetError::Parse {
            path: path.to_path_buf(),
            message,
        })
        .and_then(check_names)?;
    let missing: Vec<String> = fleet
        .repositories
        .iter()
        .filter(|r| !r.path.is_dir())
        .map(|r| format!("{} ({})", r.name, r.path.display()))
        .collect();
    if !missing.is_empty() {
        return Err(FleetError::MissingRepositories {
            config: path.to_path_buf(),
            missing,
        });
    }
    Ok(fleet)
}

/// Parses `switchyard.toml` text; paths are joined to `root`.
pub fn parse_config(text: &str, root: &Path) -> Result<Fleet, String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let limits = file.limits.limits()?;
    let conventions = file.conventions.conventions(text)?;
    let host = file.defaults.host.unwrap_or_else(|| DEFAULT_HOST.into());
    let environment = file
        .defaults
        .environment
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.into());
    let repositories = file
        .repositories
        .into_iter()
        .map(|r| {
            let path = root.join(&r.path);
            RepoSpec {
                name: r.name.unwrap_or_else(|| dir_name(&path)),
                path,
                host: r.host.unwrap_or_else(|| host.clone()),
                environment: r.environment.unwrap_or_else(|| environment.clone()),
                variants: r.variants,
            }
        })
        .collect::<Vec<RepoSpec>>();
    for r in &repositories {
        let mut names = std::collections::HashSet::new();
        for v in &r.variants {
            if v.name.trim().is_empty() || !names.insert(v.name.as_str()) {
                return Err(format!(
                    "repository {:?}: every variant needs a name of its own ({:?})",
                    r.name, v.name
                ));
            }
        }
    }
    Ok(Fleet {
        root: root.to_path_buf(),
        repositories,
        limits,
        conventions,
    })
}

fn dir_name(path: &Path) -> String {
    std::fs::canonicalize(path)
        .ok()
        .as_deref()
        .unwrap_or(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("repository")
        .to_string()
}

fn check_names(fleet: Fleet) -> Result<Fleet, FleetError> {
    let mut seen: std::collections::HashMap<&str, &RepoSpec> = Default::default();
    for a in &fleet.repositories {
        if let Some(b) = seen.insert(&a.name, a) {
            return Err(FleetError::DuplicateName {
                name: a.name.clone(),
                first: b.path.clone(),
                second: a.path.clone(),
            });
        }
    }
    Ok(fleet)
}

/// A folder of repositories: its `switchyard.toml` when present; else the folder itself as one
/// repository when its root holds deployment files ([`root_markers`]); else every immediate
/// subdirectory that is not hidden (sorted by name).
pub fn discover(dir: &Path) -> Result<Fleet, FleetError> {
    discover_explained(dir).map(|(fleet, _)| fleet)
}

/// [`discover`], with the rule that applied.
pub fn discover_explained(dir: &Path) -> Result<(Fleet, Rule), FleetError> {
    if !dir.is_dir() {
        return Err(FleetError::NotADirectory(dir.to_path_buf()));
    }
    let config = dir.join(CONFIG_FILE);
    if config.is_file() {
        return Ok((load_config(&config)?, Rule::Config(config)));
    }
    let markers = root_markers(dir);
    if !markers.is_empty() {
        let fleet = from_paths(&[dir.to_path_buf()], dir)?;
        return Ok((
            fleet,
            Rule::RootHoldsDeploymentFiles {
                dir: dir.to_path_buf(),
                markers,
            },
        ));
    }
    let fleet = subdirectories(dir)?;
    let count = fleet.repositories.len();
    Ok((
        fleet,
        Rule::Subfolders {
            dir: dir.to_path_buf(),
            count,
        },
    ))
}

/// Every immediate, non-hidden subdirectory of `dir` as a repository (sorted by name).
pub fn subdirectories(dir: &Path) -> Result<Fleet, FleetError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FleetError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !crate::walk::SKIPPED_DIRS.contains(&n))
        })
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(FleetError::Empty(dir.to_path_buf()));
    }
    Ok(Fleet {
        root: dir.to_path_buf(),
        repositories: dirs.into_iter().map(|p| repo_spec(&p)).collect(),
        limits: Limits::default(),
        conventions: Conventions::default(),
    })
}

fn repo_spec(path: &Path) -> RepoSpec {
    RepoSpec {
        name: dir_name(path),
        path: path.to_path_buf(),
        host: DEFAULT_HOST.into(),
        environment: DEFAULT_ENVIRONMENT.into(),
        variants: Vec::new(),
    }
}

/// Explicit repository paths, one repository each.
pub fn from_paths(paths: &[PathBuf], root: &Path) -> Result<Fleet, FleetError> {
    let mut repositories = Vec::new();
    for p in paths {
        if !p.is_dir() {
            return Err(FleetError::NotADirectory(p.clone()));
        }
        repositories.push(repo_spec(p));
    }
    check_names(Fleet {
        root: root.to_path_buf(),
        repositories,
        limits: Limits::default(),
        conventions: Conventions::default(),
    })
}

/// The default fleet of a working directory: its `switchyard.toml`; else the folder as one
/// repository when its root holds deployment files; else the folder as a fleet when some
/// subdirectory is a git checkout; else the folder as one repository.
pub fn from_working_dir(cwd: &Path) -> Result<Fleet, FleetError> {
    from_working_dir_explained(cwd).map(|(fleet, _)| fleet)
}

/// [`from_working_dir`], with the rule that applied.
pub fn from_working_dir_explained(cwd: &Path) -> Result<(Fleet, Rule), FleetError> {
    let config = cwd.join(CONFIG_FILE);
    if config.is_file() {
        return Ok((load_config(&config)?, Rule::Config(config)));
    }
    let markers = root_markers(cwd);
    if !markers.is_empty() {
        let fleet = from_paths(&[cwd.to_path_buf()], cwd)?;
        return Ok((
            fleet,
            Rule::RootHoldsDeploymentFiles {
                dir: cwd.to_path_buf(),
                markers,
            },
        ));
    }
    let has_checkouts = std::fs::read_dir(cwd)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().join(".git").exists())
        })
        .unwrap_or(false);
    if has_checkouts {
        let fleet = subdirectories(cwd)?;
        let count = fleet.repositories.len();
        Ok((
            fleet,
            Rule::GitCheckouts {
                dir: cwd.to_path_buf(),
                count,
            },
        ))
    } else {
        Ok((
            from_paths(&[cwd.to_path_buf()], cwd)?,
            Rule::WorkingFolder(cwd.to_path_buf()),
        ))
    }
}

/// A commented `switchyard.toml` for a fleet; paths are written relative to `fleet.root`.
pub fn render_config(fleet: &Fleet) -> String {
    let mut out = String::from(
        "# Switchyard fleet: one [[repository]] table per repository.\n\
         #   name         the repository's name in every output (default: the folder name)\n\
         #   path         folder of the checkout, relative to this file\n\
         #   host         machine it deploys to; repositories on one host share host ports\n\
         #   environment  e.g. development, staging, production\n\
         # Alternative deployments in one repository are found from its files (compose files that\n\
         # redeclare services, kustomize overlays, manifest trees); to name them yourself:\n\
         #   [[repository.variants]]\n\
         #   name = \"prod\"\n\
         #   paths = [\"docker-compose.prod.yml\", \"deploy/prod\"]\n\
         # [defaults] sets host and environment for repositories that do not name them.\n\n\
         [defaults]\n",
    );
    out.push_str(&format!(
        "host = {}\nenvironment = {}\n",
        toml_string(DEFAULT_HOST),
        toml_string(DEFAULT_ENVIRONMENT)
    ));
    for r in &fleet.repositories {
        let rel = r
            .path
            .strip_prefix(&fleet.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| r.path.clone());
        let rel = rel.display().to_string();
        out.push_str(&format!(
            "\n[[repository]]\nname = {}\npath = {}\n",
            toml_string(&r.name),
            toml_string(if rel.is_empty() { "." } else { &rel })
        ));
        if r.host != DEFAULT_HOST {
            out.push_str(&format!("host = {}\n", toml_string(&r.host)));
        }
        if r.environment != DEFAULT_ENVIRONMENT {
            out.push_str(&format!("environment = {}\n", toml_string(&r.environment)));
        }
    }
    let d = Limits::default();
    out.push_str(&format!(
        "\n# [limits] bounds the reading of each repository; each overrun is a diagnostic and the\n\
         # rest of the fleet is still analyzed. Symbolic links leaving a repository are never followed.\n\
         # [limits]\n\
         # max_file_bytes = {}\n\
         # max_files = {}\n\
         # max_depth = {}\n\
         # max_total_bytes = {}\n\
         # walk_timeout_seconds = {}\n",
        d.max_file_bytes,
        d.max_files,
        d.max_depth,
        d.max_total_bytes,
        d.walk_timeout.as_secs()
    ));
    out.push_str(
        "\n# [conventions] names env keys that must agree across the fleet (env_drift conflicts).\n\
         # [conventions]\n\
         # agree = [\"TZ\", \"PUID\", \"PGID\"]    # one value per environment, on every host\n\
         # ignore = [\"WORKER_*\"]              # values that differ on purpose\n\
         # [conventions.values]\n\
         # TZ = \"Europe/Berlin\"               # the value every repository must use\n",
    );
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_with_defaults() {
        let text = "[defaults]\nhost = \"nas\"\n[[repository]]\npath = \"a\"\n[[repository]]\nname = \"bee\"\npath = \"b\"\nhost = \"pi\"\nenvironment = \"prod\"\n";
        let fleet = parse_config(text, Path::new("/f")).unwrap();
        assert_eq!(fleet.repositories[0].name, "a");
        assert_eq!(fleet.repositories[0].host, "nas");
        assert_eq!(fleet.repositories[0].environment, "default");
        assert_eq!(fleet.repositories[1].name, "bee");
        assert_eq!(fleet.repositories[1].path, Path::new("/f/b"));
        assert_eq!(fleet.repositories[1].host, "pi");
    }

    #[test]
    fn limits_come_from_the_limits_table() {
        let text = "[limits]\nmax_files = 10\nmax_depth = 3\nwalk_timeout_seconds = 0.5\n";
        let fleet = parse_config(text, Path::new(".")).unwrap();
        assert_eq!(fleet.limits.max_files, 10);
        assert_eq!(fleet.limits.max_depth, 3);
        assert_eq!(fleet.limits.walk_timeout, Duration::from_millis(500));
        assert_eq!(
            fleet.limits.max_total_bytes,
            Limits::default().max_total_bytes
        );
        assert!(parse_config("[limits]\nwalk_timeout_seconds = -1\n", Path::new(".")).is_err());
        assert!(parse_config("[limits]\nmax_flies = 1\n", Path::new(".")).is_err());
    }

    #[test]
    fn conventions_with_value_lines() {
        let text = "[[repository]]\npath = \"a\"\n\n[conventions]\nagree = [\"PUID\", \"tz\"]\nignore = [\"WORKER_*\"]\n\n[conventions.values]\nTZ = \"Europe/Berlin\"\nPUID = 1000\n";
        let fleet = parse_config(text, Path::new(".")).unwrap();
        let c = &fleet.conventions;
        assert_eq!(c.agree, ["PUID", "tz"]);
        assert_eq!(c.ignore, ["WORKER_*"]);
        let values: Vec<(&str, &str, u32)> = c
            .values
            .iter()
            .map(|v| (v.key.as_str(), v.value.as_str(), v.line))
            .collect();
        assert_eq!(values, [("PUID", "1000", 10), ("TZ", "Europe/Berlin", 9)]);
        assert!(parse_config("[conventions]\nagre = []\n", Path::new(".")).is_err());
        assert!(parse_config("[conventions.values]\nA = [1]\n", Path::new(".")).is_err());
        assert!(parse_config("[conventions]\nagree = [\" \"]\n", Path::new(".")).is_err());
        assert!(
            parse_config("", Path::new("."))
                .unwrap()
                .conventions
                .is_empty()
        );
    }

    #[test]
    fn variants_are_named_per_repository() {
        let text = "[[repository]]\npath = \"shop\"\n[[repository.variants]]\nname = \"prod\"\npaths = [\"docker-compose.prod.yml\", \"deploy/prod/\"]\n[[repository.variants]]\nname = \"local\"\npaths = [\"./docker-compose.yml\"]\n";
        let fleet = parse_config(text, Path::new("/f")).unwrap();
        let variants = &fleet.repositories[0].variants;
        assert_eq!(variants.len(), 2);
        let prod = variants[0].to_variant();
        assert!(prod.holds("docker-compose.prod.yml"));
        assert!(prod.holds("deploy/prod/api.yaml"));
        assert!(!prod.holds("docker-compose.yml"));
        assert!(variants[1].to_variant().holds("docker-compose.yml"));
        // Two variants of one name, or a key a variant does not have, are refused.
        let twice = "[[repository]]\npath = \"a\"\n[[repository.variants]]\nname = \"x\"\npaths = []\n[[repository.variants]]\nname = \"x\"\npaths = []\n";
        assert!(parse_config(twice, Path::new(".")).is_err());
        let typo =
            "[[repository]]\npath = \"a\"\n[[repository.variants]]\nname = \"x\"\npath = [\"a\"]\n";
        assert!(parse_config(typo, Path::new(".")).is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(
            parse_config(
                "[[repository]]\npath = \"a\"\nhots = \"x\"\n",
                Path::new(".")
            )
            .is_err()
        );
    }

    #[test]
    fn discovery_and_init_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["web", "api", ".hidden", "node_modules"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let fleet = discover(dir.path()).unwrap();
        let names: Vec<_> = fleet.repositories.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["api", "web"]);
        let text = render_config(&fleet);
        let again = parse_config(&text, dir.path()).unwrap();
        assert_eq!(again.repositories, fleet.repositories);
    }

    #[test]
    fn a_folder_with_deployment_files_at_its_root_is_one_repository() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["api", "web"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("README.md"), "# fleet\n").unwrap();
        let (fleet, rule) = discover_explained(dir.path()).unwrap();
        assert_eq!(fleet.repositories.len(), 2);
        assert!(
            matches!(rule, Rule::Subfolders { count: 2, .. }),
            "{rule:?}"
        );
        std::fs::write(dir.path().join("Compose.yaml"), "services: {}\n").unwrap();
        let (fleet, rule) = discover_explained(dir.path()).unwrap();
        assert_eq!(fleet.repositories.len(), 1);
        assert_eq!(fleet.repositories[0].path, dir.path());
        assert_eq!(
            rule,
            Rule::RootHoldsDeploymentFiles {
                dir: dir.path().to_path_buf(),
                markers: vec!["Compose.yaml".into()]
            }
        );
        for name in [
            "docker-compose.prod.yml",
            "Dockerfile",
            "Chart.yaml",
            ".git",
            "package.json",
        ] {
            assert!(is_root_marker(name), "{name}");
        }
        for name in ["README.md", ".env", "compose.txt", "values.yaml"] {
            assert!(!is_root_marker(name), "{name}");
        }
    }

    #[test]
    fn a_declared_repository_that_is_missing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("api")).unwrap();
        let config = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &config,
            "[[repository]]\npath = \"api\"\n[[repository]]\npath = \"gone\"\n",
        )
        .unwrap();
        let err = load_config(&config).unwrap_err();
        assert!(
            matches!(&err, FleetError::MissingRepositories { missing, .. } if missing.len() == 1)
        );
        assert!(
            err.to_string()
                .contains("a repository folder that does not exist: gone"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x/app")).unwrap();
        std::fs::create_dir_all(dir.path().join("y/app")).unwrap();
        let err = from_paths(
            &[dir.path().join("x/app"), dir.path().join("y/app")],
            dir.path(),
        )
        .unwrap_err();
        assert!(matches!(err, FleetError::DuplicateName { .. }));
    }
}
