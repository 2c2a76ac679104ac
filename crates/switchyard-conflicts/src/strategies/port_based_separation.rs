//! `port-based-separation`: the first repository keeps a contested domain on its port; every
//! other one is served on a free port instead (its nginx `listen`, or its published host port).

use super::common::{Files, endpoint_at, in_order, resolution};
use super::port_reassignment::{PortRange, allocate, endpoint_edits, used_ports};
use super::{FileSource, Strategy};
use crate::{Conflict, ConflictKind, FleetInput, Resolution};
use std::collections::{BTreeSet, HashSet};
use switchyard_model::{Endpoint, EndpointKind};

#[derive(Debug, Clone, Default)]
pub struct PortBasedSeparation {
    pub range: PortRange,
}

impl Strategy for PortBasedSeparation {
    fn name(&self) -> &'static str {
        "port-based-separation"
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
        let used = used_ports(input, &conflict.host);
        let mut taken = HashSet::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut edits = Vec::new();
        let mut moved = Vec::new();
        for occurrence in ordered.iter().filter(|o| o.repository != kept) {
            let (service, _) = endpoint_at(input, occurrence)?;
            if !seen.insert(service.id.clone()) {
                continue;
            }
            // The server block's own `listen` ports, else the ports the container publishes.
            let listens: Vec<&Endpoint> = service
                .endpoints
                .iter()
                .filter(|e| matches!(e.kind, EndpointKind::HostProcessPort { .. }))
                .filter(|e| e.location.path == occurrence.location.path)
                .collect();
            let ports: Vec<(&Endpoint, u16)> = if listens.is_empty() {
                service
                    .endpoints
                    .iter()
                    .filter_map(|e| match e.kind {
                        EndpointKind::HostPort { start, end, .. } if end <= start => {
                            Some((e, start))
                        }
                        _ => None,
                    })
                    .collect()
            } else {
                listens
                    .into_iter()
                    .filter_map(|e| match e.kind {
                        EndpointKind::HostProcessPort { port } => Some((e, port)),
                        _ => None,
                    })
                    .collect()
            };
            if ports.is_empty() {
                return None;
            }
            for (endpoint, port) in ports {
                let new = allocate(self.range, 0, &used, &mut taken)?;
                edits.extend(endpoint_edits(
                    &files,
                    input,
                    &endpoint.location,
                    &port.to_string(),
                    &new.to_string(),
                )?);
                moved.push(format!("{} {port} → {new}", service.id));
            }
        }
        if edits.is_empty() {
            return None;
        }
        let description = format!(
            "Keep {} on its port for {kept}; serve {} instead. The name stays shared, so clients \
             of the moved sites must add the port to their URLs.",
            conflict.resource,
            moved.join(", ")
        );
        Some(resolution(
            conflict,
            self.name(),
            0.4,
            false,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::subdomain_separation::tests::NGINX;
    use crate::strategies::testkit::{TestFleet, changed_lines, domain_conflict};

    const SITE: &str = "server {\n    listen 80;\n    listen 443 ssl; # tls\n    server_name app.example.com;\n}\n";

    #[test]
    fn moves_the_listen_ports_of_the_later_server() {
        let fleet = TestFleet::new()
            .repo("alpha", &[("nginx/nginx.conf", NGINX)])
            .repo("beta", &[("nginx/conf.d/site.conf", SITE)]);
        let an = fleet.analyze();
        let conflict = domain_conflict(&an, "app.example.com");
        let res = PortBasedSeparation::default()
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(!res.automatic);
        let after = fleet.apply(&res);
        assert_eq!(after.text("alpha", "nginx/nginx.conf"), NGINX);
        assert_eq!(
            changed_lines(SITE, &after.text("beta", "nginx/conf.d/site.conf")),
            [
                ("    listen 80;".into(), "    listen 20000;".into()),
                (
                    "    listen 443 ssl; # tls".into(),
                    "    listen 20001 ssl; # tls".into()
                ),
            ]
        );
        let re = after.analyze();
        let ports: Vec<u16> = re
            .model
            .services
            .iter()
            .filter(|s| s.repository == "beta")
            .flat_map(|s| &s.endpoints)
            .filter_map(|e| match e.kind {
                EndpointKind::HostProcessPort { port } => Some(port),
                _ => None,
            })
            .collect();
        assert_eq!(ports, [20000, 20001]);
    }

    #[test]
    fn published_ports_move_and_traefik_only_services_are_refused() {
        let published = "services:\n  web:\n    image: w\n    ports: [\"80:8080\"]\n    labels:\n      traefik.http.routers.w.rule: Host(`app.example.com`)\n";
        let traefik_only = "services:\n  web:\n    image: w\n    labels:\n      traefik.http.routers.w.rule: Host(`app.example.com`)\n";
        for (text, expect) in [(published, true), (traefik_only, false)] {
            let fleet = TestFleet::new()
                .repo("alpha", &[("nginx/nginx.conf", NGINX)])
                .repo("beta", &[("compose.yaml", text)]);
            let an = fleet.analyze();
            let conflict = domain_conflict(&an, "app.example.com");
            let res = PortBasedSeparation::default().propose(&conflict, an.input(), &fleet);
            assert_eq!(res.is_some(), expect);
            if let Some(res) = res {
                let after = fleet.apply(&res);
                assert_eq!(
                    after.text("beta", "compose.yaml"),
                    published.replace("\"80:8080\"", "\"20000:8080\"")
                );
            }
        }
    }
}
