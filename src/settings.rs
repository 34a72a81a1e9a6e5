//! Global options resolved into the settings every command runs with.
//!
//! Precedence is settled here and only here: a flag beats its environment twin (clap reads
//! both), which beats a default. The one default that needs the environment, the user's
//! identity file, is found here too.

use std::path::{Path, PathBuf};

use crate::cli::GlobalArgs;

/// The name of the lock file, kept beside the state file.
pub const LOCK_FILE_NAME: &str = ".passform.lock";

/// The settings shared by every command, after precedence is applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The encrypted desired document.
    pub document_path: PathBuf,
    /// The state file.
    pub state_path: PathBuf,
    /// The lock file guarding the state.
    pub lock_path: PathBuf,
    /// Identity files to try, in order.
    pub identities: Vec<PathBuf>,
    /// Returns true when no identity was given and the user's default file is used.
    pub identity_is_default: bool,
    /// The endpoint that replaces every regional one, if any.
    pub endpoint: Option<String>,
    /// The aliyun CLI profile to read credentials from, if named.
    pub profile: Option<String>,
}

impl Settings {
    /// Applies defaults to what the user typed.
    pub fn resolve(global: &GlobalArgs) -> Settings {
        let identity_is_default = global.identities.is_empty();
        let identities = if identity_is_default {
            default_identity_path().into_iter().collect()
        } else {
            global.identities.clone()
        };
        Settings {
            document_path: global.file.clone(),
            state_path: global.state.clone(),
            lock_path: lock_path_for(&global.state),
            identities,
            identity_is_default,
            endpoint: global
                .endpoint
                .clone()
                .filter(|endpoint| !endpoint.is_empty()),
            profile: global.profile.clone().filter(|profile| !profile.is_empty()),
        }
    }
}

/// The lock file that guards a state file: `.passform.lock` in the same directory.
pub fn lock_path_for(state_path: &Path) -> PathBuf {
    match state_path.parent() {
        Some(directory) if !directory.as_os_str().is_empty() => directory.join(LOCK_FILE_NAME),
        _ => PathBuf::from(LOCK_FILE_NAME),
    }
}

/// The user's passform identity file: `$XDG_CONFIG_HOME/passform/identity.txt`, or
/// `~/.config/passform/identity.txt` when `XDG_CONFIG_HOME` is unset.
pub fn default_identity_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("passform").join("identity.txt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_sits_beside_the_state_file() {
        assert_eq!(
            lock_path_for(Path::new("passform.state.json")),
            PathBuf::from(LOCK_FILE_NAME)
        );
        assert_eq!(
            lock_path_for(Path::new("infra/passform.state.json")),
            PathBuf::from("infra").join(LOCK_FILE_NAME)
        );
    }
}
