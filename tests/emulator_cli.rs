//! `passform emulator` as a user runs it: the announced URL, and clear errors for bad input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn passform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_passform"))
}

fn fleet_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn emulator_announces_its_url_first_and_serves_the_fleet() {
    let fleet = fleet_file(
        "time_scale = 0.01\n[[instance]]\nid = \"i-one\"\nregion = \"cn-hangzhou\"\n\
         password = \"Initial#Pass1\"\n",
    );
    let mut running = Running(
        passform()
            .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
            .arg(fleet.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first_line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let body = get_json(&format!("{url}/_emulator/instances"));
    assert_eq!(body["instances"][0]["id"], "i-one");
    assert_eq!(body["instances"][0]["status"], "Running");
    assert_eq!(
        body["instances"][0]["pending_password"],
        serde_json::Value::Null
    );
}

/// A GET from a plain thread, with a runtime of its own.
fn get_json(url: &str) -> serde_json::Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// Kills the emulator when the test ends, even when it fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn emulator_with_bad_fleet_file_exits_1_with_a_hint() {
    let fleet = fleet_file("[[instance]]\nid = \"i-a\"\nregion = \"r\"\nstatus = \"Sleeping\"\n");
    let output = passform()
        .args(["emulator", "--fleet"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: the fleet file is not valid: instance `i-a` has status `Sleeping`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn emulator_with_missing_fleet_file_names_the_path() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("absent.toml");
    let output = passform()
        .args(["emulator", "--fleet"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("could not read the fleet file"), "{stderr}");
    assert!(stderr.contains("absent.toml"), "{stderr}");
    assert!(
        stderr.contains("hint: check the path given to --fleet"),
        "{stderr}"
    );
}

#[test]
fn emulator_with_unknown_fleet_key_points_at_the_key() {
    let fleet = fleet_file("time_scale = 0.01\ncolour = \"blue\"\n");
    let output = passform()
        .args(["emulator", "--fleet"])
        .arg(fleet.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("caused by: "), "{stderr}");
    assert!(stderr.contains("colour"), "{stderr}");
}
