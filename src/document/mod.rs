//! The desired document: age-encrypted TOML declaring a password generation per instance.
//!
//! This module owns everything between the encrypted file on disk and the validated
//! [`Document`] the rest of passform uses: decryption with the user's identities
//! ([`encryption`]), parsing into raw serde types ([`raw`]), validation into the model
//! ([`model`]) against the password policy ([`policy`]), and password, fingerprint and digest
//! derivation from the seed ([`derivation`]). [`rewrite`] changes the plaintext in place
//! (raised generations, masked secrets) and [`template`] is the document `init` writes. Errors
//! and located problems live in [`error`]. It never writes state and never talks to ECS; the
//! rules that compare the document with the state belong to the planner.

pub mod derivation;
pub mod encryption;
pub mod error;
pub mod model;
pub mod policy;
pub mod raw;
pub mod rewrite;
pub mod template;

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

pub use encryption::seal;
pub use error::{DocumentError, Problem, Problems};
pub use model::{DeclaredInstance, Document, RestartPolicy};

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
    let plaintext = decrypt(path, identities)?;
    let document = parse(path, &plaintext)?;
    let digest = document.digest(&plaintext);
    Ok(LoadedDocument { document, digest })
}

/// Reads and decrypts the document at `path`, returning its plaintext without validating it.
pub fn decrypt(path: &Path, identities: &[PathBuf]) -> Result<Zeroizing<String>, DocumentError> {
    let ciphertext = std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DocumentError::Missing {
                path: path.to_owned(),
            }
        } else {
            DocumentError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    let mut plaintext = encryption::open(path, &ciphertext, identities)?;
    match String::from_utf8(std::mem::take(&mut *plaintext)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(error) => {
            drop(Zeroizing::new(error.into_bytes()));
            Err(DocumentError::NotText {
                path: path.to_owned(),
            })
        }
    }
}

/// Validates plaintext read from `path` (named in messages) into a document.
pub fn parse(path: &Path, plaintext: &str) -> Result<Document, DocumentError> {
    model::validate(plaintext).map_err(|problems| DocumentError::Invalid {
        problems: Problems {
            path: path.to_owned(),
            problems,
        },
    })
}

/// Replaces the file at `path` with `contents` atomically (see [`crate::atomic_file`]): a
/// crash leaves the old file or the new one, never half of either.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), DocumentError> {
    crate::atomic_file::replace(path, contents, ".passform.document.").map_err(|source| {
        DocumentError::WriteFile {
            path: path.to_owned(),
            source,
        }
    })
}
