//! `passform rotate` and `passform show-document` through the real binary.

mod document_support;

use document_support::{SEED, Sandbox, snapshot, stderr, stdout};

const BODY: &str = "[defaults]\nregion = \"cn-hangzhou\"\n\n\
                    [[instance]]\nid = \"i-a\"\ngeneration = 3 # raised in May\n\n\
                    [[instance]]\nid = \"i-b\"\ngeneration = 1\npassword = \"Explicit#Pass1\"\n";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(BODY));
    sandbox
}

#[test]
fn rotate_raises_the_named_generation_and_keeps_the_rest() {
    let sandbox = sandbox();
    let password_before = stdout(&sandbox.run(&["password", "i-a"]));

    let output = sandbox.run(&["rotate", "i-a"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "i-a: generation 3 -> 4\n");
    let expected = sandbox
        .plaintext(BODY)
        .replace("generation = 3 #", "generation = 4 #");
    assert_eq!(sandbox.decrypt(), expected);
    assert_ne!(stdout(&sandbox.run(&["password", "i-a"])), password_before);
}

#[test]
fn rotate_all_warns_about_explicit_passwords_without_printing_them() {
    let sandbox = sandbox();

    let output = sandbox.run(&["rotate", "--all"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "i-a: generation 3 -> 4\ni-b: generation 1 -> 2\n"
    );
    assert!(stderr(&output).contains("i-b has an explicit password"));
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains("Explicit#Pass1"));
        assert!(!text.contains(SEED));
    }
}

#[test]
fn rotate_of_an_undeclared_instance_changes_nothing() {
    let sandbox = sandbox();
    let before = snapshot(sandbox.directory.path());

    let output = sandbox.run(&["rotate", "i-a", "i-missing"]);

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("`i-missing`"));
    assert_eq!(snapshot(sandbox.directory.path()), before);
}

#[test]
fn show_document_masks_the_seed_and_passwords() {
    let sandbox = sandbox();

    let output = sandbox.run(&["show-document"]);

    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    let expected = sandbox
        .plaintext(BODY)
        .replace(SEED, "(sensitive)")
        .replace("Explicit#Pass1", "(sensitive)");
    assert_eq!(shown, expected);
}

#[test]
fn show_document_reads_the_path_git_passes() {
    let sandbox = sandbox();
    let copy = sandbox.path("textconv-input");
    std::fs::copy(sandbox.document_path(), &copy).unwrap();
    std::fs::remove_file(sandbox.document_path()).unwrap();

    let output = sandbox.run(&["show-document", copy.to_str().unwrap()]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("generation = 3 # raised in May"));
}

#[test]
fn show_document_never_prints_plaintext_it_cannot_mask() {
    let sandbox = Sandbox::new();
    let broken = sandbox.plaintext("password = \"Unclosed#Pass1\n");
    sandbox.write_document(&broken);

    let output = sandbox.run(&["show-document"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("not valid TOML"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("hint: "));
    assert!(!stderr(&output).contains("Unclosed#Pass1"));
    assert!(!stderr(&output).contains(SEED));
}

#[test]
fn show_document_masks_a_misspelt_password_key() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(
        "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n\
         pasword = \"Misspelt#Pass1\"\n",
    ));

    let output = sandbox.run(&["show-document"]);

    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(shown.contains("pasword = \"(sensitive)\"\n"), "{shown}");
    assert!(shown.contains("id = \"i-a\"\n"), "{shown}");
    assert!(!shown.contains("Misspelt#Pass1"));
}
