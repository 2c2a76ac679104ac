//! `port-reassignment`: the first publisher keeps a contested host port; every other one moves
//! to the lowest free port of a range, and the fleet's `localhost:PORT` references to it follow.

use super::common::{Files, endpoint_at, find_token, in_order};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, Edit, FleetInput, Occurrence, Resolution};
use std::collections::{BTreeSet, HashSet};
use switchyard_link::address::{is_docker_host, is_loopback};
use switchyard_model::{ByteSpan, EndpointKind, Location, Service};

/// An inclusive range of ports to move publishers into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl Default for PortRange {
    fn default() -> Self {
        Self {
            start: 20000,
            end: 29999,
        }
    }
}

/// Kubernetes only hands out NodePorts in this range.
const NODE_PORTS: PortRange = PortRange {
    start: 30000,
    end: 32767,
};

#[derive(Debug, Clone, Default)]
pub struct PortReassignment {
    pub range: PortRange,
}

/// Ports in use on a host: published host ports, host processes, and NodePorts (every node).
pub(crate) fn used_ports(input: FleetInput<'_>, host: &str) -> HashSet<u16> {
    input.used_ports(host)
}

/// The lowest start of `len` consecutive ports in `range` that are neither used nor taken;
/// marks them taken.
pub(crate) fn allocate(
    range: PortRange,
    len: u16,
    used: &HashSet<u16>,
    taken: &mut HashSet<u16>,
) -> Option<u16> {
    let last_start = range.end.checked_sub(len)?;
    let start = (range.start..=last_start)
        .find(|&p| (p..=p + len).all(|q| q != 0 && !used.contains(&q) && !taken.contains(&q)))?;
    taken.extend(start..=start + len);
    Some(start)
}

/// `start` or `start-end`.
fn port_text(start: u16, end: u16) -> String {
    if end > start {
        format!("{start}-{end}")
    } else {
        start.to_string()
    }
}

/// `${NAME}`, `${NAME:-default}`, `${NAME-default}` in `text[span]`: (whole, name, default).
fn interpolations(text: &str, span: ByteSpan) -> Vec<(ByteSpan, String, Option<ByteSpan>)> {
    let mut out = Vec::new();
    let Some(hay) = text.get(span.start..span.end) else {
        return out;
    };
    let mut from = 0;
    while let Some(open) = hay.get(from..).and_then(|h| h.find("${")) {
        let start = from + open;
        let Some(close) = hay[start..].find('}') else {
            break;
        };
        let end = start + close + 1;
        let inner = &hay[start + 2..end - 1];
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let rest = &inner[name_len..];
        let default_at = rest
            .strip_prefix(":-")
            .map(|_| 2)
            .or_else(|| rest.strip_prefix('-').map(|_| 1));
        let default = default_at.map(|skip| {
            let s = span.start + start + 2 + name_len + skip;
            ByteSpan::new(s, span.start + end - 1)
        });
        out.push((
            ByteSpan::new(span.start + start, span.start + end),
            inner[..name_len].to_string(),
            default,
        ));
        from = end;
    }
    out
}

/// Where a `${NAME}` of a file is given a value: `NAME=` in the `.env` files of its folder.
fn interpolation_sources<'m>(
    input: FleetInput<'m>,
    repository: &str,
    path: &str,
    name: &str,
) -> Vec<&'m Location> {
    use switchyard_extract::source::{file_name, parent_dir};
    let dir = parent_dir(path);
    input
        .facts_of(repository)
        .map(|f| {
            f.env
                .iter()
                .filter(|e| e.key == name)
                .filter(|e| parent_dir(&e.location.path) == dir)
                .filter(|e| file_name(&e.location.path).starts_with(".env"))
                .map(|e| &e.location)
                .collect()
        })
        .unwrap_or_default()
}

/// Edits moving the port written at an endpoint's location: the digits themselves, or — when
/// the value is interpolated — the `.env` value and/or the `${VAR:-default}` that supply them.
pub(crate) fn endpoint_edits(
    files: &Files<'_>,
    input: FleetInput<'_>,
    location: &Location,
    old: &str,
    new: &str,
) -> Option<Vec<Edit>> {
    let (repo, path) = (&location.repository, &location.path);
    let text = files.read(repo, path)?;
    let digit = |c: char| c.is_ascii_digit();
    let exprs = interpolations(&text, location.span);
    let inside = |s: &ByteSpan| {
        exprs
            .iter()
            .any(|(w, _, _)| w.start <= s.start && s.end <= w.end)
    };
    let plain: Vec<ByteSpan> = find_token(&text, location.span, old, digit)
        .into_iter()
        .filter(|s| !inside(s))
        .collect();
    let mut edits = Vec::new();
    for (_, name, default) in &exprs {
        let env_values = interpolation_sources(input, repo, path, name);
        let default_is_old = default
            .and_then(|d| text.get(d.start..d.end))
            .is_some_and(|d| d.trim() == old);
        for loc in &env_values {
            let value_text = files.read(&loc.repository, &loc.path)?;
            let found = find_token(&value_text, loc.span, old, digit);
            if let [one] = found.as_slice() {
                edits.push(files.edit(&loc.repository, &loc.path, *one, new)?);
            }
        }
        if default_is_old && let Some(d) = default {
            let found = find_token(&text, *d, old, digit);
            if let [one] = found.as_slice() {
                edits.push(files.edit(repo, path, *one, new)?);
            }
        }
    }
    match plain.as_slice() {
        [] => {}
        [one] if edits.is_empty() => edits.push(files.edit(repo, path, *one, new)?),
        _ => return None,
    }
    (!edits.is_empty()).then_some(edits)
}

/// A `host:PORT` written in a text.
pub(crate) struct Mention {
    /// The port digits.
    pub digits: ByteSpan,
    pub port: u16,
    /// The host is the Docker host (`host.docker.internal`…) rather than loopback.
    pub docker_host: bool,
}

/// `host:PORT` mentions in `text[span]` whose host is loopback or the Docker host and whose
/// port lies in `start..=end`.
pub(crate) fn loopback_mentions(text: &str, span: ByteSpan, start: u16, end: u16) -> Vec<Mention> {
    let mut out = Vec::new();
    let Some(hay) = text.get(span.start..span.end) else {
        return out;
    };
    let bytes = hay.as_bytes();
    for (colon, _) in hay.match_indices(':') {
        let digits_end = hay[colon + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(hay.len(), |i| colon + 1 + i);
        let Ok(port) = hay[colon + 1..digits_end].parse::<u16>() else {
            continue;
        };
        if !(start..=end).contains(&port) {
            continue;
        }
        let host = if colon > 0 && bytes[colon - 1] == b']' {
            hay[..colon - 1]
                .rfind('[')
                .map(|open| &hay[open + 1..colon - 1])
        } else {
            let from = hay[..colon]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'))
                .map_or(0, |i| i + 1);
            Some(&hay[from..colon])
        };
        let Some(host) = host.map(str::to_ascii_lowercase) else {
            continue;
        };
        let docker_host = is_docker_host(&host);
        if is_loopback(&host) || docker_host {
            out.push(Mention {
                digits: ByteSpan::new(span.start + colon + 1, span.start + digits_end),
                port,
                docker_host,
            });
        }
    }
    out
}

/// References on `host` that mention a moved port on loopback or the Docker host but were not
/// updated (other repositories' ambiguous references), by location.
fn unchanged_references(
    input: FleetInput<'_>,
    host: &str,
    moves: &[Move<'_>],
    updated: &BTreeSet<String>,
) -> Vec<String> {
    let mut left = BTreeSet::new();
    for (facts, r, ports) in input.loopback_references(host) {
        let own = |m: &Move<'_>| {
            facts.repository == m.service.repository && r.from.as_deref() == Some(&m.service.name)
        };
        let mentions = |m: &Move<'_>| ports.iter().any(|p| (m.start..=m.end).contains(p));
        if !moves.iter().any(|m| mentions(m) && !own(m)) {
            continue;
        }
        let place = r.location.to_string();
        if !updated.contains(&place) {
            left.insert(place);
        }
    }
    left.into_iter().collect()
}

/// One publisher moved: its service, old port block and new start.
struct Move<'m> {
    service: &'m Service,
    start: u16,
    end: u16,
    new_start: u16,
}

impl Strategy for PortReassignment {
    fn name(&self) -> &'static str {
        "port-reassignment"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        if conflict.kind != ConflictKind::Port {
            return None;
        }
        let files = Files::new(files);
        let ordered = in_order(conflict);
        let first = ordered.first()?;
        let publisher = |o: &Occurrence| (o.repository.clone(), o.service.clone());
        let kept = publisher(first);
        let moved: Vec<&Occurrence> = ordered
            .iter()
            .copied()
            .filter(|o| publisher(o) != kept)
            .collect();
        if moved.is_empty() {
            return None;
        }
        let used = used_ports(input, &conflict.host);
        let mut taken = HashSet::new();
        let mut moves: Vec<Move<'_>> = Vec::new();
        let mut edits = Vec::new();
        for occurrence in moved {
            let (service, endpoint) = endpoint_at(input, occurrence)?;
            let (start, end, range) = match &endpoint.kind {
                EndpointKind::HostPort { start, end, .. } => {
                    (*start, (*end).max(*start), self.range)
                }
                EndpointKind::HostProcessPort { port } => (*port, *port, self.range),
                EndpointKind::NodePort { port, .. } => (*port, *port, NODE_PORTS),
                _ => return None,
            };
            // One publisher writing the same port twice (base file and override) moves once.
            let new_start = match moves
                .iter()
                .find(|m| m.service.id == service.id && m.start == start && m.end == end)
            {
                Some(m) => m.new_start,
                None => {
                    let n = allocate(range, end - start, &used, &mut taken)?;
                    moves.push(Move {
                        service,
                        start,
                        end,
                        new_start: n,
                    });
                    n
                }
            };
            let new_end = new_start + (end - start);
            edits.extend(endpoint_edits(
                &files,
                input,
                &occurrence.location,
                &port_text(start, end),
                &port_text(new_start, new_end),
            )?);
        }

        let kept_repos = [kept.0.as_str()];
        let mut updated: BTreeSet<String> = BTreeSet::new();
        for m in &moves {
            // (where, resolved there): a reference that was ambiguous is only assumed to mean
            // the moved service through `localhost`; a container reaching the Docker host
            // (`host.docker.internal`) usually means another stack on the host.
            let mut places: Vec<(Location, bool)> = input
                .references_to(m.service, &kept_repos, |t| {
                    !loopback_mentions(t, ByteSpan::new(0, t.len()), m.start, m.end).is_empty()
                })
                .into_iter()
                .map(|(r, resolved)| (r.location.clone(), resolved))
                .collect();
            // A reference written as `${VAR}` takes its text from the `.env` that sets VAR.
            let mut sources = Vec::new();
            for (place, resolved) in &places {
                let Some(text) = files.read(&place.repository, &place.path) else {
                    continue;
                };
                for (_, name, _) in interpolations(&text, place.span) {
                    sources.extend(
                        interpolation_sources(input, &place.repository, &place.path, &name)
                            .into_iter()
                            .map(|l| (l.clone(), *resolved)),
                    );
                }
            }
            places.extend(sources);
            for (place, resolved) in places {
                let Some(text) = files.read(&place.repository, &place.path) else {
                    continue;
                };
                for mention in loopback_mentions(&text, place.span, m.start, m.end) {
                    if mention.docker_host && !resolved {
                        continue;
                    }
                    let new = m.new_start + (mention.port - m.start);
                    if let Some(e) = files.edit(
                        &place.repository,
                        &place.path,
                        mention.digits,
                        new.to_string(),
                    ) {
                        edits.push(e);
                        updated.insert(place.to_string());
                    }
                }
            }
        }
        let left = unchanged_references(input, &conflict.host, &moves, &updated);

        let moved_text: Vec<String> = moves
            .iter()
            .map(|m| {
                format!(
                    "{} from {} to {}",
                    m.service.id,
                    port_text(m.start, m.end),
                    port_text(m.new_start, m.new_start + (m.end - m.start))
                )
            })
            .collect();
        let mut description = format!(
            "Keep {}/{} on {}; move {}",
            kept.0,
            kept.1.as_deref().unwrap_or("?"),
            conflict.resource,
            moved_text.join(", ")
        );
        if updated.is_empty() {
            description.push_str("; no references to update.");
        } else {
            description.push_str(&format!(
                "; update {} reference(s): {}.",
                updated.len(),
                updated.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if !left.is_empty() {
            description.push_str(&format!(
                " Left as they are (they keep reaching {}/{}): {}.",
                kept.0,
                kept.1.as_deref().unwrap_or("?"),
                left.join(", ")
            ));
        }
        Some(super::common::resolution(
            conflict,
            self.name(),
            0.9,
            true,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
#[path = "port_reassignment_tests.rs"]
mod tests;
