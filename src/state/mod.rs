//! The state: what passform has done to each instance, in `passform.state.json`.
//!
//! The state holds generations, password fingerprints and phases, never a password or the
//! seed, so it is safe to commit. This module owns its format ([`State`]), how it is read and
//! written ([`load`], [`save`]: atomic, with a backup of the previous version) and the lock that
//! keeps two passform commands from writing it at once ([`lock`]). It does not decide what to
//! do next: that is the planner's job.

pub mod lock;
mod store;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::report::Hint;

pub use store::{backup_path_for, load, save};

/// The state format this passform writes.
pub const STATE_VERSION: u32 = 1;

/// Where an instance's password stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// A reset was sent and its answer not yet recorded.
    Resetting,
    /// The password is set but not effective until the instance next starts.
    Reset,
    /// The password is in effect.
    Effective,
}

impl Phase {
    /// The word the state file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resetting => "resetting",
            Self::Reset => "reset",
            Self::Effective => "effective",
        }
    }
}

/// What the state records for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceRecord {
    /// The instance's region.
    pub region: String,
    /// The generation last applied.
    pub generation: u64,
    /// HMAC-SHA256 fingerprint of the applied password, under a key derived from the seed.
    pub fingerprint: String,
    /// Where the applied password stands.
    pub phase: Phase,
    /// The instance's `CreationTime` when it was reset, to notice a re-created instance.
    pub creation_time: Option<String>,
    /// The instance's `StartTime` when it was reset, to notice a later start.
    pub start_time_at_reset: Option<String>,
    /// The key pair bound at reset time.
    pub key_pair_at_reset: Option<String>,
    /// When the reset was sent.
    pub reset_at: Option<String>,
    /// When the password was seen in effect.
    pub effective_at: Option<String>,
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The format version.
    pub version: u32,
    /// Made once when the state is created; a saved plan is bound to it.
    pub lineage: String,
    /// Raised on every write; a saved plan is bound to it.
    pub serial: u64,
    /// Records keyed by instance id.
    pub instances: BTreeMap<String, InstanceRecord>,
}

impl State {
    /// An empty state with a lineage of its own, for a repository passform has not touched.
    pub fn new() -> State {
        State {
            version: STATE_VERSION,
            lineage: store::new_lineage(),
            serial: 0,
            instances: BTreeMap::new(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// What can go wrong reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state file exists but could not be read.
    #[error("could not read the state file `{}`", path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not a passform state.
    #[error("the state file `{}` is corrupt", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What the parser found.
        #[source]
        source: serde_json::Error,
    },
    /// The state file was written by a newer passform.
    #[error(
        "the state file `{}` has format version {found}; this passform reads version {supported}",
        path.display()
    )]
    UnsupportedVersion {
        /// The state file.
        path: PathBuf,
        /// The version the file declares.
        found: u64,
        /// The version this passform reads and writes.
        supported: u32,
    },
    /// The state file could not be written.
    #[error("could not write the state file `{}`", path.display())]
    Write {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state records nothing for an instance the user named.
    #[error("the state records no instance `{id}`")]
    UnknownInstance {
        /// The id the user gave.
        id: String,
    },
}

impl Hint for StateError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Read { .. } => {
                "check that the file is readable by you; passform leaves it untouched".to_owned()
            }
            Self::Corrupt { path, .. } => format!(
                "restore it from version control or from its backup `{}`; passform will not \
                 overwrite it",
                backup_path_for(path).display()
            ),
            Self::UnsupportedVersion {
                found, supported, ..
            } if *found > u64::from(*supported) => {
                "upgrade passform: a newer version wrote this state, and passform will not \
                 overwrite it"
                    .to_owned()
            }
            Self::UnsupportedVersion { .. } => {
                "restore the state from version control; passform will not overwrite it".to_owned()
            }
            Self::Write { .. } => {
                "check that the state's directory is writable and the disk has space; the \
                 previous state is intact"
                    .to_owned()
            }
            Self::UnknownInstance { .. } => {
                "run `passform state list` to see the recorded instances".to_owned()
            }
        })
    }
}
