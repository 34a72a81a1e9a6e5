//! The thin path through every layer: the real binary against the real emulator on loopback.

mod support;

use support::{EmulatorProcess, Workspace, text};

const FLEET: &str = r#"
time_scale = 0.005

[timing]
start = 30
stop = 20
reboot = 40

[[instance]]
id = "i-bp1runningaaaaaaaaa1"
region = "cn-hangzhou"
status = "Running"
os_type = "linux"
name = "web-1"
password = "Initial#Pass1"

[[instance]]
id = "i-bp1stoppedbbbbbbbbb2"
region = "cn-hangzhou"
status = "Stopped"
os_type = "windows"
name = "batch-1"

[[instance]]
id = "i-uf6runningccccccccc3"
region = "cn-shanghai"
status = "Running"
os_type = "linux"
name = "db-1"
"#;

const DOCUMENT: &str = r#"
[defaults]
region = "cn-hangzhou"

[[instance]]
id = "i-bp1runningaaaaaaaaa1"
generation = 1

[[instance]]
id = "i-bp1stoppedbbbbbbbbb2"
generation = 2

[[instance]]
id = "i-uf6runningccccccccc3"
region = "cn-shanghai"
generation = 1
wave = 2
"#;

const IDS: [&str; 3] = [
    "i-bp1runningaaaaaaaaa1",
    "i-bp1stoppedbbbbbbbbb2",
    "i-uf6runningccccccccc3",
];

fn emulator_with_fleet(workspace: &Workspace) -> EmulatorProcess {
    let fleet_path = workspace.file("fleet.toml");
    std::fs::write(&fleet_path, FLEET).unwrap();
    EmulatorProcess::start(&fleet_path)
}

#[test]
fn fleet_converges_to_the_declared_passwords_and_a_second_plan_is_empty() {
    let workspace = Workspace::new();
    let emulator = emulator_with_fleet(&workspace);
    workspace.write_document(DOCUMENT);
    let mut outputs = Vec::new();

    let plan = workspace.run(&emulator.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "a first plan has changes: {:?}",
        text(&plan)
    );
    outputs.push(plan);

    let apply = workspace.run(&emulator.url, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "apply succeeds: {:?}", text(&apply));
    outputs.push(apply);

    let mut passwords = Vec::new();
    for id in IDS {
        let printed = workspace.run(&emulator.url, &["password", id]);
        assert!(
            printed.status.success(),
            "password {id}: {:?}",
            text(&printed)
        );
        let password = String::from_utf8(printed.stdout)
            .unwrap()
            .trim_end()
            .to_owned();
        let live = emulator.instance(id);
        assert_eq!(
            live["effective_password"],
            password.as_str(),
            "{id} has the declared password"
        );
        assert!(
            live["pending_password"].is_null(),
            "{id} has no pending password"
        );
        assert_eq!(live["status"], "Running", "{id} runs again");
        passwords.push(password);
    }

    let second = workspace.run(&emulator.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "a second plan is empty: {:?}",
        text(&second)
    );
    outputs.push(second);

    let state = std::fs::read_to_string(workspace.file("passform.state.json")).unwrap();
    let mut secrets = passwords.clone();
    secrets.push(workspace.seed.clone());
    for secret in &secrets {
        assert!(
            !state.contains(secret.as_str()),
            "the state holds no secret"
        );
        for output in &outputs {
            let (stdout, stderr) = text(output);
            assert!(!stdout.contains(secret.as_str()), "stdout holds no secret");
            assert!(!stderr.contains(secret.as_str()), "stderr holds no secret");
        }
    }
}

fn assert_clear_failure(output: &std::process::Output, names: &str) {
    let (stdout, stderr) = text(output);
    assert_eq!(output.status.code(), Some(1), "exit 1: {stderr}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: "),
        "an error line first: {stderr}"
    );
    assert!(
        stderr.contains(names),
        "the error names {names:?}: {stderr}"
    );
    assert!(
        stderr.lines().any(|line| line.starts_with("hint: ")),
        "a hint: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
}

#[test]
fn malformed_document_fails_clearly_and_changes_nothing() {
    let workspace = Workspace::new();
    let emulator = emulator_with_fleet(&workspace);
    workspace
        .write_document("[[instance]]\nid = \"i-bp1runningaaaaaaaaa1\"\ngeneration = \"one\"\n");
    let before = workspace.snapshot();

    let plan = workspace.run(&emulator.url, &["plan"]);
    assert_clear_failure(&plan, "generation");
    let apply = workspace.run(&emulator.url, &["apply", "--auto-approve"]);
    assert_clear_failure(&apply, "generation");

    assert_eq!(workspace.snapshot(), before, "no file changed");
    assert!(
        emulator.instance(IDS[0])["pending_password"].is_null(),
        "no instance changed"
    );
}

#[test]
fn missing_identity_fails_clearly_and_changes_nothing() {
    let workspace = Workspace::new();
    let emulator = emulator_with_fleet(&workspace);
    workspace.write_document(DOCUMENT);
    let before = workspace.snapshot();

    let missing = workspace.file("no-such-identity.txt");
    let apply = workspace
        .command(&emulator.url)
        .env("PASSFORM_IDENTITY", &missing)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_clear_failure(&apply, "no-such-identity.txt");

    assert_eq!(workspace.snapshot(), before, "no file changed");
    assert!(
        emulator.instance(IDS[0])["pending_password"].is_null(),
        "no instance changed"
    );
}

#[test]
fn unreachable_endpoint_fails_clearly_and_changes_nothing() {
    let workspace = Workspace::new();
    workspace.write_document(DOCUMENT);
    let before = workspace.snapshot();

    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let plan = workspace.run(&endpoint, &["plan"]);
    assert_clear_failure(&plan, &endpoint);

    assert_eq!(workspace.snapshot(), before, "no file changed");
}
