//! `route-removal`: a domain routed twice where one of the routes is left over, so the fix is to
//! delete it, not to rename anything:
//!
//! - a proxy forwards the name to a container whose own Traefik labels claim the name again
//!   (the same backend twice: the labels are a leftover of an earlier proxy, or a second entry
//!   point nobody meant);
//! - a Traefik file-provider router and the docker labels of a container that Traefik reads route
//!   the name to two services: Traefik serves one; the labels are the usual leftover, and the
//!   description names the file router as the other candidate.
//!
//! The edits delete every label line of that one router (`traefik.http.routers.<name>.*`) in the
//! file that declares it; other routers and the service's other labels stay.

use super::common::{Files, resolution};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, Edit, FleetInput, Occurrence, Resolution};
use switchyard_model::{ByteSpan, Location};

#[derive(Debug, Clone, Copy, Default)]
pub struct RouteRemoval;

const ROUTERS: &str = "traefik.http.routers.";

/// The byte span of the whole line holding `at`, its newline included.
fn line_span(text: &str, at: usize) -> ByteSpan {
    let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    ByteSpan::new(start, end)
}

/// The Traefik router whose label holds `location` (`traefik.http.routers.<name>.rule`).
fn label_router(files: &Files<'_>, location: &Location) -> Option<String> {
    let text = files.read(&location.repository, &location.path)?;
    let line = line_span(&text, location.span.start);
    let line = text.get(line.start..line.end)?;
    let after = &line[line.find(ROUTERS)? + ROUTERS.len()..];
    let name = &after[..after.find('.')?];
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)))
    .then(|| name.to_string())
}

/// Edits deleting every label line of `router` in the file of `location`.
fn remove_router(files: &Files<'_>, location: &Location, router: &str) -> Option<Vec<Edit>> {
    let text = files.read(&location.repository, &location.path)?;
    let prefix = format!("{ROUTERS}{router}.");
    let mut edits = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find(&prefix) {
        let span = line_span(&text, at + found);
        edits.push(files.edit(&location.repository, &location.path, span, "")?);
        at = span.end.max(at + found + prefix.len());
    }
    (!edits.is_empty()).then_some(edits)
}

/// The service an occurrence names, as `repo/service`.
fn service_id(o: &Occurrence) -> Option<String> {
    Some(format!("{}/{}", o.repository, o.service.as_ref()?))
}

/// Why one of two routes is the leftover.
#[derive(Clone, Copy, PartialEq)]
enum Why {
    /// A proxy in front already forwards the name to the labelled container.
    BehindProxy,
    /// A file-provider router of the same Traefik competes with the label router.
    AgainstFileRouter,
}

/// `(leftover, kept, why)`: which of the two routes to delete.
fn leftover<'c>(
    conflict: &'c Conflict,
    input: FleetInput<'_>,
) -> Option<(&'c Occurrence, &'c Occurrence, Why)> {
    let [a, b] = conflict.occurrences.as_slice() else {
        return None;
    };
    // A Traefik file router against container labels: the detail says which is which.
    let labels = |o: &Occurrence| o.detail.contains("(docker labels)");
    let file = |o: &Occurrence| o.detail.contains("(file provider)");
    if file(a) && labels(b) {
        return Some((b, a, Why::AgainstFileRouter));
    }
    if file(b) && labels(a) {
        return Some((a, b, Why::AgainstFileRouter));
    }
    // The same backend twice: one occurrence's service forwards to the other's.
    let (ia, ib) = (service_id(a)?, service_id(b)?);
    let forwards = |from: &str, to: &str| {
        input
            .model
            .edges
            .iter()
            .any(|e| e.from == from && e.to == to)
    };
    if forwards(&ia, &ib) {
        Some((b, a, Why::BehindProxy))
    } else if forwards(&ib, &ia) {
        Some((a, b, Why::BehindProxy))
    } else {
        None
    }
}

impl Strategy for RouteRemoval {
    fn name(&self) -> &'static str {
        "route-removal"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        if conflict.kind != ConflictKind::Domain {
            return None;
        }
        let (stale, kept, why) = leftover(conflict, input)?;
        let (confidence, reason, alternative) = match why {
            Why::BehindProxy => (0.7, "the proxy in front already routes the name to it", ""),
            Why::AgainstFileRouter => (
                0.55,
                "its Traefik also routes the name by a file-provider router",
                " If the labels are the route in use, delete the file router instead.",
            ),
        };
        let files = Files::new(files);
        let router = label_router(&files, &stale.location)?;
        let edits = remove_router(&files, &stale.location, &router)?;
        let who = service_id(stale).unwrap_or_else(|| stale.repository.clone());
        let kept_at = &kept.location;
        let description = format!(
            "Remove the Traefik router {router} from the labels of {who} ({}): {reason} \
             ({kept_at}), so requests for {} keep one route.{alternative}",
            stale.location,
            conflict.resource.trim_start_matches("domain:"),
        );
        Some(resolution(
            conflict,
            self.name(),
            confidence,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::detect;
    use crate::strategies::testkit::{DiskFiles, analyze_disk, copy_tree};
    use std::path::{Path, PathBuf};

    fn fleet(name: &str) -> (tempfile::TempDir, PathBuf) {
        let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/fleets")
            .join(name);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        copy_tree(&seed, &root);
        (dir, root)
    }

    /// The domain conflict of `domain` on the fleet at `root`, its proposal, and the files.
    fn propose_on(root: &Path, domain: &str) -> (Option<Resolution>, DiskFiles) {
        let (an, files) = analyze_disk(&root.join("switchyard.toml"));
        let conflict = detect(an.input(), &[ConflictKind::Domain])
            .into_iter()
            .find(|c| c.resource == format!("domain:{domain}"))
            .unwrap_or_else(|| panic!("no domain conflict for {domain}"));
        (RouteRemoval.propose(&conflict, an.input(), &files), files)
    }

    fn still_conflicts(root: &Path, domain: &str) -> bool {
        let (an, _) = analyze_disk(&root.join("switchyard.toml"));
        detect(an.input(), &[ConflictKind::Domain])
            .iter()
            .any(|c| c.resource == format!("domain:{domain}"))
    }

    #[test]
    fn line_spans_hold_their_newline() {
        let text = "a\nbb\ncc";
        assert_eq!(line_span(text, 3), ByteSpan::new(2, 5));
        assert_eq!(line_span(text, 6), ByteSpan::new(5, 7));
        assert_eq!(line_span(text, 0), ByteSpan::new(0, 2));
    }

    #[test]
    fn a_leftover_label_behind_a_proxy_is_removed() {
        let (_dir, root) = fleet("conflicts");
        let compose = root.join("monitoring/docker-compose.yml");
        let before = std::fs::read_to_string(&compose).unwrap();
        let (res, files) = propose_on(&root, "grafana.home.lan");
        let res = res.expect("a proposal");
        assert!(
            res.description.contains("router grafana")
                && res.description.contains("monitoring/grafana"),
            "{}",
            res.description
        );
        files.apply(&res.edits).unwrap();
        let after = std::fs::read_to_string(&compose).unwrap();
        let removed: Vec<&str> = before.lines().filter(|l| !after.contains(*l)).collect();
        assert_eq!(
            removed,
            ["      - \"traefik.http.routers.grafana.rule=Host(`grafana.home.lan`)\""]
        );
        assert_eq!(after.lines().count() + 1, before.lines().count());
        assert!(!still_conflicts(&root, "grafana.home.lan"));
    }

    #[test]
    fn a_label_router_against_a_traefik_file_router_is_removed() {
        let (_dir, root) = fleet("seed-001-homelab");
        let (res, files) = propose_on(&root, "status.home.arpa");
        let res = res.expect("a proposal");
        assert!(res.description.contains("delete the file router instead"));
        assert!(res.edits.iter().all(|e| e.repository == "auditor"
            && e.replacement.is_empty()
            && e.expected.contains("traefik.http.routers.auditor.")));
        files.apply(&res.edits).unwrap();
        assert!(!still_conflicts(&root, "status.home.arpa"));
    }

    #[test]
    fn two_different_services_on_one_name_are_not_a_leftover() {
        // Two repositories each serving the name with their own nginx: nobody forwards to the
        // other, so deleting one is a choice for a person, not this strategy.
        let fleet = crate::strategies::testkit::TestFleet::of(&[
            (
                "a",
                &[(
                    "docker-compose.yml",
                    "services:\n  web:\n    image: w\n    labels:\n      - \"traefik.http.routers.web.rule=Host(`x.lan`)\"\n",
                )][..],
            ),
            (
                "b",
                &[(
                    "docker-compose.yml",
                    "services:\n  site:\n    image: s\n    labels:\n      - \"traefik.http.routers.site.rule=Host(`x.lan`)\"\n",
                )][..],
            ),
        ]);
        let an = fleet.analyze();
        let conflict = crate::strategies::testkit::domain_conflict(&an, "x.lan");
        assert!(
            RouteRemoval
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
    }
}
