//! The validated document: the model every other module uses, and the checks that build it.
//!
//! [`validate`] turns TOML text into a [`Document`] or into every [`Problem`] it can find.
//! It checks only what the document alone can tell. Two rules of DESIGN.md compare the
//! document with the state (a generation lower than the applied one, an explicit password that
//! changed while its generation did not); the planner checks those, since it holds both.

use std::collections::BTreeMap;
use std::ops::Range;

use base64::Engine as _;
use toml::Spanned;

use super::derivation::{self, DEFAULT_PASSWORD_LENGTH, SEED_LENGTH, Seed};
use super::encryption;
use super::error::{LineStarts, Problem};
use super::policy;
use super::raw::{self, RawDefaults, RawDocument, RawInstance};
use crate::secret::SecretString;

/// The only schema version this passform reads.
pub const SCHEMA_VERSION: i64 = 1;
/// The wave of an instance that names none.
pub const DEFAULT_WAVE: u32 = 1;

/// How an instance is restarted so that a new password takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Reboot Running instances and start Stopped ones.
    Auto,
    /// Reboot Running instances; Stopped ones get the password at their next start.
    RunningOnly,
    /// Restart nothing.
    Never,
}

impl RestartPolicy {
    /// The policy named as in the document, if the name is one.
    pub fn from_name(name: &str) -> Option<RestartPolicy> {
        match name {
            "auto" => Some(Self::Auto),
            "running-only" => Some(Self::RunningOnly),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

/// One instance as the document declares it, after validation.
#[derive(Debug, Clone)]
pub struct DeclaredInstance {
    /// The instance id.
    pub id: String,
    /// Its region (the instance's own, or the default).
    pub region: String,
    /// The password generation; raising it rotates the password.
    pub generation: u64,
    /// How to restart it after a reset.
    pub restart: RestartPolicy,
    /// The wave it is applied in; waves run in ascending order.
    pub wave: u32,
    /// A password the user wrote down, instead of a derived one.
    pub explicit_password: Option<SecretString>,
}

/// The validated desired document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Who can decrypt the document; edits re-encrypt to these.
    pub recipients: Vec<String>,
    /// The declared instances, in document order.
    pub instances: Vec<DeclaredInstance>,
    seed: Seed,
    password_length: usize,
}

impl Document {
    /// The declared instance with this id.
    pub fn instance(&self, id: &str) -> Option<&DeclaredInstance> {
        self.instances.iter().find(|instance| instance.id == id)
    }

    /// The password this instance should have: the explicit one, or one derived from the seed.
    pub fn password(&self, instance: &DeclaredInstance) -> SecretString {
        match &instance.explicit_password {
            Some(password) => password.clone(),
            None => derivation::derive_password(
                &self.seed,
                &instance.region,
                &instance.id,
                instance.generation,
                self.password_length,
            ),
        }
    }

    /// A fingerprint of a password that reveals nothing without the seed.
    pub fn fingerprint(&self, password: &SecretString) -> String {
        derivation::fingerprint(&self.seed, password)
    }

    /// The length of derived passwords.
    pub fn password_length(&self) -> usize {
        self.password_length
    }

    /// A digest of this document's plaintext, keyed by its seed.
    pub(crate) fn digest(&self, plaintext: &str) -> String {
        derivation::digest(&self.seed, plaintext)
    }
}

/// Checks TOML text against schema v1 and builds the document, or lists every problem found.
pub fn validate(text: &str) -> Result<Document, Vec<Problem>> {
    let parsed = raw::parse(text)?;
    let mut checker = Checker {
        text,
        lines: None,
        problems: Vec::new(),
    };
    let document = checker.document(parsed.document);
    // A wrongly typed value was read as absent; its type problem says more than "missing".
    let wrongly_typed = |problem: &Problem| {
        parsed
            .wrong_types
            .iter()
            .any(|wrong| wrong.key == problem.key)
    };
    let mut problems = parsed.unknown_keys;
    problems.extend(
        checker
            .problems
            .drain(..)
            .filter(|problem| !wrongly_typed(problem)),
    );
    problems.extend(parsed.wrong_types);
    match document {
        Some(document) if problems.is_empty() => Ok(document),
        _ => {
            problems.sort_by_key(|problem| (problem.line, problem.column));
            Err(problems)
        }
    }
}

/// Collects problems while building the model.
struct Checker<'a> {
    text: &'a str,
    /// Found at the first problem, so that a document with many problems is still located in
    /// linear time, and a valid one never pays for it.
    lines: Option<LineStarts>,
    problems: Vec<Problem>,
}

/// What `[defaults]` resolves to.
struct Defaults {
    region: Option<String>,
    restart: RestartPolicy,
    password_length: usize,
}

impl Checker<'_> {
    fn problem(&mut self, span: Range<usize>, key: &str, message: String, hint: &str) {
        let (line, column) = self.line_and_column(span.start);
        self.problems.push(Problem {
            line,
            column,
            key: key.to_owned(),
            message,
            hint: hint.to_owned(),
        });
    }

    fn line_and_column(&mut self, offset: usize) -> (usize, usize) {
        let text = self.text;
        self.lines
            .get_or_insert_with(|| LineStarts::of(text))
            .line_and_column(text, offset)
    }

    fn document(&mut self, raw: RawDocument) -> Option<Document> {
        self.version(raw.version);
        let recipients = self.recipients(raw.recipients);
        let seed = self.seed(raw.secrets);
        let defaults = self.defaults(raw.defaults);
        let instances = self.instances(raw.instance, &defaults);
        Some(Document {
            recipients,
            instances,
            seed: seed?,
            password_length: defaults.password_length,
        })
    }

    fn version(&mut self, version: Option<Spanned<i64>>) {
        match version {
            None => self.problem(
                0..0,
                "version",
                "the document does not say its schema version".to_owned(),
                "add `version = 1` at the top",
            ),
            Some(version) if *version.get_ref() != SCHEMA_VERSION => self.problem(
                version.span(),
                "version",
                format!(
                    "schema version {} is not one this passform reads",
                    version.get_ref()
                ),
                "this passform reads `version = 1`; a newer document needs a newer passform",
            ),
            Some(_) => {}
        }
    }

    fn recipients(
        &mut self,
        recipients: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    ) -> Vec<String> {
        let hint = "list who can decrypt the document, such as the recipient printed by \
                    `age-keygen -y IDENTITY` or an `ssh-ed25519 ...` public key";
        let Some(recipients) = recipients else {
            self.problem(
                0..0,
                "recipients",
                "the document lists no recipients".to_owned(),
                hint,
            );
            return Vec::new();
        };
        let span = recipients.span();
        let recipients = recipients.into_inner();
        if recipients.is_empty() {
            self.problem(span, "recipients", "`recipients` is empty".to_owned(), hint);
        }
        let mut valid = Vec::new();
        for (index, recipient) in recipients.into_iter().enumerate() {
            // A value that is not a string was reported with the types.
            let Some(text) = recipient
                .get_ref()
                .as_str()
                .map(|text| text.trim().to_owned())
            else {
                continue;
            };
            let key = format!("recipients[{}]", index + 1);
            if encryption::looks_like_secret_key(&text) {
                self.problem(
                    recipient.span(),
                    &key,
                    "this is a secret key (an identity), not a recipient".to_owned(),
                    "replace it with its recipient, which `age-keygen -y IDENTITY_FILE` prints, \
                     and make a new identity: everyone who could read the document has this key",
                );
                continue;
            }
            match encryption::check_recipient(&text) {
                Ok(()) => valid.push(text),
                Err(reason) => self.problem(
                    recipient.span(),
                    &key,
                    format!("`{text}` is not a recipient passform can encrypt to: {reason}"),
                    hint,
                ),
            }
        }
        valid
    }

    fn seed(&mut self, secrets: Option<Spanned<raw::RawSecrets>>) -> Option<Seed> {
        let hint = "`passform init` writes a fresh seed; restore the document's seed from \
                    version control if it was lost, since every derived password depends on it";
        let Some(secrets) = secrets else {
            self.problem(
                0..0,
                "secrets.seed",
                "the document has no `[secrets]` table with a seed".to_owned(),
                hint,
            );
            return None;
        };
        let span = secrets.span();
        let Some(seed) = secrets.into_inner().seed else {
            self.problem(
                span,
                "secrets.seed",
                "`[secrets]` has no seed".to_owned(),
                hint,
            );
            return None;
        };
        let span = seed.span();
        let encoded = match seed.into_inner() {
            toml::Value::String(text) => Some(zeroize::Zeroizing::new(text)),
            _ => None,
        };
        let decoded = encoded
            .and_then(|text| {
                base64::engine::general_purpose::STANDARD
                    .decode(text.as_bytes())
                    .ok()
            })
            .map(zeroize::Zeroizing::new);
        match decoded.as_deref().and_then(|bytes| Seed::from_slice(bytes)) {
            Some(seed) => Some(seed),
            None => {
                self.problem(
                    span,
                    "secrets.seed",
                    format!("the seed is not {SEED_LENGTH} bytes in standard base64"),
                    hint,
                );
                None
            }
        }
    }

    fn defaults(&mut self, defaults: Option<RawDefaults>) -> Defaults {
        let Some(defaults) = defaults else {
            return Defaults {
                region: None,
                restart: RestartPolicy::Auto,
                password_length: DEFAULT_PASSWORD_LENGTH,
            };
        };
        let region = defaults
            .region
            .and_then(|region| self.region(region, "defaults.region"));
        let restart = defaults
            .restart
            .and_then(|restart| self.restart(restart, "defaults.restart"))
            .unwrap_or(RestartPolicy::Auto);
        let password_length = defaults
            .password_length
            .and_then(|length| self.password_length(length))
            .unwrap_or(DEFAULT_PASSWORD_LENGTH);
        Defaults {
            region,
            restart,
            password_length,
        }
    }

    fn region(&mut self, region: Spanned<String>, key: &str) -> Option<String> {
        let text = region.get_ref().trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            self.problem(
                region.span(),
                key,
                "a region is a region id such as `cn-hangzhou`".to_owned(),
                "write the region id the instance lives in, as the ECS console shows it",
            );
            return None;
        }
        Some(text.to_owned())
    }

    fn restart(&mut self, restart: Spanned<String>, key: &str) -> Option<RestartPolicy> {
        let policy = RestartPolicy::from_name(restart.get_ref());
        if policy.is_none() {
            self.problem(
                restart.span(),
                key,
                format!("`{}` is not a restart policy", restart.get_ref()),
                "write `auto`, `running-only` or `never`",
            );
        }
        policy
    }

    fn password_length(&mut self, length: Spanned<i64>) -> Option<usize> {
        let range = policy::MIN_LENGTH as i64..=policy::MAX_LENGTH as i64;
        if range.contains(length.get_ref()) {
            return usize::try_from(*length.get_ref()).ok();
        }
        self.problem(
            length.span(),
            "defaults.password_length",
            format!(
                "a password length of {} is outside what ECS accepts",
                length.get_ref()
            ),
            &format!(
                "choose a length from {} to {}; the default is {DEFAULT_PASSWORD_LENGTH}",
                policy::MIN_LENGTH,
                policy::MAX_LENGTH
            ),
        );
        None
    }

    fn instances(
        &mut self,
        raw: Vec<Spanned<RawInstance>>,
        defaults: &Defaults,
    ) -> Vec<DeclaredInstance> {
        // Where each id was first declared, as a byte offset: it is turned into a line only
        // for a duplicate, so that a valid document never pays for finding lines.
        let mut first_offset_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut instances = Vec::new();
        for (index, instance) in raw.into_iter().enumerate() {
            let prefix = format!("instance[{}]", index + 1);
            let span = instance.span();
            let instance = instance.into_inner();
            if let Some(id) = &instance.id {
                if let Some(first) = first_offset_of.get(id.get_ref().trim()) {
                    let (first_line, _) = self.line_and_column(*first);
                    self.problem(
                        id.span(),
                        &format!("{prefix}.id"),
                        format!(
                            "`{}` is declared twice (first on line {first_line})",
                            id.get_ref().trim()
                        ),
                        "keep one [[instance]] per instance id",
                    );
                } else {
                    first_offset_of.insert(id.get_ref().trim().to_owned(), id.span().start);
                }
            }
            if let Some(declared) = self.instance(instance, span, &prefix, defaults) {
                instances.push(declared);
            }
        }
        instances
    }

    fn instance(
        &mut self,
        instance: RawInstance,
        span: Range<usize>,
        prefix: &str,
        defaults: &Defaults,
    ) -> Option<DeclaredInstance> {
        let id = self.instance_id(instance.id, span.clone(), prefix);
        let region = match instance.region {
            Some(region) => self.region(region, &format!("{prefix}.region")),
            None if defaults.region.is_some() => defaults.region.clone(),
            None => {
                self.problem(
                    span.clone(),
                    &format!("{prefix}.region"),
                    "this instance has no region and `[defaults]` sets none".to_owned(),
                    "add `region = \"cn-hangzhou\"` (its real region) to the instance, or set \
                     `region` in `[defaults]`",
                );
                None
            }
        };
        let generation = self.generation(instance.generation, span, prefix);
        let restart = match instance.restart {
            Some(restart) => self.restart(restart, &format!("{prefix}.restart")),
            None => Some(defaults.restart),
        };
        let wave = self.wave(instance.wave, prefix);
        let explicit_password = match instance.password {
            Some(password) => Some(self.explicit_password(password, prefix)?),
            None => None,
        };
        Some(DeclaredInstance {
            id: id?,
            region: region?,
            generation: generation?,
            restart: restart?,
            wave: wave?,
            explicit_password,
        })
    }

    fn instance_id(
        &mut self,
        id: Option<Spanned<String>>,
        span: Range<usize>,
        prefix: &str,
    ) -> Option<String> {
        let key = format!("{prefix}.id");
        let hint = "write the instance id as the ECS console shows it, such as \
                    `id = \"i-bp1f4xrzzsb3kf9gkmr1\"`";
        let Some(id) = id else {
            self.problem(span, &key, "this instance has no id".to_owned(), hint);
            return None;
        };
        let text = id.get_ref().trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            self.problem(
                id.span(),
                &key,
                "an instance id is one word such as `i-bp1f4xrzzsb3kf9gkmr1`".to_owned(),
                hint,
            );
            return None;
        }
        Some(text.to_owned())
    }

    fn generation(
        &mut self,
        generation: Option<Spanned<i64>>,
        span: Range<usize>,
        prefix: &str,
    ) -> Option<u64> {
        let key = format!("{prefix}.generation");
        let Some(generation) = generation else {
            self.problem(
                span,
                &key,
                "this instance has no generation".to_owned(),
                "add `generation = 1`; raise it later to rotate the password",
            );
            return None;
        };
        match u64::try_from(*generation.get_ref()) {
            Ok(value) if value >= 1 => Some(value),
            _ => {
                self.problem(
                    generation.span(),
                    &key,
                    format!("generation {} is below 1", generation.get_ref()),
                    "generations start at 1 and only go up; raise it to rotate the password",
                );
                None
            }
        }
    }

    fn wave(&mut self, wave: Option<Spanned<i64>>, prefix: &str) -> Option<u32> {
        let Some(wave) = wave else {
            return Some(DEFAULT_WAVE);
        };
        let value = u32::try_from(*wave.get_ref()).ok();
        if value.is_none() {
            self.problem(
                wave.span(),
                &format!("{prefix}.wave"),
                format!("wave {} is not a whole number from 0 up", wave.get_ref()),
                "waves are applied in ascending order; use small numbers such as 1, 2, 3",
            );
        }
        value
    }

    fn explicit_password(
        &mut self,
        password: Spanned<toml::Value>,
        prefix: &str,
    ) -> Option<SecretString> {
        let key = format!("{prefix}.password");
        let span = password.span();
        let toml::Value::String(text) = password.into_inner() else {
            self.problem(
                span,
                &key,
                "a password must be a quoted string".to_owned(),
                "put the password in double quotes, or remove it to use a derived one",
            );
            return None;
        };
        let text = SecretString::new(text);
        match policy::check(text.expose_secret()) {
            Ok(()) => Some(text),
            Err(violation) => {
                self.problem(
                    span,
                    &key,
                    violation.describe(),
                    "choose a password that ECS accepts (docs/document.md lists the policy), or \
                     remove `password` to use a derived one",
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const RECIPIENT: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    fn document(body: &str) -> String {
        format!("version = 1\nrecipients = [\"{RECIPIENT}\"]\n[secrets]\nseed = \"{SEED}\"\n{body}")
    }

    fn problem_keys(text: &str) -> Vec<String> {
        validate(text)
            .unwrap_err()
            .into_iter()
            .map(|problem| problem.key)
            .collect()
    }

    #[test]
    fn a_full_document_validates_with_defaults_applied() {
        let text = document(
            "[defaults]\nregion = \"cn-hangzhou\"\nrestart = \"running-only\"\n\
             password_length = 24\n\
             [[instance]]\nid = \"i-a\"\ngeneration = 3\n\
             [[instance]]\nid = \"i-b\"\nregion = \"cn-beijing\"\ngeneration = 1\n\
             restart = \"never\"\nwave = 2\npassword = \"Explicit#Pass1\"\n",
        );
        let document = validate(&text).unwrap();
        let first = document.instance("i-a").unwrap();
        assert_eq!(first.region, "cn-hangzhou");
        assert_eq!(first.restart, RestartPolicy::RunningOnly);
        assert_eq!(first.wave, DEFAULT_WAVE);
        assert_eq!(document.password(first).expose_secret().len(), 24);
        let second = document.instance("i-b").unwrap();
        assert_eq!(second.restart, RestartPolicy::Never);
        assert_eq!(second.wave, 2);
        assert_eq!(document.password(second).expose_secret(), "Explicit#Pass1");
    }

    #[test]
    fn two_problems_in_one_document_are_both_reported() {
        let text = document(
            "[[instance]]\nid = \"i-a\"\nregion = \"r\"\ngeneration = 0\n\
             [[instance]]\nid = \"i-a\"\nregion = \"r\"\ngeneration = 1\n",
        );
        assert_eq!(
            problem_keys(&text),
            ["instance[1].generation", "instance[2].id"]
        );
    }

    #[test]
    fn a_wrongly_typed_value_and_a_rule_broken_elsewhere_are_both_reported() {
        let text = document(
            "[[instance]]\nid = \"i-a\"\nregion = \"r\"\ngeneration = \"3\"\n\
             [[instance]]\nid = \"i-a\"\nregion = \"r\"\ngeneration = 1\nwave = -1\n",
        );
        let problems = validate(&text).unwrap_err();
        let summary: Vec<_> = problems
            .iter()
            .map(|problem| (problem.key.as_str(), problem.line))
            .collect();
        assert_eq!(
            summary,
            [
                ("instance[1].generation", 8),
                ("instance[2].id", 10),
                ("instance[2].wave", 13)
            ]
        );
        assert!(problems[0].message.contains("a whole number"));
    }

    #[test]
    fn a_missing_region_without_a_default_is_a_problem() {
        let text = document("[[instance]]\nid = \"i-a\"\ngeneration = 1\n");
        assert_eq!(problem_keys(&text), ["instance[1].region"]);
    }

    #[test]
    fn weak_long_and_slash_led_passwords_are_rejected_without_being_quoted() {
        for password in [
            "weakweak",
            "Ab1!Ab1!Ab1!Ab1!Ab1!Ab1!Ab1!Ab1!",
            "/Slash#Pass1",
        ] {
            let text = document(&format!(
                "[[instance]]\nid = \"i-a\"\nregion = \"r\"\ngeneration = 1\npassword = \"{password}\"\n"
            ));
            let problems = validate(&text).unwrap_err();
            assert_eq!(problems.len(), 1, "{password}");
            assert_eq!(problems[0].key, "instance[1].password");
            assert_eq!(problems[0].line, 9);
            assert!(!format!("{problems:?}").contains(password));
        }
    }

    #[test]
    fn password_length_outside_eight_to_thirty_is_rejected() {
        for length in [7, 31] {
            let text = document(&format!("[defaults]\npassword_length = {length}\n"));
            assert_eq!(problem_keys(&text), ["defaults.password_length"]);
        }
    }

    #[test]
    fn no_recipients_and_a_short_seed_are_problems() {
        let text = "version = 1\nrecipients = []\n[secrets]\nseed = \"AAEC\"\n";
        assert_eq!(problem_keys(text), ["recipients", "secrets.seed"]);
    }

    #[test]
    fn a_secret_key_among_the_recipients_is_rejected_without_being_quoted() {
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        let text = document("").replace(
            &format!("[\"{RECIPIENT}\"]"),
            &format!("[\"{RECIPIENT}\", \"{secret}\"]"),
        );
        let problems = validate(&text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "recipients[2]");
        assert!(problems[0].message.contains("secret key"));
        assert!(!format!("{problems:?}").contains("QQQQQQQQ"));
    }

    #[test]
    fn an_unknown_version_is_rejected() {
        let text = document("").replace("version = 1", "version = 2");
        assert_eq!(problem_keys(&text), ["version"]);
    }
}
