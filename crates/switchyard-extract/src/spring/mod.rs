//! Spring Boot configuration (`application.yml`, `application-<profile>.yml`, `bootstrap.yml`)
//! and Spring Cloud Config repositories (`<spring.application.name>.yml` beside a shared
//! `application.yml`): every address in it is a reference from the application that reads it.
//!
//! Who reads a file: the application named by its `spring.application.name`; in a config
//! repository, the application the file is named after (`customers-service.yml`,
//! `customers-service-docker.yml`), and every such application for the shared `application.yml`.
//! Those names may belong to services of other repositories: `link` attributes them. Spring
//! placeholders (`${VAR:default}`, `${other.property}`) are resolved from the file's own
//! properties or their default; gateway routes `lb://<service-id>` call the service registered
//! under that id; `optional:configserver:<url>` is the config server the application fetches from.

use crate::emit;
use crate::extractor::{Extractor, Handled};
use crate::source::{RepoFiles, SourceFile, file_name, parent_dir};
use crate::yaml::{self, Node, Value};
use std::collections::HashMap;
use switchyard_model::{Mechanism, RepoFacts, Scope};

pub struct SpringExtractor;

/// Deepest nesting walked (no Spring configuration nests this deep).
const MAX_DEPTH: usize = 48;

/// Most placeholder substitutions in one value (`${a}` → `${b}` → …), against loops.
const MAX_SUBSTITUTIONS: usize = 16;

/// Top-level keys only Spring applications use: a file without one is not Spring's.
const SPRING_ROOTS: [&str; 3] = ["spring", "eureka", "management"];

/// Roots that mark a file not named `application`/`bootstrap` as Spring's: `management` alone
/// is too common a key in other tools' YAML.
const NAMED_ROOTS: [&str; 2] = ["spring", "eureka"];

/// The file's stem when it is a YAML file (`vets-service` for `vets-service.yml`).
fn yaml_stem(path: &str) -> Option<&str> {
    let name = file_name(path);
    name.strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
}

/// `application`, `application-docker`, `bootstrap`, `bootstrap-dev`: Spring Boot's own names.
fn is_boot_name(stem: &str) -> bool {
    ["application", "bootstrap"].iter().any(|base| {
        stem == *base
            || stem
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

impl Extractor for SpringExtractor {
    fn name(&self) -> &'static str {
        "spring"
    }

    fn accepts(&self, path: &str) -> bool {
        yaml_stem(path).is_some()
    }

    fn extract(&self, file: &SourceFile, repo: &RepoFiles, out: &mut RepoFacts) -> Handled {
        let Some(stem) = yaml_stem(&file.path) else {
            return Handled::NotMine;
        };
        // Cheap test before parsing: other YAML (CI, Helm values, tool configs) is not ours.
        if !SPRING_ROOTS.iter().any(|k| file.text.contains(k)) {
            return Handled::NotMine;
        }
        let stream = yaml::parse_stream(&file.text);
        let documents: Vec<&Node> = stream.nodes().collect();
        let roots: &[&str] = if is_boot_name(stem) {
            &SPRING_ROOTS
        } else {
            &NAMED_ROOTS
        };
        if !documents.iter().any(|d| is_spring_document(d, roots)) {
            return Handled::NotMine;
        }
        out.diagnostics.extend(stream.diagnostics(file));
        let mut properties = Vec::new();
        for doc in &documents {
            flatten(doc, String::new(), 0, &mut properties);
        }
        let lookup: HashMap<&str, &str> = properties
            .iter()
            .filter_map(|(k, n)| Some((k.as_str(), n.as_str()?)))
            .collect();
        let owners = owners(file, stem, &lookup, repo);
        for (key, node) in &properties {
            if is_own_address(key) {
                continue;
            }
            let Some(raw) = node.as_str() else { continue };
            if matches!(&node.value, Value::Scalar { plain: true, .. })
                && (node.is_null() || node.as_bool().is_some())
            {
                continue;
            }
            let Some(value) = resolve_placeholders(raw, &lookup) else {
                continue;
            };
            for value in spring_addresses(key, &value) {
                for owner in owners_or_none(&owners) {
                    let before = out.references.len();
                    emit::record_address(
                        out,
                        owner,
                        &Scope::Host,
                        last_key(key),
                        &value,
                        crate::config_urls::json::value_location(node, file),
                        Mechanism::Url,
                    );
                    for reference in out.references.iter_mut().skip(before) {
                        reference.key = Some(key.clone());
                    }
                }
            }
        }
        Handled::Yes
    }
}

/// `[Some(owner)…]`, or `[None]` when nobody is named (the attribution pass decides).
fn owners_or_none(owners: &[String]) -> Vec<Option<&str>> {
    if owners.is_empty() {
        vec![None]
    } else {
        owners.iter().map(|o| Some(o.as_str())).collect()
    }
}

/// A document with a Spring top-level key, nested (`spring:`) or dotted (`spring.main…`).
fn is_spring_document(doc: &Node, roots: &[&str]) -> bool {
    doc.entries().any(|(k, _, _)| {
        roots
            .iter()
            .any(|root| k == *root || k.strip_prefix(root).is_some_and(|r| r.starts_with('.')))
    })
}

/// Properties that describe the application's own address (what it listens on or registers
/// as), never a service it calls.
fn is_own_address(key: &str) -> bool {
    ["server.", "eureka.instance.", "spring.application."]
        .iter()
        .any(|p| key.starts_with(p))
}

/// The last segment of a property path, which `emit` judges the value by
/// (`…routes[0].uri` → `uri`).
fn last_key(key: &str) -> &str {
    let key = key.trim_end_matches(|c: char| c == ']' || c.is_ascii_digit() || c == '[');
    key.rsplit('.').next().unwrap_or(key)
}

/// Every scalar under its Spring property path (`spring.cloud.gateway.routes[0].uri`); dotted
/// keys and nested maps give the same path, as Spring's relaxed binding reads them.
fn flatten<'n>(node: &'n Node, path: String, depth: usize, out: &mut Vec<(String, &'n Node)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &node.value {
        Value::Scalar { .. } => out.push((path, node)),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, format!("{path}[{i}]"), depth + 1, out);
            }
        }
        Value::Map(_) => {
            for (k, _, value) in node.entries() {
                let child = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                flatten(value, child, depth + 1, out);
            }
        }
    }
}

/// The applications that read this file. `spring.application.name` wins; a file of a config
/// repository is named after its application (`<name>.yml`, `<name>-<profile>.yml`), and the
/// shared `application.yml` there is read by every application with a file beside it.
fn owners(
    file: &SourceFile,
    stem: &str,
    properties: &HashMap<&str, &str>,
    repo: &RepoFiles,
) -> Vec<String> {
    if let Some(name) = properties
        .get("spring.application.name")
        .and_then(|n| resolve_placeholders(n, properties))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
    {
        return vec![name];
    }
    let dir = parent_dir(&file.path);
    let siblings: Vec<&str> = repo
        .files()
        .iter()
        .filter(|f| f.path != file.path && parent_dir(&f.path) == dir)
        .filter(|f| NAMED_ROOTS.iter().any(|k| f.text.contains(k)))
        .filter_map(|f| yaml_stem(&f.path))
        .filter(|s| !is_boot_name(s))
        .collect();
    if is_boot_name(stem) {
        // `src/main/resources/application.yml` of one application has no named siblings: the
        // attribution pass gives it to the service that builds from that folder.
        let shared = stem == "application" || stem.starts_with("application-");
        if !shared {
            return Vec::new();
        }
        let mut names: Vec<String> = siblings
            .iter()
            .filter(|s| !siblings.iter().any(|base| is_profile_of(s, base)))
            .map(|s| s.to_string())
            .collect();
        names.sort();
        names.dedup();
        return names;
    }
    // `customers-service-docker.yml` is the docker profile of `customers-service.yml`.
    match siblings.iter().find(|base| is_profile_of(stem, base)) {
        Some(base) => vec![base.to_string()],
        None => vec![stem.to_string()],
    }
}

/// `vets-service-docker` is a profile file of `vets-service`.
fn is_profile_of(stem: &str, base: &str) -> bool {
    stem.len() > base.len() + 1
        && stem.starts_with(base)
        && stem.as_bytes().get(base.len()) == Some(&b'-')
}

/// Resolves `${name:default}` placeholders: a property of the same file, else the default;
/// `None` when one has neither (the value depends on something this file does not say).
pub fn resolve_placeholders(value: &str, properties: &HashMap<&str, &str>) -> Option<String> {
    let mut text = value.to_string();
    for _ in 0..MAX_SUBSTITUTIONS {
        let Some(start) = text.find("${") else {
            return Some(text);
        };
        let end = start + matching_brace(&text[start..])?;
        let inner = &text[start + 2..end];
        let (name, default) = match inner.split_once(':') {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        let replacement = properties
            .get(name.trim())
            .copied()
            .filter(|v| !v.contains(&format!("${{{}", name.trim())))
            .or(default)?
            .to_string();
        text.replace_range(start..=end, &replacement);
    }
    None
}

/// The index of the `}` closing the `${` at the start of `text`, nested placeholders skipped.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The addresses a Spring property holds: `spring.config.import` lists locations
/// (`optional:configserver:http://config:8888`, `file:…` is not an address), anything else is
/// one value (lists split later by `emit`).
fn spring_addresses(key: &str, value: &str) -> Vec<String> {
    // `forward:/fallback` (Spring Cloud Gateway) is a path inside the application itself.
    if value.trim_start().starts_with("forward:") {
        return Vec::new();
    }
    if !key.starts_with("spring.config.import") {
        return vec![value.to_string()];
    }
    value
        .split(',')
        .filter_map(|location| {
            let location = location.trim();
            let location = location.strip_prefix("optional:").unwrap_or(location);
            location
                .strip_prefix("configserver:")
                .map(|url| url.trim().to_string())
        })
        .filter(|url| !url.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
