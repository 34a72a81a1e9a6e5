//! The JSON form: one object, versioned, documented in docs/plan-format.md.
//!
//! Fields are only ever added within a format version; a change that could break a reader
//! raises [`FORMAT_VERSION`].

use serde::Serialize;

use crate::plan::{Change, Plan, Summary};

/// The version of the JSON plan format this passform prints.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    partial: bool,
    changes: &'a [Change],
    summary: Summary,
}

/// Renders the plan as pretty JSON with a trailing newline.
pub fn json(plan: &Plan) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        partial: plan.partial,
        changes: &plan.changes,
        summary: plan.summary(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("a plan always serializes");
    text.push('\n');
    text
}
