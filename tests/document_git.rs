//! `passform show-document` as a git textconv driver, as docs/git.md sets it up.

mod document_support;

use std::process::Command;

use document_support::{SEED, Sandbox, stderr, stdout};

fn git(sandbox: &Sandbox, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .args(arguments)
        .current_dir(sandbox.directory.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.directory.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("PASSFORM_IDENTITY", &sandbox.identity)
        .output()
        .expect("git is installed");
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn git_diff_through_textconv_shows_the_change_and_no_secret() {
    let sandbox = Sandbox::new();
    let body = "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 3\n\
                password = \"Explicit#Pass1\"\n";
    sandbox.write_document(&sandbox.plaintext(body));
    git(&sandbox, &["init", "--quiet"]);
    git(&sandbox, &["config", "user.email", "test@example.invalid"]);
    git(&sandbox, &["config", "user.name", "test"]);
    let textconv = format!("{} show-document", env!("CARGO_BIN_EXE_passform"));
    git(&sandbox, &["config", "diff.passform.textconv", &textconv]);
    std::fs::write(
        sandbox.path(".gitattributes"),
        "passwords.toml.age diff=passform\n",
    )
    .unwrap();
    git(&sandbox, &["add", ".gitattributes", "passwords.toml.age"]);
    git(&sandbox, &["commit", "--quiet", "-m", "document"]);

    let rotated = sandbox.run(&["rotate", "i-a"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let diff = git(&sandbox, &["diff"]);

    assert!(
        diff.contains("\n-generation = 3\n+generation = 4\n"),
        "{diff}"
    );
    assert!(!diff.contains("Explicit#Pass1"));
    assert!(!diff.contains(SEED));
    assert!(!diff.contains("BEGIN AGE"));
}
