//! A saved plan is refused exactly when something it relied on moved.

use std::collections::BTreeSet;

use super::*;
use crate::ecs::model::{LiveInstance, OsType};
use crate::plan::{Change, GenerationChange, Restart};

fn live_instance() -> LiveInstance {
    LiveInstance {
        id: "i-1".to_owned(),
        region: "cn-hangzhou".to_owned(),
        name: "web-1".to_owned(),
        status: InstanceStatus::Running,
        os_type: OsType::Linux,
        creation_time: "2026-01-01T00:00Z".to_owned(),
        start_time: Some("2026-02-01T00:00Z".to_owned()),
        key_pair_name: None,
        locked_for_security: false,
    }
}

fn plan() -> Plan {
    Plan {
        changes: vec![Change {
            instance: "i-1".to_owned(),
            region: "cn-hangzhou".to_owned(),
            name: Some("web-1".to_owned()),
            action: Action::Reset,
            generation: GenerationChange {
                from: Some(1),
                to: Some(2),
            },
            restart: Restart::Reboot,
            status: Some(InstanceStatus::Running),
            wave: 0,
            reason: "generation raised from 1 to 2".to_owned(),
            warnings: Vec::new(),
        }],
        partial: false,
    }
}

struct Fixture {
    state: State,
    live: BTreeMap<String, LiveInstance>,
    suspect: BTreeSet<String>,
}

impl Fixture {
    fn new() -> Fixture {
        let mut live = BTreeMap::new();
        live.insert("i-1".to_owned(), live_instance());
        Fixture {
            state: State::new(),
            live,
            suspect: BTreeSet::new(),
        }
    }

    fn view(&self) -> LiveView<'_> {
        LiveView {
            instances: &self.live,
            suspect_regions: &self.suspect,
        }
    }

    fn saved(&self) -> SavedPlan {
        SavedPlan::new(plan(), &self.state, "digest-1", self.view())
    }

    fn check(&self, saved: &SavedPlan, digest: &str) -> Result<(), SavedPlanError> {
        check(saved, &self.state, digest, self.view())
    }
}

fn stale_reason(result: Result<(), SavedPlanError>) -> String {
    match result {
        Err(SavedPlanError::Stale { reason }) => reason,
        other => panic!("expected a stale plan, got {other:?}"),
    }
}

#[test]
fn unchanged_inputs_accept_the_saved_plan() {
    let fixture = Fixture::new();
    fixture.check(&fixture.saved(), "digest-1").unwrap();
}

#[test]
fn changed_document_refuses_the_saved_plan() {
    let fixture = Fixture::new();
    let reason = stale_reason(fixture.check(&fixture.saved(), "digest-2"));
    assert_eq!(reason, "the document changed since");
}

#[test]
fn written_state_refuses_the_saved_plan() {
    let mut fixture = Fixture::new();
    let saved = fixture.saved();
    fixture.state.serial += 1;
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert_eq!(reason, "the state was written since (there was none then)");
    let saved = fixture.saved();
    fixture.state.serial += 1;
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert_eq!(reason, "the state changed since (serial 1 then, 2 now)");
}

#[test]
fn another_state_refuses_the_saved_plan() {
    let mut fixture = Fixture::new();
    fixture.state.serial = 3;
    let saved = fixture.saved();
    fixture.state = State::new();
    fixture.state.serial = 3;
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert!(
        reason.starts_with("it was made for another state"),
        "{reason}"
    );
}

#[test]
fn changed_live_status_refuses_the_saved_plan() {
    let mut fixture = Fixture::new();
    let saved = fixture.saved();
    fixture.live.get_mut("i-1").unwrap().status = InstanceStatus::Stopped;
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert_eq!(
        reason,
        "instance i-1 changed since: status was Running, now Stopped"
    );

    fixture.live.get_mut("i-1").unwrap().status = InstanceStatus::Running;
    fixture.live.get_mut("i-1").unwrap().key_pair_name = Some("deploy".to_owned());
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert_eq!(
        reason,
        "instance i-1 changed since: key pair was none, now deploy"
    );

    fixture.live.clear();
    let reason = stale_reason(fixture.check(&saved, "digest-1"));
    assert_eq!(reason, "instance i-1 changed since: it is gone");
}

#[test]
fn saved_plan_round_trips_through_its_file() {
    let fixture = Fixture::new();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("reviewed.plan");
    let saved = fixture.saved();
    save(&path, &saved).unwrap();
    assert_eq!(load(&path).unwrap(), saved);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("}\n"));
}

#[test]
fn file_that_is_not_a_plan_is_refused_with_a_hint() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("notes.txt");
    std::fs::write(&path, "not json").unwrap();
    let error = load(&path).unwrap_err();
    assert!(matches!(error, SavedPlanError::Corrupt { .. }));
    assert!(error.hint().unwrap().contains("passform plan --out"));
}
