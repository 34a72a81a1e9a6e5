//! `passform apply PLANFILE`: a reviewed plan runs without asking, exactly as saved, and is
//! refused once anything it was made from has changed.

mod apply_support;

use std::process::Output;

use apply_support::{Instance, Workspace};

fn run(workspace: &Workspace, arguments: &[&str]) -> Output {
    workspace
        .passform()
        .args(arguments)
        .output()
        .expect("run passform")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fleet() -> Vec<Instance> {
    vec![
        Instance::new("i-web1", "Running"),
        Instance::new("i-batch1", "Stopped").restart("running-only"),
    ]
}

#[test]
fn a_saved_plan_runs_without_asking_and_converges() {
    let workspace = Workspace::new(fleet());
    let saved = run(&workspace, &["plan", "--out", "reviewed.plan"]);
    assert!(saved.status.success(), "{}", stderr(&saved));

    let output = run(&workspace, &["apply", "reviewed.plan"]);

    assert!(output.status.success(), "{}", stderr(&output));
    workspace.assert_converged();
    let plan = run(&workspace, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
}

#[test]
fn a_saved_plan_is_refused_once_the_state_changed_and_nothing_is_done() {
    let workspace = Workspace::new(fleet());
    assert!(
        run(&workspace, &["plan", "--out", "reviewed.plan"])
            .status
            .success()
    );
    assert!(workspace.apply(&[]).status.success());
    let changes = workspace.history().len();

    let output = run(&workspace, &["apply", "reviewed.plan"]);

    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("error: the saved plan is out of date"),
        "{text}"
    );
    assert!(text.contains("hint: "), "{text}");
    assert_eq!(workspace.history().len(), changes);
}

#[test]
fn a_target_with_a_saved_plan_is_refused_with_a_hint() {
    let workspace = Workspace::new(fleet());
    assert!(
        run(&workspace, &["plan", "--out", "reviewed.plan"])
            .status
            .success()
    );

    let output = run(
        &workspace,
        &["apply", "reviewed.plan", "--target", "i-web1"],
    );

    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("--target cannot be combined with a saved plan"),
        "{text}"
    );
    assert!(
        text.contains("hint: make the saved plan with `passform plan --target"),
        "{text}"
    );
    assert!(workspace.history().is_empty());
}
