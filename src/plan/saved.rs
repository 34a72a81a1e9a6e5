//! Saved plans: `plan --out FILE` writes one, `apply FILE` carries it out, `show FILE` renders it.
//!
//! A saved plan is what a reviewer approved, so apply must do exactly that or nothing. It is
//! bound to everything it was computed from: the state's lineage and serial, a digest of the
//! document, the live facts each change relied on, and the passform version that made it.
//! [`check`] refuses the plan, naming the first thing that moved, when any of them changed. It
//! holds no secret: changes carry fingerprints of nothing, and the digest reveals nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Action, LiveView, Plan};
use crate::atomic_file;
use crate::ecs::model::InstanceStatus;
use crate::report::Hint;
use crate::state::State;

/// The version of the saved-plan file format.
pub const SAVED_PLAN_VERSION: u32 = 1;

/// The passform version that makes and accepts saved plans.
pub const PASSFORM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A plan together with everything it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    /// The saved-plan file format.
    pub format_version: u32,
    /// The passform version that made it.
    pub passform_version: String,
    /// The state lineage it was computed against.
    pub lineage: String,
    /// The state serial it was computed against.
    pub serial: u64,
    /// The digest of the document it was computed from.
    pub document_digest: String,
    /// The live facts each change relied on, by instance id.
    pub preconditions: BTreeMap<String, Precondition>,
    /// The plan itself.
    pub plan: Plan,
}

/// What the live status said of one instance when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Precondition {
    /// Returns true if the instance was found.
    pub found: bool,
    /// Its status.
    pub status: Option<InstanceStatus>,
    /// Its `CreationTime`.
    pub creation_time: Option<String>,
    /// Its `StartTime`.
    pub start_time: Option<String>,
    /// Its key pair.
    pub key_pair_name: Option<String>,
    /// Returns true if it was locked for security.
    pub locked_for_security: bool,
}

impl Precondition {
    fn observe(live: LiveView<'_>, id: &str) -> Precondition {
        match live.instances.get(id) {
            Some(found) => Precondition {
                found: true,
                status: Some(found.status),
                creation_time: Some(found.creation_time.clone()),
                start_time: found.start_time.clone(),
                key_pair_name: found.key_pair_name.clone(),
                locked_for_security: found.locked_for_security,
            },
            None => Precondition {
                found: false,
                status: None,
                creation_time: None,
                start_time: None,
                key_pair_name: None,
                locked_for_security: false,
            },
        }
    }

    /// The first difference that matters for `action`, in words.
    fn difference(&self, now: &Precondition, action: Action) -> Option<String> {
        if self.found != now.found {
            return Some(
                if now.found {
                    "it is found now"
                } else {
                    "it is gone"
                }
                .to_owned(),
            );
        }
        // A wait is planned because the status is moving; its status and start time may change.
        let settled = action != Action::Wait;
        let facts = [
            (
                "status",
                self.status.map(|s| s.as_str().to_owned()),
                now.status.map(|s| s.as_str().to_owned()),
                settled,
            ),
            (
                "CreationTime",
                self.creation_time.clone(),
                now.creation_time.clone(),
                true,
            ),
            (
                "StartTime",
                self.start_time.clone(),
                now.start_time.clone(),
                settled,
            ),
            (
                "key pair",
                self.key_pair_name.clone(),
                now.key_pair_name.clone(),
                true,
            ),
        ];
        for (what, then, now, compared) in facts {
            if compared && then != now {
                let show = |value: Option<String>| value.unwrap_or_else(|| "none".to_owned());
                return Some(format!("{what} was {}, now {}", show(then), show(now)));
            }
        }
        (self.locked_for_security != now.locked_for_security)
            .then(|| "its security lock changed".to_owned())
    }
}

impl SavedPlan {
    /// Binds a plan to the state, document and live view it was computed from.
    pub fn new(plan: Plan, state: &State, document_digest: &str, live: LiveView<'_>) -> SavedPlan {
        let preconditions = plan
            .changes
            .iter()
            .filter(|change| change.action != Action::Forget)
            .map(|change| {
                let observed = Precondition::observe(live, &change.instance);
                (change.instance.clone(), observed)
            })
            .collect();
        SavedPlan {
            format_version: SAVED_PLAN_VERSION,
            passform_version: PASSFORM_VERSION.to_owned(),
            lineage: state.lineage.clone(),
            serial: state.serial,
            document_digest: document_digest.to_owned(),
            preconditions,
            plan,
        }
    }
}

/// Refuses a saved plan when the state, the document or the live facts it relied on changed.
pub fn check(
    saved: &SavedPlan,
    state: &State,
    document_digest: &str,
    live: LiveView<'_>,
) -> Result<(), SavedPlanError> {
    let stale = |reason: String| Err(SavedPlanError::Stale { reason });
    if saved.passform_version != PASSFORM_VERSION {
        return stale(format!(
            "it was made by passform {}, and this is passform {PASSFORM_VERSION}",
            saved.passform_version
        ));
    }
    if let Some(reason) = state_difference(saved, state) {
        return stale(reason);
    }
    if saved.document_digest != document_digest {
        return stale("the document changed since".to_owned());
    }
    for change in &saved.plan.changes {
        let Some(then) = saved.preconditions.get(&change.instance) else {
            continue;
        };
        let now = Precondition::observe(live, &change.instance);
        if let Some(difference) = then.difference(&now, change.action) {
            return stale(format!(
                "instance {} changed since: {difference}",
                change.instance
            ));
        }
    }
    Ok(())
}

/// How the state moved since the plan was saved, if it did.
fn state_difference(saved: &SavedPlan, state: &State) -> Option<String> {
    // A state never written gets a new lineage on every load, so two unwritten states are the
    // same empty state whatever their lineages say.
    let unwritten_then = saved.serial == 0;
    if unwritten_then && state.serial == 0 {
        return None;
    }
    if unwritten_then {
        return Some("the state was written since (there was none then)".to_owned());
    }
    if saved.lineage != state.lineage {
        return Some(format!(
            "it was made for another state (lineage {}, the state's is {})",
            saved.lineage, state.lineage
        ));
    }
    (saved.serial != state.serial).then(|| {
        format!(
            "the state changed since (serial {} then, {} now)",
            saved.serial, state.serial
        )
    })
}

/// Writes a saved plan atomically, as pretty JSON.
pub fn save(path: &Path, saved: &SavedPlan) -> Result<(), SavedPlanError> {
    let write_error = |source| SavedPlanError::Write {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_string_pretty(saved).expect("a saved plan always serializes");
    text.push('\n');
    atomic_file::replace(path, text.as_bytes(), ".passform.plan.").map_err(write_error)
}

/// Reads a saved plan.
pub fn load(path: &Path) -> Result<SavedPlan, SavedPlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read {
        path: path.to_owned(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| SavedPlanError::Corrupt {
            path: path.to_owned(),
            source,
        })?;
    if let Some(found) = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        && found != u64::from(SAVED_PLAN_VERSION)
    {
        return Err(SavedPlanError::UnsupportedVersion {
            path: path.to_owned(),
            found,
        });
    }
    serde_json::from_value(value).map_err(|source| SavedPlanError::Corrupt {
        path: path.to_owned(),
        source,
    })
}

/// What can go wrong with a saved plan.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    /// The plan file could not be read.
    #[error("could not read the saved plan `{}`", path.display())]
    Read {
        /// The plan file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The plan file is not a saved plan.
    #[error("`{}` is not a saved passform plan", path.display())]
    Corrupt {
        /// The plan file.
        path: PathBuf,
        /// What the parser found.
        #[source]
        source: serde_json::Error,
    },
    /// The plan file has a format this passform does not read.
    #[error("the saved plan `{}` has format version {found}; this passform reads version {SAVED_PLAN_VERSION}", path.display())]
    UnsupportedVersion {
        /// The plan file.
        path: PathBuf,
        /// The version it declares.
        found: u64,
    },
    /// The plan file could not be written.
    #[error("could not write the saved plan `{}`", path.display())]
    Write {
        /// The plan file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Something the plan relied on changed since it was saved.
    #[error("the saved plan is out of date: {reason}")]
    Stale {
        /// What changed, in words.
        reason: String,
    },
}

impl Hint for SavedPlanError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Read { .. } => "check the path of the plan file".to_owned(),
            Self::Corrupt { .. } | Self::UnsupportedVersion { .. } | Self::Stale { .. } => {
                "make a new plan with `passform plan --out FILE`, review it, and apply that"
                    .to_owned()
            }
            Self::Write { .. } => "check that the directory is writable".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
