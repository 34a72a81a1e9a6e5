//! The emulator's own model of an instance: status with timed transitions, passwords, locks.
//!
//! A transition is stored as its target status and the emulated instant it completes; the
//! status is settled lazily against the emulated clock whenever the instance is looked at
//! (see `clock`). A password set by ModifyInstanceAttribute waits as the pending password and
//! becomes the effective one when the instance next finishes `Starting`, which is also when
//! its `StartTime` moves. This module does not use the client's types in `ecs::model`, so that
//! the emulator and the client cannot share a misunderstanding.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::clock::Clock;
use super::fleet::FleetInstance;
use crate::secret::SecretString;

/// The name recorded in the history for a transition that completed on its own.
pub const TRANSITION: &str = "Transition";

/// An instance status, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being created.
    Pending,
    /// Booting after a start or a reboot.
    Starting,
    /// Running: stable.
    Running,
    /// Shutting down after a stop.
    Stopping,
    /// Stopped: stable.
    Stopped,
}

impl Status {
    /// The API's name for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Starting => "Starting",
            Status::Running => "Running",
            Status::Stopping => "Stopping",
            Status::Stopped => "Stopped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Status::Pending,
            Status::Starting,
            Status::Running,
            Status::Stopping,
            Status::Stopped,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or(())
    }
}

/// The operating system family, which decides the Windows password rule and key pair support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsType {
    /// Linux.
    Linux,
    /// Windows: no key pairs, and a password must not start with `/`.
    Windows,
}

impl OsType {
    /// The API's name for the OS type.
    pub fn as_str(self) -> &'static str {
        match self {
            OsType::Linux => "linux",
            OsType::Windows => "windows",
        }
    }
}

impl FromStr for OsType {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "linux" => Ok(OsType::Linux),
            "windows" => Ok(OsType::Windows),
            _ => Err(()),
        }
    }
}

/// A status change, for the history that tests read.
#[derive(Debug, Clone)]
pub struct Change {
    /// Emulated milliseconds since the emulator started.
    pub at_ms: u64,
    /// The instance id.
    pub instance: String,
    /// The API call that made the change, or [`TRANSITION`] when time completed it.
    pub action: String,
    /// The status before.
    pub status_from: Status,
    /// The status after.
    pub status_to: Status,
}

#[derive(Debug, Clone, Copy)]
struct Transition {
    to: Status,
    completes_at_ms: u64,
}

/// One emulated instance.
#[derive(Debug)]
pub struct Instance {
    /// The instance id.
    pub id: String,
    /// Its region.
    pub region: String,
    /// Its display name.
    pub name: String,
    /// Its operating system family.
    pub os_type: OsType,
    /// The SSH key pair bound to it. Only the name is kept: binding one does not turn
    /// password login off here, unlike on the real service (docs/limitations.md).
    pub key_pair_name: Option<String>,
    /// Its `OperationLocks` reasons.
    pub lock_reasons: Vec<String>,
    /// When it was created.
    pub creation_time: OffsetDateTime,
    /// When it last finished starting.
    pub start_time: Option<OffsetDateTime>,
    /// The password that logs in now.
    pub effective_password: Option<SecretString>,
    /// The password set but not yet in effect.
    pub pending_password: Option<SecretString>,
    status: Status,
    transition: Option<Transition>,
}

impl Instance {
    /// Builds the instance the fleet file declares, at emulated time 0; a transitional status
    /// completes after the timing its kind of transition takes.
    pub fn from_fleet(
        declared: FleetInstance,
        clock: &Clock,
        start_ms: u64,
        stop_ms: u64,
    ) -> Instance {
        let wall_at_start = clock.wall_at_start();
        let transition = match declared.status {
            Status::Pending | Status::Starting => Some(Transition {
                to: Status::Running,
                completes_at_ms: start_ms,
            }),
            Status::Stopping => Some(Transition {
                to: Status::Stopped,
                completes_at_ms: stop_ms,
            }),
            Status::Running | Status::Stopped => None,
        };
        let never_started = matches!(declared.status, Status::Pending);
        Instance {
            id: declared.id,
            region: declared.region,
            name: declared.name,
            os_type: declared.os_type,
            key_pair_name: declared.key_pair_name,
            lock_reasons: declared.lock_reasons,
            creation_time: declared
                .creation_time
                .unwrap_or(wall_at_start - time::Duration::days(30)),
            start_time: declared
                .start_time
                .or_else(|| (!never_started).then_some(wall_at_start - time::Duration::days(1))),
            effective_password: declared.password,
            pending_password: None,
            status: declared.status,
            transition,
        }
    }

    /// The status as of the last [`Instance::settle`].
    pub fn status(&self) -> Status {
        self.status
    }

    /// Brings the status up to the emulated instant `now_ms`, and returns the completed
    /// transition, if one completed.
    pub fn settle(&mut self, now_ms: u64, clock: &Clock) -> Option<Change> {
        let transition = self.transition?;
        if transition.completes_at_ms > now_ms {
            return None;
        }
        self.transition = None;
        let from = self.status;
        self.status = transition.to;
        if transition.to == Status::Running {
            self.start_time = Some(clock.wall_time(transition.completes_at_ms));
            if let Some(password) = self.pending_password.take() {
                self.effective_password = Some(password);
            }
        }
        Some(Change {
            at_ms: transition.completes_at_ms,
            instance: self.id.clone(),
            action: TRANSITION.to_owned(),
            status_from: from,
            status_to: transition.to,
        })
    }

    /// Starts a transition now: the status becomes `through` at once and `to` after
    /// `duration_ms` of emulated time. Returns the change the call made.
    pub fn begin(
        &mut self,
        action: &str,
        through: Status,
        to: Status,
        now_ms: u64,
        duration_ms: u64,
    ) -> Change {
        let from = self.status;
        self.status = through;
        self.transition = Some(Transition {
            to,
            completes_at_ms: now_ms + duration_ms,
        });
        Change {
            at_ms: now_ms,
            instance: self.id.clone(),
            action: action.to_owned(),
            status_from: from,
            status_to: through,
        }
    }

    /// Sets the status out of band (inspection endpoint): a transitional status completes after
    /// its usual timing, as it does for a fleet file's.
    pub fn force_status(
        &mut self,
        status: Status,
        now_ms: u64,
        start_ms: u64,
        stop_ms: u64,
    ) -> Change {
        let (to, duration) = match status {
            Status::Pending | Status::Starting => (Status::Running, start_ms),
            Status::Stopping => (Status::Stopped, stop_ms),
            stable => (stable, 0),
        };
        let mut change = self.begin("OutOfBand", status, to, now_ms, duration);
        if status == to {
            self.transition = None;
            change.status_to = status;
        }
        change
    }

    /// Replaces the instance by a new one with the same id, as if it had been released and
    /// created again: new `CreationTime` and `StartTime`, Running, no password at all.
    pub fn recreate(&mut self, now_ms: u64, clock: &Clock) -> Change {
        let now = clock.wall_time(now_ms);
        self.creation_time = now;
        self.start_time = Some(now);
        self.effective_password = None;
        self.pending_password = None;
        let change = self.begin("OutOfBand", Status::Running, Status::Running, now_ms, 0);
        self.transition = None;
        change
    }

    /// Returns true if `OperationLocks` holds the `security` reason.
    pub fn is_locked_for_security(&self) -> bool {
        self.lock_reasons.iter().any(|reason| reason == "security")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::fleet::Fleet;

    fn instance(status: &str, clock: &Clock) -> Instance {
        let fleet = Fleet::parse(&format!(
            "[[instance]]\nid = \"i-a\"\nregion = \"r\"\nstatus = \"{status}\"\n"
        ))
        .unwrap();
        Instance::from_fleet(fleet.instances[0].clone(), clock, 30_000, 20_000)
    }

    #[tokio::test(start_paused = true)]
    async fn reboot_makes_the_pending_password_effective_when_starting_completes() {
        let clock = Clock::start(1.0);
        let mut instance = instance("Running", &clock);
        let start_before = instance.start_time;
        instance.pending_password = Some(SecretString::from("New#Pass123"));

        let change = instance.begin(
            "RebootInstance",
            Status::Starting,
            Status::Running,
            0,
            40_000,
        );
        assert_eq!(change.status_to, Status::Starting);
        assert!(instance.settle(39_999, &clock).is_none());
        assert_eq!(instance.status(), Status::Starting);
        assert!(instance.effective_password.is_none());

        let done = instance.settle(40_000, &clock).unwrap();
        assert_eq!(
            (done.status_from, done.status_to),
            (Status::Starting, Status::Running)
        );
        assert_eq!(done.at_ms, 40_000);
        assert_eq!(
            instance
                .effective_password
                .as_ref()
                .unwrap()
                .expose_secret(),
            "New#Pass123"
        );
        assert!(instance.pending_password.is_none());
        assert!(instance.start_time > start_before);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_keeps_the_password_pending() {
        let clock = Clock::start(1.0);
        let mut instance = instance("Running", &clock);
        instance.pending_password = Some(SecretString::from("New#Pass123"));
        instance.begin("StopInstance", Status::Stopping, Status::Stopped, 0, 20_000);
        instance.settle(60_000, &clock);
        assert_eq!(instance.status(), Status::Stopped);
        assert!(instance.pending_password.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn fleet_instance_declared_starting_becomes_running_after_the_start_timing() {
        let clock = Clock::start(1.0);
        let mut instance = instance("Starting", &clock);
        assert!(instance.settle(29_000, &clock).is_none());
        assert!(instance.settle(30_000, &clock).is_some());
        assert_eq!(instance.status(), Status::Running);
    }
}
