//! How a failure reaches the user: `error: ...`, one `caused by: ...` per source, then a hint.
//!
//! Every module's error enum implements [`Hint`] so that an error a user can fix says what to do.
//! Messages never repeat their source (the chain printer shows it), and no error carries a
//! secret: secrets live in [`crate::secret::SecretString`], which prints as `(sensitive)`.

use std::error::Error as StdError;
use std::fmt::Write as _;

/// What the user can do about an error, when there is something to do.
pub trait Hint {
    /// A sentence telling the user how to fix the cause, if they can.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// Renders an error, its causes and its hint, one line each, ready for stderr.
pub fn render(error: &(dyn StdError + 'static), hint: Option<String>) -> String {
    let mut text = format!("error: {error}\n");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = writeln!(text, "caused by: {cause}");
        source = cause.source();
    }
    if let Some(hint) = hint {
        let _ = writeln!(text, "hint: {hint}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("could not read the state file `passform.state.json`")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn render_prints_error_then_each_cause_then_the_hint() {
        let error = Outer(std::io::Error::other("disk on fire"));
        let text = render(&error, Some("check the disk".to_owned()));
        assert_eq!(
            text,
            "error: could not read the state file `passform.state.json`\n\
             caused by: disk on fire\n\
             hint: check the disk\n"
        );
    }
}
