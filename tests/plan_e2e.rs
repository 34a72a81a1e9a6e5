//! `passform plan` against the real emulator over loopback: what it reads, what it prints,
//! what it saves, and how it exits.

mod plan_support;

use plan_support::{Instance, Workspace};
use serde_json::{Value, json};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn fleet(region: &str, count: usize) -> Vec<Instance> {
    (0..count)
        .map(|index| Instance::new(&format!("i-{region}-{index:04}"), region, "Running"))
        .collect()
}

#[test]
fn plan_reads_each_region_with_one_describe_call_per_hundred_instances_and_nothing_else() {
    let mut instances = fleet("cn-hangzhou", 250);
    instances.extend(fleet("cn-beijing", 100));
    instances.extend(fleet("cn-shanghai", 1));
    let workspace = Workspace::new(instances);
    // A recorded instance no longer declared is forgotten without being read, even in a region
    // of its own.
    let mut state = passform::state::State::new();
    let mut record = forgotten_record();
    record.region = "cn-qingdao".to_owned();
    state.instances.insert("i-old".to_owned(), record);
    passform::state::save(&workspace.path("passform.state.json"), &mut state).unwrap();

    let output = workspace.plan(&["--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // ceil(250/100) + ceil(100/100) + ceil(1/100)
    assert_eq!(workspace.calls(), json!({"DescribeInstances": 5}));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["summary"]["reset"], 351);
    assert_eq!(plan["summary"]["forget"], 1);
}

fn forgotten_record() -> passform::state::InstanceRecord {
    passform::state::InstanceRecord {
        region: "cn-hangzhou".to_owned(),
        generation: 1,
        fingerprint: "3f9a".to_owned(),
        phase: passform::state::Phase::Effective,
        creation_time: None,
        start_time_at_reset: None,
        key_pair_at_reset: None,
        reset_at: None,
        effective_at: None,
    }
}

#[test]
fn plan_of_a_new_fleet_resets_every_instance_and_exits_2_with_detailed_exitcode() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "cn-hangzhou", "Running"),
        Instance::new("i-job1", "cn-hangzhou", "Stopped"),
    ]);
    let output = workspace.plan(&["--detailed-exitcode"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Plan: 2 to reset, 0 to restart"), "{text}");
    assert!(text.contains("i-job1 (cn-hangzhou): reset, then start: passform has not set"));
    assert!(text.contains("password (sensitive)"));
}

#[test]
fn plan_with_everything_applied_reports_no_changes_and_exits_0() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    workspace.record_everything_applied();
    let output = workspace.plan(&["--detailed-exitcode"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "No changes. The declared passwords are in effect on 1 instance(s).\n"
    );
}

#[test]
fn two_plans_of_the_same_inputs_are_byte_identical_in_every_format() {
    let mut instances = fleet("cn-hangzhou", 30);
    instances.extend(fleet("cn-beijing", 5));
    let workspace = Workspace::new(instances);
    for format in ["text", "json", "markdown"] {
        let first = workspace.plan(&["--format", format]);
        let second = workspace.plan(&["--format", format]);
        assert!(first.status.success(), "{}", stderr(&first));
        assert_eq!(first.stdout, second.stdout, "{format}");
    }
}

#[test]
fn json_plan_follows_the_documented_schema() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Stopping")]);
    let output = workspace.plan(&["--format", "json"]);
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["partial"], false);
    let change = &plan["changes"][0];
    assert_eq!(change["instance"], "i-web1");
    assert_eq!(change["region"], "cn-hangzhou");
    assert_eq!(change["action"], "wait");
    assert_eq!(change["generation"], json!({"from": null, "to": 1}));
    assert_eq!(change["restart"], "none");
    assert_eq!(change["status"], "Stopping");
    assert!(change["reason"].as_str().unwrap().contains("transitional"));
    assert_eq!(change["warnings"], json!([]));
    assert_eq!(plan["summary"]["wait"], 1);
}

#[test]
fn targeted_plan_covers_only_the_target_and_warns_that_it_is_partial() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "cn-hangzhou", "Running"),
        Instance::new("i-web2", "cn-beijing", "Running"),
    ]);
    let output = workspace.plan(&["--target", "i-web2", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning: this plan is partial"));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["partial"], true);
    assert_eq!(plan["changes"].as_array().unwrap().len(), 1);
    assert_eq!(plan["changes"][0]["instance"], "i-web2");
    assert_eq!(workspace.calls(), json!({"DescribeInstances": 1}));
}

#[test]
fn saved_plan_is_shown_as_it_was_made_and_holds_no_secret() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    let planned = workspace.plan(&["--out", "reviewed.plan"]);
    assert!(planned.status.success(), "{}", stderr(&planned));
    let shown = workspace
        .passform()
        .args(["show", "reviewed.plan"])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert_eq!(shown.stdout, planned.stdout);

    let saved = std::fs::read_to_string(workspace.path("reviewed.plan")).unwrap();
    let record: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(record["format_version"], 1);
    assert_eq!(record["passform_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(record["serial"], 0);
    assert_eq!(record["lineage"].as_str().unwrap().len(), 36);
    assert!(
        record["document_digest"]
            .as_str()
            .unwrap()
            .starts_with("v1:")
    );
    assert_eq!(
        record["preconditions"]["i-web1"],
        json!({
            "found": true,
            "status": "Running",
            "creation_time": "2026-01-01T00:00Z",
            "start_time": "2026-02-01T00:00Z",
            "key_pair_name": null,
            "locked_for_security": false
        })
    );
    assert_eq!(record["plan"]["changes"][0]["action"], "reset");
    let password = workspace
        .passform()
        .args(["password", "i-web1"])
        .output()
        .unwrap();
    let password = String::from_utf8(password.stdout).unwrap();
    assert!(password.trim().len() >= 8);
    let identity = std::fs::read_to_string(workspace.path("identity.txt")).unwrap();
    let identity = identity.trim();
    assert!(identity.starts_with("AGE-SECRET-KEY-"));
    for secret in [password.trim(), workspace.seed.as_str(), identity] {
        for (what, text) in [
            ("saved plan", saved.as_str()),
            ("stdout", &stdout(&planned)),
            ("stderr", &stderr(&planned)),
        ] {
            assert!(!text.contains(secret), "a secret reached the {what}");
        }
    }
}

/// `passform apply PLANFILE`, to completion.
fn apply_saved(workspace: &Workspace, name: &str) -> std::process::Output {
    workspace
        .passform()
        .args(["apply", name])
        .output()
        .expect("run passform apply")
}

/// Asserts that apply refused the saved plan for `reason` and changed nothing.
fn assert_refused(workspace: &Workspace, output: &std::process::Output, reason: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let text = stderr(output);
    assert!(
        text.starts_with(&format!("error: the saved plan is out of date: {reason}\n")),
        "{text}"
    );
    assert!(text.contains("hint: make a new plan with `passform plan --out FILE`"));
    let calls = workspace.calls();
    assert_eq!(calls.get("ModifyInstanceAttribute"), None, "{calls}");
    assert_eq!(calls.get("RebootInstance"), None, "{calls}");
}

#[test]
fn saved_plan_is_applied_when_nothing_changed_since() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    let applied = apply_saved(&workspace, "reviewed.plan");
    assert!(applied.status.success(), "{}", stderr(&applied));
    let again = workspace.plan(&["--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn saved_plan_is_refused_after_the_state_changes() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    workspace.record_everything_applied();
    let state_before = std::fs::read_to_string(workspace.path("passform.state.json")).unwrap();
    let refused = apply_saved(&workspace, "reviewed.plan");
    assert_refused(
        &workspace,
        &refused,
        "the state was written since (there was none then)",
    );
    let state_after = std::fs::read_to_string(workspace.path("passform.state.json")).unwrap();
    assert_eq!(state_after, state_before);

    assert!(workspace.plan(&["--out", "second.plan"]).status.success());
    let mut state = passform::state::load(&workspace.path("passform.state.json")).unwrap();
    passform::state::save(&workspace.path("passform.state.json"), &mut state).unwrap();
    let refused = apply_saved(&workspace, "second.plan");
    assert_refused(
        &workspace,
        &refused,
        "the state changed since (serial 1 then, 2 now)",
    );
}

#[test]
fn saved_plan_is_refused_after_the_document_changes() {
    let mut workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    workspace.instances[0].generation = 2;
    workspace.write_document();
    let refused = apply_saved(&workspace, "reviewed.plan");
    assert_refused(&workspace, &refused, "the document changed since");
}

#[test]
fn saved_plan_is_refused_after_an_instance_changes_status() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    workspace.change_instance("i-web1", json!({"status": "Stopped"}));
    let refused = apply_saved(&workspace, "reviewed.plan");
    assert_refused(
        &workspace,
        &refused,
        "instance i-web1 changed since: status was Running, now Stopped",
    );
}

#[test]
fn plan_while_another_command_holds_the_lock_fails_naming_it_after_the_timeout() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    let _held = passform::state::lock::StateLock::acquire(
        &workspace.path(".passform.lock"),
        std::time::Duration::ZERO,
        "apply",
    )
    .unwrap();
    let output = workspace.plan(&["--lock-timeout", "200ms"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("locked by `passform apply` (pid "), "{text}");
    assert!(text.contains("waited 200ms"), "{text}");
    assert_eq!(workspace.calls(), json!({}));
}

#[test]
fn plan_output_of_a_small_fleet_is_pinned() {
    let workspace = Workspace::new(vec![
        Instance::new("i-web1", "cn-hangzhou", "Running"),
        Instance::new("i-job1", "cn-hangzhou", "Stopped"),
        Instance::new("i-db1", "cn-beijing", "Stopping"),
    ]);
    let output = workspace.plan(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
    // A transitional or stopped instance is read like any other: plan polls nothing.
    assert_eq!(workspace.calls(), json!({"DescribeInstances": 2}));
}

#[test]
fn lock_error_names_the_holder_and_how_to_proceed() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    let _held = passform::state::lock::StateLock::acquire(
        &workspace.path(".passform.lock"),
        std::time::Duration::ZERO,
        "apply",
    )
    .unwrap();
    let output = workspace.plan(&[]);
    let directory = workspace.directory.path().display().to_string();
    insta::with_settings!({filters => vec![
        (directory.as_str(), "[WORKSPACE]"),
        (r"pid \d+", "pid [PID]"),
        (r"on host [^,]+,", "on host [HOST],"),
        (r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "since [TIME]"),
    ]}, {
        insta::assert_snapshot!(stderr(&output));
    });
}

#[test]
fn plan_for_an_unknown_target_fails_with_a_hint_and_reads_nothing() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    let output = workspace.plan(&["--target", "i-typo"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: --target `i-typo` is not an instance the document declares or the state records\n\
         hint: check the id; `passform state list` shows the recorded instances\n"
    );
    assert_eq!(stdout(&output), "");
    assert_eq!(workspace.calls(), json!({}));
}

#[test]
fn plan_into_a_closed_pipe_fails_with_an_error_instead_of_a_panic() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    let mut child = workspace
        .passform()
        .arg("plan")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the reading end before plan writes is what `passform plan | head -0` does.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: could not write to standard output\ncaused by: "),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

/// Runs `passform plan` with its stdout on a pseudo-terminal (`script` gives it one), with
/// `NO_COLOR` set to `no_color` or unset, and returns what the terminal showed.
fn plan_on_a_terminal(workspace: &Workspace, no_color: Option<&str>) -> String {
    let passform = workspace.passform();
    let mut script = std::process::Command::new("script");
    script
        .args(["--quiet", "--return", "--command"])
        .arg(format!("{} plan", env!("CARGO_BIN_EXE_passform")))
        .arg("/dev/null")
        .current_dir(workspace.directory.path())
        .env_clear();
    for (name, value) in passform.get_envs() {
        if let Some(value) = value {
            script.env(name, value);
        }
    }
    match no_color {
        Some(value) => script.env("NO_COLOR", value),
        None => script.env_remove("NO_COLOR"),
    };
    let output = script.output().expect("run plan under script");
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
}

#[test]
fn plan_is_coloured_on_a_terminal_only_and_never_with_no_color() {
    let workspace = Workspace::new(fleet("cn-hangzhou", 2));
    let escape = '\u{1b}';

    let coloured = plan_on_a_terminal(&workspace, None);
    assert!(coloured.contains("i-cn-hangzhou"), "{coloured}");
    assert!(
        coloured.contains(escape),
        "a terminal gets colour: {coloured:?}"
    );

    let plain = plan_on_a_terminal(&workspace, Some("1"));
    assert!(plain.contains("i-cn-hangzhou"), "{plain}");
    assert!(
        !plain.contains(escape),
        "NO_COLOR turns colour off: {plain:?}"
    );

    let mut piped = workspace.passform();
    piped.env_remove("NO_COLOR").arg("plan");
    let output = piped.output().expect("run plan");
    assert!(!stdout(&output).contains(escape), "a pipe gets no colour");
}
