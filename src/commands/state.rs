//! `passform state list | show ID | rm ID`: look into the state, or make it forget one instance.
//!
//! `rm` is the only one that writes: it takes the state lock, and the write keeps the previous
//! state as its backup, so a mistaken `rm` can be undone by restoring that file.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::StateCommand;
use crate::settings::Settings;
use crate::state::lock::StateLock;
use crate::state::{self, InstanceRecord, StateError};

use super::{Error, print_data};

/// Runs one of the `state` commands.
pub fn run(settings: &Settings, command: &StateCommand) -> Result<ExitCode, Error> {
    match command {
        StateCommand::List => list(settings),
        StateCommand::Show { id } => show(settings, id),
        StateCommand::Rm { id } => remove(settings, id),
    }
}

fn list(settings: &Settings) -> Result<ExitCode, Error> {
    let state = state::load(&settings.state_path)?;
    let mut output = String::new();
    for id in state.instances.keys() {
        let _ = writeln!(output, "{id}");
    }
    print_data(&output)?;
    Ok(ExitCode::SUCCESS)
}

fn show(settings: &Settings, id: &str) -> Result<ExitCode, Error> {
    let state = state::load(&settings.state_path)?;
    let record = state
        .instances
        .get(id)
        .ok_or_else(|| StateError::UnknownInstance { id: id.to_owned() })?;
    print_data(&describe(id, record))?;
    Ok(ExitCode::SUCCESS)
}

fn remove(settings: &Settings, id: &str) -> Result<ExitCode, Error> {
    // `state rm` has no `--lock-timeout`: it fails at once, naming the holder, when another
    // command holds the lock, since forgetting an instance can wait for a rerun.
    let _lock = StateLock::acquire(&settings.lock_path, Duration::ZERO, "state rm")?;
    let mut state = state::load(&settings.state_path)?;
    if state.instances.remove(id).is_none() {
        return Err(StateError::UnknownInstance { id: id.to_owned() }.into());
    }
    state::save(&settings.state_path, &mut state)?;
    eprintln!(
        "Removed {id} from the state; the previous state is kept in `{}`.",
        state::backup_path_for(&settings.state_path).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One instance's record, one fact per line.
pub fn describe(id: &str, record: &InstanceRecord) -> String {
    let none = || "-".to_owned();
    let facts = [
        ("region", record.region.clone()),
        ("generation", record.generation.to_string()),
        ("phase", record.phase.as_str().to_owned()),
        ("fingerprint", record.fingerprint.clone()),
        (
            "creation time",
            record.creation_time.clone().unwrap_or_else(none),
        ),
        (
            "start time at reset",
            record.start_time_at_reset.clone().unwrap_or_else(none),
        ),
        (
            "key pair at reset",
            record.key_pair_at_reset.clone().unwrap_or_else(none),
        ),
        ("reset at", record.reset_at.clone().unwrap_or_else(none)),
        (
            "effective at",
            record.effective_at.clone().unwrap_or_else(none),
        ),
    ];
    let mut output = format!("{id}\n");
    for (name, value) in facts {
        let _ = writeln!(output, "  {name:<20} {value}");
    }
    output
}
