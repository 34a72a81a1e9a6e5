//! The planner's view of the desired document: per instance, what it should have.
//!
//! The planner never sees a password. [`Desired::from_document`] reads each declared instance
//! once, derives its password through the document, and keeps only what a plan needs: the
//! fingerprint to compare with the state, and the two facts about the password that decide
//! whether apply may use it. Keeping this view small also lets the planner be tested without
//! an encrypted document.

use crate::document::{Document, RestartPolicy};

/// What one declared instance should have, without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The instance id.
    pub id: String,
    /// Its region.
    pub region: String,
    /// The declared generation.
    pub generation: u64,
    /// The fingerprint of the declared password, comparable with the state's.
    pub fingerprint: String,
    /// How to restart it after a reset.
    pub restart: RestartPolicy,
    /// Its wave.
    pub wave: u32,
    /// Returns true if the password starts with `/`, which Windows refuses.
    pub password_starts_with_slash: bool,
    /// Returns true if the user wrote the password down instead of having it derived.
    pub explicit_password: bool,
}

impl Desired {
    /// The desired view of every declared instance, in document order.
    pub fn from_document(document: &Document) -> Vec<Desired> {
        document
            .instances
            .iter()
            .map(|instance| {
                let password = document.password(instance);
                Desired {
                    id: instance.id.clone(),
                    region: instance.region.clone(),
                    generation: instance.generation,
                    fingerprint: document.fingerprint(&password),
                    restart: instance.restart,
                    wave: instance.wave,
                    password_starts_with_slash: password.expose_secret().starts_with('/'),
                    explicit_password: instance.explicit_password.is_some(),
                }
            })
            .collect()
    }
}
