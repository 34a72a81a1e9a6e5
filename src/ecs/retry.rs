//! Retrying a call that failed for a passing reason: exponential backoff with full jitter,
//! bounded both in the number of attempts and in the total time spent.
//!
//! This module decides only when to try again. Which failures are passing ones is the error's
//! own business ([`Retryable`]); whether a change is safe to send twice is the client's.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// How often and how long to keep trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The ceiling of the first delay; each later ceiling doubles.
    pub base_delay: Duration,
    /// No delay is longer than this.
    pub max_delay: Duration,
    /// No retry starts if it would begin later than this after the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_total: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0 for the first retry): a uniformly random
    /// duration between zero and `min(max_delay, base_delay * 2^retry)`. Full jitter spreads
    /// the retries of many tasks that failed together, so they do not throttle again together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(30)))
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

/// An error that may be worth another attempt.
pub trait Retryable {
    /// Why another attempt may succeed, or `None` when it would fail the same way.
    fn retry_cause(&self) -> Option<String>;
}

/// Runs `attempt` until it succeeds, fails for good, or the policy's bounds are reached; the
/// last error is returned. Each retry is logged at debug level with its cause and delay.
pub async fn run<T, E, F, Attempt>(policy: &RetryPolicy, mut attempt: F) -> Result<T, E>
where
    E: Retryable,
    F: FnMut(u32) -> Attempt,
    Attempt: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut number = 1;
    loop {
        let error = match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(cause) = error.retry_cause() else {
            return Err(error);
        };
        if number >= policy.max_attempts {
            tracing::debug!(attempts = number, %cause, "giving up: attempts exhausted");
            return Err(error);
        }
        let delay = policy.backoff(number - 1);
        if started.elapsed() + delay > policy.max_total {
            tracing::debug!(attempts = number, %cause, "giving up: time bound reached");
            return Err(error);
        }
        tracing::debug!(attempt = number, ?delay, %cause, "retrying");
        tokio::time::sleep(delay).await;
        number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Failure {
        Passing,
        Permanent,
    }

    impl Retryable for Failure {
        fn retry_cause(&self) -> Option<String> {
            (*self == Failure::Passing).then(|| "passing".to_owned())
        }
    }

    #[test]
    fn backoff_stays_within_its_doubling_ceiling_and_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_total: Duration::from_secs(60),
        };
        for retry in 0..12 {
            let ceiling = Duration::from_millis(100 * 2u64.pow(retry)).min(Duration::from_secs(1));
            for _ in 0..200 {
                assert!(policy.backoff(retry) <= ceiling);
            }
        }
    }

    #[test]
    fn backoff_is_jittered_rather_than_fixed() {
        let policy = RetryPolicy::default();
        let delays: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| policy.backoff(3)).collect();
        assert!(delays.len() > 1);
    }

    #[tokio::test(start_paused = true)]
    async fn passing_failures_are_retried_until_success() {
        let mut calls = 0;
        let outcome = run(&RetryPolicy::default(), |_| {
            calls += 1;
            let failing = calls < 3;
            async move {
                if failing {
                    Err(Failure::Passing)
                } else {
                    Ok("done")
                }
            }
        })
        .await;
        assert_eq!(outcome, Ok("done"));
        assert_eq!(calls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_are_not_retried() {
        let mut calls = 0;
        let outcome: Result<(), Failure> = run(&RetryPolicy::default(), |_| {
            calls += 1;
            async { Err(Failure::Permanent) }
        })
        .await;
        assert_eq!(outcome, Err(Failure::Permanent));
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_after_the_attempt_bound() {
        let policy = RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::default()
        };
        let mut calls = 0;
        let outcome: Result<(), Failure> = run(&policy, |_| {
            calls += 1;
            async { Err(Failure::Passing) }
        })
        .await;
        assert_eq!(outcome, Err(Failure::Passing));
        assert_eq!(calls, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_before_the_time_bound() {
        let policy = RetryPolicy {
            max_attempts: 1000,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(4),
            max_total: Duration::from_secs(20),
        };
        let started = Instant::now();
        let outcome: Result<(), Failure> = run(&policy, |_| async { Err(Failure::Passing) }).await;
        assert_eq!(outcome, Err(Failure::Passing));
        assert!(started.elapsed() <= Duration::from_secs(20));
    }
}
