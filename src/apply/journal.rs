//! Where apply records its steps: the state file, written before and after every API step.
//!
//! Apply mutates its in-memory [`State`] and hands it to a [`Journal`] at each step. The state
//! file journal saves atomically (state::save), so a crash leaves either the state before a
//! step or the state after it, never a torn file. Tests use their own journal to observe the
//! order of records and API calls.

use std::path::PathBuf;

use crate::state::{self, State, StateError};

/// Receives the state after each change apply makes to it.
pub trait Journal {
    /// Makes `state` durable before apply takes its next step.
    fn record(&mut self, state: &mut State) -> Result<(), StateError>;
}

/// The journal of a real run: the state file itself.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// A journal that saves to the state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl Journal for StateFile {
    fn record(&mut self, state: &mut State) -> Result<(), StateError> {
        state::save(&self.path, state)
    }
}
