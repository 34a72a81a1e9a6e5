//! The lock that keeps two passform commands from using the state at once.
//!
//! The lock is an operating-system lock on `.passform.lock` beside the state, so the kernel
//! releases it when its holder exits or is killed: a crash or a cancelled CI job never leaves a
//! stuck lock behind. The holder writes its pid, host, command and start time into the file so
//! that whoever waits can be told who holds it. The one case the operating system cannot settle
//! is a state on a shared filesystem whose holder sits on another host that went away; for
//! that, [`break_lock`] removes the file (`passform force-unlock`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::report::Hint;

/// How often a waiting command tries the lock again.
const RETRY_INTERVAL: Duration = Duration::from_millis(50);

/// Who holds the lock, as the holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The holder's process id.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
    /// The passform command it runs, such as `apply`.
    pub command: String,
    /// When it took the lock (RFC 3339, UTC).
    pub started_at: String,
}

impl Holder {
    /// Describes this process as a holder running `command`.
    fn current(command: &str) -> Holder {
        let started_at = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Holder {
            pid: std::process::id(),
            host: host_name(),
            command: command.to_owned(),
            started_at,
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "`passform {}` (pid {} on host {}, since {})",
            self.command, self.pid, self.host, self.started_at
        )
    }
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    file: File,
}

impl StateLock {
    /// Takes the lock at `lock_path` for `command`, waiting up to `timeout` for another holder.
    pub fn acquire(
        lock_path: &Path,
        timeout: Duration,
        command: &str,
    ) -> Result<StateLock, LockError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(|source| LockError::Open {
                path: lock_path.to_owned(),
                source,
            })?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(RETRY_INTERVAL.min(deadline - Instant::now()));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        path: lock_path.to_owned(),
                        holder: read_holder(&mut file),
                        waited: timeout,
                    });
                }
                Err(fs::TryLockError::Error(source)) => {
                    return Err(LockError::Lock {
                        path: lock_path.to_owned(),
                        source,
                    });
                }
            }
        }
        write_holder(&mut file, &Holder::current(command)).map_err(|source| LockError::Open {
            path: lock_path.to_owned(),
            source,
        })?;
        tracing::debug!(path = %lock_path.display(), "took the state lock");
        Ok(StateLock { file })
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Clearing the holder first means a stale name is never shown once the lock is free;
        // the lock itself is released when the file is closed.
        let _ = self.file.set_len(0);
    }
}

/// Whether a lock file is held, as far as this host can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockStatus {
    /// Nobody holds it.
    Free,
    /// Someone holds it; the holder is named when it wrote itself into the file.
    Held(Option<Holder>),
}

/// Finds out whether the lock at `lock_path` is held, without waiting and without taking it
/// for longer than the check.
pub fn status(lock_path: &Path) -> Result<LockStatus, LockError> {
    let mut file = match OpenOptions::new().read(true).write(true).open(lock_path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(LockStatus::Free),
        Err(source) => {
            return Err(LockError::Open {
                path: lock_path.to_owned(),
                source,
            });
        }
    };
    match file.try_lock() {
        Ok(()) => Ok(LockStatus::Free),
        Err(fs::TryLockError::WouldBlock) => Ok(LockStatus::Held(read_holder(&mut file))),
        Err(fs::TryLockError::Error(source)) => Err(LockError::Lock {
            path: lock_path.to_owned(),
            source,
        }),
    }
}

/// Breaks a lock by removing its file: the next command locks a fresh file.
///
/// This is only right when the holder is gone and the operating system cannot tell (a shared
/// filesystem whose holder was on another host); a live holder would go on as if it held it.
pub fn break_lock(lock_path: &Path) -> Result<(), LockError> {
    match fs::remove_file(lock_path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(LockError::Break {
            path: lock_path.to_owned(),
            source,
        }),
    }
}

/// Refuses to break a lock whose holder is a live process on this host: stopping that process
/// releases the lock properly, while breaking it would let two commands write at once.
pub fn refuse_live_local_holder(lock_path: &Path, holder: &Holder) -> Result<(), LockError> {
    let alive = Path::new("/proc").join(holder.pid.to_string()).exists();
    if holder.host == host_name() && alive {
        return Err(LockError::HolderAlive {
            path: lock_path.to_owned(),
            holder: holder.clone(),
        });
    }
    Ok(())
}

fn write_holder(file: &mut File, holder: &Holder) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(holder).map_err(io::Error::other)?;
    text.push('\n');
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The holder named in the file, if it wrote itself there.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// This host's name, for telling the holder's host apart from ours.
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `, waited 2.5s` for an error message, or nothing when the command did not wait.
fn waited_words(waited: Duration) -> String {
    if waited.is_zero() {
        String::new()
    } else if waited < Duration::from_secs(1) {
        format!(", waited {}ms", waited.as_millis())
    } else {
        format!(", waited {}s", waited.as_secs_f64())
    }
}

/// What can go wrong taking or breaking the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be opened or written.
    #[error("could not open the lock file `{}`", path.display())]
    Open {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The operating system refused to lock the file.
    #[error("could not lock `{}`", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Another command holds the lock.
    #[error(
        "the state is locked by {} (lock file `{}`{})",
        holder.as_ref().map_or_else(|| "another passform command".to_owned(), ToString::to_string),
        path.display(),
        waited_words(*waited)
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, if it said so.
        holder: Option<Holder>,
        /// How long this command waited.
        waited: Duration,
    },
    /// The holder is a live process on this host, which the operating system can settle.
    #[error("the lock `{}` is held by {holder}, which is running on this host", path.display())]
    HolderAlive {
        /// The lock file.
        path: PathBuf,
        /// Who holds it.
        holder: Holder,
    },
    /// The lock file could not be removed.
    #[error("could not remove the lock file `{}`", path.display())]
    Break {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Hint for LockError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Open { .. } | Self::Break { .. } => {
                Some("check that the state's directory exists and is writable by you".to_owned())
            }
            Self::Lock { .. } => Some(
                "the filesystem may not support locks; keep the state on a local disk".to_owned(),
            ),
            Self::Held { .. } => Some(
                "wait for that command to finish, or pass --lock-timeout to wait longer (plan \
                 and apply take it); if its host is gone and the state is on a shared \
                 filesystem, run `passform force-unlock`"
                    .to_owned(),
            ),
            Self::HolderAlive { holder, .. } => Some(format!(
                "wait for it to finish, or stop it (`kill {}`): the lock is released when it exits",
                holder.pid
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_naming_the_holder_after_the_timeout() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(".passform.lock");
        let _held = StateLock::acquire(&path, Duration::ZERO, "apply").unwrap();
        let error = StateLock::acquire(&path, Duration::from_millis(120), "plan").unwrap_err();
        let LockError::Held { holder, waited, .. } = &error else {
            panic!("expected a held lock, got {error:?}");
        };
        let holder = holder.as_ref().expect("the holder names itself");
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.command, "apply");
        assert_eq!(*waited, Duration::from_millis(120));
        assert!(error.to_string().contains("`passform apply` (pid "));
        assert!(error.hint().unwrap().contains("--lock-timeout"));
    }

    #[test]
    fn lock_in_a_missing_directory_is_an_error_with_a_hint() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing").join(".passform.lock");
        let error = StateLock::acquire(&path, Duration::ZERO, "plan").unwrap_err();
        assert!(matches!(error, LockError::Open { .. }));
        assert!(error.hint().unwrap().contains("exists and is writable"));
    }

    #[test]
    fn dropping_the_lock_frees_it_and_clears_the_holder() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(".passform.lock");
        drop(StateLock::acquire(&path, Duration::ZERO, "apply").unwrap());
        assert_eq!(status(&path).unwrap(), LockStatus::Free);
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        StateLock::acquire(&path, Duration::ZERO, "plan").unwrap();
    }

    #[test]
    fn status_names_a_live_holder_and_breaking_removes_the_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(".passform.lock");
        assert_eq!(status(&path).unwrap(), LockStatus::Free);
        let _held = StateLock::acquire(&path, Duration::ZERO, "apply").unwrap();
        let LockStatus::Held(Some(holder)) = status(&path).unwrap() else {
            panic!("the lock should be held");
        };
        assert_eq!(holder.command, "apply");
        break_lock(&path).unwrap();
        assert!(!path.exists());
        StateLock::acquire(&path, Duration::ZERO, "plan").unwrap();
    }
}
