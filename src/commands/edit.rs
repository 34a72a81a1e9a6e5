//! `passform edit`: decrypt into a private file, open the user's editor, validate, re-encrypt.
//!
//! The plaintext lives only in a fresh directory of mode 0700 (in `$TMPDIR` when set, else in
//! `/dev/shm` when there is one, so it stays in memory, else in the system temporary
//! directory) and is overwritten and removed on every way out: success, no change, an invalid
//! document given up on, an editor failure, or a SIGINT, SIGTERM or SIGHUP while the editor
//! runs (the editor is stopped and nothing is written). Only SIGKILL or a power cut can leave
//! it behind.
//!
//! When the saved document is invalid, the editor opens again with the problems as comments
//! at the top; quitting without changing anything gives up and writes nothing. The same
//! happens when the identities that opened the document could not open the new one, so an
//! edit never locks its author out. An unchanged document is not rewritten. A changed one is
//! encrypted to the recipients it now lists.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zeroize::Zeroizing;

use crate::document::{self, DocumentError, Problem};
use crate::report::Hint;
use crate::settings::Settings;

/// Lines that passform puts above the document to explain problems start with this.
const HEADER_PREFIX: &str = "# passform: ";
/// The name of the plaintext file, ending in `.toml` so that editors highlight it.
const PLAINTEXT_NAME: &str = "passwords.toml";

/// What can go wrong while editing.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Reading, checking or writing the document failed.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The private directory or file for the plaintext could not be made or read.
    #[error("could not prepare the private file to edit in `{}`", directory.display())]
    Workspace {
        /// The directory passform tried to use.
        directory: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// passform could not arrange to catch Ctrl-C, so it does not write the plaintext at all.
    #[error("could not watch for Ctrl-C and other signals, so the document was not opened")]
    WatchSignals {
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The editor could not be started.
    #[error("could not start the editor `{editor}`")]
    EditorStart {
        /// The editor command.
        editor: String,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// The editor exited with a failure.
    #[error("the editor `{editor}` failed ({status}); nothing was written")]
    EditorFailed {
        /// The editor command.
        editor: String,
        /// How it exited.
        status: std::process::ExitStatus,
    },
    /// A signal arrived while the editor ran.
    #[error("the edit was interrupted; nothing was written")]
    Interrupted,
    /// The user quit without fixing an invalid document.
    #[error(
        "the edited document still has {} problem{}, so nothing was written",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )]
    GaveUp {
        /// The problems that remained.
        problems: Vec<Problem>,
    },
}

impl Hint for EditError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Document(error) => error.hint(),
            Self::Workspace { .. } => {
                Some("set TMPDIR to a private directory you can write to".to_owned())
            }
            Self::EditorStart { .. } | Self::EditorFailed { .. } => Some(
                "set VISUAL or EDITOR to an editor that waits until the file is closed, such as \
                 `vi` or `code --wait`"
                    .to_owned(),
            ),
            Self::Interrupted | Self::WatchSignals { .. } => {
                Some("run `passform edit` again".to_owned())
            }
            Self::GaveUp { .. } => Some(
                "run `passform edit` again, and fix the problems listed at the top of the file"
                    .to_owned(),
            ),
        }
    }
}

/// Runs `passform edit`.
pub async fn run(settings: &Settings) -> Result<ExitCode, EditError> {
    let path = &settings.document_path;
    let original = document::decrypt(path, &settings.identities)?;
    // Watching for signals starts before the plaintext is written anywhere, so that no signal
    // can end passform between writing it and removing it.
    let mut signals = Signals::watch()?;
    let workspace = Workspace::create()?;
    let editor = editor_command();

    let mut shown = original.clone();
    let mut header = String::new();
    let (sealed, document) = loop {
        workspace.write(&with_header(&header, &shown))?;
        run_editor(&editor, &workspace.file, &mut signals).await?;
        let saved = Zeroizing::new(strip_header(&workspace.read()?));
        if *saved == *original {
            eprintln!("no changes; `{}` was not rewritten", path.display());
            return Ok(ExitCode::SUCCESS);
        }
        let problems = match document::model::validate(&saved) {
            Ok(document) => match seal_for_self(&saved, &document, path, &settings.identities) {
                Ok(sealed) => break (sealed, document),
                Err(problem) => vec![problem],
            },
            Err(problems) => problems,
        };
        if !header.is_empty() && *saved == *shown {
            return Err(EditError::GaveUp { problems });
        }
        header = problem_header(&problems);
        shown = saved;
    };

    document::write_atomically(path, &sealed)?;
    eprintln!(
        "wrote `{}`, encrypted to {} recipient{}",
        path.display(),
        document.recipients.len(),
        if document.recipients.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Encrypts the edited document to its recipients and checks that the identities that opened
/// it can open it again, so that an edit never locks its author out. A failure becomes a
/// problem on `recipients`, shown in the editor like any other.
fn seal_for_self(
    plaintext: &str,
    document: &document::Document,
    path: &Path,
    identities: &[PathBuf],
) -> Result<Vec<u8>, Problem> {
    let hint = "keep a recipient of your own identity in `recipients` (or edit with an identity \
                that one of them belongs to), and check that every plugin named is on PATH";
    let problem = |message: String| {
        let offset = document::raw::key_offset(plaintext, "recipients");
        Problem::at(plaintext, offset, "recipients", message, hint)
    };
    let sealed = document::seal(plaintext, &document.recipients)
        .map_err(|error| problem(with_causes(&error)))?;
    match document::encryption::open(path, &sealed, identities) {
        Ok(_) => Ok(sealed),
        Err(DocumentError::NoMatchingIdentity { .. }) => Err(problem(
            "none of the identities that opened this document is among its recipients, so you \
             could not open it again"
                .to_owned(),
        )),
        Err(error) => Err(problem(with_causes(&error))),
    }
}

/// An error and its causes on one line, for a problem comment.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The editor the user chose: `$VISUAL`, then `$EDITOR`, then `vi`.
fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_owned())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// SIGINT, SIGTERM and SIGHUP, caught instead of ending passform, so that an interrupted edit
/// still removes its plaintext. A signal that arrives outside the editor is kept and stops the
/// next run of the editor at once.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn watch() -> Result<Signals, EditError> {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind| signal(kind).map_err(|source| EditError::WatchSignals { source });
        Ok(Signals {
            interrupt: watch(SignalKind::interrupt())?,
            terminate: watch(SignalKind::terminate())?,
            hangup: watch(SignalKind::hangup())?,
        })
    }

    /// Waits for any of the signals.
    async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
    }
}

/// Runs the editor on `file` through the shell (so `code --wait` works as in git), and stops
/// it if passform is interrupted meanwhile.
async fn run_editor(editor: &str, file: &Path, signals: &mut Signals) -> Result<(), EditError> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg("passform-editor")
        .arg(file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| EditError::EditorStart {
            editor: editor.to_owned(),
            source,
        })?;
    tokio::select! {
        // A Ctrl-C in the terminal reaches the editor too; when both the signal and the
        // editor's exit are ready, the signal wins, so an interrupted edit never writes.
        biased;
        () = signals.received() => {
            let _ = child.kill().await;
            Err(EditError::Interrupted)
        }
        status = child.wait() => {
            let status = status.map_err(|source| EditError::EditorStart {
                editor: editor.to_owned(),
                source,
            })?;
            if status.success() {
                Ok(())
            } else {
                Err(EditError::EditorFailed { editor: editor.to_owned(), status })
            }
        }
    }
}

/// The comment block listing the problems, with line numbers as the user will see them.
fn problem_header(problems: &[Problem]) -> String {
    let mut lines = vec![
        "this document has problems: fix them, save and quit to try again.".to_owned(),
        "quit without changing anything to give up (nothing will be written).".to_owned(),
        "passform removes these lines itself.".to_owned(),
    ];
    let offset = 3 + 2 * problems.len();
    // Each problem takes exactly two lines, so that the line numbers above stay right and
    // every line of the header starts with the prefix that `strip_header` removes.
    let one_line = |text: &str| text.replace(['\r', '\n'], " ");
    for problem in problems {
        lines.push(format!(
            "line {}, column {}: `{}`: {}",
            problem.line + offset,
            problem.column,
            problem.key,
            one_line(&problem.message)
        ));
        lines.push(format!("  hint: {}", one_line(&problem.hint)));
    }
    lines
        .iter()
        .map(|line| format!("{HEADER_PREFIX}{line}\n"))
        .collect()
}

/// The problem comments followed by the document, built in one allocation so that no copy of
/// the plaintext is left behind in freed memory.
fn with_header(header: &str, text: &str) -> Zeroizing<String> {
    let mut shown = Zeroizing::new(String::with_capacity(header.len() + text.len()));
    shown.push_str(header);
    shown.push_str(text);
    shown
}

/// The text without the problem comments passform put on top.
fn strip_header(text: &str) -> String {
    let mut rest = text;
    while let Some(line_end) = rest.find('\n') {
        if !rest.starts_with(HEADER_PREFIX) {
            break;
        }
        rest = &rest[line_end + 1..];
    }
    rest.to_owned()
}

/// The private directory and file holding the plaintext while it is edited.
struct Workspace {
    directory: tempfile::TempDir,
    file: PathBuf,
}

impl Workspace {
    fn create() -> Result<Workspace, EditError> {
        let parent = private_parent();
        let workspace_error = |source| EditError::Workspace {
            directory: parent.clone(),
            source,
        };
        let directory = tempfile::Builder::new()
            .prefix("passform-edit-")
            .permissions(private_mode(0o700))
            .tempdir_in(&parent)
            .map_err(workspace_error)?;
        let file = directory.path().join(PLAINTEXT_NAME);
        Ok(Workspace { directory, file })
    }

    fn write(&self, text: &str) -> Result<(), EditError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&self.file)
            .map_err(|source| self.error(source))?;
        file.write_all(text.as_bytes())
            .map_err(|source| self.error(source))
    }

    /// Reads the edited file into a buffer sized from the file's length, so that reading does
    /// not grow it and leave partial copies of the plaintext in freed memory.
    fn read(&self) -> Result<Zeroizing<String>, EditError> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(&self.file).map_err(|source| self.error(source))?;
        let length = file.metadata().map_err(|source| self.error(source))?.len();
        let capacity = usize::try_from(length).unwrap_or(0).saturating_add(1);
        let mut text = Zeroizing::new(String::with_capacity(capacity));
        file.read_to_string(&mut text)
            .map_err(|source| self.error(source))?;
        Ok(text)
    }

    fn error(&self, source: std::io::Error) -> EditError {
        EditError::Workspace {
            directory: self.directory.path().to_owned(),
            source,
        }
    }
}

impl Drop for Workspace {
    /// Overwrites the plaintext before the directory is removed, so that its bytes do not
    /// linger in freed blocks; the directory itself is removed by `TempDir`.
    fn drop(&mut self) {
        if let Ok(metadata) = std::fs::metadata(&self.file) {
            let zeros = vec![0u8; usize::try_from(metadata.len()).unwrap_or(0)];
            let _ = std::fs::write(&self.file, zeros);
        }
    }
}

/// Where the private directory goes: `$TMPDIR` when set, else `/dev/shm` when present (memory,
/// not disk), else the system temporary directory.
fn private_parent() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some_and(|value| !value.is_empty()) {
        return std::env::temp_dir();
    }
    let shared_memory = Path::new("/dev/shm");
    if shared_memory.is_dir() {
        return shared_memory.to_owned();
    }
    std::env::temp_dir()
}

#[cfg(unix)]
fn private_mode(mode: u32) -> std::fs::Permissions {
    std::os::unix::fs::PermissionsExt::from_mode(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_problem_header_is_removed_again_and_counts_its_own_lines() {
        let problem = Problem {
            line: 2,
            column: 5,
            key: "version".to_owned(),
            message: "wrong".to_owned(),
            hint: "fix".to_owned(),
        };
        let header = problem_header(std::slice::from_ref(&problem));
        assert_eq!(header.lines().count(), 5);
        assert!(header.contains("line 7, column 5"));
        let body = "version = 2\n# passform: kept, since it is not at the top\n";
        assert_eq!(strip_header(&format!("{header}{body}")), body);
    }

    #[test]
    fn a_message_of_several_lines_stays_on_one_header_line() {
        let problem = Problem {
            line: 1,
            column: 1,
            key: "recipients".to_owned(),
            message: "could not encrypt:\nthe plugin failed".to_owned(),
            hint: "check\nthe plugin".to_owned(),
        };
        let header = problem_header(&[problem]);
        assert_eq!(header.lines().count(), 5);
        assert_eq!(
            strip_header(&format!("{header}version = 1\n")),
            "version = 1\n"
        );
    }
}
