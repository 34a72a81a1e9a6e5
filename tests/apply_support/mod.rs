//! What the apply end-to-end tests share: a temporary workspace with an identity, a sealed
//! document and a running `passform emulator`, and small helpers to run the real binary and
//! to read the emulator's inspection endpoints over loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use age::secrecy::ExposeSecret;
use base64::Engine as _;
use serde_json::Value;
use tempfile::TempDir;

/// One instance of a test fleet, as the document declares it and the emulator holds it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub region: &'static str,
    pub status: &'static str,
    pub restart: &'static str,
    pub wave: u32,
}

impl Instance {
    pub fn new(id: &str, status: &'static str) -> Self {
        Self {
            id: id.to_owned(),
            region: "cn-hangzhou",
            status,
            restart: "auto",
            wave: 1,
        }
    }

    pub fn restart(mut self, policy: &'static str) -> Self {
        self.restart = policy;
        self
    }

    pub fn wave(mut self, wave: u32) -> Self {
        self.wave = wave;
        self
    }

    pub fn region(mut self, region: &'static str) -> Self {
        self.region = region;
        self
    }

    /// The password the document declares for this instance.
    pub fn password(&self) -> String {
        format!("Declared#{}", &self.id[2..])
    }
}

/// A temporary directory holding an identity, a sealed document, the state, and a running
/// emulator serving the same instances.
pub struct Workspace {
    pub directory: TempDir,
    pub url: String,
    pub instances: Vec<Instance>,
    emulator: Child,
}

/// Emulated seconds a reboot or a start takes, and real seconds per emulated second.
pub const RESTART_SECONDS: u64 = 40;
pub const TIME_SCALE: f64 = 0.005;

impl Workspace {
    pub fn new(instances: Vec<Instance>) -> Self {
        Self::with_restart_seconds(instances, RESTART_SECONDS)
    }

    /// A workspace whose emulated reboots and starts take `restart_seconds`.
    pub fn with_restart_seconds(instances: Vec<Instance>, restart_seconds: u64) -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fleet = directory.path().join("fleet.toml");
        std::fs::write(&fleet, fleet_toml(&instances, restart_seconds)).expect("write fleet");
        let mut emulator = Command::new(env!("CARGO_BIN_EXE_passform"))
            .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
            .arg(&fleet)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let mut first_line = String::new();
        BufReader::new(emulator.stdout.take().expect("emulator stdout"))
            .read_line(&mut first_line)
            .expect("emulator prints its address");
        let url = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_owned();
        let workspace = Self {
            directory,
            url,
            instances,
            emulator,
        };
        workspace.write_document();
        workspace
    }

    fn write_document(&self) {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        std::fs::write(
            self.path("identity.txt"),
            identity.to_string().expose_secret(),
        )
        .expect("write identity");
        let seed = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
        let mut text = format!(
            "version = 1\nrecipients = [\"{recipient}\"]\n\n[secrets]\nseed = \"{seed}\"\n"
        );
        for instance in &self.instances {
            text.push_str(&format!(
                "\n[[instance]]\nid = \"{}\"\nregion = \"{}\"\ngeneration = 1\npassword = \"{}\"\n\
                 restart = \"{}\"\nwave = {}\n",
                instance.id,
                instance.region,
                instance.password(),
                instance.restart,
                instance.wave
            ));
        }
        let sealed = passform::document::seal(&text, &[recipient]).expect("seal the document");
        std::fs::write(self.path("passwords.toml.age"), sealed).expect("write document");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// The environment that points passform at this workspace and its emulator.
    pub fn environment(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", self.directory.path().into()),
            ("PASSFORM_FILE", self.path("passwords.toml.age").into()),
            ("PASSFORM_STATE", self.path("passform.state.json").into()),
            ("PASSFORM_IDENTITY", self.path("identity.txt").into()),
            ("PASSFORM_ENDPOINT", self.url.clone().into()),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid".into()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret".into()),
        ]
    }

    /// The real binary, pointed at this workspace and its emulator.
    pub fn passform(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_passform"));
        command
            .current_dir(self.directory.path())
            .env_clear()
            .envs(self.environment())
            .stdin(Stdio::null());
        command
    }

    /// `passform apply --auto-approve` plus `arguments`, to completion.
    pub fn apply(&self, arguments: &[&str]) -> Output {
        self.passform()
            .args(["apply", "--auto-approve"])
            .args(arguments)
            .output()
            .expect("run passform apply")
    }

    /// The emulator's view of every instance, by id.
    pub fn live(&self) -> std::collections::BTreeMap<String, Value> {
        let answer = self.get("/_emulator/instances");
        answer["instances"]
            .as_array()
            .expect("instances array")
            .iter()
            .map(|instance| {
                (
                    instance["id"].as_str().unwrap().to_owned(),
                    instance.clone(),
                )
            })
            .collect()
    }

    /// The emulator's history of change calls and status transitions.
    pub fn history(&self) -> Vec<Value> {
        self.get("/_emulator/history")["events"]
            .as_array()
            .expect("events array")
            .clone()
    }

    /// Injects one fault rule.
    pub fn fault(&self, rule: Value) {
        self.post("/_emulator/faults", &rule);
    }

    /// The state file, parsed.
    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.path("passform.state.json")).expect("state file");
        serde_json::from_str(&text).expect("state is JSON")
    }

    pub fn get(&self, path: &str) -> Value {
        http(&self.url, "GET", path, "")
    }

    pub fn post(&self, path: &str, body: &Value) -> Value {
        http(&self.url, "POST", path, &body.to_string())
    }

    /// Asserts that every instance ends as its policy says, with the declared password
    /// effective or pending, and that the state records the matching phase.
    pub fn assert_converged(&self) {
        let live = self.live();
        let state = self.state();
        for instance in &self.instances {
            let seen = &live[&instance.id];
            let declared = Value::String(instance.password());
            let (status, effective) = expected(instance);
            assert_eq!(seen["status"], status, "{} status", instance.id);
            let record = &state["instances"][&instance.id];
            assert_eq!(record["generation"], 1, "{} generation", instance.id);
            let phase = &record["phase"];
            if effective {
                assert_eq!(
                    seen["effective_password"], declared,
                    "{} effective",
                    instance.id
                );
                assert_eq!(
                    seen["pending_password"],
                    Value::Null,
                    "{} pending",
                    instance.id
                );
                assert_eq!(phase, "effective", "{} phase", instance.id);
            } else {
                assert_eq!(
                    seen["pending_password"], declared,
                    "{} pending",
                    instance.id
                );
                assert_eq!(phase, "reset", "{} phase", instance.id);
            }
        }
    }
}

impl Workspace {
    /// Asserts that no declared password appears in `text`, in the state, or in any file left
    /// in the workspace besides the encrypted document.
    pub fn assert_no_password_in(&self, text: &str) {
        let state = std::fs::read_to_string(self.path("passform.state.json")).unwrap_or_default();
        for instance in &self.instances {
            let password = instance.password();
            assert!(
                !text.contains(&password),
                "output shows {}'s password",
                instance.id
            );
            assert!(
                !state.contains(&password),
                "the state shows {}'s password",
                instance.id
            );
        }
    }
}

/// The status an instance ends in, and whether its password is then effective.
pub fn expected(instance: &Instance) -> (&'static str, bool) {
    match (instance.restart, instance.status) {
        ("never", status) => (status, false),
        ("running-only", "Stopped") => ("Stopped", false),
        _ => ("Running", true),
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = self.emulator.kill();
        let _ = self.emulator.wait();
    }
}

fn fleet_toml(instances: &[Instance], restart_seconds: u64) -> String {
    let mut text = format!(
        "time_scale = {TIME_SCALE}\n\n[timing]\nstart = {restart_seconds}\nstop = 20\nreboot = \
         {restart_seconds}\n"
    );
    for instance in instances {
        text.push_str(&format!(
            "\n[[instance]]\nid = \"{}\"\nregion = \"{}\"\nstatus = \"{}\"\nos_type = \"linux\"\n\
             name = \"{}\"\npassword = \"Initial#Pass1\"\n",
            instance.id, instance.region, instance.status, instance.id
        ));
    }
    text
}

/// One HTTP/1.1 request on loopback, answered as JSON.
fn http(url: &str, method: &str, path: &str, body: &str) -> Value {
    let address = url.strip_prefix("http://").expect("http url");
    let mut stream = TcpStream::connect(address).expect("connect to the emulator");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let response = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.contains(" 200 "), "{method} {path} answered {head}");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).expect("JSON body")
    }
}

fn dechunk(mut body: &str) -> String {
    let mut text = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        text.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    text
}
