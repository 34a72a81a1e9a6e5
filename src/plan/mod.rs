//! The plan: what apply would do to each instance, and why.
//!
//! Computing a plan is a pure function of the document, the state and the live status: no I/O,
//! so every case can be tested directly. Rendering it (text, JSON, markdown) is separate, and
//! apply consumes the same value. Every change carries the sentence that explains it.
//!
//! - [`desired`]: the planner's view of the document (what each instance should have).
//! - [`planner`]: the comparison of desired, recorded and live, one [`Change`] per instance.
//! - [`render`]: the text, JSON and markdown forms of a plan.
//! - [`saved`]: plans saved by `plan --out`, bound to the state and document they were made from.

pub mod desired;
pub mod planner;
pub mod render;
pub mod saved;

use serde::{Deserialize, Serialize};

use crate::ecs::model::InstanceStatus;
use crate::report::Hint;

pub use desired::Desired;
pub use planner::{LiveView, compute};

/// What apply will do to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Nothing: the declared password is in effect.
    None,
    /// Set a new password, then restart per policy.
    Reset,
    /// Restart only: an earlier reset is not in effect yet.
    Restart,
    /// Wait for a transitional status to settle before doing anything.
    Wait,
    /// Drop the instance from the state: it is declared no longer.
    Forget,
    /// Nothing can be done; the reason says why.
    Blocked,
}

/// The restart that follows a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Restart {
    /// RebootInstance: the instance is Running.
    Reboot,
    /// StartInstance: the instance is Stopped.
    Start,
    /// No restart.
    None,
}

/// The generation before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationChange {
    /// The generation the state records, if any.
    pub from: Option<u64>,
    /// The generation the document declares, if any.
    pub to: Option<u64>,
}

/// What apply will do to one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The instance id.
    pub instance: String,
    /// Its region.
    pub region: String,
    /// Its display name, when the service reported one.
    pub name: Option<String>,
    /// The action.
    pub action: Action,
    /// The generation before and after.
    pub generation: GenerationChange,
    /// The restart after the reset.
    pub restart: Restart,
    /// The live status, when the instance was found.
    pub status: Option<InstanceStatus>,
    /// The wave it belongs to.
    pub wave: u32,
    /// Why: a sentence for people.
    pub reason: String,
    /// Things the user should know, such as a key pair attached after the last reset.
    pub warnings: Vec<String>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// One change per declared or recorded instance, in a stable order.
    pub changes: Vec<Change>,
    /// Returns true when `--target` limited the plan to some instances.
    pub partial: bool,
}

impl Action {
    /// The word used in every rendering and in the JSON schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Reset => "reset",
            Self::Restart => "restart",
            Self::Wait => "wait",
            Self::Forget => "forget",
            Self::Blocked => "blocked",
        }
    }
}

impl Restart {
    /// The word used in every rendering and in the JSON schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Start => "start",
            Self::None => "none",
        }
    }
}

impl Plan {
    /// Returns true if and only if some change would do something.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|change| change.action != Action::None)
    }

    /// How many changes there are of each action.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.changes)
    }
}

impl Summary {
    /// How many of `changes` there are of each action.
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Summary {
        let mut summary = Summary::default();
        for change in changes {
            let count = match change.action {
                Action::None => &mut summary.unchanged,
                Action::Reset => &mut summary.reset,
                Action::Restart => &mut summary.restart,
                Action::Wait => &mut summary.wait,
                Action::Forget => &mut summary.forget,
                Action::Blocked => &mut summary.blocked,
            };
            *count += 1;
        }
        summary
    }
}

/// How many instances get each action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Instances whose password is reset.
    pub reset: usize,
    /// Instances restarted so that an earlier reset takes effect.
    pub restart: usize,
    /// Instances waited for (transitional status).
    pub wait: usize,
    /// Instances dropped from the state.
    pub forget: usize,
    /// Instances nothing can be done for.
    pub blocked: usize,
    /// Instances left as they are.
    pub unchanged: usize,
}

/// Why a plan cannot be made: the document asks for something passform must not do.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The document declares a lower generation than the state records.
    #[error(
        "instance `{instance}` declares generation {declared}, lower than generation {applied} \
         already applied"
    )]
    GenerationLowered {
        /// The instance id.
        instance: String,
        /// The generation in the document.
        declared: u64,
        /// The generation in the state.
        applied: u64,
    },
    /// The password changed while the generation stayed the same.
    #[error(
        "the password of instance `{instance}` changed but its generation is still {generation}"
    )]
    PasswordChangedWithoutRaise {
        /// The instance id.
        instance: String,
        /// The unchanged generation.
        generation: u64,
    },
    /// A `--target` names an instance that is neither declared nor recorded.
    #[error("--target `{id}` is not an instance the document declares or the state records")]
    UnknownTarget {
        /// The id the user gave.
        id: String,
    },
}

impl Hint for PlanError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::GenerationLowered { applied, .. } => format!(
                "a generation may only go up: set it to {applied} to keep the current password, \
                 or higher to rotate it"
            ),
            Self::PasswordChangedWithoutRaise { generation, .. } => format!(
                "raise the generation to {} so apply sets the new password, or restore the \
                 previous one",
                generation + 1
            ),
            Self::UnknownTarget { .. } => {
                "check the id; `passform state list` shows the recorded instances".to_owned()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_error_tells_the_user_what_to_do() {
        let lowered = PlanError::GenerationLowered {
            instance: "i-1".to_owned(),
            declared: 1,
            applied: 3,
        };
        assert_eq!(
            lowered.hint().unwrap(),
            "a generation may only go up: set it to 3 to keep the current password, or higher \
             to rotate it"
        );
        let target = PlanError::UnknownTarget {
            id: "i-9".to_owned(),
        };
        assert_eq!(
            target.to_string(),
            "--target `i-9` is not an instance the document declares or the state records"
        );
        assert!(target.hint().unwrap().contains("passform state list"));
    }
}
