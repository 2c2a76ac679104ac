//! Generic config files (`config.json`, `settings.yml`, `appsettings.json`, `config/*.yaml`,
//! Prometheus and Grafana provisioning, the YAML of servers such as an OpenTelemetry collector,
//! Envoy, Kong or Loki): every scalar that looks like an address becomes a reference.
//!
//! This is the registry's fallback: it only sees YAML/JSON no earlier extractor took. Values are
//! judged by `emit` from the value and its last key (`url`, `host`…); the reference keeps the
//! whole key path (`datasources[0].url`). CORS allow-lists (`cors.origin`, `CORS_ORIGINS`…) are
//! recorded as env entries under their key path ([`allow_list`]); a per-environment file
//! (`environments/staging.json`) also records its values as env entries (key = the key path) for
//! env drift; nothing else is recorded: no services.

pub mod allow_list;
pub mod json;

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name};
use crate::yaml::{self, Node, Value};
use switchyard_model::redact::redact_value;
use switchyard_model::{EnvEntry, Mechanism, RepoFacts, Scope};

pub struct ConfigUrlsExtractor;

/// Deepest nesting walked; deeper values are ignored (no config nests this deep).
const MAX_DEPTH: usize = 64;

/// File names that are never service configuration, even inside a `config/` directory.
const DENIED_NAMES: [&str; 22] = [
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "composer.json",
    "composer.lock",
    "lerna.json",
    "nx.json",
    "project.json",
    "turbo.json",
    "renovate.json",
    "tslint.json",
    "angular.json",
    "deno.json",
    "biome.json",
    "cspell.json",
    "jest.config.json",
    "babel.config.json",
    ".pre-commit-config.yaml",
    "dependabot.yml",
    "mkdocs.yml",
];

/// Name prefixes of tool configs (`tsconfig.base.json`, `.eslintrc.json`…).
const DENIED_PREFIXES: [&str; 9] = [
    "tsconfig",
    "jsconfig",
    ".eslintrc",
    ".prettierrc",
    ".babelrc",
    ".stylelintrc",
    ".lintstagedrc",
    ".releaserc",
    ".markdownlint",
];

/// Directories holding editor or CI settings, not service configuration.
const DENIED_DIRS: [&str; 6] = [
    ".vscode",
    ".idea",
    ".devcontainer",
    ".github",
    ".gitlab",
    "node_modules",
];

/// Directory names whose JSON/YAML files are config files (`environments/` is where shared
/// config repositories keep one file per environment).
const CONFIG_DIRS: [&str; 6] = [
    "config",
    "configs",
    "provisioning",
    "environments",
    "envs",
    "settings",
];

/// Servers whose YAML/JSON config names their upstreams, as they name their config file or its
/// folder (`otel-collector-config.yaml`, `envoy/envoy.yaml`, `kong.yml`, `loki/local.yaml`):
/// such a file is what the server reads when it is mounted into its container.
const SERVER_CONFIG_WORDS: [&str; 15] = [
    "otel",
    "otelcol",
    "opentelemetry",
    "collector",
    "envoy",
    "kong",
    "loki",
    "tempo",
    "mimir",
    "promtail",
    "alertmanager",
    "jaeger",
    "thanos",
    "grafana",
    "prometheus",
];

/// Whether `path` is the YAML config of a server named by the file or its folder
/// (`otel-collector-config.yaml`, `envoy/front-proxy.yaml`).
pub fn is_server_config(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    names_a_server(stem, path.rsplit('/').nth(1))
}

fn names_a_server(stem: &str, parent: Option<&str>) -> bool {
    let word = |w: &str| SERVER_CONFIG_WORDS.contains(&w.to_ascii_lowercase().as_str());
    stem.split(['-', '_', '.']).any(word) || parent.is_some_and(word)
}

/// Whether a repo-relative path is a generic config file this extractor reads.
pub fn is_config_file(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if matches!(ext, "json" | "yml" | "yaml") => (stem, ext),
        _ => return false,
    };
    if DENIED_NAMES.contains(&name.as_str())
        || DENIED_PREFIXES.iter().any(|p| name.starts_with(p))
        || name.ends_with(".lock.json")
        || name.ends_with(".schema.json")
    {
        return false;
    }
    let dirs: Vec<&str> = path.split('/').rev().skip(1).collect();
    if dirs.iter().any(|d| DENIED_DIRS.contains(d)) {
        return false;
    }
    let is_json = ext == "json";
    if matches!(stem, "config" | "settings") || (stem == "prometheus" && !is_json) {
        return true;
    }
    if is_json && (stem.starts_with("appsettings") || stem.ends_with(".config")) {
        return true;
    }
    if !is_json && (stem.starts_with("datasource") || dirs.first() == Some(&"datasources")) {
        return true;
    }
    if !is_json && names_a_server(stem, dirs.first().copied()) {
        return true;
    }
    dirs.iter()
        .any(|d| CONFIG_DIRS.contains(&d.to_ascii_lowercase().as_str()))
}

impl Extractor for ConfigUrlsExtractor {
    fn name(&self) -> &'static str {
        "config_urls"
    }

    fn accepts(&self, path: &str) -> bool {
        is_config_file(path)
    }

    fn extract(&self, file: &SourceFile, _repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        let documents: Vec<Node> = if file.path.to_ascii_lowercase().ends_with(".json") {
            match json::parse_json(file) {
                Ok(doc) => doc.into_iter().collect(),
                Err(diagnostic) => {
                    out.diagnostics.push(diagnostic);
                    return Handled::Yes;
                }
            }
        } else {
            // A broken document loses only itself; each gets a diagnostic.
            let stream = yaml::parse_stream(&file.text);
            out.diagnostics.extend(stream.diagnostics(file));
            stream.nodes().cloned().collect()
        };
        let mut walker = Walker {
            file,
            out,
            path: String::new(),
            per_environment: is_per_environment_file(&file.path),
        };
        for doc in &documents {
            walker.walk(doc, "", 0);
        }
        Handled::Yes
    }
}

/// Depth-first walk keeping the key path of the current node.
struct Walker<'a> {
    file: &'a SourceFile,
    out: &'a mut RepoFacts,
    /// `datasources[0].url` style path of the node being visited.
    path: String,
    /// One file per environment (`environments/staging.json`): its values are recorded as env
    /// entries, so env drift can compare them with each consumer's env files.
    per_environment: bool,
}

/// Environment names a per-environment config file is named after.
const ENVIRONMENT_WORDS: [&str; 12] = [
    "development",
    "dev",
    "staging",
    "stage",
    "production",
    "prod",
    "test",
    "testing",
    "qa",
    "uat",
    "preview",
    "local",
];

/// Whether a config file holds one environment's values: its name is an environment
/// (`staging.json`, `production.yaml`) or ends with one (`config.prod.json`,
/// `appsettings.Staging.json`, `settings-dev.yml`).
pub fn is_per_environment_file(path: &str) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    stem.rsplit(['.', '-', '_'])
        .next()
        .is_some_and(|last| ENVIRONMENT_WORDS.contains(&last))
}

impl Walker<'_> {
    /// Visits `node`; `key` is the nearest map key above it (the parent key for array items),
    /// which decides for bare hosts and skips allow-lists such as `cors.origins`.
    fn walk(&mut self, node: &Node, key: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match &node.value {
            Value::Scalar { text, plain } => {
                if *plain && (node.is_null() || node.as_bool().is_some()) {
                    return;
                }
                self.record(node, key, text);
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{i}]"));
                    self.walk(item, key, depth + 1);
                    self.path.truncate(len);
                }
            }
            Value::Map(_) => {
                for (k, _, value) in node.entries() {
                    let len = self.path.len();
                    if !self.path.is_empty() {
                        self.path.push('.');
                    }
                    self.path.push_str(k);
                    if allow_list::is_allow_list(&self.path, k)
                        && let Some(list) = allow_list::allow_list_value(value)
                    {
                        let location = json::value_location(value, self.file);
                        emit::record_env(
                            self.out,
                            None,
                            &Scope::Host,
                            &self.path,
                            &list,
                            location,
                            Mechanism::Url,
                        );
                    }
                    self.walk(value, k, depth + 1);
                    self.path.truncate(len);
                }
            }
        }
    }

    fn record(&mut self, node: &Node, key: &str, value: &str) {
        // Prometheus `dns_sd_configs[].names` are DNS names of scrape targets (`tasks.api`).
        let key = if key == "names" && self.path.contains("dns_sd_configs") {
            "host"
        } else {
            key
        };
        let before = self.out.references.len();
        emit::record_address(
            self.out,
            None,
            &Scope::Host,
            key,
            value,
            json::value_location(node, self.file),
            Mechanism::Url,
        );
        // emit judged the value by its last key; the reference keeps the whole path.
        for reference in self.out.references.iter_mut().skip(before) {
            reference.key = Some(self.path.clone());
        }
        if self.per_environment && !self.path.is_empty() && !self.path.contains('[') {
            self.out.env.push(EnvEntry {
                service: None,
                key: self.path.clone(),
                display: redact_value(&self.path, value),
                value_hash: blake3::hash(value.as_bytes()).to_hex().to_string(),
                location: json::value_location(node, self.file),
            });
        }
    }
}

#[cfg(test)]
mod tests;
