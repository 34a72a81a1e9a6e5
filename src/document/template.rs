//! The document `passform init` writes: valid as it stands, with comments that teach the schema.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::derivation::Seed;

/// The plaintext of a new document for these recipients and this seed.
pub fn new_document(recipients: &[String], seed: &Seed) -> Zeroizing<String> {
    let recipients = recipients
        .iter()
        .map(|recipient| format!("  \"{recipient}\",\n"))
        .collect::<String>();
    let seed = seed.to_base64();
    // Written into room reserved up front, so that the text holding the seed is never moved
    // and no copy of it is left behind in freed memory.
    let mut text = Zeroizing::new(String::with_capacity(4096 + recipients.len()));
    write!(
        text,
        r#"# passform desired document, schema version 1 (docs/document.md describes every key).
# It is stored encrypted; change it with `passform edit`, check it with `passform validate`.
version = 1

# Who can decrypt this document: age recipients (age1...), SSH public keys (ssh-ed25519 ...,
# ssh-rsa ...) or age plugin recipients. `passform edit` and `passform rotate` re-encrypt to
# exactly this list, so add a teammate's recipient here to share the document.
recipients = [
{recipients}]

[secrets]
# 32 random bytes in base64. Every derived password and every fingerprint in the state comes
# from it: never change it unless you mean to rotate every derived password at once.
seed = "{seed}"

[defaults]
# Values for instances that do not set their own; uncomment to use.
# region = "cn-hangzhou"      # the instances' region
# restart = "auto"            # auto: reboot Running, start Stopped; running-only; never
# password_length = 20        # length of derived passwords, 8 to 30

# Declare one [[instance]] table per ECS instance, for example:
#
# [[instance]]
# id = "i-bp1f4xrzzsb3kf9gkmr1"
# region = "cn-hangzhou"      # optional when [defaults] sets region
# generation = 1              # raise it (or run `passform rotate ID`) to rotate the password
# password = "..."            # optional: a password of your own instead of a derived one
# restart = "never"           # optional: overrides the default restart policy
# wave = 1                    # optional: waves are applied in ascending order (default 1)
"#,
        seed = seed.expose_secret()
    )
    .expect("writing to a String cannot fail");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::model;

    #[test]
    fn the_new_document_is_valid_and_declares_no_instance() {
        let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        let text = new_document(&[recipient.to_owned()], &Seed::generate());
        let document = model::validate(&text).unwrap();
        assert_eq!(document.recipients, [recipient]);
        assert!(document.instances.is_empty());
        assert!(text.len() <= text.capacity() && text.capacity() < 4096 + 100);
    }
}
