//! `container_name`: one fixed `container_name` in two compose projects on one host (Docker
//! refuses to start the second container), or one fixed `hostname` (software that names itself
//! after its hostname sees one machine).

use super::Detector;
use super::index::{FleetIndex, and_list, finish, may_clash};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::BTreeMap;
use switchyard_model::{AliasKind, Location, ResourceKind, ResourceUse, Service};

pub struct ContainerNameDetector;

impl Detector for ContainerNameDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::ContainerName
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (&(host, env), repos) in fleet.by_place() {
            let mut by_name: BTreeMap<&str, Vec<(&Service, &ResourceUse)>> = BTreeMap::new();
            for facts in fleet.facts_of(repos) {
                for r in &facts.resources {
                    if r.kind != ResourceKind::ContainerName || r.identifier.contains('$') {
                        continue;
                    }
                    let Some(service) = r
                        .service
                        .as_deref()
                        .and_then(|s| fleet.service(&facts.repository, s))
                    else {
                        continue;
                    };
                    if !service.test_harness {
                        by_name.entry(&r.identifier).or_default().push((service, r));
                    }
                }
            }
            for (name, uses) in by_name {
                let clashing: Vec<&(&Service, &ResourceUse)> = uses
                    .iter()
                    .filter(|(a, _)| uses.iter().any(|(b, _)| may_clash(a, b)))
                    .collect();
                if clashing.len() < 2 {
                    continue;
                }
                let occurrences: Vec<Occurrence> = clashing
                    .iter()
                    .map(|(s, r)| Occurrence {
                        repository: s.repository.clone(),
                        service: Some(s.name.clone()),
                        location: r.location.clone(),
                        detail: format!("container_name: {name}"),
                    })
                    .collect();
                let mut who: Vec<String> = clashing.iter().map(|(s, _)| s.id.clone()).collect();
                who.sort();
                who.dedup();
                out.push(Conflict::new(
                    ConflictKind::ContainerName,
                    Severity::High,
                    host,
                    env,
                    format!("container_name:{name}"),
                    occurrences,
                    format!(
                        "container name {name} is set by {} on host {host}; Docker starts only \
                         one container with a name: rename all but one (or drop container_name \
                         and let compose prefix it with the project name)",
                        and_list(&who)
                    ),
                ));
            }
            out.extend(hostname_clashes(fleet, host, env, repos));
        }
        finish(out)
    }
}

/// One fixed `hostname:` in services of two projects on one host. Docker runs both, but
/// whatever names itself after its hostname (RabbitMQ and other cluster nodes, metrics and log
/// labels, mDNS) sees one machine.
fn hostname_clashes(
    fleet: &FleetIndex<'_>,
    host: &str,
    env: &str,
    repos: &[&str],
) -> Vec<Conflict> {
    let mut by_name: BTreeMap<String, Vec<(&Service, &Location)>> = BTreeMap::new();
    for s in fleet.services_of(repos).filter(|s| !s.test_harness) {
        for a in s.aliases.iter().filter(|a| a.kind == AliasKind::Hostname) {
            let name = a.name.trim().to_ascii_lowercase();
            if name.is_empty() || name.contains('$') || name == "localhost" {
                continue;
            }
            let list = by_name.entry(name).or_default();
            if !list.iter().any(|(other, _)| other.id == s.id) {
                list.push((s, &a.location));
            }
        }
    }
    let mut out = Vec::new();
    for (name, uses) in by_name {
        let clashing: Vec<&(&Service, &Location)> = uses
            .iter()
            .filter(|(a, _)| uses.iter().any(|(b, _)| may_clash(a, b)))
            .collect();
        if clashing.len() < 2 {
            continue;
        }
        let occurrences: Vec<Occurrence> = clashing
            .iter()
            .map(|(s, l)| Occurrence {
                repository: s.repository.clone(),
                service: Some(s.name.clone()),
                location: (*l).clone(),
                detail: format!("hostname: {name}"),
            })
            .collect();
        let mut who: Vec<String> = clashing.iter().map(|(s, _)| s.id.clone()).collect();
        who.sort();
        who.dedup();
        out.push(Conflict::new(
            ConflictKind::ContainerName,
            Severity::Low,
            host,
            env,
            format!("hostname:{name}"),
            occurrences,
            format!(
                "hostname {name} is fixed by {} on host {host}; software that names itself after \
                 its hostname (cluster nodes such as RabbitMQ, metrics and log labels, mDNS) sees \
                 one machine: give each its own hostname",
                and_list(&who)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use std::collections::BTreeMap;

    fn name_use(repo: &str, service: &str, name: &str) -> ResourceUse {
        ResourceUse {
            service: Some(service.into()),
            kind: ResourceKind::ContainerName,
            identifier: name.into(),
            read_only: false,
            external: false,
            settings: BTreeMap::new(),
            location: loc(repo, "docker-compose.yml", 4),
        }
    }

    fn fixture(host_b: &str) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", host_b, "default")];
        for r in ["a", "b"] {
            fx.model.services.push(service(
                r,
                "db",
                vec![compose_scope("docker-compose.yml")],
                vec![],
            ));
            fx.facts_mut(r)
                .resources
                .push(name_use(r, "db", "postgres"));
        }
        fx
    }

    #[test]
    fn same_name_in_two_projects() {
        let fx = fixture("local");
        let c = ContainerNameDetector.detect(fx.input());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "container_name:postgres");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(
            c[0].occurrences[0].location.to_string(),
            "a/docker-compose.yml:4:5"
        );
        assert!(c[0].message.contains("a/db and b/db"));
    }

    fn hostname(repo: &str, service_name: &str, name: &str) -> Service {
        let mut s = service(
            repo,
            service_name,
            vec![compose_scope("docker-compose.yml")],
            vec![],
        );
        s.aliases.push(switchyard_model::Alias {
            name: name.into(),
            kind: AliasKind::Hostname,
            location: loc(repo, "docker-compose.yml", 6),
        });
        s
    }

    #[test]
    fn same_hostname_in_two_projects() {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![
            repo("a", "local", "default"),
            repo("b", "local", "default"),
            repo("c", "nas", "default"),
        ];
        fx.model.services = vec![
            hostname("a", "mq", "rabbit"),
            hostname("b", "queue", "Rabbit"),
            hostname("c", "mq", "rabbit"),
            hostname("a", "web", "${HOSTNAME}"),
            hostname("b", "web", "${HOSTNAME}"),
        ];
        let c = ContainerNameDetector.detect(fx.input());
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(
            (c[0].resource.as_str(), c[0].severity),
            ("hostname:rabbit", Severity::Low)
        );
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(c[0].occurrences[1].detail, "hostname: rabbit");
        assert!(
            c[0].message.contains("a/mq and b/queue") && c[0].message.contains("its own hostname"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn other_hosts_and_variants_do_not_clash() {
        assert!(
            ContainerNameDetector
                .detect(fixture("nas").input())
                .is_empty()
        );
        // One repository: the service merged from compose and swarm files is one service, and
        // a prod variant under another name is an alternative.
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default")];
        fx.model.services = vec![
            service("a", "db", vec![compose_scope("docker-compose.yml")], vec![]),
            service(
                "a",
                "db-prod",
                vec![compose_scope("docker-compose.prod.yml")],
                vec![],
            ),
        ];
        fx.facts_mut("a").resources = vec![
            name_use("a", "db", "postgres"),
            name_use("a", "db", "postgres"),
            name_use("a", "db-prod", "postgres"),
        ];
        assert!(ContainerNameDetector.detect(fx.input()).is_empty());
    }
}
