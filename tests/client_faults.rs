//! The client keeps going through the emulator's fault rules: retryable errors, dropped
//! answers after a change was made, throttling that forces the shared budget down, slow
//! answers, and an endpoint that does not answer at all.

mod client_support;

use std::time::Duration;

use client_support::*;
use passform::ecs::retry::RetryPolicy;
use passform::ecs::{Client, ClientOptions, SignatureVersion};
use passform::report::Hint;
use passform::secret::SecretString;
use serde_json::json;

async fn read_survives(code: &str) {
    let wanted = generated("cn-hangzhou", 3);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "DescribeInstances", "error": code, "count": 2}),
    )
    .await;
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 3, "after {code}");
    assert_eq!(
        calls(&emulator, "DescribeInstances").await,
        3,
        "after {code}"
    );
}

#[tokio::test]
async fn reads_are_retried_through_throttling() {
    read_survives("Throttling").await;
}

#[tokio::test]
async fn reads_are_retried_through_user_throttling() {
    read_survives("Throttling.User").await;
}

#[tokio::test]
async fn reads_are_retried_through_api_throttling() {
    read_survives("Throttling.Api").await;
}

#[tokio::test]
async fn reads_are_retried_through_service_unavailable() {
    read_survives("ServiceUnavailable").await;
}

#[tokio::test]
async fn reads_are_retried_through_internal_errors() {
    read_survives("InternalError").await;
}

#[tokio::test]
async fn errors_that_will_not_pass_are_not_retried() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "DescribeInstances", "error": "Forbidden.RAM", "count": 5}),
    )
    .await;
    let error = client_for(&emulator).read_fleet(&wanted).await.unwrap_err();
    assert_eq!(error.api_code(), Some("Forbidden.RAM"));
    assert!(error.hint().unwrap().contains("permissions"));
    assert_eq!(calls(&emulator, "DescribeInstances").await, 1);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_bound_and_report_the_last_error() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "*", "error": "ServiceUnavailable", "count": 100}),
    )
    .await;
    let error = client_for(&emulator).read_fleet(&wanted).await.unwrap_err();
    assert_eq!(error.api_code(), Some("ServiceUnavailable"));
    assert!(error.hint().is_some());
    assert_eq!(calls(&emulator, "DescribeInstances").await, 5);
}

#[tokio::test]
async fn a_reset_whose_answer_was_dropped_after_commit_is_sent_again_harmlessly() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "ModifyInstanceAttribute", "drop_after_commit": true, "count": 1}),
    )
    .await;
    let password = SecretString::from("Dropped#Answer1");
    client_for(&emulator)
        .reset_password("cn-hangzhou", &wanted[0].1, &password)
        .await
        .unwrap();
    let instance = emulated_instance(&emulator, &wanted[0].1).await;
    assert_eq!(instance["pending_password"], "Dropped#Answer1");
    assert_eq!(calls(&emulator, "ModifyInstanceAttribute").await, 2);
}

async fn restart_with_dropped_answer(action: &str, status: &str) {
    let emulator = start(&fleet_toml(&[Spec {
        id: "i-1",
        region: "cn-hangzhou",
        status,
    }]))
    .await;
    add_fault(
        &emulator,
        json!({"action": action, "drop_after_commit": true, "count": 1}),
    )
    .await;
    let client = client_for(&emulator);
    let ids = ["i-1".to_owned()];
    let outcomes = if action == "RebootInstances" {
        client.reboot_instances("cn-hangzhou", &ids).await
    } else {
        client.start_instances("cn-hangzhou", &ids).await
    }
    .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, Ok(()));
    // The status check showed the restart had happened, so it was not sent a second time.
    assert_eq!(calls(&emulator, action).await, 1);
    assert!(calls(&emulator, "DescribeInstanceStatus").await >= 1);
}

#[tokio::test]
async fn a_reboot_whose_answer_was_dropped_is_checked_by_status_not_repeated() {
    restart_with_dropped_answer("RebootInstances", "Running").await;
}

#[tokio::test]
async fn a_start_whose_answer_was_dropped_is_checked_by_status_not_repeated() {
    restart_with_dropped_answer("StartInstances", "Stopped").await;
}

#[tokio::test]
async fn a_restart_that_failed_without_acting_is_sent_again_after_the_status_check() {
    let emulator = start(&fleet_toml(&[Spec {
        id: "i-1",
        region: "cn-hangzhou",
        status: "Running",
    }]))
    .await;
    add_fault(
        &emulator,
        json!({"action": "RebootInstances", "error": "InternalError", "count": 1}),
    )
    .await;
    let outcomes = client_for(&emulator)
        .reboot_instances("cn-hangzhou", &["i-1".to_owned()])
        .await
        .unwrap();
    assert_eq!(outcomes[0].result, Ok(()));
    assert_eq!(calls(&emulator, "RebootInstances").await, 2);
    assert_eq!(
        emulated_instance(&emulator, "i-1").await["status"],
        "Starting"
    );
}

#[tokio::test]
async fn a_rate_limit_forces_the_shared_budget_down_and_every_read_completes() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "DescribeInstances", "rate_limit_per_second": 5}),
    )
    .await;
    let client = Client::new(
        Some(&emulator.url()),
        test_credentials(),
        40.0,
        ClientOptions {
            retry: RetryPolicy {
                max_attempts: 20,
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(500),
                max_total: Duration::from_secs(30),
            },
            ..quick_options(SignatureVersion::V2)
        },
    )
    .unwrap();
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        let wanted = wanted.clone();
        reads.spawn(async move { client.read_fleet(&wanted).await });
    }
    while let Some(read) = reads.join_next().await {
        assert_eq!(read.unwrap().unwrap().instances.len(), 1);
    }
    assert!(
        client.budget().rate() < 40.0,
        "the budget stayed at {}",
        client.budget().rate()
    );
    assert!(calls(&emulator, "DescribeInstances").await > 20);

    // Without throttling, each success gives back a twentieth of the ceiling.
    add_fault(&emulator, json!({"clear": true})).await;
    for _ in 0..20 {
        client.read_fleet(&wanted).await.unwrap();
    }
    assert_eq!(client.budget().rate(), 40.0, "the budget did not recover");
}

#[tokio::test]
async fn each_retry_is_logged_at_debug_level_with_its_cause() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(
        &emulator,
        json!({"action": "DescribeInstances", "error": "Throttling.User", "count": 1}),
    )
    .await;
    let (sink, _guard) = capture_logs(tracing::Level::DEBUG);
    client_for(&emulator).read_fleet(&wanted).await.unwrap();
    let logs = sink.text();
    let retry = logs
        .lines()
        .find(|line| line.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry was logged:\n{logs}"));
    assert!(retry.contains("DEBUG"), "{retry}");
    assert!(
        retry.contains("cause=Throttling.User (HTTP 400)"),
        "{retry}"
    );
    assert!(
        retry.contains("DescribeInstances"),
        "the retry names no action: {retry}"
    );
}

#[tokio::test]
async fn clearing_the_rules_lets_every_call_through_at_once() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    for rule in [
        json!({"action": "*", "error": "InternalError", "count": 100}),
        json!({"action": "DescribeInstances", "rate_limit_per_second": 1}),
        json!({"action": "*", "latency_ms": 2000}),
    ] {
        add_fault(&emulator, rule).await;
    }
    // One attempt per call and a timeout below the latency: any rule left would fail a read.
    let client = Client::new(
        Some(&emulator.url()),
        test_credentials(),
        1000.0,
        ClientOptions {
            request_timeout: Duration::from_millis(1000),
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..quick_options(SignatureVersion::V2)
        },
    )
    .unwrap();
    assert!(client.read_fleet(&wanted).await.is_err());
    add_fault(&emulator, json!({"clear": true})).await;
    let before = calls(&emulator, "DescribeInstances").await;
    for _ in 0..5 {
        let view = client.read_fleet(&wanted).await.unwrap();
        assert_eq!(view.instances.len(), 1);
    }
    assert_eq!(calls(&emulator, "DescribeInstances").await, before + 5);
}

#[tokio::test]
async fn answers_slower_than_the_timeout_are_retried_then_reported() {
    let wanted = generated("cn-hangzhou", 1);
    let emulator = start_with(&wanted).await;
    add_fault(&emulator, json!({"action": "*", "latency_ms": 400})).await;
    let client = Client::new(
        Some(&emulator.url()),
        test_credentials(),
        100.0,
        ClientOptions {
            request_timeout: Duration::from_millis(100),
            ..quick_options(SignatureVersion::V2)
        },
    )
    .unwrap();
    let error = client.read_fleet(&wanted).await.unwrap_err();
    assert!(error.to_string().contains("no answer from"));
    assert!(error.hint().unwrap().contains("--endpoint"));
    assert_eq!(calls(&emulator, "DescribeInstances").await, 5);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retried_then_reported_with_a_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(
        Some(&format!("http://{address}")),
        test_credentials(),
        100.0,
        quick_options(SignatureVersion::V2),
    )
    .unwrap();
    let error = client
        .read_fleet(&generated("cn-hangzhou", 1))
        .await
        .unwrap_err();
    assert!(error.to_string().contains(&address.to_string()));
    assert!(error.hint().unwrap().contains("--endpoint"));
}
