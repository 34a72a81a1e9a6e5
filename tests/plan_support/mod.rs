//! What the plan end-to-end tests share: a temporary workspace with an identity, a sealed
//! document and a running `passform emulator`, and helpers to run the real binary and read the
//! emulator's inspection endpoints over loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use age::secrecy::ExposeSecret;
use base64::Engine as _;
use serde_json::Value;
use tempfile::TempDir;

/// When every emulated instance was created and last started: fixed, so output is stable.
pub const CREATED: &str = "2026-01-01T00:00:00Z";
pub const STARTED: &str = "2026-02-01T00:00:00Z";

/// One instance, as the emulator holds it and the document declares it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub region: String,
    pub status: &'static str,
    pub generation: u64,
}

impl Instance {
    pub fn new(id: &str, region: &str, status: &'static str) -> Instance {
        Instance {
            id: id.to_owned(),
            region: region.to_owned(),
            status,
            generation: 1,
        }
    }
}

/// A temporary directory with an identity, a sealed document and a running emulator.
pub struct Workspace {
    pub directory: TempDir,
    pub url: String,
    pub instances: Vec<Instance>,
    recipient: String,
    /// The document's seed, in the base64 the document holds it in.
    pub seed: String,
    emulator: Child,
}

impl Workspace {
    pub fn new(instances: Vec<Instance>) -> Workspace {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fleet = directory.path().join("fleet.toml");
        std::fs::write(&fleet, fleet_toml(&instances)).expect("write the fleet");
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
            .expect("the emulator prints its address");
        let url = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_owned();

        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        std::fs::write(
            directory.path().join("identity.txt"),
            identity.to_string().expose_secret(),
        )
        .expect("write the identity");
        let seed = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let workspace = Workspace {
            directory,
            url,
            instances,
            recipient,
            seed,
            emulator,
        };
        workspace.write_document();
        workspace
    }

    /// Seals the document declaring every instance at its generation.
    pub fn write_document(&self) {
        let mut text = format!(
            "version = 1\nrecipients = [\"{}\"]\n\n[secrets]\nseed = \"{}\"\n",
            self.recipient, self.seed
        );
        for instance in &self.instances {
            text.push_str(&format!(
                "\n[[instance]]\nid = \"{}\"\nregion = \"{}\"\ngeneration = {}\n",
                instance.id, instance.region, instance.generation
            ));
        }
        let sealed =
            passform::document::seal(&text, std::slice::from_ref(&self.recipient)).expect("seal");
        std::fs::write(self.path("passwords.toml.age"), sealed).expect("write the document");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// The real binary, pointed at this workspace and its emulator.
    pub fn passform(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_passform"));
        command
            .current_dir(self.directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.directory.path())
            .env("NO_COLOR", "1")
            .env("PASSFORM_FILE", self.path("passwords.toml.age"))
            .env("PASSFORM_STATE", self.path("passform.state.json"))
            .env("PASSFORM_IDENTITY", self.path("identity.txt"))
            .env("PASSFORM_ENDPOINT", &self.url)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
            .stdin(Stdio::null());
        command
    }

    /// `passform plan` with `arguments`, to completion.
    pub fn plan(&self, arguments: &[&str]) -> Output {
        self.passform()
            .arg("plan")
            .args(arguments)
            .output()
            .expect("run passform plan")
    }

    /// Writes a state in which every instance has its declared password in effect.
    pub fn record_everything_applied(&self) {
        let loaded = passform::document::load(
            &self.path("passwords.toml.age"),
            &[self.path("identity.txt")],
        )
        .expect("load the document");
        let mut state = passform::state::State::new();
        for desired in passform::plan::Desired::from_document(&loaded.document) {
            let record = passform::state::InstanceRecord {
                region: desired.region.clone(),
                generation: desired.generation,
                fingerprint: desired.fingerprint.clone(),
                phase: passform::state::Phase::Effective,
                creation_time: Some("2026-01-01T00:00Z".to_owned()),
                start_time_at_reset: Some("2026-02-01T00:00Z".to_owned()),
                key_pair_at_reset: None,
                reset_at: Some("2026-03-01T00:00:00Z".to_owned()),
                effective_at: Some("2026-03-01T00:01:00Z".to_owned()),
            };
            state.instances.insert(desired.id.clone(), record);
        }
        passform::state::save(&self.path("passform.state.json"), &mut state).expect("save");
    }

    /// Changes an instance out of band, as the emulator's inspection endpoint allows.
    pub fn change_instance(&self, id: &str, fields: Value) {
        http(
            &self.url,
            "POST",
            &format!("/_emulator/instances/{id}"),
            &fields.to_string(),
        );
    }

    /// How many times each API operation was called, by name.
    pub fn calls(&self) -> Value {
        http(&self.url, "GET", "/_emulator/calls", "")["calls"].clone()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = self.emulator.kill();
        let _ = self.emulator.wait();
    }
}

fn fleet_toml(instances: &[Instance]) -> String {
    let mut text = String::from("time_scale = 0.01\n");
    for instance in instances {
        text.push_str(&format!(
            "\n[[instance]]\nid = \"{}\"\nregion = \"{}\"\nstatus = \"{}\"\nos_type = \"linux\"\n\
             name = \"name-{}\"\ncreation_time = \"{CREATED}\"\nstart_time = \"{STARTED}\"\n",
            instance.id,
            instance.region,
            instance.status,
            &instance.id[2..]
        ));
    }
    text
}

/// A minimal HTTP/1.1 exchange with the emulator's inspection endpoints.
fn http(url: &str, method: &str, path: &str, body: &str) -> Value {
    let address = url.strip_prefix("http://").expect("http url");
    let mut stream = TcpStream::connect(address).expect("connect to the emulator");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(body).expect("a JSON body")
}
