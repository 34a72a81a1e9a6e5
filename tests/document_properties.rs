//! Properties of derivation that must hold for every seed, instance, generation and length.

use passform::document::derivation::{Seed, derive_password};
use passform::document::policy;
use proptest::prelude::*;

proptest! {
    #[test]
    fn derived_passwords_always_meet_the_policy(
        seed in any::<[u8; 32]>(),
        region in prop_oneof!["[a-z]{2}-[a-z]{3,12}(-[0-9])?", "\\PC{1,40}"],
        id in prop_oneof!["i-[a-z0-9]{10,22}", "\\PC{1,40}"],
        generation in 1u64..=u64::MAX,
        length in policy::MIN_LENGTH..=policy::MAX_LENGTH,
    ) {
        let password = derive_password(&Seed::new(seed), &region, &id, generation, length);
        let text = password.expose_secret();
        prop_assert_eq!(policy::check(text), Ok(()));
        prop_assert_eq!(text.chars().count(), length);
        prop_assert!(!text.contains('/'));
        prop_assert!(text.chars().any(|c| c.is_ascii_uppercase()));
        prop_assert!(text.chars().any(|c| c.is_ascii_lowercase()));
        prop_assert!(text.chars().any(|c| c.is_ascii_digit()));
        prop_assert!(text.chars().any(|c| !c.is_ascii_alphanumeric()));
    }

    #[test]
    fn a_raised_generation_gives_another_password(
        seed in any::<[u8; 32]>(),
        generation in 1u64..u64::MAX,
    ) {
        let seed = Seed::new(seed);
        let before = derive_password(&seed, "cn-hangzhou", "i-a", generation, 20);
        let after = derive_password(&seed, "cn-hangzhou", "i-a", generation + 1, 20);
        prop_assert_ne!(before, after);
    }
}

const DOCUMENT: &str = "version = 1\n\
    recipients = [\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\"]\n\
    [secrets]\nseed = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n\
    [[instance]]\nid = \"i-a\"\nregion = \"cn-hangzhou\"\ngeneration = 1\n";

proptest! {
    #[test]
    fn an_explicit_password_is_accepted_exactly_when_the_policy_allows_it_and_never_echoed(
        password in "[ -!#-\\[\\]-~]{1,40}",
    ) {
        let text = format!("{DOCUMENT}password = \"{password}\"\n");
        let outcome = passform::document::model::validate(&text);
        prop_assert_eq!(outcome.is_ok(), policy::check(&password).is_ok());
        if let Err(problems) = outcome {
            prop_assert_eq!(problems.len(), 1);
            let shown = format!("{problems:?}");
            if password.len() >= 6 {
                prop_assert!(!shown.contains(&password));
            }
        }
    }
}
