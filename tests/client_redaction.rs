//! Trace logs of the client show every request, and never a password, secret key, token or
//! signature, not even when the service echoes the string it signed.

mod client_support;

use client_support::*;
use passform::ecs::{Client, SignatureVersion};
use passform::secret::SecretString;

const PASSWORD: &str = "Redact#Me#Please42";
const STS_FLEET: &str = "time_scale = 0.01\n[credentials]\naccess_key_id = \"STS.temporary\"\n\
    access_key_secret = \"sts-secret-value\"\nsecurity_token = \"sts-token-value\"\n\
    [[instance]]\nid = \"i-1\"\nregion = \"cn-hangzhou\"\nstatus = \"Running\"\n\
    os_type = \"linux\"\n";

fn capture_trace_logs() -> (LogSink, tracing::subscriber::DefaultGuard) {
    capture_logs(tracing::Level::TRACE)
}

fn sts_client(emulator: &passform::emulator::RunningEmulator, version: SignatureVersion) -> Client {
    let mut credentials = test_credentials();
    credentials.access_key_id = "STS.temporary".to_owned();
    credentials.access_key_secret = SecretString::from("sts-secret-value");
    credentials.security_token = Some(SecretString::from("sts-token-value"));
    Client::new(
        Some(&emulator.url()),
        credentials,
        100.0,
        quick_options(version),
    )
    .unwrap()
}

fn assert_clean(logs: &str) {
    for secret in [PASSWORD, "sts-secret-value", "sts-token-value"] {
        assert!(!logs.contains(secret), "the logs hold {secret}:\n{logs}");
    }
    let encoded = passform::ecs::sign::percent_encode(PASSWORD);
    let encoded_twice = passform::ecs::sign::percent_encode(&encoded);
    for form in [&encoded, &encoded_twice] {
        assert!(
            !logs.contains(form.as_str()),
            "the logs hold the encoded password"
        );
    }
    for line in logs.lines() {
        for marker in ["Signature=", "Authorization: ", "SecurityToken="] {
            if let Some(position) = line.find(marker) {
                let value = &line[position + marker.len()..];
                assert!(
                    value.starts_with("(sensitive)"),
                    "{marker} is not masked: {line}"
                );
            }
        }
    }
}

async fn reset_and_read(version: SignatureVersion) {
    let emulator = start(STS_FLEET).await;
    let (sink, _guard) = capture_trace_logs();
    let client = sts_client(&emulator, version);
    client
        .reset_password("cn-hangzhou", "i-1", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    client
        .reboot_instances("cn-hangzhou", &["i-1".to_owned()])
        .await
        .unwrap();
    let logs = sink.text();
    assert!(
        logs.contains("ModifyInstanceAttribute"),
        "nothing was logged:\n{logs}"
    );
    assert!(logs.contains("(sensitive)"));
    assert_clean(&logs);
}

#[tokio::test]
async fn v2_trace_logs_mask_the_password_signature_and_token() {
    reset_and_read(SignatureVersion::V2).await;
}

#[tokio::test]
async fn v3_trace_logs_mask_the_password_authorization_and_token() {
    reset_and_read(SignatureVersion::V3).await;
}

#[tokio::test]
async fn a_signature_mismatch_echoing_the_password_reaches_neither_logs_nor_the_error() {
    let emulator = start(STS_FLEET).await;
    let (sink, _guard) = capture_trace_logs();
    let mut credentials = test_credentials();
    credentials.access_key_id = "STS.temporary".to_owned();
    credentials.access_key_secret = SecretString::from("a-wrong-secret");
    credentials.security_token = Some(SecretString::from("sts-token-value"));
    let client = Client::new(
        Some(&emulator.url()),
        credentials,
        100.0,
        quick_options(SignatureVersion::V2),
    )
    .unwrap();
    let error = client
        .reset_password("cn-hangzhou", "i-1", &SecretString::from(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(error.api_code(), Some("SignatureDoesNotMatch"));
    let rendered = passform::report::render(&error, passform::report::Hint::hint(&error));
    assert!(rendered.contains("hint: "));
    assert_clean(&rendered);
    assert_clean(&format!("{error:?}"));
    assert_clean(&sink.text());
}

async fn reset_recorded(version: SignatureVersion) -> String {
    let server = RecordingServer::start(json_answer("200 OK", r#"{"RequestId": "r-1"}"#)).await;
    let client = Client::new(
        Some(&server.url),
        test_credentials(),
        100.0,
        quick_options(version),
    )
    .unwrap();
    client
        .reset_password("cn-hangzhou", "i-1", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests[0].clone()
}

fn assert_password_only_in_the_body(request: &str) {
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let request_line = head.lines().next().unwrap();
    assert_eq!(request_line, "POST / HTTP/1.1", "{request}");
    let encoded = passform::ecs::sign::percent_encode(PASSWORD);
    assert!(
        body.contains(&format!("Password={encoded}")),
        "the body lacks the password: {body}"
    );
    assert!(
        !head.contains(PASSWORD) && !head.contains(&encoded),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn a_v2_password_travels_in_a_post_body_and_never_in_the_url() {
    let request = reset_recorded(SignatureVersion::V2).await;
    assert_password_only_in_the_body(&request);
    assert!(request.contains("Signature="), "{request}");
}

#[tokio::test]
async fn a_v3_password_travels_in_a_post_body_and_never_in_the_url() {
    let request = reset_recorded(SignatureVersion::V3).await;
    assert_password_only_in_the_body(&request);
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: acs3-hmac-sha256 credential=testid,"),
        "{request}"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_signed_body_stays_with_the_endpoint() {
    let elsewhere = RecordingServer::start(json_answer("200 OK", r#"{"RequestId": "r-2"}"#)).await;
    let redirecting = RecordingServer::start(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}/\r\ncontent-length: 0\r\n\
         connection: close\r\n\r\n",
        elsewhere.url
    ))
    .await;
    let client = Client::new(
        Some(&redirecting.url),
        test_credentials(),
        100.0,
        quick_options(SignatureVersion::V2),
    )
    .unwrap();
    let error = client
        .reset_password("cn-hangzhou", "i-1", &SecretString::from(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(error.api_code(), Some("HTTP307"), "{error}");
    assert_eq!(redirecting.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "the password was sent to the redirect's target"
    );
}
