//! Socket libraries in dependency manifests: one function per format, each recording a
//! [`SocketFactKind::Library`] at the dependency's name.

use super::{go_library, npm_library, python_library};
use crate::config_urls::json::{parse_json, value_location};
use crate::source::SourceFile;
use crate::workspace::find_workspace;
use switchyard_model::{
    Location, RepoFacts, SocketFact, SocketFactKind, SocketProtocol, SocketRole,
};

fn push(
    out: &mut RepoFacts,
    service: Option<String>,
    name: &str,
    (protocol, role): (SocketProtocol, SocketRole),
    location: Location,
) {
    let kind = SocketFactKind::Library {
        name: name.to_string(),
        protocol,
        role,
    };
    if !out
        .sockets
        .iter()
        .any(|f| f.kind == kind && f.service == service && f.location.path == location.path)
    {
        out.sockets.push(SocketFact {
            service,
            kind,
            location,
        });
    }
}

/// `dependencies`, `peerDependencies`, `optionalDependencies`: every role. `devDependencies`:
/// the client side only (a bundled browser app keeps its client there; a server library
/// there is a test harness, not what the package serves).
pub fn package_json(file: &SourceFile, repo: &crate::source::RepoFiles, out: &mut RepoFacts) {
    // Cheap filter: most manifests name no socket library at all.
    let text = &file.text;
    if !(text.contains("ocket") || text.contains("\"ws\"") || text.contains("-ws\"")) {
        return;
    }
    // A broken package.json is reported by the workspace extractor.
    let Ok(Some(manifest)) = parse_json(file) else {
        return;
    };
    if manifest.as_map().is_none() {
        return;
    }
    // A workspace member is its own service (named after the package), as in `workspace`.
    let dir = file.dir();
    let service = find_workspace(repo, dir, Some(&manifest))
        .filter(|w| w.has_member(dir))
        .and_then(|_| manifest.get("name")?.as_str().map(str::to_string))
        .filter(|n| !n.trim().is_empty());
    for section in [
        "dependencies",
        "peerDependencies",
        "optionalDependencies",
        "devDependencies",
    ] {
        let Some(entries) = manifest.get(section).and_then(|s| s.as_map()) else {
            continue;
        };
        for (key, _) in entries {
            let Some(name) = key.as_str() else {
                continue;
            };
            let Some((protocol, role)) = npm_library(name) else {
                continue;
            };
            let role = match (section, role) {
                ("devDependencies", SocketRole::Server) => continue,
                ("devDependencies", _) => SocketRole::Client,
                (_, role) => role,
            };
            let location = value_location(key, file);
            push(out, service.clone(), name, (protocol, role), location);
        }
    }
}

/// The distribution name at the start of a PEP 508 requirement (`flask-socketio[x]>=5; …`).
fn requirement_name(spec: &str) -> &str {
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    &spec[..end]
}

/// `requirements*.txt`: one requirement a line; options (`-r`, `-e`, `--hash`) and URLs are
/// not names.
pub fn requirements(file: &SourceFile, out: &mut RepoFacts) {
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.split('#').next().unwrap_or("");
        let trimmed = content.trim_start();
        if trimmed.starts_with('-') || trimmed.contains("://") {
            continue;
        }
        let name = requirement_name(trimmed);
        if let Some(found) = python_library(name) {
            let at = start + (content.len() - trimmed.len());
            push(out, None, name, found, file.location(at, at + name.len()));
        }
    }
}

/// Tables of `pyproject.toml` and `Pipfile` whose keys are distribution names.
fn keyed_table(header: &str) -> bool {
    header == "tool.poetry.dependencies"
        || header == "tool.poetry.dev-dependencies"
        || (header.starts_with("tool.poetry.group.") && header.ends_with(".dependencies"))
        || header == "packages"
        || header == "dev-packages"
}

/// `pyproject.toml` (PEP 621 `dependencies`, `optional-dependencies`, `dependency-groups`,
/// Poetry tables) and `Pipfile` (`[packages]`), read line by line: a TOML array of
/// requirement strings or a table keyed by names.
pub fn toml_dependencies(file: &SourceFile, out: &mut RepoFacts) {
    let mut header = String::new();
    let mut in_array = false;
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.split('#').next().unwrap_or("");
        let trimmed = content.trim();
        if trimmed.starts_with('[') && !in_array {
            header = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            continue;
        }
        let array_table = header == "project"
            || header == "project.optional-dependencies"
            || header == "dependency-groups";
        if array_table && !in_array {
            if let Some((key, value)) = content.split_once('=') {
                let key = key.trim();
                let wanted = header != "project" || key == "dependencies";
                if wanted && value.trim_start().starts_with('[') {
                    in_array = true;
                }
            }
            if !in_array {
                continue;
            }
        }
        if in_array {
            // Every quoted requirement on the line.
            let mut rest = content;
            let mut base = start;
            while let Some(open) = rest.find(['"', '\'']) {
                let quote = rest.as_bytes()[open] as char;
                let after = &rest[open + 1..];
                let Some(close) = after.find(quote) else {
                    break;
                };
                let spec = &after[..close];
                let name = requirement_name(spec.trim_start());
                if let Some(found) = python_library(name) {
                    let at = base + open + 1 + (spec.len() - spec.trim_start().len());
                    push(out, None, name, found, file.location(at, at + name.len()));
                }
                let consumed = open + 1 + close + 1;
                base += consumed;
                rest = &rest[consumed..];
            }
            if content.contains(']') {
                in_array = false;
            }
            continue;
        }
        if keyed_table(&header)
            && let Some((key, _)) = content.split_once('=')
        {
            let name = key.trim().trim_matches(['"', '\'']);
            if let Some(found) = python_library(name)
                && let Some(at) = content.find(name)
            {
                push(
                    out,
                    None,
                    name,
                    found,
                    file.location(start + at, start + at + name.len()),
                );
            }
        }
    }
}

/// `go.mod`: `require module version`, alone or in a `require ( … )` block.
pub fn go_mod(file: &SourceFile, out: &mut RepoFacts) {
    let mut in_block = false;
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.split("//").next().unwrap_or("");
        let trimmed = content.trim();
        let module = if in_block {
            if trimmed.starts_with(')') {
                in_block = false;
                continue;
            }
            trimmed.split_whitespace().next()
        } else if let Some(rest) = trimmed.strip_prefix("require") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                continue;
            }
            rest.split_whitespace().next()
        } else {
            None
        };
        let Some(module) = module else {
            continue;
        };
        if let Some(found) = go_library(module)
            && let Some(at) = content.find(module)
        {
            push(
                out,
                None,
                module,
                found,
                file.location(start + at, start + at + module.len()),
            );
        }
    }
}
