//! The real ECS client behind apply's small API trait.
//!
//! The client already retries throttling and passing server faults under its shared rate
//! budget; what reaches apply is final. An answer with an error code that is not transient is
//! a refusal (nothing changed). Everything else (no answer, a fault that outlasted the retries,
//! an unreadable answer) leaves the outcome unknown, which apply checks before repeating.

use super::api::{CallFailure, InstanceApi, RestartResult};
use crate::ecs::model::{LiveInstance, RestartOutcome};
use crate::ecs::{Client, EcsError};
use crate::secret::SecretString;

impl InstanceApi for Client {
    async fn describe(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<LiveInstance>, CallFailure> {
        self.describe_instances(region, ids).await.map_err(failure)
    }

    async fn reset_password(
        &self,
        region: &str,
        id: &str,
        password: &SecretString,
    ) -> Result<(), CallFailure> {
        Client::reset_password(self, region, id, password)
            .await
            .map_err(failure)
    }

    async fn reboot(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartResult>, CallFailure> {
        let outcomes = self.reboot_instances(region, ids).await.map_err(failure)?;
        Ok(outcomes.into_iter().map(result).collect())
    }

    async fn start(&self, region: &str, ids: &[String]) -> Result<Vec<RestartResult>, CallFailure> {
        let outcomes = self.start_instances(region, ids).await.map_err(failure)?;
        Ok(outcomes.into_iter().map(result).collect())
    }
}

fn result(outcome: RestartOutcome) -> RestartResult {
    let result = outcome.result.map_err(|refusal| CallFailure::Refused {
        code: refusal.code,
        message: refusal.message,
    });
    (outcome.instance_id, result)
}

/// Sorts a client error into a refusal or an unknown outcome.
fn failure(error: EcsError) -> CallFailure {
    let transient = error.transient_cause().is_some();
    match error {
        EcsError::Api { code, message, .. } if !transient => CallFailure::Refused { code, message },
        other => CallFailure::Unanswered(chain(&other)),
    }
}

/// An error and its causes on one line, for a reason shown to the user.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
