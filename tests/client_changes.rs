//! The client changes instances in the emulator: password resets and batched restarts, under
//! both signature versions.

mod client_support;

use client_support::*;
use passform::ecs::{Client, SignatureVersion};
use passform::secret::SecretString;

const PASSWORD: &str = "Ab1!@#$%^&*()_+-=[]{};:,.<>/?~";

fn two_instances() -> String {
    fleet_toml(&[
        Spec {
            id: "i-running",
            region: "cn-hangzhou",
            status: "Running",
        },
        Spec {
            id: "i-stopped",
            region: "cn-hangzhou",
            status: "Stopped",
        },
    ])
}

async fn reset_then_restart(signature_version: SignatureVersion) {
    let emulator = start(&two_instances()).await;
    let client = Client::new(
        Some(&emulator.url()),
        test_credentials(),
        100.0,
        quick_options(signature_version),
    )
    .unwrap();
    let password = SecretString::from(PASSWORD);
    client
        .reset_password("cn-hangzhou", "i-running", &password)
        .await
        .unwrap();
    assert_eq!(
        emulated_instance(&emulator, "i-running").await["pending_password"],
        PASSWORD
    );

    let rebooted = client
        .reboot_instances("cn-hangzhou", &["i-running".to_owned()])
        .await
        .unwrap();
    assert_eq!(rebooted.len(), 1);
    assert_eq!(rebooted[0].result, Ok(()));
    let started = client
        .start_instances("cn-hangzhou", &["i-stopped".to_owned()])
        .await
        .unwrap();
    assert_eq!(started[0].result, Ok(()));
    assert_eq!(
        emulated_instance(&emulator, "i-stopped").await["status"],
        "Starting"
    );
}

#[tokio::test]
async fn resets_and_restarts_are_accepted_with_signature_v2() {
    reset_then_restart(SignatureVersion::V2).await;
}

#[tokio::test]
async fn resets_and_restarts_are_accepted_with_signature_v3() {
    reset_then_restart(SignatureVersion::V3).await;
}

#[tokio::test]
async fn a_restart_refused_for_one_instance_leaves_the_others_done() {
    let emulator = start(&two_instances()).await;
    let outcomes = client_for(&emulator)
        .reboot_instances(
            "cn-hangzhou",
            &["i-running".to_owned(), "i-stopped".to_owned()],
        )
        .await
        .unwrap();
    assert_eq!(outcomes[0].instance_id, "i-running");
    assert_eq!(outcomes[0].result, Ok(()));
    assert_eq!(outcomes[1].instance_id, "i-stopped");
    assert_eq!(
        outcomes[1].result.as_ref().unwrap_err().code,
        "IncorrectInstanceStatus"
    );
}

#[tokio::test]
async fn a_password_the_service_refuses_is_an_error_with_its_code_and_a_hint() {
    let emulator = start(&two_instances()).await;
    let error = client_for(&emulator)
        .reset_password("cn-hangzhou", "i-running", &SecretString::from("Zq9tiny"))
        .await
        .unwrap_err();
    assert_eq!(error.api_code(), Some("InvalidPassword.Malformed"));
    let message = error.to_string();
    assert!(message.contains("ModifyInstanceAttribute"));
    assert!(!message.contains("Zq9tiny"));
    assert!(passform::report::Hint::hint(&error).is_some());
}

#[tokio::test]
async fn restarts_are_sent_in_batches_of_one_hundred() {
    let wanted = generated("cn-hangzhou", 150);
    let emulator = start_with(&wanted).await;
    let ids: Vec<String> = wanted.into_iter().map(|(_, id)| id).collect();
    let outcomes = client_for(&emulator)
        .reboot_instances("cn-hangzhou", &ids)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 150);
    assert!(outcomes.iter().all(|outcome| outcome.result.is_ok()));
    let order: Vec<&String> = outcomes
        .iter()
        .map(|outcome| &outcome.instance_id)
        .collect();
    assert_eq!(order, ids.iter().collect::<Vec<_>>());
    assert_eq!(calls(&emulator, "RebootInstances").await, 2);
}
