//! The ECS API as passform speaks it: signing, credentials, endpoints, retries and the
//! live view of instances.
//!
//! Nothing here decides what to change; it reads and writes instances on request, never logs a
//! secret, and retries only what is safe to retry. [`Client`] is the entry point; the
//! submodules hold its parts: [`sign`] (both signature versions), [`credentials`] (the chain),
//! [`endpoint`], [`retry`], [`budget`] (the shared request rate), [`redact`] and [`wire`]
//! (typed requests and responses).

pub mod budget;
mod client;
pub mod credentials;
pub mod endpoint;
pub mod model;
pub mod redact;
pub mod retry;
pub mod sign;
pub mod wire;

pub use client::{Client, ClientOptions, MAX_IN_FLIGHT, SignatureVersion};
pub use model::{ApiFailure, FleetView, LiveInstance, RestartOutcome};

use crate::report::Hint;

/// Every way talking to ECS can fail.
#[derive(Debug, thiserror::Error)]
pub enum EcsError {
    /// No usable credentials.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    /// A refused endpoint or region.
    #[error(transparent)]
    Endpoint(#[from] endpoint::EndpointError),
    /// `--max-rps` is not a positive number.
    #[error("the request rate must be a positive number of requests per second, not {0}")]
    InvalidRate(f64),
    /// `PASSFORM_SIGNATURE_VERSION` names no known version.
    #[error("PASSFORM_SIGNATURE_VERSION is `{0}`, which is neither `v2` nor `v3`")]
    InvalidSignatureVersion(String),
    /// The HTTP client could not be built.
    #[error("could not set up the HTTPS client")]
    HttpClient(#[source] reqwest::Error),
    /// The service refused a call.
    #[error(
        "ECS refused {action} in {region}: {code}: {message} (HTTP {status}, request {request_id})"
    )]
    Api {
        /// The operation.
        action: &'static str,
        /// The region.
        region: String,
        /// The HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's message, without any echoed string to sign.
        message: String,
        /// The request id, for support.
        request_id: String,
    },
    /// No answer: connection refused or dropped, or a timeout.
    #[error("no answer from {endpoint} to {action} in {region}")]
    Transport {
        /// The operation.
        action: &'static str,
        /// The region.
        region: String,
        /// The endpoint, which never carries a secret.
        endpoint: String,
        /// Why (the URL is stripped from it).
        #[source]
        source: reqwest::Error,
    },
    /// An answer passform cannot read.
    #[error("ECS answered {action} in {region} with a body passform cannot read")]
    MalformedResponse {
        /// The operation.
        action: &'static str,
        /// The region.
        region: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An instance with a status or OS type passform does not know.
    #[error("ECS described an instance in {region} that passform cannot use")]
    UnknownValue {
        /// The region.
        region: String,
        /// What was unknown.
        #[source]
        source: wire::UnknownValue,
    },
}

impl EcsError {
    /// The API's error code, when the service answered with one.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The API's code and message, when the service answered with an error.
    pub fn api_failure(&self) -> Option<ApiFailure> {
        match self {
            Self::Api { code, message, .. } => Some(ApiFailure {
                code: code.clone(),
                message: message.clone(),
            }),
            _ => None,
        }
    }

    /// Returns true if the service throttled the call.
    pub fn is_throttling(&self) -> bool {
        self.api_code()
            .is_some_and(|code| code.starts_with("Throttling"))
    }

    /// Returns true if a change may or may not have been made: the request may have reached
    /// the service, but no answer says what it did.
    pub fn outcome_is_unknown(&self) -> bool {
        match self {
            Self::Transport { source, .. } => !source.is_connect(),
            Self::Api { code, status, .. } => {
                !self.is_throttling() && code != "ServiceUnavailable" && *status >= 500
            }
            _ => false,
        }
    }

    /// Why a retry may succeed, if it may: throttling, a passing server fault, or no answer.
    pub fn transient_cause(&self) -> Option<String> {
        match self {
            Self::Api { code, status, .. } => {
                let transient = code.starts_with("Throttling")
                    || matches!(
                        code.as_str(),
                        "ServiceUnavailable" | "InternalError" | "UnknownError"
                    )
                    || *status >= 500;
                transient.then(|| format!("{code} (HTTP {status})"))
            }
            // A certificate that is not trusted now is not trusted a second later either.
            Self::Transport { source, .. } if untrusted_certificate(source) => None,
            Self::Transport { source, .. } if source.is_connect() => {
                Some("connection failed".to_owned())
            }
            Self::Transport { source, .. } if source.is_timeout() => Some("timed out".to_owned()),
            Self::Transport { .. } => Some("connection lost".to_owned()),
            _ => None,
        }
    }
}

/// Returns true if the TLS handshake failed because the server's certificate is not trusted.
fn untrusted_certificate(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(mut current) = cause {
        // An I/O error hides the error it wraps from `source`, and the TLS layer's error comes
        // wrapped in two of them: look inside.
        while let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            current = inner;
        }
        if let Some(rustls::Error::InvalidCertificate(_)) = current.downcast_ref::<rustls::Error>()
        {
            return true;
        }
        cause = current.source();
    }
    false
}

impl Hint for EcsError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Credentials(error) => error.hint(),
            Self::Endpoint(error) => error.hint(),
            Self::InvalidRate(_) => {
                Some("give --max-rps a number above zero, such as 10".to_owned())
            }
            Self::InvalidSignatureVersion(_) => {
                Some("set PASSFORM_SIGNATURE_VERSION to v2 or v3, or unset it".to_owned())
            }
            Self::HttpClient(_) => None,
            Self::Api { code, .. } => api_hint(code).map(str::to_owned),
            Self::Transport { source, .. } if untrusted_certificate(source) => Some(
                "the endpoint's TLS certificate is not signed by an authority passform trusts \
                 (the built-in Mozilla roots and the system's); if a private authority signs \
                 it, as a TLS-inspecting proxy's does, name that authority's certificate in \
                 SSL_CERT_FILE"
                    .to_owned(),
            ),
            Self::Transport { .. } => Some(
                "check --endpoint / PASSFORM_ENDPOINT and the network; the call was retried \
                 before giving up"
                    .to_owned(),
            ),
            Self::MalformedResponse { .. } | Self::UnknownValue { .. } => Some(
                "check that --endpoint points at an ECS API; run with -vv to see the exchange"
                    .to_owned(),
            ),
        }
    }
}

/// What a user can do about the API's error codes.
fn api_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            "the access key id is unknown: check ALIBABA_CLOUD_ACCESS_KEY_ID or the profile"
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" => {
            "the access key secret does not match the id: check ALIBABA_CLOUD_ACCESS_KEY_SECRET \
             or the profile"
        }
        "Forbidden.AccessKeyDisabled" => "the access key is disabled: enable it or use another",
        "Forbidden.RAM" | "Forbidden" => {
            "grant the key's RAM user the ECS permissions passform needs (DescribeInstances, \
             ModifyInstanceAttribute, RebootInstances, StartInstances)"
        }
        "InvalidTimeStamp.Expired" | "IllegalTimestamp" => {
            "the local clock is off by more than 15 minutes: synchronise it"
        }
        "InvalidSecurityToken.Expired" | "InvalidSecurityToken.Malformed" => {
            "the STS security token is expired or malformed: fetch fresh temporary credentials"
        }
        code if code.starts_with("Throttling") => {
            "the service kept throttling: lower --max-rps or try again later"
        }
        "ServiceUnavailable" | "InternalError" | "UnknownError" => {
            "the service kept failing: try again later"
        }
        "IncorrectInstanceStatus" => "wait until the instance is Running or Stopped, then retry",
        "InstanceLockedForSecurity" => {
            "the instance is locked for security: resolve the lock in the ECS console first"
        }
        "InvalidInstanceId.NotFound" => {
            "the instance does not exist in that region: check the id and region in the document"
        }
        "InvalidPassword.Malformed" | "InvalidHostPassword.Malformed" => {
            "the password breaks the ECS policy: 8 to 30 characters, three of upper, lower, \
             digits and specials"
        }
        _ => return None,
    })
}

impl retry::Retryable for EcsError {
    fn retry_cause(&self) -> Option<String> {
        self.transient_cause()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, status: u16) -> EcsError {
        EcsError::Api {
            action: "RebootInstances",
            region: "cn-hangzhou".to_owned(),
            status,
            code: code.to_owned(),
            message: "message".to_owned(),
            request_id: "request".to_owned(),
        }
    }

    #[test]
    fn throttling_and_unavailability_are_retried_and_known_to_have_changed_nothing() {
        for (code, status) in [
            ("Throttling", 400),
            ("Throttling.User", 400),
            ("Throttling.Api", 400),
            ("ServiceUnavailable", 503),
        ] {
            let error = api(code, status);
            assert!(error.transient_cause().is_some(), "{code}");
            assert!(!error.outcome_is_unknown(), "{code}");
        }
    }

    #[test]
    fn server_faults_are_retried_but_leave_a_change_unknown() {
        for (code, status) in [
            ("InternalError", 500),
            ("HTTP502", 502),
            ("UnknownError", 500),
        ] {
            let error = api(code, status);
            assert!(error.transient_cause().is_some(), "{code}");
            assert!(error.outcome_is_unknown(), "{code}");
        }
    }

    #[test]
    fn refusals_are_final_and_carry_a_hint() {
        for (code, status) in [
            ("Forbidden.RAM", 403),
            ("IncorrectInstanceStatus", 403),
            ("InvalidAccessKeyId.NotFound", 404),
            ("SignatureDoesNotMatch", 400),
        ] {
            let error = api(code, status);
            assert!(error.transient_cause().is_none(), "{code}");
            assert!(!error.outcome_is_unknown(), "{code}");
            assert!(error.hint().is_some(), "{code}");
        }
    }

    #[test]
    fn the_api_failure_keeps_the_code_and_message() {
        let failure = api("IncorrectInstanceStatus", 403).api_failure().unwrap();
        assert_eq!(failure.code, "IncorrectInstanceStatus");
        assert_eq!(failure.message, "message");
    }
}
