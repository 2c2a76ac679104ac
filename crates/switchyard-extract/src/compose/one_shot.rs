//! One-shot init jobs: services others wait for with `condition: service_completed_successfully`.
//!
//! Waiting for a job to *finish* is start-up ordering, not a connection: the job has exited
//! when its dependents run, so no reference is made for it. A job that hands addresses over
//! through a volume it shares with the services waiting for it (it writes `db_host` into a
//! config file they read) makes those services the callers: its address references are
//! re-made from each of them, cited where the job was given the address.

use super::project::ServiceParts;
use crate::yaml::Node;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_model::{Mechanism, RepoFacts, ResourceKind};

const COMPLETED: &str = "service_completed_successfully";

/// Whether `depends_on` (a map) makes its `target` wait for completion.
pub(super) fn waits_for_completion(depends_on: &Node, target: &str) -> bool {
    depends_on
        .get(target)
        .and_then(|d| d.get("condition"))
        .and_then(Node::as_str)
        == Some(COMPLETED)
}

/// Job → the services waiting for it to complete.
fn jobs(services: &[ServiceParts<'_>]) -> BTreeMap<String, BTreeSet<String>> {
    let mut jobs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for svc in services {
        for part in &svc.parts {
            let Some(depends_on) = part.map.get("depends_on") else {
                continue;
            };
            for (target, _, _) in depends_on.entries() {
                if waits_for_completion(depends_on, target) && target != svc.name {
                    jobs.entry(target.to_string())
                        .or_default()
                        .insert(svc.name.clone());
                }
            }
        }
    }
    jobs
}

/// The volumes a service of this project mounts that another container can share: named
/// volumes and binds of repository folders (not host paths like `/etc/localtime`).
fn shared_mounts(out: &RepoFacts, first_resource: usize, service: &str) -> BTreeSet<String> {
    out.resources[first_resource..]
        .iter()
        .filter(|r| r.service.as_deref() == Some(service))
        .filter(|r| match r.kind {
            ResourceKind::Volume => true,
            ResourceKind::BindMount => !r.identifier.starts_with(['/', '~']),
            _ => false,
        })
        .map(|r| r.identifier.clone())
        .collect()
}

/// Moves the address references of hand-over jobs to the services that read what they wrote.
/// `first_reference` / `first_resource`: where this project's facts start in `out`.
pub(super) fn hand_over(
    services: &[ServiceParts<'_>],
    first_reference: usize,
    first_resource: usize,
    out: &mut RepoFacts,
) {
    for (job, waiting) in jobs(services) {
        let written = shared_mounts(out, first_resource, &job);
        if written.is_empty() {
            continue;
        }
        let readers: Vec<&String> = waiting
            .iter()
            .filter(|w| !shared_mounts(out, first_resource, w).is_disjoint(&written))
            .collect();
        if readers.is_empty() {
            continue;
        }
        let is_address = |m: Mechanism| matches!(m, Mechanism::Env | Mechanism::Command);
        let mut moved = Vec::new();
        let mut index = first_reference;
        while index < out.references.len() {
            let reference = &out.references[index];
            let of_job = reference.from.as_deref() == Some(job.as_str());
            if of_job && is_address(reference.mechanism) {
                moved.push(out.references.remove(index));
            } else if of_job && reference.mechanism == Mechanism::DependsOn {
                // The job waits for what it hands over to be up: ordering for its readers.
                out.references.remove(index);
            } else {
                index += 1;
            }
        }
        for reader in readers {
            out.references.extend(moved.iter().map(|r| {
                let mut r = r.clone();
                r.from = Some(reader.clone());
                r
            }));
        }
    }
}
