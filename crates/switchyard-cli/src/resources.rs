//! `switchyard resources …`: the shared-resource ledger from the command line (register, claim,
//! renew, release, list, status, delete, sync). Output is JSON; a refused claim exits with 3 and
//! names the current holders.

use crate::Failure;
use crate::inputs::{Analysis, FleetArgs};
use clap::Subcommand;
use switchyard_store::{
    ListFilter, Operation, Registration, ResourceType, Store, StoreError, Timestamp, sync,
};

#[derive(Subcommand)]
pub enum ResourcesCommand {
    /// Register a resource (idempotent; a new capacity keeps existing claims).
    Register {
        /// port, domain, volume, network, database, certificate or custom.
        #[arg(value_name = "TYPE")]
        resource_type: String,
        identifier: String,
        #[arg(long, default_value_t = 1)]
        capacity: u32,
        /// Free-form JSON stored with the resource.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Claim a resource (`type:identifier`, e.g. `port:8080`) for a repository.
    Claim {
        resource: String,
        #[arg(long)]
        repository: String,
        /// Operation type: read, backup (shareable), write, deploy, maintenance, or any other
        /// (exclusive).
        #[arg(long, default_value = "deploy")]
        operation: String,
        #[arg(long)]
        exclusive: bool,
        /// Seconds until the claim lapses (default: held until released).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Extend a claim's lifetime.
    Renew {
        resource: String,
        claim: String,
        #[arg(long)]
        ttl: u64,
    },
    /// Release a claim.
    Release { resource: String, claim: String },
    /// List resources with their usage.
    List {
        #[arg(long = "type")]
        resource_type: Option<String>,
        /// Only resources this repository holds a live claim on.
        #[arg(long)]
        repository: Option<String>,
    },
    /// One resource with its live claims.
    Status { resource: String },
    /// Delete a resource (refused while it is claimed).
    Delete { resource: String },
    /// Register every port, domain, volume and network the fleet uses (capacity 1; networks
    /// declared external are registered as shared).
    Sync {
        #[command(flatten)]
        fleet: FleetArgs,
    },
}

fn store_failure(e: StoreError) -> Failure {
    let refused = matches!(
        e.code(),
        "RESOURCE_LOCKED" | "AT_CAPACITY" | "INCOMPATIBLE_OPERATION"
    );
    let mut message = format!("{}: {e}", e.code());
    let holders: Vec<String> = e
        .holders()
        .iter()
        .filter(|c| !message.contains(&c.claim_id))
        .map(|c| format!("{} ({} {})", c.repository, c.operation.kind, c.claim_id))
        .collect();
    if !holders.is_empty() {
        message.push_str(&format!("; held by {}", holders.join(", ")));
    }
    Failure {
        code: if refused {
            3
        } else if e.code() == "VALIDATION_ERROR" {
            2
        } else {
            1
        },
        message,
    }
}

fn parse_type(text: &str) -> Result<ResourceType, Failure> {
    text.parse().map_err(store_failure)
}

/// The resource uses of an analysed fleet, for `sync` (the server claims the same ones when it
/// coordinates a deployment).
fn fleet_uses(analysis: &Analysis) -> Vec<sync::ResourceUse> {
    sync::fleet_uses(&analysis.model.services, &analysis.facts)
        .iter()
        .map(sync::RepositoryUse::resource_use)
        .collect()
}

/// Runs one `resources` subcommand against the store at `url`.
pub fn run(store_url: &str, command: ResourcesCommand) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot start the runtime: {e}"),
        })?;
    // `sync` analyses the fleet first (no async work needed for that).
    let plan = match &command {
        ResourcesCommand::Sync { fleet } => Some(sync::plan(&fleet_uses(&fleet.analyze()?))),
        _ => None,
    };
    runtime.block_on(async {
        // SQLite (the default) or a PostgreSQL shared with running servers.
        let store = switchyard_store::open_url(store_url, switchyard_store::Durability::default())
            .await
            .map_err(store_failure)?;
        let now = Timestamp::now_utc();
        let result = execute(&*store, command, plan, now).await;
        drop(store);
        let value = result?;
        crate::print(&crate::json(&value))?;
        Ok(0)
    })
}

async fn execute(
    store: &dyn Store,
    command: ResourcesCommand,
    plan: Option<sync::SyncPlan>,
    now: Timestamp,
) -> Result<serde_json::Value, Failure> {
    Ok(match command {
        ResourcesCommand::Register {
            resource_type,
            identifier,
            capacity,
            metadata,
        } => {
            let metadata = match metadata {
                Some(text) => Some(serde_json::from_str(&text).map_err(|e| Failure {
                    code: 2,
                    message: format!("--metadata is not JSON: {e}"),
                })?),
                None => None,
            };
            let registration = Registration {
                resource_type: parse_type(&resource_type)?,
                identifier,
                capacity,
                metadata,
            };
            value(
                &store
                    .register(&registration, now)
                    .await
                    .map_err(store_failure)?,
            )
        }
        ResourcesCommand::Claim {
            resource,
            repository,
            operation,
            exclusive,
            ttl,
        } => {
            let op = Operation {
                kind: operation,
                exclusive,
                ttl_seconds: ttl,
            };
            value(
                &store
                    .claim(&resource, &repository, &op, now)
                    .await
                    .map_err(store_failure)?,
            )
        }
        ResourcesCommand::Renew {
            resource,
            claim,
            ttl,
        } => value(
            &store
                .renew(&resource, &claim, ttl, now)
                .await
                .map_err(store_failure)?,
        ),
        ResourcesCommand::Release { resource, claim } => {
            store
                .release(&resource, &claim, now)
                .await
                .map_err(store_failure)?;
            serde_json::json!({ "released": claim, "resource": resource })
        }
        ResourcesCommand::List {
            resource_type,
            repository,
        } => {
            let filter = ListFilter {
                resource_type: resource_type.as_deref().map(parse_type).transpose()?,
                repository,
            };
            value(&store.list(&filter, now).await.map_err(store_failure)?)
        }
        ResourcesCommand::Status { resource } => {
            value(&store.status(&resource, now).await.map_err(store_failure)?)
        }
        ResourcesCommand::Delete { resource } => {
            store
                .delete_resource(&resource, now)
                .await
                .map_err(store_failure)?;
            serde_json::json!({ "deleted": resource })
        }
        ResourcesCommand::Sync { .. } => {
            let plan = plan.unwrap_or_else(|| sync::plan(&[]));
            let mut registered = Vec::new();
            for registration in &plan.registrations {
                let r = store
                    .register(registration, now)
                    .await
                    .map_err(store_failure)?;
                registered.push(value(&r));
            }
            serde_json::json!({ "registered": registered, "rejected": value(&plan.rejected) })
        }
    })
}

fn value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
