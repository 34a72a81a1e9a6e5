//! age encryption: the identities that decrypt a document and the recipients it is sealed to.
//!
//! passform reads what the age tools write and writes what they read: identity files in the
//! `age-keygen` format (several keys, comments, plugin identities), unencrypted OpenSSH ed25519
//! and RSA private keys, and documents in ASCII armor or binary. It always writes armor, which
//! reads well in a git diff of the encrypted file. Plaintext is held in zeroizing buffers.

use std::collections::BTreeMap;
use std::io::{self, BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use super::error::DocumentError;

/// How an identity file holding a passphrase-protected SSH key is described in messages.
const PASSPHRASE_PROTECTED: &str =
    "a passphrase-protected SSH key, which passform cannot unlock since it does not prompt";

/// The first line of an OpenSSH or PEM private key file.
const PRIVATE_KEY_MARKER: &str = "-----BEGIN";

/// What passform answers when a plugin or a key talks to the user: messages (such as "touch
/// your security key") go to stderr; questions and passphrase requests are declined, because
/// passform does not prompt.
#[derive(Debug, Clone, Copy)]
struct StderrCallbacks;

impl age::Callbacks for StderrCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("{message}");
    }

    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, _description: &str) -> Option<age::secrecy::SecretString> {
        None
    }
}

/// One recipient written in a document, parsed.
enum ParsedRecipient {
    Native(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
    Plugin(age::plugin::Recipient),
}

fn parse_recipient(text: &str) -> Result<ParsedRecipient, String> {
    if text.starts_with("ssh-") {
        return age::ssh::Recipient::from_str(text)
            .map(ParsedRecipient::Ssh)
            .map_err(|error| format!("not a supported SSH public key ({error:?})"));
    }
    if let Ok(recipient) = age::x25519::Recipient::from_str(text) {
        return Ok(ParsedRecipient::Native(recipient));
    }
    age::plugin::Recipient::from_str(text)
        .map(ParsedRecipient::Plugin)
        .map_err(|_| "not an age, SSH or plugin recipient".to_owned())
}

/// Returns true when `text` looks like a secret key (an age or plugin identity, or a private
/// key block) rather than a recipient. Such text is never quoted in a message or shown by
/// `show-document`, even where a recipient is expected.
pub fn looks_like_secret_key(text: &str) -> bool {
    let upper = text.trim_start().to_ascii_uppercase();
    upper.starts_with("AGE-SECRET-KEY-")
        || upper.starts_with("AGE-PLUGIN-")
        || upper.contains("PRIVATE KEY")
}

/// Checks that a recipient is written correctly, saying why not.
pub fn check_recipient(text: &str) -> Result<(), String> {
    parse_recipient(text).map(|_| ())
}

/// The recipients of a document, ready for age: plugin recipients are grouped per plugin.
fn recipients_for_age(
    recipients: &[String],
) -> Result<Vec<Box<dyn age::Recipient + Send>>, DocumentError> {
    let mut ready: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    let mut by_plugin: BTreeMap<String, Vec<age::plugin::Recipient>> = BTreeMap::new();
    for text in recipients {
        let parsed = parse_recipient(text).map_err(|reason| DocumentError::Recipient {
            recipient: text.clone(),
            reason,
        })?;
        match parsed {
            ParsedRecipient::Native(recipient) => ready.push(Box::new(recipient)),
            ParsedRecipient::Ssh(recipient) => ready.push(Box::new(recipient)),
            ParsedRecipient::Plugin(recipient) => by_plugin
                .entry(recipient.plugin().to_owned())
                .or_default()
                .push(recipient),
        }
    }
    for (plugin, recipients) in by_plugin {
        let recipient =
            age::plugin::RecipientPluginV1::new(&plugin, &recipients, &[], StderrCallbacks)
                .map_err(|source| DocumentError::Encrypt { source })?;
        ready.push(Box::new(recipient));
    }
    Ok(ready)
}

/// Encrypts a plaintext document to its recipients, in ASCII armor.
pub fn seal(plaintext: &str, recipients: &[String]) -> Result<Vec<u8>, DocumentError> {
    if recipients.is_empty() {
        return Err(DocumentError::NoRecipients);
    }
    let recipients = recipients_for_age(recipients)?;
    let encryptor = age::Encryptor::with_recipients(
        recipients
            .iter()
            .map(|recipient| recipient.as_ref() as &dyn age::Recipient),
    )
    .map_err(|source| DocumentError::Encrypt { source })?;
    let write = |source| DocumentError::Write { source };
    let armor = ArmoredWriter::wrap_output(Vec::new(), Format::AsciiArmor).map_err(write)?;
    let mut writer = encryptor.wrap_output(armor).map_err(write)?;
    writer.write_all(plaintext.as_bytes()).map_err(write)?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(write)
}

/// The identities read from one identity file, and a description of them for messages.
struct IdentityFile {
    path: PathBuf,
    found: bool,
    identities: Vec<Box<dyn age::Identity>>,
    description: String,
}

/// Reads every identity file that exists; an unreadable or malformed one is an error.
fn read_identity_files(paths: &[PathBuf]) -> Result<Vec<IdentityFile>, DocumentError> {
    let mut files = Vec::new();
    for path in paths {
        match std::fs::read(path) {
            Ok(bytes) => files.push(parse_identity_file(path, Zeroizing::new(bytes))?),
            // Kept, empty, so that the error listing what was tried names it too.
            Err(error) if error.kind() == io::ErrorKind::NotFound => files.push(IdentityFile {
                path: path.clone(),
                found: false,
                identities: Vec::new(),
                description: "not found".to_owned(),
            }),
            Err(source) => {
                return Err(DocumentError::Identity {
                    path: path.clone(),
                    source,
                });
            }
        }
    }
    if !files.iter().any(|file| file.found) {
        return Err(DocumentError::NoIdentity {
            tried: paths.to_vec(),
        });
    }
    Ok(files)
}

fn parse_identity_file(
    path: &Path,
    bytes: Zeroizing<Vec<u8>>,
) -> Result<IdentityFile, DocumentError> {
    let identity_error = |source| DocumentError::Identity {
        path: path.to_owned(),
        source,
    };
    let filename = Some(path.display().to_string());
    if first_content_line(&bytes).starts_with(PRIVATE_KEY_MARKER) {
        let identity =
            age::ssh::Identity::from_buffer(bytes.as_slice(), filename).map_err(identity_error)?;
        match identity {
            age::ssh::Identity::Unsupported(_) => {
                return Err(identity_error(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "this SSH key type cannot be used with age",
                )));
            }
            // passform does not prompt, so it cannot unlock the key. The file is kept, empty,
            // so that the error listing what was tried says why it did not help.
            age::ssh::Identity::Encrypted(_) => {
                return Ok(IdentityFile {
                    path: path.to_owned(),
                    found: true,
                    identities: Vec::new(),
                    description: PASSPHRASE_PROTECTED.to_owned(),
                });
            }
            age::ssh::Identity::Unencrypted(_) => {}
        }
        return Ok(IdentityFile {
            path: path.to_owned(),
            found: true,
            identities: vec![Box::new(identity.with_callbacks(StderrCallbacks))],
            description: "an SSH private key".to_owned(),
        });
    }
    let file = age::IdentityFile::from_buffer(bytes.as_slice()).map_err(identity_error)?;
    let identities = file
        .with_callbacks(StderrCallbacks)
        .into_identities()
        .map_err(|source| DocumentError::IdentityUnusable {
            path: path.to_owned(),
            source,
        })?;
    let count = identities.len();
    Ok(IdentityFile {
        path: path.to_owned(),
        found: true,
        identities,
        description: format!("{count} key{}", if count == 1 { "" } else { "s" }),
    })
}

fn first_content_line(bytes: &[u8]) -> String {
    bytes
        .lines()
        .map_while(Result::ok)
        .map(|line| line.trim().to_owned())
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

/// Decrypts an age file (armored or binary) with the identity files given, trying each.
pub fn open(
    path: &Path,
    ciphertext: &[u8],
    identity_paths: &[PathBuf],
) -> Result<Zeroizing<Vec<u8>>, DocumentError> {
    if ciphertext.iter().all(u8::is_ascii_whitespace) {
        return Err(DocumentError::Empty {
            path: path.to_owned(),
        });
    }
    let files = read_identity_files(identity_paths)?;
    let decryptor = age::Decryptor::new(ArmoredReader::new(ciphertext)).map_err(|source| {
        DocumentError::NotAge {
            path: path.to_owned(),
            source,
        }
    })?;
    if decryptor.is_scrypt() {
        return Err(DocumentError::PassphraseEncrypted {
            path: path.to_owned(),
        });
    }
    let identities = files
        .iter()
        .flat_map(|file| file.identities.iter().map(|identity| identity.as_ref()));
    let mut reader = decryptor
        .decrypt(identities)
        .map_err(|source| match source {
            age::DecryptError::NoMatchingKeys => DocumentError::NoMatchingIdentity {
                path: path.to_owned(),
                tried: files
                    .iter()
                    .map(|file| format!("`{}` ({})", file.path.display(), file.description))
                    .collect(),
            },
            age::DecryptError::DecryptionFailed
            | age::DecryptError::InvalidHeader
            | age::DecryptError::InvalidMac
            | age::DecryptError::UnknownFormat => DocumentError::NotAge {
                path: path.to_owned(),
                source,
            },
            source => DocumentError::Decrypt {
                path: path.to_owned(),
                source,
            },
        })?;
    // The plaintext is shorter than the ciphertext, so a buffer of the ciphertext's size never
    // grows, and no partial copy of the plaintext is left behind in freed memory.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|source| DocumentError::Damaged {
            path: path.to_owned(),
            source,
        })?;
    Ok(plaintext)
}

/// A fresh X25519 identity in the `age-keygen` format, and its recipient.
pub fn generate_identity() -> (Zeroizing<String>, String) {
    use age::secrecy::ExposeSecret as _;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    // Room for the whole file is reserved first, so that the text holding the secret key is
    // never moved and no copy of it is left behind in freed memory.
    let mut text = Zeroizing::new(String::with_capacity(512));
    text.push_str(&format!(
        "# created by passform: {created}\n# public key: {recipient}\n"
    ));
    text.push_str(identity.to_string().expose_secret());
    text.push('\n');
    (text, recipient)
}

/// The recipients of an existing identity file (for `init`), without plugin identities,
/// whose recipients only their plugin knows.
pub fn recipients_of_identity_file(path: &Path) -> Result<Vec<String>, DocumentError> {
    let identity_error = |source| DocumentError::Identity {
        path: path.to_owned(),
        source,
    };
    let bytes = Zeroizing::new(std::fs::read(path).map_err(identity_error)?);
    if first_content_line(&bytes).starts_with(PRIVATE_KEY_MARKER) {
        let identity =
            age::ssh::Identity::from_buffer(bytes.as_slice(), None).map_err(identity_error)?;
        // A document passform could not open again is no use: refuse before writing one.
        if let age::ssh::Identity::Encrypted(_) = identity {
            return Err(identity_error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("this is {PASSPHRASE_PROTECTED}"),
            )));
        }
        let recipient = age::ssh::Recipient::try_from(identity).map_err(|error| {
            identity_error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("this SSH key cannot be used with age ({error:?})"),
            ))
        })?;
        return Ok(vec![recipient.to_string()]);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        identity_error(io::Error::new(
            io::ErrorKind::InvalidData,
            "the identity file is not UTF-8 text",
        ))
    })?;
    let recipients: Vec<String> = text
        .lines()
        .filter_map(|line| age::x25519::Identity::from_str(line.trim()).ok())
        .map(|identity| identity.to_public().to_string())
        .collect();
    if recipients.is_empty() {
        return Err(identity_error(io::Error::new(
            io::ErrorKind::InvalidData,
            "the identity file holds no age secret key whose recipient passform can compute",
        )));
    }
    Ok(recipients)
}
