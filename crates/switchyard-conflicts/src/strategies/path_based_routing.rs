//! `path-based-routing`: the first repository keeps a contested domain; every other one is
//! served under `/<repo>` on it — a Traefik rule gains a `PathPrefix`, Ingress paths a prefix.

use super::common::{Files, content_span, dns_label, in_order, ingress_at, resolution};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, Edit, FleetInput, Resolution};
use std::collections::BTreeSet;
use switchyard_model::{ByteSpan, Location};

#[derive(Debug, Clone, Copy, Default)]
pub struct PathBasedRouting;

fn insert(files: &Files<'_>, location: &Location, at: usize, text: &str) -> Option<Edit> {
    files.edit(
        &location.repository,
        &location.path,
        ByteSpan::new(at, at),
        text,
    )
}

/// A Traefik v2/v3 rule (the span is the rule text): prefix its paths, or add a `PathPrefix`.
fn traefik_edits(files: &Files<'_>, location: &Location, prefix: &str) -> Option<Vec<Edit>> {
    let text = files.read(&location.repository, &location.path)?;
    let rule = text.get(location.span.start..location.span.end)?;
    if !rule.contains("Host(") {
        return None;
    }
    let mut edits = Vec::new();
    for matcher in ["PathPrefix(`", "Path(`"] {
        for (at, _) in rule.match_indices(matcher) {
            // `Path(` also matches inside `PathPrefix(`; only whole matcher names count.
            let name_ok = rule[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if name_ok {
                let value_at = location.span.start + at + matcher.len();
                edits.push(insert(files, location, value_at, prefix)?);
            }
        }
    }
    if edits.is_empty() {
        let end = location.span.start + rule.trim_end().len();
        let condition = format!(" && PathPrefix(`{prefix}`)");
        if rule.contains("||") {
            edits.push(insert(files, location, location.span.start, "(")?);
            edits.push(insert(files, location, end, &format!("){condition}"))?);
        } else {
            edits.push(insert(files, location, end, &condition)?);
        }
    }
    Some(edits)
}

/// The paths of the Ingress rule whose `host` is at `location`: `/` becomes `/<repo>`, `/x`
/// becomes `/<repo>/x`. `None` when a path is missing (nothing to edit in place).
fn ingress_edits(files: &Files<'_>, location: &Location, prefix: &str) -> Option<Vec<Edit>> {
    let text = files.read(&location.repository, &location.path)?;
    let doc = ingress_at(&text, location.span.start)?;
    let rules = doc.get("spec")?.get("rules")?.as_seq()?;
    let rule = rules.iter().find(|r| {
        r.get("host")
            .is_some_and(|h| h.start <= location.span.start && location.span.start < h.end)
    })?;
    let paths = rule.get("http")?.get("paths")?.as_seq()?;
    let mut edits = Vec::new();
    for item in paths {
        let node = item.get("path")?;
        let value = node.as_str()?;
        let span = content_span(&text, node);
        if value == "/" {
            edits.push(files.edit(&location.repository, &location.path, span, prefix)?);
        } else if value.starts_with('/') {
            edits.push(insert(files, location, span.start, prefix)?);
        } else {
            return None;
        }
    }
    (!edits.is_empty()).then_some(edits)
}

impl Strategy for PathBasedRouting {
    fn name(&self) -> &'static str {
        "path-based-routing"
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
        let _ = input;
        let files = Files::new(files);
        let ordered = in_order(conflict);
        let kept = ordered.first()?.repository.clone();
        let mut edits = Vec::new();
        let mut done: BTreeSet<(String, String, usize)> = BTreeSet::new();
        let mut moved = BTreeSet::new();
        for occurrence in ordered.iter().filter(|o| o.repository != kept) {
            let location = &occurrence.location;
            // Several domains of one rule share its location: edit it once.
            if !done.insert((
                location.repository.clone(),
                location.path.clone(),
                location.span.start,
            )) {
                continue;
            }
            let prefix = format!("/{}", dns_label(&occurrence.repository));
            let lower = location.path.to_ascii_lowercase();
            let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
            let here = if !yaml {
                None
            } else if files.text_at(location).is_some_and(|t| t.contains("Host(")) {
                traefik_edits(&files, location, &prefix)
            } else {
                ingress_edits(&files, location, &prefix)
            };
            edits.extend(here?);
            moved.insert(format!("{} under {prefix}", occurrence.repository));
        }
        if edits.is_empty() {
            return None;
        }
        let description = format!(
            "Keep {} for {kept}; serve {} (the application must accept the prefix, or strip it \
             with a middleware/rewrite).",
            conflict.resource,
            moved.into_iter().collect::<Vec<_>>().join(", ")
        );
        Some(resolution(
            conflict,
            self.name(),
            0.5,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::subdomain_separation::tests::{COMPOSE, INGRESS, NGINX, fleet};
    use crate::strategies::testkit::{Analyzed, TestFleet, changed_lines, domain_conflict};
    use switchyard_model::EndpointKind;

    fn routes(an: &Analyzed, repo: &str) -> Vec<(String, Option<String>)> {
        an.model
            .services
            .iter()
            .filter(|s| s.repository == repo)
            .flat_map(|s| &s.endpoints)
            .filter_map(|e| match &e.kind {
                EndpointKind::Domain { host, path } => Some((host.clone(), path.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn traefik_and_ingress_get_a_path_prefix() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = domain_conflict(&an, "app.example.com");
        let res = PathBasedRouting
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(!res.automatic);
        let after = fleet.apply(&res);
        assert_eq!(after.text("alpha", "nginx/nginx.conf"), NGINX);
        assert_eq!(
            changed_lines(COMPOSE, &after.text("beta", "docker-compose.yml")),
            [(
                "      - \"traefik.http.routers.web.rule=Host(`app.example.com`)\"".into(),
                "      - \"traefik.http.routers.web.rule=Host(`app.example.com`) && PathPrefix(`/beta`)\""
                    .into()
            )]
        );
        assert_eq!(
            changed_lines(INGRESS, &after.text("gamma", "k8s/ingress.yaml")),
            [(
                "          - path: /".into(),
                "          - path: /gamma".into()
            )]
        );
        let re = after.analyze();
        let host = "app.example.com".to_string();
        assert_eq!(routes(&re, "alpha")[0], (host.clone(), None));
        assert_eq!(routes(&re, "beta"), [(host.clone(), Some("/beta".into()))]);
        assert_eq!(routes(&re, "gamma"), [(host, Some("/gamma".into()))]);
    }

    #[test]
    fn existing_paths_and_alternatives() {
        let a = "services:\n  web:\n    image: a\n    labels:\n      traefik.http.routers.a.rule: Host(`x.io`)\n";
        let b = "services:\n  web:\n    image: b\n    labels:\n      traefik.http.routers.b.rule: Host(`x.io`) || Host(`y.io`)\n  api:\n    image: c\n    labels:\n      traefik.http.routers.c.rule: Host(`x.io`) && PathPrefix(`/api`)\n";
        let fleet = TestFleet::new()
            .repo("a", &[("compose.yaml", a)])
            .repo("b", &[("compose.yaml", b)]);
        let an = fleet.analyze();
        let res = PathBasedRouting
            .propose(&domain_conflict(&an, "x.io"), an.input(), &fleet)
            .unwrap();
        let after = fleet.apply(&res);
        assert_eq!(
            changed_lines(b, &after.text("b", "compose.yaml")),
            [
                (
                    "      traefik.http.routers.b.rule: Host(`x.io`) || Host(`y.io`)".into(),
                    "      traefik.http.routers.b.rule: (Host(`x.io`) || Host(`y.io`)) && PathPrefix(`/b`)".into()
                ),
                (
                    "      traefik.http.routers.c.rule: Host(`x.io`) && PathPrefix(`/api`)".into(),
                    "      traefik.http.routers.c.rule: Host(`x.io`) && PathPrefix(`/b/api`)".into()
                ),
            ]
        );
        let mut got = routes(&after.analyze(), "b");
        got.sort();
        assert_eq!(
            got,
            [
                ("x.io".to_string(), Some("/b".to_string())),
                ("x.io".to_string(), Some("/b/api".to_string())),
                ("y.io".to_string(), Some("/b".to_string())),
            ]
        );
    }

    #[test]
    fn nginx_cannot_take_a_path_here() {
        let fleet = TestFleet::new()
            .repo("a", &[("nginx.conf", NGINX)])
            .repo("b", &[("nginx.conf", NGINX)]);
        let an = fleet.analyze();
        let conflict = domain_conflict(&an, "app.example.com");
        assert_eq!(conflict.repositories.len(), 2);
        assert!(
            PathBasedRouting
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
    }
}
