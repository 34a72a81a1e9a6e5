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

#[tokio::test]
async fn refused_resets_and_restarts_carry_the_documented_codes_and_hints() {
    let emulator = start(
        "time_scale = 0.01\n[timing]\nreboot = 1000\n\
         [[instance]]\nid = \"i-locked\"\nregion = \"cn-hangzhou\"\nlock_reasons = [\"security\"]\n\
         [[instance]]\nid = \"i-windows\"\nregion = \"cn-hangzhou\"\nos_type = \"windows\"\n\
         [[instance]]\nid = \"i-busy\"\nregion = \"cn-hangzhou\"\n",
    )
    .await;
    let client = client_for(&emulator);
    let password = SecretString::from(PASSWORD);
    let reset_error = |id: &'static str, password: SecretString| {
        let client = client.clone();
        async move {
            client
                .reset_password("cn-hangzhou", id, &password)
                .await
                .unwrap_err()
        }
    };

    let locked = reset_error("i-locked", password.clone()).await;
    assert_eq!(locked.api_code(), Some("InstanceLockedForSecurity"));
    let unknown = reset_error("i-unknown", password.clone()).await;
    assert_eq!(unknown.api_code(), Some("InvalidInstanceId.NotFound"));
    let slash = reset_error("i-windows", SecretString::from("/Windows#Pass1")).await;
    assert_eq!(slash.api_code(), Some("InvalidPassword.Malformed"));
    client
        .reboot_instances("cn-hangzhou", &["i-busy".to_owned()])
        .await
        .unwrap();
    let starting = reset_error("i-busy", password.clone()).await;
    assert_eq!(starting.api_code(), Some("IncorrectInstanceStatus"));
    for error in [&locked, &unknown, &slash, &starting] {
        assert!(passform::report::Hint::hint(error).is_some(), "{error}");
    }
    // Refusals are final: each was sent once.
    assert_eq!(calls(&emulator, "ModifyInstanceAttribute").await, 4);

    let outcomes = client
        .reboot_instances("cn-hangzhou", &["i-locked".to_owned(), "i-busy".to_owned()])
        .await
        .unwrap();
    let codes: Vec<&str> = outcomes
        .iter()
        .map(|outcome| outcome.result.as_ref().unwrap_err().code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["InstanceLockedForSecurity", "IncorrectInstanceStatus"]
    );
    for id in ["i-locked", "i-windows"] {
        assert_eq!(
            emulated_instance(&emulator, id).await["pending_password"],
            serde_json::Value::Null
        );
    }
}
