//! Changes to the plaintext document that keep everything else as the user wrote it.
//!
//! `rotate` raises generations and `show-document` masks secrets; both edit the TOML through
//! `toml_edit`, so that comments, order and spacing survive and a diff shows only the change.
//! `rotate` expects a document that already validated. Masking does not: it shows as written
//! only the values schema v1 declares as not secret, and masks every other value, so that a
//! broken or misspelt document still diffs without showing a secret.

use toml_edit::{DocumentMut, Item, Value};

use crate::secret::MASK;

/// One raised generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    /// The instance id.
    pub id: String,
    /// The generation before.
    pub from: i64,
    /// The generation after.
    pub to: i64,
    /// Returns true when the instance has an explicit password, which a raise does not change.
    pub explicit_password: bool,
}

/// Why a rewrite could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The text is not TOML.
    #[error("its plaintext is not valid TOML")]
    NotToml,
    /// An instance has a generation that cannot be raised.
    #[error("the generation of `{id}` cannot be raised")]
    Generation {
        /// The instance id.
        id: String,
    },
}

/// The text with the generation of each instance in `ids` raised by one, or of every instance
/// when `ids` is `None`. Ids the document does not declare are left out of the result; the
/// caller compares the result with what it asked for.
pub fn raise_generations(
    text: &str,
    ids: Option<&[String]>,
) -> Result<(String, Vec<Raised>), RewriteError> {
    let mut document: DocumentMut = text.parse().map_err(|_| RewriteError::NotToml)?;
    let mut raised = Vec::new();
    for table in instance_tables(&mut document) {
        let Some(id) = table
            .get("id")
            .and_then(|item| item.as_str())
            .map(|id| id.trim().to_owned())
        else {
            continue;
        };
        if ids.is_some_and(|ids| !ids.contains(&id)) {
            continue;
        }
        let explicit_password = table.contains_key("password");
        let generation = table.get_mut("generation").and_then(Item::as_value_mut);
        let Some(value) = generation else {
            return Err(RewriteError::Generation { id });
        };
        let Some(from) = value.as_integer() else {
            return Err(RewriteError::Generation { id });
        };
        let to = from
            .checked_add(1)
            .ok_or_else(|| RewriteError::Generation { id: id.clone() })?;
        replace_keeping_decor(value, Value::from(to));
        raised.push(Raised {
            id,
            from,
            to,
            explicit_password,
        });
    }
    Ok((document.to_string(), raised))
}

/// The keys whose values are shown as written: everything schema v1 declares that is not a
/// secret. Every other value, the seed, passwords and any key schema v1 does not know (such as a
/// misspelt `pasword`), is masked, so that a typo cannot put a password into a diff.
const PLAIN_KEYS: &[(&str, &[&str])] = &[
    ("", &["version", "recipients"]),
    ("defaults", &["region", "restart", "password_length"]),
    (
        "instance",
        &["id", "region", "generation", "restart", "wave"],
    ),
];

/// The text with the seed, every password and every value of an unknown key replaced by
/// `(sensitive)`, comments and layout kept.
pub fn mask_secrets(text: &str) -> Result<String, RewriteError> {
    let mut document: DocumentMut = text.parse().map_err(|_| RewriteError::NotToml)?;
    mask_table(document.as_table_mut(), "");
    Ok(document.to_string())
}

/// Masks every value of `table`, the schema table called `name` (`""` for the top level),
/// except the values of its keys in [`PLAIN_KEYS`]. Tables inside are masked the same way;
/// inside a table schema v1 does not know, everything is masked.
fn mask_table(table: &mut dyn toml_edit::TableLike, name: &str) {
    let plain = PLAIN_KEYS
        .iter()
        .find(|(table, _)| *table == name)
        .map_or(&[][..], |(_, keys)| *keys);
    for (key, item) in table.iter_mut() {
        if plain.contains(&key.get()) {
            mask_secret_keys(item);
            continue;
        }
        let inner_name = match (name, key.get()) {
            ("", known @ ("defaults" | "instance")) => known,
            _ => UNKNOWN_TABLE,
        };
        match item {
            Item::Table(inner) => mask_table(inner, inner_name),
            Item::ArrayOfTables(tables) => {
                for inner in tables.iter_mut() {
                    mask_table(inner, inner_name);
                }
            }
            Item::Value(Value::Array(values)) => {
                for value in values.iter_mut() {
                    mask_value(value, inner_name);
                }
            }
            Item::Value(value) => mask_value(value, inner_name),
            Item::None => {}
        }
    }
}

/// The name given to tables schema v1 does not know (and to `[secrets]`): no key in them is
/// plain.
const UNKNOWN_TABLE: &str = "(unknown)";

/// Masks, inside a plain value, every string that looks like a secret key: an identity pasted
/// into `recipients` by mistake must not reach a diff either.
fn mask_secret_keys(item: &mut Item) {
    let values: Vec<&mut Value> = match item {
        Item::Value(Value::Array(values)) => values.iter_mut().collect(),
        Item::Value(value) => vec![value],
        _ => Vec::new(),
    };
    for value in values {
        if value
            .as_str()
            .is_some_and(super::encryption::looks_like_secret_key)
        {
            replace_keeping_decor(value, Value::from(MASK));
        }
    }
}

/// Masks one value: an inline table key by key, anything else whole.
fn mask_value(value: &mut Value, table_name: &str) {
    match value.as_inline_table_mut() {
        Some(inner) => mask_table(inner, table_name),
        None => replace_keeping_decor(value, Value::from(MASK)),
    }
}

/// Replaces a value, keeping the spaces and comment around it.
fn replace_keeping_decor(value: &mut Value, replacement: Value) {
    let decor = value.decor().clone();
    *value = replacement;
    *value.decor_mut() = decor;
}

/// The `[[instance]]` tables, written either as an array of tables or inline.
fn instance_tables(document: &mut DocumentMut) -> Vec<&mut dyn toml_edit::TableLike> {
    match document.get_mut("instance") {
        Some(Item::ArrayOfTables(tables)) => tables
            .iter_mut()
            .map(|table| table as &mut dyn toml_edit::TableLike)
            .collect(),
        Some(Item::Value(Value::Array(array))) => array
            .iter_mut()
            .filter_map(Value::as_inline_table_mut)
            .map(|table| table as &mut dyn toml_edit::TableLike)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version = 1 # schema\n[secrets]\nseed = \"c2VlZA==\" # keep\n\
                        [[instance]]\nid = \"i-a\"\ngeneration = 3 # raised in May\n\
                        [[instance]]\nid = \"i-b\"\ngeneration = 1\npassword = \"Secret#Pass1\"\n";

    #[test]
    fn raising_one_generation_keeps_comments_and_other_instances() {
        let (text, raised) = raise_generations(TEXT, Some(&["i-a".to_owned()])).unwrap();
        assert_eq!(text, TEXT.replace("generation = 3 #", "generation = 4 #"));
        assert_eq!(
            raised,
            [Raised {
                id: "i-a".to_owned(),
                from: 3,
                to: 4,
                explicit_password: false
            }]
        );
    }

    #[test]
    fn raising_every_generation_reports_explicit_passwords() {
        let (_, raised) = raise_generations(TEXT, None).unwrap();
        let summary: Vec<_> = raised
            .iter()
            .map(|raised| (raised.id.as_str(), raised.to, raised.explicit_password))
            .collect();
        assert_eq!(summary, [("i-a", 4, false), ("i-b", 2, true)]);
    }

    #[test]
    fn masking_hides_the_seed_and_passwords_and_keeps_the_rest() {
        let masked = mask_secrets(TEXT).unwrap();
        assert!(!masked.contains("c2VlZA=="));
        assert!(!masked.contains("Secret#Pass1"));
        assert!(masked.contains("seed = \"(sensitive)\" # keep"));
        assert!(masked.contains("password = \"(sensitive)\""));
        assert!(masked.contains("generation = 3 # raised in May"));
    }

    #[test]
    fn values_of_unknown_keys_and_tables_are_masked_and_known_ones_kept() {
        let text = "version = 1\nrecipients = [\"age1x\", \"AGE-SECRET-KEY-1PASTED\"]\n\
                    note = \"Top#Secret1\"\n\
                    [secrets]\nseed = \"c2VlZA==\"\nold_seed = \"b2xk\"\n\
                    [defaults]\nregion = \"cn-hangzhou\"\npasword = \"Typo#Pass1\"\n\
                    [extra]\nregion = \"Extra#Pass1\"\nlist = [\"List#Pass1\"]\n\
                    [[instance]]\nid = \"i-a\"\ngeneration = 2\nwave = 3\n\
                    pasword = \"Typo#Pass2\"\nnested = { password = \"Nested#Pass1\" }\n";
        let masked = mask_secrets(text).unwrap();
        for secret in [
            "PASTED",
            "Top#Secret1",
            "c2VlZA==",
            "b2xk",
            "Typo#Pass1",
            "Extra#Pass1",
            "List#Pass1",
            "Typo#Pass2",
            "Nested#Pass1",
        ] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        for kept in [
            "version = 1\n",
            "recipients = [\"age1x\", \"(sensitive)\"]\n",
            "region = \"cn-hangzhou\"\n",
            "id = \"i-a\"\n",
            "generation = 2\n",
            "wave = 3\n",
        ] {
            assert!(masked.contains(kept), "{kept} not in {masked}");
        }
    }

    #[test]
    fn inline_instances_are_masked_too() {
        let text = "instance = [{ id = \"i-a\", password = \"Secret#Pass1\" }]\n";
        assert!(!mask_secrets(text).unwrap().contains("Secret#Pass1"));
    }
}
