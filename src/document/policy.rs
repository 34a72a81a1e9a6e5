//! The ECS password policy, in one place: validation of explicit passwords and the derivation
//! of new ones both answer to it.
//!
//! ECS accepts 8 to 30 characters with at least three of four classes (upper case, lower case,
//! digits, specials from a fixed set), and refuses a Windows password that starts with `/`.
//! The document cannot know an instance's OS type, so a document password may not start with
//! `/` at all.

/// The shortest password ECS accepts.
pub const MIN_LENGTH: usize = 8;
/// The longest password ECS accepts.
pub const MAX_LENGTH: usize = 30;
/// The special characters ECS accepts in a password.
pub const SPECIALS: &str = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/";

/// Why a password breaks the policy. Each reason describes the password without quoting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Fewer than [`MIN_LENGTH`] characters.
    TooShort {
        /// The password's length in characters.
        length: usize,
    },
    /// More than [`MAX_LENGTH`] characters.
    TooLong {
        /// The password's length in characters.
        length: usize,
    },
    /// A character outside letters, digits and [`SPECIALS`] (a space, a non-ASCII letter).
    ForbiddenCharacter {
        /// The 1-based position of the first such character.
        position: usize,
    },
    /// Fewer than three of the four classes.
    TooFewClasses {
        /// How many classes the password uses.
        classes: usize,
    },
    /// Starts with `/`, which Windows instances refuse.
    LeadingSlash,
}

impl Violation {
    /// A sentence describing the violation, which never contains the password.
    pub fn describe(self) -> String {
        match self {
            Self::TooShort { length } => {
                format!("the password has {length} characters; ECS needs at least {MIN_LENGTH}")
            }
            Self::TooLong { length } => {
                format!("the password has {length} characters; ECS accepts at most {MAX_LENGTH}")
            }
            Self::ForbiddenCharacter { position } => format!(
                "character {position} of the password is not a letter, a digit or one of \
                 {SPECIALS}"
            ),
            Self::TooFewClasses { classes } => format!(
                "the password uses {classes} of the four character classes (upper case, lower \
                 case, digits, specials); ECS needs three"
            ),
            Self::LeadingSlash => {
                "the password starts with `/`, which Windows instances refuse".to_owned()
            }
        }
    }
}

/// The character classes a policy-compliant password draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    Special,
}

fn class_of(character: char) -> Option<Class> {
    match character {
        'A'..='Z' => Some(Class::Upper),
        'a'..='z' => Some(Class::Lower),
        '0'..='9' => Some(Class::Digit),
        _ if SPECIALS.contains(character) => Some(Class::Special),
        _ => None,
    }
}

/// Checks a password against the policy, returning the first rule it breaks.
pub fn check(password: &str) -> Result<(), Violation> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Violation::TooShort { length });
    }
    if length > MAX_LENGTH {
        return Err(Violation::TooLong { length });
    }
    let mut seen = [false; 4];
    for (index, character) in password.chars().enumerate() {
        let class = class_of(character).ok_or(Violation::ForbiddenCharacter {
            position: index + 1,
        })?;
        seen[class as usize] = true;
    }
    let classes = seen.iter().filter(|seen| **seen).count();
    if classes < 3 {
        return Err(Violation::TooFewClasses { classes });
    }
    if password.starts_with('/') {
        return Err(Violation::LeadingSlash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_three_classes_within_the_length_limits() {
        assert_eq!(check("Abcdefg1"), Ok(()));
        assert_eq!(check("abcdef1!"), Ok(()));
        let thirty = "Ab1!".repeat(8)[..30].to_owned();
        assert_eq!(check(&thirty), Ok(()));
        assert_eq!(
            check(&format!("{thirty}x")),
            Err(Violation::TooLong { length: 31 })
        );
    }

    #[test]
    fn rejects_short_weak_foreign_and_slash_led_passwords() {
        assert_eq!(check("Ab1!"), Err(Violation::TooShort { length: 4 }));
        assert_eq!(
            check("password1"),
            Err(Violation::TooFewClasses { classes: 2 })
        );
        assert_eq!(
            check("Pass word1"),
            Err(Violation::ForbiddenCharacter { position: 5 })
        );
        assert_eq!(
            check("Pässword1"),
            Err(Violation::ForbiddenCharacter { position: 2 })
        );
        assert_eq!(check("/Password1"), Err(Violation::LeadingSlash));
    }

    #[test]
    fn every_listed_special_counts_as_a_special() {
        for special in SPECIALS.chars() {
            assert_eq!(class_of(special), Some(Class::Special), "{special}");
        }
        assert_eq!(SPECIALS.chars().count(), 30);
    }

    #[test]
    fn violations_never_quote_the_password() {
        let password = "pw d";
        let violation = check(password).unwrap_err();
        assert!(!violation.describe().contains(password));
    }
}
