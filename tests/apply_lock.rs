//! The state lock: a second apply is refused while the first one runs.

mod apply_support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use apply_support::{Instance, Workspace};

#[test]
fn a_second_apply_is_refused_while_the_first_runs() {
    // Reboots of two seconds keep the first apply busy while the second one starts.
    let workspace = Workspace::with_restart_seconds(
        vec![
            Instance::new("i-web1", "Running"),
            Instance::new("i-web2", "Running").wave(2),
        ],
        400,
    );
    let mut first = workspace
        .passform()
        .args([
            "apply",
            "--auto-approve",
            "--format",
            "json",
            "--parallelism",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the first apply");
    let mut events = BufReader::new(first.stdout.take().expect("first apply stdout")).lines();
    // The first event is printed once the lock is held and the plan is being carried out.
    events.next().expect("first event").expect("readable event");

    let second = workspace.apply(&[]);

    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lock"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
    for _ in events.by_ref() {}
    assert!(first.wait().expect("first apply ends").success());
    workspace.assert_converged();
}
