//! Every planner case, each with the reason a user reads.

use super::*;

const CREATED: &str = "2026-01-01T00:00Z";
const STARTED: &str = "2026-02-01T00:00Z";

fn declared(id: &str, generation: u64) -> Desired {
    Desired {
        id: id.to_owned(),
        region: "cn-hangzhou".to_owned(),
        generation,
        fingerprint: format!("fingerprint-{id}-{generation}"),
        restart: RestartPolicy::Auto,
        wave: 0,
        password_starts_with_slash: false,
        explicit_password: false,
    }
}

fn recorded(id: &str, generation: u64, phase: Phase) -> InstanceRecord {
    InstanceRecord {
        region: "cn-hangzhou".to_owned(),
        generation,
        fingerprint: format!("fingerprint-{id}-{generation}"),
        phase,
        creation_time: Some(CREATED.to_owned()),
        start_time_at_reset: Some(STARTED.to_owned()),
        key_pair_at_reset: None,
        reset_at: Some("2026-03-01T00:00:00Z".to_owned()),
        effective_at: None,
    }
}

fn running(id: &str) -> LiveInstance {
    LiveInstance {
        id: id.to_owned(),
        region: "cn-hangzhou".to_owned(),
        name: format!("web-{id}"),
        status: InstanceStatus::Running,
        os_type: OsType::Linux,
        creation_time: CREATED.to_owned(),
        start_time: Some(STARTED.to_owned()),
        key_pair_name: None,
        locked_for_security: false,
    }
}

/// Inputs for one planner run, with builders for each part.
#[derive(Default)]
struct Case {
    desired: Vec<Desired>,
    state: Option<State>,
    live: BTreeMap<String, LiveInstance>,
    suspect: BTreeSet<String>,
}

impl Case {
    fn declare(mut self, instance: Desired) -> Self {
        self.desired.push(instance);
        self
    }

    fn record(mut self, id: &str, record: InstanceRecord) -> Self {
        self.state
            .get_or_insert_with(State::new)
            .instances
            .insert(id.to_owned(), record);
        self
    }

    fn live(mut self, instance: LiveInstance) -> Self {
        self.live.insert(instance.id.clone(), instance);
        self
    }

    fn plan(&self, targets: &[String]) -> Result<Plan, PlanError> {
        let state = self.state.clone().unwrap_or_default();
        let live = LiveView {
            instances: &self.live,
            suspect_regions: &self.suspect,
        };
        compute(&self.desired, &state, live, targets)
    }

    fn only_change(&self) -> Change {
        let plan = self.plan(&[]).expect("the plan computes");
        assert_eq!(plan.changes.len(), 1, "{plan:#?}");
        plan.changes.into_iter().next().unwrap()
    }
}

#[test]
fn new_instance_is_reset_and_rebooted_when_running() {
    let change = Case::default()
        .declare(declared("i-1", 1))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::Reboot);
    assert_eq!(
        change.generation,
        GenerationChange {
            from: None,
            to: Some(1)
        }
    );
    assert_eq!(change.name.as_deref(), Some("web-i-1"));
    assert_eq!(
        change.reason,
        "passform has not set its password yet; a reboot through the API makes it take effect"
    );
}

#[test]
fn raised_generation_is_reset_and_a_stopped_instance_is_started() {
    let mut stopped = running("i-1");
    stopped.status = InstanceStatus::Stopped;
    let change = Case::default()
        .declare(declared("i-1", 3))
        .record("i-1", recorded("i-1", 2, Phase::Effective))
        .live(stopped)
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::Start);
    assert_eq!(
        change.generation,
        GenerationChange {
            from: Some(2),
            to: Some(3)
        }
    );
    assert_eq!(
        change.reason,
        "generation raised from 2 to 3; starting the stopped instance makes it take effect"
    );
}

#[test]
fn running_only_policy_leaves_a_stopped_instance_stopped() {
    let mut instance = declared("i-1", 2);
    instance.restart = RestartPolicy::RunningOnly;
    let mut stopped = running("i-1");
    stopped.status = InstanceStatus::Stopped;
    let change = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .live(stopped)
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::None);
    assert!(change.reason.ends_with(
        "restart policy `running-only` leaves the stopped instance stopped: the password takes \
         effect at its next start"
    ));
}

#[test]
fn never_policy_resets_without_restarting() {
    let mut instance = declared("i-1", 2);
    instance.restart = RestartPolicy::Never;
    let change = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::None);
    assert_eq!(
        change.reason,
        "generation raised from 1 to 2; restart policy `never`: the password takes effect at \
         the instance's next start"
    );
}

#[test]
fn explicit_password_changed_without_a_raise_is_an_error() {
    let mut instance = declared("i-1", 2);
    instance.explicit_password = true;
    instance.fingerprint = "fingerprint-of-a-new-password".to_owned();
    let error = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 2, Phase::Effective))
        .live(running("i-1"))
        .plan(&[])
        .unwrap_err();
    assert!(matches!(
        error,
        PlanError::PasswordChangedWithoutRaise { generation: 2, .. }
    ));
    assert_eq!(
        crate::report::Hint::hint(&error).unwrap(),
        "raise the generation to 3 so apply sets the new password, or restore the previous one"
    );
}

#[test]
fn lowered_generation_is_an_error() {
    let error = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", recorded("i-1", 2, Phase::Effective))
        .live(running("i-1"))
        .plan(&[])
        .unwrap_err();
    assert!(matches!(
        error,
        PlanError::GenerationLowered {
            declared: 1,
            applied: 2,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "instance `i-1` declares generation 1, lower than generation 2 already applied"
    );
}

#[test]
fn reset_not_yet_effective_without_a_start_since_plans_a_restart() {
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::Restart);
    assert_eq!(change.restart, Restart::Reboot);
    assert_eq!(
        change.reason,
        "generation 2 was set by an earlier apply but is not in effect: the instance has not \
         started since; a reboot through the API makes it take effect"
    );
}

#[test]
fn start_since_the_reset_made_it_effective_so_nothing_is_done() {
    let mut started = running("i-1");
    started.start_time = Some("2026-04-01T00:00Z".to_owned());
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(started)
        .only_change();
    assert_eq!(change.action, Action::None);
    assert_eq!(
        change.reason,
        "generation 2 took effect when the instance started at 2026-04-01T00:00Z; the next \
         apply records it"
    );
}

#[test]
fn pending_reset_under_never_policy_needs_no_action() {
    let mut instance = declared("i-1", 2);
    instance.restart = RestartPolicy::Never;
    let change = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::None);
    assert_eq!(change.restart, Restart::None);
    assert_eq!(
        change.reason,
        "generation 2 was set by an earlier apply but is not in effect: the instance has not \
         started since; restart policy `never`: the password takes effect at the instance's \
         next start"
    );
}

#[test]
fn pending_reset_of_a_stopped_instance_under_running_only_policy_needs_no_action() {
    let mut instance = declared("i-1", 2);
    instance.restart = RestartPolicy::RunningOnly;
    let mut stopped = running("i-1");
    stopped.status = InstanceStatus::Stopped;
    let change = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(stopped)
        .only_change();
    assert_eq!(change.action, Action::None);
    assert_eq!(change.restart, Restart::None);
    assert!(change.reason.ends_with(
        "restart policy `running-only` leaves the stopped instance stopped: the password takes \
         effect at its next start"
    ));
}

#[test]
fn pending_reset_of_a_stopped_instance_plans_a_start() {
    let mut stopped = running("i-1");
    stopped.status = InstanceStatus::Stopped;
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(stopped)
        .only_change();
    assert_eq!(change.action, Action::Restart);
    assert_eq!(change.restart, Restart::Start);
    assert_eq!(
        change.reason,
        "generation 2 was set by an earlier apply but is not in effect: the instance has not \
         started since; starting the stopped instance makes it take effect"
    );
}

#[test]
fn pending_reset_of_a_transitional_instance_makes_apply_wait_before_restarting() {
    let mut busy = running("i-1");
    busy.status = InstanceStatus::Stopping;
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Reset))
        .live(busy)
        .only_change();
    assert_eq!(change.action, Action::Wait);
    assert_eq!(change.restart, Restart::None);
    assert_eq!(
        change.reason,
        "generation 2 was set by an earlier apply but is not in effect: the instance has not \
         started since; status Stopping is transitional, so apply waits for Running or Stopped, \
         then restarts per policy"
    );
}

#[test]
fn interrupted_reset_is_planned_again() {
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Resetting))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::Reboot);
    assert_eq!(
        change.reason,
        "an earlier reset to generation 2 was interrupted before its answer was recorded; \
         setting the password again is safe; a reboot through the API makes it take effect"
    );
}

#[test]
fn interrupted_reset_of_a_password_changed_meanwhile_is_planned_again_not_refused() {
    let mut instance = declared("i-1", 2);
    instance.explicit_password = true;
    instance.fingerprint = "fingerprint-of-a-new-password".to_owned();
    let change = Case::default()
        .declare(instance)
        .record("i-1", recorded("i-1", 2, Phase::Resetting))
        .live(running("i-1"))
        .only_change();
    assert_eq!(change.action, Action::Reset);
}

#[test]
fn recreated_instance_is_reset() {
    let mut recreated = running("i-1");
    recreated.creation_time = "2026-05-01T00:00Z".to_owned();
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Effective))
        .live(recreated)
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert_eq!(change.restart, Restart::Reboot);
    assert_eq!(
        change.generation,
        GenerationChange {
            from: Some(2),
            to: Some(2)
        }
    );
    assert_eq!(
        change.reason,
        "the instance was re-created (CreationTime 2026-01-01T00:00Z is now 2026-05-01T00:00Z), \
         so the password passform set is gone; a reboot through the API makes it take effect"
    );
}

#[test]
fn transitional_status_makes_apply_wait() {
    for status in [
        InstanceStatus::Pending,
        InstanceStatus::Starting,
        InstanceStatus::Stopping,
    ] {
        let mut busy = running("i-1");
        busy.status = status;
        let change = Case::default()
            .declare(declared("i-1", 2))
            .record("i-1", recorded("i-1", 1, Phase::Effective))
            .live(busy)
            .only_change();
        assert_eq!(change.action, Action::Wait, "{status}");
        assert_eq!(change.status, Some(status));
        assert_eq!(change.restart, Restart::None);
        assert_eq!(
            change.reason,
            format!(
                "generation raised from 1 to 2; status {status} is transitional, so apply waits \
                 for Running or Stopped, then resets the password and restarts per policy"
            )
        );
    }
}

#[test]
fn transitional_status_with_nothing_to_do_is_no_action() {
    let mut busy = running("i-1");
    busy.status = InstanceStatus::Stopping;
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 2, Phase::Effective))
        .live(busy)
        .only_change();
    assert_eq!(change.action, Action::None);
    assert_eq!(change.reason, "generation 2 is in effect");
}

#[test]
fn missing_instance_is_blocked() {
    let change = Case::default().declare(declared("i-1", 1)).only_change();
    assert_eq!(change.action, Action::Blocked);
    assert_eq!(change.status, None);
    assert_eq!(
        change.reason,
        "not found in region cn-hangzhou: check its id and region in the document"
    );
}

#[test]
fn missing_instance_in_a_suspect_region_is_blocked_and_not_forgotten() {
    let mut case = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", recorded("i-1", 1, Phase::Effective));
    case.suspect.insert("cn-hangzhou".to_owned());
    let change = case.only_change();
    assert_eq!(change.action, Action::Blocked);
    assert_eq!(
        change.reason,
        "no declared instance came back from region cn-hangzhou: the credentials may not be \
         allowed to read it, so apply leaves this instance and its record alone"
    );
}

#[test]
fn recorded_instance_gone_from_its_region_is_blocked_with_a_way_out() {
    let change = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .only_change();
    assert_eq!(change.action, Action::Blocked);
    assert_eq!(
        change.reason,
        "not found in region cn-hangzhou: it may have been released; remove it from the \
         document and the next apply forgets it"
    );
}

#[test]
fn instance_locked_for_security_is_blocked() {
    let mut locked = running("i-1");
    locked.locked_for_security = true;
    let change = Case::default()
        .declare(declared("i-1", 1))
        .live(locked)
        .only_change();
    assert_eq!(change.action, Action::Blocked);
    assert_eq!(change.restart, Restart::None);
    assert_eq!(
        change.reason,
        "the instance is locked for security, which refuses password resets and restarts; have \
         the lock lifted in the ECS console first"
    );
}

#[test]
fn windows_instance_with_a_password_starting_with_slash_is_blocked() {
    let mut windows = running("i-1");
    windows.os_type = OsType::Windows;
    let mut instance = declared("i-1", 1);
    instance.explicit_password = true;
    instance.password_starts_with_slash = true;
    let change = Case::default()
        .declare(instance.clone())
        .live(windows)
        .only_change();
    assert_eq!(change.action, Action::Blocked);
    assert_eq!(
        change.reason,
        "Windows refuses a password that starts with `/`; change this instance's password in \
         the document"
    );

    let linux = Case::default()
        .declare(instance)
        .live(running("i-1"))
        .only_change();
    assert_eq!(linux.action, Action::Reset);
}

#[test]
fn recorded_instance_no_longer_declared_is_forgotten() {
    let plan = Case::default()
        .declare(declared("i-2", 1))
        .live(running("i-2"))
        .record("i-1", recorded("i-1", 4, Phase::Effective))
        .plan(&[])
        .unwrap();
    let forgotten = plan.changes.last().unwrap();
    assert_eq!(forgotten.instance, "i-1");
    assert_eq!(forgotten.action, Action::Forget);
    assert_eq!(
        forgotten.generation,
        GenerationChange {
            from: Some(4),
            to: None
        }
    );
    assert_eq!(forgotten.restart, Restart::None);
    assert_eq!(
        forgotten.reason,
        "declared no longer: apply drops it from the state and leaves the instance and its \
         password as they are"
    );
}

#[test]
fn key_pair_attached_since_the_last_reset_is_a_warning() {
    let mut with_key = running("i-1");
    with_key.key_pair_name = Some("deploy".to_owned());
    let change = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .live(with_key)
        .only_change();
    assert_eq!(change.action, Action::None);
    assert_eq!(
        change.warnings,
        [
            "key pair `deploy` was attached after the last password reset: password login is off \
          until the next reset (raise the generation to reset)"
        ]
    );
}

#[test]
fn key_pair_warning_is_not_given_when_the_planned_reset_restores_password_login() {
    let mut with_key = running("i-1");
    with_key.key_pair_name = Some("deploy".to_owned());
    let change = Case::default()
        .declare(declared("i-1", 2))
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .live(with_key)
        .only_change();
    assert_eq!(change.action, Action::Reset);
    assert!(change.warnings.is_empty(), "{:?}", change.warnings);
}

#[test]
fn key_pair_present_at_reset_time_is_no_warning() {
    let mut with_key = running("i-1");
    with_key.key_pair_name = Some("deploy".to_owned());
    let mut record = recorded("i-1", 1, Phase::Effective);
    record.key_pair_at_reset = Some("deploy".to_owned());
    let change = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", record)
        .live(with_key)
        .only_change();
    assert!(change.warnings.is_empty());
}

#[test]
fn applied_generation_in_effect_needs_nothing() {
    let plan = Case::default()
        .declare(declared("i-1", 1))
        .record("i-1", recorded("i-1", 1, Phase::Effective))
        .live(running("i-1"))
        .plan(&[])
        .unwrap();
    assert!(!plan.has_changes());
    assert_eq!(plan.changes[0].reason, "generation 1 is in effect");
}

#[test]
fn changes_are_ordered_by_wave_region_and_id_with_forgotten_last() {
    let mut late = declared("i-a", 1);
    late.wave = 2;
    let mut beijing = declared("i-z", 1);
    beijing.region = "cn-beijing".to_owned();
    let plan = Case::default()
        .declare(late)
        .declare(declared("i-c", 1))
        .declare(beijing)
        .declare(declared("i-b", 1))
        .record("i-0", recorded("i-0", 1, Phase::Effective))
        .plan(&[])
        .unwrap();
    let order: Vec<&str> = plan
        .changes
        .iter()
        .map(|change| change.instance.as_str())
        .collect();
    assert_eq!(order, ["i-z", "i-b", "i-c", "i-a", "i-0"]);
}

#[test]
fn targets_limit_the_plan_and_mark_it_partial() {
    let case = Case::default()
        .declare(declared("i-1", 1))
        .declare(declared("i-2", 1))
        .live(running("i-1"))
        .live(running("i-2"));
    let plan = case.plan(&["i-2".to_owned()]).unwrap();
    assert!(plan.partial);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].instance, "i-2");
    assert!(!case.plan(&[]).unwrap().partial);
}

#[test]
fn unknown_target_is_an_error() {
    let error = Case::default()
        .declare(declared("i-1", 1))
        .plan(&["i-9".to_owned()])
        .unwrap_err();
    assert!(matches!(error, PlanError::UnknownTarget { ref id } if id == "i-9"));
}
