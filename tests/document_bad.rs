//! Every kind of bad document: each command that reads it exits 1 with a message naming the
//! problem and a hint, does not panic, changes no file, and never echoes a rejected password.

mod document_support;

use base64::Engine as _;
use document_support::{Emulator, Sandbox, snapshot, stderr, stdout};

/// The commands that read and validate the document.
const READERS: &[&[&str]] = &[&["validate"], &["password", "i-a"], &["rotate", "--all"]];

/// Runs every reader and checks the common promises; returns the stderr of `validate`.
fn rejected_by_every_reader(sandbox: &Sandbox, expected: &str, secret: Option<&str>) -> String {
    rejected_by(sandbox, READERS, expected, secret)
}

/// The commands that only decrypt the document: `show-document`, and `edit` with an editor
/// that would change it.
const DECRYPTORS: &[&[&str]] = &[&["show-document"], &["edit"]];

/// A document that cannot be decrypted is refused by the readers, and by `edit` and
/// `show-document` too, which open documents that do not validate.
fn undecryptable(sandbox: &Sandbox, expected: &str) {
    rejected_by_every_reader(sandbox, expected, None);
    rejected_by(sandbox, DECRYPTORS, expected, None);
}

/// Runs each of `commands` (with an editor that would change the document, and a private
/// temporary directory) and checks the common promises: exit 1, the expected words and a hint,
/// no panic, nothing on stdout, the secret never echoed, no file changed. Returns the stderr of
/// `validate` when it is among them.
fn rejected_by(
    sandbox: &Sandbox,
    commands: &[&[&str]],
    expected: &str,
    secret: Option<&str>,
) -> String {
    let temporary = sandbox.path("tmp");
    std::fs::create_dir_all(&temporary).unwrap();
    let before = snapshot(sandbox.directory.path());
    let mut validate_stderr = String::new();
    for arguments in commands {
        let output = sandbox
            .passform()
            .args(*arguments)
            .env("EDITOR", "sh -c 'echo \"# edited\" >> \"$1\"' editor")
            .env("TMPDIR", &temporary)
            .output()
            .unwrap();
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {err}");
        assert!(
            err.contains(expected),
            "{arguments:?} should say {expected:?}: {err}"
        );
        assert!(err.contains("hint: "), "{arguments:?}: {err}");
        assert!(!err.contains("panicked"), "{arguments:?}: {err}");
        assert_eq!(out, "", "{arguments:?}");
        if let Some(secret) = secret {
            assert!(
                !err.contains(secret),
                "{arguments:?} echoed the password: {err}"
            );
        }
        assert_eq!(snapshot(sandbox.directory.path()), before, "{arguments:?}");
        if arguments[0] == "validate" {
            validate_stderr = err;
        }
    }
    validate_stderr
}

fn with_body(body: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(body));
    sandbox
}

const INSTANCE: &str = "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\n";

#[test]
fn malformed_toml_is_rejected_with_its_line() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\npassword = \"Unclosed#Pass1\n"
    ));
    let message = rejected_by_every_reader(&sandbox, "not valid TOML", Some("Unclosed#Pass1"));
    assert!(message.contains("passwords.toml.age:11:27:"), "{message}");
}

#[test]
fn an_unquoted_password_is_rejected_without_being_echoed() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\npassword = Unquoted#Pass1\n"
    ));
    let message = rejected_by_every_reader(&sandbox, "not valid TOML", Some("Unquoted"));
    assert!(message.contains("passwords.toml.age:11:"), "{message}");
    rejected_by(
        &sandbox,
        &[&["show-document"]],
        "not valid TOML",
        Some("Unquoted"),
    );
}

#[test]
fn an_unknown_key_is_rejected_by_name() {
    let sandbox = with_body(&format!("{INSTANCE}generation = 1\ngeneraton = 2\n"));
    let message = rejected_by_every_reader(&sandbox, "`instance[1].generaton`", None);
    assert!(message.contains(":11:1:"), "{message}");
}

#[test]
fn a_duplicate_instance_id_is_rejected() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\n{INSTANCE}generation = 1\n"
    ));
    rejected_by_every_reader(&sandbox, "`i-a` is declared twice", None);
}

#[test]
fn generation_zero_is_rejected() {
    let sandbox = with_body(&format!("{INSTANCE}generation = 0\n"));
    rejected_by_every_reader(&sandbox, "generation 0 is below 1", None);
}

#[test]
fn a_weak_password_is_rejected_without_being_echoed() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\npassword = \"weakpassword\"\n"
    ));
    rejected_by_every_reader(&sandbox, "three", Some("weakpassword"));
}

#[test]
fn a_too_long_password_is_rejected_without_being_echoed() {
    let long = "Ab1#".repeat(8);
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\npassword = \"{long}\"\n"
    ));
    rejected_by_every_reader(&sandbox, "at most 30", Some(&long));
}

#[test]
fn a_password_starting_with_a_slash_is_rejected_for_windows() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 1\npassword = \"/Slash#Pass1\"\n"
    ));
    rejected_by_every_reader(&sandbox, "Windows", Some("/Slash#Pass1"));
}

#[test]
fn a_missing_region_is_rejected() {
    let sandbox = with_body("[[instance]]\nid = \"i-a\"\ngeneration = 1\n");
    rejected_by_every_reader(&sandbox, "no region", None);
}

#[test]
fn a_document_without_recipients_is_rejected() {
    let sandbox = Sandbox::new();
    let text = sandbox.plaintext(&format!("{INSTANCE}generation = 1\n"));
    let text = text.replace(&format!("[\"{}\"]", sandbox.recipient), "[]");
    sandbox.write_document(&text);
    rejected_by_every_reader(&sandbox, "`recipients` is empty", None);
}

#[test]
fn two_problems_are_reported_together() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 0\ncolour = \"blue\"\n{INSTANCE}generation = 1\n"
    ));
    let message = rejected_by_every_reader(&sandbox, "has 3 problems", None);
    assert!(message.contains("`instance[1].generation`"), "{message}");
    assert!(message.contains("`instance[1].colour`"), "{message}");
    assert!(message.contains("`instance[2].id`"), "{message}");
}

#[test]
fn a_document_for_another_identity_lists_the_identities_tried() {
    let sandbox = Sandbox::new();
    let stranger = Sandbox::new();
    stranger.write_document(&stranger.plaintext(""));
    std::fs::copy(stranger.document_path(), sandbox.document_path()).unwrap();
    let missing = sandbox.path("missing-identity.txt");
    let identities = format!("{}:{}", sandbox.identity.display(), missing.display());
    let output = sandbox
        .passform()
        .arg("validate")
        .env("PASSFORM_IDENTITY", identities)
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(message.contains("none of the identities"), "{message}");
    assert!(message.contains(&format!("`{}` (1 key)", sandbox.identity.display())));
    assert!(message.contains(&format!("`{}` (not found)", missing.display())));
    undecryptable(&sandbox, "none of the identities");
}

#[test]
fn a_missing_identity_file_is_named() {
    let sandbox = with_body("");
    std::fs::remove_file(&sandbox.identity).unwrap();
    undecryptable(&sandbox, "no identity file was found");
}

/// The document in binary age format, decoded from its armor.
fn binary_document(sandbox: &Sandbox) -> Vec<u8> {
    let armored = std::fs::read_to_string(sandbox.document_path()).unwrap();
    let body: String = armored
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn tampered_ciphertext_is_rejected() {
    let sandbox = with_body(&format!("{INSTANCE}generation = 1\n"));
    let mut binary = binary_document(&sandbox);
    let last = binary.len() - 5;
    binary[last] ^= 0x01;
    std::fs::write(sandbox.document_path(), binary).unwrap();
    undecryptable(&sandbox, "damaged");
}

#[test]
fn a_truncated_file_is_rejected() {
    let sandbox = with_body(&format!("{INSTANCE}generation = 1\n"));
    let binary = binary_document(&sandbox);
    std::fs::write(sandbox.document_path(), &binary[..binary.len() - 20]).unwrap();
    undecryptable(&sandbox, "damaged");
}

#[test]
fn a_truncated_header_is_rejected() {
    let sandbox = with_body("");
    let binary = binary_document(&sandbox);
    std::fs::write(sandbox.document_path(), &binary[..40]).unwrap();
    undecryptable(&sandbox, "not a readable age file");
}

#[test]
fn an_empty_file_is_rejected() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.document_path(), "").unwrap();
    undecryptable(&sandbox, "is empty");
}

#[test]
fn a_missing_document_points_to_init() {
    let sandbox = Sandbox::new();
    let message = rejected_by_every_reader(&sandbox, "does not exist", None);
    assert!(message.contains("passform init"));
    undecryptable(&sandbox, "does not exist");
}

#[test]
fn validate_json_lists_every_problem_and_exits_one() {
    let sandbox = with_body(&format!(
        "{INSTANCE}generation = 0\npassword = \"weakweak\"\n"
    ));
    let output = sandbox.run(&["validate", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!stdout(&output).contains("weakweak"));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["valid"], false);
    let keys: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["instance[1].generation", "instance[1].password"]);
    assert_eq!(report["problems"][0]["line"], 10);
    assert!(report["problems"][0]["hint"].is_string());
}

#[test]
fn validate_json_reports_an_unreadable_document_as_an_error() {
    let sandbox = Sandbox::new();
    std::fs::write(sandbox.document_path(), "").unwrap();
    let output = sandbox.run(&["validate", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["valid"], false);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty")
    );
    assert!(report["error"]["hint"].is_string());
}

#[test]
fn the_problem_report_reads_as_pinned() {
    let sandbox = with_body(
        "[[instance]]\nid = \"i-a\"\ngeneration = 0\ncolour = \"blue\"\n\n\
         [[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n\
         password = \"short\"\n",
    );

    let output = sandbox.run(&["validate"]);

    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&output), @r#"
    error: the document `passwords.toml.age` has 5 problems:
      passwords.toml.age:7:1: `instance[1].region`: this instance has no region and `[defaults]` sets none
        hint: add `region = "cn-hangzhou"` (its real region) to the instance, or set `region` in `[defaults]`
      passwords.toml.age:9:14: `instance[1].generation`: generation 0 is below 1
        hint: generations start at 1 and only go up; raise it to rotate the password
      passwords.toml.age:10:1: `instance[1].colour`: `colour` is not a key schema v1 knows here
        hint: the keys allowed here are id, region, generation, password, restart, wave
      passwords.toml.age:13:6: `instance[2].id`: `i-a` is declared twice (first on line 8)
        hint: keep one [[instance]] per instance id
      passwords.toml.age:16:12: `instance[2].password`: the password has 5 characters; ECS needs at least 8
        hint: choose a password that ECS accepts (docs/document.md lists the policy), or remove `password` to use a derived one
    hint: fix the problems above with `passform edit`
    "#);
}

/// Applies generation 2 of `i-a` with an explicit password, then writes `changed` as the
/// document: the state now records what the document contradicts.
fn applied_then_changed(emulator: &Emulator, sandbox: &Sandbox, changed: &str) {
    let applied = format!("{INSTANCE}generation = 2\npassword = \"Applied#Pass1\"\n");
    sandbox.write_document(&sandbox.plaintext(&applied));
    let output = emulator
        .passform(sandbox)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(sandbox.path("passform.state.json").exists());
    sandbox.write_document(&sandbox.plaintext(&format!("{INSTANCE}{changed}")));
}

/// Runs `plan` and `apply` against the emulator: both exit 1 naming the problem with a hint,
/// print nothing on stdout, change no file, and echo neither password.
fn refused_by_plan_and_apply(emulator: &Emulator, sandbox: &Sandbox, expected: &[&str]) {
    let before = snapshot(sandbox.directory.path());
    for arguments in [&["plan"][..], &["apply", "--auto-approve"]] {
        let output = emulator.passform(sandbox).args(arguments).output().unwrap();
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {err}");
        for expected in expected {
            assert!(
                err.contains(expected),
                "{arguments:?} should say {expected:?}: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{arguments:?}: {err}");
        assert_eq!(out, "", "{arguments:?}");
        for password in ["Applied#Pass1", "Changed#Pass2"] {
            assert!(
                !err.contains(password),
                "{arguments:?} echoed a password: {err}"
            );
        }
        assert_eq!(snapshot(sandbox.directory.path()), before, "{arguments:?}");
    }
}

#[test]
fn a_lowered_generation_is_refused_by_plan_and_apply() {
    let sandbox = Sandbox::new();
    let emulator = Emulator::start(&sandbox);
    applied_then_changed(
        &emulator,
        &sandbox,
        "generation = 1\npassword = \"Applied#Pass1\"\n",
    );

    refused_by_plan_and_apply(
        &emulator,
        &sandbox,
        &["declares generation 1, lower than generation 2", "hint: "],
    );
}

#[test]
fn an_explicit_password_changed_without_a_raised_generation_is_refused() {
    let sandbox = Sandbox::new();
    let emulator = Emulator::start(&sandbox);
    applied_then_changed(
        &emulator,
        &sandbox,
        "generation = 2\npassword = \"Changed#Pass2\"\n",
    );

    refused_by_plan_and_apply(
        &emulator,
        &sandbox,
        &[
            "password of instance `i-a` changed but its generation is still 2",
            "hint: raise the generation to 3",
        ],
    );
}
