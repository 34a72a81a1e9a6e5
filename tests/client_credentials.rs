//! Each credential source, resolved through the chain and used against the emulator: the
//! SDK and Terraform variables, the aliyun CLI's AK, StsToken and EcsRamRole profiles, and the
//! credentials file with an access key or an ECS RAM role. Both signature versions carry an
//! STS token.

mod client_support;

use std::collections::BTreeMap;
use std::path::Path;

use client_support::*;
use passform::ecs::credentials::{self, Credentials, Environment};
use passform::ecs::{Client, SignatureVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STS_FLEET: &str = "time_scale = 0.01\n[credentials]\naccess_key_id = \"STS.temporary\"\n\
    access_key_secret = \"sts-secret\"\nsecurity_token = \"sts-token\"\n[[instance]]\n\
    id = \"i-1\"\nregion = \"cn-hangzhou\"\nstatus = \"Running\"\nos_type = \"linux\"\n";

const PLAIN_FLEET: &str = "time_scale = 0.01\n[[instance]]\nid = \"i-1\"\n\
    region = \"cn-hangzhou\"\nstatus = \"Running\"\nos_type = \"linux\"\n";

fn environment(variables: &[(&str, &str)], home: &Path, metadata: &str) -> Environment {
    Environment::from_parts(
        variables
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect::<BTreeMap<_, _>>(),
        Some(home.to_owned()),
        metadata.to_owned(),
    )
}

fn write(home: &Path, relative: &str, text: &str) {
    let path = home.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Reads instance i-1 from `fleet` with credentials resolved from `environment`.
async fn read_with(
    fleet: &str,
    profile: Option<&str>,
    environment: &Environment,
    signature_version: SignatureVersion,
) -> Credentials {
    let emulator = start(fleet).await;
    let credentials = credentials::resolve(profile, environment).await.unwrap();
    let client = Client::new(
        Some(&emulator.url()),
        credentials.clone(),
        100.0,
        quick_options(signature_version),
    )
    .unwrap();
    let view = client
        .read_fleet(&[("cn-hangzhou".to_owned(), "i-1".to_owned())])
        .await
        .unwrap();
    assert!(view.instances.contains_key("i-1"));
    credentials
}

#[tokio::test]
async fn sdk_variables_authenticate_with_the_emulator() {
    let home = tempfile::tempdir().unwrap();
    let environment = environment(
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
        ],
        home.path(),
        "http://127.0.0.1:9",
    );
    let used = read_with(PLAIN_FLEET, None, &environment, SignatureVersion::V2).await;
    assert!(used.source.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
}

#[tokio::test]
async fn terraform_variables_with_a_token_authenticate_with_signature_v2() {
    let home = tempfile::tempdir().unwrap();
    let environment = environment(
        &[
            ("ALICLOUD_ACCESS_KEY", "STS.temporary"),
            ("ALICLOUD_SECRET_KEY", "sts-secret"),
            ("ALICLOUD_SECURITY_TOKEN", "sts-token"),
        ],
        home.path(),
        "http://127.0.0.1:9",
    );
    let used = read_with(STS_FLEET, None, &environment, SignatureVersion::V2).await;
    assert!(used.source.contains("ALICLOUD_ACCESS_KEY"));
}

#[tokio::test]
async fn an_sts_token_authenticates_with_signature_v3() {
    let home = tempfile::tempdir().unwrap();
    let environment = environment(
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.temporary"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "sts-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "sts-token"),
        ],
        home.path(),
        "http://127.0.0.1:9",
    );
    read_with(STS_FLEET, None, &environment, SignatureVersion::V3).await;
}

#[tokio::test]
async fn a_missing_token_is_refused_by_the_emulator() {
    let emulator = start(STS_FLEET).await;
    let mut credentials = test_credentials();
    credentials.access_key_id = "STS.temporary".to_owned();
    credentials.access_key_secret = "sts-secret".into();
    let client = Client::new(
        Some(&emulator.url()),
        credentials,
        100.0,
        quick_options(SignatureVersion::V2),
    )
    .unwrap();
    let error = client
        .read_fleet(&[("cn-hangzhou".to_owned(), "i-1".to_owned())])
        .await
        .unwrap_err();
    assert_eq!(
        error.api_code(),
        Some("InvalidSecurityToken.MismatchWithAccessKey")
    );
}

#[tokio::test]
async fn the_cli_ak_profile_authenticates_with_the_emulator() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".aliyun/config.json",
        r#"{"current": "main", "profiles": [{"name": "main", "mode": "AK",
            "access_key_id": "testid", "access_key_secret": "testsecret"}]}"#,
    );
    let environment = environment(&[], home.path(), "http://127.0.0.1:9");
    let used = read_with(PLAIN_FLEET, None, &environment, SignatureVersion::V2).await;
    assert!(used.source.contains("aliyun CLI profile `main`"));
}

#[tokio::test]
async fn a_named_cli_sts_profile_authenticates_with_the_emulator() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".aliyun/config.json",
        r#"{"current": "main", "profiles": [
            {"name": "main", "mode": "AK", "access_key_id": "x", "access_key_secret": "y"},
            {"name": "temporary", "mode": "StsToken", "access_key_id": "STS.temporary",
             "access_key_secret": "sts-secret", "sts_token": "sts-token"}]}"#,
    );
    let environment = environment(&[], home.path(), "http://127.0.0.1:9");
    read_with(
        STS_FLEET,
        Some("temporary"),
        &environment,
        SignatureVersion::V3,
    )
    .await;
}

#[tokio::test]
async fn the_credentials_file_authenticates_with_the_emulator() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
    );
    let environment = environment(&[], home.path(), "http://127.0.0.1:9");
    let used = read_with(PLAIN_FLEET, None, &environment, SignatureVersion::V2).await;
    assert!(used.source.contains(".alibabacloud"));
}

/// A stand-in for the instance metadata service: hands out a session token, then the role's
/// credentials to requests that carry it.
async fn metadata_service() -> String {
    fake_metadata_service(true).await
}

/// A stand-in for the metadata service, with session tokens (IMDSv2) or without (IMDSv1: the
/// token request is refused and the role's credentials are handed to any request).
async fn fake_metadata_service(tokens: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = vec![0u8; 4096];
            let read = stream.read(&mut request).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..read]).to_string();
            let carries_token = request
                .to_ascii_lowercase()
                .contains("x-aliyun-ecs-metadata-token: session-token");
            let body = if tokens && request.starts_with("PUT /latest/api/token") {
                "session-token".to_owned()
            } else if request.starts_with("GET /latest/meta-data/ram/security-credentials/deployer")
                && (carries_token || !tokens)
            {
                r#"{"Code": "Success", "AccessKeyId": "STS.temporary",
                    "AccessKeySecret": "sts-secret", "SecurityToken": "sts-token",
                    "Expiration": "2099-01-01T00:00:00Z"}"#
                    .to_owned()
            } else {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
                continue;
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn an_ecs_ram_role_profile_fetches_credentials_from_the_metadata_service() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".aliyun/config.json",
        r#"{"current": "role", "profiles": [
            {"name": "role", "mode": "EcsRamRole", "ram_role_name": "deployer"}]}"#,
    );
    let metadata = metadata_service().await;
    let environment = environment(&[], home.path(), &metadata);
    let used = read_with(STS_FLEET, None, &environment, SignatureVersion::V2).await;
    assert!(used.source.contains("ECS RAM role `deployer`"));
}

#[tokio::test]
async fn an_ecs_ram_role_in_the_credentials_file_fetches_credentials_from_the_metadata_service() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\ntype = ecs_ram_role\nrole_name = deployer\n",
    );
    let metadata = metadata_service().await;
    let environment = environment(&[], home.path(), &metadata);
    let used = read_with(STS_FLEET, None, &environment, SignatureVersion::V3).await;
    assert!(used.source.contains(".alibabacloud/credentials"));
    assert!(used.source.contains("ECS RAM role `deployer`"));
}

#[tokio::test]
async fn a_metadata_service_without_session_tokens_is_asked_without_one() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\ntype = ecs_ram_role\nrole_name = deployer\n",
    );
    let metadata = fake_metadata_service(false).await;
    let environment = environment(&[], home.path(), &metadata);
    read_with(STS_FLEET, None, &environment, SignatureVersion::V2).await;

    let hardened = self::environment(
        &[("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")],
        home.path(),
        &metadata,
    );
    let error = credentials::resolve(None, &hardened).await.unwrap_err();
    assert!(error.to_string().contains("deployer"), "{error}");
}

#[tokio::test]
async fn an_unknown_ram_role_is_an_error_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\ntype = ecs_ram_role\nrole_name = stranger\n",
    );
    let metadata = metadata_service().await;
    let error = credentials::resolve(None, &environment(&[], home.path(), &metadata))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("stranger"));
    assert!(passform::report::Hint::hint(&error).is_some());
}
