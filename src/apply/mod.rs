//! Apply: carries a plan out, in waves, journaling every step into the state.
//!
//! For each instance to change: wait for a stable status, record the intent, reset the
//! password, record it, restart per policy, wait until Running, record that the password is in
//! effect. Waves run in ascending order, each only after the previous one is done; at most
//! `parallelism` instances are in flight; restarts due together in a region go out as one
//! batched call, and status is polled with one call per region per tick. The first failure
//! stops new work (the rest of its wave and every later wave); work in flight finishes and is
//! recorded. An interrupt does the same.
//!
//! Guarantees, step by step, if passform is killed at any moment:
//! - before a reset is sent, the state records phase `resetting` with the new generation; a
//!   reset whose answer was lost is sent again with the same (deterministic) password;
//! - after the reset is answered, phase `reset`, with the instance's `CreationTime`,
//!   `StartTime` and key pair at reset time;
//! - a restart is sent only while phase `reset` is recorded, and a restart whose answer was
//!   lost is checked by status before it is sent again;
//! - phase `effective` is recorded only after the instance is seen Running after a restart.
//!
//! This module orchestrates over [`api::InstanceApi`], a small trait of the ECS calls it needs,
//! so it is tested against an in-memory fleet; it does not compute the plan or parse documents.

pub mod api;
mod client;
mod engine;
mod job;
pub mod journal;
pub mod report;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::document::{Document, RestartPolicy};
use crate::ecs::model::LiveInstance;
use crate::plan::{Action, Plan};
use crate::report::Hint;
use crate::secret::SecretString;
use crate::state::{Phase, State, StateError};

pub use api::{CallFailure, InstanceApi, RestartKind};
pub use journal::{Journal, StateFile};
pub use report::{Event, Outcome, Reporter, Summary};

/// How apply runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// At most this many instances resetting or restarting at once.
    pub parallelism: usize,
    /// How long an instance may take to reach a stable status, before its reset or after its
    /// restart.
    pub wait_timeout: Duration,
    /// The shortest pause between two status polls.
    pub poll_interval_min: Duration,
    /// The longest pause between two status polls.
    pub poll_interval_max: Duration,
    /// Set when the user interrupts: no new work starts.
    pub interrupt: Interrupt,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            parallelism: 10,
            wait_timeout: Duration::from_secs(600),
            poll_interval_min: Duration::from_millis(100),
            poll_interval_max: Duration::from_secs(2),
            interrupt: Interrupt::default(),
        }
    }
}

/// A flag the Ctrl-C handler raises to stop new work; in-flight work still finishes.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Asks apply to start no new work.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Returns true once [`Interrupt::raise`] was called.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the document declares for an instance apply changes, with its password resolved.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The declared generation.
    pub generation: u64,
    /// The declared restart policy.
    pub restart: RestartPolicy,
    /// The declared password.
    pub password: SecretString,
    /// The password's fingerprint, as the state records it.
    pub fingerprint: String,
}

/// Resolves the desired password of every instance the plan changes.
pub fn desired_passwords(document: &Document, plan: &Plan) -> BTreeMap<String, Desired> {
    plan.changes
        .iter()
        .filter(|change| needs_password(change.action))
        .filter_map(|change| document.instance(&change.instance))
        .map(|declared| {
            let password = document.password(declared);
            let desired = Desired {
                generation: declared.generation,
                restart: declared.restart,
                fingerprint: document.fingerprint(&password),
                password,
            };
            (declared.id.clone(), desired)
        })
        .collect()
}

/// Carries `plan` out against `api`, recording every step in `state` through `journal`.
///
/// Returns the summary, also when some instances failed (the summary lists them); an error
/// means apply could not keep its journal and stopped at once.
pub async fn run<A, J, R>(
    plan: &Plan,
    document: &Document,
    state: &mut State,
    api: A,
    journal: &mut J,
    reporter: &mut R,
    options: &Options,
) -> Result<Summary, ApplyError>
where
    A: InstanceApi,
    J: Journal,
    R: Reporter + ?Sized,
{
    let desired = desired_passwords(document, plan);
    execute(plan, &desired, state, api, journal, reporter, options).await
}

/// [`run`] with the desired passwords already resolved.
pub async fn execute<A, J, R>(
    plan: &Plan,
    desired: &BTreeMap<String, Desired>,
    state: &mut State,
    api: A,
    journal: &mut J,
    reporter: &mut R,
    options: &Options,
) -> Result<Summary, ApplyError>
where
    A: InstanceApi,
    J: Journal,
    R: Reporter + ?Sized,
{
    if let Some(change) = plan
        .changes
        .iter()
        .find(|change| needs_password(change.action) && !desired.contains_key(&change.instance))
    {
        return Err(ApplyError::Undeclared {
            instance: change.instance.clone(),
        });
    }
    engine::Engine::new(api, journal, reporter, state, options)
        .run(plan, desired)
        .await
}

/// Records phase `effective` for the instances the plan leaves alone because a start since
/// their reset already made the password effective: the planner leaves that record to apply.
/// Returns their ids; the caller journals the state when there are any.
pub fn record_started(
    plan: &Plan,
    state: &mut State,
    live: &BTreeMap<String, LiveInstance>,
) -> Vec<String> {
    let now = engine::timestamp();
    let mut recorded = Vec::new();
    for change in plan
        .changes
        .iter()
        .filter(|change| change.action == Action::None)
    {
        let (Some(record), Some(found)) = (
            state.instances.get_mut(&change.instance),
            live.get(&change.instance),
        ) else {
            continue;
        };
        let started = found.start_time.is_some() && found.start_time != record.start_time_at_reset;
        if record.phase == Phase::Reset && started {
            record.phase = Phase::Effective;
            record.effective_at = Some(now.clone());
            recorded.push(change.instance.clone());
        }
    }
    recorded
}

/// Returns true for the actions that send a password or a restart.
fn needs_password(action: Action) -> bool {
    matches!(action, Action::Reset | Action::Restart | Action::Wait)
}

/// Why apply stopped before it finished.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The state could not be written, so apply stopped before its next API step.
    #[error("could not record apply's progress in the state file")]
    Journal(#[source] StateError),
    /// The plan changes an instance that the document does not declare.
    #[error("the plan changes `{instance}`, which the document does not declare")]
    Undeclared {
        /// The instance id.
        instance: String,
    },
}

impl Hint for ApplyError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Journal(_) => Some(
                "fix the cause, then run `passform plan` to see what remains and apply again"
                    .to_owned(),
            ),
            Self::Undeclared { .. } => Some(
                "the document changed since the plan was made; run `passform plan` again"
                    .to_owned(),
            ),
        }
    }
}
