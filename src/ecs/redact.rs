//! Views of requests and answers that are safe to log.
//!
//! Request logs (trace level) show every parameter and header, with the values of those that
//! carry a secret replaced by `(sensitive)`. Error messages from the service are cut before a
//! `server string to sign is:` tail, which would echo every parameter, the password included.

use std::fmt;

use crate::secret::MASK;

/// Parameters whose values are never shown.
pub const SECRET_PARAMETERS: [&str; 4] =
    ["Password", "Signature", "SecurityToken", "AccessKeySecret"];

/// Headers whose values are never shown (compared case-insensitively).
pub const SECRET_HEADERS: [&str; 2] = ["authorization", "x-acs-security-token"];

/// Parameters as `name=value` pairs joined by `&`, secrets masked.
pub struct Parameters<'a>(pub &'a [(&'a str, &'a str)]);

impl fmt::Display for Parameters<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (name, value)) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("&")?;
            }
            let shown = if SECRET_PARAMETERS.contains(name) {
                MASK
            } else {
                value
            };
            write!(formatter, "{name}={shown}")?;
        }
        Ok(())
    }
}

/// Headers as `name: value` pairs joined by `, `, secrets masked.
pub struct Headers<'a>(pub &'a [(&'a str, &'a str)]);

impl fmt::Display for Headers<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (name, value)) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(", ")?;
            }
            let secret = SECRET_HEADERS
                .iter()
                .any(|secret| secret.eq_ignore_ascii_case(name));
            write!(formatter, "{name}: {}", if secret { MASK } else { value })?;
        }
        Ok(())
    }
}

/// The marker after which a signature error echoes the whole request.
const STRING_TO_SIGN_MARKER: &str = "server string to sign is:";

/// A service message with any echoed string to sign removed.
pub fn service_message(message: &str) -> String {
    match message.find(STRING_TO_SIGN_MARKER) {
        Some(position) => format!("{}(string to sign withheld)", &message[..position]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameters_are_masked_and_others_shown() {
        let parameters = [
            ("Action", "ModifyInstanceAttribute"),
            ("Password", "Hunter2!Hunter2"),
            ("Signature", "abc="),
            ("SecurityToken", "token"),
            ("InstanceId", "i-1"),
        ];
        let shown = Parameters(&parameters).to_string();
        assert_eq!(
            shown,
            "Action=ModifyInstanceAttribute&Password=(sensitive)&Signature=(sensitive)&\
             SecurityToken=(sensitive)&InstanceId=i-1"
        );
    }

    #[test]
    fn secret_headers_are_masked_whatever_their_case() {
        let headers = [
            (
                "Authorization",
                "ACS3-HMAC-SHA256 Credential=id,Signature=ff",
            ),
            ("x-acs-security-token", "token"),
            ("x-acs-action", "RebootInstances"),
        ];
        assert_eq!(
            Headers(&headers).to_string(),
            "Authorization: (sensitive), x-acs-security-token: (sensitive), \
             x-acs-action: RebootInstances"
        );
    }

    #[test]
    fn an_echoed_string_to_sign_is_cut_from_service_messages() {
        let message = "Specified signature is not matched with our calculation. server string \
                       to sign is:POST&%2F&Password%3DHunter2";
        let shown = service_message(message);
        assert!(!shown.contains("Hunter2"));
        assert!(shown.starts_with("Specified signature is not matched"));
        assert_eq!(service_message("plain"), "plain");
    }
}
