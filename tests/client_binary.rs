//! The real `passform` binary against the real emulator over loopback: each credential source
//! is named at debug level, a missing one is an error listing what was tried, a proxy never
//! carries plain-http requests, and a `-vv` plan and apply leave no password, secret key or
//! token in their output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use passform::document::{encryption, seal};

const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SECRET: &str = "binary-test-secret-value";
const TOKEN: &str = "binary-test-token-value";

/// An emulator process, stopped when dropped.
struct EmulatorProcess {
    child: Child,
    url: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private directory with an identity, a document, a fleet file and a running emulator.
struct Sandbox {
    directory: tempfile::TempDir,
    identity: PathBuf,
    emulator: EmulatorProcess,
}

const INSTANCES: [(&str, &str); 3] = [
    ("i-binary-running", "Running"),
    ("i-binary-stopped", "Stopped"),
    ("i-binary-other", "Running"),
];

impl Sandbox {
    fn new() -> Sandbox {
        let directory = tempfile::tempdir().unwrap();
        let (identity_text, recipient) = encryption::generate_identity();
        let identity = directory.path().join("identity.txt");
        std::fs::write(&identity, identity_text.as_bytes()).unwrap();

        let mut document = format!(
            "version = 1\nrecipients = [\"{recipient}\"]\n\n[secrets]\nseed = \"{SEED}\"\n\n\
             [defaults]\nregion = \"cn-hangzhou\"\n"
        );
        let mut fleet = format!(
            "time_scale = 0.002\n[credentials]\naccess_key_id = \"STS.binary\"\n\
             access_key_secret = \"{SECRET}\"\nsecurity_token = \"{TOKEN}\"\n"
        );
        for (id, status) in INSTANCES {
            document.push_str(&format!("\n[[instance]]\nid = \"{id}\"\ngeneration = 1\n"));
            fleet.push_str(&format!(
                "[[instance]]\nid = \"{id}\"\nregion = \"cn-hangzhou\"\nstatus = \"{status}\"\n\
                 os_type = \"linux\"\npassword = \"Initial#Pass1\"\n"
            ));
        }
        let sealed = seal(&document, &[recipient]).unwrap();
        std::fs::write(directory.path().join("passwords.toml.age"), sealed).unwrap();
        let fleet_path = directory.path().join("fleet.toml");
        std::fs::write(&fleet_path, fleet).unwrap();
        let emulator = start_emulator(&fleet_path);
        Sandbox {
            directory,
            identity,
            emulator,
        }
    }

    /// `passform` in the sandbox, with a clean environment and no credentials.
    fn passform(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_passform"));
        command
            .current_dir(self.directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.directory.path())
            .env("PASSFORM_IDENTITY", &self.identity)
            .env("PASSFORM_ENDPOINT", &self.emulator.url)
            .stdin(Stdio::null());
        command
    }

    /// `passform` with the emulator's credentials in the SDK variables.
    fn with_credentials(&self) -> Command {
        let mut command = self.passform();
        command
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.binary")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN);
        command
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.directory.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn start_emulator(fleet: &Path) -> EmulatorProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passform"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--fleet"])
        .arg(fleet)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the emulator announces its URL")
        .to_owned();
    EmulatorProcess { child, url }
}

/// The emulator's view of every instance.
fn emulated_instances(url: &str) -> Vec<serde_json::Value> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer: serde_json::Value = runtime.block_on(async {
        reqwest::get(format!("{url}/_emulator/instances"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    answer["instances"].as_array().unwrap().clone()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(mut command: Command, arguments: &[&str]) -> Output {
    command.args(arguments).output().unwrap()
}

#[test]
fn plan_names_the_sdk_variables_as_the_credential_source_at_debug_level() {
    let sandbox = Sandbox::new();
    let output = run(sandbox.with_credentials(), &["-v", "plan"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
}

#[test]
fn plan_names_terraform_variables_as_the_credential_source() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.passform();
    command
        .env("ALICLOUD_ACCESS_KEY", "STS.binary")
        .env("ALICLOUD_SECRET_KEY", SECRET)
        .env("ALICLOUD_SECURITY_TOKEN", TOKEN);
    let output = run(command, &["-v", "plan"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("ALICLOUD_ACCESS_KEY"));
}

#[test]
fn plan_uses_the_profile_named_by_the_flag() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".aliyun/config.json",
        &format!(
            r#"{{"current": "other", "profiles": [
                {{"name": "other", "mode": "AK", "access_key_id": "x", "access_key_secret": "y"}},
                {{"name": "ci", "mode": "StsToken", "access_key_id": "STS.binary",
                  "access_key_secret": "{SECRET}", "sts_token": "{TOKEN}"}}]}}"#
        ),
    );
    let output = run(sandbox.passform(), &["-v", "--profile", "ci", "plan"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("aliyun CLI profile `ci`"));
}

#[test]
fn plan_falls_back_to_the_credentials_file() {
    let sandbox = Sandbox::new();
    sandbox.write(
        ".alibabacloud/credentials",
        "[default]\ntype = access_key\naccess_key_id = STS.binary\naccess_key_secret = x\n",
    );
    let output = run(sandbox.passform(), &["-v", "plan"]);
    // The file has no token, so the emulator refuses: what matters is which source was used.
    assert!(text(&output.stderr).contains(".alibabacloud/credentials"));
}

#[test]
fn plan_without_credentials_lists_every_source_tried_and_exits_1() {
    let sandbox = Sandbox::new();
    let output = run(sandbox.passform(), &["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    for tried in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY",
        ".aliyun/config.json",
        ".alibabacloud/credentials",
    ] {
        assert!(stderr.contains(tried), "{stderr} lacks {tried}");
    }
    assert!(stderr.contains("hint: "));
}

#[test]
fn plan_refuses_plain_http_to_a_remote_endpoint() {
    let sandbox = Sandbox::new();
    let mut command = sandbox.with_credentials();
    command.env("PASSFORM_ENDPOINT", "http://192.0.2.1:8080");
    let output = run(command, &["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("plain http"), "{stderr}");
    assert!(stderr.contains("hint: "));
}

#[test]
fn a_proxy_in_the_environment_is_not_used_for_a_loopback_endpoint() {
    let sandbox = Sandbox::new();
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let mut command = sandbox.with_credentials();
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
    ] {
        command.env(name, &proxy_url);
    }
    let output = run(command, &["plan"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        matches!(proxy.accept(), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "plain-http requests went through the proxy"
    );
}

#[test]
fn a_very_verbose_plan_and_apply_reveal_no_password_secret_key_or_token() {
    let sandbox = Sandbox::new();
    let mut passwords = Vec::new();
    for (id, _) in INSTANCES {
        let output = run(sandbox.passform(), &["password", id]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        passwords.push(text(&output.stdout).trim().to_owned());
    }
    let mut outputs = Vec::new();
    for (arguments, signature) in [
        (vec!["-vv", "plan"], "v2"),
        (vec!["-vv", "apply", "--auto-approve"], "v3"),
        (vec!["-vv", "plan"], "v3"),
    ] {
        let mut command = sandbox.with_credentials();
        command.env("PASSFORM_SIGNATURE_VERSION", signature);
        let output = run(command, &arguments);
        assert!(
            output.status.success(),
            "{arguments:?}: {}",
            text(&output.stderr)
        );
        outputs.push(format!("{}{}", text(&output.stdout), text(&output.stderr)));
    }
    let emulated = emulated_instances(&sandbox.emulator.url);
    for ((id, _), password) in INSTANCES.iter().zip(&passwords) {
        let instance = emulated
            .iter()
            .find(|instance| instance["id"] == *id)
            .unwrap();
        assert_eq!(
            instance["effective_password"].as_str(),
            Some(password.as_str()),
            "apply did not make {id}'s password effective"
        );
    }
    let all = outputs.concat();
    assert!(
        all.contains("ModifyInstanceAttribute"),
        "apply logged no reset"
    );
    assert!(
        all.contains("Password=(sensitive)"),
        "the trace logs did not show the reset's parameters"
    );
    let mut secrets: Vec<String> = passwords.clone();
    secrets.extend([SECRET.to_owned(), TOKEN.to_owned(), SEED.to_owned()]);
    for secret in &secrets {
        assert!(!all.contains(secret.as_str()), "output holds a secret");
        let encoded = passform::ecs::sign::percent_encode(secret);
        assert!(!all.contains(&encoded), "output holds an encoded secret");
    }
    for entry in std::fs::read_dir(sandbox.directory.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && path
                .extension()
                .is_some_and(|extension| extension == "json")
        {
            let state = std::fs::read_to_string(&path).unwrap();
            for secret in &secrets {
                assert!(
                    !state.contains(secret.as_str()),
                    "{} holds a secret",
                    path.display()
                );
            }
        }
    }
}

/// A TLS front for the emulator on loopback, with a certificate for 127.0.0.1 signed by a
/// certificate authority of its own, as a TLS-inspecting proxy or a private endpoint has.
struct TlsFront {
    url: String,
    authority: PathBuf,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    /// Makes the authority and the certificate with `openssl` in `directory`, then forwards
    /// every connection, decrypted, to the emulator at `emulator_url`.
    fn start(directory: &Path, emulator_url: &str) -> TlsFront {
        let authority = directory.join("private-ca.pem");
        let (certificate, key) = (directory.join("front.pem"), directory.join("front.key"));
        let openssl = |arguments: &str| {
            let output = Command::new("openssl")
                .args(arguments.split_whitespace())
                .current_dir(directory)
                .output()
                .expect("openssl runs");
            assert!(output.status.success(), "openssl {arguments}: {output:?}");
        };
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        openssl(&format!(
            "req -x509 {new_key} -keyout private-ca.key -out private-ca.pem -days 2 \
             -subj /CN=passform-test-authority -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign"
        ));
        openssl(&format!(
            "req {new_key} -keyout front.key -out front.csr -subj /CN=127.0.0.1"
        ));
        std::fs::write(
            directory.join("front.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            "x509 -req -in front.csr -CA private-ca.pem -CAkey private-ca.key -CAcreateserial \
             -out front.pem -days 2 -extfile front.ext",
        );

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let backend = emulator_url.trim_start_matches("http://").to_owned();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let acceptor = tls_acceptor(&certificate, &key);
        runtime.spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                tokio::spawn(async move {
                    let Ok(mut decrypted) = acceptor.accept(connection).await else {
                        return;
                    };
                    let Ok(mut emulator) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut decrypted, &mut emulator).await;
                });
            }
        });
        TlsFront {
            url,
            authority,
            _runtime: runtime,
        }
    }
}

fn tls_acceptor(certificate: &Path, key: &Path) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}

#[test]
fn an_endpoint_signed_by_a_private_authority_is_trusted_only_once_ssl_cert_file_names_it() {
    let sandbox = Sandbox::new();
    let front = TlsFront::start(sandbox.directory.path(), &sandbox.emulator.url);

    let mut untrusted = sandbox.with_credentials();
    untrusted.env("PASSFORM_ENDPOINT", &front.url);
    let refused = run(untrusted, &["plan"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(
        stderr.contains("hint: the endpoint's TLS certificate is not signed by an authority"),
        "{stderr}"
    );
    assert!(stderr.contains("SSL_CERT_FILE"), "{stderr}");

    let mut trusted = sandbox.with_credentials();
    trusted
        .env("PASSFORM_ENDPOINT", &front.url)
        .env("SSL_CERT_FILE", &front.authority);
    let planned = run(trusted, &["plan"]);
    assert!(planned.status.success(), "{}", text(&planned.stderr));
    assert!(text(&planned.stdout).contains("i-binary-running"));
}
