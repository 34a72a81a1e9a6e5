//! One instance's progress through apply: what it needs, and the step it is at.
//!
//! The engine moves each [`Job`] from step to step as statuses and answers come in; this file
//! holds the vocabulary of those steps and the two judgements that do not need the engine:
//! whether a restart shows in an instance's status, and what the state records before a reset.

use tokio::time::Instant;

use super::Desired;
use super::api::RestartKind;
use crate::ecs::model::{InstanceStatus, LiveInstance};
use crate::state::{InstanceRecord, Phase};

/// What an instance needs done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Work {
    /// Set the password, then restart per policy.
    Reset,
    /// The password was set by an earlier apply; only the restart remains.
    RestartOnly,
}

/// Where an instance stands within this apply.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Not admitted yet.
    Queued,
    /// Waiting for a stable status.
    AwaitStable,
    /// Stable: the reset goes out this tick.
    ReadyToReset(LiveInstance),
    /// The restart goes out this tick; the instance as it was before it.
    ReadyToRestart(RestartKind, LiveInstance),
    /// A restart was sent but its answer was lost or inconclusive: check before resending.
    RestartUnconfirmed(RestartKind, LiveInstance),
    /// The restart was accepted; waiting to see the instance Running again.
    AwaitRunning {
        kind: RestartKind,
        before: LiveInstance,
        seen_transition: bool,
    },
    /// Seen in effect; recorded at the end of the tick.
    Effective(Option<RestartKind>, String),
    /// Finished and reported.
    Done,
}

/// One instance's progress through apply.
#[derive(Debug)]
pub(super) struct Job {
    /// The instance id.
    pub(super) id: String,
    /// Its region.
    pub(super) region: String,
    /// Its wave.
    pub(super) wave: u32,
    /// What it needs.
    pub(super) work: Work,
    /// What the document declares for it.
    pub(super) desired: Desired,
    /// Where it stands.
    pub(super) step: Step,
    /// When the current wait began, for the wait timeout.
    pub(super) waiting_since: Instant,
    /// Restarts sent so far, bounded so that a restart that never shows cannot loop.
    pub(super) restarts_sent: u32,
}

impl Job {
    /// Returns true while the next step depends on the instance's status.
    pub(super) fn needs_status(&self) -> bool {
        matches!(
            self.step,
            Step::AwaitStable | Step::RestartUnconfirmed(..) | Step::AwaitRunning { .. }
        )
    }

    /// Returns true once the job is finished and reported.
    pub(super) fn is_done(&self) -> bool {
        matches!(self.step, Step::Done)
    }
}

/// Returns true if the instance shows that a restart sent before `before` was seen happened.
pub(super) fn restart_visible(
    kind: RestartKind,
    before: &LiveInstance,
    live: &LiveInstance,
) -> bool {
    !live.status.is_stable()
        || live.start_time != before.start_time
        || (kind == RestartKind::Start && live.status == InstanceStatus::Running)
}

/// The record written before a reset is sent: the new generation in phase `resetting`, with
/// the live facts later plans compare against.
pub(super) fn resetting_record(job: &Job, live: &LiveInstance, now: &str) -> InstanceRecord {
    InstanceRecord {
        region: job.region.clone(),
        generation: job.desired.generation,
        fingerprint: job.desired.fingerprint.clone(),
        phase: Phase::Resetting,
        creation_time: Some(live.creation_time.clone()),
        start_time_at_reset: live.start_time.clone(),
        key_pair_at_reset: live.key_pair_name.clone(),
        reset_at: Some(now.to_owned()),
        effective_at: None,
    }
}
