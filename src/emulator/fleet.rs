//! The fleet file: which instances the emulator serves, how fast time runs, which keys sign.
//!
//! Parsing happens in two steps, as everywhere in passform: the raw serde structs say what the
//! TOML file says, and [`Fleet::parse`] checks them and resolves defaults into the validated
//! [`Fleet`] the emulator runs on. Nothing here knows about HTTP or the emulated clock.

use std::collections::HashSet;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::EmulatorError;
use super::instance::{OsType, Status};
use crate::secret::SecretString;

/// The access key the emulator accepts when the fleet file names none.
pub const DEFAULT_ACCESS_KEY_ID: &str = "testid";
/// The secret of the default access key.
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "testsecret";

/// A validated fleet: the instances, the clock's speed, the timings and the credentials.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Real seconds per emulated second: 0.01 makes a 40 s reboot take 0.4 s.
    pub time_scale: f64,
    /// The only access key the emulator accepts.
    pub credentials: Credentials,
    /// How long each status transition takes, in emulated time.
    pub timing: Timing,
    /// The instances, in the order the file lists them.
    pub instances: Vec<FleetInstance>,
}

/// The access key requests must be signed with.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The access key id.
    pub access_key_id: String,
    /// The access key secret.
    pub access_key_secret: SecretString,
    /// When set, every request must carry this STS security token.
    pub security_token: Option<SecretString>,
}

/// Durations of the status transitions, in emulated seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Stopped (or Pending) to Running, through Starting.
    pub start: f64,
    /// Running to Stopped, through Stopping.
    pub stop: f64,
    /// Running to Running, through Starting.
    pub reboot: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            start: 30.0,
            stop: 20.0,
            reboot: 40.0,
        }
    }
}

/// One instance as the fleet file declares it at the emulator's start.
#[derive(Debug, Clone)]
pub struct FleetInstance {
    /// The instance id.
    pub id: String,
    /// The region whose `RegionId` it answers to.
    pub region: String,
    /// Its status when the emulator starts.
    pub status: Status,
    /// Its operating system family.
    pub os_type: OsType,
    /// Its display name.
    pub name: String,
    /// The SSH key pair bound to it.
    pub key_pair_name: Option<String>,
    /// Its effective logon password at the start.
    pub password: Option<SecretString>,
    /// Its `OperationLocks` reasons, such as `security`.
    pub lock_reasons: Vec<String>,
    /// When it was created; defaults to 30 days before the emulator starts.
    pub creation_time: Option<OffsetDateTime>,
    /// When it last started; defaults to one day before the emulator starts.
    pub start_time: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    time_scale: Option<f64>,
    credentials: Option<RawCredentials>,
    timing: Option<RawTiming>,
    #[serde(default, rename = "instance")]
    instances: Vec<RawInstance>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    start: Option<f64>,
    stop: Option<f64>,
    reboot: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    id: String,
    region: String,
    status: Option<String>,
    os_type: Option<String>,
    name: Option<String>,
    key_pair_name: Option<String>,
    password: Option<String>,
    #[serde(default)]
    lock_reasons: Vec<String>,
    creation_time: Option<String>,
    start_time: Option<String>,
}

impl Fleet {
    /// Parses and checks a fleet file's text.
    pub fn parse(text: &str) -> Result<Fleet, EmulatorError> {
        let raw = parse_raw(text)?;
        let time_scale = raw.time_scale.unwrap_or(1.0);
        if !(time_scale.is_finite() && time_scale > 0.0) {
            return Err(invalid("`time_scale` must be a number above 0"));
        }
        let timing = resolve_timing(raw.timing)?;
        let credentials = resolve_credentials(raw.credentials);
        let mut seen = HashSet::new();
        let mut instances = Vec::with_capacity(raw.instances.len());
        for raw_instance in raw.instances {
            if !seen.insert(raw_instance.id.clone()) {
                return Err(invalid(&format!(
                    "instance `{}` is listed twice",
                    raw_instance.id
                )));
            }
            instances.push(resolve_instance(raw_instance)?);
        }
        Ok(Fleet {
            time_scale,
            credentials,
            timing,
            instances,
        })
    }
}

/// Reads the file into a plain TOML table, then converts the table in memory: for a fleet of
/// 100,000 instances that is markedly faster than deserializing straight from the text, which
/// keeps track of every value's position. A file the fast path refuses is read again from the
/// text, so that the error names its line.
fn parse_raw(text: &str) -> Result<RawFleet, EmulatorError> {
    let fast = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|table| toml::Value::Table(table).try_into::<RawFleet>().ok());
    match fast {
        Some(raw) => Ok(raw),
        None => toml::from_str(text).map_err(EmulatorError::FleetSyntax),
    }
}

fn invalid(reason: &str) -> EmulatorError {
    EmulatorError::FleetInvalid {
        reason: reason.to_owned(),
    }
}

fn resolve_timing(raw: Option<RawTiming>) -> Result<Timing, EmulatorError> {
    let defaults = Timing::default();
    let Some(raw) = raw else {
        return Ok(defaults);
    };
    let timing = Timing {
        start: raw.start.unwrap_or(defaults.start),
        stop: raw.stop.unwrap_or(defaults.stop),
        reboot: raw.reboot.unwrap_or(defaults.reboot),
    };
    for (key, seconds) in [
        ("start", timing.start),
        ("stop", timing.stop),
        ("reboot", timing.reboot),
    ] {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(invalid(&format!(
                "`timing.{key}` must be a number of seconds, 0 or more"
            )));
        }
    }
    Ok(timing)
}

fn resolve_credentials(raw: Option<RawCredentials>) -> Credentials {
    match raw {
        Some(raw) => Credentials {
            access_key_id: raw.access_key_id,
            access_key_secret: SecretString::new(raw.access_key_secret),
            security_token: raw.security_token.map(SecretString::new),
        },
        None => Credentials {
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            access_key_secret: SecretString::from(DEFAULT_ACCESS_KEY_SECRET),
            security_token: None,
        },
    }
}

fn resolve_instance(raw: RawInstance) -> Result<FleetInstance, EmulatorError> {
    let id = raw.id;
    if id.is_empty() {
        return Err(invalid("an instance has an empty `id`"));
    }
    if raw.region.is_empty() {
        return Err(invalid(&format!("instance `{id}` has an empty `region`")));
    }
    let status = match raw.status.as_deref() {
        None => Status::Running,
        Some(text) => text.parse().map_err(|_| {
            invalid(&format!(
                "instance `{id}` has status `{text}`; use Pending, Starting, Running, Stopping \
                 or Stopped"
            ))
        })?,
    };
    let os_type = match raw.os_type.as_deref() {
        None => OsType::Linux,
        Some(text) => text.parse().map_err(|_| {
            invalid(&format!(
                "instance `{id}` has os_type `{text}`; use linux or windows"
            ))
        })?,
    };
    if os_type == OsType::Windows && raw.key_pair_name.is_some() {
        return Err(invalid(&format!(
            "instance `{id}` runs Windows, which cannot have an SSH key pair"
        )));
    }
    Ok(FleetInstance {
        name: raw.name.unwrap_or_else(|| id.clone()),
        creation_time: parse_time(&id, "creation_time", raw.creation_time)?,
        start_time: parse_time(&id, "start_time", raw.start_time)?,
        region: raw.region,
        status,
        os_type,
        key_pair_name: raw.key_pair_name,
        password: raw.password.map(SecretString::new),
        lock_reasons: raw.lock_reasons,
        id,
    })
}

fn parse_time(
    id: &str,
    key: &str,
    text: Option<String>,
) -> Result<Option<OffsetDateTime>, EmulatorError> {
    text.map(|text| {
        OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
            invalid(&format!(
                "instance `{id}` has {key} `{text}`; write it like 2024-05-01T12:00:00Z"
            ))
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
time_scale = 0.01
[credentials]
access_key_id = "key"
access_key_secret = "secret"
[timing]
start = 30
stop = 20
reboot = 40
[[instance]]
id = "i-bp1f4xrzzsb3kf9gkmr1"
region = "cn-hangzhou"
status = "Running"
os_type = "linux"
name = "web-1"
key_pair_name = "deploy"
password = "Initial#Pass1"
[[instance]]
id = "i-bp1f4xrzzsb3kf9gkmr2"
region = "cn-shanghai"
status = "Stopped"
os_type = "windows"
"#;

    #[test]
    fn fleet_file_from_the_design_parses_with_every_field() {
        let fleet = Fleet::parse(EXAMPLE).unwrap();
        assert_eq!(fleet.time_scale, 0.01);
        assert_eq!(fleet.credentials.access_key_id, "key");
        assert_eq!(
            fleet.credentials.access_key_secret.expose_secret(),
            "secret"
        );
        assert_eq!(fleet.timing.reboot, 40.0);
        assert_eq!(fleet.instances.len(), 2);
        let first = &fleet.instances[0];
        assert_eq!(first.status, Status::Running);
        assert_eq!(first.key_pair_name.as_deref(), Some("deploy"));
        assert_eq!(
            first.password.as_ref().unwrap().expose_secret(),
            "Initial#Pass1"
        );
        let second = &fleet.instances[1];
        assert_eq!(second.os_type, OsType::Windows);
        assert_eq!(second.name, "i-bp1f4xrzzsb3kf9gkmr2");
    }

    #[test]
    fn fleet_defaults_to_test_credentials_and_real_time() {
        let fleet = Fleet::parse("").unwrap();
        assert_eq!(fleet.time_scale, 1.0);
        assert_eq!(fleet.credentials.access_key_id, "testid");
        assert_eq!(
            fleet.credentials.access_key_secret.expose_secret(),
            "testsecret"
        );
        assert_eq!(fleet.timing, Timing::default());
    }

    #[test]
    fn fleet_with_duplicate_instance_names_the_id() {
        let text = "[[instance]]\nid = \"i-a\"\nregion = \"r\"\n[[instance]]\nid = \"i-a\"\nregion = \"r\"\n";
        let error = Fleet::parse(text).unwrap_err();
        assert!(
            error.to_string().contains("`i-a` is listed twice"),
            "{error}"
        );
    }

    #[test]
    fn fleet_with_unknown_key_or_bad_status_is_refused() {
        assert!(matches!(
            Fleet::parse("colour = 1"),
            Err(EmulatorError::FleetSyntax(_))
        ));
        let error = Fleet::parse("[[instance]]\nid = \"i-a\"\nregion = \"r\"\nstatus = \"Up\"\n")
            .unwrap_err();
        assert!(error.to_string().contains("status `Up`"), "{error}");
        let error = Fleet::parse("time_scale = 0").unwrap_err();
        assert!(error.to_string().contains("time_scale"), "{error}");
    }

    #[test]
    fn fleet_with_an_empty_id_or_region_is_refused() {
        let error = Fleet::parse("[[instance]]\nid = \"\"\nregion = \"r\"\n").unwrap_err();
        assert!(error.to_string().contains("empty `id`"), "{error}");
        let error = Fleet::parse("[[instance]]\nid = \"i-a\"\nregion = \"\"\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("instance `i-a` has an empty `region`"),
            "{error}"
        );
    }

    #[test]
    fn fleet_syntax_errors_name_the_line() {
        let text = "time_scale = 0.01\n[[instance]]\nid = \"i-a\"\nregion = \"r\"\ncolour = 1\n";
        let error = Fleet::parse(text).unwrap_err();
        let EmulatorError::FleetSyntax(source) = error else {
            panic!("expected a syntax error, got {error:?}");
        };
        assert!(source.to_string().contains("line 5"), "{source}");
        assert!(source.to_string().contains("colour"), "{source}");
    }

    #[test]
    fn whole_seconds_and_fractions_are_both_accepted() {
        let fleet = Fleet::parse("time_scale = 1\n[timing]\nstart = 1.5\nstop = 2\n").unwrap();
        assert_eq!(fleet.time_scale, 1.0);
        assert_eq!((fleet.timing.start, fleet.timing.stop), (1.5, 2.0));
    }

    #[test]
    fn windows_instance_with_key_pair_is_refused() {
        let text = "[[instance]]\nid = \"i-w\"\nregion = \"r\"\nos_type = \"windows\"\nkey_pair_name = \"k\"\n";
        let error = Fleet::parse(text).unwrap_err();
        assert!(
            error.to_string().contains("cannot have an SSH key pair"),
            "{error}"
        );
    }
}
