//! Where the access key comes from: one documented chain, tried in order, first match wins.
//!
//! 1. A named profile (`--profile` or `ALIBABA_CLOUD_PROFILE`), looked up in the aliyun CLI's
//!    `~/.aliyun/config.json`, then in the credentials file. A named profile that is missing
//!    is an error, never a silent fallback to other keys.
//! 2. `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` /
//!    `ALIBABA_CLOUD_SECURITY_TOKEN`.
//! 3. Terraform's `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` / `ALICLOUD_SECURITY_TOKEN`.
//! 4. The aliyun CLI's `current` profile in `~/.aliyun/config.json` (modes `AK`, `StsToken`,
//!    and `EcsRamRole` through the instance metadata service).
//! 5. The `default` section of `~/.alibabacloud/credentials` (or
//!    `ALIBABA_CLOUD_CREDENTIALS_FILE`), types `access_key` and `ecs_ram_role`.
//!
//! The source that won is named at debug level; when none matches, the error lists each place
//! tried. Secrets are held in [`SecretString`] from the moment they are read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::report::Hint;
use crate::secret::SecretString;

/// The instance metadata service that hands out ECS RAM role credentials.
pub const METADATA_ENDPOINT: &str = "http://100.100.100.200";

/// An access key, with the token that temporary (STS) keys need.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The access key id; not secret, it appears in every request.
    pub access_key_id: String,
    /// The access key secret.
    pub access_key_secret: SecretString,
    /// The STS security token of temporary credentials.
    pub security_token: Option<SecretString>,
    /// Where these came from, for logs and error messages.
    pub source: String,
}

/// What the credential chain reads: environment variables, the home directory and the
/// metadata service. Tests give their own; the binary uses [`Environment::process`].
pub struct Environment {
    variables: BTreeMap<String, String>,
    home: Option<PathBuf>,
    metadata_endpoint: String,
}

impl Environment {
    /// The process environment and the user's home directory.
    pub fn process() -> Self {
        Self {
            variables: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
            metadata_endpoint: METADATA_ENDPOINT.to_owned(),
        }
    }

    /// A made-up environment, for tests.
    pub fn from_parts(
        variables: BTreeMap<String, String>,
        home: Option<PathBuf>,
        metadata_endpoint: String,
    ) -> Self {
        Self {
            variables,
            home,
            metadata_endpoint,
        }
    }

    /// An environment variable's value; a variable set to the empty string counts as unset.
    fn variable(&self, name: &str) -> Option<String> {
        self.variables
            .get(name)
            .filter(|value| !value.is_empty())
            .cloned()
    }

    fn cli_config_path(&self) -> Option<PathBuf> {
        self.home
            .as_ref()
            .map(|home| home.join(".aliyun").join("config.json"))
    }

    fn credentials_file_path(&self) -> Option<PathBuf> {
        self.variable("ALIBABA_CLOUD_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| {
                self.home
                    .as_ref()
                    .map(|home| home.join(".alibabacloud").join("credentials"))
            })
    }
}

/// Why no usable credentials were found.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Nothing in the chain held credentials.
    #[error("no ECS credentials found; tried {}", .tried.join(", "))]
    NotFound {
        /// Every place looked at, in order.
        tried: Vec<String>,
    },
    /// An access key id was set without its secret, or the other way round.
    #[error("{present} is set but {missing} is not")]
    IncompleteEnvironment {
        /// The variable that is set.
        present: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// The named profile is in neither file.
    #[error("profile `{name}` was not found in {}", .searched.join(" or "))]
    ProfileNotFound {
        /// The profile name.
        name: String,
        /// The files searched.
        searched: Vec<String>,
    },
    /// A profile lacks a value its mode needs.
    #[error("profile `{name}` in {} has no `{key}`", .file.display())]
    ProfileIncomplete {
        /// The profile name.
        name: String,
        /// The file holding it.
        file: PathBuf,
        /// The missing key.
        key: &'static str,
    },
    /// A profile uses a mode passform does not support.
    #[error("profile `{name}` in {} uses mode `{mode}`, which passform does not support", .file.display())]
    UnsupportedMode {
        /// The profile name.
        name: String,
        /// The file holding it.
        file: PathBuf,
        /// The mode or type named in the file.
        mode: String,
    },
    /// A credentials file exists but could not be read.
    #[error("could not read {}", .path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The aliyun CLI's config file is not valid JSON of the expected shape.
    #[error("could not parse {}", .path.display())]
    ParseCliConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The instance metadata service did not answer with role credentials.
    #[error(
        "could not fetch credentials of ECS RAM role `{role}` from the instance metadata service"
    )]
    Metadata {
        /// The role name.
        role: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The metadata service answered, but not with usable credentials.
    #[error("the instance metadata service refused credentials of ECS RAM role `{role}` ({code})")]
    MetadataRefused {
        /// The role name.
        role: String,
        /// The `Code` it answered.
        code: String,
    },
}

impl Hint for CredentialsError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::NotFound { .. } => "set ALIBABA_CLOUD_ACCESS_KEY_ID and \
                 ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile with `aliyun configure`; \
                 docs/credentials.md lists every source"
                .to_owned(),
            Self::IncompleteEnvironment { missing, .. } => format!("set {missing} as well"),
            Self::ProfileNotFound { .. } => "check --profile / ALIBABA_CLOUD_PROFILE, or list \
                 the profiles with `aliyun configure list`"
                .to_owned(),
            Self::ProfileIncomplete { name, .. } => {
                format!("complete the profile with `aliyun configure --profile {name}`")
            }
            Self::UnsupportedMode { .. } => "use a profile of mode AK, StsToken or EcsRamRole, \
                 or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
                .to_owned(),
            Self::ReadFile { .. } | Self::ParseCliConfig { .. } => {
                "fix or remove the file, or set the ALIBABA_CLOUD_ACCESS_KEY_* variables".to_owned()
            }
            Self::Metadata { .. } | Self::MetadataRefused { .. } => "ECS RAM role credentials \
                 only work on an ECS instance with that role attached; elsewhere use an access key"
                .to_owned(),
        })
    }
}

/// Runs the chain and returns the first credentials found.
pub async fn resolve(
    profile: Option<&str>,
    environment: &Environment,
) -> Result<Credentials, CredentialsError> {
    let credentials = match profile {
        Some(name) => from_named_profile(name, environment).await?,
        None => from_chain(environment).await?,
    };
    tracing::debug!(source = %credentials.source, "using ECS credentials");
    Ok(credentials)
}

async fn from_named_profile(
    name: &str,
    environment: &Environment,
) -> Result<Credentials, CredentialsError> {
    let mut searched = Vec::new();
    if let Some(path) = environment.cli_config_path() {
        searched.push(path.display().to_string());
        if let Some(credentials) = from_cli_config(&path, Some(name), environment).await? {
            return Ok(credentials);
        }
    }
    if let Some(path) = environment.credentials_file_path() {
        searched.push(path.display().to_string());
        if let Some(credentials) = from_credentials_file(&path, name, environment).await? {
            return Ok(credentials);
        }
    }
    Err(CredentialsError::ProfileNotFound {
        name: name.to_owned(),
        searched,
    })
}

async fn from_chain(environment: &Environment) -> Result<Credentials, CredentialsError> {
    let mut tried = Vec::new();
    for names in [ALIBABA_CLOUD_VARIABLES, TERRAFORM_VARIABLES] {
        tried.push(format!("environment variable {}", names.id));
        if let Some(credentials) = from_variables(&names, environment)? {
            return Ok(credentials);
        }
    }
    if let Some(path) = environment.cli_config_path() {
        tried.push(path.display().to_string());
        if let Some(credentials) = from_cli_config(&path, None, environment).await? {
            return Ok(credentials);
        }
    }
    if let Some(path) = environment.credentials_file_path() {
        tried.push(path.display().to_string());
        if let Some(credentials) = from_credentials_file(&path, "default", environment).await? {
            return Ok(credentials);
        }
    }
    Err(CredentialsError::NotFound { tried })
}

/// The names of one family of credential variables.
struct VariableNames {
    id: &'static str,
    secret: &'static str,
    token: &'static str,
}

const ALIBABA_CLOUD_VARIABLES: VariableNames = VariableNames {
    id: "ALIBABA_CLOUD_ACCESS_KEY_ID",
    secret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    token: "ALIBABA_CLOUD_SECURITY_TOKEN",
};

const TERRAFORM_VARIABLES: VariableNames = VariableNames {
    id: "ALICLOUD_ACCESS_KEY",
    secret: "ALICLOUD_SECRET_KEY",
    token: "ALICLOUD_SECURITY_TOKEN",
};

fn from_variables(
    names: &VariableNames,
    environment: &Environment,
) -> Result<Option<Credentials>, CredentialsError> {
    let id = environment.variable(names.id);
    let secret = environment.variable(names.secret);
    match (id, secret) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(CredentialsError::IncompleteEnvironment {
            present: names.id,
            missing: names.secret,
        }),
        (None, Some(_)) => Err(CredentialsError::IncompleteEnvironment {
            present: names.secret,
            missing: names.id,
        }),
        (Some(id), Some(secret)) => Ok(Some(Credentials {
            access_key_id: id,
            access_key_secret: SecretString::new(secret),
            security_token: environment.variable(names.token).map(SecretString::new),
            source: format!("environment variables {} and {}", names.id, names.secret),
        })),
    }
}

/// The parts of the aliyun CLI's config file that passform reads.
#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    ram_role_name: String,
}

/// Reads `name` (or the `current` profile) from the CLI config; `None` if the file or the
/// profile is absent.
async fn from_cli_config(
    path: &Path,
    name: Option<&str>,
    environment: &Environment,
) -> Result<Option<Credentials>, CredentialsError> {
    let Some(text) = read_if_present(path)? else {
        return Ok(None);
    };
    let config: CliConfig =
        serde_json::from_str(&text).map_err(|source| CredentialsError::ParseCliConfig {
            path: path.to_owned(),
            source,
        })?;
    let wanted = name.unwrap_or(&config.current);
    let Some(profile) = config
        .profiles
        .into_iter()
        .find(|profile| profile.name == wanted)
    else {
        return Ok(None);
    };
    let source = format!(
        "aliyun CLI profile `{}` in {}",
        profile.name,
        path.display()
    );
    let require = |value: String, key: &'static str| {
        non_empty(value).ok_or_else(|| CredentialsError::ProfileIncomplete {
            name: profile.name.clone(),
            file: path.to_owned(),
            key,
        })
    };
    match profile.mode.as_str() {
        "AK" | "StsToken" => {
            let token = if profile.mode == "StsToken" {
                Some(SecretString::new(require(profile.sts_token, "sts_token")?))
            } else {
                None
            };
            Ok(Some(Credentials {
                access_key_id: require(profile.access_key_id, "access_key_id")?,
                access_key_secret: SecretString::new(require(
                    profile.access_key_secret,
                    "access_key_secret",
                )?),
                security_token: token,
                source,
            }))
        }
        "EcsRamRole" => {
            let role = require(profile.ram_role_name, "ram_role_name")?;
            from_metadata(&role, environment, source).await.map(Some)
        }
        mode => Err(CredentialsError::UnsupportedMode {
            name: profile.name.clone(),
            file: path.to_owned(),
            mode: mode.to_owned(),
        }),
    }
}

/// Reads one section of the ini credentials file; `None` if the file or section is absent.
async fn from_credentials_file(
    path: &Path,
    section: &str,
    environment: &Environment,
) -> Result<Option<Credentials>, CredentialsError> {
    let Some(text) = read_if_present(path)? else {
        return Ok(None);
    };
    let Some(mut values) = ini_section(&text, section) else {
        return Ok(None);
    };
    let source = format!("profile `{section}` in {}", path.display());
    let mut require = |key: &'static str| {
        values
            .remove(key)
            .and_then(non_empty)
            .ok_or_else(|| CredentialsError::ProfileIncomplete {
                name: section.to_owned(),
                file: path.to_owned(),
                key,
            })
    };
    match require("type")?.as_str() {
        "access_key" => Ok(Some(Credentials {
            access_key_id: require("access_key_id")?,
            access_key_secret: SecretString::new(require("access_key_secret")?),
            security_token: None,
            source,
        })),
        "ecs_ram_role" => {
            let role = require("role_name")?;
            from_metadata(&role, environment, source).await.map(Some)
        }
        other => Err(CredentialsError::UnsupportedMode {
            name: section.to_owned(),
            file: path.to_owned(),
            mode: other.to_owned(),
        }),
    }
}

/// The `key = value` pairs of one `[section]`, with ` # comment` tails removed.
fn ini_section(text: &str, wanted: &str) -> Option<BTreeMap<String, String>> {
    let mut current: Option<&str> = None;
    let mut values = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            current = Some(name.trim());
            if current == Some(wanted) {
                values.get_or_insert_with(BTreeMap::new);
            }
            continue;
        }
        if current != Some(wanted) {
            continue;
        }
        if let (Some(map), Some((key, value))) = (values.as_mut(), line.split_once('=')) {
            let value = value.split(" #").next().unwrap_or_default().trim();
            map.insert(key.trim().to_owned(), value.to_owned());
        }
    }
    values
}

fn read_if_present(path: &Path) -> Result<Option<String>, CredentialsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CredentialsError::ReadFile {
            path: path.to_owned(),
            source,
        }),
    }
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The answer of the metadata service for a role.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    code: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    security_token: String,
}

impl fmt::Debug for RoleCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RoleCredentials")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// Fetches a role's temporary credentials: a session token first (IMDSv2), then the role.
/// A metadata service that answers the token request with an error is asked again without a
/// token (IMDSv1), as the SDKs do, unless `ALIBABA_CLOUD_IMDSV1_DISABLED` is `true`.
/// The credentials are not refreshed: they last hours, far longer than one passform run, and a
/// longer run fails with an expired-token error (listed in docs/limitations.md).
async fn from_metadata(
    role: &str,
    environment: &Environment,
    source: String,
) -> Result<Credentials, CredentialsError> {
    let failed = |source| CredentialsError::Metadata {
        role: role.to_owned(),
        source,
    };
    // The answer holds a secret: it must come straight from the link-local service, never
    // through a proxy from the environment or a redirect.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(failed)?;
    let base = &environment.metadata_endpoint;
    let tokenless_allowed = !environment
        .variable("ALIBABA_CLOUD_IMDSV1_DISABLED")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let token = session_token(&http, base, tokenless_allowed)
        .await
        .map_err(|error| failed(error.without_url()))?;
    let mut request = http.get(format!(
        "{base}/latest/meta-data/ram/security-credentials/{role}"
    ));
    if let Some(token) = token {
        request = request.header("X-aliyun-ecs-metadata-token", token);
    }
    let answer: RoleCredentials = request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| failed(error.without_url()))?
        .json()
        .await
        .map_err(|error| failed(error.without_url()))?;
    if answer.code != "Success" || answer.access_key_id.is_empty() {
        return Err(CredentialsError::MetadataRefused {
            role: role.to_owned(),
            code: answer.code,
        });
    }
    Ok(Credentials {
        access_key_id: answer.access_key_id,
        access_key_secret: SecretString::new(answer.access_key_secret),
        security_token: non_empty(answer.security_token).map(SecretString::new),
        source: format!("{source} (ECS RAM role `{role}`)"),
    })
}

/// The metadata service's session token, or `None` when it refused to hand one out and a
/// request without a token is allowed. A service that cannot be reached is an error either way.
async fn session_token(
    http: &reqwest::Client,
    base: &str,
    tokenless_allowed: bool,
) -> Result<Option<String>, reqwest::Error> {
    let answer = http
        .put(format!("{base}/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
        .send()
        .await?;
    match answer.error_for_status() {
        Ok(answer) => answer.text().await.map(Some),
        Err(error) if tokenless_allowed => {
            tracing::debug!(
                status = ?error.status(),
                "the metadata service refused a session token; asking without one"
            );
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(variables: &[(&str, &str)], home: Option<&Path>) -> Environment {
        Environment::from_parts(
            variables
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            home.map(Path::to_owned),
            "http://127.0.0.1:9".to_owned(),
        )
    }

    fn write(home: &Path, relative: &str, text: &str) {
        let path = home.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const CLI_CONFIG: &str = r#"{"current": "work", "profiles": [
        {"name": "work", "mode": "AK", "access_key_id": "cli-id", "access_key_secret": "cli-secret"},
        {"name": "temporary", "mode": "StsToken", "access_key_id": "STS.cli", "access_key_secret": "sts-secret", "sts_token": "sts-token"},
        {"name": "sso", "mode": "CloudSSO"}
    ]}"#;

    const INI: &str = "[default]\ntype = access_key # the main key\naccess_key_id = ini-id\n\
                       access_key_secret = ini-secret\n[other]\ntype = access_key\n\
                       access_key_id = other-id\naccess_key_secret = other-secret\n";

    async fn resolved(profile: Option<&str>, environment: &Environment) -> Credentials {
        resolve(profile, environment).await.unwrap()
    }

    #[tokio::test]
    async fn alibaba_cloud_variables_win_over_terraform_variables_and_files() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let environment = environment(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
                ("ALICLOUD_ACCESS_KEY", "tf-id"),
                ("ALICLOUD_SECRET_KEY", "tf-secret"),
            ],
            Some(home.path()),
        );
        let credentials = resolved(None, &environment).await;
        assert_eq!(credentials.access_key_id, "env-id");
        assert_eq!(credentials.access_key_secret.expose_secret(), "env-secret");
        assert_eq!(
            credentials.security_token.unwrap().expose_secret(),
            "env-token"
        );
        assert!(credentials.source.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));
    }

    #[tokio::test]
    async fn terraform_variables_are_used_when_the_sdk_variables_are_unset() {
        let environment = environment(
            &[
                ("ALICLOUD_ACCESS_KEY", "tf-id"),
                ("ALICLOUD_SECRET_KEY", "tf-secret"),
                ("ALICLOUD_SECURITY_TOKEN", "tf-token"),
            ],
            None,
        );
        let credentials = resolved(None, &environment).await;
        assert_eq!(credentials.access_key_id, "tf-id");
        assert_eq!(
            credentials.security_token.unwrap().expose_secret(),
            "tf-token"
        );
        assert!(credentials.source.contains("ALICLOUD_ACCESS_KEY"));
    }

    #[tokio::test]
    async fn an_id_without_its_secret_is_an_error_naming_the_missing_variable() {
        let environment = environment(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")], None);
        let error = resolve(None, &environment).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not")
        );
        assert!(
            error
                .hint()
                .unwrap()
                .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        );
    }

    #[tokio::test]
    async fn the_cli_current_profile_is_used_when_no_variable_is_set() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        write(home.path(), ".alibabacloud/credentials", INI);
        let credentials = resolved(None, &environment(&[], Some(home.path()))).await;
        assert_eq!(credentials.access_key_id, "cli-id");
        assert!(credentials.source.contains("aliyun CLI profile `work`"));
    }

    #[tokio::test]
    async fn a_named_sts_profile_carries_its_token() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let credentials = resolved(Some("temporary"), &environment(&[], Some(home.path()))).await;
        assert_eq!(credentials.access_key_id, "STS.cli");
        assert_eq!(
            credentials.security_token.unwrap().expose_secret(),
            "sts-token"
        );
    }

    #[tokio::test]
    async fn a_named_profile_beats_the_environment_variables() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".alibabacloud/credentials", INI);
        let environment = environment(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ],
            Some(home.path()),
        );
        let credentials = resolved(Some("other"), &environment).await;
        assert_eq!(credentials.access_key_id, "other-id");
    }

    #[tokio::test]
    async fn the_credentials_file_default_section_is_the_last_resort() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".alibabacloud/credentials", INI);
        let credentials = resolved(None, &environment(&[], Some(home.path()))).await;
        assert_eq!(credentials.access_key_id, "ini-id");
        assert_eq!(credentials.access_key_secret.expose_secret(), "ini-secret");
    }

    #[tokio::test]
    async fn the_credentials_file_location_can_be_overridden() {
        let directory = tempfile::tempdir().unwrap();
        write(directory.path(), "elsewhere.ini", INI);
        let path = directory.path().join("elsewhere.ini");
        let environment = environment(
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", path.to_str().unwrap())],
            None,
        );
        assert_eq!(resolved(None, &environment).await.access_key_id, "ini-id");
    }

    #[tokio::test]
    async fn a_missing_named_profile_is_an_error_listing_the_files_searched() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let error = resolve(Some("nowhere"), &environment(&[], Some(home.path())))
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("profile `nowhere` was not found"));
        assert!(message.contains("config.json"));
        assert!(message.contains(".alibabacloud"));
    }

    #[tokio::test]
    async fn an_unsupported_profile_mode_is_named() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CLI_CONFIG);
        let error = resolve(Some("sso"), &environment(&[], Some(home.path())))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("mode `CloudSSO`"));
        assert!(error.hint().is_some());
    }

    #[tokio::test]
    async fn finding_nothing_lists_every_place_tried() {
        let home = tempfile::tempdir().unwrap();
        let error = resolve(None, &environment(&[], Some(home.path())))
            .await
            .unwrap_err();
        let message = error.to_string();
        for tried in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY",
            ".aliyun/config.json",
            ".alibabacloud/credentials",
        ] {
            assert!(message.contains(tried), "{message} lacks {tried}");
        }
        assert!(
            error
                .hint()
                .unwrap()
                .contains("ALIBABA_CLOUD_ACCESS_KEY_ID")
        );
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let credentials = Credentials {
            access_key_id: "id".to_owned(),
            access_key_secret: SecretString::from("the-secret"),
            security_token: Some(SecretString::from("the-token")),
            source: "test".to_owned(),
        };
        let printed = format!("{credentials:?}");
        assert!(!printed.contains("the-secret"));
        assert!(!printed.contains("the-token"));
    }
}
