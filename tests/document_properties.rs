//! Properties of derivation that must hold for every seed, instance, generation and length.

use passform::document::derivation::{Seed, derive_password};
use passform::document::policy;
use proptest::prelude::*;

proptest! {
    #[test]
    fn derived_passwords_always_meet_the_policy(
        seed in any::<[u8; 32]>(),
        region in "[a-z]{2}-[a-z]{3,12}(-[0-9])?",
        id in "i-[a-z0-9]{10,22}",
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
