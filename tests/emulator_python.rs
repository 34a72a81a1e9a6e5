//! The emulator driven by the official Alibaba Cloud Python SDKs: the classic core SDK (V2)
//! and the current ECS SDK (V3 by default, V2 when asked). The scripts live in tests/python and
//! report one line per check; each run gets a fresh emulator with the fleet below.
//!
//! `PASSFORM_PYTHON` names the interpreter of the virtual environment that
//! `scripts/install-test-tools.sh` makes (scripts/test.sh sets it). Without it these tests
//! fail and say so, rather than pass without checking anything.

use std::path::Path;

use passform::emulator::{Emulator, Fleet};

// Reboots take 1.5 s of real time, so that checks made while an instance is `Starting` do not
// race its return to `Running` on a busy machine.
const FLEET: &str = r#"
time_scale = 0.01
[timing]
reboot = 150
[[instance]]
id = "i-run"
region = "cn-hangzhou"
status = "Running"
name = "web 1"
password = "Initial#Pass1"
[[instance]]
id = "i-stop"
region = "cn-hangzhou"
status = "Stopped"
os_type = "windows"
[[instance]]
id = "i-lock"
region = "cn-hangzhou"
lock_reasons = ["security"]
[[instance]]
id = "i-halt"
region = "cn-hangzhou"
[[instance]]
id = "i-batch1"
region = "cn-hangzhou"
status = "Stopped"
[[instance]]
id = "i-batch2"
region = "cn-hangzhou"
status = "Stopped"
[[instance]]
id = "i-batch3"
region = "cn-hangzhou"
[[instance]]
id = "i-batch4"
region = "cn-hangzhou"
[[instance]]
id = "i-sh"
region = "cn-shanghai"
"#;

async fn run_script(script: &str, arguments: &[&str]) {
    let python = std::env::var_os("PASSFORM_PYTHON").unwrap_or_else(|| {
        panic!(
            "PASSFORM_PYTHON is not set: run scripts/install-test-tools.sh, then set \
             PASSFORM_PYTHON=target/python-sdks/bin/python (scripts/test.sh does both)"
        )
    });
    let mut fleet = FLEET.to_owned();
    for index in 0..20 {
        fleet.push_str(&format!(
            "[[instance]]\nid = \"i-fill{index:02}\"\nregion = \"cn-hangzhou\"\n"
        ));
    }
    let emulator = Emulator::start(
        Fleet::parse(&fleet).unwrap(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let output = tokio::process::Command::new(&python)
        .arg(directory.join(script))
        .args(arguments)
        .current_dir(&directory)
        .env("PASSFORM_EMULATOR_URL", emulator.url())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .unwrap_or_else(|error| panic!("could not run {}: {error}", Path::new(&python).display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} {arguments:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let passed = stdout
        .lines()
        .filter(|line| line.starts_with("ok "))
        .count();
    assert!(passed > 0, "{script} ran no check\n{stdout}");
    assert!(
        stdout.contains(&format!("\n{passed} passed, 0 failed\n")),
        "{script} did not report all {passed} checks passed\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_core_sdk_with_signature_v2_drives_every_operation() {
    run_script("core_v2.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_ecs_sdk_with_signature_v3_drives_every_operation() {
    run_script("ecs_sdk.py", &["v3"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_ecs_sdk_with_signature_v2_drives_every_operation() {
    run_script("ecs_sdk.py", &["v2"]).await;
}
