//! A service's `env_file:` and `environment:` values, and addresses in its `command:` and
//! `entrypoint:` arguments, recorded through `emit` under the service.

use super::project::ServiceParts;
use super::service::{Cx, invalid, items, last, push_unique, resolve};
use crate::dotenv::parse_dotenv;
use crate::emit;
use crate::yaml::Node;
use switchyard_model::{Diagnostic, DiagnosticCode, Location, Mechanism, RepoFacts, ServiceDecl};

/// `env_file:` then `environment:` (which wins per key), recorded under the service.
pub(super) fn environment<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
    let mut values: Vec<(String, String, Location)> = Vec::new();
    let mut put = |key: String, value: String, location: Location| match values
        .iter_mut()
        .find(|(k, _, _)| *k == key)
    {
        Some(slot) => *slot = (key, value, location),
        None => values.push((key, value, location)),
    };
    for (part, item) in items(svc, "env_file") {
        let (path_node, required) = match item.get("path") {
            Some(p) => (
                p,
                item.get("required").and_then(Node::as_bool).unwrap_or(true),
            ),
            None => (item, true),
        };
        let Some(text) = cx.text(&part, path_node, out) else {
            continue;
        };
        let Some(path) = resolve(part.doc, &text.value) else {
            continue;
        };
        push_unique(&mut decl.owned_paths, path.clone());
        let Some(env_file) = cx.repo.get(&path) else {
            if required {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::MissingFile,
                    format!("env_file {} not found in the repository", text.value),
                    text.location(),
                ));
            }
            continue;
        };
        let (entries, problems) = parse_dotenv(&env_file.text);
        if cx.env_files_checked.insert(path) {
            for (offset, message) in problems {
                out.diagnostics.push(Diagnostic::new(
                    DiagnosticCode::InvalidValue,
                    message,
                    env_file.location(offset, offset),
                ));
            }
        }
        for entry in entries {
            put(
                entry.key,
                entry.value,
                env_file.location(entry.value_start, entry.value_end),
            );
        }
    }
    for part in svc.parts.clone() {
        let Some(node) = part.map.get("environment") else {
            continue;
        };
        if let Some(list) = node.as_seq() {
            for item in list {
                let Some(text) = cx.text(&part, item, out) else {
                    continue;
                };
                match text.value.split_once('=') {
                    Some((key, value)) => {
                        let at = key.len() + 1;
                        put(
                            key.trim().to_string(),
                            value.to_string(),
                            text.tail_location(at),
                        );
                    }
                    None => {
                        let key = text.value.trim();
                        if let Some(value) = cx.project.var(part.doc, key) {
                            put(key.to_string(), value.to_string(), text.location());
                        }
                    }
                }
            }
        } else if node.as_map().is_some() {
            for (key, _, value_node) in node.entries() {
                if value_node.is_null() {
                    if let Some(value) = cx.project.var(part.doc, key) {
                        put(
                            key.to_string(),
                            value.to_string(),
                            value_node.location(part.doc.file),
                        );
                    }
                    continue;
                }
                let Some(text) = cx.text(&part, value_node, out) else {
                    out.diagnostics.push(invalid(
                        &part,
                        value_node,
                        format!("environment {key}: value must be a scalar"),
                    ));
                    continue;
                };
                put(key.to_string(), text.value.clone(), text.location());
            }
        } else if !node.is_null() {
            out.diagnostics.push(invalid(
                &part,
                node,
                "environment must be a list or a mapping".into(),
            ));
        }
    }
    for (key, value, location) in values {
        emit::record_env(
            out,
            Some(&svc.name),
            &cx.scope,
            &key,
            &value,
            location,
            Mechanism::Env,
        );
    }
}

/// `command` and `entrypoint`: address-looking arguments become references. Returns the
/// arguments joined, for provider detection.
pub(super) fn command<'p>(cx: &mut Cx<'p>, svc: &ServiceParts<'p>, out: &mut RepoFacts) -> String {
    let mut all = String::new();
    for key in ["entrypoint", "command"] {
        let Some((part, node)) = last(svc, key) else {
            continue;
        };
        let nodes: Vec<&Node> = match node.as_seq() {
            Some(list) => list.iter().collect(),
            None => vec![node],
        };
        for n in nodes {
            let Some(text) = cx.text(&part, n, out) else {
                continue;
            };
            all.push_str(&text.value);
            all.push(' ');
            for (start, token) in super::args::tokens(&text.value) {
                for (offset, address) in super::args::addresses(&token) {
                    // Quoted tokens shift offsets; fall back to the whole value then.
                    let location = if text
                        .value
                        .get(start + offset..start + offset + address.len())
                        == Some(address.as_str())
                    {
                        text.sub_location(start + offset, start + offset + address.len())
                    } else {
                        text.location()
                    };
                    emit::record_address(
                        out,
                        Some(&svc.name),
                        &cx.scope,
                        "command",
                        &address,
                        location,
                        Mechanism::Command,
                    );
                }
            }
        }
    }
    all
}
