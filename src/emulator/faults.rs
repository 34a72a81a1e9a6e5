//! Fault injection for tests: rules posted to `/_emulator/faults` that make the emulator
//! answer an error for the next N calls, throttle above a rate, delay answers, or make a
//! change and then close the connection without answering.
//!
//! Rules are consulted after a request is authenticated and before the operation runs. A
//! throttled or failed call changes nothing; a dropped call changes what it would have changed.
//! Rate limits count in fixed windows of one real second.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::response::ApiError;

/// One rule as posted, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    action: Option<String>,
    error: Option<String>,
    count: Option<u64>,
    drop_after_commit: Option<bool>,
    rate_limit_per_second: Option<u64>,
    latency_ms: Option<u64>,
    clear: Option<bool>,
}

#[derive(Debug)]
enum Effect {
    Error {
        code: String,
        remaining: u64,
    },
    DropAfterCommit {
        remaining: u64,
    },
    RateLimit {
        per_second: u64,
        window: Instant,
        used: u64,
    },
    Latency(Duration),
}

#[derive(Debug)]
struct Rule {
    action: String,
    effect: Effect,
}

/// What the rules decided for one call.
#[derive(Debug, Default)]
pub struct Decision {
    /// How long to wait before answering.
    pub latency: Duration,
    /// An error to answer instead of running the operation.
    pub error: Option<ApiError>,
    /// Run the operation, then close the connection without answering.
    pub drop_after_commit: bool,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    /// Adds a rule, or removes them all for `{"clear": true}`; a rule that makes no sense is
    /// refused with the reason.
    pub fn post(&mut self, request: FaultRequest) -> Result<(), String> {
        if request.clear == Some(true) {
            self.rules.clear();
            return Ok(());
        }
        let action = request
            .action
            .ok_or("a fault rule needs \"action\" (an operation name or \"*\")")?;
        let count = request.count.unwrap_or(1);
        let effect = match (
            request.error,
            request.drop_after_commit,
            request.rate_limit_per_second,
            request.latency_ms,
        ) {
            (Some(code), None, None, None) => Effect::Error {
                code,
                remaining: count,
            },
            (None, Some(true), None, None) => Effect::DropAfterCommit { remaining: count },
            (None, None, Some(per_second), None) => Effect::RateLimit {
                per_second,
                window: Instant::now(),
                used: 0,
            },
            (None, None, None, Some(milliseconds)) => {
                Effect::Latency(Duration::from_millis(milliseconds))
            }
            _ => {
                return Err(
                    "a fault rule needs exactly one of \"error\", \"drop_after_commit\": \
                            true, \"rate_limit_per_second\" and \"latency_ms\""
                        .to_owned(),
                );
            }
        };
        self.rules.push(Rule { action, effect });
        Ok(())
    }

    /// Decides what happens to one call of `action`, using up counts and rate as it goes:
    /// throttling first, then an injected error, then a drop, whatever order the rules were
    /// posted in; latency applies to all.
    pub fn decide(&mut self, action: &str) -> Decision {
        let now = Instant::now();
        let mut decision = Decision::default();
        let mut throttled = false;
        for rule in self.rules.iter_mut().filter(|rule| rule.applies_to(action)) {
            match &mut rule.effect {
                Effect::Latency(delay) => decision.latency += *delay,
                Effect::RateLimit {
                    per_second,
                    window,
                    used,
                } => throttled |= !admit_within_rate(*per_second, window, used, now),
                Effect::Error { .. } | Effect::DropAfterCommit { .. } => {}
            }
        }
        if throttled {
            decision.error = Some(ApiError::throttling());
        } else if let Some(code) = self.take(action, |effect| match effect {
            Effect::Error { code, .. } => Some(code.clone()),
            _ => None,
        }) {
            decision.error = Some(ApiError::injected(&code));
        } else {
            decision.drop_after_commit = self
                .take(action, |effect| {
                    matches!(effect, Effect::DropAfterCommit { .. }).then_some(())
                })
                .is_some();
        }
        self.rules.retain(|rule| !rule.is_used_up());
        decision
    }

    /// Uses up one count of the first counted rule for `action` that `select` picks.
    fn take<T>(&mut self, action: &str, select: impl Fn(&Effect) -> Option<T>) -> Option<T> {
        for rule in self.rules.iter_mut().filter(|rule| rule.applies_to(action)) {
            let Some(picked) = select(&rule.effect) else {
                continue;
            };
            if let Effect::Error { remaining, .. } | Effect::DropAfterCommit { remaining } =
                &mut rule.effect
                && *remaining > 0
            {
                *remaining -= 1;
                return Some(picked);
            }
        }
        None
    }
}

impl Rule {
    fn applies_to(&self, action: &str) -> bool {
        self.action == "*" || self.action == action
    }

    fn is_used_up(&self) -> bool {
        matches!(
            self.effect,
            Effect::Error { remaining: 0, .. } | Effect::DropAfterCommit { remaining: 0 }
        )
    }
}

/// Counts a call in the current one-second window; returns false when the window is full.
fn admit_within_rate(per_second: u64, window: &mut Instant, used: &mut u64, now: Instant) -> bool {
    if now.duration_since(*window) >= Duration::from_secs(1) {
        *window = now;
        *used = 0;
    }
    if *used >= per_second {
        return false;
    }
    *used += 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn error_rule_answers_the_next_count_calls_of_its_action_only() {
        let mut faults = Faults::default();
        faults
            .post(rule(
                r#"{"action": "RebootInstance", "error": "ServiceUnavailable", "count": 2}"#,
            ))
            .unwrap();
        assert!(faults.decide("DescribeInstances").error.is_none());
        assert_eq!(faults.decide("RebootInstance").error.unwrap().status, 503);
        assert!(faults.decide("RebootInstance").error.is_some());
        assert!(faults.decide("RebootInstance").error.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_throttles_beyond_the_rate_within_a_second() {
        let mut faults = Faults::default();
        faults
            .post(rule(r#"{"action": "*", "rate_limit_per_second": 2}"#))
            .unwrap();
        assert!(faults.decide("DescribeInstances").error.is_none());
        assert!(faults.decide("RebootInstance").error.is_none());
        let throttled = faults.decide("DescribeInstances").error.unwrap();
        assert_eq!(
            (throttled.code.as_str(), throttled.status),
            ("Throttling", 400)
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(faults.decide("DescribeInstances").error.is_none());
    }

    #[test]
    fn drop_and_latency_rules_combine_and_clear_removes_everything() {
        let mut faults = Faults::default();
        faults
            .post(rule(
                r#"{"action": "ModifyInstanceAttribute", "drop_after_commit": true}"#,
            ))
            .unwrap();
        faults
            .post(rule(r#"{"action": "*", "latency_ms": 50}"#))
            .unwrap();
        let decision = faults.decide("ModifyInstanceAttribute");
        assert!(decision.drop_after_commit);
        assert_eq!(decision.latency, Duration::from_millis(50));
        assert!(!faults.decide("ModifyInstanceAttribute").drop_after_commit);
        faults.post(rule(r#"{"clear": true}"#)).unwrap();
        assert_eq!(faults.decide("DescribeInstances").latency, Duration::ZERO);
    }

    #[test]
    fn throttling_comes_before_an_injected_error_whatever_the_posting_order() {
        let mut faults = Faults::default();
        faults
            .post(rule(
                r#"{"action": "*", "error": "InternalError", "count": 1}"#,
            ))
            .unwrap();
        faults
            .post(rule(r#"{"action": "*", "rate_limit_per_second": 0}"#))
            .unwrap();
        let decision = faults.decide("DescribeInstances");
        assert_eq!(decision.error.unwrap().code, "Throttling");
        faults.post(rule(r#"{"clear": true}"#)).unwrap();
        faults
            .post(rule(
                r#"{"action": "*", "error": "InternalError", "count": 1}"#,
            ))
            .unwrap();
        faults
            .post(rule(r#"{"action": "*", "drop_after_commit": true}"#))
            .unwrap();
        let decision = faults.decide("DescribeInstances");
        assert_eq!(decision.error.unwrap().code, "InternalError");
        assert!(
            !decision.drop_after_commit,
            "an injected error changes nothing"
        );
        assert!(faults.decide("DescribeInstances").drop_after_commit);
    }

    #[test]
    fn rule_with_two_effects_or_no_action_is_refused() {
        let mut faults = Faults::default();
        assert!(
            faults
                .post(rule(
                    r#"{"action": "*", "error": "Throttling", "latency_ms": 5}"#
                ))
                .is_err()
        );
        assert!(faults.post(rule(r#"{"error": "Throttling"}"#)).is_err());
    }
}
