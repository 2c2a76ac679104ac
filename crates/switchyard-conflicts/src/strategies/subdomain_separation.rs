//! `subdomain-separation`: the first repository keeps a contested domain; every other one serves
//! `<repo>.<domain>` instead (nginx `server_name`, Ingress host + TLS hosts, Traefik `Host()`),
//! and its own repository's URLs to the old domain follow.

use super::common::{
    Files, content_span, dns_label, endpoint_at, find_token, host_char, in_order, ingress_at,
    resolution,
};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, Edit, FleetInput, Resolution};
use std::collections::BTreeSet;
use switchyard_model::{EndpointKind, Location};

#[derive(Debug, Clone, Copy, Default)]
pub struct SubdomainSeparation;

/// Edits renaming `host` to `new` inside `location`'s span (every mention there in host
/// position: a whole name, not a URL scheme).
pub(crate) fn rename_in_span(
    files: &Files<'_>,
    location: &Location,
    host: &str,
    new: &str,
) -> Option<Vec<Edit>> {
    let text = files.read(&location.repository, &location.path)?;
    find_token(&text, location.span, host, host_char)
        .into_iter()
        // `postgres://` names a scheme, not the host `postgres`.
        .filter(|s| {
            !text
                .get(s.end..)
                .is_some_and(|rest| rest.starts_with("://"))
        })
        .map(|span| files.edit(&location.repository, &location.path, span, new))
        .collect()
}

/// TLS `hosts:` entries of the Ingress holding `location` that name `host`.
fn ingress_tls_edits(files: &Files<'_>, location: &Location, host: &str, new: &str) -> Vec<Edit> {
    let Some(text) = files.read(&location.repository, &location.path) else {
        return Vec::new();
    };
    let Some(doc) = ingress_at(&text, location.span.start) else {
        return Vec::new();
    };
    let tls = doc
        .get("spec")
        .and_then(|s| s.get("tls"))
        .and_then(|t| t.as_seq())
        .unwrap_or(&[]);
    tls.iter()
        .flat_map(|t| t.get("hosts").and_then(|h| h.as_seq()).unwrap_or(&[]))
        .filter(|h| h.as_str().is_some_and(|s| s.eq_ignore_ascii_case(host)))
        .filter_map(|h| {
            files.edit(
                &location.repository,
                &location.path,
                content_span(&text, h),
                new,
            )
        })
        .collect()
}

impl Strategy for SubdomainSeparation {
    fn name(&self) -> &'static str {
        "subdomain-separation"
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
        let files = Files::new(files);
        let ordered = in_order(conflict);
        let kept = ordered.first()?.repository.clone();
        let mut edits = Vec::new();
        let mut renamed = BTreeSet::new();
        let mut references = BTreeSet::new();
        for occurrence in ordered.iter().filter(|o| o.repository != kept) {
            let (service, endpoint) = endpoint_at(input, occurrence)?;
            let EndpointKind::Domain { host, .. } = &endpoint.kind else {
                return None;
            };
            if host.contains('*') || host.is_empty() {
                return None;
            }
            let new = format!("{}.{host}", dns_label(&occurrence.repository));
            let here = rename_in_span(&files, &occurrence.location, host, &new)?;
            if here.is_empty() {
                return None;
            }
            edits.extend(here);
            edits.extend(ingress_tls_edits(&files, &occurrence.location, host, &new));
            renamed.insert(format!("{} → {new}", service.id));
            let refs = input.references_to(service, &[kept.as_str()], |t| {
                !find_token(
                    t,
                    switchyard_model::ByteSpan::new(0, t.len()),
                    host,
                    host_char,
                )
                .is_empty()
            });
            for (r, _) in refs {
                if let Some(e) = rename_in_span(&files, &r.location, host, &new) {
                    if !e.is_empty() {
                        references.insert(r.location.to_string());
                    }
                    edits.extend(e);
                }
            }
        }
        if edits.is_empty() {
            return None;
        }
        let mut description = format!(
            "Keep {} for {kept}; serve {} (needs DNS and a TLS certificate for the new name)",
            conflict.resource,
            renamed.into_iter().collect::<Vec<_>>().join(", ")
        );
        if !references.is_empty() {
            description.push_str(&format!(
                "; update {}",
                references.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        description.push('.');
        Some(resolution(
            conflict,
            self.name(),
            0.6,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, changed_lines, domain_conflict};

    pub const NGINX: &str = "# alpha's site\nserver {\n    listen 80;\n    server_name app.example.com www.example.com;\n    location / {\n        proxy_pass http://127.0.0.1:3000;\n    }\n}\n";
    pub const COMPOSE: &str = "services:\n  web:\n    image: web\n    labels:\n      - \"traefik.enable=true\"\n      - \"traefik.http.routers.web.rule=Host(`app.example.com`)\"\n  cli:\n    image: cli\n    environment:\n      SITE_URL: https://app.example.com/api # the site\n";
    pub const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: site\nspec:\n  tls:\n    - hosts: [\"app.example.com\"]\n      secretName: site-tls\n  rules:\n    - host: \"app.example.com\"\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: site\n                port:\n                  number: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: site\nspec:\n  selector:\n    app: site\n  ports:\n    - port: 80\n";

    pub fn fleet() -> TestFleet {
        TestFleet::new()
            .repo("alpha", &[("nginx/nginx.conf", NGINX)])
            .repo("beta", &[("docker-compose.yml", COMPOSE)])
            .repo("gamma", &[("k8s/ingress.yaml", INGRESS)])
    }

    #[test]
    fn renames_the_later_repositories_hosts() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = domain_conflict(&an, "app.example.com");
        assert_eq!(conflict.repositories, ["alpha", "beta", "gamma"]);
        let res = SubdomainSeparation
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(!res.automatic);
        let after = fleet.apply(&res);
        assert_eq!(after.text("alpha", "nginx/nginx.conf"), NGINX);
        assert_eq!(
            changed_lines(COMPOSE, &after.text("beta", "docker-compose.yml")),
            [
                (
                    "      - \"traefik.http.routers.web.rule=Host(`app.example.com`)\"".into(),
                    "      - \"traefik.http.routers.web.rule=Host(`beta.app.example.com`)\"".into()
                ),
                (
                    "      SITE_URL: https://app.example.com/api # the site".into(),
                    "      SITE_URL: https://beta.app.example.com/api # the site".into()
                ),
            ]
        );
        assert_eq!(
            changed_lines(INGRESS, &after.text("gamma", "k8s/ingress.yaml")),
            [
                (
                    "    - hosts: [\"app.example.com\"]".into(),
                    "    - hosts: [\"gamma.app.example.com\"]".into()
                ),
                (
                    "    - host: \"app.example.com\"".into(),
                    "    - host: \"gamma.app.example.com\"".into()
                ),
            ]
        );
        let re = after.analyze();
        assert_eq!(
            domain_conflict(&re, "app.example.com").repositories,
            ["alpha"]
        );
        assert_eq!(
            domain_conflict(&re, "beta.app.example.com").repositories,
            ["beta"]
        );
        assert_eq!(
            domain_conflict(&re, "gamma.app.example.com").repositories,
            ["gamma"]
        );
        // beta's own client now reaches beta's site.
        assert!(
            re.model
                .edges
                .iter()
                .any(|e| e.from == "beta/cli" && e.to == "beta/web")
        );
    }

    #[test]
    fn wildcards_and_other_kinds_are_refused() {
        let fleet = TestFleet::new()
            .repo(
                "a",
                &[("nginx.conf", "server { server_name *.example.com; }\n")],
            )
            .repo(
                "b",
                &[("nginx.conf", "server { server_name *.example.com; }\n")],
            );
        let an = fleet.analyze();
        let conflict = domain_conflict(&an, "*.example.com");
        assert_eq!(conflict.repositories.len(), 2);
        assert!(
            SubdomainSeparation
                .propose(&conflict, an.input(), &fleet)
                .is_none()
        );
        let mut port = conflict.clone();
        port.kind = ConflictKind::Port;
        assert!(
            SubdomainSeparation
                .propose(&port, an.input(), &fleet)
                .is_none()
        );
    }
}
