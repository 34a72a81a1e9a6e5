//! The orchestration against the in-memory fleet, under paused tokio time.

use std::collections::BTreeMap;
use std::time::Duration;

use super::api::InstanceApi as _;
use super::fake::{self, FakeCloud, Fault, MemoryJournal, RESTART_TIME};
use super::report::{Event, Outcome, Summary};
use super::{Desired, Options, execute};
use crate::document::RestartPolicy;
use crate::ecs::model::InstanceStatus::{self, Running, Starting, Stopped};
use crate::plan::{Action, Change, GenerationChange, Plan, Restart};
use crate::state::{InstanceRecord, Phase, STATE_VERSION, State};

/// One instance of a test scenario.
struct Declared {
    id: &'static str,
    region: &'static str,
    status: InstanceStatus,
    policy: RestartPolicy,
    wave: u32,
    action: Action,
}

fn declared(id: &'static str, status: InstanceStatus) -> Declared {
    Declared {
        id,
        region: "cn-hangzhou",
        status,
        policy: RestartPolicy::Auto,
        wave: 1,
        action: Action::Reset,
    }
}

fn password_of(id: &str) -> String {
    format!("Declared#{id}")
}

/// A fleet, a plan and the desired passwords for `instances`.
struct Scenario {
    cloud: FakeCloud,
    journal: MemoryJournal,
    state: State,
    plan: Plan,
    desired: BTreeMap<String, Desired>,
}

impl Scenario {
    fn new(instances: &[Declared]) -> Self {
        let journal = MemoryJournal::default();
        let cloud = FakeCloud::new(&journal);
        let mut changes = Vec::new();
        let mut desired = BTreeMap::new();
        for instance in instances {
            cloud.add(instance.id, instance.region, instance.status);
            changes.push(Change {
                instance: instance.id.to_owned(),
                region: instance.region.to_owned(),
                name: None,
                action: instance.action,
                generation: GenerationChange {
                    from: None,
                    to: Some(2),
                },
                restart: Restart::Reboot,
                status: Some(instance.status),
                wave: instance.wave,
                reason: "generation raised".to_owned(),
                warnings: Vec::new(),
            });
            desired.insert(
                instance.id.to_owned(),
                Desired {
                    generation: 2,
                    restart: instance.policy,
                    password: password_of(instance.id).into(),
                    fingerprint: format!("fingerprint-{}", instance.id),
                },
            );
        }
        Self {
            cloud,
            journal,
            state: State {
                version: STATE_VERSION,
                lineage: "lineage".to_owned(),
                serial: 0,
                instances: BTreeMap::new(),
            },
            plan: Plan {
                changes,
                partial: false,
            },
            desired,
        }
    }

    async fn apply(&mut self, options: &Options) -> (Summary, Vec<Event>) {
        let mut events = Vec::new();
        let summary = execute(
            &self.plan,
            &self.desired,
            &mut self.state,
            self.cloud.clone(),
            &mut self.journal.clone(),
            &mut events,
            options,
        )
        .await
        .expect("apply keeps its journal");
        (summary, events)
    }

    fn phase(&self, id: &str) -> Option<Phase> {
        self.state.instances.get(id).map(|record| record.phase)
    }

    /// Asserts the instance's status, and where the declared password is.
    fn assert_instance(&self, id: &str, status: InstanceStatus, effective: bool) {
        let (live, effective_password, pending_password) = self.cloud.instance(id);
        let declared = Some(password_of(id));
        assert_eq!(live, status, "{id} status");
        if effective {
            assert_eq!(effective_password, declared, "{id} effective password");
            assert_eq!(pending_password, None, "{id} pending password");
        } else {
            assert_eq!(pending_password, declared, "{id} pending password");
        }
    }
}

fn options(parallelism: usize) -> Options {
    Options {
        parallelism,
        ..Options::default()
    }
}

fn outcome_of(events: &[Event], id: &str) -> (Outcome, String) {
    events
        .iter()
        .find_map(|event| match event {
            Event::Finished {
                instance,
                outcome,
                reason,
                ..
            } if instance == id => Some((*outcome, reason.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{id} never finished"))
}

#[tokio::test(start_paused = true)]
async fn each_restart_policy_ends_in_its_status_with_the_password_effective_or_pending() {
    let mut instances = Vec::new();
    for (id, status, policy) in [
        ("i-auto-running", Running, RestartPolicy::Auto),
        ("i-auto-stopped", Stopped, RestartPolicy::Auto),
        ("i-only-running", Running, RestartPolicy::RunningOnly),
        ("i-only-stopped", Stopped, RestartPolicy::RunningOnly),
        ("i-never-running", Running, RestartPolicy::Never),
        ("i-never-stopped", Stopped, RestartPolicy::Never),
    ] {
        instances.push(Declared {
            policy,
            ..declared(id, status)
        });
    }
    let mut scenario = Scenario::new(&instances);

    let (summary, _) = scenario.apply(&options(10)).await;

    scenario.assert_instance("i-auto-running", Running, true);
    scenario.assert_instance("i-auto-stopped", Running, true);
    scenario.assert_instance("i-only-running", Running, true);
    scenario.assert_instance("i-only-stopped", Stopped, false);
    scenario.assert_instance("i-never-running", Running, false);
    scenario.assert_instance("i-never-stopped", Stopped, false);
    for id in ["i-auto-running", "i-auto-stopped", "i-only-running"] {
        assert_eq!(scenario.phase(id), Some(Phase::Effective), "{id}");
    }
    for id in ["i-only-stopped", "i-never-running", "i-never-stopped"] {
        assert_eq!(scenario.phase(id), Some(Phase::Reset), "{id}");
    }
    assert_eq!(
        (summary.reset, summary.rebooted, summary.started),
        (6, 2, 1)
    );
    assert_eq!((summary.effective, summary.left_pending), (3, 3));
    assert!(summary.succeeded());
}

#[tokio::test(start_paused = true)]
async fn journal_records_resetting_before_the_reset_and_effective_after_the_restart() {
    let mut scenario = Scenario::new(&[declared("i-web", Running)]);

    scenario.apply(&options(10)).await;

    let reset = &scenario.cloud.calls_of(fake::RESET)[0];
    assert_eq!(reset.recorded_phase, Some(Phase::Resetting));
    let reboot = &scenario.cloud.calls_of(fake::REBOOT)[0];
    assert_eq!(reboot.recorded_phase, Some(Phase::Reset));
    assert_eq!(
        scenario.journal.phases("i-web"),
        vec![
            Some(Phase::Resetting),
            Some(Phase::Reset),
            Some(Phase::Effective)
        ]
    );
    let record = &scenario.state.instances["i-web"];
    assert_eq!(record.generation, 2);
    assert_eq!(record.fingerprint, "fingerprint-i-web");
    assert_eq!(record.creation_time.as_deref(), Some("2026-01-01T00:00Z"));
    assert_eq!(
        record.start_time_at_reset.as_deref(),
        Some("2026-01-01T00:00Z")
    );
    assert!(record.reset_at.is_some() && record.effective_at.is_some());
}

#[tokio::test(start_paused = true)]
async fn waves_run_in_ascending_order_each_after_the_previous_is_done() {
    let mut scenario = Scenario::new(&[
        Declared {
            wave: 2,
            ..declared("i-second", Running)
        },
        Declared {
            wave: 1,
            ..declared("i-first-a", Running)
        },
        Declared {
            wave: 1,
            ..declared("i-first-b", Stopped)
        },
    ]);

    let (summary, events) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    let resets = scenario.cloud.calls_of(fake::RESET);
    let second = resets.iter().find(|call| call.ids == ["i-second"]).unwrap();
    let first_restarts: Vec<_> = scenario
        .cloud
        .calls()
        .into_iter()
        .filter(|call| call.action == fake::REBOOT || call.action == fake::START)
        .filter(|call| !call.ids.contains(&"i-second".to_owned()))
        .collect();
    assert_eq!(first_restarts.len(), 2);
    for restart in first_restarts {
        assert!(second.at >= restart.at + RESTART_TIME);
    }
    let waves: Vec<u32> = events
        .iter()
        .filter_map(|event| match event {
            Event::WaveStarted { wave, .. } => Some(*wave),
            _ => None,
        })
        .collect();
    assert_eq!(waves, [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn no_more_than_parallelism_instances_are_in_flight_at_once() {
    let ids: Vec<&'static str> = (0..12)
        .map(|n| &*Box::leak(format!("i-{n:02}").into_boxed_str()))
        .collect();
    let instances: Vec<Declared> = ids.iter().map(|id| declared(id, Running)).collect();
    let mut scenario = Scenario::new(&instances);

    let (summary, _) = scenario.apply(&options(5)).await;

    assert_eq!(summary.effective, 12);
    let resets = scenario.cloud.calls_of(fake::RESET);
    let reboots = scenario.cloud.calls_of(fake::REBOOT);
    let span = |id: &str| {
        let reset = resets.iter().find(|call| call.ids[0] == id).unwrap().at;
        let reboot = reboots
            .iter()
            .find(|call| call.ids.iter().any(|x| x == id))
            .unwrap()
            .at;
        (reset, reboot + RESTART_TIME)
    };
    let spans: Vec<_> = ids.iter().map(|id| span(id)).collect();
    let most = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| s <= start && start < e)
                .count()
        })
        .max()
        .unwrap();
    assert_eq!(most, 5);
    // Three rounds of five, five and two.
    assert_eq!(reboots.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn restarts_due_together_in_a_region_go_out_as_one_call_per_region() {
    let mut instances = Vec::new();
    for id in ["i-h1", "i-h2", "i-h3", "i-h4"] {
        instances.push(declared(id, Running));
    }
    for id in ["i-h5", "i-h6"] {
        instances.push(declared(id, Stopped));
    }
    for id in ["i-b1", "i-b2"] {
        instances.push(Declared {
            region: "cn-beijing",
            ..declared(id, Running)
        });
    }
    let mut scenario = Scenario::new(&instances);

    scenario.apply(&options(10)).await;

    let mut reboots: Vec<(String, usize)> = scenario
        .cloud
        .calls_of(fake::REBOOT)
        .into_iter()
        .map(|call| (call.region, call.ids.len()))
        .collect();
    reboots.sort();
    assert_eq!(
        reboots,
        [("cn-beijing".to_owned(), 2), ("cn-hangzhou".to_owned(), 4)]
    );
    let starts = scenario.cloud.calls_of(fake::START);
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].ids, ["i-h5", "i-h6"]);
}

#[tokio::test(start_paused = true)]
async fn status_is_polled_with_one_call_per_region_per_tick() {
    let mut instances: Vec<Declared> = ["i-h1", "i-h2", "i-h3"]
        .into_iter()
        .map(|id| declared(id, Running))
        .collect();
    instances.push(Declared {
        region: "cn-beijing",
        ..declared("i-b1", Stopped)
    });
    let mut scenario = Scenario::new(&instances);

    scenario.apply(&options(10)).await;

    let polls = scenario.cloud.calls_of(fake::DESCRIBE);
    let mut per_tick: BTreeMap<(Duration, String), usize> = BTreeMap::new();
    for poll in &polls {
        *per_tick.entry((poll.at, poll.region.clone())).or_default() += 1;
    }
    assert!(per_tick.len() > 4, "several ticks were polled");
    assert!(per_tick.values().all(|&count| count == 1));
    let hangzhou = polls
        .iter()
        .find(|poll| poll.region == "cn-hangzhou")
        .unwrap();
    assert_eq!(hangzhou.ids, ["i-h1", "i-h2", "i-h3"]);
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_later_work_while_work_in_flight_finishes_and_is_recorded() {
    let mut scenario = Scenario::new(&[
        declared("i-a", Running),
        declared("i-b", Running),
        declared("i-c", Running),
        Declared {
            wave: 2,
            ..declared("i-d", Running)
        },
    ]);
    scenario.cloud.inject_for(
        "i-a",
        fake::RESET,
        Fault::Refuse("InstanceLockedForSecurity"),
        1,
    );

    let (summary, events) = scenario.apply(&options(2)).await;

    let (outcome, reason) = outcome_of(&events, "i-a");
    assert_eq!(outcome, Outcome::Failed);
    assert!(reason.contains("InstanceLockedForSecurity"), "{reason}");
    assert_eq!(
        scenario.phase("i-a"),
        None,
        "a refused reset is not recorded"
    );
    assert_eq!(outcome_of(&events, "i-b").0, Outcome::Effective);
    assert_eq!(scenario.phase("i-b"), Some(Phase::Effective));
    scenario.assert_instance("i-b", Running, true);
    for id in ["i-c", "i-d"] {
        assert_eq!(outcome_of(&events, id).0, Outcome::NotStarted);
        assert!(
            scenario
                .cloud
                .calls()
                .iter()
                .all(|call| !call.ids.contains(&id.to_owned())),
            "{id} was never touched"
        );
    }
    assert_eq!((summary.failed.len(), summary.not_started), (1, 2));
    assert!(!summary.succeeded());
}

#[tokio::test(start_paused = true)]
async fn an_instance_that_never_settles_fails_after_the_wait_timeout_unchanged() {
    let mut scenario = Scenario::new(&[declared("i-stuck", Starting)]);
    scenario.cloud.stick("i-stuck", Starting);
    let options = Options {
        wait_timeout: Duration::from_secs(60),
        ..options(10)
    };

    let (summary, events) = scenario.apply(&options).await;

    let (outcome, reason) = outcome_of(&events, "i-stuck");
    assert_eq!(outcome, Outcome::Failed);
    assert!(reason.contains("stable status within 1m"), "{reason}");
    assert!(scenario.cloud.calls_of(fake::RESET).is_empty());
    assert_eq!(scenario.phase("i-stuck"), None);
    assert_eq!(summary.failed.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_instance_slower_to_restart_than_the_wait_timeout_fails_with_its_password_pending() {
    let mut scenario = Scenario::new(&[declared("i-slow", Running)]);
    scenario.cloud.set_restart_time(Duration::from_secs(300));
    let options = Options {
        wait_timeout: Duration::from_secs(60),
        ..options(10)
    };

    let (_, events) = scenario.apply(&options).await;

    let (outcome, reason) = outcome_of(&events, "i-slow");
    assert_eq!(outcome, Outcome::Failed);
    assert!(
        reason.contains("did not come back Running within 1m"),
        "{reason}"
    );
    assert_eq!(scenario.phase("i-slow"), Some(Phase::Reset));
}

#[tokio::test(start_paused = true)]
async fn a_reset_whose_answer_was_lost_is_sent_again_with_the_same_password() {
    let mut scenario = Scenario::new(&[declared("i-web", Running)]);
    scenario
        .cloud
        .inject(fake::RESET, Fault::LoseAfterCommit, 1);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    assert_eq!(scenario.cloud.calls_of(fake::RESET).len(), 2);
    scenario.assert_instance("i-web", Running, true);
    assert_eq!(scenario.phase("i-web"), Some(Phase::Effective));
}

#[tokio::test(start_paused = true)]
async fn a_restart_whose_answer_was_lost_is_checked_before_it_is_sent_again() {
    let mut scenario = Scenario::new(&[declared("i-web", Running), declared("i-db", Stopped)]);
    scenario
        .cloud
        .inject(fake::REBOOT, Fault::LoseAfterCommit, 1);
    scenario
        .cloud
        .inject(fake::START, Fault::LoseAfterCommit, 1);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    assert_eq!(scenario.cloud.calls_of(fake::REBOOT).len(), 1);
    assert_eq!(scenario.cloud.calls_of(fake::START).len(), 1);
    scenario.assert_instance("i-web", Running, true);
    scenario.assert_instance("i-db", Running, true);
}

#[tokio::test(start_paused = true)]
async fn a_restart_lost_before_it_was_made_is_sent_again() {
    let mut scenario = Scenario::new(&[declared("i-web", Running)]);
    scenario
        .cloud
        .inject(fake::REBOOT, Fault::LoseBeforeCommit, 1);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    assert_eq!(scenario.cloud.calls_of(fake::REBOOT).len(), 2);
    scenario.assert_instance("i-web", Running, true);
}

#[tokio::test(start_paused = true)]
async fn unanswered_status_polls_are_retried_on_the_next_tick() {
    let mut scenario = Scenario::new(&[declared("i-web", Running)]);
    scenario
        .cloud
        .inject(fake::DESCRIBE, Fault::LoseBeforeCommit, 3);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    scenario.assert_instance("i-web", Running, true);
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_stops_new_work_and_lets_work_in_flight_finish() {
    let instances: Vec<Declared> = ["i-1", "i-2", "i-3", "i-4"]
        .into_iter()
        .map(|id| declared(id, Running))
        .collect();
    let mut scenario = Scenario::new(&instances);
    let options = options(2);
    let interrupt = options.interrupt.clone();

    let ((summary, events), ()) = tokio::join!(scenario.apply(&options), async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        interrupt.raise();
    });

    assert!(summary.interrupted);
    assert!(events.contains(&Event::Interrupted));
    assert_eq!((summary.effective, summary.not_started), (2, 2));
    assert!(!summary.succeeded());
    for id in ["i-1", "i-2"] {
        scenario.assert_instance(id, Running, true);
    }
    assert_eq!(scenario.phase("i-3"), None);
}

fn reset_record(start_time: &str) -> InstanceRecord {
    InstanceRecord {
        region: "cn-hangzhou".to_owned(),
        generation: 2,
        fingerprint: "fingerprint-i-web".to_owned(),
        phase: Phase::Reset,
        creation_time: Some("2026-01-01T00:00Z".to_owned()),
        start_time_at_reset: Some(start_time.to_owned()),
        key_pair_at_reset: None,
        reset_at: Some("2026-01-01T00:00:00Z".to_owned()),
        effective_at: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_only_change_reboots_when_the_password_is_still_pending() {
    let mut scenario = Scenario::new(&[Declared {
        action: Action::Restart,
        ..declared("i-web", Running)
    }]);
    let record = reset_record("2026-01-01T00:00Z");
    scenario.state.instances.insert("i-web".to_owned(), record);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert!(summary.succeeded());
    assert!(scenario.cloud.calls_of(fake::RESET).is_empty());
    assert_eq!(scenario.cloud.calls_of(fake::REBOOT).len(), 1);
    assert_eq!(scenario.phase("i-web"), Some(Phase::Effective));
}

#[tokio::test(start_paused = true)]
async fn a_restart_only_change_is_recorded_effective_when_the_instance_started_since() {
    let mut scenario = Scenario::new(&[Declared {
        action: Action::Restart,
        ..declared("i-web", Running)
    }]);
    let record = reset_record("2025-12-31T00:00Z");
    scenario.state.instances.insert("i-web".to_owned(), record);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert_eq!(summary.effective, 1);
    assert!(scenario.cloud.calls_of(fake::REBOOT).is_empty());
    assert_eq!(scenario.phase("i-web"), Some(Phase::Effective));
}

#[tokio::test(start_paused = true)]
async fn blocked_instances_are_reported_with_their_reason_and_fail_the_run_untouched() {
    let mut scenario = Scenario::new(&[
        Declared {
            action: Action::Blocked,
            ..declared("i-locked", Running)
        },
        declared("i-web", Running),
    ]);
    let reason = "the instance is locked for security";
    scenario.plan.changes[0].reason = reason.to_owned();

    let (summary, events) = scenario.apply(&options(10)).await;

    assert_eq!(
        outcome_of(&events, "i-locked"),
        (Outcome::Blocked, reason.to_owned())
    );
    assert_eq!(summary.blocked.len(), 1);
    assert_eq!(summary.blocked[0].reason, reason);
    assert!(!summary.succeeded());
    assert!(
        scenario
            .cloud
            .calls()
            .iter()
            .all(|call| !call.ids.contains(&"i-locked".to_owned())),
        "a blocked instance is never touched"
    );
    assert_eq!(scenario.phase("i-locked"), None);
    scenario.assert_instance("i-web", Running, true);
}

#[tokio::test(start_paused = true)]
async fn forgotten_instances_leave_the_state_without_any_call() {
    let mut scenario = Scenario::new(&[Declared {
        action: Action::Forget,
        ..declared("i-gone", Running)
    }]);
    let record = reset_record("2026-01-01T00:00Z");
    scenario.state.instances.insert("i-gone".to_owned(), record);

    let (summary, _) = scenario.apply(&options(10)).await;

    assert_eq!(summary.forgotten, 1);
    assert!(scenario.state.instances.is_empty());
    assert!(scenario.cloud.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn no_event_or_state_record_carries_a_password() {
    let mut scenario = Scenario::new(&[declared("i-web", Running), declared("i-db", Stopped)]);
    scenario
        .cloud
        .inject(fake::RESET, Fault::Refuse("InvalidPassword.Malformed"), 1);

    let (_, events) = scenario.apply(&options(10)).await;

    let events = serde_json::to_string(&events).unwrap();
    let snapshots = serde_json::to_string(&*scenario.journal.snapshots.lock().unwrap()).unwrap();
    for id in ["i-web", "i-db"] {
        assert!(
            !events.contains(&password_of(id)),
            "an event shows {id}'s password"
        );
        assert!(
            !snapshots.contains(&password_of(id)),
            "the state shows {id}'s password"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_start_since_the_reset_is_recorded_for_instances_the_plan_leaves_alone() {
    let mut scenario = Scenario::new(&[
        Declared {
            action: Action::None,
            ..declared("i-web", Running)
        },
        Declared {
            action: Action::None,
            ..declared("i-db", Stopped)
        },
    ]);
    let started = reset_record("2025-12-31T00:00Z");
    scenario.state.instances.insert("i-web".to_owned(), started);
    let not_started = reset_record("2026-01-01T00:00Z");
    scenario
        .state
        .instances
        .insert("i-db".to_owned(), not_started);
    let ids = ["i-web".to_owned(), "i-db".to_owned()];
    let live = scenario.cloud.describe("cn-hangzhou", &ids).await.unwrap();
    let live = live
        .into_iter()
        .map(|found| (found.id.clone(), found))
        .collect();

    let recorded = super::record_started(&scenario.plan, &mut scenario.state, &live);

    assert_eq!(recorded, ["i-web"]);
    assert_eq!(scenario.phase("i-web"), Some(Phase::Effective));
    assert_eq!(scenario.phase("i-db"), Some(Phase::Reset));
}
