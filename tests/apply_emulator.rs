//! `passform apply` end to end: the real binary against the real emulator over loopback.

mod apply_support;

use std::collections::BTreeMap;

use apply_support::{Instance, Workspace};
use serde_json::{Value, json};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn each_restart_policy_ends_in_its_status_with_the_password_effective_or_pending() {
    let workspace = Workspace::new(vec![
        Instance::new("i-autorun", "Running"),
        Instance::new("i-autostop", "Stopped"),
        Instance::new("i-onlyrun", "Running").restart("running-only"),
        Instance::new("i-onlystop", "Stopped").restart("running-only"),
        Instance::new("i-neverrun", "Running").restart("never"),
        Instance::new("i-neverstop", "Stopped").restart("never"),
    ]);

    let output = workspace.apply(&["-vv"]);

    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_converged();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(printed.contains("apply complete"), "{printed}");
    workspace.assert_no_password_in(&printed);
}

/// Per instance: when its password was reset, and when it next came back Running.
fn spans(history: &[Value]) -> BTreeMap<String, (u64, u64)> {
    let mut spans = BTreeMap::new();
    for event in history {
        let instance = event["instance"].as_str().unwrap().to_owned();
        let at = event["at_ms"].as_u64().unwrap();
        if event["action"] == "ModifyInstanceAttribute" {
            spans.insert(instance, (at, u64::MAX));
        } else if event["status_to"] == "Running"
            && let Some(span) = spans.get_mut(&instance)
            && span.1 == u64::MAX
        {
            span.1 = at;
        }
    }
    spans
}

#[test]
fn waves_and_the_parallelism_bound_show_in_the_emulator_history() {
    let mut instances: Vec<Instance> = (1..=6)
        .map(|n| Instance::new(&format!("i-first{n}"), "Running"))
        .collect();
    instances.extend((1..=2).map(|n| Instance::new(&format!("i-second{n}"), "Stopped").wave(2)));
    let workspace = Workspace::new(instances);

    let output = workspace.apply(&["--parallelism", "2"]);

    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_converged();
    let spans = spans(&workspace.history());
    assert_eq!(spans.len(), 8);
    let most_in_flight = spans
        .values()
        .map(|(start, _)| {
            let overlapping = spans.values().filter(|(s, e)| s <= start && start < e);
            overlapping.count()
        })
        .max()
        .unwrap();
    assert_eq!(most_in_flight, 2, "{spans:?}");
    let first_wave_end = spans
        .iter()
        .filter(|(id, _)| id.starts_with("i-first"))
        .map(|(_, (_, end))| *end)
        .max()
        .unwrap();
    for (id, (start, _)) in spans.iter().filter(|(id, _)| id.starts_with("i-second")) {
        assert!(*start >= first_wave_end, "{id} reset before wave 1 ended");
    }
    // The two instances in flight become due together, so each pair shares one call.
    let calls = &workspace.get("/_emulator/calls")["calls"];
    assert_eq!(calls["RebootInstances"], 3, "{calls}");
    assert_eq!(calls["StartInstances"], 1, "{calls}");
}

#[test]
fn throttling_server_errors_and_dropped_answers_all_converge() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-web2", "Running"),
        Instance::new("i-batch1", "Stopped"),
        Instance::new("i-batch2", "Stopped").region("cn-beijing"),
    ]);
    workspace.fault(json!({"action": "DescribeInstances", "rate_limit_per_second": 5}));
    // Per call: throttled, then a server error, then made but unanswered, then answered.
    for action in [
        "ModifyInstanceAttribute",
        "RebootInstances",
        "StartInstances",
    ] {
        for rule in [
            json!({"action": action, "error": "Throttling", "count": 1}),
            json!({"action": action, "error": "ServiceUnavailable", "count": 1}),
            json!({"action": action, "drop_after_commit": true, "count": 1}),
        ] {
            workspace.fault(rule);
        }
    }

    let output = workspace.apply(&[]);

    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_converged();
    let calls = &workspace.get("/_emulator/calls")["calls"];
    // Every reset was answered in the end, some after being sent again; the throttled and
    // failed restarts were sent again, but the restarts whose answers were lost were checked,
    // not repeated: the two Running instances share one reboot call, the two Stopped ones are
    // in different regions and take one start call each.
    assert!(
        calls["ModifyInstanceAttribute"].as_u64().unwrap() >= 4 + 3,
        "{calls}"
    );
    assert_eq!(calls["RebootInstances"], 3, "{calls}");
    assert_eq!(calls["StartInstances"], 4, "{calls}");
    let history = workspace.history();
    for instance in &workspace.instances {
        let restarts = history.iter().filter(|event| {
            event["instance"] == instance.id.as_str()
                && matches!(
                    event["action"].as_str(),
                    Some("RebootInstances" | "StartInstances")
                )
        });
        assert_eq!(restarts.count(), 1, "{} was restarted once", instance.id);
    }
}

#[test]
fn json_format_prints_one_event_per_line_ending_with_the_summary() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-batch1", "Stopped").restart("never"),
    ]);

    let output = workspace.apply(&["--format", "json"]);

    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_no_password_in(&String::from_utf8_lossy(&output.stdout));
    let events: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON event"))
        .collect();
    let finished: BTreeMap<&str, &str> = events
        .iter()
        .filter(|event| event["event"] == "finished")
        .map(|event| {
            (
                event["instance"].as_str().unwrap(),
                event["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        finished,
        BTreeMap::from([("i-batch1", "pending"), ("i-web1", "effective")])
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(
        (summary["reset"].as_u64(), summary["rebooted"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(summary["left_pending"], 1);

    // With nothing left to do, CI still gets a summary line, and only that.
    let output = workspace.apply(&["--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON event"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["event"], "summary");
    assert_eq!(lines[0]["reset"], 0);
    assert_eq!(lines[0]["failed"], json!([]));
}

#[test]
fn without_approval_or_a_terminal_apply_refuses_and_changes_nothing() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "Running")]);

    let output = workspace
        .passform()
        .arg("apply")
        .output()
        .expect("run passform apply");

    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("error: "), "{text}");
    assert!(text.contains("--auto-approve"), "{text}");
    let live = workspace.live();
    assert_eq!(live["i-web1"]["pending_password"], Value::Null);
    assert!(
        workspace
            .history()
            .iter()
            .all(|event| event["action"] != "ModifyInstanceAttribute")
    );
}

#[test]
fn a_second_apply_after_convergence_changes_nothing() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "Running")]);
    assert!(workspace.apply(&[]).status.success());
    let changes_before = workspace.history().len();

    let output = workspace.apply(&[]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(workspace.history().len(), changes_before);
}

#[test]
fn a_start_outside_passform_is_recorded_as_effective_by_the_next_apply() {
    let workspace = Workspace::new(vec![
        Instance::new("i-batch1", "Stopped").restart("running-only"),
    ]);
    assert!(workspace.apply(&[]).status.success());
    assert_eq!(workspace.state()["instances"]["i-batch1"]["phase"], "reset");
    workspace.post(
        "/_emulator/instances/i-batch1",
        &json!({"status": "Starting"}),
    );
    while workspace.live()["i-batch1"]["status"] != "Running" {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let output = workspace.apply(&[]);

    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("i-batch1: recorded as in effect"), "{text}");
    assert_eq!(
        workspace.state()["instances"]["i-batch1"]["phase"],
        "effective"
    );
    let live = workspace.live();
    assert_eq!(
        live["i-batch1"]["effective_password"],
        workspace.instances[0].password()
    );
}

#[test]
fn instances_in_a_transitional_status_are_waited_for_then_reset() {
    let workspace = Workspace::new(vec![
        Instance::new("i-booting", "Starting"),
        Instance::new("i-halting", "Stopping"),
    ]);

    let output = workspace.apply(&[]);

    assert!(output.status.success(), "{}", stderr(&output));
    let history = workspace.history();
    let settled_before_reset = |id: &str, settled: &str| {
        let settled_at = history
            .iter()
            .position(|event| event["instance"] == id && event["status_to"] == settled);
        let reset_at = history.iter().position(|event| {
            event["instance"] == id && event["action"] == "ModifyInstanceAttribute"
        });
        assert!(
            settled_at < reset_at,
            "{id} was reset before it was {settled}"
        );
    };
    settled_before_reset("i-booting", "Running");
    settled_before_reset("i-halting", "Stopped");
    let live = workspace.live();
    for instance in &workspace.instances {
        assert_eq!(live[&instance.id]["status"], "Running");
        assert_eq!(
            live[&instance.id]["effective_password"],
            instance.password()
        );
    }
}

#[test]
fn a_refused_restart_fails_its_instance_stops_later_waves_and_is_explained_in_plain_lines() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-web2", "Running").wave(2),
    ]);
    workspace.fault(json!({
        "action": "RebootInstances", "error": "InstanceLockedForSecurity", "count": 1
    }));

    let output = workspace.apply(&[]);

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    let failed = "i-web1 (cn-hangzhou): failed: the restart was refused: the service refused \
                  with InstanceLockedForSecurity";
    assert!(lines.iter().any(|line| line.starts_with(failed)), "{text}");
    assert!(
        lines.contains(
            &"i-web2 (cn-hangzhou): skipped: not started: an earlier failure stopped new work"
        ),
        "{text}"
    );
    assert!(
        lines.contains(
            &"apply failed: 1 reset, 0 rebooted, 0 started, 0 in effect, 0 left pending, \
              0 forgotten, 1 failed, 0 blocked, 1 not started"
        ),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("  failed i-web1: the restart was refused")),
        "{text}"
    );
    // Not a terminal: plain lines, no progress bar and no terminal control sequences.
    assert!(!text.contains('\u{1b}') && !text.contains("[="), "{text}");
    assert!(output.stdout.is_empty(), "progress goes to stderr");

    // The password is set and recorded as such; wave 2 was not touched.
    let live = workspace.live();
    assert_eq!(
        live["i-web1"]["pending_password"],
        workspace.instances[0].password()
    );
    assert_eq!(live["i-web2"]["pending_password"], Value::Null);
    let state = workspace.state();
    assert_eq!(state["instances"]["i-web1"]["phase"], "reset");
    assert!(state["instances"].get("i-web2").is_none());

    let output = workspace.apply(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_converged();
}

#[test]
fn a_released_instance_is_reported_blocked_while_the_others_converge() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-gone", "Running"),
    ]);
    workspace.post("/_emulator/instances/i-gone", &json!({"deleted": true}));

    let output = workspace.apply(&[]);

    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("i-gone (cn-hangzhou): blocked: not found")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with("  blocked i-gone: not found")),
        "{text}"
    );
    assert!(text.contains("1 blocked"), "{text}");
    let live = workspace.live();
    assert_eq!(
        live["i-web1"]["effective_password"],
        workspace.instances[0].password()
    );
    assert!(workspace.state()["instances"].get("i-gone").is_none());
}
