//! apply killed with SIGKILL at many points, then run again: every instance ends with exactly
//! the declared password, and the state agrees with the emulator.
//!
//! Right after each kill, before anything runs again, the state is compared with the emulator:
//! it must never lag behind a change the emulator made (a password set with no record of the
//! attempt, a password in effect through a restart sent before the reset was recorded), nor run
//! ahead of it (a reset or an effective password recorded that the emulator does not show).
//! That comparison is what shows that every step is journaled in the right order; the re-run
//! then shows that the next apply finishes from whatever the kill left.

mod apply_support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use apply_support::{Instance, Workspace};
use serde_json::{Value, json};

/// Where the first apply is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Right after it printed this many JSON events. Each event is printed as its step ends,
    /// just before or just after the step is recorded, so the kill lands on either side of a
    /// record.
    AfterEvents(usize),
    /// After this long, wherever it is: between a record and its API call, or inside a call.
    After(Duration),
    /// Right after the first event of this kind (with the outcome of a `finished` event).
    AfterKind(&'static str),
    /// Once the state records a reset as under way, while the reset call is still unanswered.
    WhileResetting,
}

/// What the first apply had got to when it was killed.
#[derive(Debug, Default)]
struct Killed {
    /// How many events it printed.
    printed: usize,
    /// The kind of the last event it printed, with the outcome of a `finished` event.
    last_event: Option<String>,
    /// Whether an instance was restarting (neither Running nor Stopped) at the kill.
    mid_restart: bool,
}

fn fleet() -> Vec<Instance> {
    vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-web2", "Running").region("cn-beijing"),
        Instance::new("i-batch1", "Stopped"),
        Instance::new("i-batch2", "Stopped").restart("running-only"),
        Instance::new("i-web3", "Running").wave(2),
        Instance::new("i-batch3", "Stopped")
            .wave(2)
            .restart("never"),
    ]
}

fn start_apply(workspace: &Workspace) -> Child {
    workspace
        .passform()
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--parallelism",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start passform apply")
}

/// Starts apply, kills it at `point`, and checks the state against the emulator at once.
fn kill_apply(workspace: &Workspace, point: KillPoint) -> Killed {
    let mut child = start_apply(workspace);
    let mut killed = Killed::default();
    match point {
        KillPoint::AfterEvents(_) | KillPoint::AfterKind(_) => {
            let stdout = child.stdout.take().expect("apply stdout");
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: Value = serde_json::from_str(&line).expect("a JSON event");
                killed.printed += 1;
                killed.last_event = match (event["event"].as_str(), event["outcome"].as_str()) {
                    (Some(kind), Some(outcome)) => Some(format!("{kind} {outcome}")),
                    (kind, _) => kind.map(str::to_owned),
                };
                let reached = match point {
                    KillPoint::AfterEvents(count) => killed.printed == count,
                    KillPoint::AfterKind(kind) => killed.last_event.as_deref() == Some(kind),
                    _ => false,
                };
                if reached {
                    break;
                }
            }
        }
        KillPoint::After(delay) => std::thread::sleep(delay),
        KillPoint::WhileResetting => wait_for_phase(workspace, "resetting"),
    }
    // Child::kill sends SIGKILL on Unix: no handler runs, nothing is flushed.
    let _ = child.kill();
    let _ = child.wait();
    killed.mid_restart = assert_state_matches_emulator(workspace, point);
    killed
}

/// Waits until the state records some instance in `phase`.
fn wait_for_phase(workspace: &Workspace, phase: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let recorded = read_state(workspace).is_some_and(|state| {
            state["instances"]
                .as_object()
                .is_some_and(|instances| instances.values().any(|record| record["phase"] == phase))
        });
        if recorded {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the state never recorded phase {phase}");
}

/// The state, or nothing if apply was killed before it first wrote one.
fn read_state(workspace: &Workspace) -> Option<Value> {
    let text = std::fs::read_to_string(workspace.path("passform.state.json")).ok()?;
    Some(serde_json::from_str(&text).expect("the state is whole JSON even after a kill"))
}

/// Asserts that the state left by a kill neither lags behind nor runs ahead of the emulator.
/// Returns true if some instance was in the middle of a restart.
fn assert_state_matches_emulator(workspace: &Workspace, point: KillPoint) -> bool {
    let live = workspace.live();
    let history = workspace.history();
    let state = read_state(workspace).unwrap_or(Value::Null);
    let mut mid_restart = false;
    for instance in &workspace.instances {
        let seen = &live[&instance.id];
        let declared = Value::String(instance.password());
        let record = &state["instances"][&instance.id];
        let phase = record["phase"].as_str();
        let in_effect = seen["effective_password"] == declared;
        let set = in_effect || seen["pending_password"] == declared;
        let status = seen["status"].as_str().unwrap_or_default();
        mid_restart |= !matches!(status, "Running" | "Stopped");

        if set {
            assert_eq!(
                record["generation"], 1,
                "killed at {point:?}: {} has the declared password but the state has no record \
                 of the reset (state: {state})",
                instance.id
            );
        }
        let restarted = history.iter().any(|event| {
            event["instance"] == instance.id.as_str()
                && matches!(
                    event["action"].as_str(),
                    Some("RebootInstances" | "StartInstances" | "RebootInstance" | "StartInstance")
                )
        });
        if restarted {
            assert!(
                matches!(phase, Some("reset" | "effective")),
                "killed at {point:?}: {} was restarted before its reset was recorded \
                 (phase {phase:?})",
                instance.id
            );
        }
        if phase == Some("reset") {
            assert!(
                set,
                "killed at {point:?}: the state records {}'s reset, the emulator does not",
                instance.id
            );
        }
        if phase == Some("effective") {
            assert!(
                in_effect && status == "Running",
                "killed at {point:?}: the state records {}'s password in effect, the emulator \
                 shows {seen}",
                instance.id
            );
        }
    }
    mid_restart
}

fn rerun_and_check(workspace: &Workspace, point: KillPoint) {
    let output = workspace.apply(&[]);
    assert!(
        output.status.success(),
        "apply after a kill at {point:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    workspace.assert_converged();
    // Nothing remains: plan shows no change, and one more apply changes nothing.
    let plan = workspace
        .passform()
        .args(["plan", "--detailed-exitcode"])
        .output()
        .expect("run passform plan");
    assert_eq!(
        plan.status.code(),
        Some(0),
        "plan after a kill at {point:?} still shows changes: {}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let changes = workspace.history().len();
    let again = workspace.apply(&[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        workspace.history().len(),
        changes,
        "a third apply after a kill at {point:?} still changed something"
    );
}

#[test]
fn apply_killed_after_any_step_is_finished_by_the_next_apply() {
    let mut kinds = BTreeSet::new();
    let mut mid_restart = false;
    let mut count = 1;
    loop {
        let workspace = Workspace::new(fleet());
        let point = KillPoint::AfterEvents(count);
        let killed = kill_apply(&workspace, point);
        rerun_and_check(&workspace, point);
        if killed.printed < count {
            // The first apply finished before printing `count` events: every step was covered.
            break;
        }
        kinds.extend(killed.last_event);
        mid_restart |= killed.mid_restart;
        count += 1;
    }

    // Killed before any reset (started, wave_started), after a reset was answered (reset),
    // after a restart was accepted (restart_sent), after a password was recorded in effect or
    // left pending (finished), and between waves (wave_finished). Events of instances in flight
    // together come in an order that timing decides, so the sweep above can miss a kind; each
    // one it missed gets a kill of its own, right after its first event.
    let expected = [
        "started",
        "wave_started",
        "reset",
        "restart_sent",
        "finished effective",
        "finished pending",
        "wave_finished",
    ];
    for kind in expected {
        if kinds.contains(kind) {
            continue;
        }
        let workspace = Workspace::new(fleet());
        let point = KillPoint::AfterKind(kind);
        let killed = kill_apply(&workspace, point);
        assert_eq!(
            killed.last_event.as_deref(),
            Some(kind),
            "apply printed no `{kind}` event"
        );
        rerun_and_check(&workspace, point);
        mid_restart |= killed.mid_restart;
    }
    assert!(
        mid_restart,
        "no kill landed while an instance was restarting"
    );
}

#[test]
fn apply_killed_while_a_reset_is_unanswered_is_finished_by_the_next_apply() {
    let workspace = Workspace::new(fleet());
    // The reset is held up long enough for the kill to land between its record and its answer.
    workspace.fault(json!({"action": "ModifyInstanceAttribute", "latency_ms": 300}));

    kill_apply(&workspace, KillPoint::WhileResetting);

    workspace.fault(json!({"clear": true}));
    rerun_and_check(&workspace, KillPoint::WhileResetting);
}

#[test]
fn apply_killed_at_arbitrary_moments_is_finished_by_the_next_apply() {
    for milliseconds in [0, 15, 40, 80, 130, 200, 300, 450, 650] {
        let workspace = Workspace::new(fleet());
        let point = KillPoint::After(Duration::from_millis(milliseconds));
        kill_apply(&workspace, point);
        rerun_and_check(&workspace, point);
    }
}
