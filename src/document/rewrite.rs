//! Changes to the plaintext document that keep everything else as the user wrote it.
//!
//! `rotate` raises generations and `show-document` masks secrets; both edit the TOML through
//! `toml_edit`, so that comments, order and spacing survive and a diff shows only the change.
//! Both expect a document that already validated.

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

/// The text with the seed and every password replaced by `(sensitive)`, comments kept.
pub fn mask_secrets(text: &str) -> Result<String, RewriteError> {
    let mut document: DocumentMut = text.parse().map_err(|_| RewriteError::NotToml)?;
    if let Some(seed) = document
        .get_mut("secrets")
        .and_then(Item::as_table_like_mut)
        .and_then(|secrets| secrets.get_mut("seed"))
        .and_then(Item::as_value_mut)
    {
        replace_keeping_decor(seed, Value::from(MASK));
    }
    for table in instance_tables(&mut document) {
        if let Some(password) = table.get_mut("password").and_then(Item::as_value_mut) {
            replace_keeping_decor(password, Value::from(MASK));
        }
    }
    Ok(document.to_string())
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
    fn inline_instances_are_masked_too() {
        let text = "instance = [{ id = \"i-a\", password = \"Secret#Pass1\" }]\n";
        assert!(!mask_secrets(text).unwrap().contains("Secret#Pass1"));
    }
}
