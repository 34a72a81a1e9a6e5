//! `passform show-document [PATH]`: the decrypted document with the seed and every password
//! replaced by `(sensitive)`, for reading and for `git diff` through a textconv driver
//! (docs/git.md).
//!
//! The document is masked but not validated, so that the diff of a commit holding a broken
//! document still reads; the value of a key schema v1 does not know is masked too, since a
//! misspelt key may hold a password. Text that is not TOML is never printed, since it cannot
//! be masked.

use std::process::ExitCode;

use crate::cli::ShowDocumentArgs;
use crate::document::{self, DocumentError, rewrite};
use crate::settings::Settings;

/// Runs `passform show-document`.
pub fn run(settings: &Settings, args: &ShowDocumentArgs) -> Result<ExitCode, DocumentError> {
    let path = args.path.as_ref().unwrap_or(&settings.document_path);
    let plaintext = document::decrypt(path, &settings.identities)?;
    let masked = rewrite::mask_secrets(&plaintext).map_err(|source| DocumentError::Rewrite {
        path: path.clone(),
        source,
    })?;
    print!("{masked}");
    Ok(ExitCode::SUCCESS)
}
