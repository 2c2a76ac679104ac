//! `volume`: one external/explicitly named volume or absolute host path written by services of
//! two repositories on one host (high), or a fixed volume `name:` that two projects both create.
//! One writer with any number of read-only (`:ro`) readers is how sharing is meant to work.

use super::Detector;
use super::index::{FleetIndex, and_list, finish};
use crate::{Conflict, ConflictKind, Occurrence, Severity};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{ResourceKind, ResourceUse};

pub struct VolumeDetector;

/// Host paths every container may mount without sharing data with another (sockets, clocks,
/// kernel interfaces, certificates).
const SYSTEM_PATHS: [&str; 20] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/podman/podman.sock",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/machine-id",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/usr/share/zoneinfo",
    "/usr/share/ca-certificates",
    "/proc",
    "/sys",
    "/dev",
    "/lib/modules",
    "/run/dbus",
    "/var/run/dbus",
    "/run/udev",
    "/tmp/.X11-unix",
];

fn is_system_path(path: &str) -> bool {
    path == "/"
        || SYSTEM_PATHS
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The shared identity of a mount, or `None` when it is private to its project (a named volume
/// compose prefixes with the project name, a relative bind path).
pub(crate) fn shared_identity(r: &ResourceUse) -> Option<String> {
    match r.kind {
        // A volume is shared when external or given a fixed `name:` (an extractor may record
        // that as the `name` setting).
        ResourceKind::Volume if r.external || r.settings.contains_key("name") => {
            Some(r.identifier.clone())
        }
        ResourceKind::BindMount => {
            let path = r.identifier.trim();
            if !path.starts_with('/') || path.contains('$') {
                return None;
            }
            let path = path.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            (!is_system_path(path)).then(|| path.to_string())
        }
        _ => None,
    }
}

impl Detector for VolumeDetector {
    fn kind(&self) -> ConflictKind {
        ConflictKind::Volume
    }

    fn detect_in(&self, fleet: &FleetIndex<'_>) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (&(host, env), repos) in fleet.by_place() {
            let mut uses: BTreeMap<String, Vec<(&str, &ResourceUse)>> = BTreeMap::new();
            for facts in fleet.facts_of(repos) {
                for r in &facts.resources {
                    let Some(service) = r.service.as_deref() else {
                        continue;
                    };
                    if fleet
                        .service(&facts.repository, service)
                        .is_some_and(|s| s.test_harness)
                    {
                        continue;
                    }
                    if let Some(id) = shared_identity(r) {
                        uses.entry(id).or_default().push((&facts.repository, r));
                    }
                }
            }
            for (identity, list) in uses {
                if let Some(c) = conflict(host, env, &identity, &list) {
                    out.push(c);
                }
            }
        }
        finish(out)
    }
}

fn conflict(
    host: &str,
    env: &str,
    identity: &str,
    uses: &[(&str, &ResourceUse)],
) -> Option<Conflict> {
    let writers: BTreeSet<&str> = uses
        .iter()
        .filter(|(_, r)| !r.read_only)
        .map(|(repo, _)| *repo)
        .collect();
    // A fixed `name:` that no project marks `external`: every project creates the volume and
    // takes it for its own (`docker compose down -v` in one deletes the others' data).
    let owners: BTreeSet<&str> = uses
        .iter()
        .filter(|(_, r)| !r.external && r.settings.contains_key("name"))
        .map(|(repo, _)| *repo)
        .collect();
    if writers.len() < 2 && owners.len() < 2 {
        return None;
    }
    let occurrences: Vec<Occurrence> = uses
        .iter()
        .map(|(repo, r)| Occurrence {
            repository: repo.to_string(),
            service: r.service.clone(),
            location: r.location.clone(),
            detail: format!("{identity} ({})", if r.read_only { "ro" } else { "rw" }),
        })
        .collect();
    let writers: Vec<&str> = writers.into_iter().collect();
    let message = if owners.len() >= 2 {
        let owners: Vec<&str> = owners.into_iter().collect();
        format!(
            "the volume name {identity} is fixed (`name:`) by {} on host {host}, none of them \
             external: each project creates it and takes it for its own \
             (`docker compose down -v` in one deletes the others' data); declare it \
             `external: true` in all but the owner",
            and_list(&owners)
        )
    } else {
        format!(
            "{identity} is mounted read-write by {} on host {host}; concurrent writers can \
             corrupt its data: mount it read-only (`:ro`) in all but one, or give each its own {}",
            and_list(&writers),
            if identity.starts_with('/') {
                "path"
            } else {
                "volume"
            }
        )
    };
    Some(Conflict::new(
        ConflictKind::Volume,
        Severity::High,
        host,
        env,
        format!("volume:{identity}"),
        occurrences,
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::index::testing::*;

    fn mount(repo: &str, kind: ResourceKind, id: &str, ro: bool, external: bool) -> ResourceUse {
        ResourceUse {
            service: Some("app".into()),
            kind,
            identifier: id.into(),
            read_only: ro,
            external,
            settings: BTreeMap::new(),
            location: loc(repo, "docker-compose.yml", 7),
        }
    }

    fn run(a: ResourceUse, b: ResourceUse, host_b: &str) -> Vec<Conflict> {
        let mut fx = Fixture::default();
        fx.model.repositories = vec![repo("a", "local", "default"), repo("b", host_b, "default")];
        fx.facts_mut("a").resources.push(a);
        fx.facts_mut("b").resources.push(b);
        VolumeDetector.detect(fx.input())
    }

    #[test]
    fn two_writers_of_one_host_path() {
        let c = run(
            mount("a", ResourceKind::BindMount, "/srv/data/", false, false),
            mount("b", ResourceKind::BindMount, "/srv/data", false, false),
            "local",
        );
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].resource.as_str(), c[0].severity),
            ("volume:/srv/data", Severity::High)
        );
        assert_eq!(c[0].occurrences[1].detail, "/srv/data (rw)");
        assert_eq!(
            c[0].occurrences[1].location.to_string(),
            "b/docker-compose.yml:7:5"
        );
        assert!(c[0].message.contains("a and b"));
        assert!(
            c[0].message.contains("read-only (`:ro`) in all but one"),
            "{}",
            c[0].message
        );
    }

    #[test]
    fn a_fixed_volume_name_in_two_projects_is_owned_by_both() {
        let named = |repo: &str, external: bool| {
            let mut m = mount(repo, ResourceKind::Volume, "shared-data", false, external);
            if !external {
                m.settings.insert("name".into(), "shared-data".into());
            }
            m
        };
        let c = run(named("a", false), named("b", false), "local");
        assert_eq!((c.len(), c[0].severity), (1, Severity::High));
        assert!(
            c[0].message.contains("fixed (`name:`) by a and b")
                && c[0].message.contains("external: true"),
            "{}",
            c[0].message
        );
        // One owner, the other joins it as external: the usual two-writer finding, no owners.
        let c = run(named("a", false), named("b", true), "local");
        assert_eq!(c.len(), 1);
        assert!(
            c[0].message.contains("mounted read-write"),
            "{}",
            c[0].message
        );
        // On two hosts the names are two volumes.
        assert!(run(named("a", false), named("b", false), "nas").is_empty());
    }

    #[test]
    fn one_writer_and_readers_is_how_sharing_works() {
        assert!(
            run(
                mount("a", ResourceKind::Volume, "media", false, true),
                mount("b", ResourceKind::Volume, "media", true, true),
                "local",
            )
            .is_empty()
        );
        assert!(
            run(
                mount("a", ResourceKind::BindMount, "/srv/media", true, false),
                mount("b", ResourceKind::BindMount, "/srv/media", false, false),
                "local",
            )
            .is_empty()
        );
        assert!(
            run(
                mount("a", ResourceKind::Volume, "media", true, true),
                mount("b", ResourceKind::Volume, "media", true, true),
                "local",
            )
            .is_empty()
        );
    }

    #[test]
    fn private_and_system_mounts_are_ignored() {
        // Project-local named volumes (compose prefixes them), relative binds, system files.
        for (kind, id, external) in [
            (ResourceKind::Volume, "db-data", false),
            (ResourceKind::BindMount, "data", false),
            (ResourceKind::BindMount, "/var/run/docker.sock", false),
            (ResourceKind::BindMount, "/etc/localtime", false),
            (ResourceKind::BindMount, "/proc/cpuinfo", false),
        ] {
            let c = run(
                mount("a", kind, id, false, external),
                mount("b", kind, id, false, external),
                "local",
            );
            assert!(c.is_empty(), "{id}: {c:?}");
        }
        let mut named = mount("a", ResourceKind::Volume, "shared", false, false);
        named.settings.insert("name".into(), "shared".into());
        let mut named_b = named.clone();
        named_b.location.repository = "b".into();
        assert_eq!(run(named, named_b, "local").len(), 1);
    }

    #[test]
    fn different_hosts_do_not_share_paths() {
        let c = run(
            mount("a", ResourceKind::BindMount, "/srv/data", false, false),
            mount("b", ResourceKind::BindMount, "/srv/data", false, false),
            "nas",
        );
        assert!(c.is_empty());
    }
}
