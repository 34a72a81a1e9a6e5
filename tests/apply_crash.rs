//! apply killed with SIGKILL at many points, then run again: every instance ends with exactly
//! the declared password, and the state agrees with the emulator.

mod apply_support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use apply_support::{Instance, Workspace};

/// Where the first apply is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Right after it printed this many JSON events (each printed after its step was recorded).
    AfterEvents(usize),
    /// After this long, wherever it is: between a record and its API call, or inside a call.
    After(Duration),
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

/// Starts apply, kills it at `point`, and returns how many events it printed.
fn kill_apply(workspace: &Workspace, point: KillPoint) -> usize {
    let mut child = workspace
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
        .expect("start passform apply");
    let mut printed = 0;
    match point {
        KillPoint::AfterEvents(count) => {
            let stdout = child.stdout.take().expect("apply stdout");
            for line in BufReader::new(stdout).lines() {
                if line.is_err() {
                    break;
                }
                printed += 1;
                if printed == count {
                    break;
                }
            }
        }
        KillPoint::After(delay) => std::thread::sleep(delay),
    }
    // Child::kill sends SIGKILL on Unix: no handler runs, nothing is flushed.
    let _ = child.kill();
    let _ = child.wait();
    printed
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
    let mut count = 1;
    loop {
        let workspace = Workspace::new(fleet());
        let point = KillPoint::AfterEvents(count);
        let printed = kill_apply(&workspace, point);
        rerun_and_check(&workspace, point);
        if printed < count {
            // The first apply finished before printing `count` events: every step was covered.
            break;
        }
        count += 1;
    }
    assert!(count > 10, "only {count} kill points were reached");
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
