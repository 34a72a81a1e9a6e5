//! Reading and writing the state file.
//!
//! A write never leaves a half-written state behind: the new state goes to a temporary file in
//! the same directory, is flushed to disk, and then renamed over the old one, and the directory
//! itself is flushed so that the rename survives a power cut. Before the rename, the previous
//! state is kept as `<state>.backup` (a hard link, so keeping it costs nothing). A crash at any
//! moment leaves either the old state or the new one in place, never a mix and never nothing.
//!
//! A state that cannot be read, does not parse, or comes from a newer passform is an error, and
//! nothing here writes over a file it could not read.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rand::RngCore;

use super::{STATE_VERSION, State, StateError};
use crate::atomic_file;

/// Reads the state at `path`; a missing file is an empty state with a new lineage.
pub fn load(path: &Path) -> Result<State, StateError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(State::new()),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    parse(path, &text)
}

/// Parses state text, checking the version before the shape so that a newer format is reported
/// as newer rather than as corrupt.
fn parse(path: &Path, text: &str) -> Result<State, StateError> {
    let corrupt = |source| StateError::Corrupt {
        path: path.to_owned(),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(corrupt)?;
    if let Some(found) = value.get("version").and_then(serde_json::Value::as_u64)
        && found != u64::from(STATE_VERSION)
    {
        return Err(StateError::UnsupportedVersion {
            path: path.to_owned(),
            found,
            supported: STATE_VERSION,
        });
    }
    serde_json::from_value(value).map_err(corrupt)
}

/// Raises the serial and writes the state atomically, keeping the previous file as a backup.
///
/// On error the serial is left raised, the file on disk is the previous state, and no
/// temporary file remains.
pub fn save(path: &Path, state: &mut State) -> Result<(), StateError> {
    state.serial += 1;
    let write_error = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let text = render(state);
    atomic_file::replace_after(path, text.as_bytes(), ".passform.state.", || {
        keep_backup(path)
    })
    .map_err(write_error)
}

/// The state as it is written: pretty JSON in a stable key order with a trailing newline, so a
/// change reads well in a diff.
fn render(state: &State) -> String {
    let mut text = serde_json::to_string_pretty(state).expect("the state always serializes");
    text.push('\n');
    text
}

/// Where the previous version of a state file is kept.
pub fn backup_path_for(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".backup");
    path.with_file_name(name)
}

/// Keeps the current state file (if any) as the backup, replacing the backup atomically.
fn keep_backup(path: &Path) -> io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let backup = backup_path_for(path);
    let staging = tempfile::Builder::new()
        .prefix(".passform.backup.")
        .suffix(".tmp")
        .make_in(atomic_file::directory_of(path), |staging| {
            // A hard link costs nothing whatever the state's size; a copy is the fallback for
            // filesystems without links.
            fs::hard_link(path, staging).or_else(|_| fs::copy(path, staging).map(drop))
        })?;
    staging
        .persist(&backup)
        .map(drop)
        .map_err(|error| error.error)
}

/// A random lineage in the familiar UUID (version 4) form.
pub(super) fn new_lineage() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{InstanceRecord, Phase};

    /// The names of the files in `directory`, sorted.
    fn file_names(directory: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    fn record(generation: u64) -> InstanceRecord {
        InstanceRecord {
            region: "cn-hangzhou".to_owned(),
            generation,
            fingerprint: "f1".to_owned(),
            phase: Phase::Effective,
            creation_time: Some("2026-01-01T00:00Z".to_owned()),
            start_time_at_reset: None,
            key_pair_at_reset: None,
            reset_at: None,
            effective_at: None,
        }
    }

    #[test]
    fn missing_state_loads_as_empty_with_a_fresh_lineage() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        let first = load(&path).unwrap();
        let second = load(&path).unwrap();
        assert_eq!(first.serial, 0);
        assert!(first.instances.is_empty());
        assert_eq!(first.lineage.len(), 36);
        assert_ne!(first.lineage, second.lineage);
        assert!(!path.exists(), "loading must not create the file");
    }

    #[test]
    fn save_raises_the_serial_and_keeps_the_lineage() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        let mut state = load(&path).unwrap();
        let lineage = state.lineage.clone();
        save(&path, &mut state).unwrap();
        state.instances.insert("i-1".to_owned(), record(1));
        save(&path, &mut state).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.serial, 2);
        assert_eq!(loaded.lineage, lineage);
        assert_eq!(loaded, state);
    }

    #[test]
    fn state_file_is_pretty_stable_json_with_a_trailing_newline() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        let mut state = State::new();
        state.lineage = "lineage-1".to_owned();
        state.instances.insert("i-b".to_owned(), record(2));
        state.instances.insert("i-a".to_owned(), record(1));
        save(&path, &mut state).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"lineage\": \"lineage-1\",\n"));
        assert!(text.ends_with("}\n"));
        assert!(text.find("\"i-a\"").unwrap() < text.find("\"i-b\"").unwrap());
        let mut again = load(&path).unwrap();
        again.serial -= 1;
        save(&path, &mut again).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn save_keeps_the_previous_state_as_a_backup_and_leaves_no_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        let mut state = State::new();
        save(&path, &mut state).unwrap();
        let first = fs::read_to_string(&path).unwrap();
        state.instances.insert("i-1".to_owned(), record(1));
        save(&path, &mut state).unwrap();
        assert_eq!(fs::read_to_string(backup_path_for(&path)).unwrap(), first);
        assert_eq!(
            file_names(directory.path()),
            ["passform.state.json", "passform.state.json.backup"]
        );
    }

    #[test]
    fn corrupt_state_is_an_error_with_a_hint_and_is_not_overwritten() {
        use crate::report::Hint;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        fs::write(&path, "{\"version\": 1, \"lineage\": ").unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, StateError::Corrupt { .. }));
        assert!(error.hint().unwrap().contains("passform.state.json.backup"));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "{\"version\": 1, \"lineage\": "
        );
    }

    #[test]
    fn state_from_a_newer_passform_is_refused_with_an_upgrade_hint() {
        use crate::report::Hint;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        fs::write(&path, "{\"version\": 2, \"lineage\": \"x\", \"new\": []}").unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(
            error,
            StateError::UnsupportedVersion { found: 2, .. }
        ));
        assert!(error.hint().unwrap().contains("upgrade passform"));
    }

    #[test]
    fn unreadable_state_is_a_read_error() {
        let directory = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read as text.
        let path = directory.path().join("passform.state.json");
        fs::create_dir(&path).unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, StateError::Read { .. }));
        assert!(
            crate::report::Hint::hint(&error)
                .unwrap()
                .contains("readable")
        );
    }

    #[test]
    fn write_into_a_missing_directory_is_an_error_with_a_hint() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory
            .path()
            .join("missing-directory")
            .join("state.json");
        let mut state = State::new();
        let error = save(&path, &mut state).unwrap_err();
        assert!(matches!(error, StateError::Write { .. }));
        assert!(
            crate::report::Hint::hint(&error)
                .unwrap()
                .contains("writable")
        );
    }

    #[test]
    fn failed_write_leaves_the_previous_state_intact_and_no_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("passform.state.json");
        let mut state = State::new();
        state.instances.insert("i-1".to_owned(), record(1));
        save(&path, &mut state).unwrap();
        let previous = fs::read_to_string(&path).unwrap();
        // A non-empty directory where the backup goes makes the write fail after the new state
        // is on disk in its temporary file but before it replaces the old one.
        let backup = backup_path_for(&path);
        fs::create_dir(&backup).unwrap();
        fs::write(backup.join("keep"), "").unwrap();

        state.instances.insert("i-2".to_owned(), record(1));
        let error = save(&path, &mut state).unwrap_err();
        assert!(matches!(error, StateError::Write { .. }));
        assert_eq!(fs::read_to_string(&path).unwrap(), previous);
        assert_eq!(
            file_names(directory.path()),
            ["passform.state.json", "passform.state.json.backup"]
        );
    }
}
