//! `passform state`, `show` and `force-unlock`, run as a user runs them: the real binary on
//! files in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use passform::state::lock::StateLock;
use passform::state::{self, InstanceRecord, Phase, State};

struct Workspace {
    directory: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            directory: tempfile::tempdir().unwrap(),
        }
    }

    fn state_path(&self) -> PathBuf {
        self.directory.path().join("passform.state.json")
    }

    fn lock_path(&self) -> PathBuf {
        self.directory.path().join(".passform.lock")
    }

    /// Writes a state recording `ids`, and returns its text.
    fn write_state(&self, ids: &[&str]) -> String {
        let mut state = State::new();
        for id in ids {
            state.instances.insert((*id).to_owned(), record());
        }
        state::save(&self.state_path(), &mut state).unwrap();
        std::fs::read_to_string(self.state_path()).unwrap()
    }

    fn passform(&self, arguments: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_passform"))
            .args(arguments)
            .current_dir(self.directory.path())
            .env_remove("PASSFORM_STATE")
            .env_remove("PASSFORM_FILE")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }
}

fn record() -> InstanceRecord {
    InstanceRecord {
        region: "cn-hangzhou".to_owned(),
        generation: 2,
        fingerprint: "3f9a".to_owned(),
        phase: Phase::Effective,
        creation_time: Some("2026-01-01T00:00Z".to_owned()),
        start_time_at_reset: Some("2026-02-01T00:00Z".to_owned()),
        key_pair_at_reset: None,
        reset_at: Some("2026-03-01T10:00:00Z".to_owned()),
        effective_at: Some("2026-03-01T10:01:00Z".to_owned()),
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn state_list_prints_one_recorded_id_per_line() {
    let workspace = Workspace::new();
    workspace.write_state(&["i-b", "i-a"]);
    let output = workspace.passform(&["state", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "i-a\ni-b\n");
}

#[test]
fn state_show_prints_what_is_recorded_for_one_instance() {
    let workspace = Workspace::new();
    workspace.write_state(&["i-a"]);
    let output = workspace.passform(&["state", "show", "i-a"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("i-a\n  region               cn-hangzhou\n"),
        "{text}"
    );
    assert!(text.contains("  generation           2\n"));
    assert!(text.contains("  phase                effective\n"));
}

#[test]
fn state_show_of_an_unrecorded_instance_fails_with_a_hint() {
    let workspace = Workspace::new();
    workspace.write_state(&["i-a"]);
    let output = workspace.passform(&["state", "show", "i-z"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: the state records no instance `i-z`\n\
         hint: run `passform state list` to see the recorded instances\n"
    );
}

#[test]
fn state_rm_forgets_one_instance_and_keeps_the_previous_state_as_a_backup() {
    let workspace = Workspace::new();
    let before = workspace.write_state(&["i-a", "i-b"]);
    let output = workspace.passform(&["state", "rm", "i-a"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = state::load(&workspace.state_path()).unwrap();
    assert_eq!(after.instances.keys().collect::<Vec<_>>(), ["i-b"]);
    assert_eq!(after.serial, 2);
    let backup = state::backup_path_for(&workspace.state_path());
    assert_eq!(read(&backup), before);
    assert!(stderr(&output).contains("passform.state.json.backup"));
}

#[test]
fn state_rm_of_an_unrecorded_instance_changes_nothing() {
    let workspace = Workspace::new();
    let before = workspace.write_state(&["i-a"]);
    let output = workspace.passform(&["state", "rm", "i-z"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(read(&workspace.state_path()), before);
}

#[test]
fn corrupt_state_fails_every_state_command_and_is_left_untouched() {
    let workspace = Workspace::new();
    std::fs::write(workspace.state_path(), "{ not json").unwrap();
    for arguments in [&["state", "list"][..], &["state", "rm", "i-a"], &["show"]] {
        let output = workspace.passform(arguments);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}");
        let text = stderr(&output);
        assert!(text.starts_with("error: the state file `passform.state.json` is corrupt\n"));
        assert!(text.contains("hint: restore it from version control or from its backup"));
    }
    assert_eq!(read(&workspace.state_path()), "{ not json");
}

#[test]
fn show_without_a_plan_prints_the_state() {
    let workspace = Workspace::new();
    workspace.write_state(&["i-a"]);
    let output = workspace.passform(&["show"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(", serial 1, 1 instance(s).\n\ni-a\n"),
        "{text}"
    );

    let json = workspace.passform(&["show", "--format", "json"]);
    let state: State = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(state, state::load(&workspace.state_path()).unwrap());
}

#[test]
fn state_rm_while_another_command_holds_the_lock_fails_naming_it() {
    let workspace = Workspace::new();
    let before = workspace.write_state(&["i-a"]);
    let _held = StateLock::acquire(&workspace.lock_path(), Duration::ZERO, "apply").unwrap();
    let output = workspace.passform(&["state", "rm", "i-a"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    let holder = format!(
        "the state is locked by `passform apply` (pid {} on host ",
        std::process::id()
    );
    assert!(text.starts_with(&format!("error: {holder}")), "{text}");
    assert!(text.contains("hint: wait for that command to finish"));
    assert_eq!(read(&workspace.state_path()), before);
}

#[test]
fn force_unlock_on_a_free_lock_does_nothing() {
    let workspace = Workspace::new();
    let output = workspace.passform(&["force-unlock"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("The state is not locked"));
}

#[test]
fn force_unlock_refuses_to_break_the_lock_of_a_live_process_on_this_host() {
    let workspace = Workspace::new();
    let _held = StateLock::acquire(&workspace.lock_path(), Duration::ZERO, "apply").unwrap();
    let output = workspace.passform(&["force-unlock"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("which is running on this host"), "{text}");
    assert!(text.contains(&format!("`kill {}`", std::process::id())));
    assert!(workspace.lock_path().exists());
}

#[test]
fn force_unlock_breaks_a_lock_held_from_another_host_after_naming_it() {
    let workspace = Workspace::new();
    let _held = StateLock::acquire(&workspace.lock_path(), Duration::ZERO, "apply").unwrap();
    std::fs::write(
        workspace.lock_path(),
        r#"{"pid": 4242, "host": "ci-runner-7", "command": "apply", "started_at": "2026-12-01T08:00:00Z"}"#,
    )
    .unwrap();
    let output = workspace.passform(&["force-unlock"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(
        "Breaking the lock `.passform.lock` held by `passform apply` (pid 4242 on host \
         ci-runner-7, since 2026-12-01T08:00:00Z)."
    ));
    assert!(!workspace.lock_path().exists());
    let output = workspace.passform(&["state", "list"]);
    assert!(output.status.success());
}

#[test]
fn show_without_a_state_says_there_is_none_yet() {
    let workspace = Workspace::new();
    let output = workspace.passform(&["show"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("There is no state at `passform.state.json` yet"));
    assert!(!workspace.state_path().exists());
}

#[test]
fn state_from_a_newer_passform_is_refused_and_left_untouched() {
    let workspace = Workspace::new();
    let newer = "{\"version\": 9, \"lineage\": \"x\", \"serial\": 3, \"instances\": {}}\n";
    std::fs::write(workspace.state_path(), newer).unwrap();
    let output = workspace.passform(&["state", "rm", "i-a"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: the state file `passform.state.json` has format version 9; this passform \
         reads version 1\n\
         hint: upgrade passform: a newer version wrote this state, and passform will not \
         overwrite it\n"
    );
    assert_eq!(read(&workspace.state_path()), newer);
}

#[test]
fn show_output_of_a_state_is_pinned() {
    let workspace = Workspace::new();
    workspace.write_state(&["i-a", "i-b"]);
    let output = workspace.passform(&["show"]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::with_settings!({filters => vec![
        (r"lineage [0-9a-f-]{36}", "lineage [LINEAGE]"),
    ]}, {
        insta::assert_snapshot!(stdout(&output));
    });
}
