//! Helpers shared by the client's tests: an in-process emulator with a generated fleet, a
//! client pointed at it, and the emulator's inspection and fault endpoints.

#![allow(dead_code)]

use std::time::Duration;

use passform::ecs::credentials::Credentials;
use passform::ecs::retry::RetryPolicy;
use passform::ecs::{Client, ClientOptions, SignatureVersion};
use passform::emulator::{Emulator, Fleet, RunningEmulator};
use passform::secret::SecretString;
use serde_json::Value;

/// One emulated instance: id, region, status.
pub struct Spec<'a> {
    pub id: &'a str,
    pub region: &'a str,
    pub status: &'a str,
}

/// A fleet file for the given instances, with a fast clock.
pub fn fleet_toml(instances: &[Spec<'_>]) -> String {
    let mut text =
        String::from("time_scale = 0.01\n[timing]\nstart = 30\nstop = 20\nreboot = 40\n");
    for instance in instances {
        text.push_str(&format!(
            "[[instance]]\nid = \"{}\"\nregion = \"{}\"\nstatus = \"{}\"\nos_type = \"linux\"\n\
             name = \"{}\"\n",
            instance.id, instance.region, instance.status, instance.id
        ));
    }
    text
}

/// `count` Running instances in `region`, ids `i-<region>-<n>`.
pub fn generated(region: &str, count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|index| (region.to_owned(), format!("i-{region}-{index:05}")))
        .collect()
}

/// Starts an emulator serving `toml` on a free loopback port.
pub async fn start(toml: &str) -> RunningEmulator {
    let fleet = Fleet::parse(toml).expect("the test fleet parses");
    Emulator::start(fleet, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the emulator starts")
}

/// Starts an emulator with the given (region, id) pairs, all Running.
pub async fn start_with(pairs: &[(String, String)]) -> RunningEmulator {
    let specs: Vec<Spec<'_>> = pairs
        .iter()
        .map(|(region, id)| Spec {
            id,
            region,
            status: "Running",
        })
        .collect();
    start(&fleet_toml(&specs)).await
}

/// The emulator's default credentials.
pub fn test_credentials() -> Credentials {
    Credentials {
        access_key_id: "testid".to_owned(),
        access_key_secret: SecretString::from("testsecret"),
        security_token: None,
        source: "test".to_owned(),
    }
}

/// Options with quick retries, so tests of faults stay fast.
pub fn quick_options(signature_version: SignatureVersion) -> ClientOptions {
    ClientOptions {
        signature_version,
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            max_total: Duration::from_secs(10),
        },
        ..ClientOptions::default()
    }
}

/// A V2 client for the emulator with its default credentials.
pub fn client_for(emulator: &RunningEmulator) -> Client {
    Client::new(
        Some(&emulator.url()),
        test_credentials(),
        1000.0,
        quick_options(SignatureVersion::V2),
    )
    .expect("the client builds")
}

/// `GET /_emulator/<path>` as JSON.
pub async fn inspect(emulator: &RunningEmulator, path: &str) -> Value {
    reqwest::get(format!("{}/_emulator/{path}", emulator.url()))
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("the emulator answers JSON")
}

/// How many calls of `action` the emulator has served.
pub async fn calls(emulator: &RunningEmulator, action: &str) -> u64 {
    inspect(emulator, "calls").await["calls"][action]
        .as_u64()
        .unwrap_or(0)
}

/// The emulator's view of one instance.
pub async fn emulated_instance(emulator: &RunningEmulator, id: &str) -> Value {
    let instances = inspect(emulator, "instances").await;
    instances["instances"]
        .as_array()
        .expect("instances is a list")
        .iter()
        .find(|instance| instance["id"] == id)
        .cloned()
        .expect("the instance is emulated")
}

/// Adds a fault rule.
pub async fn add_fault(emulator: &RunningEmulator, rule: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emulator.url()))
        .json(&rule)
        .send()
        .await
        .expect("the emulator answers");
    assert!(response.status().is_success(), "fault rule {rule} refused");
}

/// A one-answer HTTP server on loopback that records every request it receives (head and
/// body, as raw text) and answers each with `answer`, a whole HTTP/1.1 response.
pub struct RecordingServer {
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RecordingServer {
    pub async fn start(answer: String) -> RecordingServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = std::sync::Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut received = Vec::new();
                let mut buffer = [0u8; 4096];
                while !complete(&received) {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => received.extend_from_slice(&buffer[..read]),
                    }
                }
                recorded
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&received).into_owned());
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        RecordingServer { url, requests }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Returns true once `received` holds a request head and as much body as it announced.
fn complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end]
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    received.len() >= end + 4 + length
}

/// A whole HTTP/1.1 response with a JSON body.
pub fn json_answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A log sink shared with the test.
#[derive(Clone, Default)]
pub struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogSink {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures this thread's logs up to `level` until the guard is dropped; tasks of a
/// current-thread runtime log here too.
pub fn capture_logs(level: tracing::Level) -> (LogSink, tracing::subscriber::DefaultGuard) {
    let sink = LogSink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (sink, tracing::subscriber::set_default(subscriber))
}
