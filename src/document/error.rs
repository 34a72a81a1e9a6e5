//! What can go wrong between the encrypted file on disk and a validated document.
//!
//! Two kinds of failure are kept apart. A [`DocumentError`] stops the command: the file is
//! missing, no identity decrypts it, the ciphertext is damaged. A [`Problem`] is one mistake
//! inside a decrypted document, with the line, column and key where it sits; validation collects
//! every problem it finds and reports them together in [`DocumentError::Invalid`], so that a user
//! fixes a document in one pass. No message here ever contains a password or the seed.

use std::fmt;
use std::path::PathBuf;

use crate::report::Hint;

/// One mistake in a decrypted document, located by line, column and key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The 1-based line where the mistake is.
    pub line: usize,
    /// The 1-based column (in characters) where the mistake is.
    pub column: usize,
    /// The key in dotted form, such as `instance[2].generation` (instances count from 1).
    pub key: String,
    /// What is wrong, without ever quoting a secret.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl Problem {
    /// A problem at a byte offset of `text`, which is turned into a line and a column.
    pub(crate) fn at(text: &str, offset: usize, key: &str, message: String, hint: &str) -> Problem {
        let (line, column) = line_and_column(text, offset);
        Problem {
            line,
            column,
            key: key.to_owned(),
            message,
            hint: hint.to_owned(),
        }
    }
}

/// The 1-based line and character column of a byte offset in `text`.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The byte offsets at which the lines of a text start, so that many offsets can be turned
/// into lines without scanning the text from the start each time.
pub(crate) struct LineStarts(Vec<usize>);

impl LineStarts {
    /// The line starts of `text`.
    pub(crate) fn of(text: &str) -> LineStarts {
        let after_newlines = text.match_indices('\n').map(|(index, _)| index + 1);
        LineStarts(std::iter::once(0).chain(after_newlines).collect())
    }

    /// The 1-based line and character column of a byte offset in `text`, the text these line
    /// starts were found in; the same answer as [`line_and_column`].
    pub(crate) fn line_and_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.0.partition_point(|start| *start <= offset);
        let column = text[self.0[line - 1]..offset].chars().count() + 1;
        (line, column)
    }
}

/// The problems of one document, printed one per line with their hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    /// The file the problems were found in, as the user named it.
    pub path: PathBuf,
    /// Every problem found, in document order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            write!(
                formatter,
                "\n  {}:{}:{}: `{}`: {}\n    hint: {}",
                self.path.display(),
                problem.line,
                problem.column,
                problem.key,
                problem.message,
                problem.hint
            )?;
        }
        Ok(())
    }
}

/// What can go wrong between the encrypted file and a validated document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document file does not exist.
    #[error("the document `{}` does not exist", path.display())]
    Missing {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// The document file exists but could not be read.
    #[error("could not read the document `{}`", path.display())]
    Read {
        /// The document's path.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The document file is empty.
    #[error("the document `{}` is empty", path.display())]
    Empty {
        /// The document's path.
        path: PathBuf,
    },
    /// The file is not an age file (or its header is cut short or damaged).
    #[error("the document `{}` is not a readable age file", path.display())]
    NotAge {
        /// The document's path.
        path: PathBuf,
        /// What the age reader said.
        #[source]
        source: age::DecryptError,
    },
    /// The age header was read but its body is cut short, damaged or tampered with.
    #[error(
        "the document `{}` is damaged: its ciphertext does not authenticate",
        path.display()
    )]
    Damaged {
        /// The document's path.
        path: PathBuf,
        /// What the age reader said.
        #[source]
        source: std::io::Error,
    },
    /// The file is encrypted with a passphrase (`age -p`), not to recipients.
    #[error("the document `{}` is encrypted with a passphrase, not to recipients", path.display())]
    PassphraseEncrypted {
        /// The document's path.
        path: PathBuf,
    },
    /// None of the identity files exists.
    #[error("no identity file was found (tried {})", list_paths(tried))]
    NoIdentity {
        /// The identity files looked for.
        tried: Vec<PathBuf>,
    },
    /// An identity file could not be read or parsed.
    #[error("could not use the identity file `{}`", path.display())]
    Identity {
        /// The identity file.
        path: PathBuf,
        /// Why it could not be used.
        #[source]
        source: std::io::Error,
    },
    /// An identity file names a plugin that could not be run, or a key that needs a passphrase.
    #[error("could not use the identity file `{}`", path.display())]
    IdentityUnusable {
        /// The identity file.
        path: PathBuf,
        /// What age said.
        #[source]
        source: age::DecryptError,
    },
    /// No identity that was tried can decrypt the document.
    #[error(
        "none of the identities can decrypt `{}` (tried {})",
        path.display(),
        tried.join(", ")
    )]
    NoMatchingIdentity {
        /// The document's path.
        path: PathBuf,
        /// Each identity file tried, with what it held.
        tried: Vec<String>,
    },
    /// Decryption failed for another reason (a plugin error, for example).
    #[error("could not decrypt the document `{}`", path.display())]
    Decrypt {
        /// The document's path.
        path: PathBuf,
        /// What age said.
        #[source]
        source: age::DecryptError,
    },
    /// The decrypted document is not UTF-8 text.
    #[error("the decrypted document `{}` is not UTF-8 text", path.display())]
    NotText {
        /// The document's path.
        path: PathBuf,
    },
    /// The decrypted document breaks the schema; every problem found is listed.
    #[error(
        "the document `{}` has {} problem{}:{problems}",
        problems.path.display(),
        problems.problems.len(),
        if problems.problems.len() == 1 { "" } else { "s" }
    )]
    Invalid {
        /// The problems, with their locations and hints.
        problems: Problems,
    },
    /// The document declares no instance with this id.
    #[error("the document `{}` declares no instance `{id}`", path.display())]
    UnknownInstance {
        /// The document's path.
        path: PathBuf,
        /// The id asked for.
        id: String,
    },
    /// `init` found a file where it would write one, and never overwrites.
    #[error("`{}` already exists", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A file (the document or a new identity) could not be written.
    #[error("could not write `{}`", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why writing failed.
        #[source]
        source: std::io::Error,
    },
    /// The document could not be rewritten (masked or given raised generations).
    #[error("cannot mask or rewrite the document `{}`", path.display())]
    Rewrite {
        /// The document's path.
        path: PathBuf,
        /// Why not.
        #[source]
        source: super::rewrite::RewriteError,
    },
    /// A recipient could not be used to encrypt.
    #[error("cannot encrypt to the recipient `{recipient}`: {reason}")]
    Recipient {
        /// The recipient as written.
        recipient: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// There is no recipient to encrypt to.
    #[error("there is no recipient to encrypt the document to")]
    NoRecipients,
    /// age refused to encrypt.
    #[error("could not encrypt the document")]
    Encrypt {
        /// What age said.
        #[source]
        source: age::EncryptError,
    },
    /// Writing the encrypted output failed.
    #[error("could not write the encrypted document")]
    Write {
        /// Why writing failed.
        #[source]
        source: std::io::Error,
    },
}

/// Paths joined for a message, each in backquotes.
fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing: no identity was given and no default path is known".to_owned();
    }
    paths
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Hint for DocumentError {
    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Missing { .. } => "run `passform init` to create one, or point --file at it",
            Self::Read { .. } => "check the file's permissions",
            Self::Empty { .. } | Self::NotAge { .. } | Self::Damaged { .. } => {
                "restore the document from version control; passform only reads files it or \
                 `age` encrypted"
            }
            Self::PassphraseEncrypted { .. } => {
                "passform does not prompt for passphrases: decrypt it with `age -d` and encrypt \
                 it again to recipients with `age -a -r RECIPIENT`"
            }
            Self::NoIdentity { .. } => {
                "pass the identity that can decrypt the document with --identity or \
                 PASSFORM_IDENTITY, or run `passform init` to make one"
            }
            Self::Identity { .. } => {
                "an identity file holds age secret keys (`age-keygen` format), plugin identities, \
                 or one unencrypted OpenSSH ed25519 or RSA private key"
            }
            Self::IdentityUnusable { .. } => {
                "install the age plugin the identity names (`age-plugin-NAME` on PATH); \
                 passphrase-protected SSH keys are not supported"
            }
            Self::NoMatchingIdentity { .. } => {
                "pass an identity whose recipient is in the document's `recipients` with \
                 --identity or PASSFORM_IDENTITY, or ask someone who can decrypt it to add yours"
            }
            Self::Decrypt { .. } => "check that the age plugin named by the identity works",
            Self::NotText { .. } => "restore the document from version control",
            Self::Invalid { .. } => "fix the problems above with `passform edit`",
            Self::UnknownInstance { .. } => {
                "check the id; `passform show-document` lists the instances the document declares"
            }
            Self::AlreadyExists { .. } => {
                "passform never overwrites: use `passform edit` to change an existing document, \
                 or move the file away first"
            }
            Self::WriteFile { .. } => "check the free space and permissions of the directory",
            Self::Rewrite { .. } => "check the document with `passform validate`",
            Self::Recipient { .. } => {
                "a recipient is an age public key (`age1...`), an SSH public key \
                 (`ssh-ed25519 ...` or `ssh-rsa ...`), or a plugin recipient with its plugin on PATH"
            }
            Self::NoRecipients => "list at least one recipient in `recipients`",
            Self::Encrypt { .. } => "check that every plugin named by a recipient is on PATH",
            Self::Write { .. } => "check the free space and permissions of the directory",
        };
        Some(hint.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_character_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, 10), (2, 4));
        assert_eq!(line_and_column(text, 1000), (3, 1));
    }

    #[test]
    fn line_starts_give_the_same_lines_and_columns_as_a_scan() {
        let text = "a = 1\nbé = 2\n\n[[instance]]\nid = \"ü\"";
        let starts = LineStarts::of(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                starts.line_and_column(text, offset),
                line_and_column(text, offset),
                "{offset}"
            );
        }
    }
}
