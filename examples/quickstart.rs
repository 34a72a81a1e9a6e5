//! passform's main job, start to finish, on the built-in emulator: a walkthrough to watch.
//!
//! Run it with `cargo run --example quickstart`. It builds the `passform` binary, starts
//! `passform emulator` on a free loopback port with a small fleet, makes an identity and an
//! encrypted document in a temporary directory, then runs `plan`, `apply` and `plan` again,
//! printing each command before its output. Everything it makes is removed when it ends; it
//! prints no password.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

const FLEET: &str = r#"# An emulated fleet: 1 emulated second lasts 10 ms.
time_scale = 0.01

[timing]
start = 30
stop = 20
reboot = 40

[[instance]]
id = "i-bp1quickstartweb001"
region = "cn-hangzhou"
status = "Running"
os_type = "linux"
name = "web-1"
password = "Initial#Pass1"

[[instance]]
id = "i-bp1quickstartweb002"
region = "cn-hangzhou"
status = "Running"
os_type = "linux"
name = "web-2"
password = "Initial#Pass2"

[[instance]]
id = "i-bp1quickstartjob001"
region = "cn-hangzhou"
status = "Stopped"
os_type = "windows"
name = "batch-1"
"#;

const INSTANCES: &str = r#"
[[instance]]
id = "i-bp1quickstartweb001"
region = "cn-hangzhou"
generation = 1

[[instance]]
id = "i-bp1quickstartweb002"
region = "cn-hangzhou"
generation = 1
wave = 2

[[instance]]
id = "i-bp1quickstartjob001"
region = "cn-hangzhou"
generation = 1
"#;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quickstart failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let binary = build_passform()?;
    let directory = tempfile::tempdir().map_err(|error| error.to_string())?;
    let workspace = directory.path();

    say("Start an emulated ECS service with three instances");
    std::fs::write(workspace.join("fleet.toml"), FLEET).map_err(|error| error.to_string())?;
    let emulator = Emulator::start(&binary, &workspace.join("fleet.toml"))?;
    println!("emulator at {}", emulator.url);

    let passform = |arguments: &[&str]| {
        let mut command = Command::new(&binary);
        command
            .current_dir(workspace)
            .args(arguments)
            .env("PASSFORM_ENDPOINT", &emulator.url)
            .env("PASSFORM_IDENTITY", workspace.join("identity.txt"))
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
            .env_remove("PASSFORM_FILE")
            .env_remove("PASSFORM_STATE");
        command
    };

    say("Create an identity and an encrypted document");
    show_and_run(passform(&["init"]), "passform init")?;

    say("Declare three instances, through the editor passform opens");
    std::fs::write(workspace.join("instances.toml"), INSTANCES)
        .map_err(|error| error.to_string())?;
    let mut edit = passform(&["edit"]);
    edit.env("EDITOR", append_editor(workspace)?);
    show_and_run(edit, "passform edit")?;

    say("Plan: what would change, and why (no password is shown)");
    show_and_run(passform(&["plan"]), "passform plan")?;

    say("Apply: reset each password, then restart so it takes effect");
    show_and_run(
        passform(&["apply", "--auto-approve"]),
        "passform apply --auto-approve",
    )?;

    say("Plan again: nothing is left to do");
    show_and_run(
        passform(&["plan", "--detailed-exitcode"]),
        "passform plan --detailed-exitcode",
    )?;

    say("Done. The emulator stops and the temporary directory is removed.");
    Ok(())
}

/// Builds the `passform` binary with the cargo that runs this example, and returns its path.
fn build_passform() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--bin", "passform"])
        .status()
        .map_err(|error| format!("could not run cargo: {error}"))?;
    if !status.success() {
        return Err("building passform failed".to_owned());
    }
    // This example runs from target/<profile>/examples/; the binary sits one level up.
    let example = std::env::current_exe().map_err(|error| error.to_string())?;
    let profile_directory = example
        .parent()
        .and_then(Path::parent)
        .ok_or("could not find the target directory")?;
    Ok(profile_directory.join(format!("passform{}", std::env::consts::EXE_SUFFIX)))
}

/// An editor for `passform edit` that appends the quickstart's instances to the document.
fn append_editor(workspace: &Path) -> Result<String, String> {
    let script = workspace.join("append-instances.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat \"$(dirname \"$0\")/instances.toml\" >> \"$1\"\n",
    )
    .map_err(|error| error.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))
            .map_err(|error| error.to_string())?;
    }
    Ok(script.display().to_string())
}

fn say(step: &str) {
    println!("\n== {step}");
}

fn show_and_run(mut command: Command, shown: &str) -> Result<(), String> {
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|error| format!("could not run {shown}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` exited with {status}"))
    }
}

/// A `passform emulator` child process, stopped when dropped.
struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start(binary: &Path, fleet: &Path) -> Result<Emulator, String> {
        let mut child = Command::new(binary)
            .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
            .arg(fleet)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("could not start the emulator: {error}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the emulator's output is not piped")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|error| error.to_string())?;
        let url = line.trim().strip_prefix("listening on ").map(str::to_owned);
        match url {
            Some(url) => Ok(Emulator { child, url }),
            None => {
                let _ = child.kill();
                Err(format!("the emulator said {line:?} instead of its address"))
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
