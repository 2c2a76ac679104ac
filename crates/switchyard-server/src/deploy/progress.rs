//! How a repository event (`started`, `succeeded`, `failed`) moves a coordination: which events
//! are accepted when, phase advance, completion, and the rollback order after a failure.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchyard_store::Timestamp;
use utoipa::ToSchema;

use super::{Deployment, DeploymentStatus, PhaseStatus, RepoStatus, Rollback, RollbackPhase};
use crate::error::ApiError;

/// What a deployer reports about one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RepoEvent {
    Started,
    Succeeded,
    Failed,
}

impl RepoEvent {
    fn target(self) -> RepoStatus {
        match self {
            RepoEvent::Started => RepoStatus::Started,
            RepoEvent::Succeeded => RepoStatus::Succeeded,
            RepoEvent::Failed => RepoStatus::Failed,
        }
    }
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum EventError {
    Finished(DeploymentStatus),
    NotInPlan(String),
    /// The repository's phase is not the one running.
    OutOfPhase {
        repository: String,
        phase: usize,
        current: Option<usize>,
    },
    InvalidTransition {
        repository: String,
        from: RepoStatus,
        to: RepoStatus,
    },
    /// While rolling back only repositories still in flight may report their outcome.
    RollingBack(String),
    /// The phase deploys one repository at a time and another one is running.
    Sequential {
        repository: String,
        running: String,
    },
}

impl From<EventError> for ApiError {
    fn from(error: EventError) -> Self {
        let conflict = |code, message: String| ApiError::new(StatusCode::CONFLICT, code, message);
        match error {
            EventError::Finished(status) => conflict(
                "DEPLOYMENT_FINISHED",
                format!("the deployment is {}; it accepts no more changes", status.as_str()),
            )
            .with_details(json!({ "status": status })),
            EventError::NotInPlan(repository) => ApiError::not_found(format!(
                "repository `{repository}` is not part of this deployment"
            ))
            .with_details(json!({ "repository": repository })),
            EventError::OutOfPhase {
                repository,
                phase,
                current,
            } => conflict(
                "OUT_OF_PHASE",
                match current {
                    Some(current) if phase > current => format!(
                        "`{repository}` deploys in phase {phase}; phase {current} has not finished"
                    ),
                    Some(current) => format!(
                        "`{repository}` deployed in phase {phase}, which is done; phase {current} is running"
                    ),
                    None => format!("no phase is running; `{repository}` is in phase {phase}"),
                },
            )
            .with_details(json!({
                "repository": repository,
                "repositoryPhase": phase,
                "currentPhase": current,
            })),
            EventError::InvalidTransition {
                repository,
                from,
                to,
            } => conflict(
                "INVALID_TRANSITION",
                format!(
                    "`{repository}` cannot go from {} to {}",
                    from.as_str(),
                    to.as_str()
                ),
            )
            .with_details(json!({ "repository": repository, "from": from, "to": to })),
            EventError::RollingBack(repository) => conflict(
                "DEPLOYMENT_ROLLING_BACK",
                format!(
                    "the deployment is rolling back; only repositories still in flight may report \
                     their outcome (`{repository}` is not); complete or cancel it"
                ),
            )
            .with_details(json!({ "repository": repository })),
            EventError::Sequential {
                repository,
                running,
            } => conflict(
                "PHASE_IS_SEQUENTIAL",
                format!(
                    "this phase deploys one repository at a time and `{running}` is still \
                     running; report its outcome before starting `{repository}`"
                ),
            )
            .with_details(json!({ "repository": repository, "running": running })),
        }
    }
}

/// What an accepted event changed, for the caller to persist and publish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// A success duration to record for future estimates.
    pub duration: Option<f64>,
    /// The phase that just finished, when one did.
    pub phase_completed: Option<usize>,
    /// Every phase succeeded: the claims are to be released.
    pub completed: bool,
    /// This event started (or extended) a rollback.
    pub rolling_back: bool,
}

impl Deployment {
    /// Applies one event at `now`. `duration` (seconds) is the deployer's measure; without it
    /// a success is timed from its `started` event.
    pub fn apply(
        &mut self,
        repository: &str,
        event: RepoEvent,
        duration: Option<f64>,
        now: Timestamp,
    ) -> Result<Applied, EventError> {
        if self.status.is_finished() {
            return Err(EventError::Finished(self.status));
        }
        let current = self.current_phase;
        let Some(progress) = self.progress.get(repository) else {
            return Err(EventError::NotInPlan(repository.to_string()));
        };
        let (from, phase) = (progress.status, progress.phase);
        let to = event.target();
        let allowed = matches!(
            (from, to),
            (RepoStatus::Pending, _)
                | (
                    RepoStatus::Started,
                    RepoStatus::Succeeded | RepoStatus::Failed
                )
        );
        if self.status == DeploymentStatus::RollingBack {
            // Parallel members of the failed phase may still finish; nothing new may start.
            let in_flight = from == RepoStatus::Started && to != RepoStatus::Started;
            if !in_flight {
                return Err(EventError::RollingBack(repository.to_string()));
            }
        } else if Some(phase) != current {
            return Err(EventError::OutOfPhase {
                repository: repository.to_string(),
                phase,
                current,
            });
        }
        if from == RepoStatus::Pending && self.status != DeploymentStatus::RollingBack {
            self.refuse_overlap(repository)?;
        }
        if !allowed {
            return Err(EventError::InvalidTransition {
                repository: repository.to_string(),
                from,
                to,
            });
        }
        let mut applied = Applied::default();
        let Some(progress) = self.progress.get_mut(repository) else {
            return Err(EventError::NotInPlan(repository.to_string()));
        };
        progress.status = to;
        match event {
            RepoEvent::Started => progress.started_at = Some(now),
            RepoEvent::Succeeded | RepoEvent::Failed => {
                let timed = progress.started_at.map(|at| seconds_between(at, now));
                progress.finished_at = Some(now);
                progress.duration_seconds = duration.or(timed);
                if event == RepoEvent::Succeeded {
                    applied.duration = progress.duration_seconds;
                }
            }
        }
        self.updated_at = now;
        if self.status == DeploymentStatus::Ready {
            self.status = DeploymentStatus::InProgress;
        }
        match event {
            RepoEvent::Failed => {
                self.set_phase_status(phase, PhaseStatus::Failed);
                if self.status != DeploymentStatus::RollingBack {
                    self.status = DeploymentStatus::RollingBack;
                    self.current_phase = None;
                    self.rollback = Some(Rollback {
                        failed_repository: repository.to_string(),
                        failed_phase: phase,
                        started_at: now,
                        phases: Vec::new(),
                    });
                }
                applied.rolling_back = true;
            }
            RepoEvent::Succeeded if self.status == DeploymentStatus::RollingBack => {
                // It finished after the failure, so it has to be undone as well.
                applied.rolling_back = true;
            }
            RepoEvent::Succeeded => {
                if self.phase_done(phase) {
                    self.set_phase_status(phase, PhaseStatus::Succeeded);
                    applied.phase_completed = Some(phase);
                    let next = self.phases.iter().map(|p| p.phase).find(|&p| p > phase);
                    self.current_phase = next;
                    applied.completed = next.is_none();
                } else {
                    self.set_phase_status(phase, PhaseStatus::InProgress);
                }
            }
            RepoEvent::Started => self.set_phase_status(phase, PhaseStatus::InProgress),
        }
        if applied.rolling_back {
            let phases = self.rollback_phases();
            if let Some(rollback) = self.rollback.as_mut() {
                rollback.phases = phases;
            }
        }
        if applied.completed {
            self.finish(DeploymentStatus::Completed, now);
        }
        Ok(applied)
    }

    /// In a sequential phase a repository may only begin once no other member is running.
    fn refuse_overlap(&self, repository: &str) -> Result<(), EventError> {
        let Some(phase) = self.progress.get(repository).map(|p| p.phase) else {
            return Ok(());
        };
        if self.phases.iter().any(|p| p.phase == phase && p.parallel) {
            return Ok(());
        }
        let running = self
            .progress
            .iter()
            .find(|(name, p)| {
                p.phase == phase && p.status == RepoStatus::Started && name.as_str() != repository
            })
            .map(|(name, _)| name.clone());
        match running {
            Some(running) => Err(EventError::Sequential {
                repository: repository.to_string(),
                running,
            }),
            None => Ok(()),
        }
    }

    fn phase_done(&self, phase: usize) -> bool {
        self.progress
            .values()
            .filter(|p| p.phase == phase)
            .all(|p| p.status == RepoStatus::Succeeded)
    }

    fn set_phase_status(&mut self, phase: usize, status: PhaseStatus) {
        if let Some(p) = self.phases.iter_mut().find(|p| p.phase == phase) {
            p.status = status;
        }
    }

    /// What succeeded, grouped by the phase it was deployed in, last phase first: undoing in
    /// reverse keeps every dependency in place until its dependents are rolled back.
    pub fn rollback_phases(&self) -> Vec<RollbackPhase> {
        let mut by_phase: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (name, progress) in &self.progress {
            if progress.status == RepoStatus::Succeeded {
                by_phase
                    .entry(progress.phase)
                    .or_default()
                    .push(name.clone());
            }
        }
        by_phase
            .into_iter()
            .rev()
            .enumerate()
            .map(|(i, (deployed_in_phase, repositories))| RollbackPhase {
                phase: i + 1,
                repositories,
                deployed_in_phase,
            })
            .collect()
    }
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.unix_millis().saturating_sub(from.unix_millis())).max(0) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::{PlanOptions, PlannedPhase};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(seconds * 1000)
    }

    #[test]
    fn a_sequential_phase_runs_one_repository_at_a_time() {
        let mut d = plan(&[&["api", "web"]]);
        d.phases[0].parallel = false;
        ok(&mut d, "api", RepoEvent::Started, 1);
        let overlap = d.apply("web", RepoEvent::Started, None, at(2));
        assert!(
            matches!(overlap, Err(EventError::Sequential { ref running, .. }) if running == "api")
        );
        ok(&mut d, "api", RepoEvent::Succeeded, 3);
        ok(&mut d, "web", RepoEvent::Started, 4);
    }

    fn plan(phases: &[&[&str]]) -> Deployment {
        let phases = phases
            .iter()
            .enumerate()
            .map(|(i, members)| PlannedPhase {
                phase: i + 1,
                repositories: members.iter().map(|m| m.to_string()).collect(),
                parallel: members.len() > 1,
                estimated_duration: 45.0,
                status: PhaseStatus::Pending,
            })
            .collect();
        let options = PlanOptions {
            allow_parallel: true,
            ignore_conflicts: false,
            timeout: 3600,
            max_parallel: None,
        };
        Deployment::new("coord_test".into(), phases, Vec::new(), options, at(0))
    }

    fn ok(d: &mut Deployment, repo: &str, event: RepoEvent, t: i64) -> Applied {
        match d.apply(repo, event, None, at(t)) {
            Ok(applied) => applied,
            Err(error) => panic!("{repo} {event:?}: {error:?}"),
        }
    }

    #[test]
    fn phases_advance_and_the_last_success_completes() {
        let mut d = plan(&[&["db"], &["api", "web"]]);
        assert_eq!(d.current_phase, Some(1));
        ok(&mut d, "db", RepoEvent::Started, 0);
        assert_eq!(d.status, DeploymentStatus::InProgress);
        let applied = ok(&mut d, "db", RepoEvent::Succeeded, 12);
        assert_eq!(applied.duration, Some(12.0), "timed from started");
        assert_eq!(applied.phase_completed, Some(1));
        assert_eq!(d.current_phase, Some(2));
        assert_eq!(d.phases[0].status, PhaseStatus::Succeeded);
        let applied = ok(&mut d, "api", RepoEvent::Succeeded, 20);
        assert_eq!(applied.duration, None, "no start, no measure");
        assert_eq!(d.phases[1].status, PhaseStatus::InProgress);
        let applied = d.apply("web", RepoEvent::Succeeded, Some(7.5), at(30));
        assert_eq!(
            applied.map(|a| (a.duration, a.completed)),
            Ok((Some(7.5), true))
        );
        assert_eq!(d.status, DeploymentStatus::Completed);
        assert_eq!(d.current_phase, None);
        let late = d.apply("web", RepoEvent::Failed, None, at(31));
        assert_eq!(late, Err(EventError::Finished(DeploymentStatus::Completed)));
    }

    #[test]
    fn events_outside_the_running_phase_or_plan_are_refused() {
        let mut d = plan(&[&["db"], &["api"]]);
        let early = d.apply("api", RepoEvent::Started, None, at(1));
        assert!(matches!(
            early,
            Err(EventError::OutOfPhase {
                phase: 2,
                current: Some(1),
                ..
            })
        ));
        let stranger = d.apply("mail", RepoEvent::Started, None, at(1));
        assert_eq!(stranger, Err(EventError::NotInPlan("mail".into())));
        ok(&mut d, "db", RepoEvent::Succeeded, 2);
        let late = d.apply("db", RepoEvent::Started, None, at(3));
        assert!(matches!(
            late,
            Err(EventError::OutOfPhase {
                phase: 1,
                current: Some(2),
                ..
            })
        ));
        ok(&mut d, "api", RepoEvent::Started, 4);
        let twice = d.apply("api", RepoEvent::Started, None, at(5));
        assert!(matches!(twice, Err(EventError::InvalidTransition { .. })));
        assert_eq!(
            d.status,
            DeploymentStatus::InProgress,
            "refusals change nothing"
        );
    }

    #[test]
    fn a_failure_rolls_back_what_succeeded_last_phase_first() {
        let mut d = plan(&[&["db"], &["auth"], &["api", "web"], &["proxy"]]);
        ok(&mut d, "db", RepoEvent::Succeeded, 1);
        ok(&mut d, "auth", RepoEvent::Succeeded, 2);
        ok(&mut d, "api", RepoEvent::Started, 3);
        ok(&mut d, "web", RepoEvent::Started, 3);
        ok(&mut d, "api", RepoEvent::Succeeded, 4);
        let applied = ok(&mut d, "web", RepoEvent::Failed, 5);
        assert!(applied.rolling_back);
        assert_eq!(d.status, DeploymentStatus::RollingBack);
        assert_eq!(d.phases[2].status, PhaseStatus::Failed);
        let rollback = d.rollback.clone().map(|r| {
            let order: Vec<(usize, Vec<String>)> = r
                .phases
                .into_iter()
                .map(|p| (p.deployed_in_phase, p.repositories))
                .collect();
            (r.failed_repository, order)
        });
        assert_eq!(
            rollback,
            Some((
                "web".to_string(),
                vec![
                    (3, vec!["api".to_string()]),
                    (2, vec!["auth".to_string()]),
                    (1, vec!["db".to_string()]),
                ]
            ))
        );
        let more = d.apply("proxy", RepoEvent::Started, None, at(6));
        assert_eq!(more, Err(EventError::RollingBack("proxy".into())));
    }

    #[test]
    fn a_member_in_flight_during_the_failure_joins_the_rollback() {
        let mut d = plan(&[&["db"], &["api", "web"]]);
        ok(&mut d, "db", RepoEvent::Succeeded, 1);
        ok(&mut d, "api", RepoEvent::Started, 2);
        ok(&mut d, "web", RepoEvent::Failed, 3);
        let first: Vec<String> = d
            .rollback
            .as_ref()
            .map(|r| r.phases[0].repositories.clone())
            .unwrap_or_default();
        assert_eq!(first, ["db"]);
        let applied = ok(&mut d, "api", RepoEvent::Succeeded, 4);
        assert!(applied.rolling_back && !applied.completed);
        let first: Vec<String> = d
            .rollback
            .as_ref()
            .map(|r| r.phases[0].repositories.clone())
            .unwrap_or_default();
        assert_eq!(first, ["api"]);
        assert_eq!(d.status, DeploymentStatus::RollingBack);
    }
}
