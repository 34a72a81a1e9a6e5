//! The state lock is the kernel's: a live holder blocks the next command and is named, and a
//! holder killed with SIGKILL releases it at once, leaving nothing stuck.
//!
//! The holder is this test executable run again as a child process (selected by an environment
//! variable), which takes the lock through the library exactly as `passform apply` does and then
//! sleeps until it is killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use passform::state::lock::StateLock;
use passform::state::{self, InstanceRecord, Phase, State};

const HOLDER_VARIABLE: &str = "PASSFORM_TEST_LOCK_HOLDER";
const TEST_NAME: &str = "killed_lock_holder_releases_the_lock_at_once";

/// Kills the holder whatever happens to the test.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_holder(lock_path: &Path) -> Holder {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(HOLDER_VARIABLE, lock_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let holder = Holder(child);
    let locked = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.ends_with("holder: locked"));
    assert!(locked, "the holder process did not take the lock");
    holder
}

/// The child's part: take the lock, say so, and wait to be killed.
fn hold_until_killed(lock_path: &Path) -> ! {
    let _lock = StateLock::acquire(lock_path, Duration::ZERO, "apply").unwrap();
    println!("holder: locked");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn state_rm(directory: &Path, id: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passform"))
        .args(["state", "rm", id])
        .current_dir(directory)
        .env_remove("PASSFORM_STATE")
        .output()
        .unwrap()
}

#[test]
fn killed_lock_holder_releases_the_lock_at_once() {
    if let Some(lock_path) = std::env::var_os(HOLDER_VARIABLE) {
        hold_until_killed(Path::new(&lock_path));
    }
    let directory = tempfile::tempdir().unwrap();
    let mut recorded = State::new();
    let record = InstanceRecord {
        region: "cn-hangzhou".to_owned(),
        generation: 1,
        fingerprint: "3f9a".to_owned(),
        phase: Phase::Effective,
        creation_time: None,
        start_time_at_reset: None,
        key_pair_at_reset: None,
        reset_at: None,
        effective_at: None,
    };
    recorded.instances.insert("i-a".to_owned(), record);
    let state_path = directory.path().join("passform.state.json");
    state::save(&state_path, &mut recorded).unwrap();

    let mut holder = spawn_holder(&directory.path().join(".passform.lock"));
    let blocked = state_rm(directory.path(), "i-a");
    assert_eq!(blocked.status.code(), Some(1));
    let message = String::from_utf8(blocked.stderr).unwrap();
    let named = format!("locked by `passform apply` (pid {} on host ", holder.0.id());
    assert!(message.contains(&named), "{message}");

    holder.0.kill().unwrap();
    holder.0.wait().unwrap();
    // `state rm` does not wait for a lock, so succeeding here means the lock was free at once.
    let proceeded = state_rm(directory.path(), "i-a");
    assert!(
        proceeded.status.success(),
        "{}",
        String::from_utf8_lossy(&proceeded.stderr)
    );
    assert!(state::load(&state_path).unwrap().instances.is_empty());
}
