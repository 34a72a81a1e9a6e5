//! The markdown form: a pull-request comment, summary first, details collapsed.
//!
//! Code hosts cap a comment's length (GitHub at 65,536 characters), so the comment never goes
//! over [`MARKDOWN_LIMIT`] characters however large the fleet: rows that would not fit are left
//! out, and the comment says how many of each action it left out and how to see them.

use std::fmt::Write as _;

use super::{action_words, generation_words, summary_line};
use crate::plan::{Action, Change, Plan, Summary};

/// The most characters a markdown plan ever has.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Room kept for the closing lines, which are written after the rows.
const CLOSING_ROOM: usize = 600;

/// Renders the plan as a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    let mut output = String::from("### passform plan\n\n");
    if plan.has_changes() {
        let _ = writeln!(output, "**Plan:** {}.", summary_line(&plan.summary()));
    } else {
        let _ = writeln!(
            output,
            "**No changes.** The declared passwords are in effect on {} instance(s).",
            plan.changes.len()
        );
    }
    if plan.partial {
        output.push_str(
            "\n> **Partial plan:** it covers only the instances named with `--target`.\n",
        );
    }

    let noteworthy: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|change| change.action != Action::None || !change.warnings.is_empty())
        .collect();
    if noteworthy.is_empty() {
        return output;
    }
    let _ = write!(
        output,
        "\n<details><summary>What apply does, and why ({} instances)</summary>\n\n\
         | instance | region | name | status | action | generation | reason |\n\
         |---|---|---|---|---|---|---|\n",
        noteworthy.len()
    );
    let mut characters = output.chars().count();
    let mut shown = 0;
    for change in &noteworthy {
        let row = row(change);
        let length = row.chars().count();
        if characters + length + CLOSING_ROOM > MARKDOWN_LIMIT {
            break;
        }
        output.push_str(&row);
        characters += length;
        shown += 1;
    }
    let left_out = &noteworthy[shown..];
    if !left_out.is_empty() {
        let _ = write!(
            output,
            "\n{} more instance(s) left out ({}) to keep this comment under {MARKDOWN_LIMIT} \
             characters; run `passform plan` to see every change.\n",
            left_out.len(),
            left_out_words(left_out)
        );
    }
    output.push_str("\n</details>\n");
    output
}

/// What the rows left out would have shown, counted by action: `120 to reset, 3 blocked`.
fn left_out_words(left_out: &[&Change]) -> String {
    let summary = Summary::of(left_out.iter().copied());
    let warned = left_out
        .iter()
        .filter(|change| !change.warnings.is_empty())
        .count();
    let counts = [
        (summary.reset, "to reset"),
        (summary.restart, "to restart"),
        (summary.wait, "to wait for"),
        (summary.forget, "to forget"),
        (summary.blocked, "blocked"),
        (summary.unchanged, "unchanged"),
        (warned, "with a warning"),
    ];
    counts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, words)| format!("{count} {words}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(change: &Change) -> String {
    let mut reason = escape(&change.reason);
    for warning in &change.warnings {
        let _ = write!(reason, "<br>**warning:** {}", escape(warning));
    }
    // The id is shown as code, where markup means nothing but a `|` still ends the cell.
    format!(
        "| `{}` | {} | {} | {} | {} | {} | {} |\n",
        change.instance.replace('|', "\\|"),
        escape(&change.region),
        escape(change.name.as_deref().unwrap_or("-")),
        change.status.map_or("-", |status| status.as_str()),
        action_words(change),
        generation_words(change),
        reason
    )
}

/// Makes text safe inside a table cell: no column breaks, no line breaks, no HTML.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}
