//! `passform rotate ID... | --all`: raise generations inside the encrypted document.
//!
//! The document is decrypted and validated, the generations are raised in place (comments and
//! layout kept), the result is validated again and re-encrypted to the document's recipients,
//! and the file is replaced atomically. stdout lists each raised generation; nothing secret is
//! printed. When an id is not declared, nothing is written.

use std::process::ExitCode;

use crate::cli::RotateArgs;
use crate::document::{self, DocumentError, rewrite};
use crate::settings::Settings;

/// Runs `passform rotate`.
pub fn run(settings: &Settings, args: &RotateArgs) -> Result<ExitCode, DocumentError> {
    let path = &settings.document_path;
    let plaintext = document::decrypt(path, &settings.identities)?;
    let current = document::parse(path, &plaintext)?;
    if let Some(id) = args.ids.iter().find(|id| current.instance(id).is_none()) {
        return Err(DocumentError::UnknownInstance {
            path: path.clone(),
            id: id.clone(),
        });
    }

    let ids = (!args.all).then_some(args.ids.as_slice());
    let (rotated, raised) =
        rewrite::raise_generations(&plaintext, ids).map_err(|source| DocumentError::Rewrite {
            path: path.clone(),
            source,
        })?;
    let rotated = zeroize::Zeroizing::new(rotated);
    let document = document::parse(path, &rotated)?;
    let sealed = document::seal(&rotated, &document.recipients)?;
    document::write_atomically(path, &sealed)?;

    for raised in &raised {
        println!("{}: generation {} -> {}", raised.id, raised.from, raised.to);
        if raised.explicit_password {
            eprintln!(
                "warning: {} has an explicit password, which rotate does not change; the next \
                 apply sets the same password again unless you change it with `passform edit`",
                raised.id
            );
        }
    }
    if raised.is_empty() {
        eprintln!("the document declares no instances; nothing to rotate");
    }
    Ok(ExitCode::SUCCESS)
}
