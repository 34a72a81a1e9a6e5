//! The document as written: raw serde types that mirror schema v1 key for key.
//!
//! Nothing here judges values; [`super::model`] does that. This file turns TOML text into
//! [`RawDocument`], keeping the span of every value so that a problem can name its line and
//! column, and finds every key that schema v1 does not know. Secrets (`seed`, `password`) are
//! read as untyped values so that a parser message can never quote them.

use toml::Spanned;

use super::error::Problem;

/// The keys allowed at the top level.
pub const DOCUMENT_KEYS: &[&str] = &["version", "recipients", "secrets", "defaults", "instance"];
/// The keys allowed in `[secrets]`.
pub const SECRETS_KEYS: &[&str] = &["seed"];
/// The keys allowed in `[defaults]`.
pub const DEFAULTS_KEYS: &[&str] = &["region", "restart", "password_length"];
/// The keys allowed in each `[[instance]]`.
pub const INSTANCE_KEYS: &[&str] = &["id", "region", "generation", "password", "restart", "wave"];

/// The whole document as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawDocument {
    /// The schema version; must be 1.
    pub version: Option<Spanned<i64>>,
    /// Who can decrypt the document.
    pub recipients: Option<Spanned<Vec<Spanned<String>>>>,
    /// The secrets table.
    pub secrets: Option<Spanned<RawSecrets>>,
    /// Values instances fall back to.
    pub defaults: Option<RawDefaults>,
    /// The declared instances.
    #[serde(default)]
    pub instance: Vec<Spanned<RawInstance>>,
}

/// `[secrets]` as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawSecrets {
    /// The base64 seed, untyped so that no parser message quotes it.
    pub seed: Option<Spanned<toml::Value>>,
}

/// `[defaults]` as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawDefaults {
    /// The region of instances that name none.
    pub region: Option<Spanned<String>>,
    /// The restart policy of instances that name none.
    pub restart: Option<Spanned<String>>,
    /// The length of derived passwords.
    pub password_length: Option<Spanned<i64>>,
}

/// One `[[instance]]` as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawInstance {
    /// The instance id.
    pub id: Option<Spanned<String>>,
    /// The instance's region.
    pub region: Option<Spanned<String>>,
    /// The password generation.
    pub generation: Option<Spanned<i64>>,
    /// An explicit password, untyped so that no parser message quotes it.
    pub password: Option<Spanned<toml::Value>>,
    /// The restart policy.
    pub restart: Option<Spanned<String>>,
    /// The wave.
    pub wave: Option<Spanned<i64>>,
}

/// A raw document and the unknown keys found beside the known ones.
#[derive(Debug)]
pub struct Parsed {
    /// The known keys, as written.
    pub document: RawDocument,
    /// One problem per unknown key; the caller reports them with its own.
    pub unknown_keys: Vec<Problem>,
}

/// Parses TOML text into the raw document, reporting syntax errors, unknown keys and wrongly
/// typed values. Only the first wrongly typed value is reported (serde stops there); unknown
/// keys are all reported, and do not stop the rest of the document from being checked.
pub fn parse(text: &str) -> Result<Parsed, Vec<Problem>> {
    let syntax = match toml_edit::ImDocument::parse(text) {
        Ok(syntax) => syntax,
        Err(error) => {
            let offset = error.span().map_or(0, |span| span.start);
            return Err(vec![Problem::at(
                text,
                offset,
                "(document)",
                format!("this is not valid TOML: {}", first_line(error.message())),
                "fix the TOML syntax at this position; a string needs its closing quote, a \
                 table header its brackets",
            )]);
        }
    };
    let mut problems = unknown_keys(text, syntax.as_table());
    match toml::from_str::<RawDocument>(text) {
        Ok(document) => Ok(Parsed {
            document,
            unknown_keys: problems,
        }),
        Err(error) => {
            problems.push(type_problem(text, &error));
            problems.sort_by_key(|problem| (problem.line, problem.column));
            Err(problems)
        }
    }
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

/// A problem for a value of the wrong type. Secrets are read untyped, so the message, which
/// may quote the value, never quotes a secret.
fn type_problem(text: &str, error: &toml::de::Error) -> Problem {
    let offset = error.span().map_or(0, |span| span.start);
    Problem::at(
        text,
        offset,
        &key_at(text, offset),
        format!(
            "this value has the wrong type: {}",
            first_line(error.message())
        ),
        "strings need quotes, numbers must not have them; see docs/document.md for each key's type",
    )
}

/// The key written on the line holding `offset`, as a best effort for messages.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    match line.split_once('=') {
        Some((key, _)) => key.trim().to_owned(),
        None => "(document)".to_owned(),
    }
}

/// Every key schema v1 does not know, in document order.
fn unknown_keys(text: &str, root: &toml_edit::Table) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_keys(text, root, "", DOCUMENT_KEYS, &mut problems);
    for (name, allowed) in [("secrets", SECRETS_KEYS), ("defaults", DEFAULTS_KEYS)] {
        if let Some(table) = root.get(name).and_then(|item| item.as_table_like()) {
            check_keys(text, table, name, allowed, &mut problems);
        }
    }
    for (index, table) in instance_tables(root).into_iter().enumerate() {
        let prefix = format!("instance[{}]", index + 1);
        check_keys(text, table, &prefix, INSTANCE_KEYS, &mut problems);
    }
    problems
}

/// The tables of `[[instance]]`, written either as an array of tables or inline.
fn instance_tables(root: &toml_edit::Table) -> Vec<&dyn toml_edit::TableLike> {
    match root.get("instance") {
        Some(toml_edit::Item::ArrayOfTables(tables)) => tables
            .iter()
            .map(|table| table as &dyn toml_edit::TableLike)
            .collect(),
        Some(toml_edit::Item::Value(toml_edit::Value::Array(array))) => array
            .iter()
            .filter_map(|value| value.as_inline_table())
            .map(|table| table as &dyn toml_edit::TableLike)
            .collect(),
        _ => Vec::new(),
    }
}

fn check_keys(
    text: &str,
    table: &dyn toml_edit::TableLike,
    prefix: &str,
    allowed: &[&str],
    problems: &mut Vec<Problem>,
) {
    for (name, _) in table.iter() {
        if allowed.contains(&name) {
            continue;
        }
        let offset = table
            .get_key_value(name)
            .and_then(|(key, _)| key.span())
            .map_or(0, |span| span.start);
        let key = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        problems.push(Problem::at(
            text,
            offset,
            &key,
            format!("`{name}` is not a key schema v1 knows here"),
            &format!("the keys allowed here are {}", allowed.join(", ")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_key_is_reported_with_its_position() {
        let text = "version = 1\ncolour = 2\n[[instance]]\nid = \"i-a\"\ngeneraton = 3\n";
        let problems = parse(text).unwrap().unknown_keys;
        let keys: Vec<_> = problems
            .iter()
            .map(|problem| problem.key.as_str())
            .collect();
        assert_eq!(keys, ["colour", "instance[1].generaton"]);
        assert_eq!((problems[1].line, problems[1].column), (5, 1));
    }

    #[test]
    fn a_syntax_error_names_its_line_and_never_quotes_the_line() {
        let text = "version = 1\n[[instance]]\npassword = \"Secret#Pass1\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
        assert!(!problems[0].message.contains("Secret#Pass1"));
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        let text = "version = 1\n[secrets]\nseed = 12345678\n";
        let raw = parse(text).unwrap().document;
        assert!(raw.secrets.unwrap().into_inner().seed.is_some());
    }
}
