//! Typed requests and responses of the ECS operations passform uses (API 2014-05-26).
//!
//! A [`Request`] holds an operation's own parameters; the client adds the common ones, signs
//! and sends it. Responses are deserialized into the structs below and turned into the shared
//! vocabulary of [`super::model`].

use serde::Deserialize;

use super::model::{ApiFailure, InstanceStatus, LiveInstance, OsType};
use crate::secret::SecretString;

/// The API version every request names.
pub const API_VERSION: &str = "2014-05-26";
/// The most ids one DescribeInstances, RebootInstances or StartInstances call takes.
pub const MAX_IDS_PER_CALL: usize = 100;
/// The largest page DescribeInstances returns.
pub const MAX_DESCRIBE_PAGE_SIZE: u32 = 100;
/// The largest page DescribeInstanceStatus returns.
pub const MAX_STATUS_PAGE_SIZE: u32 = 50;

/// One operation call: its name, its region and its own parameters.
pub struct Request {
    /// The operation, such as `DescribeInstances`.
    pub action: &'static str,
    /// The region it addresses.
    pub region: String,
    /// The operation's parameters, `RegionId` included.
    pub parameters: Vec<(String, String)>,
    /// The password this request sets, sent as the `Password` parameter.
    pub password: Option<SecretString>,
}

/// Which page of DescribeInstances to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// A page by number (from 1).
    Number(u32),
    /// The page after the one that returned this token.
    Token(String),
}

impl Request {
    fn new(action: &'static str, region: &str) -> Self {
        Self {
            action,
            region: region.to_owned(),
            parameters: vec![("RegionId".to_owned(), region.to_owned())],
            password: None,
        }
    }

    fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parameters.push((name.to_owned(), value.into()));
        self
    }

    fn with_ids(mut self, ids: &[String]) -> Self {
        for (index, id) in ids.iter().enumerate() {
            self.parameters
                .push((format!("InstanceId.{}", index + 1), id.clone()));
        }
        self
    }

    /// DescribeInstances for up to 100 ids, one page.
    pub fn describe_instances(region: &str, ids: &[String], page: &Page, page_size: u32) -> Self {
        let ids_json = serde_json::to_string(ids).expect("a list of strings serializes");
        let request = Self::new("DescribeInstances", region).with("InstanceIds", ids_json);
        match page {
            Page::Number(number) => request
                .with("PageNumber", number.to_string())
                .with("PageSize", page_size.to_string()),
            Page::Token(token) => request
                .with("NextToken", token.clone())
                .with("MaxResults", page_size.to_string()),
        }
    }

    /// DescribeInstanceStatus for up to 100 ids, one page of up to 50.
    pub fn describe_instance_status(region: &str, ids: &[String], page_number: u32) -> Self {
        Self::new("DescribeInstanceStatus", region)
            .with_ids(ids)
            .with("PageNumber", page_number.to_string())
            .with("PageSize", MAX_STATUS_PAGE_SIZE.to_string())
    }

    /// ModifyInstanceAttribute setting the password.
    pub fn reset_password(region: &str, id: &str, password: &SecretString) -> Self {
        let mut request = Self::new("ModifyInstanceAttribute", region).with("InstanceId", id);
        request.password = Some(password.clone());
        request
    }

    /// RebootInstances or StartInstances for up to 100 ids, each handled on its own.
    pub fn restart(kind: RestartKind, region: &str, ids: &[String]) -> Self {
        Self::new(kind.action(), region)
            .with_ids(ids)
            .with("BatchOptimization", "SuccessFirst")
    }
}

/// The two ways passform restarts instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartKind {
    /// RebootInstances, for Running instances.
    Reboot,
    /// StartInstances, for Stopped instances.
    Start,
}

impl RestartKind {
    /// The batch operation's name.
    pub fn action(self) -> &'static str {
        match self {
            Self::Reboot => "RebootInstances",
            Self::Start => "StartInstances",
        }
    }

    /// Returns true if an instance in `status` shows that this restart has already happened
    /// (checked only after the answer to an earlier attempt was lost).
    pub fn evidently_happened(self, status: InstanceStatus) -> bool {
        match self {
            Self::Reboot => status == InstanceStatus::Starting,
            Self::Start => matches!(status, InstanceStatus::Starting | InstanceStatus::Running),
        }
    }
}

/// The body of an error answer.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// The error code.
    #[serde(rename = "Code", alias = "code", default)]
    pub code: String,
    /// The message.
    #[serde(rename = "Message", alias = "message", default)]
    pub message: String,
    /// The request id, for support.
    #[serde(rename = "RequestId", alias = "requestId", default)]
    pub request_id: String,
}

/// A response with nothing but a request id.
#[derive(Debug, Deserialize)]
pub struct Acknowledgement {}

/// DescribeInstances' answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstancesResponse {
    /// The instances on this page.
    pub instances: InstanceSet,
    /// How many match, over all pages (meaningless with token paging).
    #[serde(default)]
    pub total_count: Option<u64>,
    /// The token of the next page; empty or absent on the last.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// `{"Instance": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceSet {
    /// The instances.
    #[serde(default)]
    pub instance: Vec<WireInstance>,
}

/// One instance as DescribeInstances writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireInstance {
    /// The id.
    pub instance_id: String,
    /// The display name.
    #[serde(default)]
    pub instance_name: String,
    /// The status name.
    pub status: String,
    /// `linux` or `windows`.
    #[serde(rename = "OSType", default)]
    pub os_type: String,
    /// The region, when the service includes it.
    #[serde(default)]
    pub region_id: String,
    /// The creation time.
    #[serde(default)]
    pub creation_time: String,
    /// The last start time.
    #[serde(default)]
    pub start_time: String,
    /// The bound key pair, empty when none.
    #[serde(default)]
    pub key_pair_name: String,
    /// Locks on the instance.
    #[serde(default)]
    pub operation_locks: Option<OperationLocks>,
}

/// `{"LockReason": [{"LockReason": "security"}]}`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct OperationLocks {
    /// The locks.
    #[serde(default)]
    pub lock_reason: Vec<LockReason>,
}

/// One lock.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LockReason {
    /// `security`, `financial`, ...
    #[serde(default)]
    pub lock_reason: String,
}

/// A value in a response that passform does not know.
#[derive(Debug, thiserror::Error)]
#[error("instance {instance} has an unknown {field} `{value}`")]
pub struct UnknownValue {
    /// The instance.
    pub instance: String,
    /// The field.
    pub field: &'static str,
    /// The value.
    pub value: String,
}

impl WireInstance {
    /// The shared view of this instance; `region` is used when the answer omits it.
    pub fn into_live(self, region: &str) -> Result<LiveInstance, UnknownValue> {
        let unknown = |field, value: &str| UnknownValue {
            instance: self.instance_id.clone(),
            field,
            value: value.to_owned(),
        };
        let status = self
            .status
            .parse::<InstanceStatus>()
            .map_err(|_| unknown("Status", &self.status))?;
        let os_type = self
            .os_type
            .parse::<OsType>()
            .map_err(|_| unknown("OSType", &self.os_type))?;
        let locked_for_security = self.operation_locks.is_some_and(|locks| {
            locks
                .lock_reason
                .iter()
                .any(|lock| lock.lock_reason == "security")
        });
        Ok(LiveInstance {
            id: self.instance_id,
            region: if self.region_id.is_empty() {
                region.to_owned()
            } else {
                self.region_id
            },
            name: self.instance_name,
            status,
            os_type,
            creation_time: self.creation_time,
            start_time: Some(self.start_time).filter(|time| !time.is_empty()),
            key_pair_name: Some(self.key_pair_name).filter(|name| !name.is_empty()),
            locked_for_security,
        })
    }
}

/// DescribeInstanceStatus' answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstanceStatusResponse {
    /// The statuses on this page.
    pub instance_statuses: StatusSet,
    /// How many match, over all pages.
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// `{"InstanceStatus": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusSet {
    /// The statuses.
    #[serde(default)]
    pub instance_status: Vec<WireStatus>,
}

/// One instance's status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireStatus {
    /// The id.
    pub instance_id: String,
    /// The status name.
    pub status: String,
}

impl WireStatus {
    /// The id and its status.
    pub fn into_pair(self) -> Result<(String, InstanceStatus), UnknownValue> {
        match self.status.parse::<InstanceStatus>() {
            Ok(status) => Ok((self.instance_id, status)),
            Err(_) => Err(UnknownValue {
                instance: self.instance_id,
                field: "Status",
                value: self.status,
            }),
        }
    }
}

/// The answer of RebootInstances and StartInstances.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchResponse {
    /// One result per instance.
    pub instance_responses: BatchResults,
}

/// `{"InstanceResponse": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchResults {
    /// The results.
    #[serde(default)]
    pub instance_response: Vec<BatchResult>,
}

/// One instance's result in a batch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchResult {
    /// The id.
    pub instance_id: String,
    /// `"200"` on success, an error code otherwise.
    #[serde(default)]
    pub code: String,
    /// `success` or the error message.
    #[serde(default)]
    pub message: String,
    /// The status after the call.
    #[serde(default)]
    pub current_status: String,
}

impl BatchResult {
    /// `Ok` for code 200, the failure otherwise.
    pub fn outcome(&self) -> Result<(), ApiFailure> {
        if self.code == "200" {
            Ok(())
        } else {
            Err(ApiFailure {
                code: self.code.clone(),
                message: self.message.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_instances_answer_becomes_live_instances() {
        let body = r#"{"Instances":{"Instance":[{"InstanceId":"i-1","InstanceName":"web-1",
            "Status":"Running","OSType":"linux","KeyPairName":"","RegionId":"cn-hangzhou",
            "StartTime":"2024-05-01T12:00Z","CreationTime":"2024-01-01T00:00Z",
            "OperationLocks":{"LockReason":[{"LockReason":"security"}]}}]},
            "TotalCount":1,"PageNumber":1,"PageSize":100,"RequestId":"r"}"#;
        let response: DescribeInstancesResponse = serde_json::from_str(body).unwrap();
        let instance = response
            .instances
            .instance
            .into_iter()
            .next()
            .unwrap()
            .into_live("cn-hangzhou")
            .unwrap();
        assert_eq!(instance.status, InstanceStatus::Running);
        assert_eq!(instance.key_pair_name, None);
        assert_eq!(instance.start_time.as_deref(), Some("2024-05-01T12:00Z"));
        assert!(instance.locked_for_security);
    }

    #[test]
    fn an_unknown_status_is_an_error_naming_the_instance() {
        let wire = WireInstance {
            instance_id: "i-1".to_owned(),
            instance_name: String::new(),
            status: "Exploding".to_owned(),
            os_type: "linux".to_owned(),
            region_id: String::new(),
            creation_time: String::new(),
            start_time: String::new(),
            key_pair_name: String::new(),
            operation_locks: None,
        };
        let error = wire.into_live("cn-hangzhou").unwrap_err();
        assert_eq!(
            error.to_string(),
            "instance i-1 has an unknown Status `Exploding`"
        );
    }

    #[test]
    fn describe_instances_names_ids_as_a_json_array() {
        let ids = vec!["i-1".to_owned(), "i-2".to_owned()];
        let request = Request::describe_instances("cn-hangzhou", &ids, &Page::Number(2), 100);
        assert!(
            request
                .parameters
                .contains(&("InstanceIds".to_owned(), r#"["i-1","i-2"]"#.to_owned()))
        );
        assert!(
            request
                .parameters
                .contains(&("PageNumber".to_owned(), "2".to_owned()))
        );
    }

    #[test]
    fn restarts_are_batched_success_first_with_numbered_ids() {
        let ids = vec!["i-1".to_owned(), "i-2".to_owned()];
        let request = Request::restart(RestartKind::Reboot, "cn-hangzhou", &ids);
        assert_eq!(request.action, "RebootInstances");
        for expected in [
            ("InstanceId.1", "i-1"),
            ("InstanceId.2", "i-2"),
            ("BatchOptimization", "SuccessFirst"),
        ] {
            assert!(
                request
                    .parameters
                    .contains(&(expected.0.to_owned(), expected.1.to_owned()))
            );
        }
    }
}
