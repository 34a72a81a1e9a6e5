//! The answers the emulator gives: API errors with their documented codes and HTTP statuses,
//! and the JSON error body (`RequestId`, `HostId`, `Code`, `Message`, `Recommend`).
//!
//! Success bodies are built by the operations; this module only adds the `RequestId`.

use rand::Rng;
use serde_json::{Value, json};

/// An error the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The API's error code, such as `IncorrectInstanceStatus`.
    pub code: String,
    /// The API's message.
    pub message: String,
}

/// Documented HTTP statuses of the error codes the emulator knows, for fault injection.
const STATUSES: &[(&str, u16)] = &[
    ("MissingParameter", 400),
    ("InvalidParameter", 400),
    ("Throttling", 400),
    ("Throttling.User", 400),
    ("Throttling.Api", 400),
    ("SignatureDoesNotMatch", 400),
    ("SignatureNonceUsed", 400),
    ("IncompleteSignature", 400),
    ("InvalidTimeStamp.Expired", 400),
    ("InvalidTimeStamp.Format", 400),
    ("InvalidAccessKeyId.NotFound", 404),
    ("InvalidInstanceId.NotFound", 404),
    ("IncorrectInstanceStatus", 403),
    ("InstanceLockedForSecurity", 403),
    ("Forbidden.RAM", 403),
    ("OperationConflict", 409),
    ("InternalError", 500),
    ("UnknownError", 500),
    ("ServiceUnavailable", 503),
];

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: u16, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// The error a fault rule injects: its documented status, or 400 for a code not listed.
    pub fn injected(code: &str) -> ApiError {
        let status = STATUSES
            .iter()
            .find(|(known, _)| *known == code)
            .map_or(400, |(_, status)| *status);
        ApiError::new(
            status,
            code,
            "This error was injected by the emulator's fault rules.",
        )
    }

    /// `MissingParameter` naming the parameter.
    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::new(
            400,
            "MissingParameter",
            &format!(
                "The input parameter \"{name}\" that is mandatory for processing this request \
                 is not supplied."
            ),
        )
    }

    /// `InvalidParameter` with a reason.
    pub fn invalid_parameter(reason: &str) -> ApiError {
        ApiError::new(
            400,
            "InvalidParameter",
            &format!("The specified parameter is not valid: {reason}."),
        )
    }

    /// `InvalidParameter` naming the parameter.
    pub fn invalid_named_parameter(name: &str) -> ApiError {
        ApiError::new(
            400,
            "InvalidParameter",
            &format!("The specified parameter \"{name}\" is not valid."),
        )
    }

    /// `InvalidInstanceId.NotFound`.
    pub fn instance_not_found() -> ApiError {
        ApiError::new(
            404,
            "InvalidInstanceId.NotFound",
            "The specified InstanceId does not exist.",
        )
    }

    /// `IncorrectInstanceStatus`.
    pub fn incorrect_status() -> ApiError {
        ApiError::new(
            403,
            "IncorrectInstanceStatus",
            "The current status of the resource does not support this operation.",
        )
    }

    /// `InstanceLockedForSecurity`.
    pub fn locked_for_security() -> ApiError {
        ApiError::new(
            403,
            "InstanceLockedForSecurity",
            "The specified operation is denied as your instance is locked for security reasons.",
        )
    }

    /// `Throttling`.
    pub fn throttling() -> ApiError {
        ApiError::new(
            400,
            "Throttling",
            "You have made too many requests within a short time; your request is denied due \
             to request throttling.",
        )
    }

    /// `DryRunOperation`: the checks passed and nothing was done.
    pub fn dry_run_passed() -> ApiError {
        ApiError::new(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        )
    }

    /// The JSON error body.
    pub fn body(&self, request_id: &str, host: &str) -> Value {
        json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": self.code,
            "Message": self.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={request_id}",
                self.code
            ),
        })
    }
}

/// A fresh request id in the service's shape (upper-case hex groups 8-4-4-4-12).
pub fn request_id() -> String {
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_carries_every_documented_field() {
        let body = ApiError::incorrect_status().body("REQ", "ecs.aliyuncs.com");
        assert_eq!(body["Code"], "IncorrectInstanceStatus");
        assert_eq!(body["RequestId"], "REQ");
        assert_eq!(body["HostId"], "ecs.aliyuncs.com");
        assert!(body["Message"].as_str().unwrap().contains("status"));
        assert!(
            body["Recommend"]
                .as_str()
                .unwrap()
                .contains("IncorrectInstanceStatus")
        );
    }

    #[test]
    fn injected_errors_answer_their_documented_status() {
        assert_eq!(ApiError::injected("ServiceUnavailable").status, 503);
        assert_eq!(ApiError::injected("Throttling").status, 400);
        assert_eq!(ApiError::injected("InternalError").status, 500);
    }

    #[test]
    fn request_ids_look_like_the_service_s() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
