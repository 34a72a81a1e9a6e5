//! The few ECS calls apply makes, as a trait, so the orchestration can run against the real
//! client or against an in-memory fleet in tests.
//!
//! Every call reports a failure in one of two ways that decide what apply does next: the
//! service refused (nothing changed; the code says why) or the answer never arrived (the change
//! may or may not have been made, so apply checks before it repeats anything that is not safe
//! to repeat).

use std::future::Future;

use crate::ecs::model::{InstanceStatus, LiveInstance};
use crate::secret::SecretString;

/// The error code the service answers when an instance's status does not allow a call.
pub const INCORRECT_STATUS: &str = "IncorrectInstanceStatus";

/// How an instance is restarted so that a new password takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartKind {
    /// RebootInstances, for a Running instance.
    Reboot,
    /// StartInstances, for a Stopped instance.
    Start,
}

impl RestartKind {
    /// The restart that applies to an instance in `status`, if any.
    pub fn for_status(status: InstanceStatus) -> Option<RestartKind> {
        match status {
            InstanceStatus::Running => Some(Self::Reboot),
            InstanceStatus::Stopped => Some(Self::Start),
            _ => None,
        }
    }
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// No answer arrived (connection lost, or throttling and server errors outlasted the
    /// retries): the change may or may not have been made.
    #[error("the service did not answer: {0}")]
    Unanswered(String),
    /// The service refused the call and changed nothing.
    #[error("the service refused with {code}: {message}")]
    Refused {
        /// The API error code.
        code: String,
        /// The API's message.
        message: String,
    },
}

impl CallFailure {
    /// Returns true if the refusal only means the instance was not in a status that allows
    /// the call at that moment.
    pub fn is_incorrect_status(&self) -> bool {
        matches!(self, Self::Refused { code, .. } if code == INCORRECT_STATUS)
    }
}

/// The answer for one instance of a batched restart.
pub type RestartResult = (String, Result<(), CallFailure>);

/// The ECS calls apply needs. Implementations are cheap to clone and safe to share between
/// tasks; every method may be called for many regions at once.
pub trait InstanceApi: Clone + Send + Sync + 'static {
    /// Describes the given instances of one region (at most 100 ids). Instances that no
    /// longer exist are missing from the answer.
    fn describe(
        &self,
        region: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<LiveInstance>, CallFailure>> + Send;

    /// Sets an instance's password (ModifyInstanceAttribute). Safe to repeat with the same
    /// password.
    fn reset_password(
        &self,
        region: &str,
        id: &str,
        password: &SecretString,
    ) -> impl Future<Output = Result<(), CallFailure>> + Send;

    /// Reboots Running instances of one region in one call (at most 100 ids), with a result
    /// per instance.
    fn reboot(
        &self,
        region: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<RestartResult>, CallFailure>> + Send;

    /// Starts Stopped instances of one region in one call (at most 100 ids), with a result
    /// per instance.
    fn start(
        &self,
        region: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<RestartResult>, CallFailure>> + Send;
}
