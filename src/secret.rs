//! Secrets in memory: passwords, the seed and secret keys.
//!
//! A `SecretString` prints as `(sensitive)` through `Debug` and `Display`, so a secret cannot
//! reach a log line or an error message by accident, and its bytes are zeroed when it is
//! dropped. Reading the value takes an explicit `expose_secret()`, which makes every place that
//! sends or prints a secret easy to find.

use std::fmt;

use zeroize::Zeroizing;

/// The text shown wherever a secret would otherwise be printed.
pub const MASK: &str = "(sensitive)";

/// A string that never prints and is zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a value that must not be printed.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself, for the few places that must send or derive from it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(MASK)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_as_sensitive_in_debug_and_display() {
        let secret = SecretString::from("Hunter2!Hunter2");
        assert_eq!(format!("{secret}"), MASK);
        assert_eq!(format!("{secret:?}"), MASK);
        assert_eq!(format!("{:?}", Some(&secret)), "Some((sensitive))");
        assert_eq!(secret.expose_secret(), "Hunter2!Hunter2");
    }
}
