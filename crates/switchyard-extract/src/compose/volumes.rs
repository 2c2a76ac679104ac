//! Service `volumes:` (short `src:dst[:mode]` and long `{type, source, target}` forms) →
//! named-volume and bind-mount resources; relative bind sources become owned paths.

use super::project::{Part, ServiceParts};
use super::service::{Cx, declared_name};
use crate::source::join_repo_path;
use crate::yaml::Node;
use std::collections::{BTreeMap, HashSet};
use switchyard_model::{Location, RepoFacts, ResourceKind, ResourceUse, ServiceDecl};

/// A parsed short-syntax volume: `source` is `None` for an anonymous volume (`/data`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ShortVolume<'t> {
    pub source: Option<&'t str>,
    pub target: &'t str,
    pub read_only: bool,
}

fn is_windows_drive(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/')
}

/// Parses `src:dst[:mode]`, keeping a Windows drive (`C:\data:/data`) in the source.
pub(crate) fn parse_short(text: &str) -> ShortVolume<'_> {
    let skip = if is_windows_drive(text) { 2 } else { 0 };
    let mut cuts = text
        .char_indices()
        .filter(|(i, c)| *c == ':' && *i >= skip)
        .map(|(i, _)| i);
    match (cuts.next(), cuts.next()) {
        (None, _) => ShortVolume {
            source: None,
            target: text,
            read_only: false,
        },
        (Some(a), second) => {
            let target_end = second.unwrap_or(text.len());
            let mode = second.map(|b| &text[b + 1..]).unwrap_or("");
            ShortVolume {
                source: Some(&text[..a]),
                target: &text[a + 1..target_end],
                read_only: mode.split(',').any(|m| m.trim() == "ro"),
            }
        }
    }
}

/// Whether a volume source is a host path (bind mount) rather than a volume name.
pub(crate) fn is_host_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~', '\\']) || is_windows_drive(source) || source.contains('/')
}

struct Mount {
    source: String,
    bind: bool,
    read_only: bool,
    location: Location,
}

/// Records the service's mounts as resources, and relative bind sources as owned paths.
pub(crate) fn mounts<'p>(
    cx: &mut Cx<'p>,
    svc: &ServiceParts<'p>,
    decl: &mut ServiceDecl,
    out: &mut RepoFacts,
) {
    let mut seen_targets = HashSet::new();
    let mut by_part: Vec<Vec<(Part<'p>, Mount)>> = Vec::new();
    // Highest precedence first: an override's mount on a target replaces the base's.
    for part in svc.parts.iter().rev() {
        let Some(list) = part.map.get("volumes").and_then(Node::as_seq) else {
            continue;
        };
        let mut mounts = Vec::new();
        for item in list {
            let Some((target, mount)) = read_mount(cx, part, item, out) else {
                continue;
            };
            if seen_targets.insert(target) {
                mounts.push((*part, mount));
            }
        }
        by_part.push(mounts);
    }
    for (part, mount) in by_part.into_iter().rev().flatten() {
        let mut settings = BTreeMap::new();
        let mut fixed_name_at = None;
        let (kind, identifier, external) = if mount.bind {
            let relative =
                !mount.source.starts_with(['/', '~', '\\']) && !is_windows_drive(&mount.source);
            let resolved = relative
                .then(|| join_repo_path(part.doc.dir(), &mount.source))
                .flatten();
            match resolved {
                Some(path) => {
                    if !decl.owned_paths.contains(&path) {
                        decl.owned_paths.push(path.clone());
                    }
                    let id = if path.is_empty() {
                        ".".to_string()
                    } else {
                        path
                    };
                    (ResourceKind::BindMount, id, false)
                }
                None => (ResourceKind::BindMount, mount.source.clone(), false),
            }
        } else {
            match cx.volumes.get(&mount.source) {
                Some(d) => {
                    let (name, external) = declared_name(d);
                    // A fixed `name:` is not prefixed with the project: other projects that
                    // give the same name get the same volume. Its line is where a fix goes
                    // (`external: true`), so it is the use's evidence.
                    if let Some(name) = name.as_ref().filter(|_| !external) {
                        settings.insert("name".to_string(), name.clone());
                        if let Some(node) = d.value.get("name") {
                            fixed_name_at = Some(d.doc.file.location(node.start, node.end));
                        }
                    }
                    (
                        ResourceKind::Volume,
                        name.unwrap_or(mount.source.clone()),
                        external,
                    )
                }
                None => (ResourceKind::Volume, mount.source.clone(), false),
            }
        };
        out.resources.push(ResourceUse {
            service: Some(svc.name.clone()),
            kind,
            identifier,
            read_only: mount.read_only,
            external,
            settings,
            location: fixed_name_at.unwrap_or(mount.location),
        });
    }
}

/// One `volumes:` item → `(target, mount)`; `None` for anonymous volumes, tmpfs and junk.
fn read_mount<'p>(
    cx: &mut Cx<'p>,
    part: &Part<'p>,
    item: &Node,
    out: &mut RepoFacts,
) -> Option<(String, Mount)> {
    if item.as_map().is_some() {
        let kind = item
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("volume")
            .to_string();
        let target = item.get("target").and_then(Node::as_str).unwrap_or("");
        let source = cx
            .project
            .text(part.doc, item.get("source")?, &mut cx.reported, out)?;
        if source.value.is_empty() || !matches!(kind.as_str(), "bind" | "volume") {
            return None;
        }
        let read_only = item.get("read_only").and_then(Node::as_bool) == Some(true);
        return Some((
            target.to_string(),
            Mount {
                bind: kind == "bind",
                location: source.location(),
                source: source.value,
                read_only,
            },
        ));
    }
    let text = cx.project.text(part.doc, item, &mut cx.reported, out)?;
    let short = parse_short(&text.value);
    let source = short.source.filter(|s| !s.is_empty())?;
    Some((
        short.target.to_string(),
        Mount {
            bind: is_host_path(source),
            read_only: short.read_only,
            location: text.sub_location(0, source.len()),
            source: source.to_string(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        let cases: &[(&str, Option<&str>, &str, bool)] = &[
            ("/data", None, "/data", false),
            (
                "db-data:/var/lib/postgresql/data",
                Some("db-data"),
                "/var/lib/postgresql/data",
                false,
            ),
            ("./src:/code/src:ro", Some("./src"), "/code/src", true),
            ("./x:/y:rw,z", Some("./x"), "/y", false),
            ("./x:/y:z,ro", Some("./x"), "/y", true),
            ("C:\\data:/data", Some("C:\\data"), "/data", false),
            ("~/cfg:/cfg", Some("~/cfg"), "/cfg", false),
        ];
        for (text, source, target, ro) in cases {
            let v = parse_short(text);
            assert_eq!(v.source, *source, "{text}");
            assert_eq!(v.target, *target, "{text}");
            assert_eq!(v.read_only, *ro, "{text}");
        }
    }

    #[test]
    fn host_paths() {
        for p in ["/etc/x", "./x", "../x", ".", "~/x", "C:/x", "data/x"] {
            assert!(is_host_path(p), "{p}");
        }
        for v in ["db-data", "db_data", "vol.1"] {
            assert!(!is_host_path(v), "{v}");
        }
    }
}
