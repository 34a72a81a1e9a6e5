//! Interoperability with Debian's reference `age` command line, in both directions, armored
//! and binary, and the identity kinds age users have: `age-keygen` files with several keys and
//! OpenSSH ed25519 and RSA keys. `scripts/install-test-tools.sh` installs `age`.

mod document_support;

use std::path::Path;
use std::process::Command;

use document_support::{Sandbox, stderr, stdout};

const INSTANCE: &str = "[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 4\n";

fn age_command(program: &str) -> Command {
    let probe = Command::new(program).arg("--version").output();
    assert!(
        probe.is_ok(),
        "`{program}` is not installed: run scripts/install-test-tools.sh"
    );
    Command::new(program)
}

/// Encrypts `plaintext` with the `age` CLI to `recipient`, armored or binary.
fn age_encrypt(plaintext: &str, recipient: &str, armor: bool, output: &Path) {
    let mut command = age_command("age");
    command.arg("-r").arg(recipient).arg("-o").arg(output);
    if armor {
        command.arg("-a");
    }
    let input = output.with_extension("plain");
    std::fs::write(&input, plaintext).unwrap();
    let result = command.arg(&input).output().unwrap();
    std::fs::remove_file(&input).unwrap();
    assert!(result.status.success(), "{}", stderr(&result));
}

#[test]
fn the_age_cli_decrypts_what_passform_writes() {
    let sandbox = Sandbox::new();
    let plaintext = sandbox.plaintext(INSTANCE);
    sandbox.write_document(&plaintext);

    let output = age_command("age")
        .arg("-d")
        .arg("-i")
        .arg(&sandbox.identity)
        .arg(sandbox.document_path())
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), plaintext);
}

#[test]
fn passform_reads_armored_and_binary_files_the_age_cli_writes() {
    for armor in [true, false] {
        let sandbox = Sandbox::new();
        let plaintext = sandbox.plaintext(INSTANCE);
        age_encrypt(
            &plaintext,
            &sandbox.recipient,
            armor,
            &sandbox.document_path(),
        );
        let head = std::fs::read(sandbox.document_path()).unwrap();
        assert_eq!(head.starts_with(b"-----BEGIN AGE"), armor);

        assert_eq!(sandbox.decrypt(), plaintext, "armor: {armor}");
        let output = sandbox.run(&["password", "i-a"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

#[test]
fn passform_rewrites_an_age_cli_file_that_the_age_cli_then_reads() {
    let sandbox = Sandbox::new();
    age_encrypt(
        &sandbox.plaintext(INSTANCE),
        &sandbox.recipient,
        false,
        &sandbox.document_path(),
    );

    let output = sandbox.run(&["rotate", "i-a"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "i-a: generation 4 -> 5\n");

    let decrypted = age_command("age")
        .arg("-d")
        .arg("-i")
        .arg(&sandbox.identity)
        .arg(sandbox.document_path())
        .output()
        .unwrap();
    assert!(stdout(&decrypted).contains("generation = 5\n"));
}

#[test]
fn an_age_keygen_file_with_several_keys_decrypts_with_the_matching_one() {
    let sandbox = Sandbox::new();
    let keys = sandbox.path("keys.txt");
    for _ in 0..2 {
        let generated = age_command("age-keygen").output().unwrap();
        let mut text = std::fs::read_to_string(&keys).unwrap_or_default();
        text.push_str(&stdout(&generated));
        text.push('\n');
        std::fs::write(&keys, text).unwrap();
    }
    let second_recipient = age_command("age-keygen")
        .arg("-y")
        .arg(&keys)
        .output()
        .unwrap();
    let recipients = stdout(&second_recipient);
    let last = recipients.lines().last().unwrap();
    let plaintext = sandbox.plaintext(INSTANCE);
    age_encrypt(&plaintext, last, true, &sandbox.document_path());

    let output = sandbox
        .passform()
        .args(["validate"])
        .env("PASSFORM_IDENTITY", &keys)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
}

/// A document whose recipient is an SSH public key, decrypted with the private key.
fn ssh_round_trip(private_key: &str, public_key: &str) {
    let sandbox = Sandbox::new();
    let key = sandbox.path("id_test");
    std::fs::write(&key, private_key).unwrap();
    let recipient = public_key.trim();
    let plaintext = sandbox
        .plaintext(INSTANCE)
        .replace(&sandbox.recipient, recipient);
    let sealed = passform::document::seal(&plaintext, &[recipient.to_owned()]).unwrap();
    std::fs::write(sandbox.document_path(), sealed).unwrap();

    let output = sandbox
        .passform()
        .args(["rotate", "--all"])
        .env("PASSFORM_IDENTITY", &key)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let decrypted = age_command("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(sandbox.document_path())
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", stderr(&decrypted));
    assert!(stdout(&decrypted).contains("generation = 5\n"));
}

#[test]
fn ssh_ed25519_keys_work_as_identity_and_recipient() {
    ssh_round_trip(
        include_str!("document_support/ssh_ed25519"),
        include_str!("document_support/ssh_ed25519.pub"),
    );
}

#[test]
fn ssh_rsa_keys_work_as_identity_and_recipient() {
    ssh_round_trip(
        include_str!("document_support/ssh_rsa"),
        include_str!("document_support/ssh_rsa.pub"),
    );
}

#[test]
fn init_with_an_ssh_key_encrypts_to_its_public_key() {
    let sandbox = Sandbox::new();
    let key = sandbox.path("id_test");
    std::fs::write(&key, include_str!("document_support/ssh_ed25519")).unwrap();

    let output = sandbox
        .passform()
        .arg("init")
        .env("PASSFORM_IDENTITY", &key)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    let loaded = passform::document::load(&sandbox.document_path(), &[key]).unwrap();
    let public_key = include_str!("document_support/ssh_ed25519.pub");
    assert!(public_key.starts_with(&loaded.document.recipients[0]));
}

/// A plugin identity and recipient (valid Bech32) for a plugin that is not installed.
const PLUGIN_IDENTITY: &str = "AGE-PLUGIN-PASSFORMTEST-1QQQSYQCYQ5RQWZQFPG9SCRGWPUVV962M";
const PLUGIN_RECIPIENT: &str = "age1passformtest1qqqsyqcyq5rqwzqfpg9scrgwpu38nag4";

#[test]
fn a_plugin_identity_whose_plugin_is_missing_is_named_with_a_hint() {
    let sandbox = Sandbox::new();
    sandbox.write_document(&sandbox.plaintext(INSTANCE));
    let identity = sandbox.path("plugin-identity.txt");
    std::fs::write(
        &identity,
        format!("# a plugin identity\n{PLUGIN_IDENTITY}\n"),
    )
    .unwrap();

    let output = sandbox
        .passform()
        .arg("validate")
        .env("PASSFORM_IDENTITY", &identity)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("could not use the identity file"),
        "{message}"
    );
    assert!(message.contains("age-plugin-passformtest"), "{message}");
    assert!(
        message.contains("hint: install the age plugin"),
        "{message}"
    );
}

#[test]
fn a_plugin_recipient_whose_plugin_is_missing_stops_a_rewrite_and_changes_nothing() {
    let sandbox = Sandbox::new();
    let plaintext = sandbox.plaintext(INSTANCE).replace(
        &format!("[\"{}\"]", sandbox.recipient),
        &format!("[\"{}\", \"{PLUGIN_RECIPIENT}\"]", sandbox.recipient),
    );
    sandbox.write_document(&plaintext);
    let before = std::fs::read(sandbox.document_path()).unwrap();

    let output = sandbox.run(&["rotate", "i-a"]);

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("could not encrypt"), "{message}");
    assert!(message.contains("age-plugin-passformtest"), "{message}");
    assert!(message.contains("hint: "), "{message}");
    assert_eq!(std::fs::read(sandbox.document_path()).unwrap(), before);
}

#[test]
fn plugin_recipients_and_identities_go_through_the_plugin_on_path() {
    let sandbox = Sandbox::new();
    let plugins = sandbox.path("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let plugin = plugins.join("age-plugin-passformtest");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/document_support/age-plugin-passformtest"
        ),
        &plugin,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        plugins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let identity = sandbox.path("plugin-identity.txt");
    std::fs::write(&identity, format!("{PLUGIN_IDENTITY}\n")).unwrap();
    let plaintext = sandbox
        .plaintext(INSTANCE)
        .replace(&sandbox.recipient, PLUGIN_RECIPIENT);
    std::fs::write(sandbox.path("plain.toml"), &plaintext).unwrap();
    let sealed = age_command("age")
        .env("PATH", &path)
        .args(["-a", "-r", PLUGIN_RECIPIENT, "-o"])
        .arg(sandbox.document_path())
        .arg(sandbox.path("plain.toml"))
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{}", stderr(&sealed));

    let output = sandbox
        .passform()
        .args(["rotate", "i-a"])
        .env("PATH", &path)
        .env("PASSFORM_IDENTITY", &identity)
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    let decrypted = age_command("age")
        .env("PATH", &path)
        .arg("-d")
        .arg("-i")
        .arg(&identity)
        .arg(sandbox.document_path())
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", stderr(&decrypted));
    assert!(stdout(&decrypted).contains("generation = 5\n"));
}

#[test]
fn a_passphrase_protected_ssh_key_is_named_among_the_identities_tried() {
    let sandbox = Sandbox::new();
    let key = sandbox.path("id_locked");
    std::fs::write(
        &key,
        include_str!("document_support/ssh_ed25519_passphrase"),
    )
    .unwrap();
    let recipient = include_str!("document_support/ssh_ed25519_passphrase.pub").trim();
    let plaintext = sandbox
        .plaintext(INSTANCE)
        .replace(&sandbox.recipient, recipient);
    let sealed = passform::document::seal(&plaintext, &[recipient.to_owned()]).unwrap();
    std::fs::write(sandbox.document_path(), sealed).unwrap();

    let output = sandbox
        .passform()
        .arg("validate")
        .env("PASSFORM_IDENTITY", &key)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("none of the identities"), "{message}");
    assert!(
        message.contains("a passphrase-protected SSH key"),
        "{message}"
    );
    assert!(message.contains("hint: "), "{message}");
}

#[test]
fn init_refuses_a_passphrase_protected_ssh_key_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let key = sandbox.path("id_locked");
    std::fs::write(
        &key,
        include_str!("document_support/ssh_ed25519_passphrase"),
    )
    .unwrap();

    let output = sandbox
        .passform()
        .arg("init")
        .env("PASSFORM_IDENTITY", &key)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("passphrase-protected SSH key"),
        "{message}"
    );
    assert!(message.contains("hint: "), "{message}");
    assert!(!sandbox.document_path().exists());
}

#[test]
fn a_passphrase_encrypted_document_is_named_with_a_hint() {
    use std::io::Write as _;
    let sandbox = Sandbox::new();
    let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        "not-a-secret-test-passphrase".to_owned(),
    ));
    let mut sealed = Vec::new();
    let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
    writer
        .write_all(sandbox.plaintext(INSTANCE).as_bytes())
        .unwrap();
    writer.finish().unwrap();
    std::fs::write(sandbox.document_path(), sealed).unwrap();

    let output = sandbox.run(&["validate"]);

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("encrypted with a passphrase"), "{message}");
    assert!(message.contains("hint: "), "{message}");
}
