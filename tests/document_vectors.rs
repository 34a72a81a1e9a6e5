//! The test vectors published in docs/document.md, checked against the code, so that the
//! documented algorithm and passform's derivation cannot drift apart.

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

#[test]
fn derived_passwords_match_the_documented_vectors() {
    let text = documentation();
    let seed = documented_seed(&text);
    let table = between(&text, "<!-- vectors:", "<!-- end of vectors -->");
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
    for row in rows {
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
