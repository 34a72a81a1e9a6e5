//! The emulated clock: real time since the emulator started, divided by the fleet's time scale.
//!
//! Status transitions are not driven by timers. An instance records when its transition
//! started and how long it lasts in emulated time; its status is then a function of this
//! clock, worked out when somebody looks. 100,000 idle instances therefore cost nothing.
//! The clock reads `tokio::time::Instant`, so tests under paused time control it.

use time::OffsetDateTime;
use tokio::time::Instant;

/// Emulated milliseconds since the emulator started, and the wall-clock time they stand for.
#[derive(Debug, Clone)]
pub struct Clock {
    started: Instant,
    wall_at_start: OffsetDateTime,
    time_scale: f64,
}

impl Clock {
    /// A clock that starts now and runs `1 / time_scale` times as fast as real time.
    pub fn start(time_scale: f64) -> Clock {
        Clock {
            started: Instant::now(),
            wall_at_start: OffsetDateTime::now_utc(),
            time_scale,
        }
    }

    /// Emulated milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        let real_seconds = self.started.elapsed().as_secs_f64();
        (real_seconds / self.time_scale * 1000.0) as u64
    }

    /// The wall-clock time (UTC) at an emulated instant.
    pub fn wall_time(&self, at_ms: u64) -> OffsetDateTime {
        self.wall_at_start + time::Duration::milliseconds(at_ms as i64)
    }

    /// The wall-clock time when the emulator started.
    pub fn wall_at_start(&self) -> OffsetDateTime {
        self.wall_at_start
    }
}

/// Converts emulated seconds into emulated milliseconds.
pub fn seconds_to_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn emulated_time_runs_faster_by_the_time_scale() {
        let clock = Clock::start(0.01);
        tokio::time::advance(std::time::Duration::from_millis(400)).await;
        assert_eq!(clock.now_ms(), 40_000);
        assert_eq!(
            clock.wall_time(40_000) - clock.wall_at_start(),
            time::Duration::seconds(40)
        );
    }
}
