//! One request-rate budget shared by every task of the process (`--max-rps`).
//!
//! Requests take evenly spaced slots at the current rate. When the service throttles, the rate
//! halves (at most once per second, so that a burst of throttled answers to requests sent
//! together counts once), down to a floor; every successful request then raises it by a
//! twentieth of the ceiling, so it recovers gradually instead of throttling again at once.
//!
//! There is deliberately no burst allowance. A token bucket would send the first `--max-rps`
//! requests of a run at once and save at most about one second per run (100 DescribeInstances
//! calls take 4.95 s at 20 per second spaced, about 4 s with a bucket of 20), but a full bucket
//! followed by its refill sends up to twice the rate within the first second: more than
//! `--max-rps` promises, at the moment the service's per-second quota, which the console and
//! other tools share, is most likely to throttle. Even spacing keeps the promise, and costs a
//! small run only milliseconds (four regions read at 20 per second wait 150 ms in all).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The lowest rate the budget falls to, in requests per second.
const FLOOR: f64 = 0.5;
/// The fraction of the ceiling that each success gives back.
const RECOVERY_STEP: f64 = 0.05;
/// Throttled answers closer together than this count as one.
const THROTTLE_WINDOW: Duration = Duration::from_secs(1);

/// A cheap-to-clone handle on the shared budget.
#[derive(Debug, Clone)]
pub struct Budget {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    ceiling: f64,
    rate: f64,
    next_slot: Instant,
    last_throttle: Option<Instant>,
}

impl Budget {
    /// A budget of at most `max_requests_per_second`, which must be positive and finite.
    pub fn new(max_requests_per_second: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                ceiling: max_requests_per_second,
                rate: max_requests_per_second,
                next_slot: Instant::now(),
                last_throttle: None,
            })),
        }
    }

    /// Waits for the next free slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut state = self.lock();
            let slot = state.next_slot.max(Instant::now());
            state.next_slot = slot + Duration::from_secs_f64(1.0 / state.rate);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// The service throttled a request: slow down.
    pub fn throttled(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        if state
            .last_throttle
            .is_some_and(|last| now.duration_since(last) < THROTTLE_WINDOW)
        {
            return;
        }
        state.last_throttle = Some(now);
        state.rate = (state.rate / 2.0).max(FLOOR.min(state.ceiling));
        tracing::debug!(rate = state.rate, "throttled: request rate lowered");
    }

    /// A request succeeded: recover a step toward the ceiling.
    pub fn succeeded(&self) {
        let mut state = self.lock();
        state.rate = (state.rate + state.ceiling * RECOVERY_STEP).min(state.ceiling);
    }

    /// The current rate, in requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the numbers inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_at_the_configured_rate() {
        let budget = Budget::new(10.0);
        let started = Instant::now();
        for _ in 0..21 {
            budget.acquire().await;
        }
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_sharing_a_budget_share_its_rate() {
        let budget = Budget::new(5.0);
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let budget = budget.clone();
            tasks.spawn(async move {
                for _ in 0..5 {
                    budget.acquire().await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        // Twenty requests at five per second: the last slot opens after 19 intervals.
        assert_eq!(started.elapsed(), Duration::from_millis(3800));
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_the_rate_once_per_burst_and_success_recovers_it_gradually() {
        let budget = Budget::new(20.0);
        budget.throttled();
        budget.throttled();
        assert_eq!(budget.rate(), 10.0);
        tokio::time::advance(THROTTLE_WINDOW).await;
        budget.throttled();
        assert_eq!(budget.rate(), 5.0);
        budget.succeeded();
        assert_eq!(budget.rate(), 6.0);
        for _ in 0..100 {
            budget.succeeded();
        }
        assert_eq!(budget.rate(), 20.0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_never_falls_below_the_floor() {
        let budget = Budget::new(4.0);
        for _ in 0..20 {
            budget.throttled();
            tokio::time::advance(THROTTLE_WINDOW).await;
        }
        assert_eq!(budget.rate(), FLOOR);
    }
}
