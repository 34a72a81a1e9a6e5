//! `passform validate`: decrypt and check the document offline, for people, editors and CI.
//!
//! Only what the document alone can tell is checked here. Whether a generation went down, or
//! an explicit password changed without a raised generation, needs the state: `passform plan`
//! reports those.
//!
//! `--format json` prints one object on stdout, valid or not (schema in docs/document.md):
//! `{"format_version": 1, "file", "valid", "instances", "problems": [...], "error"}`.

use std::process::ExitCode;

use serde_json::json;

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::document::{self, DocumentError};
use crate::report::Hint as _;
use crate::settings::Settings;

/// Runs `passform validate`.
pub fn run(settings: &Settings, args: &ValidateArgs) -> Result<ExitCode, DocumentError> {
    let outcome = document::load(&settings.document_path, &settings.identities);
    match args.format {
        ValidateFormat::Text => {
            let loaded = outcome?;
            println!(
                "{}: valid, {} instance{} declared",
                settings.document_path.display(),
                loaded.document.instances.len(),
                if loaded.document.instances.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        ValidateFormat::Json => {
            let (report, code) = json_report(&settings.document_path, &outcome);
            println!("{report}");
            Ok(code)
        }
    }
}

/// The JSON report of a validation and the exit code that goes with it.
fn json_report(
    path: &std::path::Path,
    outcome: &Result<document::LoadedDocument, DocumentError>,
) -> (serde_json::Value, ExitCode) {
    let file = path.display().to_string();
    match outcome {
        Ok(loaded) => (
            json!({
                "format_version": 1,
                "file": file,
                "valid": true,
                "instances": loaded.document.instances.len(),
                "problems": [],
                "error": null,
            }),
            ExitCode::SUCCESS,
        ),
        Err(DocumentError::Invalid { problems }) => (
            json!({
                "format_version": 1,
                "file": file,
                "valid": false,
                "instances": null,
                "problems": problems.problems,
                "error": null,
            }),
            ExitCode::FAILURE,
        ),
        Err(error) => (
            json!({
                "format_version": 1,
                "file": file,
                "valid": false,
                "instances": null,
                "problems": [],
                "error": {"message": error.to_string(), "hint": error.hint()},
            }),
            ExitCode::FAILURE,
        ),
    }
}
