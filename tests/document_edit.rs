//! `passform edit` driven by scripted editors: the plaintext stays private, invalid edits are
//! reopened with their problems on top, and nothing is left behind on any way out.

mod document_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use document_support::{Sandbox, stderr};

const INSTANCE: &str = "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n";

/// Writes an executable editor script into the sandbox.
fn editor(sandbox: &Sandbox, body: &str) -> PathBuf {
    let path = sandbox.path("editor.sh");
    std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

fn edit(sandbox: &Sandbox, editor: &Path) -> Output {
    let temporary = sandbox.path("tmp");
    std::fs::create_dir_all(&temporary).unwrap();
    sandbox
        .passform()
        .arg("edit")
        .env("EDITOR", editor)
        .env("TMPDIR", &temporary)
        .output()
        .unwrap()
}

/// Returns true when the private temporary directory is gone.
fn no_plaintext_left(sandbox: &Sandbox) -> bool {
    std::fs::read_dir(sandbox.path("tmp"))
        .unwrap()
        .next()
        .is_none()
}

fn sandbox_with_document() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(""));
    sandbox
}

#[test]
fn a_valid_edit_is_encrypted_and_the_plaintext_removed() {
    let sandbox = sandbox_with_document();
    let script = editor(
        &sandbox,
        &format!(
            "stat -c '%a' \"$(dirname \"$1\")\" \"$1\" > \"{log}\"\nprintf '{INSTANCE}' >> \"$1\"\n",
            log = sandbox.path("modes").display(),
            INSTANCE = INSTANCE.replace('\n', "\\n"),
        ),
    );

    let output = edit(&sandbox, &script);

    assert!(output.status.success(), "{}", stderr(&output));
    let loaded = sandbox.load().unwrap();
    assert_eq!(loaded.document.instance("i-a").unwrap().generation, 1);
    let ciphertext = std::fs::read_to_string(sandbox.document_path()).unwrap();
    assert!(ciphertext.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let modes = std::fs::read_to_string(sandbox.path("modes")).unwrap();
    assert_eq!(modes, "700\n600\n");
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn an_invalid_edit_reopens_with_the_problems_on_top_until_fixed() {
    let sandbox = sandbox_with_document();
    let log = sandbox.path("header");
    let script = editor(
        &sandbox,
        &format!(
            "if grep -q 'generation = 0' \"$1\"; then\n\
               grep '^# passform: ' \"$1\" > \"{log}\"\n\
               sed -i 's/generation = 0/generation = 2/' \"$1\"\n\
             else\n\
               printf '[[instance]]\\nid = \"i-a\"\\nregion = \"r\"\\ngeneration = 0\\n' >> \"$1\"\n\
             fi\n",
            log = log.display()
        ),
    );

    let output = edit(&sandbox, &script);

    assert!(output.status.success(), "{}", stderr(&output));
    let header = std::fs::read_to_string(&log).unwrap();
    assert!(header.contains("`instance[1].generation`"), "{header}");
    assert!(header.contains("hint: "), "{header}");
    let loaded = sandbox.load().unwrap();
    assert_eq!(loaded.document.instance("i-a").unwrap().generation, 2);
    let plaintext = sandbox.decrypt();
    assert!(!plaintext.contains("# passform: "));
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn quitting_an_invalid_edit_unchanged_gives_up_and_writes_nothing() {
    let sandbox = sandbox_with_document();
    let before = std::fs::read(sandbox.document_path()).unwrap();
    let script = editor(
        &sandbox,
        "grep -q 'generation = 0' \"$1\" || printf '[[instance]]\\nid = \"i-a\"\\nregion = \"r\"\\ngeneration = 0\\n' >> \"$1\"\n",
    );

    let output = edit(&sandbox, &script);

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("still has 1 problem"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("hint: "));
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn an_unchanged_document_is_not_rewritten() {
    let sandbox = sandbox_with_document();
    let before = std::fs::read(sandbox.document_path()).unwrap();
    let script = editor(&sandbox, "true\n");

    let output = edit(&sandbox, &script);

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("no changes"));
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
    assert!(no_plaintext_left(&sandbox));
}

/// An editor that makes a valid change, then sends `signal` to the passform that runs it and
/// waits to be stopped.
fn signalling_editor(sandbox: &Sandbox, signal: &str) -> PathBuf {
    editor(
        sandbox,
        &format!(
            "exec >/dev/null 2>&1\n\
             printf '{INSTANCE}' >> \"$1\"\n\
             pid=$$\n\
             while [ \"$pid\" -gt 1 ]; do\n\
               if [ \"$(cat /proc/$pid/comm)\" = passform ]; then kill -{signal} \"$pid\"; break; fi\n\
               pid=$(awk '{{print $4}}' /proc/$pid/stat)\n\
             done\n\
             sleep 10\n",
            INSTANCE = INSTANCE.replace('\n', "\\n"),
        ),
    )
}

#[test]
fn an_interrupted_edit_writes_nothing_and_removes_the_plaintext() {
    for signal in ["INT", "TERM", "HUP"] {
        let sandbox = sandbox_with_document();
        let before = std::fs::read(sandbox.document_path()).unwrap();
        let script = signalling_editor(&sandbox, signal);

        let output = edit(&sandbox, &script);

        assert_eq!(output.status.code(), Some(1), "SIG{signal}");
        assert!(
            stderr(&output).contains("interrupted"),
            "SIG{signal}: {}",
            stderr(&output)
        );
        assert_eq!(
            std::fs::read(sandbox.document_path()).unwrap(),
            before,
            "SIG{signal}"
        );
        assert!(no_plaintext_left(&sandbox), "SIG{signal}");
    }
}

#[test]
fn a_failing_editor_writes_nothing() {
    let sandbox = sandbox_with_document();
    let before = std::fs::read(sandbox.document_path()).unwrap();
    let script = editor(&sandbox, "echo 'garbage' >> \"$1\"\nexit 3\n");

    let output = edit(&sandbox, &script);

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("failed"), "{}", stderr(&output));
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn an_editor_that_cannot_run_is_named_with_a_hint() {
    let sandbox = sandbox_with_document();
    let before = std::fs::read(sandbox.document_path()).unwrap();

    let output = edit(&sandbox, &sandbox.path("no-such-editor"));

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no-such-editor"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("hint: set VISUAL or EDITOR"));
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn an_edit_that_drops_the_editors_own_recipient_is_reopened_until_fixed() {
    let sandbox = sandbox_with_document();
    let stranger = Sandbox::new();
    let log = sandbox.path("header");
    let script = editor(
        &sandbox,
        &format!(
            "if grep -q '^# passform: ' \"$1\"; then\n\
               grep '^# passform: ' \"$1\" > \"{log}\"\n\
               sed -i 's/{stranger}/{own}/' \"$1\"\n\
             else\n\
               sed -i 's/{own}/{stranger}/' \"$1\"\n\
             fi\n",
            log = log.display(),
            own = sandbox.recipient,
            stranger = stranger.recipient,
        ),
    );

    let output = edit(&sandbox, &script);

    // Restoring the recipient makes the text equal to the original, so nothing is rewritten.
    assert!(output.status.success(), "{}", stderr(&output));
    let header = std::fs::read_to_string(&log).unwrap();
    assert!(header.contains("`recipients`"), "{header}");
    assert!(header.contains("could not open it again"), "{header}");
    assert!(sandbox.load().is_ok());
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn visual_is_preferred_to_editor() {
    let sandbox = sandbox_with_document();
    let visual = editor(
        &sandbox,
        &format!(
            "printf '{INSTANCE}' >> \"$1\"\n",
            INSTANCE = INSTANCE.replace('\n', "\\n")
        ),
    );

    let output = sandbox
        .passform()
        .arg("edit")
        .env("VISUAL", &visual)
        .env("EDITOR", "false")
        .env("TMPDIR", {
            std::fs::create_dir_all(sandbox.path("tmp")).unwrap();
            sandbox.path("tmp")
        })
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(sandbox.load().unwrap().document.instance("i-a").is_some());
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn an_edit_re_encrypts_to_the_recipients_the_document_now_lists() {
    let sandbox = sandbox_with_document();
    let teammate = Sandbox::new();
    let script = editor(
        &sandbox,
        &format!(
            "sed -i 's/\"{own}\"/\"{own}\", \"{teammate}\"/' \"$1\"\n",
            own = sandbox.recipient,
            teammate = teammate.recipient,
        ),
    );

    let output = edit(&sandbox, &script);

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("encrypted to 2 recipients"));
    let opened_by_teammate = passform::document::load(
        &sandbox.document_path(),
        std::slice::from_ref(&teammate.identity),
    )
    .unwrap();
    assert_eq!(
        opened_by_teammate.document.recipients,
        [sandbox.recipient.clone(), teammate.recipient.clone()]
    );
    assert!(sandbox.load().is_ok());
    assert!(no_plaintext_left(&sandbox));
}

#[test]
fn ctrl_c_at_the_terminal_stops_editor_and_passform_together_and_writes_nothing() {
    use std::os::unix::process::CommandExt as _;
    let sandbox = sandbox_with_document();
    let before = std::fs::read(sandbox.document_path()).unwrap();
    // `kill -INT 0` signals the whole process group, as a terminal does on Ctrl-C: the editor
    // dies of it while passform catches it.
    let script = editor(
        &sandbox,
        &format!(
            "exec >/dev/null 2>&1\nprintf '{INSTANCE}' >> \"$1\"\nkill -INT 0\nsleep 10\n",
            INSTANCE = INSTANCE.replace('\n', "\\n"),
        ),
    );
    std::fs::create_dir_all(sandbox.path("tmp")).unwrap();

    let output = sandbox
        .passform()
        .arg("edit")
        .env("EDITOR", &script)
        .env("TMPDIR", sandbox.path("tmp"))
        .process_group(0)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
    assert!(no_plaintext_left(&sandbox));
}
