//! The document as written: raw serde types that mirror schema v1 key for key.
//!
//! Nothing here judges values; [`super::model`] does that. This file turns TOML text into
//! [`RawDocument`], keeping the span of every value so that a problem can name its line and
//! column, and finds every key that schema v1 does not know. Secrets (`seed`, `password`) are
//! read as untyped values so that a parser message can never quote them.
//!
//! A TOML syntax error is reported alone, since the reader cannot go past it. A scalar of the
//! wrong type (`generation = "3"`) is reported and then read as absent, so that the rest of the
//! document is still checked; a table or array of the wrong kind (`defaults = 3`) stops the
//! check after the type problems, since nothing inside it can be read. The TOML reader keeps
//! its own copies of the text while it parses and frees them without zeroing them; passform's
//! own copies of the plaintext and its secrets are zeroed.

use serde::Deserialize as _;
use toml::Spanned;

use super::error::{LineStarts, Problem};

/// What kind of value a key holds, checked before serde reads the document so that every
/// wrongly typed value is reported, not only the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    String,
    Strings,
    Table,
    Tables,
    /// Checked later: secrets are typed by the model, which never quotes them.
    Any,
}

impl Kind {
    fn matches(self, item: &toml_edit::Item) -> bool {
        use toml_edit::{Item, Value};
        match self {
            Kind::Integer => item.as_integer().is_some(),
            Kind::String => item.as_str().is_some(),
            Kind::Strings => item
                .as_array()
                .is_some_and(|array| array.iter().all(|value| value.as_str().is_some())),
            Kind::Table => item.is_table_like(),
            Kind::Tables => match item {
                Item::ArrayOfTables(_) => true,
                Item::Value(Value::Array(array)) => {
                    array.iter().all(|value| value.as_inline_table().is_some())
                }
                _ => false,
            },
            Kind::Any => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Integer => "a whole number without quotes",
            Kind::String => "a quoted string",
            Kind::Strings => "an array of quoted strings",
            Kind::Table => "a table",
            Kind::Tables => "[[instance]] tables",
            Kind::Any => "any value",
        }
    }
}

/// The keys allowed at the top level.
const DOCUMENT_KEYS: &[(&str, Kind)] = &[
    ("version", Kind::Integer),
    ("recipients", Kind::Strings),
    ("secrets", Kind::Table),
    ("defaults", Kind::Table),
    ("instance", Kind::Tables),
];
/// The keys allowed in `[secrets]`.
const SECRETS_KEYS: &[(&str, Kind)] = &[("seed", Kind::Any)];
/// The keys allowed in `[defaults]`.
const DEFAULTS_KEYS: &[(&str, Kind)] = &[
    ("region", Kind::String),
    ("restart", Kind::String),
    ("password_length", Kind::Integer),
];
/// The keys allowed in each `[[instance]]`.
const INSTANCE_KEYS: &[(&str, Kind)] = &[
    ("id", Kind::String),
    ("region", Kind::String),
    ("generation", Kind::Integer),
    ("password", Kind::Any),
    ("restart", Kind::String),
    ("wave", Kind::Integer),
];

/// The whole document as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawDocument {
    /// The schema version; must be 1.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<Spanned<i64>>,
    /// Who can decrypt the document; values that are not strings were reported already.
    pub recipients: Option<Spanned<Vec<Spanned<toml::Value>>>>,
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
    #[serde(default, deserialize_with = "lenient")]
    pub region: Option<Spanned<String>>,
    /// The restart policy of instances that name none.
    #[serde(default, deserialize_with = "lenient")]
    pub restart: Option<Spanned<String>>,
    /// The length of derived passwords.
    #[serde(default, deserialize_with = "lenient")]
    pub password_length: Option<Spanned<i64>>,
}

/// One `[[instance]]` as written.
#[derive(Debug, serde::Deserialize)]
pub struct RawInstance {
    /// The instance id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<Spanned<String>>,
    /// The instance's region.
    #[serde(default, deserialize_with = "lenient")]
    pub region: Option<Spanned<String>>,
    /// The password generation.
    #[serde(default, deserialize_with = "lenient")]
    pub generation: Option<Spanned<i64>>,
    /// An explicit password, untyped so that no parser message quotes it.
    pub password: Option<Spanned<toml::Value>>,
    /// The restart policy.
    #[serde(default, deserialize_with = "lenient")]
    pub restart: Option<Spanned<String>>,
    /// The wave.
    #[serde(default, deserialize_with = "lenient")]
    pub wave: Option<Spanned<i64>>,
}

/// Reads a scalar whose type [`Shape`] has already checked: a value of another type reads as
/// absent instead of stopping the whole document, and its problem is the one `Shape` found.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<Spanned<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<Spanned<toml::Value>>::deserialize(deserializer)?;
    Ok(value.and_then(|value| {
        let span = value.span();
        T::deserialize(value.into_inner())
            .ok()
            .map(|inner| Spanned::new(span, inner))
    }))
}

/// A raw document, and the unknown keys and wrongly typed scalars found beside the known ones.
#[derive(Debug)]
pub struct Parsed {
    /// The known keys, as written; a scalar of the wrong type is absent.
    pub document: RawDocument,
    /// One problem per unknown key; the caller reports them with its own.
    pub unknown_keys: Vec<Problem>,
    /// One problem per scalar of the wrong type; the caller reports them with its own, and
    /// drops its own problems about the same keys (such as "no generation").
    pub wrong_types: Vec<Problem>,
}

/// Parses TOML text into the raw document, reporting syntax errors, unknown keys and wrongly
/// typed values. Unknown keys and wrongly typed scalars do not stop the rest of the document
/// from being checked; a syntax error, or a table or array of the wrong kind, does.
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
    let shape = Shape::of(text, syntax.as_table());
    // Serde reads the tree already parsed, which it consumes: parsing the text a second time
    // would double the time and the memory that a large document costs.
    match RawDocument::deserialize(toml_edit::de::Deserializer::from(syntax)) {
        Ok(document) => Ok(Parsed {
            document,
            unknown_keys: shape.unknown_keys,
            wrong_types: shape.wrong_types,
        }),
        Err(error) => {
            let mut problems = shape.unknown_keys;
            if shape.wrong_types.is_empty() {
                problems.push(type_problem(text, &error));
            }
            problems.extend(shape.wrong_types);
            problems.sort_by_key(|problem| (problem.line, problem.column));
            Err(problems)
        }
    }
}

/// The byte offset of a top-level key in TOML text, or 0 when it is not there.
pub fn key_offset(text: &str, key: &str) -> usize {
    toml_edit::ImDocument::parse(text)
        .ok()
        .and_then(|syntax| {
            syntax
                .as_table()
                .get_key_value(key)
                .and_then(|(key, _)| key.span())
        })
        .map_or(0, |span| span.start)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

/// A problem for a value of the wrong type. Secrets are read untyped, so the message, which
/// may quote the value, never quotes a secret.
fn type_problem(text: &str, error: &toml_edit::de::Error) -> Problem {
    let offset = error.span().map_or(0, |span| span.start);
    // The tree went to serde; this rare path parses the text again to name the key.
    let key = toml_edit::ImDocument::parse(text)
        .ok()
        .and_then(|syntax| key_path_at(syntax.as_table(), "", offset))
        .unwrap_or_else(|| "(document)".to_owned());
    Problem::at(
        text,
        offset,
        &key,
        format!(
            "this value has the wrong type: {}",
            first_line(error.message())
        ),
        "strings need quotes, numbers must not have them; see docs/document.md for each key's type",
    )
}

/// The dotted key of the value at `offset`, such as `instance[2].generation`.
fn key_path_at(table: &dyn toml_edit::TableLike, prefix: &str, offset: usize) -> Option<String> {
    let contains =
        |span: Option<std::ops::Range<usize>>| span.is_some_and(|span| span.contains(&offset));
    for (name, item) in table.iter() {
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        let found = match item {
            toml_edit::Item::Table(inner) => key_path_at(inner, &path, offset),
            toml_edit::Item::Value(toml_edit::Value::InlineTable(inner)) => {
                key_path_at(inner, &path, offset)
            }
            toml_edit::Item::Value(value) => contains(value.span()).then_some(path),
            toml_edit::Item::ArrayOfTables(tables) => {
                tables.iter().enumerate().find_map(|(index, inner)| {
                    key_path_at(inner, &format!("{path}[{}]", index + 1), offset)
                })
            }
            toml_edit::Item::None => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The keys schema v1 does not know, and the known keys whose values have the wrong kind.
struct Shape {
    unknown_keys: Vec<Problem>,
    wrong_types: Vec<Problem>,
    /// Found at the first problem, so that many problems are located in linear time.
    lines: Option<LineStarts>,
}

impl Shape {
    fn of(text: &str, root: &toml_edit::Table) -> Shape {
        let mut shape = Shape {
            unknown_keys: Vec::new(),
            wrong_types: Vec::new(),
            lines: None,
        };
        shape.check(text, root, "", DOCUMENT_KEYS);
        for (name, keys) in [("secrets", SECRETS_KEYS), ("defaults", DEFAULTS_KEYS)] {
            if let Some(table) = root.get(name).and_then(|item| item.as_table_like()) {
                shape.check(text, table, name, keys);
            }
        }
        for (index, table) in instance_tables(root).into_iter().enumerate() {
            let prefix = format!("instance[{}]", index + 1);
            shape.check(text, table, &prefix, INSTANCE_KEYS);
        }
        shape
    }

    fn check(
        &mut self,
        text: &str,
        table: &dyn toml_edit::TableLike,
        prefix: &str,
        keys: &[(&str, Kind)],
    ) {
        for (name, item) in table.iter() {
            let key = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            };
            let key_offset = table
                .get_key_value(name)
                .and_then(|(key, _)| key.span())
                .map_or(0, |span| span.start);
            let value_offset = item
                .as_value()
                .and_then(toml_edit::Value::span)
                .map_or(key_offset, |span| span.start);
            match keys.iter().find(|(known, _)| *known == name) {
                None => {
                    let problem = self.problem(
                        text,
                        key_offset,
                        key,
                        format!("`{name}` is not a key schema v1 knows here"),
                        format!("the keys allowed here are {}", names(keys)),
                    );
                    self.unknown_keys.push(problem);
                }
                Some((_, kind)) if !kind.matches(item) => {
                    let problem = self.problem(
                        text,
                        value_offset,
                        key,
                        format!("`{name}` must be {}", kind.describe()),
                        "strings need quotes, numbers must not have them; docs/document.md \
                         gives each key's type"
                            .to_owned(),
                    );
                    self.wrong_types.push(problem);
                }
                Some(_) => {}
            }
        }
    }

    fn problem(
        &mut self,
        text: &str,
        offset: usize,
        key: String,
        message: String,
        hint: String,
    ) -> Problem {
        let (line, column) = self
            .lines
            .get_or_insert_with(|| LineStarts::of(text))
            .line_and_column(text, offset);
        Problem {
            line,
            column,
            key,
            message,
            hint,
        }
    }
}

fn names(keys: &[(&str, Kind)]) -> String {
    keys.iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
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
    fn a_value_of_the_wrong_type_is_named_by_its_full_key_and_read_as_absent() {
        let text = "version = 1\n[[instance]]\nid = \"i-a\"\n[[instance]]\ngeneration = \"3\"\n";
        let parsed = parse(text).unwrap();
        assert!(parsed.document.instance[1].get_ref().generation.is_none());
        let problems = parsed.wrong_types;
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "instance[2].generation");
        assert_eq!((problems[0].line, problems[0].column), (5, 14));
    }

    #[test]
    fn every_wrongly_typed_value_is_reported() {
        let text = "version = \"1\"\nrecipients = \"age1x\"\n[[instance]]\nwave = 1.5\n";
        let problems = parse(text).unwrap_err();
        let keys: Vec<_> = problems
            .iter()
            .map(|problem| problem.key.as_str())
            .collect();
        assert_eq!(keys, ["version", "recipients", "instance[1].wave"]);
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        let text = "version = 1\n[secrets]\nseed = 12345678\n";
        let raw = parse(text).unwrap().document;
        assert!(raw.secrets.unwrap().into_inner().seed.is_some());
    }
}
