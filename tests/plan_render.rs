//! The text, JSON and markdown renderings of a plan, pinned by snapshots, for a fleet that
//! shows every action, a warning and a forgotten instance; and the markdown size limit.

use std::collections::{BTreeMap, BTreeSet};

use passform::document::RestartPolicy;
use passform::ecs::model::{InstanceStatus, LiveInstance, OsType};
use passform::plan::{self, Desired, LiveView, Plan, render};
use passform::state::{InstanceRecord, Phase, State};

fn desired(id: &str, region: &str, generation: u64, wave: u32) -> Desired {
    Desired {
        id: id.to_owned(),
        region: region.to_owned(),
        generation,
        fingerprint: format!("fingerprint-{id}-{generation}"),
        restart: RestartPolicy::Auto,
        wave,
        password_starts_with_slash: false,
        explicit_password: false,
    }
}

fn record(id: &str, region: &str, generation: u64, phase: Phase) -> InstanceRecord {
    InstanceRecord {
        region: region.to_owned(),
        generation,
        fingerprint: format!("fingerprint-{id}-{generation}"),
        phase,
        creation_time: Some("2026-01-01T00:00Z".to_owned()),
        start_time_at_reset: Some("2026-02-01T00:00Z".to_owned()),
        key_pair_at_reset: None,
        reset_at: Some("2026-03-01T00:00:00Z".to_owned()),
        effective_at: None,
    }
}

fn live(id: &str, region: &str, name: &str, status: InstanceStatus) -> LiveInstance {
    LiveInstance {
        id: id.to_owned(),
        region: region.to_owned(),
        name: name.to_owned(),
        status,
        os_type: OsType::Linux,
        creation_time: "2026-01-01T00:00Z".to_owned(),
        start_time: Some("2026-02-01T00:00Z".to_owned()),
        key_pair_name: None,
        locked_for_security: false,
    }
}

/// A fleet in two waves and two regions with one instance per planner outcome.
fn varied_plan() -> Plan {
    let hangzhou = "cn-hangzhou";
    let beijing = "cn-beijing";
    let desired = vec![
        desired("i-new", hangzhou, 1, 1),
        desired("i-raised", hangzhou, 3, 1),
        desired("i-steady", hangzhou, 2, 1),
        desired("i-pending", hangzhou, 2, 1),
        desired("i-keyed", hangzhou, 1, 1),
        desired("i-busy", beijing, 2, 1),
        desired("i-missing", beijing, 1, 1),
        desired("i-late", beijing, 1, 2),
    ];
    let mut state = State::new();
    for (id, region, generation, phase) in [
        ("i-raised", hangzhou, 2, Phase::Effective),
        ("i-steady", hangzhou, 2, Phase::Effective),
        ("i-pending", hangzhou, 2, Phase::Reset),
        ("i-keyed", hangzhou, 1, Phase::Effective),
        ("i-busy", beijing, 1, Phase::Effective),
        ("i-gone", beijing, 4, Phase::Effective),
    ] {
        state
            .instances
            .insert(id.to_owned(), record(id, region, generation, phase));
    }
    let mut instances = BTreeMap::new();
    for (id, region, name, status) in [
        ("i-new", hangzhou, "web-1", InstanceStatus::Running),
        ("i-raised", hangzhou, "web-2", InstanceStatus::Stopped),
        ("i-steady", hangzhou, "web-3", InstanceStatus::Running),
        ("i-pending", hangzhou, "web-4", InstanceStatus::Running),
        ("i-keyed", hangzhou, "web-5", InstanceStatus::Running),
        ("i-busy", beijing, "db-1", InstanceStatus::Starting),
        ("i-late", beijing, "db-2", InstanceStatus::Running),
    ] {
        instances.insert(id.to_owned(), live(id, region, name, status));
    }
    instances.get_mut("i-keyed").unwrap().key_pair_name = Some("deploy".to_owned());
    let suspect = BTreeSet::new();
    let view = LiveView {
        instances: &instances,
        suspect_regions: &suspect,
    };
    plan::compute(&desired, &state, view, &[]).unwrap()
}

#[test]
fn text_plan_is_a_unified_diff_of_the_managed_view_with_reasons_and_a_summary() {
    insta::assert_snapshot!(render::text(&varied_plan(), false));
}

#[test]
fn text_plan_in_colour_marks_removed_and_added_lines() {
    let text = render::text(&varied_plan(), true);
    assert!(text.contains("\x1b[31m-i-raised"));
    assert!(text.contains("\x1b[32m+i-raised"));
    assert!(!render::text(&varied_plan(), false).contains('\x1b'));
}

#[test]
fn json_plan_is_pinned() {
    insta::assert_snapshot!(render::json(&varied_plan()));
}

#[test]
fn markdown_plan_is_pinned() {
    insta::assert_snapshot!(render::markdown(&varied_plan()));
}

#[test]
fn rendering_the_same_plan_twice_gives_the_same_bytes() {
    let plan = varied_plan();
    assert_eq!(
        render::text(&plan, false),
        render::text(&varied_plan(), false)
    );
    assert_eq!(render::json(&plan), render::json(&varied_plan()));
    assert_eq!(render::markdown(&plan), render::markdown(&varied_plan()));
}

#[test]
fn empty_plan_says_there_are_no_changes() {
    let plan = Plan {
        changes: Vec::new(),
        partial: false,
    };
    assert_eq!(
        render::text(&plan, false),
        "No changes. The declared passwords are in effect on 0 instance(s).\n"
    );
}

/// A plan resetting `count` new instances.
fn large_plan(count: usize) -> Plan {
    let desired: Vec<Desired> = (0..count)
        .map(|index| desired(&format!("i-{index:06}"), "cn-hangzhou", 1, 1))
        .collect();
    let instances: BTreeMap<String, LiveInstance> = desired
        .iter()
        .map(|instance| {
            let found = live(&instance.id, "cn-hangzhou", "web", InstanceStatus::Running);
            (instance.id.clone(), found)
        })
        .collect();
    let suspect = BTreeSet::new();
    let view = LiveView {
        instances: &instances,
        suspect_regions: &suspect,
    };
    plan::compute(&desired, &State::new(), view, &[]).unwrap()
}

#[test]
fn markdown_stays_under_the_limit_for_any_fleet_and_says_what_was_left_out() {
    for count in [1, 100, 1_000, 20_000] {
        let text = render::markdown(&large_plan(count));
        assert!(
            text.chars().count() <= render::MARKDOWN_LIMIT,
            "{count} instances: {} characters",
            text.chars().count()
        );
        assert!(text.starts_with(&format!("### passform plan\n\n**Plan:** {count} to reset")));
        let rows = text.matches("\n| `i-").count();
        if rows < count {
            let left_out = count - rows;
            assert!(
                text.contains(&format!(
                    "\n{left_out} more instance(s) left out ({left_out} to reset) to keep this \
                     comment under 60000 characters; run `passform plan` to see every change.\n"
                )),
                "{count} instances"
            );
            assert!(text.ends_with("\n</details>\n"));
        } else {
            assert!(!text.contains("left out"));
        }
    }
}

#[test]
fn markdown_counts_what_it_left_out_by_action() {
    let mut plan = large_plan(2_000);
    for change in &mut plan.changes[1_500..1_700] {
        change.action = plan::Action::Blocked;
    }
    for change in &mut plan.changes[1_700..] {
        change.action = plan::Action::None;
        change.warnings = vec!["key pair `deploy` was attached after the last reset".to_owned()];
    }
    let text = render::markdown(&plan);
    assert!(text.chars().count() <= render::MARKDOWN_LIMIT);
    let rows = text.matches("\n| `i-").count();
    assert!(rows < 1_500, "the test needs rows of every kind left out");
    let reset = 1_500 - rows;
    assert!(
        text.contains(&format!(
            "\n{} more instance(s) left out ({reset} to reset, 200 blocked, 300 unchanged, 300 \
             with a warning) to keep",
            2_000 - rows
        )),
        "{}",
        &text[text.len() - 400..]
    );
}

#[test]
fn text_diff_of_a_large_fleet_shows_every_changed_instance() {
    let text = render::text(&large_plan(5_000), false);
    assert_eq!(text.matches("\n+i-").count(), 5_000);
    assert_eq!(text.matches("\n-i-").count(), 5_000);
    assert!(text.ends_with(
        "Plan: 5000 to reset, 0 to restart, 0 to wait for, 0 to forget, 0 blocked, 0 unchanged.\n"
    ));
}

#[test]
fn hunk_inside_a_large_group_names_the_group_after_its_header() {
    let mut plan = large_plan(50);
    for (index, change) in plan.changes.iter_mut().enumerate() {
        if index != 30 {
            change.action = plan::Action::None;
            change.restart = plan::Restart::None;
            change.generation.from = Some(1);
        }
    }
    let text = render::text(&plan, false);
    // The heading is line 1 and i-000030 line 32, so the hunk starts three lines before it.
    assert!(
        text.starts_with(
            "--- now (state and live status)\n+++ after apply\n\
             @@ -29,7 +29,7 @@ # wave 1, cn-hangzhou\n i-000027 "
        ),
        "{text}"
    );
    assert_eq!(text.matches("\n@@ ").count(), 1);
}

#[test]
fn markdown_table_cells_cannot_be_broken_by_what_they_show() {
    let mut plan = large_plan(1);
    plan.changes[0].instance = "i-a|b".to_owned();
    plan.changes[0].name = Some("web|<b>1</b>\nnext".to_owned());
    let text = render::markdown(&plan);
    assert!(
        text.contains("\n| `i-a\\|b` | cn-hangzhou | web\\|&lt;b&gt;1&lt;/b&gt; next | Running |"),
        "{text}"
    );
}
