//! Test support shared by the end-to-end tests: a real emulator process on loopback, a
//! workspace in a temporary directory, and `passform` commands pointed at both.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use age::secrecy::ExposeSecret;
use base64::Engine;

/// The `passform` binary under test.
pub fn passform_binary() -> &'static str {
    env!("CARGO_BIN_EXE_passform")
}

/// A `passform emulator` process, killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    /// The emulator's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EmulatorProcess {
    /// Starts an emulator serving the fleet file and waits for its `listening on` line.
    pub fn start(fleet_path: &Path) -> EmulatorProcess {
        let mut child = Command::new(passform_binary())
            .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
            .arg(fleet_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().expect("the emulator's stdout is piped");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("the emulator prints a line");
        let url = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {first_line:?}"))
            .to_owned();
        EmulatorProcess { child, url }
    }

    /// GETs an inspection endpoint and parses its JSON.
    pub fn inspect(&self, path: &str) -> serde_json::Value {
        let url = format!("{}{path}", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = reqwest::get(&url).await.expect("the emulator answers");
            assert!(
                response.status().is_success(),
                "GET {path}: {}",
                response.status()
            );
            response.json().await.expect("the emulator answers JSON")
        })
    }

    /// The emulator's view of one instance.
    pub fn instance(&self, id: &str) -> serde_json::Value {
        self.inspect("/_emulator/instances")["instances"]
            .as_array()
            .expect("instances is an array")
            .iter()
            .find(|instance| instance["id"] == id)
            .unwrap_or_else(|| panic!("the emulator has no instance {id}"))
            .clone()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user's repository in a temporary directory: identity, document, state.
pub struct Workspace {
    directory: tempfile::TempDir,
    recipient: String,
    /// The seed sealed into the document, base64.
    pub seed: String,
}

impl Workspace {
    /// Makes a workspace with a fresh X25519 identity and seed.
    pub fn new() -> Workspace {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        std::fs::write(
            directory.path().join("identity.txt"),
            format!(
                "# public key: {recipient}\n{}\n",
                identity.to_string().expose_secret()
            ),
        )
        .expect("the identity is written");
        let seed_bytes: [u8; 32] = rand::random();
        let seed = base64::engine::general_purpose::STANDARD.encode(seed_bytes);
        Workspace {
            directory,
            recipient,
            seed,
        }
    }

    /// The workspace directory.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// A file inside the workspace.
    pub fn file(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// Writes the encrypted document: the header (version, recipients, seed) then `body`.
    pub fn write_document(&self, body: &str) {
        let plaintext = format!(
            "version = 1\nrecipients = [\"{}\"]\n\n[secrets]\nseed = \"{}\"\n\n{body}",
            self.recipient, self.seed
        );
        let sealed = passform::document::seal(&plaintext, std::slice::from_ref(&self.recipient))
            .expect("the document seals");
        std::fs::write(self.file("passwords.toml.age"), sealed).expect("the document is written");
    }

    /// A `passform` command run inside the workspace against `endpoint`.
    pub fn command(&self, endpoint: &str) -> Command {
        let mut command = Command::new(passform_binary());
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("PASSFORM_ENDPOINT", endpoint)
            .env("PASSFORM_IDENTITY", self.file("identity.txt"))
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
            .stdin(Stdio::null());
        command
    }

    /// Runs `passform ARGS` and returns what it printed and its status.
    pub fn run(&self, endpoint: &str, args: &[&str]) -> Output {
        self.command(endpoint)
            .args(args)
            .output()
            .expect("passform runs")
    }

    /// Every file in the workspace with its contents, to check that a command changed nothing.
    /// The lock file is left out: it holds no state, only the name of its last holder.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(self.path())
            .expect("the workspace is readable")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.is_file() && !path.ends_with(".passform.lock"))
            .map(|path| {
                let contents = std::fs::read(&path).expect("a workspace file is readable");
                (path, contents)
            })
            .collect();
        files.sort();
        files
    }
}

/// stdout and stderr of a finished command, as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
