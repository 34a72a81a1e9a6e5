//! The emulator through passform's own ECS client, with both signature versions, and every
//! fault rule as the client meets it: errors for the next calls, throttling by rate, latency,
//! and a connection dropped after the change was made.

use std::time::Duration;

use passform::ecs::credentials::Credentials;
use passform::ecs::model::{InstanceStatus, OsType};
use passform::ecs::retry::RetryPolicy;
use passform::ecs::{Client, ClientOptions, SignatureVersion};
use passform::emulator::{Emulator, Fleet, RunningEmulator};
use passform::secret::SecretString;
use serde_json::{Value, json};

const FLEET: &str = r#"
time_scale = 0.01
[[instance]]
id = "i-web1"
region = "cn-hangzhou"
status = "Running"
name = "web-1"
password = "Initial#Pass1"
[[instance]]
id = "i-web2"
region = "cn-hangzhou"
status = "Stopped"
os_type = "windows"
[[instance]]
id = "i-db1"
region = "cn-shanghai"
status = "Running"
key_pair_name = "deploy"
"#;

async fn emulator() -> RunningEmulator {
    Emulator::start(Fleet::parse(FLEET).unwrap(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(emulator: &RunningEmulator, signature_version: SignatureVersion) -> Client {
    let quick = RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_total: Duration::from_secs(10),
    };
    client_retrying(emulator, signature_version, quick)
}

fn client_retrying(
    emulator: &RunningEmulator,
    signature_version: SignatureVersion,
    retry: RetryPolicy,
) -> Client {
    let credentials = Credentials {
        access_key_id: "testid".to_owned(),
        access_key_secret: SecretString::from("testsecret"),
        security_token: None,
        source: "test".to_owned(),
    };
    let options = ClientOptions {
        signature_version,
        retry,
        ..ClientOptions::default()
    };
    Client::new(Some(&emulator.url()), credentials, 1000.0, options).unwrap()
}

async fn get(emulator: &RunningEmulator, path: &str) -> Value {
    reqwest::get(format!("{}{path}", emulator.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post_fault(emulator: &RunningEmulator, rule: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emulator.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

async fn inspected(emulator: &RunningEmulator, id: &str) -> Value {
    let listed = get(emulator, "/_emulator/instances").await;
    listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|instance| instance["id"] == id)
        .cloned()
        .unwrap()
}

async fn wait_until_running(client: &Client, region: &str, id: &str) {
    for _ in 0..500 {
        let statuses = client
            .instance_statuses(region, &[id.to_owned()])
            .await
            .unwrap();
        if statuses.get(id) == Some(&InstanceStatus::Running) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never became Running");
}

fn wanted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(region, id)| (region.to_string(), id.to_string()))
        .collect()
}

#[tokio::test]
async fn client_reads_a_fleet_across_regions_with_both_signatures() {
    let emulator = emulator().await;
    for version in [SignatureVersion::V2, SignatureVersion::V3] {
        let client = client(&emulator, version);
        let view = client
            .read_fleet(&wanted(&[
                ("cn-hangzhou", "i-web1"),
                ("cn-hangzhou", "i-web2"),
                ("cn-hangzhou", "i-gone"),
                ("cn-shanghai", "i-db1"),
            ]))
            .await
            .unwrap();
        assert_eq!(view.instances.len(), 3, "{version:?}");
        let web2 = &view.instances["i-web2"];
        assert_eq!(
            (web2.status, web2.os_type),
            (InstanceStatus::Stopped, OsType::Windows)
        );
        assert_eq!(
            view.instances["i-db1"].key_pair_name.as_deref(),
            Some("deploy")
        );
        assert_eq!(view.instances["i-web1"].name, "web-1");
        assert!(view.not_found.contains("i-gone"));
        assert!(view.suspect_regions.is_empty());
    }
}

#[tokio::test]
async fn client_reset_then_restart_makes_passwords_effective() {
    let emulator = emulator().await;
    let client = client(&emulator, SignatureVersion::V3);
    let password = SecretString::from("Rotated#Pass42");
    client
        .reset_password("cn-hangzhou", "i-web1", &password)
        .await
        .unwrap();
    client
        .reset_password("cn-hangzhou", "i-web2", &password)
        .await
        .unwrap();
    assert_eq!(
        inspected(&emulator, "i-web1").await["pending_password"],
        "Rotated#Pass42"
    );

    let outcomes = client
        .reboot_instances("cn-hangzhou", &["i-web1".to_owned(), "i-web2".to_owned()])
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    let refused = outcomes[1].result.as_ref().unwrap_err();
    assert_eq!(refused.code, "IncorrectInstanceStatus");
    let outcomes = client
        .start_instances("cn-hangzhou", &["i-web2".to_owned()])
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");

    wait_until_running(&client, "cn-hangzhou", "i-web1").await;
    wait_until_running(&client, "cn-hangzhou", "i-web2").await;
    for id in ["i-web1", "i-web2"] {
        let instance = inspected(&emulator, id).await;
        assert_eq!(instance["effective_password"], "Rotated#Pass42", "{id}");
        assert_eq!(instance["pending_password"], Value::Null, "{id}");
    }
}

#[tokio::test]
async fn client_retries_through_injected_errors_for_the_next_calls() {
    let emulator = emulator().await;
    let client = client(&emulator, SignatureVersion::V2);
    post_fault(
        &emulator,
        json!({"action": "RebootInstances", "error": "ServiceUnavailable", "count": 2}),
    )
    .await;
    let outcomes = client
        .reboot_instances("cn-hangzhou", &["i-web1".to_owned()])
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    let calls = get(&emulator, "/_emulator/calls").await;
    assert_eq!(calls["calls"]["RebootInstances"], 3);
    assert_eq!(inspected(&emulator, "i-web1").await["status"], "Starting");
}

#[tokio::test]
async fn client_gives_up_on_a_permanent_injected_error() {
    let emulator = emulator().await;
    let client = client(&emulator, SignatureVersion::V2);
    post_fault(
        &emulator,
        json!({"action": "ModifyInstanceAttribute", "error": "Forbidden.RAM", "count": 1}),
    )
    .await;
    let error = client
        .reset_password(
            "cn-hangzhou",
            "i-web1",
            &SecretString::from("Rotated#Pass42"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.api_code(), Some("Forbidden.RAM"));
    assert_eq!(
        inspected(&emulator, "i-web1").await["pending_password"],
        Value::Null
    );
}

#[tokio::test]
async fn client_survives_a_connection_dropped_after_the_reset_was_made() {
    let emulator = emulator().await;
    let client = client(&emulator, SignatureVersion::V2);
    post_fault(
        &emulator,
        json!({"action": "ModifyInstanceAttribute", "drop_after_commit": true, "count": 1}),
    )
    .await;
    client
        .reset_password(
            "cn-hangzhou",
            "i-web1",
            &SecretString::from("Rotated#Pass42"),
        )
        .await
        .unwrap();
    assert_eq!(
        inspected(&emulator, "i-web1").await["pending_password"],
        "Rotated#Pass42"
    );
    let calls = get(&emulator, "/_emulator/calls").await;
    assert_eq!(
        calls["calls"]["ModifyInstanceAttribute"], 2,
        "dropped once, sent again"
    );
}

#[tokio::test]
async fn client_checks_status_when_a_restart_answer_is_lost() {
    let emulator = emulator().await;
    let client = client(&emulator, SignatureVersion::V2);
    post_fault(
        &emulator,
        json!({"action": "RebootInstances", "drop_after_commit": true, "count": 1}),
    )
    .await;
    let outcomes = client
        .reboot_instances("cn-hangzhou", &["i-web1".to_owned()])
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{outcomes:?}");
    let history = get(&emulator, "/_emulator/history").await;
    let reboots = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "RebootInstances")
        .count();
    assert_eq!(reboots, 1, "the instance was rebooted exactly once");
}

#[tokio::test]
async fn client_keeps_going_under_a_rate_limit_and_latency() {
    let emulator = emulator().await;
    // Retries must be able to wait out a one-second throttling window.
    let patient = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
        max_total: Duration::from_secs(20),
    };
    let client = client_retrying(&emulator, SignatureVersion::V3, patient);
    post_fault(
        &emulator,
        json!({"action": "DescribeInstanceStatus", "rate_limit_per_second": 2}),
    )
    .await;
    post_fault(&emulator, json!({"action": "*", "latency_ms": 20})).await;
    for _ in 0..4 {
        let statuses = client
            .instance_statuses("cn-hangzhou", &["i-web1".to_owned()])
            .await
            .unwrap();
        assert_eq!(statuses["i-web1"], InstanceStatus::Running);
    }
    let calls = get(&emulator, "/_emulator/calls").await;
    let attempts = calls["calls"]["DescribeInstanceStatus"].as_u64().unwrap();
    assert!(
        attempts > 4,
        "some calls were throttled and retried: {attempts}"
    );

    post_fault(&emulator, json!({"clear": true})).await;
    let started = std::time::Instant::now();
    client
        .instance_statuses("cn-hangzhou", &["i-web1".to_owned()])
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
}
