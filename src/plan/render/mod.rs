//! The forms a plan is shown in: text for a terminal, JSON for machines, markdown for a
//! pull-request comment.
//!
//! Renderers only read a [`Plan`](super::Plan): they compute nothing and look nothing up, so a
//! saved plan renders exactly as it did when it was made, and the same plan always gives the
//! same bytes. No renderer ever has a password to show; where one belongs, `(sensitive)` stands.

mod json;
mod markdown;
mod text;

pub use json::{FORMAT_VERSION, json};
pub use markdown::{MARKDOWN_LIMIT, markdown};
pub use text::{text, write_text};

use super::{Action, Change, Restart, Summary};

/// What apply does to an instance, in a few words: `reset, then reboot`.
fn action_words(change: &Change) -> String {
    let restart = match change.restart {
        Restart::Reboot => "reboot",
        Restart::Start => "start",
        Restart::None => "no restart",
    };
    match change.action {
        Action::None => "no change".to_owned(),
        Action::Reset => format!("reset, then {restart}"),
        Action::Restart => format!("restart ({restart})"),
        Action::Wait => "wait for a stable status".to_owned(),
        Action::Forget => "forget".to_owned(),
        Action::Blocked => "blocked".to_owned(),
    }
}

/// The generation change as `1 -> 2`, `- -> 1` or `3 -> -`.
fn generation_words(change: &Change) -> String {
    let show =
        |generation: Option<u64>| generation.map_or_else(|| "-".to_owned(), |g| g.to_string());
    format!(
        "{} -> {}",
        show(change.generation.from),
        show(change.generation.to)
    )
}

/// One line counting every action, the same in every format.
fn summary_line(summary: &Summary) -> String {
    format!(
        "{} to reset, {} to restart, {} to wait for, {} to forget, {} blocked, {} unchanged",
        summary.reset,
        summary.restart,
        summary.wait,
        summary.forget,
        summary.blocked,
        summary.unchanged
    )
}
