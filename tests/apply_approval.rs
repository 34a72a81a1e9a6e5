//! Approval: without a saved plan or --auto-approve, apply shows the plan on a terminal and
//! proceeds only on the literal answer `yes`. `script` gives apply a pseudo-terminal.

mod apply_support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use apply_support::{Instance, Workspace};
use serde_json::Value;

/// Runs `passform apply` on a pseudo-terminal and types `answer` into it.
fn apply_answering(workspace: &Workspace, answer: &str) -> Output {
    run_on_a_terminal(workspace, "apply", answer)
}

/// Runs the shell command `passform <arguments>` on a pseudo-terminal and types `answer`.
fn run_on_a_terminal(workspace: &Workspace, arguments: &str, answer: &str) -> Output {
    let command = format!("{} {arguments}", env!("CARGO_BIN_EXE_passform"));
    let mut script = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(workspace.directory.path())
        .env_clear()
        .envs(workspace.environment())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run apply under script");
    script
        .stdin
        .take()
        .expect("script stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    script.wait_with_output().expect("apply ends")
}

#[test]
fn an_answer_other_than_yes_cancels_and_changes_nothing() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "Running")]);

    for answer in ["y\n", "YES\n", "Yes\n", " yes\n", "yes please\n", "\n", ""] {
        let output = apply_answering(&workspace, answer);

        let shown = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "answer {answer:?}: {shown}");
        assert!(shown.contains("i-web1"), "the plan is shown: {shown}");
        assert!(shown.contains("Only `yes` proceeds"), "{shown}");
        assert!(
            shown.contains("apply cancelled"),
            "answer {answer:?}: {shown}"
        );
        assert_eq!(workspace.live()["i-web1"]["pending_password"], Value::Null);
        assert!(
            workspace.history().is_empty(),
            "answer {answer:?} changed something"
        );
    }
}

#[test]
fn the_literal_answer_yes_proceeds() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "Running")]);

    let output = apply_answering(&workspace, "yes\n");

    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(shown.contains("apply complete"), "{shown}");
    // On a terminal: a progress bar for the wave, with the finished instance printed above it.
    assert!(shown.contains("wave 1 [="), "{shown}");
    assert!(shown.contains("1/1 instances"), "{shown}");
    assert!(
        shown.contains("i-web1 (cn-hangzhou): done: in effect: rebooted"),
        "{shown}"
    );
    workspace.assert_converged();
}

#[test]
fn on_a_terminal_instances_finished_outside_a_wave_are_shown_too() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-gone", "Running"),
    ]);
    workspace.post(
        "/_emulator/instances/i-gone",
        &serde_json::json!({"deleted": true}),
    );

    let output = apply_answering(&workspace, "yes\n");

    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    // The plan shown before the question names the blocked instance too; look after it.
    let (_, applied) = shown
        .split_once("Only `yes` proceeds")
        .expect("apply asked");
    assert!(
        applied.contains("i-gone (cn-hangzhou): blocked: not found"),
        "{applied}"
    );
    assert!(applied.contains("  blocked i-gone: not found"), "{applied}");
}

#[test]
fn with_json_events_the_plan_and_question_stay_off_stdout() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "Running")]);
    let events = workspace.path("events.jsonl");

    // stdout goes to a file while the question is still asked on the terminal.
    let arguments = format!("apply --format json > {}", events.display());
    let output = run_on_a_terminal(&workspace, &arguments, "yes\n");

    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(shown.contains("Only `yes` proceeds"), "asked: {shown}");
    assert!(shown.contains("i-web1"), "the plan is shown: {shown}");
    let written = std::fs::read_to_string(&events).expect("the events file");
    let lines: Vec<&str> = written.lines().collect();
    assert!(lines.len() > 1, "events were written: {written}");
    for line in &lines {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|error| panic!("{line:?} is not one JSON event: {error}"));
    }
    workspace.assert_converged();
}
