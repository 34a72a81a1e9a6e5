//! `passform init`: make an identity if there is none, and a new encrypted document.
//!
//! It never overwrites: an existing document is an error, and an existing identity file is
//! used as it is (the document is encrypted to its recipients). A new identity file is created
//! with mode 0600 in a directory made private (0700) if passform has to create it.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::InitArgs;
use crate::document::{self, DocumentError, derivation::Seed, encryption, template};
use crate::settings::Settings;

/// Runs `passform init`.
pub fn run(settings: &Settings, _args: &InitArgs) -> Result<ExitCode, DocumentError> {
    let document_path = &settings.document_path;
    if document_path.exists() {
        return Err(DocumentError::AlreadyExists {
            path: document_path.clone(),
        });
    }
    let Some(identity_path) = settings.identities.first() else {
        return Err(DocumentError::NoIdentity { tried: Vec::new() });
    };
    let recipients = if identity_path.exists() {
        let recipients = encryption::recipients_of_identity_file(identity_path)?;
        eprintln!("using the identity `{}`", identity_path.display());
        recipients
    } else {
        let recipient = create_identity(identity_path)?;
        eprintln!(
            "created the identity `{}` (public key {recipient})",
            identity_path.display()
        );
        vec![recipient]
    };

    let plaintext = template::new_document(&recipients, &Seed::generate());
    let ciphertext = document::seal(&plaintext, &recipients)?;
    create_new_file(document_path, &ciphertext, None)?;
    eprintln!(
        "wrote `{}`, encrypted to {}; declare instances with `passform edit`",
        document_path.display(),
        recipients.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a fresh X25519 identity to `path` (mode 0600) and returns its recipient.
fn create_identity(path: &Path) -> Result<String, DocumentError> {
    if let Some(directory) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(directory)
            .map_err(|source| DocumentError::WriteFile {
                path: directory.to_owned(),
                source,
            })?;
    }
    let (identity, recipient) = encryption::generate_identity();
    create_new_file(path, identity.as_bytes(), Some(0o600))?;
    Ok(recipient)
}

/// Creates a file that must not exist yet, with `mode` on Unix when given.
fn create_new_file(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<(), DocumentError> {
    let write_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            DocumentError::AlreadyExists {
                path: path.to_owned(),
            }
        } else {
            DocumentError::WriteFile {
                path: path.to_owned(),
                source,
            }
        }
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(contents).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}
