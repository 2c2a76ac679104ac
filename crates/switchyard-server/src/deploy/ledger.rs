//! A plan's claims on the ledger: which resources the planned repositories use, registering the
//! unregistered ones, claiming all-or-nothing, naming the deployment in the way, releasing.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};
use switchyard_store::sync::{self, RepositoryUse};
use switchyard_store::{Claim, Operation, Registration, Store, StoreError, Timestamp};

use super::{DEPLOYMENT_KIND, Deployment, PlanClaim};
use crate::analysis::Snapshot;
use crate::error::ApiError;
use crate::state::AppState;

/// One resource the plan needs, with its planned users in deployment order.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub registration: Registration,
    pub used_by: Vec<String>,
    pub shared: bool,
}

impl Need {
    pub fn resource_id(&self) -> String {
        format!(
            "{}:{}",
            self.registration.resource_type, self.registration.identifier
        )
    }

    /// A deploy holds its resources exclusively for the plan's timeout. A shared network
    /// (external, joined by many repositories) is only *used* by a deployment, not replaced,
    /// so it is claimed as a shared `read`: overlapping deployments may both join it, while an
    /// exclusive operation on the network itself (someone re-creating it) still excludes them.
    pub fn operation(&self, ttl: u64) -> Operation {
        if self.shared {
            Operation::new("read").ttl(ttl)
        } else {
            Operation::new("deploy").exclusive().ttl(ttl)
        }
    }
}

/// The resources `order` (the planned repositories, in deployment order) use, and the uses
/// the ledger would refuse (bad identifiers), from the snapshot's facts.
pub fn needs(snapshot: &Snapshot, order: &[String]) -> (Vec<Need>, Vec<Value>) {
    let rank = |repo: &str| order.iter().position(|r| r == repo);
    let uses: Vec<RepositoryUse> = sync::fleet_uses(&snapshot.model.services, &snapshot.facts)
        .into_iter()
        .filter(|u| rank(&u.repository).is_some())
        .collect();
    let resource_uses: Vec<sync::ResourceUse> =
        uses.iter().map(RepositoryUse::resource_use).collect();
    let plan = sync::plan(&resource_uses);
    let mut users: BTreeMap<String, Vec<&RepositoryUse>> = BTreeMap::new();
    for u in &uses {
        users
            .entry(format!("{}:{}", u.resource_type, u.identifier))
            .or_default()
            .push(u);
    }
    let needs = plan
        .registrations
        .into_iter()
        .map(|registration| {
            let id = format!("{}:{}", registration.resource_type, registration.identifier);
            let mut by = users.get(&id).cloned().unwrap_or_default();
            by.sort_by_key(|u| rank(&u.repository));
            let mut used_by: Vec<String> = by.iter().map(|u| u.repository.clone()).collect();
            used_by.dedup();
            Need {
                shared: by.iter().any(|u| u.shared),
                registration,
                used_by,
            }
        })
        .collect();
    let rejected = plan
        .rejected
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    (needs, rejected)
}

/// Claims every need, registering unregistered resources first. All or
/// nothing: on a refusal the claims already taken are released and the answer names the
/// deployment (or holder) in the way. Publishes `resource.registered` / `resource.claimed`
/// (and `resource.released` for claims given back).
pub async fn claim_all(
    state: &AppState,
    needs: &[Need],
    ttl: u64,
) -> Result<Vec<PlanClaim>, ApiError> {
    let mut taken: Vec<PlanClaim> = Vec::new();
    for need in needs {
        match claim_one(state, need, ttl).await {
            Ok(claim) => {
                if let Ok(body) = serde_json::to_value(&claim) {
                    state.publish("resource.claimed", body);
                }
                taken.push(PlanClaim {
                    claim,
                    used_by: need.used_by.clone(),
                });
            }
            Err(error) => {
                release_all(state, &taken).await;
                return Err(match error {
                    refusal @ (StoreError::Locked { .. }
                    | StoreError::AtCapacity { .. }
                    | StoreError::IncompatibleOperation { .. }) => {
                        refused(state, &need.resource_id(), refusal).await
                    }
                    other => other.into(),
                });
            }
        }
    }
    Ok(taken)
}

async fn claim_one(state: &AppState, need: &Need, ttl: u64) -> Result<Claim, StoreError> {
    let id = need.resource_id();
    let now = state.now();
    // Register only what is missing: an existing registration (capacity, metadata) is the
    // operator's and stays as it is.
    match state.store.status(&id, now).await {
        Ok(_) => {}
        Err(StoreError::ResourceNotFound { .. }) => {
            let registered = state.store.register(&need.registration, now).await?;
            if let Ok(body) = serde_json::to_value(&registered) {
                state.publish("resource.registered", body);
            }
        }
        Err(other) => return Err(other),
    }
    let repository = need.used_by.first().map_or("", String::as_str);
    state
        .store
        .claim(&id, repository, &need.operation(ttl), now)
        .await
}

/// The 409 for a refused claim, naming the deployments that hold the resource.
async fn refused(state: &AppState, resource_id: &str, refusal: StoreError) -> ApiError {
    let holders = refusal.holders().to_vec();
    let owners = owners_of(state.store.as_ref(), &holders).await;
    let mut error = ApiError::from(refusal);
    error.status = StatusCode::CONFLICT;
    let held_by: Vec<Value> = holders
        .iter()
        .map(|c| {
            json!({
                "claimId": c.claim_id,
                "repository": c.repository,
                "operation": c.operation.kind,
                "coordinationId": owners.get(&c.claim_id),
            })
        })
        .collect();
    let mut deployments: Vec<&String> = owners.values().collect();
    deployments.sort();
    deployments.dedup();
    error.message = if deployments.is_empty() {
        format!("a resource the plan needs is claimed: {}", error.message)
    } else {
        let names: Vec<&str> = deployments.iter().map(|d| d.as_str()).collect();
        format!(
            "resource `{resource_id}` is claimed by deployment {}",
            names.join(", ")
        )
    };
    if let Some(details) = error.details.as_object_mut() {
        details.insert("deployments".into(), json!(deployments));
        details.insert("heldBy".into(), json!(held_by));
    }
    error
}

/// Which coordination took each of `holders` (claims taken outside a deployment are absent).
async fn owners_of(store: &dyn Store, holders: &[Claim]) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    let Ok(records) = store.list_records(DEPLOYMENT_KIND).await else {
        return owners;
    };
    for record in records {
        let Ok(deployment) = serde_json::from_value::<Deployment>(record.body) else {
            continue;
        };
        for held in &deployment.claims {
            if holders.iter().any(|h| h.claim_id == held.claim.claim_id) {
                owners.insert(held.claim.claim_id.clone(), deployment.id.clone());
            }
        }
    }
    owners
}

/// Releases `claims`; ones already gone (expired or released by hand) are skipped, other
/// failures reported. Publishes `resource.released` for each release.
pub async fn release(state: &AppState, claims: &[PlanClaim]) -> Result<usize, ApiError> {
    let mut released = 0;
    let now: Timestamp = state.now();
    for held in claims {
        let claim = &held.claim;
        match state
            .store
            .release(&claim.resource_id, &claim.claim_id, now)
            .await
        {
            Ok(()) => {
                released += 1;
                state.publish(
                    "resource.released",
                    json!({ "success": true, "resourceId": claim.resource_id, "claimId": claim.claim_id }),
                );
            }
            Err(StoreError::ClaimNotFound { .. } | StoreError::ResourceNotFound { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(released)
}

/// Ends every unfinished deployment whose timeout has run out as `timed_out`: what is left of
/// its claims is released and `deployment.completed` is published. Returns the ids ended.
pub async fn time_out_overdue(state: &AppState) -> Vec<String> {
    let now = state.now();
    let Ok(records) = state.store.list_records(super::DEPLOYMENT_KIND).await else {
        return Vec::new();
    };
    let overdue: Vec<String> = records
        .into_iter()
        .filter_map(|r| serde_json::from_value::<super::Deployment>(r.body).ok())
        .filter(|d| d.is_overdue(now))
        .map(|d| d.id)
        .collect();
    if overdue.is_empty() {
        return overdue;
    }
    let _guard = state.coordination.lock().await;
    let mut ended = Vec::new();
    for id in overdue {
        // Re-read under the lock: an event or a cancel may have finished it meanwhile.
        let Ok((mut deployment, version)) =
            super::records::load_versioned(state.store.as_ref(), &id).await
        else {
            continue;
        };
        if !deployment.is_overdue(now) {
            continue;
        }
        release_all(state, &deployment.claims).await;
        deployment.finish(super::DeploymentStatus::TimedOut, now);
        // Another replica's event or cancel that got there first wins; the next round looks
        // again if the deployment is still overdue.
        if let Ok(true) =
            super::records::save_over(state.store.as_ref(), &deployment, &version, now).await
        {
            state.publish(
                "deployment.completed",
                json!({ "id": deployment.id, "status": deployment.status }),
            );
            ended.push(deployment.id);
        }
    }
    ended
}

/// Best-effort release while already answering an error; a claim left behind lapses with its TTL.
async fn release_all(state: &AppState, claims: &[PlanClaim]) {
    let _ = release(state, claims).await;
}
