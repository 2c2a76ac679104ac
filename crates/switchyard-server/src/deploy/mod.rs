//! Deployment coordination without HTTP: phases cut from the repository graph with duration
//! estimates, the stored document of a coordination, and (in `progress`) how repository events
//! move it; this file and `progress` are pure. `records` stores plans and durations, `ledger`
//! takes and releases their claims; `routes::deployments` is the HTTP front.

pub mod ledger;
mod progress;
pub mod records;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchyard_graph::Phase;
use switchyard_store::{Claim, Timestamp};

pub use progress::{Applied, EventError, RepoEvent};

/// Store record kind of coordinations (one document per `coord_…` id).
pub const DEPLOYMENT_KIND: &str = "deployment";
/// Store record kind of recorded durations (one document per repository).
pub const DURATIONS_KIND: &str = "deploy_durations";
/// How many recent durations per repository feed the estimate.
pub const DURATIONS_KEPT: usize = 10;

/// Where a coordination stands. `Completed`, `Cancelled`, `Failed` and `TimedOut` are final:
/// the claims are released and no event is accepted any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Planned and claimed; nothing reported yet.
    Ready,
    InProgress,
    /// A repository failed; what already succeeded must be undone (see `rollback`).
    RollingBack,
    /// Every phase succeeded, or the caller completed it.
    Completed,
    Cancelled,
    /// Completed after a rollback.
    Failed,
    /// Not finished within `options.timeout` of its planning: the claims (held for that long)
    /// lapsed, so the housekeeping ends it rather than leave a plan that holds nothing.
    TimedOut,
}

impl DeploymentStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Completed
                | DeploymentStatus::Cancelled
                | DeploymentStatus::Failed
                | DeploymentStatus::TimedOut
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Ready => "ready",
            DeploymentStatus::InProgress => "in_progress",
            DeploymentStatus::RollingBack => "rolling_back",
            DeploymentStatus::Completed => "completed",
            DeploymentStatus::Cancelled => "cancelled",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::TimedOut => "timed_out",
        }
    }
}

/// Where one repository of the plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoStatus {
    Pending,
    Started,
    Succeeded,
    Failed,
}

impl RepoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoStatus::Pending => "pending",
            RepoStatus::Started => "started",
            RepoStatus::Succeeded => "succeeded",
            RepoStatus::Failed => "failed",
        }
    }
}

/// Where one phase stands: derived from its repositories, stored so readers need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Pending,
    InProgress,
    Succeeded,
    Failed,
}

/// The planning options of `POST /coordinate-deployment`, kept with the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanOptions {
    pub allow_parallel: bool,
    pub ignore_conflicts: bool,
    /// Seconds; also the TTL of the claims.
    pub timeout: u64,
    pub max_parallel: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedPhase {
    /// 1-based.
    pub phase: usize,
    pub repositories: Vec<String>,
    pub parallel: bool,
    /// Seconds.
    pub estimated_duration: f64,
    pub status: PhaseStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoProgress {
    pub status: RepoStatus,
    /// The plan phase the repository belongs to.
    pub phase: usize,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_seconds: Option<f64>,
}

/// A ledger claim held for the plan, with every planned repository that uses the resource
/// (the claim itself names the first of them to be deployed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanClaim {
    #[serde(flatten)]
    pub claim: Claim,
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackPhase {
    /// 1-based order of the rollback.
    pub phase: usize,
    pub repositories: Vec<String>,
    /// The plan phase these repositories were deployed in.
    pub deployed_in_phase: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    pub failed_repository: String,
    pub failed_phase: usize,
    pub started_at: Timestamp,
    /// What succeeded, last deployed phase first.
    pub phases: Vec<RollbackPhase>,
}

/// The stored document of one coordination (`coordination` in the API answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    pub status: DeploymentStatus,
    /// In deployment order (phase by phase).
    pub repositories: Vec<String>,
    pub phases: Vec<PlannedPhase>,
    /// Conflicts involving the planned repositories at planning time (only non-empty when
    /// they were ignored).
    pub conflicts: Vec<Value>,
    pub claims: Vec<PlanClaim>,
    /// Resources the fleet uses whose identifiers the ledger refuses (cannot be claimed).
    #[serde(default)]
    pub unclaimable: Vec<Value>,
    pub options: PlanOptions,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The phase whose repositories may report now; `None` once nothing more can run.
    pub current_phase: Option<usize>,
    pub progress: BTreeMap<String, RepoProgress>,
    pub rollback: Option<Rollback>,
    pub finished_at: Option<Timestamp>,
    pub claims_released_at: Option<Timestamp>,
}

impl Deployment {
    /// A fresh plan: status `ready`, first phase current, every repository pending.
    pub fn new(
        id: String,
        phases: Vec<PlannedPhase>,
        conflicts: Vec<Value>,
        options: PlanOptions,
        now: Timestamp,
    ) -> Deployment {
        let progress = phases
            .iter()
            .flat_map(|p| {
                p.repositories.iter().map(|r| {
                    (
                        r.clone(),
                        RepoProgress {
                            status: RepoStatus::Pending,
                            phase: p.phase,
                            started_at: None,
                            finished_at: None,
                            duration_seconds: None,
                        },
                    )
                })
            })
            .collect();
        Deployment {
            id,
            status: DeploymentStatus::Ready,
            repositories: phases
                .iter()
                .flat_map(|p| p.repositories.iter().cloned())
                .collect(),
            current_phase: phases.first().map(|p| p.phase),
            phases,
            conflicts,
            claims: Vec::new(),
            unclaimable: Vec::new(),
            options,
            created_at: now,
            updated_at: now,
            progress,
            rollback: None,
            finished_at: None,
            claims_released_at: None,
        }
    }

    /// Total seconds: the phases run one after another.
    pub fn estimated_duration(&self) -> f64 {
        self.phases.iter().map(|p| p.estimated_duration).sum()
    }

    /// The `deployment` block of the answers.
    pub fn summary(&self) -> Value {
        json!({
            "totalPhases": self.phases.len(),
            "parallelizable": self.phases.iter().any(|p| p.parallel),
            "estimatedDuration": self.estimated_duration(),
            "completedPhases": self.phases.iter().filter(|p| p.status == PhaseStatus::Succeeded).count(),
            "currentPhase": self.current_phase,
            "status": self.status,
        })
    }

    /// The API answer: `{ coordination, deployment }`.
    pub fn describe(&self) -> Value {
        json!({
            "coordination": self,
            "deployment": self.summary(),
        })
    }

    /// When the timeout runs out: the claims were taken for `options.timeout` seconds at
    /// planning.
    pub fn deadline(&self) -> Timestamp {
        self.created_at.plus_seconds(self.options.timeout)
    }

    /// Unfinished at or past its deadline.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.status.is_finished() && now >= self.deadline()
    }

    /// Ends the coordination with `status` (the caller releases the claims).
    pub fn finish(&mut self, status: DeploymentStatus, now: Timestamp) {
        self.status = status;
        self.current_phase = None;
        self.finished_at = Some(now);
        self.claims_released_at = Some(now);
        self.updated_at = now;
    }
}

/// The median of `durations` (mean of the two middle values for an even count); `None` when
/// empty. Non-finite values are ignored so one bad record cannot poison an estimate.
pub fn median(durations: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = durations
        .iter()
        .copied()
        .filter(|d| d.is_finite())
        .collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// `durations` with `latest` appended, keeping the newest [`DURATIONS_KEPT`].
pub fn push_duration(durations: &mut Vec<f64>, latest: f64) {
    durations.push(latest);
    let excess = durations.len().saturating_sub(DURATIONS_KEPT);
    durations.drain(..excess);
}

/// The phases of a plan: graph phases (dependencies first), each split into chunks of at most
/// `max_parallel` repositories, renumbered from 1. A phase runs its repositories together when
/// parallelism is allowed and it has more than one, so it takes its slowest member; otherwise
/// one after another, the sum.
pub fn plan_phases(
    graph_phases: &[Phase],
    allow_parallel: bool,
    max_parallel: Option<usize>,
    estimate: impl Fn(&str) -> f64,
) -> Vec<PlannedPhase> {
    let chunk = max_parallel.filter(|&m| m > 0).unwrap_or(usize::MAX);
    let mut phases = Vec::new();
    for graph_phase in graph_phases {
        for members in graph_phase.members.chunks(chunk) {
            let parallel = allow_parallel && members.len() > 1;
            let each = members.iter().map(|m| estimate(m));
            let estimated_duration = if parallel {
                each.fold(0.0, f64::max)
            } else {
                each.sum()
            };
            phases.push(PlannedPhase {
                phase: phases.len() + 1,
                repositories: members.to_vec(),
                parallel,
                estimated_duration,
                status: PhaseStatus::Pending,
            });
        }
    }
    phases
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_phase(phase: usize, members: &[&str]) -> Phase {
        Phase {
            phase,
            members: members.iter().map(|m| m.to_string()).collect(),
            parallel: members.len() > 1,
        }
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[60.0, 10.0, 20.0]), Some(20.0));
        assert_eq!(median(&[30.0, 10.0, 20.0, 40.0]), Some(25.0));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn only_the_newest_durations_are_kept() {
        let mut durations: Vec<f64> = (1..=10).map(f64::from).collect();
        push_duration(&mut durations, 11.0);
        assert_eq!(durations.len(), DURATIONS_KEPT);
        assert_eq!(durations.first(), Some(&2.0));
        assert_eq!(durations.last(), Some(&11.0));
    }

    #[test]
    fn parallel_phases_take_the_slowest_sequential_the_sum() {
        let graph = [graph_phase(1, &["db"]), graph_phase(2, &["a", "b", "c"])];
        let estimate = |name: &str| match name {
            "a" => 10.0,
            "b" => 30.0,
            _ => 20.0,
        };
        let parallel = plan_phases(&graph, true, None, estimate);
        assert_eq!(parallel.len(), 2);
        assert!(!parallel[0].parallel);
        assert!(parallel[1].parallel);
        assert_eq!(parallel[1].estimated_duration, 30.0);
        let sequential = plan_phases(&graph, false, None, estimate);
        assert!(!sequential[1].parallel);
        assert_eq!(sequential[1].estimated_duration, 60.0);
    }

    #[test]
    fn max_parallel_splits_phases_and_renumbers() {
        let graph = [graph_phase(1, &["a", "b", "c"]), graph_phase(2, &["d"])];
        let phases = plan_phases(&graph, true, Some(2), |_| 45.0);
        let shape: Vec<(usize, Vec<String>, bool)> = phases
            .iter()
            .map(|p| (p.phase, p.repositories.clone(), p.parallel))
            .collect();
        assert_eq!(
            shape,
            vec![
                (1, vec!["a".to_string(), "b".to_string()], true),
                (2, vec!["c".to_string()], false),
                (3, vec!["d".to_string()], false),
            ]
        );
        let total: f64 = phases.iter().map(|p| p.estimated_duration).sum();
        assert_eq!(total, 135.0);
    }
}
