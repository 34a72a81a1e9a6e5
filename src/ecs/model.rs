//! What passform knows of a live instance, in the API's own vocabulary.
//!
//! These types are shared by the client (which fills them from DescribeInstances), the planner
//! (which compares them with the state) and apply (which polls them). The emulator keeps its own
//! model and does not use them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An instance's status as DescribeInstances reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InstanceStatus {
    /// Being created.
    Pending,
    /// Starting after StartInstance or RebootInstance.
    Starting,
    /// Running: stable.
    Running,
    /// Stopping after StopInstance.
    Stopping,
    /// Stopped: stable.
    Stopped,
}

impl InstanceStatus {
    /// Every status, in the API's order.
    pub const ALL: [InstanceStatus; 5] = [
        Self::Pending,
        Self::Starting,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
    ];

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Starting => "Starting",
            Self::Running => "Running",
            Self::Stopping => "Stopping",
            Self::Stopped => "Stopped",
        }
    }

    /// Returns true if and only if a password may be reset now (`Running` or `Stopped`).
    pub fn is_stable(self) -> bool {
        matches!(self, Self::Running | Self::Stopped)
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for InstanceStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown instance status `{text}`"))
    }
}

/// The operating system family, which decides the password's first-character rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsType {
    /// Linux and other Unix-like systems.
    Linux,
    /// Windows: a password must not start with `/`.
    Windows,
}

impl OsType {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Windows => "windows",
        }
    }
}

impl FromStr for OsType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "linux" => Ok(Self::Linux),
            "windows" => Ok(Self::Windows),
            _ => Err(format!("unknown OS type `{text}`")),
        }
    }
}

/// One instance as the service describes it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInstance {
    /// The instance id.
    pub id: String,
    /// The region it lives in.
    pub region: String,
    /// Its display name.
    pub name: String,
    /// Its status.
    pub status: InstanceStatus,
    /// Its operating system family.
    pub os_type: OsType,
    /// When it was created; a new value means the instance was re-created.
    pub creation_time: String,
    /// When it last started; a later value than at reset means a pending password took effect.
    pub start_time: Option<String>,
    /// The SSH key pair bound to it, which turns password login off on Linux.
    pub key_pair_name: Option<String>,
    /// Returns true if the instance is locked for security, which refuses resets and restarts.
    pub locked_for_security: bool,
}

/// The live view of the instances a command asked about, read in one pass over every region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetView {
    /// Every requested instance the service described, by id.
    pub instances: std::collections::BTreeMap<String, LiveInstance>,
    /// Requested ids the service did not describe, in regions where it described others.
    pub not_found: std::collections::BTreeSet<String>,
    /// Regions where none of the requested ids came back: probably a permission problem, so
    /// their ids are in neither `instances` nor `not_found`, and nothing may be forgotten.
    pub suspect_regions: std::collections::BTreeSet<String>,
}

/// Why the service refused one call or one instance of a batch, in its own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    /// The API's error code, such as `IncorrectInstanceStatus`.
    pub code: String,
    /// The API's message.
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

/// What a batched restart did to one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartOutcome {
    /// The instance id.
    pub instance_id: String,
    /// `Ok` when the restart was accepted (or had evidently already happened).
    pub result: Result<(), ApiFailure>,
}
