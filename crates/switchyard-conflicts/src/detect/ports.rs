//! `port`: one host port (and protocol) published by services of two repositories, or of two
//! compose projects, on one host. Bind IPs matter; ranges overlap; NodePorts open on every host.

use super::Detector;
use super::index::{FleetIndex, and_list, finish, may_clash};
use crate::{Conflict, ConflictKind, Occurrence, Severity, Step, StepRole};
use std::collections::{BTreeMap, HashSet};
use switchyard_model::{EndpointKind, Location, Protocol, Service};

/// Most ports of one published range that are compared (a `1-65535` range would be absurd).
const MAX_RANGE_PORTS: u32 = 1024;

pub struct PortDetector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Published { container_port: Option<u16> },
    HostProcess,
    NodePort,
}

/// One host port (range) somebody listens on.
struct Publisher<'a> {
    service: &'a Service,
    /// A specific bind address; `None` = every interface.
    ip: Option<String>,
    start: u16,
    end: u16,
    protocol: Protocol,
    via: Via,
    location: &'a Location,
}

impl Publisher<'_> {
    fn detail(&self) -> String {
        let proto = self.protocol.as_str();
        let ports = if self.end > self.start {
            format!("{}-{}", self.start, self.end)
        } else {
            self.start.to_string()
        };
        match self.via {
            Via::Published { container_port } => {
                let ip = self.ip.as_deref().unwrap_or("0.0.0.0");
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_string()
                };
                match container_port {
                    Some(c) => format!("{ip}:{ports}->{c}/{proto}"),
                    None => format!("{ip}:{ports}/{proto}"),
                }
            }
            Via::HostProcess => format!("{ports}/{proto} (host process)"),
            Via::NodePort => format!("nodePort {ports}/{proto}"),
        }
    }
}

/// `None` for addresses that bind every interface.
fn specific_ip(ip: Option<&str>) -> Option<String> {
    let ip = ip?.trim().trim_start_matches('[').trim_end_matches(']');
    match ip {
        "" | "0.0.0.0" | "::" | "*" => None,
        _ => Some(ip.to_ascii_lowercase()),
    }
}

/// Two binds collide unless both name different specific addresses.
fn ips_clash(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn publishers<'a>(service: &'a Service, node_ports_only: bool) -> Vec<Publisher<'a>> {
    let mut out = Vec::new();
    if service.test_harness {
        return out;
    }
    for e in &service.endpoints {
        let (ip, start, end, protocol, via) = match &e.kind {
            EndpointKind::HostPort {
                host_ip,
                start,
                end,
                container_port,
                protocol,
            } if !node_ports_only => (
                specific_ip(host_ip.as_deref()),
                *start,
                (*end).max(*start),
                *protocol,
                Via::Published {
                    container_port: *container_port,
                },
            ),
            EndpointKind::HostProcessPort { port } if !node_ports_only => {
                (None, *port, *port, Protocol::Tcp, Via::HostProcess)
            }
            EndpointKind::NodePort { port, protocol } => {
                (None, *port, *port, *protocol, Via::NodePort)
            }
            _ => continue,
        };
        if start == 0 {
            continue;
        }
        out.push(Publisher {
            service,
            ip,
            start,
            end,
            protocol,
            via,
            location: &e.location,
        });
    }
    out
}

impl Detector for PortDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::Port
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        let environments = fleet.by_environment();
        for (&(host, env), repos) in fleet.by_place() {
            let mut pubs: Vec<Publisher<'_>> = fleet
                .services_of(repos)
                .flat_map(|s| publishers(s, false))
                .collect();
            // NodePorts of the environment's other hosts are open here too.
            let here: HashSet<&str> = repos.iter().copied().collect();
            let elsewhere: Vec<&str> = environments
                .get(env)
                .map(|all| all.iter().copied().filter(|r| !here.contains(r)).collect())
                .unwrap_or_default();
            pubs.extend(
                fleet
                    .services_of(&elsewhere)
                    .flat_map(|s| publishers(s, true)),
            );
            detect_on_host(fleet, host, env, &pubs, &mut out);
        }
        finish(out)
    }
}

fn detect_on_host(
    fleet: &FleetIndex<'_>,
    host: &str,
    env: &str,
    pubs: &[Publisher<'_>],
    out: &mut Vec<Conflict>,
) {
    let mut at: BTreeMap<(Protocol, u16), Vec<usize>> = BTreeMap::new();
    for (i, p) in pubs.iter().enumerate() {
        let last = u32::from(p.end).min(u32::from(p.start) + MAX_RANGE_PORTS - 1);
        for port in u32::from(p.start)..=last {
            let Ok(port) = u16::try_from(port) else { break };
            at.entry((p.protocol, port)).or_default().push(i);
        }
    }
    // (protocol, clashing publishers) → ports, in order; consecutive ports become one range.
    let mut clashes: BTreeMap<(Protocol, Vec<usize>), Vec<u16>> = BTreeMap::new();
    for ((protocol, port), list) in at {
        if list.len() < 2 {
            continue;
        }
        let clashing: Vec<usize> = list
            .iter()
            .copied()
            .filter(|&i| {
                list.iter().any(|&j| {
                    i != j
                        && may_clash(pubs[i].service, pubs[j].service)
                        && ips_clash(&pubs[i].ip, &pubs[j].ip)
                })
            })
            .collect();
        if clashing.len() >= 2 {
            clashes.entry((protocol, clashing)).or_default().push(port);
        }
    }
    for ((protocol, members), ports) in clashes {
        // A clash of NodePorts alone is the same on every host of the environment: report it
        // once, on the first host of the repositories involved.
        if members.iter().all(|&i| pubs[i].via == Via::NodePort) {
            let first_host = members
                .iter()
                .map(|&i| fleet.place(&pubs[i].service.repository).0)
                .min();
            if first_host != Some(host) {
                continue;
            }
        }
        for (lo, hi) in runs(&ports) {
            out.push(conflict(host, env, protocol, lo, hi, &members, pubs));
        }
    }
}

/// Consecutive runs of sorted ports: `[1,2,3,7]` → `[(1,3),(7,7)]`.
fn runs(ports: &[u16]) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for &p in ports {
        match out.last_mut() {
            Some((_, hi)) if u32::from(*hi) + 1 == u32::from(p) => *hi = p,
            _ => out.push((p, p)),
        }
    }
    out
}

fn conflict(
    host: &str,
    env: &str,
    protocol: Protocol,
    lo: u16,
    hi: u16,
    members: &[usize],
    pubs: &[Publisher<'_>],
) -> Conflict {
    let proto = protocol.as_str();
    let port = if hi > lo {
        format!("{lo}-{hi}")
    } else {
        lo.to_string()
    };
    let occurrences: Vec<Occurrence> = members
        .iter()
        .map(|&i| {
            let p = &pubs[i];
            Occurrence {
                repository: p.service.repository.clone(),
                service: Some(p.service.name.clone()),
                location: p.location.clone(),
                detail: p.detail(),
            }
        })
        .collect();
    let mut who: Vec<(String, String)> = members
        .iter()
        .map(|&i| {
            let p = &pubs[i];
            (
                p.service.id.clone(),
                format!("{} ({})", p.service.id, p.location),
            )
        })
        .collect();
    who.sort();
    who.dedup_by(|a, b| a.0 == b.0);
    let who: Vec<String> = who.into_iter().map(|(_, text)| text).collect();
    let host_processes = members
        .iter()
        .filter(|&&i| pubs[i].via == Via::HostProcess)
        .count();
    // A process started on the host (a dev server) holds its port only while somebody runs it,
    // and the common dev servers move to the next free port when theirs is taken: two of them
    // are a nuisance, one beside a deployment is worth a look, two deployments cannot both start.
    let (severity, when, why) = if host_processes == members.len() {
        (
            Severity::Low,
            "; only while both run, and most dev servers then move to the next free port",
            "only host processes (dev servers) use it: they clash only while both run, and most \
             move to the next free port",
        )
    } else if host_processes > 0 {
        (
            Severity::Medium,
            "; the host process fails to start while the deployment holds it",
            "a host process (a dev server) and a deployment use it: the one started second \
             fails, but only while the host process runs",
        )
    } else {
        (
            Severity::High,
            "",
            "deployments that run at the same time publish it: the one started second fails \
             (\"port is already allocated\")",
        )
    };
    let fix = if members.iter().all(|&i| pubs[i].via == Via::NodePort) {
        "give all but one of them another nodePort (or let Kubernetes assign one)".to_string()
    } else {
        format!(
            "publish all but one of them on another free host port{}",
            match members.iter().find_map(|&i| match pubs[i].via {
                Via::Published {
                    container_port: Some(c),
                } => Some(c),
                _ => None,
            }) {
                Some(c) => format!("; the container side (:{c}) stays"),
                None => String::new(),
            }
        )
    };
    let message = format!(
        "host port {port}/{proto} on host {host} is used by {}; only one of them can bind it{when}; {fix}",
        and_list(&who)
    );
    let mut chain: Vec<Step> = members
        .iter()
        .map(|&i| {
            let p = &pubs[i];
            Step::new(
                StepRole::Serves,
                format!("{} binds {}", p.service.id, p.detail()),
                Some(p.location),
            )
        })
        .collect();
    chain.push(Step::new(StepRole::Fix, fix, None));
    chain.push(Step::new(StepRole::Severity, why, None));
    Conflict::new(
        ConflictKind::Port,
        severity,
        host,
        env,
        format!("port:{port}/{proto}"),
        occurrences,
        message,
    )
    .with_chain(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;
    use switchyard_model::Scope;

    fn run(fx: &Fixture) -> Vec<Conflict> {
        PortDetector.detect(fx.input())
    }

    fn two_repos(a: EndpointKind, b: EndpointKind, host_b: &str) -> Fixture {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", host_b, "default")];
        fx.model.services = vec![
            service(
                "a",
                "web",
                vec![compose_scope("docker-compose.yml")],
                vec![a],
            ),
            service(
                "b",
                "api",
                vec![compose_scope("docker-compose.yml")],
                vec![b],
            ),
        ];
        fx
    }

    #[test]
    fn same_port_in_two_repositories_clashes() {
        let fx = two_repos(
            host_port(None, 8080, 8080),
            host_port(None, 8080, 8080),
            "local",
        );
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "port:8080/tcp");
        assert_eq!(c[0].severity, Severity::High);
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(c[0].host, "local");
        assert_eq!(c[0].occurrences.len(), 2);
        assert_eq!(c[0].occurrences[0].detail, "0.0.0.0:8080->80/tcp");
        assert_eq!(
            c[0].occurrences[0].location.to_string(),
            "a/docker-compose.yml:10:5"
        );
        // Both sides with their locations, and what to change.
        assert!(
            c[0].message.contains(
                "a/web (a/docker-compose.yml:10:5) and b/api (b/docker-compose.yml:10:5)"
            ) && c[0]
                .message
                .contains("publish all but one of them on another free host port"),
            "{}",
            c[0].message
        );
        assert_eq!(c[0].chain.len(), 4);
        assert!(c[0].id.starts_with("port-"));
    }

    #[test]
    fn different_hosts_do_not_clash() {
        let fx = two_repos(
            host_port(None, 8080, 8080),
            host_port(None, 8080, 8080),
            "nas",
        );
        assert!(run(&fx).is_empty());
    }

    #[test]
    fn bind_addresses_matter() {
        let l1 = host_port(Some("127.0.0.1"), 9229, 9229);
        let l2 = host_port(Some("127.0.0.2"), 9229, 9229);
        assert!(run(&two_repos(l1.clone(), l2, "local")).is_empty());
        assert_eq!(
            run(&two_repos(
                l1.clone(),
                host_port(Some("0.0.0.0"), 9229, 9229),
                "local"
            ))
            .len(),
            1
        );
        assert_eq!(run(&two_repos(l1.clone(), l1, "local")).len(), 1);
        assert_eq!(
            run(&two_repos(
                host_port(Some("::"), 53, 53),
                host_port(Some("10.0.0.2"), 53, 53),
                "local"
            ))
            .len(),
            1
        );
    }

    #[test]
    fn protocols_differ() {
        let udp = EndpointKind::HostPort {
            host_ip: None,
            start: 53,
            end: 53,
            container_port: Some(53),
            protocol: Protocol::Udp,
        };
        assert!(run(&two_repos(host_port(None, 53, 53), udp, "local")).is_empty());
    }

    #[test]
    fn ranges_overlap_into_one_conflict() {
        let fx = two_repos(
            host_port(None, 8000, 8010),
            host_port(None, 8005, 8020),
            "local",
        );
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "port:8005-8010/tcp");
        assert_eq!(c[0].occurrences[0].detail, "0.0.0.0:8000-8010->80/tcp");
    }

    #[test]
    fn host_processes_and_node_ports_count() {
        let fx = two_repos(
            EndpointKind::HostProcessPort { port: 3000 },
            host_port(None, 3000, 3000),
            "local",
        );
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].occurrences[0].detail, "3000/tcp (host process)");
        // A dev server beside a deployment: worth a look, not a deployment that cannot start.
        assert_eq!(c[0].severity, Severity::Medium);

        // Two dev servers: only while both run, and most move to the next free port.
        let dev = EndpointKind::HostProcessPort { port: 5173 };
        let c = run(&two_repos(dev.clone(), dev, "local"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Low);
        assert!(
            c[0].message.contains("only while both run"),
            "{}",
            c[0].message
        );

        // A NodePort in `b` (on host `k8s`) is open on host `local` too, same environment.
        let node = EndpointKind::NodePort {
            port: 30080,
            protocol: Protocol::Tcp,
        };
        let fx = two_repos(host_port(None, 30080, 30080), node.clone(), "k8s");
        let c = run(&fx);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].host, "local");

        // Two NodePorts clash once, not once per host.
        let mut fx = two_repos(node.clone(), node, "k8s");
        fx.model.repositories.push(repo("c", "third", "default"));
        fx.model
            .services
            .push(service("c", "x", vec![Scope::Host], vec![]));
        let c = run(&fx);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].host, "k8s");
        assert_eq!(c[0].occurrences[1].detail, "nodePort 30080/tcp");
    }

    #[test]
    fn other_environments_do_not_clash() {
        let mut fx = two_repos(host_port(None, 80, 80), host_port(None, 80, 80), "local");
        fx.model.repositories[1].environment = "prod".into();
        assert!(run(&fx).is_empty());
    }

    #[test]
    fn one_repository_with_itself() {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("r", "local", "default")];
        // One service merged from compose and k8s declarations: never a conflict.
        let mut web = service(
            "r",
            "web",
            vec![
                compose_scope("docker-compose.yml"),
                Scope::Kubernetes {
                    namespace: "default".into(),
                },
            ],
            vec![
                host_port(None, 8080, 8080),
                EndpointKind::HostProcessPort { port: 8080 },
            ],
        );
        web.endpoints.push(web.endpoints[0].clone());
        // A prod variant of the app under another name: not a conflict either.
        let prod = service(
            "r",
            "web-prod",
            vec![compose_scope("deploy/prod/docker-compose.yml")],
            vec![host_port(None, 8080, 8080)],
        );
        fx.model.services = vec![web, prod];
        assert!(run(&fx).is_empty());
        // Two apps of one monorepo in their own folders do clash.
        fx.model.services.push(service(
            "r",
            "other",
            vec![compose_scope("app2/compose.yaml")],
            vec![host_port(None, 8080, 8080)],
        ));
        let c = run(&fx);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].repositories, vec!["r"]);
        // web (published and host process), web-prod and other.
        assert_eq!(c[0].occurrences.len(), 4);
    }

    #[test]
    fn test_harnesses_are_ignored() {
        let mut fx = two_repos(
            host_port(None, 5432, 5432),
            host_port(None, 5432, 5432),
            "local",
        );
        fx.model.services[1].test_harness = true;
        assert!(run(&fx).is_empty());
    }

    #[test]
    fn output_is_deterministic() {
        let mut fx = two_repos(host_port(None, 80, 80), host_port(None, 80, 80), "local");
        fx.model.services[0]
            .endpoints
            .push(switchyard_model::Endpoint {
                kind: host_port(None, 443, 443),
                location: loc("a", "docker-compose.yml", 20),
            });
        fx.model.services[1]
            .endpoints
            .push(switchyard_model::Endpoint {
                kind: host_port(None, 443, 443),
                location: loc("b", "docker-compose.yml", 20),
            });
        let first = run(&fx);
        fx.model.services.reverse();
        assert_eq!(first, run(&fx));
        assert_eq!(first.len(), 2);
        assert!(first[0].id < first[1].id);
    }

    #[test]
    fn look_alikes_stay_quiet() {
        // The same container port in two services: each container has its own.
        let container = EndpointKind::ContainerPort {
            port: 8080,
            protocol: Protocol::Tcp,
        };
        assert!(run(&two_repos(container.clone(), container, "local")).is_empty());
        // tcp and udp on one port number are two sockets.
        let udp = EndpointKind::HostPort {
            host_ip: None,
            start: 8080,
            end: 8080,
            container_port: Some(8080),
            protocol: Protocol::Udp,
        };
        assert!(run(&two_repos(host_port(None, 8080, 8080), udp, "local")).is_empty());
        // Two alternative variants of one repository never run together.
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("r", "local", "default")];
        let mut a = service(
            "r",
            "web",
            vec![compose_scope("a/docker-compose.yml")],
            vec![host_port(None, 80, 80)],
        );
        a.variants = vec!["a/docker-compose.yml".into()];
        let mut b = service(
            "r",
            "site",
            vec![compose_scope("b/docker-compose.yml")],
            vec![host_port(None, 80, 80)],
        );
        b.variants = vec!["b/docker-compose.yml".into()];
        fx.model.services = vec![a, b];
        assert!(run(&fx).is_empty());
        // In one variant they do clash.
        fx.model.services[1].variants = vec!["a/docker-compose.yml".into()];
        assert_eq!(run(&fx).len(), 1);
    }
}
