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
    let output = workspace.plan(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // ceil(250/100) + ceil(100/100) + ceil(1/100)
    assert_eq!(workspace.calls(), json!({"DescribeInstances": 5}));
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
    let password = workspace
        .passform()
        .args(["password", "i-web1"])
        .output()
        .unwrap();
    let password = String::from_utf8(password.stdout).unwrap();
    assert!(password.trim().len() >= 8);
    assert!(!saved.contains(password.trim()));
    assert!(!stdout(&planned).contains(password.trim()));
}

/// Checks a saved plan the way `passform apply PLANFILE` does, against the live fleet as the
/// emulator holds it (every instance Running, created and started at the fixed times).
fn check_saved_plan(workspace: &Workspace, name: &str) -> Result<(), String> {
    use passform::plan::{LiveView, saved};
    let saved_plan = saved::load(&workspace.path(name)).unwrap();
    let loaded = passform::document::load(
        &workspace.path("passwords.toml.age"),
        &[workspace.path("identity.txt")],
    )
    .unwrap();
    let state = passform::state::load(&workspace.path("passform.state.json")).unwrap();
    let instances = workspace
        .instances
        .iter()
        .map(|instance| (instance.id.clone(), live_instance(&instance.id)))
        .collect();
    let suspect = Default::default();
    let live = LiveView {
        instances: &instances,
        suspect_regions: &suspect,
    };
    saved::check(&saved_plan, &state, &loaded.digest, live).map_err(|error| error.to_string())
}

#[test]
fn saved_plan_is_refused_after_the_state_changes() {
    let workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    assert_eq!(check_saved_plan(&workspace, "reviewed.plan"), Ok(()));

    workspace.record_everything_applied();
    assert_eq!(
        check_saved_plan(&workspace, "reviewed.plan"),
        Err(
            "the saved plan is out of date: the state was written since (there was none then)"
                .to_owned()
        )
    );

    assert!(workspace.plan(&["--out", "second.plan"]).status.success());
    assert_eq!(check_saved_plan(&workspace, "second.plan"), Ok(()));
    let mut state = passform::state::load(&workspace.path("passform.state.json")).unwrap();
    passform::state::save(&workspace.path("passform.state.json"), &mut state).unwrap();
    assert_eq!(
        check_saved_plan(&workspace, "second.plan"),
        Err(
            "the saved plan is out of date: the state changed since (serial 1 then, 2 now)"
                .to_owned()
        )
    );
}

#[test]
fn saved_plan_is_refused_after_the_document_changes() {
    let mut workspace = Workspace::new(vec![Instance::new("i-web1", "cn-hangzhou", "Running")]);
    assert!(workspace.plan(&["--out", "reviewed.plan"]).status.success());
    workspace.instances[0].generation = 2;
    workspace.write_document();
    assert_eq!(
        check_saved_plan(&workspace, "reviewed.plan"),
        Err("the saved plan is out of date: the document changed since".to_owned())
    );
}

fn live_instance(id: &str) -> passform::ecs::LiveInstance {
    passform::ecs::LiveInstance {
        id: id.to_owned(),
        region: "cn-hangzhou".to_owned(),
        name: format!("name-{}", &id[2..]),
        status: passform::ecs::model::InstanceStatus::Running,
        os_type: passform::ecs::model::OsType::Linux,
        creation_time: "2026-01-01T00:00Z".to_owned(),
        start_time: Some("2026-02-01T00:00Z".to_owned()),
        key_pair_name: None,
        locked_for_security: false,
    }
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
