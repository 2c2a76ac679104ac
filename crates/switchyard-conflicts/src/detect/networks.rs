//! `network`: a shared (external) network declared with settings that disagree across
//! repositories, or fixed subnets of different networks overlapping on one host.

use super::Detector;
use super::index::{FleetIndex, and_list, finish, same_deployment};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use switchyard_model::{ResourceKind, ResourceUse};

pub struct NetworkDetector;

/// Settings that two declarations of one network must agree on.
const MUST_AGREE: [&str; 3] = ["driver", "subnet", "gateway"];

/// A network declaration of one repository.
struct Net<'a> {
    repository: &'a str,
    r: &'a ResourceUse,
    /// The repository's variants holding the declaration (empty: one deployment, or shared).
    variants: Vec<&'a str>,
    /// Declarations with equal identity are the same network.
    identity: String,
}

impl Net<'_> {
    fn occurrence(&self, detail: String) -> Occurrence {
        Occurrence {
            repository: self.repository.to_string(),
            service: self.r.service.clone(),
            location: self.r.location.clone(),
            detail,
        }
    }

    fn settings_text(&self) -> String {
        let parts: Vec<String> = self
            .r
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if parts.is_empty() {
            self.r.identifier.clone()
        } else {
            format!("{} ({})", self.r.identifier, parts.join(", "))
        }
    }
}

/// A parsed CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    /// IPv4 addresses are kept apart from IPv6 ones: they never overlap.
    v6: bool,
    bits: u128,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Self> {
        let (ip, prefix) = text.trim().split_once('/')?;
        let ip: IpAddr = ip.trim().parse().ok()?;
        let prefix: u8 = prefix.trim().parse().ok()?;
        let (v6, bits, max) = match ip {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (true, u128::from(v6), 128),
        };
        (prefix <= max).then_some(Self { v6, bits, prefix })
    }

    fn max(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn network(&self, prefix: u8) -> u128 {
        let host_bits = u32::from(self.max() - prefix.min(self.max()));
        if host_bits >= 128 {
            0
        } else {
            (self.bits >> host_bits) << host_bits
        }
    }

    fn overlaps(&self, other: &Cidr) -> bool {
        if self.v6 != other.v6 {
            return false;
        }
        let p = self.prefix.min(other.prefix);
        self.network(p) == other.network(p)
    }
}

fn subnets(r: &ResourceUse) -> Vec<(String, Cidr)> {
    r.settings
        .get("subnet")
        .map(|s| {
            s.split(',')
                .filter_map(|t| Cidr::parse(t).map(|c| (t.trim().to_string(), c)))
                .collect()
        })
        .unwrap_or_default()
}

impl Detector for NetworkDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::Network
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (&(host, env), repos) in fleet.by_place() {
            let declared: Vec<(&switchyard_model::RepoFacts, &ResourceUse)> = fleet
                .facts_of(repos)
                .flat_map(|f| {
                    f.resources
                        .iter()
                        .filter(|r| r.kind == ResourceKind::Network)
                        .map(move |r| (f, r))
                })
                .collect();
            // Names declared external on this host are shared; a project declaring a network of
            // that name (with `name:`) is the one creating it.
            let shared: BTreeSet<&str> = declared
                .iter()
                .filter(|(_, r)| r.external)
                .map(|(_, r)| r.identifier.as_str())
                .collect();
            let nets: Vec<Net<'_>> = declared
                .into_iter()
                .map(|(f, r)| Net {
                    repository: f.repository.as_str(),
                    r,
                    variants: f
                        .variants
                        .iter()
                        .filter(|v| v.holds(&r.location.path))
                        .map(|v| v.name.as_str())
                        .collect(),
                    identity: if shared.contains(r.identifier.as_str()) {
                        format!("shared:{}", r.identifier)
                    } else {
                        format!("{}:{}:{}", f.repository, r.location.path, r.identifier)
                    },
                })
                .collect();
            settings_mismatches(host, env, &nets, &mut out);
            subnet_overlaps(host, env, &nets, &mut out);
        }
        finish(out)
    }
}

/// Declarations of one shared network whose settings disagree across repositories.
fn settings_mismatches(host: &str, env: &str, nets: &[Net<'_>], out: &mut Vec<Conflict>) {
    let mut groups: BTreeMap<&str, Vec<&Net<'_>>> = BTreeMap::new();
    for n in nets.iter().filter(|n| n.identity.starts_with("shared:")) {
        groups.entry(n.r.identifier.as_str()).or_default().push(n);
    }
    for (name, group) in groups {
        let mut differing: BTreeSet<&str> = BTreeSet::new();
        let mut involved: BTreeSet<usize> = BTreeSet::new();
        for (i, a) in group.iter().enumerate() {
            for (j, b) in group.iter().enumerate().skip(i + 1) {
                if a.repository == b.repository {
                    continue;
                }
                for key in MUST_AGREE {
                    // A declaration without the setting (`external: true`) accepts any value.
                    if let (Some(x), Some(y)) = (a.r.settings.get(key), b.r.settings.get(key))
                        && x != y
                    {
                        differing.insert(key);
                        involved.insert(i);
                        involved.insert(j);
                    }
                }
            }
        }
        if differing.is_empty() {
            continue;
        }
        let occurrences: Vec<Occurrence> = involved
            .iter()
            .map(|&i| group[i].occurrence(group[i].settings_text()))
            .collect();
        let keys: Vec<&str> = differing.into_iter().collect();
        let message = format!(
            "shared network {name} is declared with different {} across repositories on host {host}; \
             the first project to create it decides: declare the settings only in the project that \
             owns it and `external: true` in the others",
            and_list(&keys)
        );
        out.push(Conflict::new(
            ConflictKind::Network,
            Severity::Medium,
            host,
            env,
            format!("network:{name}"),
            occurrences,
            message,
        ));
    }
}

/// Fixed subnets of different networks that overlap: Docker refuses to create the second.
fn subnet_overlaps(host: &str, env: &str, nets: &[Net<'_>], out: &mut Vec<Conflict>) {
    let blocks: Vec<(usize, String, Cidr)> = nets
        .iter()
        .enumerate()
        .flat_map(|(i, n)| subnets(n.r).into_iter().map(move |(t, c)| (i, t, c)))
        .collect();
    // containing block → (networks, their blocks)
    let mut found: BTreeMap<String, BTreeSet<(usize, String)>> = BTreeMap::new();
    for (x, (i, ti, ci)) in blocks.iter().enumerate() {
        for (j, tj, cj) in &blocks[x + 1..] {
            let (a, b) = (&nets[*i], &nets[*j]);
            if a.identity == b.identity || !ci.overlaps(cj) {
                continue;
            }
            // One repository's variants of a deployment (dev/prod compose files) never run
            // together.
            if a.repository == b.repository
                && a.r.location.path != b.r.location.path
                && same_deployment(&a.r.location.path, &b.r.location.path)
            {
                continue;
            }
            if a.repository == b.repository
                && !a.variants.is_empty()
                && !b.variants.is_empty()
                && !a.variants.iter().any(|v| b.variants.contains(v))
            {
                continue;
            }
            let outer = if ci.prefix <= cj.prefix { ti } else { tj };
            let entry = found.entry(outer.clone()).or_default();
            entry.insert((*i, ti.clone()));
            entry.insert((*j, tj.clone()));
        }
    }
    for (outer, members) in found {
        let occurrences: Vec<Occurrence> = members
            .iter()
            .map(|(i, block)| nets[*i].occurrence(format!("{} {block}", nets[*i].r.identifier)))
            .collect();
        let mut names: Vec<String> = members
            .iter()
            .map(|(i, block)| {
                format!(
                    "{} ({block}, {})",
                    nets[*i].r.identifier, nets[*i].repository
                )
            })
            .collect();
        names.sort();
        names.dedup();
        let message = format!(
            "subnets of different networks overlap on host {host}: {}; Docker cannot create both: \
             move one to a free range (or share one network, declared `external: true`)",
            and_list(&names)
        );
        out.push(Conflict::new(
            ConflictKind::Network,
            Severity::Medium,
            host,
            env,
            format!("subnet:{outer}"),
            occurrences,
            message,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;

    fn net(repo: &str, name: &str, external: bool, settings: &[(&str, &str)]) -> ResourceUse {
        ResourceUse {
            service: None,
            kind: ResourceKind::Network,
            identifier: name.into(),
            read_only: false,
            external,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            location: loc(repo, "docker-compose.yml", 30),
        }
    }

    fn run(a: Vec<ResourceUse>, b: Vec<ResourceUse>) -> Vec<Conflict> {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", "local", "default")];
        fx.facts_mut("a").resources = a;
        fx.facts_mut("b").resources = b;
        NetworkDetector.detect(fx.input())
    }

    #[test]
    fn cidrs() {
        let a = Cidr::parse("172.20.0.0/16").unwrap();
        assert!(a.overlaps(&Cidr::parse("172.20.5.0/24").unwrap()));
        assert!(!a.overlaps(&Cidr::parse("172.21.0.0/16").unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().overlaps(&a));
        assert!(!a.overlaps(&Cidr::parse("fd00::/64").unwrap()));
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .overlaps(&Cidr::parse("fd12:3456::/64").unwrap())
        );
        assert_eq!(Cidr::parse("172.20.0.0/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
    }

    #[test]
    fn shared_network_on_purpose_is_fine() {
        // The creator declares it with settings; the others say `external: true`.
        let c = run(
            vec![net(
                "a",
                "proxy",
                false,
                &[("driver", "bridge"), ("subnet", "172.30.0.0/16")],
            )],
            vec![net("b", "proxy", true, &[])],
        );
        assert!(c.is_empty(), "{c:#?}");
        let c = run(
            vec![net("a", "proxy", true, &[])],
            vec![net("b", "proxy", true, &[])],
        );
        assert!(c.is_empty());
    }

    #[test]
    fn shared_network_with_different_settings() {
        let c = run(
            vec![net("a", "proxy", true, &[("driver", "overlay")])],
            vec![net("b", "proxy", true, &[("driver", "bridge")])],
        );
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].resource.as_str(), c[0].severity),
            ("network:proxy", Severity::Medium)
        );
        assert_eq!(c[0].occurrences[0].detail, "proxy (driver=overlay)");
        assert!(
            c[0].message.contains("different driver"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn overlapping_subnets_of_different_networks() {
        let c = run(
            vec![net("a", "backend", false, &[("subnet", "172.20.0.0/16")])],
            vec![net("b", "backend", false, &[("subnet", "172.20.1.0/24")])],
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].resource, "subnet:172.20.0.0/16");
        assert_eq!(c[0].repositories, vec!["a", "b"]);
        assert_eq!(c[0].occurrences[1].detail, "backend 172.20.1.0/24");
        // Disjoint subnets are fine.
        assert!(
            run(
                vec![net("a", "backend", false, &[("subnet", "172.20.0.0/16")])],
                vec![net("b", "backend", false, &[("subnet", "172.21.0.0/16")])],
            )
            .is_empty()
        );
    }

    #[test]
    fn two_variants_in_different_folders_may_reuse_a_subnet() {
        let mut cluster = net("a", "backend", false, &[("subnet", "172.20.0.0/16")]);
        cluster.location.path = "swarm/stack.yml".into();
        let local = net("a", "backend", false, &[("subnet", "172.20.0.0/16")]);
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default")];
        fx.facts_mut("a").resources = vec![local, cluster];
        // Without variants the folders alone say they may run together.
        assert_eq!(NetworkDetector.detect(fx.input()).len(), 1);
        fx.facts_mut("a").variants = ["docker-compose.yml", "swarm/stack.yml"]
            .iter()
            .map(|name| switchyard_model::Variant {
                name: name.to_string(),
                files: vec![name.to_string()],
            })
            .collect();
        assert!(NetworkDetector.detect(fx.input()).is_empty());
    }

    #[test]
    fn variants_of_one_repository_may_reuse_a_subnet() {
        let mut prod = net("a", "backend", false, &[("subnet", "172.20.0.0/16")]);
        prod.location.path = "docker-compose.prod.yml".into();
        let dev = net("a", "backend", false, &[("subnet", "172.20.0.0/16")]);
        assert!(run(vec![dev.clone(), prod], vec![]).is_empty());
        // Two networks of one compose file overlapping is a real conflict.
        let other = net("a", "frontend", false, &[("subnet", "172.20.0.0/24")]);
        assert_eq!(run(vec![dev, other], vec![]).len(), 1);
    }
}
