//! The test vectors published in docs/document.md, checked against the code and against the
//! reference implementation in Python that the same page publishes, so that the documented
//! algorithm and passform's derivation cannot drift apart, and the vectors do not come from the
//! code they check.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use passform::document::derivation::{Seed, derive_password, fingerprint};
use passform::secret::SecretString;

fn documentation() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/document.md")).unwrap()
}

/// The text between two markers of the documentation.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap() + start.len();
    let to = from + text[from..].find(end).unwrap();
    &text[from..to]
}

fn documented_seed(text: &str) -> Seed {
    let encoded = between(text, "With the seed `", "`");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    Seed::new(bytes.try_into().unwrap())
}

/// The rows of the vector table: region, id, generation, length, password.
fn documented_vectors(text: &str) -> Vec<Vec<&str>> {
    let table = between(text, "<!-- vectors:", "<!-- end of vectors -->");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| region"))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().trim_matches('`'))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 5);
    rows
}

#[test]
fn derived_passwords_match_the_documented_vectors() {
    let text = documentation();
    let seed = documented_seed(&text);
    for row in documented_vectors(&text) {
        let [region, id, generation, length, password] = row[..] else {
            panic!("a vector row has five cells: {row:?}");
        };
        let derived = derive_password(
            &seed,
            region,
            id,
            generation.parse().unwrap(),
            length.parse().unwrap(),
        );
        assert_eq!(
            derived.expose_secret(),
            password,
            "{region} {id} {generation}"
        );
    }
}

#[test]
fn the_documented_fingerprint_matches() {
    let text = documentation();
    let seed = documented_seed(&text);
    let documented = between(&text, "`Initial#Pass1` under the same seed is\n`", "`");
    let computed = fingerprint(&seed, &SecretString::from("Initial#Pass1"));
    assert_eq!(computed, documented);
}

/// HMAC-SHA256 of `message` under `key`, straight from the hmac crate.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn the_documented_fingerprint_follows_the_documented_construction() {
    let text = documentation();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(between(&text, "With the seed `", "`"))
        .unwrap();
    let documented = between(&text, "`Initial#Pass1` under the same seed is\n`", "`");

    let key = hmac_sha256(&seed, b"passform/v1/fingerprint-key");
    let mac = hmac_sha256(&key, b"Initial#Pass1");
    let hex: String = mac.iter().map(|byte| format!("{byte:02x}")).collect();

    assert_eq!(format!("v1:{hex}"), documented);
}

/// Runs the Python reference implementation printed in docs/document.md on every vector row,
/// with the vectors on stdin, and returns one derived password per line.
fn python_reference_passwords(text: &str) -> String {
    let reference = between(text, "```python\n", "```");
    let driver = format!(
        "{reference}\n\
         import base64, sys\n\
         lines = sys.stdin.read().splitlines()\n\
         seed = base64.b64decode(lines[0])\n\
         for line in lines[1:]:\n\
         \x20   region, instance_id, generation, length = line.split(' ')\n\
         \x20   print(derive(seed, region, instance_id, int(generation), int(length)))\n"
    );
    let seed = between(text, "With the seed `", "`");
    let mut input = format!("{seed}\n");
    for row in documented_vectors(text) {
        input.push_str(&row[..4].join(" "));
        input.push('\n');
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is installed (scripts/install-test-tools.sh checks for it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_documented_python_reference_reproduces_the_documented_vectors() {
    let text = documentation();
    let expected: Vec<&str> = documented_vectors(&text)
        .into_iter()
        .map(|row| row[4])
        .collect();

    let derived = python_reference_passwords(&text);

    assert_eq!(derived.lines().collect::<Vec<_>>(), expected);
}
