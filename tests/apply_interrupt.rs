//! Ctrl-C during apply: the first stops new work and lets work in flight finish and be
//! recorded; the second exits at once. Either way the next apply finishes the job.

mod apply_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use apply_support::{Instance, Workspace};
use serde_json::Value;

fn fleet() -> Vec<Instance> {
    vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-web2", "Running"),
        Instance::new("i-web3", "Running").wave(2),
    ]
}

/// Starts apply one instance at a time and returns it once its first restart was accepted.
fn apply_until_first_restart(workspace: &Workspace) -> (Child, impl Iterator<Item = Value>) {
    let mut child = workspace
        .passform()
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--parallelism",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start passform apply");
    let stdout = child.stdout.take().expect("apply stdout");
    let mut events = BufReader::new(stdout)
        .lines()
        .map(|line| serde_json::from_str::<Value>(&line.expect("event line")).expect("JSON"));
    events
        .by_ref()
        .find(|event| event["event"] == "restart_sent")
        .expect("a restart was sent");
    (child, events)
}

fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn the_first_interrupt_lets_work_in_flight_finish_and_starts_nothing_new() {
    let workspace = Workspace::new(fleet());
    let (mut child, events) = apply_until_first_restart(&workspace);

    interrupt(&child);
    let events: Vec<Value> = events.collect();
    let status = child.wait().expect("apply ends");

    assert_eq!(status.code(), Some(1));
    let finished = |id: &str| {
        events
            .iter()
            .find(|event| event["event"] == "finished" && event["instance"] == id)
            .map(|event| event["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(finished("i-web1").as_deref(), Some("effective"));
    assert_eq!(finished("i-web2").as_deref(), Some("not_started"));
    assert_eq!(finished("i-web3").as_deref(), Some("not_started"));
    let live = workspace.live();
    assert_eq!(
        live["i-web1"]["effective_password"],
        Instance::new("i-web1", "").password()
    );
    assert_eq!(live["i-web2"]["pending_password"], Value::Null);
    let state = workspace.state();
    assert_eq!(state["instances"]["i-web1"]["phase"], "effective");
    assert!(state["instances"].get("i-web2").is_none());

    let output = workspace.apply(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    workspace.assert_converged();
}

#[test]
fn a_second_interrupt_exits_at_once_and_the_next_apply_finishes() {
    // Reboots of two seconds, so that exiting at once is told apart from finishing the reboot.
    let workspace = Workspace::with_restart_seconds(fleet(), 400);
    let (mut child, _events) = apply_until_first_restart(&workspace);

    interrupt(&child);
    std::thread::sleep(std::time::Duration::from_millis(20));
    interrupt(&child);
    let status = child.wait().expect("apply ends");

    assert_eq!(status.code(), Some(130));
    assert_eq!(workspace.state()["instances"]["i-web1"]["phase"], "reset");
    let output = workspace.apply(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    workspace.assert_converged();
}
