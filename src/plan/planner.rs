//! The planner: desired, recorded and live facts in, one [`Change`] per instance out.
//!
//! It is a pure function: no I/O, no clock, no randomness, so the same inputs give the same plan
//! and every case is tested directly. The order of the checks matters and is the order a
//! careful operator would follow: can the instance be touched at all (found, not locked, a
//! password its OS accepts); then what it needs (a reset, a restart to make an earlier reset
//! effective, or nothing); then whether it is settled enough to do it now.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::document::RestartPolicy;
use crate::ecs::model::{InstanceStatus, LiveInstance, OsType};
use crate::state::{InstanceRecord, Phase, State};

use super::{Action, Change, Desired, GenerationChange, Plan, PlanError, Restart};

/// The live facts the planner reads: what DescribeInstances returned, and the regions in which
/// none of the requested instances came back (probably a permission problem).
#[derive(Debug, Clone, Copy)]
pub struct LiveView<'a> {
    /// Live instances by id.
    pub instances: &'a BTreeMap<String, LiveInstance>,
    /// Regions where no requested instance came back.
    pub suspect_regions: &'a BTreeSet<String>,
}

/// Computes the plan for the declared instances (or only `targets`, when any are given).
pub fn compute(
    desired: &[Desired],
    state: &State,
    live: LiveView<'_>,
    targets: &[String],
) -> Result<Plan, PlanError> {
    check_targets(desired, state, targets)?;
    let targeted = |id: &str| targets.is_empty() || targets.iter().any(|target| target == id);

    let mut changes = Vec::with_capacity(desired.len());
    for instance in desired.iter().filter(|instance| targeted(&instance.id)) {
        let record = state.instances.get(&instance.id);
        check_password_history(instance, record)?;
        changes.push(plan_declared(instance, record, live));
    }

    let declared: HashSet<&str> = desired
        .iter()
        .map(|instance| instance.id.as_str())
        .collect();
    for (id, record) in &state.instances {
        if !declared.contains(id.as_str()) && targeted(id) {
            changes.push(forget(id, record));
        }
    }

    changes.sort_by(|left, right| order_key(left).cmp(&order_key(right)));
    Ok(Plan {
        changes,
        partial: !targets.is_empty(),
    })
}

/// Forgotten instances come last; the rest go by wave, then region, then id.
fn order_key(change: &Change) -> (bool, u32, &str, &str) {
    (
        change.action == Action::Forget,
        change.wave,
        &change.region,
        &change.instance,
    )
}

fn check_targets(desired: &[Desired], state: &State, targets: &[String]) -> Result<(), PlanError> {
    for target in targets {
        let declared = desired.iter().any(|instance| &instance.id == target);
        if !declared && !state.instances.contains_key(target) {
            return Err(PlanError::UnknownTarget { id: target.clone() });
        }
    }
    Ok(())
}

/// A generation may only go up, and a new password needs a new generation.
fn check_password_history(
    instance: &Desired,
    record: Option<&InstanceRecord>,
) -> Result<(), PlanError> {
    let Some(record) = record else {
        return Ok(());
    };
    if instance.generation < record.generation {
        return Err(PlanError::GenerationLowered {
            instance: instance.id.clone(),
            declared: instance.generation,
            applied: record.generation,
        });
    }
    let settled = record.phase != Phase::Resetting;
    if instance.generation == record.generation
        && settled
        && instance.fingerprint != record.fingerprint
    {
        return Err(PlanError::PasswordChangedWithoutRaise {
            instance: instance.id.clone(),
            generation: instance.generation,
        });
    }
    Ok(())
}

/// What an instance needs, before asking whether it can get it now.
enum Need {
    Reset(String),
    Restart(String),
    Nothing(String),
}

fn plan_declared(
    instance: &Desired,
    record: Option<&InstanceRecord>,
    live: LiveView<'_>,
) -> Change {
    let found = live.instances.get(&instance.id);
    let mut change = Change {
        instance: instance.id.clone(),
        region: instance.region.clone(),
        name: found
            .map(|found| found.name.clone())
            .filter(|name| !name.is_empty()),
        action: Action::None,
        generation: GenerationChange {
            from: record.map(|record| record.generation),
            to: Some(instance.generation),
        },
        restart: Restart::None,
        status: found.map(|found| found.status),
        wave: instance.wave,
        reason: String::new(),
        warnings: Vec::new(),
    };
    let Some(found) = found else {
        change.action = Action::Blocked;
        change.reason = not_found_reason(instance, record, live);
        return change;
    };
    if let Some(reason) = obstacle(instance, found) {
        change.action = Action::Blocked;
        change.reason = reason;
        return change;
    }

    match need(instance, record, found) {
        Need::Reset(why) => settle_reset(&mut change, instance, found, why),
        Need::Restart(why) => settle_restart(&mut change, instance, found, why),
        Need::Nothing(why) => change.reason = why,
    }
    if change.action != Action::Reset
        && let Some(warning) = key_pair_warning(record, found)
    {
        change.warnings.push(warning);
    }
    change
}

fn not_found_reason(
    instance: &Desired,
    record: Option<&InstanceRecord>,
    live: LiveView<'_>,
) -> String {
    let region = &instance.region;
    if live.suspect_regions.contains(region) {
        format!(
            "no declared instance came back from region {region}: the credentials may not be \
             allowed to read it, so apply leaves this instance and its record alone"
        )
    } else if record.is_some() {
        format!(
            "not found in region {region}: it may have been released; remove it from the \
             document and the next apply forgets it"
        )
    } else {
        format!("not found in region {region}: check its id and region in the document")
    }
}

/// Why apply cannot touch a found instance, if it cannot.
fn obstacle(instance: &Desired, found: &LiveInstance) -> Option<String> {
    if found.locked_for_security {
        return Some(
            "the instance is locked for security, which refuses password resets and restarts; \
             have the lock lifted in the ECS console first"
                .to_owned(),
        );
    }
    if found.os_type == OsType::Windows && instance.password_starts_with_slash {
        return Some(
            "Windows refuses a password that starts with `/`; change this instance's password \
             in the document"
                .to_owned(),
        );
    }
    None
}

fn need(instance: &Desired, record: Option<&InstanceRecord>, found: &LiveInstance) -> Need {
    let Some(record) = record else {
        return Need::Reset("passform has not set its password yet".to_owned());
    };
    if let Some(recorded) = &record.creation_time
        && *recorded != found.creation_time
    {
        return Need::Reset(format!(
            "the instance was re-created (CreationTime {recorded} is now {}), so the password \
             passform set is gone",
            found.creation_time
        ));
    }
    if instance.generation > record.generation {
        return Need::Reset(format!(
            "generation raised from {} to {}",
            record.generation, instance.generation
        ));
    }
    match record.phase {
        Phase::Resetting => Need::Reset(format!(
            "an earlier reset to generation {} was interrupted before its answer was recorded; \
             setting the password again is safe",
            record.generation
        )),
        Phase::Reset if started_since_reset(record, found) => Need::Nothing(format!(
            "generation {} took effect when the instance started at {}; the next apply records \
             it",
            record.generation,
            found.start_time.as_deref().unwrap_or_default()
        )),
        Phase::Reset => Need::Restart(format!(
            "generation {} was set by an earlier apply but is not in effect: the instance has \
             not started since",
            record.generation
        )),
        Phase::Effective => Need::Nothing(format!("generation {} is in effect", record.generation)),
    }
}

/// A pending password takes effect at the next start; a StartTime other than the one at reset
/// time means that start happened.
fn started_since_reset(record: &InstanceRecord, found: &LiveInstance) -> bool {
    found.start_time.is_some() && found.start_time != record.start_time_at_reset
}

fn settle_reset(change: &mut Change, instance: &Desired, found: &LiveInstance, why: String) {
    if !found.status.is_stable() {
        change.action = Action::Wait;
        change.reason = format!(
            "{why}; status {} is transitional, so apply waits for Running or Stopped, then \
             resets the password and restarts per policy",
            found.status
        );
        return;
    }
    let (restart, how) = restart_for(instance.restart, found.status);
    change.action = Action::Reset;
    change.restart = restart;
    change.reason = format!("{why}; {how}");
}

fn settle_restart(change: &mut Change, instance: &Desired, found: &LiveInstance, why: String) {
    let (restart, how) = restart_for(instance.restart, found.status);
    if restart == Restart::None && found.status.is_stable() {
        change.reason = format!("{why}; {how}");
        return;
    }
    if !found.status.is_stable() {
        change.action = Action::Wait;
        change.reason = format!(
            "{why}; status {} is transitional, so apply waits for Running or Stopped, then \
             restarts per policy",
            found.status
        );
        return;
    }
    change.action = Action::Restart;
    change.restart = restart;
    change.reason = format!("{why}; {how}");
}

/// The restart a stable instance gets under its policy, and the words that explain it.
fn restart_for(policy: RestartPolicy, status: InstanceStatus) -> (Restart, String) {
    match (policy, status) {
        (RestartPolicy::Never, _) => (
            Restart::None,
            "restart policy `never`: the password takes effect at the instance's next start"
                .to_owned(),
        ),
        (_, InstanceStatus::Running) => (
            Restart::Reboot,
            "a reboot through the API makes it take effect".to_owned(),
        ),
        (RestartPolicy::Auto, _) => (
            Restart::Start,
            "starting the stopped instance makes it take effect".to_owned(),
        ),
        (RestartPolicy::RunningOnly, _) => (
            Restart::None,
            "restart policy `running-only` leaves the stopped instance stopped: the password \
             takes effect at its next start"
                .to_owned(),
        ),
    }
}

/// Password login is off on Linux once a key pair is attached, until the next reset.
fn key_pair_warning(record: Option<&InstanceRecord>, found: &LiveInstance) -> Option<String> {
    let record = record?;
    let key_pair = found.key_pair_name.as_ref()?;
    if record.key_pair_at_reset.as_ref() == Some(key_pair) {
        return None;
    }
    Some(format!(
        "key pair `{key_pair}` was attached after the last password reset: password login is \
         off until the next reset (raise the generation to reset)"
    ))
}

fn forget(id: &str, record: &InstanceRecord) -> Change {
    Change {
        instance: id.to_owned(),
        region: record.region.clone(),
        name: None,
        action: Action::Forget,
        generation: GenerationChange {
            from: Some(record.generation),
            to: None,
        },
        restart: Restart::None,
        status: None,
        wave: 0,
        reason: "declared no longer: apply drops it from the state and leaves the instance and \
                 its password as they are"
            .to_owned(),
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
