//! Helpers for the document tests: a private directory holding an identity and a document,
//! and a way to run the real `passform` binary inside it with a clean environment.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use passform::document::{encryption, seal};

/// The seed used by test documents: the bytes 0, 1, ..., 31.
pub const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A temporary directory with an identity file and, once written, a document.
pub struct Sandbox {
    pub directory: tempfile::TempDir,
    pub identity: PathBuf,
    pub recipient: String,
}

impl Sandbox {
    /// A sandbox with a fresh X25519 identity (written with the library's generator).
    pub fn new() -> Sandbox {
        let directory = tempfile::tempdir().unwrap();
        let (identity_text, recipient) = encryption::generate_identity();
        let identity = directory.path().join("identity.txt");
        std::fs::write(&identity, identity_text.as_bytes()).unwrap();
        Sandbox {
            directory,
            identity,
            recipient,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    pub fn document_path(&self) -> PathBuf {
        self.path("passwords.toml.age")
    }

    /// A valid document for this sandbox's recipient, with `body` appended.
    pub fn plaintext(&self, body: &str) -> String {
        format!(
            "version = 1\nrecipients = [\"{}\"]\n\n[secrets]\nseed = \"{SEED}\"\n\n{body}",
            self.recipient
        )
    }

    /// Seals `plaintext` to this sandbox's recipient and writes it as the document.
    pub fn write_document(&self, plaintext: &str) {
        let sealed = seal(plaintext, std::slice::from_ref(&self.recipient)).unwrap();
        std::fs::write(self.document_path(), sealed).unwrap();
    }

    /// Loads the sandbox document with the sandbox identity.
    pub fn load(
        &self,
    ) -> Result<passform::document::LoadedDocument, passform::document::DocumentError> {
        passform::document::load(&self.document_path(), std::slice::from_ref(&self.identity))
    }

    /// Decrypts the sandbox document with the sandbox identity.
    pub fn decrypt(&self) -> String {
        passform::document::decrypt(&self.document_path(), std::slice::from_ref(&self.identity))
            .unwrap()
            .to_string()
    }

    /// `passform` with this sandbox as working directory and configuration home, and with the
    /// sandbox identity.
    pub fn passform(&self) -> Command {
        let mut command = self.bare_passform();
        command.env("PASSFORM_IDENTITY", &self.identity);
        command
    }

    /// `passform` with no identity configured, so the default identity path applies.
    pub fn bare_passform(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_passform"));
        command
            .current_dir(self.directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.directory.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, arguments: &[&str]) -> Output {
        self.passform().args(arguments).output().unwrap()
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under `directory` with its bytes, to show that a command changed nothing.
pub fn snapshot(directory: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A running `passform emulator` serving one Running Linux instance `i-a` in `cn-hangzhou`,
/// stopped when dropped.
pub struct Emulator {
    pub url: String,
    child: std::process::Child,
}

impl Emulator {
    pub fn start(sandbox: &Sandbox) -> Emulator {
        use std::io::BufRead as _;
        let fleet = sandbox.path("fleet.toml");
        std::fs::write(
            &fleet,
            "time_scale = 0.001\n[[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\n\
             status = \"Running\"\nos_type = \"linux\"\nname = \"web-1\"\n",
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_passform"))
            .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
            .arg(&fleet)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first_line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        let url = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_owned();
        Emulator { url, child }
    }

    /// `passform` in `sandbox`, talking to this emulator with its default credentials.
    pub fn passform(&self, sandbox: &Sandbox) -> Command {
        let mut command = sandbox.passform();
        command
            .env("PASSFORM_ENDPOINT", &self.url)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret");
        command
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
