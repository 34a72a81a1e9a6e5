//! `passform force-unlock`: break a lock the operating system cannot release.
//!
//! The kernel releases passform's lock when its holder dies, so this is only needed when the
//! state sits on a shared filesystem and the holder ran on another host that went away. It says
//! what it is about to break before breaking it, and refuses when the holder is a live process
//! on this very host, which should be stopped instead.

use std::process::ExitCode;

use crate::settings::Settings;
use crate::state::lock::{self, LockStatus};

use super::Error;

/// Runs `passform force-unlock`.
pub fn run(settings: &Settings) -> Result<ExitCode, Error> {
    let path = &settings.lock_path;
    match lock::status(path)? {
        LockStatus::Free => {
            eprintln!(
                "The state is not locked (`{}`); nothing to do.",
                path.display()
            );
        }
        LockStatus::Held(holder) => {
            if let Some(holder) = &holder {
                lock::refuse_live_local_holder(path, holder)?;
            }
            let who = holder.map_or_else(
                || "an unnamed command".to_owned(),
                |holder| holder.to_string(),
            );
            eprintln!(
                "Breaking the lock `{}` held by {who}. If that command still runs, it goes on \
                 as if it held the lock.",
                path.display()
            );
            lock::break_lock(path)?;
            eprintln!("The lock is broken.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
