//! Passwords, fingerprints and digests derived from the document's seed.
//!
//! The algorithm is versioned (`v1`) and written down in docs/document.md with test vectors, so
//! that anyone holding the seed can reproduce a password without passform. Every output is an
//! HMAC-SHA256 under the 32-byte seed with a distinct label, so a password, a fingerprint key and
//! a digest key can never be confused with one another. Derived passwords meet the policy in
//! [`super::policy`] by construction.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::secret::SecretString;

type HmacSha256 = Hmac<Sha256>;

/// The number of bytes in a seed.
pub const SEED_LENGTH: usize = 32;
/// The password length used when the document does not set `defaults.password_length`.
pub const DEFAULT_PASSWORD_LENGTH: usize = 20;

/// Upper-case letters used in derived passwords (no `I` or `O`, which read like `1` and `0`).
pub const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Lower-case letters used in derived passwords (no `l`).
pub const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
/// Digits used in derived passwords (no `0` or `1`).
pub const DIGITS: &[u8] = b"23456789";
/// Specials used in derived passwords: a subset of the policy's that needs no quoting in most
/// shells and forms, and never `/`.
pub const SPECIALS: &[u8] = b"!#%*+-=?@^_";

/// The 32 secret bytes every derived value comes from. Zeroed on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(Zeroizing<[u8; SEED_LENGTH]>);

impl Seed {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; SEED_LENGTH]) -> Seed {
        Seed(Zeroizing::new(bytes))
    }

    /// A seed from exactly 32 bytes, copied straight into zeroizing memory.
    pub fn from_slice(bytes: &[u8]) -> Option<Seed> {
        if bytes.len() != SEED_LENGTH {
            return None;
        }
        let mut seed = Seed(Zeroizing::new([0; SEED_LENGTH]));
        seed.0.copy_from_slice(bytes);
        Some(seed)
    }

    /// A fresh seed from the operating system's random source.
    pub fn generate() -> Seed {
        let mut bytes = [0u8; SEED_LENGTH];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let seed = Seed::new(bytes);
        bytes.zeroize();
        seed
    }

    /// The seed in standard base64, as the document stores it.
    pub fn to_base64(&self) -> SecretString {
        use base64::Engine as _;
        SecretString::new(base64::engine::general_purpose::STANDARD.encode(*self.0))
    }

    /// An HMAC-SHA256 keyed with the seed over `label`, for keys derived from the seed.
    fn derive_key(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut mac = HmacSha256::new_from_slice(&*self.0).expect("HMAC accepts any key length");
        mac.update(label);
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(crate::secret::MASK)
    }
}

/// The message that names one derived password: label, region, id, generation and length,
/// each followed by a zero byte so that no two inputs share a message.
fn password_message(region: &str, id: &str, generation: u64, length: usize) -> Vec<u8> {
    let mut message = Vec::new();
    for part in [
        "passform/v1/password",
        region,
        id,
        &generation.to_string(),
        &length.to_string(),
    ] {
        message.extend_from_slice(part.as_bytes());
        message.push(0);
    }
    message
}

/// An endless stream of bytes: HMAC-SHA256(seed, message || counter) for counter 0, 1, 2, ...
/// (counter as 4 big-endian bytes), concatenated.
struct ByteStream<'a> {
    seed: &'a Seed,
    message: Vec<u8>,
    counter: u32,
    block: Zeroizing<[u8; 32]>,
    used: usize,
}

impl<'a> ByteStream<'a> {
    fn new(seed: &'a Seed, message: Vec<u8>) -> Self {
        ByteStream {
            seed,
            message,
            counter: 0,
            block: Zeroizing::new([0; 32]),
            used: 32,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            let mut mac =
                HmacSha256::new_from_slice(&*self.seed.0).expect("HMAC accepts any key length");
            mac.update(&self.message);
            mac.update(&self.counter.to_be_bytes());
            *self.block = mac.finalize().into_bytes().into();
            self.counter += 1;
            self.used = 0;
        }
        let byte = self.block[self.used];
        self.used += 1;
        byte
    }

    /// A uniform index below `bound` (at most 256): bytes at or above the largest multiple of
    /// `bound` are skipped, so no index is more likely than another.
    fn index_below(&mut self, bound: usize) -> usize {
        let limit = 256 - 256 % bound;
        loop {
            let byte = usize::from(self.next_byte());
            if byte < limit {
                return byte % bound;
            }
        }
    }

    fn pick(&mut self, alphabet: &[u8]) -> u8 {
        alphabet[self.index_below(alphabet.len())]
    }
}

/// The derived password of one instance generation (algorithm v1, docs/document.md).
///
/// One character from each class, then the rest from all classes together, then a
/// Fisher-Yates shuffle driven by the same stream: the password always holds all four classes,
/// and never a `/`. `length` must lie within the policy's limits.
pub fn derive_password(
    seed: &Seed,
    region: &str,
    id: &str,
    generation: u64,
    length: usize,
) -> SecretString {
    let mut stream = ByteStream::new(seed, password_message(region, id, generation, length));
    let everything: Vec<u8> = [UPPER, LOWER, DIGITS, SPECIALS].concat();
    let mut characters = Zeroizing::new(Vec::with_capacity(length));
    for alphabet in [UPPER, LOWER, DIGITS, SPECIALS] {
        characters.push(stream.pick(alphabet));
    }
    while characters.len() < length {
        characters.push(stream.pick(&everything));
    }
    for position in (1..characters.len()).rev() {
        let other = stream.index_below(position + 1);
        characters.swap(position, other);
    }
    let text: String = characters.iter().map(|byte| char::from(*byte)).collect();
    SecretString::new(text)
}

/// A fingerprint of a password: `v1:` and the hex HMAC-SHA256 of the password under a key
/// derived from the seed. Equal passwords give equal fingerprints; without the seed, a
/// fingerprint says nothing about the password.
pub fn fingerprint(seed: &Seed, password: &SecretString) -> String {
    let key = seed.derive_key(b"passform/v1/fingerprint-key");
    let mut mac = HmacSha256::new_from_slice(&*key).expect("HMAC accepts any key length");
    mac.update(password.expose_secret().as_bytes());
    format!("v1:{}", hex(&mac.finalize().into_bytes()))
}

/// A digest of the plaintext document: `v1:` and the hex HMAC-SHA256 of its bytes under a key
/// derived from the seed. It changes whenever a byte of the document changes, and reveals
/// nothing about a document whose seed is unknown.
pub fn digest(seed: &Seed, plaintext: &str) -> String {
    let key = seed.derive_key(b"passform/v1/digest-key");
    let mut mac = HmacSha256::new_from_slice(&*key).expect("HMAC accepts any key length");
    mac.update(plaintext.as_bytes());
    format!("v1:{}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::policy;

    fn counting_seed() -> Seed {
        let mut bytes = [0u8; SEED_LENGTH];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = index as u8;
        }
        Seed::new(bytes)
    }

    #[test]
    fn same_inputs_give_the_same_password() {
        let seed = counting_seed();
        let first = derive_password(&seed, "cn-hangzhou", "i-a", 1, 20);
        let again = derive_password(&seed, "cn-hangzhou", "i-a", 1, 20);
        assert_eq!(first, again);
    }

    #[test]
    fn region_id_generation_and_length_each_change_the_password() {
        let seed = counting_seed();
        let base = derive_password(&seed, "cn-hangzhou", "i-a", 1, 20);
        assert_ne!(base, derive_password(&seed, "cn-beijing", "i-a", 1, 20));
        assert_ne!(base, derive_password(&seed, "cn-hangzhou", "i-b", 1, 20));
        assert_ne!(base, derive_password(&seed, "cn-hangzhou", "i-a", 2, 20));
        let shorter = derive_password(&seed, "cn-hangzhou", "i-a", 1, 19);
        assert!(!base.expose_secret().starts_with(shorter.expose_secret()));
    }

    #[test]
    fn derived_passwords_have_the_requested_length_and_meet_the_policy() {
        let seed = counting_seed();
        for length in policy::MIN_LENGTH..=policy::MAX_LENGTH {
            let password = derive_password(&seed, "cn-hangzhou", "i-a", 7, length);
            assert_eq!(password.expose_secret().len(), length);
            assert_eq!(policy::check(password.expose_secret()), Ok(()));
        }
    }

    #[test]
    fn derived_specials_are_allowed_by_the_policy_and_exclude_the_slash() {
        for special in SPECIALS {
            assert!(policy::SPECIALS.contains(char::from(*special)));
            assert_ne!(*special, b'/');
        }
    }

    #[test]
    fn fingerprints_match_for_equal_passwords_and_hide_them() {
        let seed = counting_seed();
        let password = SecretString::from("Initial#Pass1");
        let print = fingerprint(&seed, &password);
        assert_eq!(
            print,
            fingerprint(&seed, &SecretString::from("Initial#Pass1"))
        );
        assert_ne!(
            print,
            fingerprint(&seed, &SecretString::from("Initial#Pass2"))
        );
        assert_ne!(print, fingerprint(&Seed::new([9; 32]), &password));
        assert!(!print.contains("Initial"));
        assert_eq!(print.len(), 3 + 64);
    }

    #[test]
    fn digests_change_with_every_byte() {
        let seed = counting_seed();
        assert_ne!(
            digest(&seed, "version = 1\n"),
            digest(&seed, "version = 1 \n")
        );
        assert_eq!(digest(&seed, "x"), digest(&seed, "x"));
    }

    #[test]
    fn seeds_never_print() {
        assert_eq!(format!("{:?}", counting_seed()), crate::secret::MASK);
    }
}
