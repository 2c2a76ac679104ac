//! OpenAPI schemas of response bodies that are serialized from other crates' types (the store's
//! resources and claims) or built as JSON in the handlers. They exist for the document only;
//! `tests/schemas.rs` checks real answers against them so they cannot drift from the wire.
#![allow(dead_code)]

use serde_json::Value;
use utoipa::ToSchema;

/// `pagination` of a paged list.
#[derive(ToSchema)]
pub struct Pagination {
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
    #[schema(rename = "hasMore")]
    pub has_more: bool,
}

/// What a claimant does with a resource.
#[derive(ToSchema)]
pub struct ClaimOperationView {
    /// read, backup, write, deploy, maintenance or another name (exclusive).
    #[schema(rename = "type")]
    pub kind: String,
    pub exclusive: bool,
    /// Seconds the claim was taken for.
    pub ttl: Option<u64>,
}

/// A granted claim.
#[derive(ToSchema)]
pub struct ClaimView {
    #[schema(rename = "claimId")]
    pub claim_id: String,
    #[schema(rename = "resourceId")]
    pub resource_id: String,
    pub repository: String,
    pub operation: ClaimOperationView,
    /// RFC 3339.
    #[schema(rename = "claimedAt")]
    pub claimed_at: String,
    /// RFC 3339; `null` holds until released.
    #[schema(rename = "expiresAt")]
    pub expires_at: Option<String>,
}

/// A registered resource, without its claims.
#[derive(ToSchema)]
pub struct ResourceView {
    /// `type:identifier`, e.g. `port:8080`.
    pub id: String,
    #[schema(rename = "type")]
    pub resource_type: String,
    pub identifier: String,
    pub capacity: u32,
    pub metadata: Value,
    #[schema(rename = "registeredAt")]
    pub registered_at: String,
}

/// `POST /resources/register`.
#[derive(ToSchema)]
pub struct RegisterResponse {
    /// created, exists or updated.
    pub outcome: String,
    pub resource: ResourceView,
}

/// A resource with its live claims.
#[derive(ToSchema)]
pub struct ResourceStatusView {
    pub id: String,
    #[schema(rename = "type")]
    pub resource_type: String,
    pub identifier: String,
    pub capacity: u32,
    pub metadata: Value,
    #[schema(rename = "registeredAt")]
    pub registered_at: String,
    #[schema(rename = "currentUsage")]
    pub current_usage: u32,
    pub available: u32,
    /// Repositories holding a live claim.
    pub owners: Vec<String>,
    pub claims: Vec<ClaimView>,
}

/// `GET /resources`.
#[derive(ToSchema)]
pub struct ResourceList {
    pub resources: Vec<ResourceStatusView>,
    pub pagination: Pagination,
}

/// One fleet repository.
#[derive(ToSchema)]
pub struct RepositoryView {
    pub name: String,
    pub path: String,
    pub host: Option<String>,
    pub environment: Option<String>,
    /// RFC 3339: when its files were last read.
    #[schema(rename = "lastAnalysis")]
    pub last_analysis: Option<String>,
    #[schema(rename = "serviceCount")]
    pub service_count: u64,
    #[schema(rename = "diagnosticsCount")]
    pub diagnostics_count: u64,
    /// Repositories it depends on.
    #[schema(rename = "dependsOn")]
    pub depends_on: Vec<String>,
}

/// `GET /repositories`.
#[derive(ToSchema)]
pub struct RepositoryList {
    pub repositories: Vec<RepositoryView>,
    /// Repositories in the fleet.
    pub total: u64,
    pub pagination: Pagination,
}

/// One place a conflicting resource is declared.
#[derive(ToSchema)]
pub struct OccurrenceView {
    pub repository: String,
    pub service: Option<String>,
    /// `{ repository, path, line, column, span }`.
    pub location: Value,
    /// `repo/path:line:column`.
    pub evidence: String,
    pub detail: Option<String>,
}

/// A resolution strategy's proposal.
#[derive(ToSchema)]
pub struct StrategyView {
    pub name: String,
    pub confidence: f64,
    pub automatic: bool,
    pub description: String,
}

/// A detected conflict.
#[derive(ToSchema)]
pub struct ConflictView {
    pub id: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub resource: String,
    /// low, medium, high or critical.
    pub severity: String,
    pub host: Option<String>,
    pub environment: Option<String>,
    pub repositories: Vec<String>,
    pub message: String,
    pub occurrences: Vec<OccurrenceView>,
    /// Best first.
    pub strategies: Vec<StrategyView>,
}

/// The summary of `GET /resource-conflicts` (every matching conflict, not one page).
#[derive(ToSchema)]
pub struct ConflictSummary {
    pub total: u64,
    #[schema(rename = "bySeverity")]
    pub by_severity: std::collections::BTreeMap<String, u64>,
    #[schema(rename = "byType")]
    pub by_type: std::collections::BTreeMap<String, u64>,
    /// How many repositories the conflicts involve.
    pub repositories: u64,
    #[schema(rename = "repositoryNames")]
    pub repository_names: Vec<String>,
    #[schema(rename = "analyzedAt")]
    pub analyzed_at: String,
}

/// `GET /resource-conflicts`.
#[derive(ToSchema)]
pub struct ConflictList {
    pub conflicts: Vec<ConflictView>,
    pub summary: ConflictSummary,
    pub pagination: Pagination,
}

/// `GET /resource-conflicts/{id}/explanation`.
#[derive(ToSchema)]
pub struct ConflictExplanation {
    /// The conflict with its occurrences and evidence chain.
    pub conflict: Value,
    /// Why the conflict has its severity, in one sentence.
    #[schema(rename = "severityReason")]
    pub severity_reason: String,
    /// Each occurrence with the (redacted) source line it points at.
    pub evidence: Vec<Value>,
    /// Every strategy's proposal, best first, with its edits as a unified diff.
    pub resolutions: Vec<Value>,
}

/// One direct dependency of a repository's service.
#[derive(ToSchema)]
pub struct DependencyView {
    /// The repository depended on.
    pub repository: String,
    pub service: String,
    #[schema(rename = "dependsOnService")]
    pub depends_on_service: String,
    /// call, startup, build, browser or peer.
    #[schema(pattern = "^(call|startup|build|browser|peer)$")]
    pub kind: String,
    /// The call carries metrics, traces or logs.
    pub telemetry: bool,
    /// low, medium or high.
    #[schema(pattern = "^(low|medium|high)$")]
    pub confidence: String,
    /// env, compose, k8s, http, package, ...
    pub mechanism: String,
    /// Locations `{ repository, path, line, column, span }`.
    pub evidence: Vec<Value>,
    /// The locations as `repo/path:line:column`.
    #[schema(rename = "evidenceText")]
    pub evidence_text: Vec<String>,
}

#[derive(ToSchema)]
pub struct DependenciesMetadata {
    #[schema(rename = "analyzedAt")]
    pub analyzed_at: String,
    #[schema(rename = "repositoryCount")]
    pub repository_count: u64,
    #[schema(rename = "dependencyCount")]
    pub dependency_count: u64,
    #[schema(rename = "durationMs")]
    pub duration_ms: f64,
}

/// `GET /dependencies`.
#[derive(ToSchema)]
pub struct DependenciesResponse {
    pub repositories: Vec<String>,
    #[schema(rename = "directDependencies")]
    pub direct_dependencies: std::collections::BTreeMap<String, Vec<DependencyView>>,
    #[schema(rename = "transitiveDependencies")]
    pub transitive_dependencies: std::collections::BTreeMap<String, Vec<String>>,
    /// Closed paths `[a, b, a]`.
    #[schema(rename = "circularDependencies")]
    pub circular_dependencies: Vec<Vec<String>>,
    /// `null` when the selection is cyclic.
    #[schema(rename = "deploymentOrder")]
    pub deployment_order: Option<Vec<String>>,
    pub metadata: DependenciesMetadata,
}

/// `POST /dependencies/refresh`.
#[derive(ToSchema)]
pub struct RefreshResponse {
    pub success: bool,
    pub changed: bool,
    pub summary: crate::analysis::ChangeSummary,
    #[schema(rename = "analyzedAt")]
    pub analyzed_at: String,
}

/// `GET /conflicts/history`.
#[derive(ToSchema)]
pub struct HistoryList {
    pub history: Vec<crate::conflict_history::HistoryEntry>,
    pub pagination: Pagination,
}

/// A problem with one requested conflict (never a 500).
#[derive(ToSchema)]
pub struct ResolutionError {
    /// NOT_FOUND, UNKNOWN_STRATEGY, STRATEGY_NOT_APPLICABLE, NO_AUTOMATIC_RESOLUTION, STALE,
    /// MANUAL_RESOLUTION, APPLY_FAILED.
    pub code: String,
    pub message: String,
    pub details: Value,
}

/// One requested conflict's resolution.
#[derive(ToSchema)]
pub struct ResolutionView {
    #[schema(rename = "conflictId")]
    pub conflict_id: String,
    pub strategy: Option<String>,
    pub description: Option<String>,
    pub confidence: Option<f64>,
    pub automatic: Option<bool>,
    pub changes: Vec<crate::resolutions::FileChange>,
    pub applied: bool,
    pub verified: bool,
    pub error: Option<ResolutionError>,
}

#[derive(ToSchema)]
pub struct ResolveSummary {
    pub requested: u64,
    pub proposed: u64,
    pub applied: u64,
    pub verified: u64,
    pub errors: u64,
}

/// `POST /resolve-conflicts`.
#[derive(ToSchema)]
pub struct ResolveResponse {
    #[schema(rename = "dryRun")]
    pub dry_run: bool,
    pub resolutions: Vec<ResolutionView>,
    pub summary: ResolveSummary,
}

/// A recommended resolution of a configuration conflict.
#[derive(ToSchema)]
pub struct ConfigurationResolution {
    #[schema(rename = "conflictId")]
    pub conflict_id: String,
    pub resource: String,
    /// The automatic strategy, if any.
    pub recommended: Option<String>,
    pub strategies: Vec<StrategyView>,
}

#[derive(ToSchema)]
pub struct ConfigurationSummary {
    pub keys: u64,
    pub consistent: u64,
    pub inconsistent: u64,
    #[schema(rename = "secretKeys")]
    pub secret_keys: u64,
    pub repositories: u64,
    /// Asked-for keys no selected repository defines.
    #[schema(rename = "missingKeys")]
    pub missing_keys: Vec<String>,
    #[schema(rename = "analyzedAt")]
    pub analyzed_at: String,
}

/// `POST /coordinate-configuration`.
#[derive(ToSchema)]
pub struct ConfigurationResponse {
    pub configurations: Vec<crate::configuration::KeyConfiguration>,
    pub conflicts: Vec<ConflictView>,
    pub resolutions: Vec<ConfigurationResolution>,
    pub summary: ConfigurationSummary,
}

/// A key's version as config-sync clients see it.
#[derive(ToSchema)]
pub struct ConfigEntry {
    pub key: String,
    /// Any JSON; `null` for a removed key.
    pub value: Value,
    /// Seconds; `null` never expires.
    pub ttl: Option<u64>,
    /// The writer's milliseconds (last writer wins).
    pub timestamp: i64,
    pub deleted: bool,
    /// Milliseconds, when a TTL is set.
    #[schema(rename = "expiresAt")]
    pub expires_at: Option<i64>,
}

/// `POST /api/config-sync/sync`.
#[derive(ToSchema)]
pub struct SyncResponse {
    /// Versions changed since `lastSync` that the client does not have.
    pub updates: Vec<ConfigEntry>,
    /// `lastSync` was older than versions the retention has forgotten: `updates` is every live
    /// entry, and the client replaces its cache with them instead of merging.
    pub full: bool,
    /// Send as the next `lastSync`.
    pub timestamp: i64,
    pub accepted: u64,
    pub rejected: u64,
}

/// `POST /api/config-sync/set` and `/remove`.
#[derive(ToSchema)]
pub struct ConfigWriteResponse {
    pub success: bool,
    /// False when a newer version (or a clear) wins.
    pub applied: bool,
    /// The stored version.
    pub current: Option<ConfigEntry>,
    pub timestamp: i64,
}

/// `POST /api/config-sync/clear`.
#[derive(ToSchema)]
pub struct ConfigClearResponse {
    pub success: bool,
    pub cleared: Vec<String>,
    pub timestamp: i64,
}

/// `POST /api/config-sync/force-delete`.
#[derive(ToSchema)]
pub struct ConfigForceDeleteResponse {
    pub success: bool,
    pub key: String,
    /// Whether the key had an entry (now a tombstone).
    pub existed: bool,
    /// The tombstone, stamped with the server's time.
    pub current: Option<ConfigEntry>,
    pub timestamp: i64,
}

/// `DELETE /resources/{id}` and `DELETE /resources/{id}/claims/{claim_id}`.
#[derive(ToSchema)]
pub struct DeletedResponse {
    pub success: bool,
    #[schema(rename = "resourceId")]
    pub resource_id: String,
    /// For a released claim.
    #[schema(rename = "claimId")]
    pub claim_id: Option<String>,
}

/// `GET /health` and `GET /api/coordination/health`.
#[derive(ToSchema)]
pub struct HealthSummary {
    /// healthy, degraded or critical (critical answers 503).
    pub status: String,
    #[schema(rename = "uptimeSeconds")]
    pub uptime_seconds: u64,
    pub version: String,
}

/// One checked component of the detailed health.
#[derive(ToSchema)]
pub struct ComponentHealth {
    /// store, fleet or alerts.
    pub name: String,
    pub status: String,
    pub message: String,
    /// Round trip of the check (the store's), when it has one.
    #[schema(rename = "latencyMs")]
    pub latency_ms: Option<f64>,
}

/// `GET /health/detailed`.
#[derive(ToSchema)]
pub struct DetailedHealth {
    pub status: String,
    pub components: Vec<ComponentHealth>,
    #[schema(rename = "uptimeSeconds")]
    pub uptime_seconds: u64,
    pub version: String,
    /// Resident memory of the process, when the platform tells.
    #[schema(rename = "memoryBytes")]
    pub memory_bytes: Option<u64>,
    /// RFC 3339.
    #[schema(rename = "checkedAt")]
    pub checked_at: String,
}

/// One alert (raised once while its condition holds).
#[derive(ToSchema)]
pub struct AlertView {
    pub id: String,
    /// high_conflict_rate, high_failure_rate, slow_resolution, resource_exhaustion or
    /// system_degradation.
    pub rule: String,
    /// low, medium, high or critical.
    pub severity: String,
    /// The resource of a resource_exhaustion alert.
    pub subject: Option<String>,
    pub message: String,
    pub value: f64,
    pub threshold: f64,
    /// RFC 3339.
    #[schema(rename = "raisedAt")]
    pub raised_at: String,
    #[schema(rename = "clearedAt")]
    pub cleared_at: Option<String>,
    pub active: bool,
    pub acknowledged: bool,
    #[schema(rename = "acknowledgedAt")]
    pub acknowledged_at: Option<String>,
}

/// Alert counts by severity.
#[derive(ToSchema)]
pub struct SeverityCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

/// `summary` of `GET /alerts`, over every match (not only the page).
#[derive(ToSchema)]
pub struct AlertsSummary {
    pub total: u64,
    pub active: u64,
    pub acknowledged: u64,
    pub unacknowledged: u64,
    #[schema(rename = "bySeverity")]
    pub by_severity: SeverityCounts,
}

/// `GET /alerts`.
#[derive(ToSchema)]
pub struct AlertsResponse {
    pub alerts: Vec<AlertView>,
    pub summary: AlertsSummary,
    pub pagination: Pagination,
}

/// `POST /alerts/{id}/acknowledge`.
#[derive(ToSchema)]
pub struct AcknowledgeResponse {
    pub success: bool,
    pub alert: AlertView,
}

/// One tracked operation.
#[derive(ToSchema)]
pub struct OperationView {
    pub id: String,
    /// analysis, refresh, plan, conflict_check, resolution, claim, release, deployment,
    /// webhook, config_sync or cleanup.
    #[schema(rename = "type")]
    pub kind: String,
    /// active, completed or failed.
    pub status: String,
    pub details: Value,
    pub result: Value,
    /// `code: message` of a failed operation.
    pub error: Option<String>,
    pub conflicts: u64,
    #[schema(rename = "startedAt")]
    pub started_at: String,
    #[schema(rename = "endedAt")]
    pub ended_at: Option<String>,
    #[schema(rename = "durationMs")]
    pub duration_ms: Option<f64>,
}

/// `GET /operations`.
#[derive(ToSchema)]
pub struct OperationsResponse {
    pub operations: Vec<OperationView>,
    /// Operations on this page.
    pub count: u64,
    pub pagination: Pagination,
}

/// `POST /cleanup`: what the retention and the sweep removed, by kind.
#[derive(ToSchema)]
pub struct CleanupResponse {
    pub success: bool,
    /// `expiredClaims`, `history`, `alerts`, `conflictHistory`, `deployments`, `configSync`.
    pub removed: std::collections::BTreeMap<String, u64>,
}

/// One phase of a deployment plan.
#[derive(ToSchema)]
pub struct PlanPhaseView {
    /// 1-based.
    pub phase: u64,
    pub repositories: Vec<String>,
    pub parallel: bool,
    /// Seconds.
    #[schema(rename = "estimatedDuration")]
    pub estimated_duration: f64,
    /// pending, in_progress, succeeded or failed.
    pub status: String,
}

/// A claim a plan holds, with the planned repositories that use its resource.
#[derive(ToSchema)]
pub struct PlanClaimView {
    #[schema(rename = "claimId")]
    pub claim_id: String,
    #[schema(rename = "resourceId")]
    pub resource_id: String,
    pub repository: String,
    pub operation: ClaimOperationView,
    #[schema(rename = "claimedAt")]
    pub claimed_at: String,
    #[schema(rename = "expiresAt")]
    pub expires_at: Option<String>,
    #[schema(rename = "usedBy")]
    pub used_by: Vec<String>,
}

/// The stored coordination of `POST /coordinate-deployment` and `/deployments/{id}…`.
#[derive(ToSchema)]
pub struct CoordinationView {
    pub id: String,
    /// ready, in_progress, rolling_back, completed, cancelled, failed or timed_out.
    pub status: String,
    /// In deployment order.
    pub repositories: Vec<String>,
    pub phases: Vec<PlanPhaseView>,
    /// Conflicts involving the planned repositories (non-empty only when ignored).
    pub conflicts: Vec<Value>,
    pub claims: Vec<PlanClaimView>,
    /// Resources the fleet uses that the ledger cannot claim.
    pub unclaimable: Vec<Value>,
    /// `{ allowParallel, ignoreConflicts, timeout, maxParallel }`.
    pub options: Value,
    #[schema(rename = "createdAt")]
    pub created_at: String,
    #[schema(rename = "updatedAt")]
    pub updated_at: String,
    #[schema(rename = "currentPhase")]
    pub current_phase: Option<u64>,
    /// Repository → `{ status, phase, startedAt, finishedAt, durationSeconds }`.
    pub progress: Value,
    /// `{ failedRepository, failedPhase, startedAt, phases }` once a repository failed.
    pub rollback: Option<Value>,
    #[schema(rename = "finishedAt")]
    pub finished_at: Option<String>,
    #[schema(rename = "claimsReleasedAt")]
    pub claims_released_at: Option<String>,
}

/// The plan's figures.
#[derive(ToSchema)]
pub struct DeploymentSummaryView {
    pub status: String,
    #[schema(rename = "totalPhases")]
    pub total_phases: u64,
    #[schema(rename = "completedPhases")]
    pub completed_phases: u64,
    #[schema(rename = "currentPhase")]
    pub current_phase: Option<u64>,
    pub parallelizable: bool,
    /// Seconds.
    #[schema(rename = "estimatedDuration")]
    pub estimated_duration: f64,
}

/// `{ coordination, deployment }`: every deployment route answers with it.
#[derive(ToSchema)]
pub struct DeploymentResponse {
    pub coordination: CoordinationView,
    pub deployment: DeploymentSummaryView,
}

/// `GET /packages`: the same document as `switchyard plan --level package --format json`.
#[derive(ToSchema)]
pub struct PackagePlanResponse {
    /// Always `package`.
    pub level: String,
    /// Repositories with workspace packages, each with its build phases.
    pub repositories: Vec<PackagePhasesView>,
    pub cycles: Vec<PackageCycleView>,
    /// Edges `[repo/from, repo/to]` whose removal breaks every package cycle.
    #[schema(rename = "cycleCut")]
    pub cycle_cut: Vec<Vec<String>>,
}

#[derive(ToSchema)]
pub struct PackagePhasesView {
    pub repository: String,
    pub phases: Vec<PackagePhaseView>,
}

#[derive(ToSchema)]
pub struct PackagePhaseView {
    /// 1-based.
    pub phase: u64,
    /// Package names (`@repo/ui`).
    pub packages: Vec<String>,
    pub parallel: bool,
}

#[derive(ToSchema)]
pub struct PackageCycleView {
    pub repository: String,
    /// Package names, first = last.
    pub path: Vec<String>,
    /// The dependency entries of the path's edges, `{ repository, path, line, column, span }`.
    pub evidence: Vec<Value>,
}

/// `GET /deployments`: stored deployments, newest first.
#[derive(ToSchema)]
pub struct DeploymentList {
    pub deployments: Vec<DeploymentResponse>,
    pub pagination: Pagination,
}

/// A node of `GET /graph`: a repository, or a service (`repository/service`).
#[derive(ToSchema)]
pub struct GraphNode {
    pub id: String,
    /// The repository (the node itself at repository level).
    pub repository: String,
    /// 1-based deployment phase; members of one cycle share a phase.
    pub phase: u64,
    /// Index into `cycles` when the node is on one.
    pub cycle: Option<u64>,
    /// Services of the repository (1 at service level).
    pub services: u64,
    /// Nodes it depends on.
    #[schema(rename = "dependsOn")]
    pub depends_on: u64,
    /// Nodes depending on it.
    pub dependents: u64,
    /// Conflicts involving its repository.
    pub conflicts: u64,
}

/// An edge of `GET /graph`, standing for one or more service edges.
#[derive(ToSchema)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    /// Edge kinds among the service edges it stands for: call, startup, build, browser, peer.
    pub kinds: Vec<String>,
    pub telemetry: bool,
    /// Service edges it stands for.
    pub count: u64,
    /// Both ends are on the same cycle.
    pub cycle: bool,
}

/// A phase of `GET /graph`.
#[derive(ToSchema)]
pub struct GraphPhase {
    /// 1-based.
    pub phase: u64,
    /// Node ids.
    pub repositories: Vec<String>,
    pub parallel: bool,
}

#[derive(ToSchema)]
pub struct GraphMetadata {
    #[schema(rename = "analyzedAt")]
    pub analyzed_at: String,
    #[schema(rename = "repositoryCount")]
    pub repository_count: u64,
    #[schema(rename = "serviceCount")]
    pub service_count: u64,
    #[schema(rename = "nodeCount")]
    pub node_count: u64,
    #[schema(rename = "edgeCount")]
    pub edge_count: u64,
    #[schema(rename = "conflictCount")]
    pub conflict_count: u64,
}

/// `GET /graph`: the fleet graph shaped for drawing, without evidence.
#[derive(ToSchema)]
pub struct GraphResponse {
    /// repository or service.
    pub level: String,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    pub phases: Vec<GraphPhase>,
    /// Closed paths `[a, b, a]`.
    pub cycles: Vec<Vec<String>>,
    pub metadata: GraphMetadata,
}

/// An endpoint of a service, labelled.
#[derive(ToSchema)]
pub struct EndpointView {
    /// e.g. `host port 8080→80/tcp`, `domain app.example.com`.
    pub label: String,
    /// `repo/path:line:column`.
    pub evidence: String,
}

/// A service of `GET /repositories/{name}`.
#[derive(ToSchema)]
pub struct ServiceDetail {
    /// `repository/service`.
    pub id: String,
    pub name: String,
    pub kind: String,
    pub image: Option<String>,
    /// Where it is declared, `repo/path:line:column`.
    pub source: String,
    pub endpoints: Vec<EndpointView>,
}

/// A service edge with its evidence.
#[derive(ToSchema)]
pub struct ServiceEdgeView {
    pub from: String,
    pub to: String,
    #[schema(rename = "fromRepository")]
    pub from_repository: String,
    #[schema(rename = "fromService")]
    pub from_service: String,
    #[schema(rename = "toRepository")]
    pub to_repository: String,
    #[schema(rename = "toService")]
    pub to_service: String,
    #[schema(pattern = "^(call|startup|build|browser|peer)$")]
    pub kind: String,
    pub telemetry: bool,
    #[schema(pattern = "^(low|medium|high)$")]
    pub confidence: String,
    pub mechanism: String,
    /// `repo/path:line:column` each.
    pub evidence: Vec<String>,
}

/// A conflict involving a repository, briefly.
#[derive(ToSchema)]
pub struct RepositoryConflict {
    pub id: String,
    #[schema(rename = "type")]
    pub kind: String,
    pub severity: String,
    pub message: String,
}

/// `GET /repositories/{name}`.
#[derive(ToSchema)]
pub struct RepositoryDetail {
    pub name: String,
    pub phase: u64,
    pub services: Vec<ServiceDetail>,
    /// Service edges out of the repository (its own internal edges included).
    pub dependencies: Vec<ServiceEdgeView>,
    /// Service edges from other repositories into it.
    pub dependents: Vec<ServiceEdgeView>,
    pub conflicts: Vec<RepositoryConflict>,
}
