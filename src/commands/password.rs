//! `passform password ID`: print one instance's desired password, so that a person can log in.
//!
//! The password and a newline go to stdout and nothing else does; the user asked for it.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::PasswordArgs;
use crate::document::{self, DocumentError};
use crate::settings::Settings;

/// Runs `passform password ID`.
pub fn run(settings: &Settings, args: &PasswordArgs) -> Result<ExitCode, DocumentError> {
    let loaded = document::load(&settings.document_path, &settings.identities)?;
    let document = &loaded.document;
    let instance = document
        .instance(&args.id)
        .ok_or_else(|| DocumentError::UnknownInstance {
            path: settings.document_path.clone(),
            id: args.id.clone(),
        })?;
    let password = document.password(instance);
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (a pipe to `head`) is not worth an error: nothing secret is lost.
    let _ = writeln!(stdout, "{}", password.expose_secret());
    let _ = stdout.flush();
    Ok(ExitCode::SUCCESS)
}
