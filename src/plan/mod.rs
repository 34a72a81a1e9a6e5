//! The plan: what apply would do to each instance, and why.
//!
//! Computing a plan is a pure function of the document, the state and the live status: no I/O,
//! so every case can be tested directly. Rendering it (text, JSON, markdown) is separate, and
//! apply consumes the same value. Every change carries the sentence that explains it.

use serde::{Deserialize, Serialize};

use crate::ecs::model::InstanceStatus;

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

impl Plan {
    /// Returns true if and only if some change would do something.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|change| change.action != Action::None)
    }
}
