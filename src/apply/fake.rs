//! An in-memory fleet that answers apply's calls like ECS does, for unit tests under paused
//! tokio time.
//!
//! Statuses move with tokio's clock (a reboot or a start takes [`RESTART_TIME`]), a password
//! set while an instance is up is pending until it next starts, and every call is kept with the
//! time it arrived and the phase the journal showed for its instances at that moment. Faults
//! are injected per action: refuse, or lose the answer before or after the change is made.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::api::{CallFailure, INCORRECT_STATUS, InstanceApi, RestartResult};
use super::journal::Journal;
use crate::ecs::model::{InstanceStatus, LiveInstance, OsType};
use crate::secret::SecretString;
use crate::state::{Phase, State, StateError};

/// How long a reboot or a start takes in the fake fleet.
pub const RESTART_TIME: Duration = Duration::from_secs(40);

/// The API actions the fake answers.
pub const DESCRIBE: &str = "DescribeInstances";
pub const RESET: &str = "ModifyInstanceAttribute";
pub const REBOOT: &str = "RebootInstances";
pub const START: &str = "StartInstances";

/// One call the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// Time since the fleet was made.
    pub at: Duration,
    pub action: &'static str,
    pub region: String,
    pub ids: Vec<String>,
    /// The phase the journal last recorded for the first instance, when the call arrived.
    pub recorded_phase: Option<Phase>,
}

/// A fault to inject into the next `count` calls of an action.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this error code; change nothing.
    Refuse(&'static str),
    /// Make the change, then lose the answer.
    LoseAfterCommit,
    /// Lose the call: change nothing, answer nothing.
    LoseBeforeCommit,
}

#[derive(Debug)]
pub struct FakeInstance {
    pub region: String,
    pub status: InstanceStatus,
    /// When a transitional status ends, and what it becomes.
    pub settles: Option<(Instant, InstanceStatus)>,
    pub starts: u32,
    pub effective_password: Option<String>,
    pub pending_password: Option<String>,
}

#[derive(Debug)]
struct InjectedFault {
    action: &'static str,
    instance: Option<String>,
    fault: Fault,
    count: u32,
}

#[derive(Debug)]
struct Fleet {
    epoch: Instant,
    instances: BTreeMap<String, FakeInstance>,
    calls: Vec<Call>,
    faults: Vec<InjectedFault>,
    restart_time: Duration,
    journal: Arc<Mutex<Vec<State>>>,
}

/// The fake fleet; clones share it.
#[derive(Debug, Clone)]
pub struct FakeCloud {
    fleet: Arc<Mutex<Fleet>>,
}

impl FakeCloud {
    /// An empty fleet that reads the phases a [`MemoryJournal`] records.
    pub fn new(journal: &MemoryJournal) -> Self {
        let fleet = Fleet {
            epoch: Instant::now(),
            instances: BTreeMap::new(),
            calls: Vec::new(),
            faults: Vec::new(),
            restart_time: RESTART_TIME,
            journal: journal.snapshots.clone(),
        };
        Self {
            fleet: Arc::new(Mutex::new(fleet)),
        }
    }

    /// Adds an instance in `status`.
    pub fn add(&self, id: &str, region: &str, status: InstanceStatus) {
        let settles = match status {
            InstanceStatus::Starting | InstanceStatus::Pending => {
                Some((Instant::now() + RESTART_TIME, InstanceStatus::Running))
            }
            InstanceStatus::Stopping => {
                Some((Instant::now() + RESTART_TIME, InstanceStatus::Stopped))
            }
            _ => None,
        };
        let instance = FakeInstance {
            region: region.to_owned(),
            status,
            settles,
            starts: 1,
            effective_password: Some("Initial#Pass1".to_owned()),
            pending_password: None,
        };
        self.lock().instances.insert(id.to_owned(), instance);
    }

    /// Keeps an instance in a transitional status for good.
    pub fn stick(&self, id: &str, status: InstanceStatus) {
        let mut fleet = self.lock();
        let instance = fleet.instances.get_mut(id).expect("instance in fleet");
        instance.status = status;
        instance.settles = None;
    }

    /// Injects `fault` into the next `count` calls of `action`.
    pub fn inject(&self, action: &'static str, fault: Fault, count: u32) {
        self.lock().faults.push(InjectedFault {
            action,
            instance: None,
            fault,
            count,
        });
    }

    /// Injects `fault` into the next `count` calls of `action` that concern `instance`.
    pub fn inject_for(&self, instance: &str, action: &'static str, fault: Fault, count: u32) {
        self.lock().faults.push(InjectedFault {
            action,
            instance: Some(instance.to_owned()),
            fault,
            count,
        });
    }

    /// Makes every later reboot and start take `duration`.
    pub fn set_restart_time(&self, duration: Duration) {
        self.lock().restart_time = duration;
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The calls of one action.
    pub fn calls_of(&self, action: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|call| call.action == action)
            .collect()
    }

    /// An instance's status, effective and pending password now.
    pub fn instance(&self, id: &str) -> (InstanceStatus, Option<String>, Option<String>) {
        let mut fleet = self.lock();
        let now = Instant::now();
        let instance = fleet.instances.get_mut(id).expect("instance in fleet");
        settle(instance, now);
        (
            instance.status,
            instance.effective_password.clone(),
            instance.pending_password.clone(),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fleet> {
        self.fleet.lock().expect("fleet lock")
    }

    /// Logs the call and takes the fault due for it, if any.
    fn arrive(&self, action: &'static str, region: &str, ids: &[String]) -> Option<Fault> {
        let mut fleet = self.lock();
        let recorded_phase = fleet
            .journal
            .lock()
            .expect("journal lock")
            .last()
            .and_then(|state| ids.first().and_then(|id| state.instances.get(id)))
            .map(|record| record.phase);
        let at = Instant::now() - fleet.epoch;
        fleet.calls.push(Call {
            at,
            action,
            region: region.to_owned(),
            ids: ids.to_vec(),
            recorded_phase,
        });
        let due = fleet.faults.iter_mut().find(|injected| {
            injected.action == action
                && injected.count > 0
                && injected.instance.as_ref().is_none_or(|id| ids.contains(id))
        })?;
        due.count -= 1;
        Some(due.fault.clone())
    }

    /// Runs `change` under `fault`: refused, lost before or after it, or answered.
    fn with_fault<T>(
        &self,
        fault: Option<Fault>,
        change: impl FnOnce(&mut Fleet, Instant) -> Result<T, CallFailure>,
    ) -> Result<T, CallFailure> {
        match fault {
            Some(Fault::Refuse(code)) => Err(refused(code)),
            Some(Fault::LoseBeforeCommit) => Err(lost()),
            Some(Fault::LoseAfterCommit) => {
                let _ = change(&mut self.lock(), Instant::now());
                Err(lost())
            }
            None => change(&mut self.lock(), Instant::now()),
        }
    }

    fn restart(
        &self,
        action: &'static str,
        region: &str,
        ids: &[String],
        from: InstanceStatus,
    ) -> Result<Vec<RestartResult>, CallFailure> {
        let fault = self.arrive(action, region, ids);
        self.with_fault(fault, |fleet, now| {
            let restart_time = fleet.restart_time;
            Ok(ids
                .iter()
                .map(|id| {
                    let result = match fleet.instances.get_mut(id) {
                        Some(instance) => {
                            settle(instance, now);
                            if instance.status == from {
                                instance.status = InstanceStatus::Starting;
                                instance.settles =
                                    Some((now + restart_time, InstanceStatus::Running));
                                Ok(())
                            } else {
                                Err(refused(INCORRECT_STATUS))
                            }
                        }
                        None => Err(refused("InvalidInstanceId.NotFound")),
                    };
                    (id.clone(), result)
                })
                .collect())
        })
    }
}

impl InstanceApi for FakeCloud {
    async fn describe(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<LiveInstance>, CallFailure> {
        let fault = self.arrive(DESCRIBE, region, ids);
        self.with_fault(fault, |fleet, now| {
            Ok(ids
                .iter()
                .filter_map(|id| {
                    let instance = fleet.instances.get_mut(id)?;
                    settle(instance, now);
                    Some(live(id, instance))
                })
                .collect())
        })
    }

    async fn reset_password(
        &self,
        region: &str,
        id: &str,
        password: &SecretString,
    ) -> Result<(), CallFailure> {
        let fault = self.arrive(RESET, region, &[id.to_owned()]);
        self.with_fault(fault, |fleet, now| {
            let instance = fleet
                .instances
                .get_mut(id)
                .ok_or_else(|| refused("InvalidInstanceId.NotFound"))?;
            settle(instance, now);
            if instance.status == InstanceStatus::Starting {
                return Err(refused(INCORRECT_STATUS));
            }
            instance.pending_password = Some(password.expose_secret().to_owned());
            Ok(())
        })
    }

    async fn reboot(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartResult>, CallFailure> {
        self.restart(REBOOT, region, ids, InstanceStatus::Running)
    }

    async fn start(&self, region: &str, ids: &[String]) -> Result<Vec<RestartResult>, CallFailure> {
        self.restart(START, region, ids, InstanceStatus::Stopped)
    }
}

/// Ends a transitional status whose time has come; a start makes a pending password effective.
fn settle(instance: &mut FakeInstance, now: Instant) {
    let Some((at, status)) = instance.settles else {
        return;
    };
    if now < at {
        return;
    }
    if instance.status == InstanceStatus::Starting {
        instance.starts += 1;
        if let Some(password) = instance.pending_password.take() {
            instance.effective_password = Some(password);
        }
    }
    instance.status = status;
    instance.settles = None;
}

fn live(id: &str, instance: &FakeInstance) -> LiveInstance {
    LiveInstance {
        id: id.to_owned(),
        region: instance.region.clone(),
        name: id.to_owned(),
        status: instance.status,
        os_type: OsType::Linux,
        creation_time: "2026-01-01T00:00Z".to_owned(),
        start_time: Some(format!("2026-01-{:02}T00:00Z", instance.starts)),
        key_pair_name: None,
        locked_for_security: false,
    }
}

fn refused(code: &str) -> CallFailure {
    CallFailure::Refused {
        code: code.to_owned(),
        message: "refused by the fake fleet".to_owned(),
    }
}

fn lost() -> CallFailure {
    CallFailure::Unanswered("connection closed before an answer".to_owned())
}

/// A journal that keeps every state it is given, shared with the fake fleet.
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    pub snapshots: Arc<Mutex<Vec<State>>>,
}

impl MemoryJournal {
    /// The phases recorded for an instance, in order, without repeats.
    pub fn phases(&self, id: &str) -> Vec<Option<Phase>> {
        let mut phases: Vec<Option<Phase>> = Vec::new();
        for state in self.snapshots.lock().expect("journal lock").iter() {
            let phase = state.instances.get(id).map(|record| record.phase);
            if phases.last() != Some(&phase) {
                phases.push(phase);
            }
        }
        phases
    }
}

impl Journal for MemoryJournal {
    fn record(&mut self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        self.snapshots
            .lock()
            .expect("journal lock")
            .push(state.clone());
        Ok(())
    }
}
