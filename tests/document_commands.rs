//! `passform init`, `password` and `validate` through the real binary.

mod document_support;

use document_support::{Sandbox, snapshot, stderr, stdout};
use passform::document::{self, policy};

#[test]
fn init_creates_a_private_identity_and_a_document_that_passform_can_read() {
    let sandbox = Sandbox::new();
    let output = sandbox.bare_passform().arg("init").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");

    let identity = sandbox.path("config/passform/identity.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&identity).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ciphertext = std::fs::read_to_string(sandbox.document_path()).unwrap();
    assert!(ciphertext.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));

    let loaded = document::load(&sandbox.document_path(), std::slice::from_ref(&identity)).unwrap();
    assert!(loaded.document.instances.is_empty());
    assert_eq!(loaded.document.recipients.len(), 1);

    let plaintext = document::decrypt(&sandbox.document_path(), &[identity]).unwrap();
    let comments: String = plaintext
        .lines()
        .filter(|line| line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for key in [
        "Who can decrypt",
        "random bytes",
        "region =",
        "restart =",
        "password_length =",
        "[[instance]]",
        "id =",
        "generation =",
        "password =",
        "wave =",
    ] {
        assert!(
            comments.contains(key),
            "no comment teaches {key:?}:\n{comments}"
        );
    }
}

#[test]
fn init_makes_a_fresh_32_byte_seed_for_every_document() {
    let first = Sandbox::new();
    let second = Sandbox::new();
    std::fs::copy(&first.identity, &second.identity).unwrap();
    let identity_before = std::fs::read(&first.identity).unwrap();

    for sandbox in [&first, &second] {
        let output = sandbox.run(&["init"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(std::fs::read(&sandbox.identity).unwrap(), identity_before);
    }

    let seed = |sandbox: &Sandbox| {
        let plaintext = sandbox.decrypt();
        let line = plaintext
            .lines()
            .find(|line| line.starts_with("seed = "))
            .unwrap();
        let encoded = line
            .trim_start_matches("seed = ")
            .trim_matches('"')
            .to_owned();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        assert_eq!(bytes.len(), 32);
        encoded
    };
    assert_ne!(seed(&first), seed(&second));
}

#[test]
fn init_never_overwrites_an_existing_document() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(""));
    let before = snapshot(sandbox.directory.path());

    let output = sandbox.run(&["init"]);

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("hint: "));
    assert_eq!(snapshot(sandbox.directory.path()), before);
}

#[test]
fn init_encrypts_to_an_existing_identity_without_touching_it() {
    let sandbox = Sandbox::new();
    let identity_before = std::fs::read(&sandbox.identity).unwrap();

    let output = sandbox.run(&["init"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&sandbox.identity).unwrap(), identity_before);
    let loaded = document::load(
        &sandbox.document_path(),
        std::slice::from_ref(&sandbox.identity),
    )
    .unwrap();
    assert_eq!(loaded.document.recipients, vec![sandbox.recipient.clone()]);
}

#[test]
fn password_prints_only_the_derived_password_and_a_newline() {
    let sandbox = Sandbox::new();
    sandbox.write_document(
        &sandbox
            .plaintext("[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n"),
    );

    let output = sandbox.run(&["password", "i-a"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let printed = stdout(&output);
    let password = printed.strip_suffix('\n').unwrap();
    assert_eq!(password.len(), 20);
    assert_eq!(policy::check(password), Ok(()));
    assert_eq!(stdout(&sandbox.run(&["password", "i-a"])), printed);
}

#[test]
fn password_prints_an_explicit_password_as_written() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(
        "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n\
         password = \"Explicit#Pass1\"\n",
    ));

    let output = sandbox.run(&["password", "i-a"]);

    assert_eq!(stdout(&output), "Explicit#Pass1\n");
}

#[test]
fn password_of_an_undeclared_instance_fails_with_a_hint() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(""));

    let output = sandbox.run(&["password", "i-missing"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("declares no instance `i-missing`"));
    assert!(stderr(&output).contains("hint: "));
}

#[test]
fn validate_reports_a_valid_document_on_stdout() {
    let sandbox = Sandbox::new();
    sandbox.write_document(
        &sandbox
            .plaintext("[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n"),
    );

    let output = sandbox.run(&["validate"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "passwords.toml.age: valid, 1 instance declared\n"
    );
}

#[test]
fn init_writes_the_identity_where_identity_points_in_a_private_directory() {
    let sandbox = Sandbox::new();
    let identity = sandbox.path("keys/passform/me.txt");

    let output = sandbox
        .bare_passform()
        .arg("init")
        .arg("--identity")
        .arg(&identity)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&identity), 0o600);
        assert_eq!(mode(identity.parent().unwrap()), 0o700);
    }
    assert!(!sandbox.path("config").exists());
    assert!(document::load(&sandbox.document_path(), &[identity]).is_ok());
}

#[test]
fn no_command_but_password_prints_a_secret() {
    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["init"]).status.success());
    let plaintext = sandbox.decrypt();
    let seed_line = plaintext
        .lines()
        .find(|line| line.starts_with("seed = "))
        .unwrap();
    let seed = seed_line
        .trim_start_matches("seed = ")
        .trim_matches('"')
        .to_owned();
    let body = "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n\n\
                [[instance]]\nid = \"i-b\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n\
                password = \"Explicit#Pass1\"\n";
    sandbox.write_document(&format!("{plaintext}\n{body}"));
    let password = |id: &str| stdout(&sandbox.run(&["password", id])).trim().to_owned();
    let mut secrets = vec![seed, "Explicit#Pass1".to_owned(), password("i-a")];

    let mut printed = String::new();
    for arguments in [
        &["validate"][..],
        &["validate", "--format", "json"],
        &["show-document"],
        &["rotate", "--all"],
        &["validate"],
    ] {
        let output = sandbox.run(arguments);
        assert!(
            output.status.success(),
            "{arguments:?}: {}",
            stderr(&output)
        );
        printed.push_str(&stdout(&output));
        printed.push_str(&stderr(&output));
    }
    let unchanged = sandbox
        .passform()
        .arg("edit")
        .env("EDITOR", "true")
        .output()
        .unwrap();
    printed.push_str(&stdout(&unchanged));
    printed.push_str(&stderr(&unchanged));
    secrets.push(password("i-a"));

    for secret in &secrets {
        assert!(!printed.contains(secret.as_str()), "a secret was printed");
    }
    assert!(printed.contains("i-a: generation 1 -> 2"));
}

#[test]
fn identities_come_from_the_flags_then_the_environment_then_the_default_file() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(""));
    let stranger = Sandbox::new();
    let validate = |command: &mut std::process::Command| command.arg("validate").output().unwrap();

    let default_file = sandbox.path("config/passform/identity.txt");
    std::fs::create_dir_all(default_file.parent().unwrap()).unwrap();
    std::fs::copy(&sandbox.identity, &default_file).unwrap();
    let by_default = validate(&mut sandbox.bare_passform());
    assert!(by_default.status.success(), "{}", stderr(&by_default));
    std::fs::remove_file(&default_file).unwrap();

    let by_environment = validate(
        sandbox
            .bare_passform()
            .env("PASSFORM_IDENTITY", &sandbox.identity),
    );
    assert!(
        by_environment.status.success(),
        "{}",
        stderr(&by_environment)
    );

    let flags_win = validate(
        sandbox
            .bare_passform()
            .env("PASSFORM_IDENTITY", &stranger.identity)
            .arg("--identity")
            .arg(&stranger.identity)
            .arg("-i")
            .arg(&sandbox.identity),
    );
    assert!(flags_win.status.success(), "{}", stderr(&flags_win));

    let flags_replace_the_environment = validate(
        sandbox
            .bare_passform()
            .env("PASSFORM_IDENTITY", &sandbox.identity)
            .arg("--identity")
            .arg(&stranger.identity),
    );
    assert_eq!(flags_replace_the_environment.status.code(), Some(1));
    let message = stderr(&flags_replace_the_environment);
    assert!(message.contains("none of the identities"), "{message}");
    assert!(message.contains(&format!(
        "(tried `{}` (1 key))",
        stranger.identity.display()
    )));
}
