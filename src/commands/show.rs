//! `passform show [PLANFILE]`: render a saved plan, or the state when no plan is given.
//!
//! Showing reads only files: no network, no lock, no document. A saved plan renders exactly as
//! it did when `plan --out` made it.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::{PlanFormat, ShowArgs};
use crate::plan::saved;
use crate::settings::Settings;
use crate::state::{self, State};

use super::{Error, print_data};

/// Runs `passform show`.
pub fn run(settings: &Settings, args: &ShowArgs) -> Result<ExitCode, Error> {
    let output = match &args.plan_file {
        Some(path) => {
            let saved = saved::load(path)?;
            eprintln!(
                "Saved plan made by passform {} against state serial {} (lineage {}).",
                saved.passform_version, saved.serial, saved.lineage
            );
            super::plan::render_plan(&saved.plan, args.format)
        }
        None => {
            let state = state::load(&settings.state_path)?;
            match args.format {
                PlanFormat::Json => {
                    let mut text =
                        serde_json::to_string_pretty(&state).expect("the state always serializes");
                    text.push('\n');
                    text
                }
                PlanFormat::Text | PlanFormat::Markdown => describe_state(&state),
            }
        }
    };
    print_data(&output)?;
    Ok(ExitCode::SUCCESS)
}

fn describe_state(state: &State) -> String {
    let mut output = format!(
        "State lineage {}, serial {}, {} instance(s).\n",
        state.lineage,
        state.serial,
        state.instances.len()
    );
    for (id, record) in &state.instances {
        let _ = write!(output, "\n{}", super::state::describe(id, record));
    }
    output
}
