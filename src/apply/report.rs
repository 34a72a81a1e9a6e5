//! What apply tells its user as it goes: events, and the reporters that render them.
//!
//! The engine emits [`Event`]s and never formats text itself. `--format json` writes each event
//! as one JSON object per line on stdout (for CI); otherwise a progress bar per wave on a
//! terminal, or plain lines when stderr is not a terminal, with one line per finished instance
//! and a closing summary. None of these ever carries a password.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::api::RestartKind;

/// How one instance's apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The declared password is in effect.
    Effective,
    /// The password is set and takes effect at the instance's next start.
    Pending,
    /// Something went wrong; the reason says what.
    Failed,
    /// Not attempted: an earlier failure or an interruption stopped new work.
    NotStarted,
    /// Not attempted: the plan found something apply cannot do; the reason says what.
    Blocked,
    /// Removed from the state: no longer declared.
    Forgotten,
}

/// Something that happened during apply, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Apply began.
    Started {
        /// Instances that need work.
        instances: usize,
        /// The waves, in the order they run.
        waves: Vec<u32>,
        /// At most this many instances in flight.
        parallelism: usize,
    },
    /// A wave began.
    WaveStarted {
        /// The wave.
        wave: u32,
        /// Instances in it.
        instances: usize,
    },
    /// A password was set (not yet in effect).
    Reset {
        /// The instance id.
        instance: String,
        /// Its region.
        region: String,
    },
    /// A restart was accepted by the service.
    RestartSent {
        /// The instance id.
        instance: String,
        /// Its region.
        region: String,
        /// Reboot or start.
        restart: RestartKind,
    },
    /// An instance is done, one way or another.
    Finished {
        /// The instance id.
        instance: String,
        /// Its region.
        region: String,
        /// Its wave.
        wave: u32,
        /// How it ended.
        outcome: Outcome,
        /// The restart that made the password effective, if one did.
        restart: Option<RestartKind>,
        /// Why it ended so: a sentence.
        reason: String,
    },
    /// A wave ended.
    WaveFinished {
        /// The wave.
        wave: u32,
    },
    /// The user interrupted apply: no new work starts.
    Interrupted,
    /// The closing summary.
    Summary(Summary),
}

/// One instance that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The instance id.
    pub instance: String,
    /// What went wrong.
    pub reason: String,
}

/// What apply did, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Passwords set.
    pub reset: usize,
    /// Instances rebooted.
    pub rebooted: usize,
    /// Instances started.
    pub started: usize,
    /// Instances whose declared password is now in effect.
    pub effective: usize,
    /// Instances whose password is set but waits for their next start.
    pub left_pending: usize,
    /// Records removed from the state.
    pub forgotten: usize,
    /// Instances not attempted because of a failure or an interruption.
    pub not_started: usize,
    /// Instances that failed, with reasons.
    pub failed: Vec<Failure>,
    /// Instances the plan found blocked, with the plan's reasons: apply did not touch them.
    pub blocked: Vec<Failure>,
    /// Returns true if the user interrupted apply.
    pub interrupted: bool,
}

impl Summary {
    /// Returns true if every planned change was carried out. A blocked instance counts
    /// against it: the document declares something apply could not bring about.
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty()
            && self.blocked.is_empty()
            && !self.interrupted
            && self.not_started == 0
    }

    /// The summary as lines for people.
    pub fn to_text(&self) -> String {
        let verdict = if self.interrupted {
            "apply interrupted"
        } else if self.succeeded() {
            "apply complete"
        } else {
            "apply failed"
        };
        let mut text = format!(
            "{verdict}: {} reset, {} rebooted, {} started, {} in effect, {} left pending, \
             {} forgotten, {} failed, {} blocked, {} not started\n",
            self.reset,
            self.rebooted,
            self.started,
            self.effective,
            self.left_pending,
            self.forgotten,
            self.failed.len(),
            self.blocked.len(),
            self.not_started,
        );
        for failure in &self.failed {
            text.push_str(&format!(
                "  failed {}: {}\n",
                failure.instance, failure.reason
            ));
        }
        for blocked in &self.blocked {
            text.push_str(&format!(
                "  blocked {}: {}\n",
                blocked.instance, blocked.reason
            ));
        }
        text
    }
}

/// Receives apply's events as they happen.
pub trait Reporter {
    /// Shows or records one event.
    fn event(&mut self, event: &Event);
}

impl Reporter for Vec<Event> {
    fn event(&mut self, event: &Event) {
        self.push(event.clone());
    }
}

/// One JSON object per line, for CI.
#[derive(Debug)]
pub struct JsonLines<W> {
    output: W,
}

impl<W: Write> JsonLines<W> {
    /// Writes events to `output`.
    pub fn new(output: W) -> Self {
        Self { output }
    }
}

impl<W: Write> Reporter for JsonLines<W> {
    fn event(&mut self, event: &Event) {
        // A closed output must not stop apply halfway: the state records the outcome anyway.
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.output, "{line}");
            let _ = self.output.flush();
        }
    }
}

/// Plain lines for people, one per finished instance, and the summary.
#[derive(Debug)]
pub struct PlainLines<W> {
    output: W,
}

impl<W: Write> PlainLines<W> {
    /// Writes lines to `output`.
    pub fn new(output: W) -> Self {
        Self { output }
    }
}

impl<W: Write> Reporter for PlainLines<W> {
    fn event(&mut self, event: &Event) {
        if let Some(line) = describe(event) {
            let _ = write!(self.output, "{line}");
        }
    }
}

/// A progress bar per wave on a terminal, with finished instances printed above it.
#[derive(Debug, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Reporter for Progress {
    fn event(&mut self, event: &Event) {
        match event {
            Event::WaveStarted { wave, instances } => {
                let bar = ProgressBar::with_draw_target(
                    Some(*instances as u64),
                    ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} instances, {elapsed}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(format!("wave {wave}"));
                self.bar = Some(bar);
            }
            // Forgotten and blocked instances finish before any wave, with no bar to count.
            Event::Finished { .. } => match (&self.bar, describe(event)) {
                (Some(bar), Some(line)) => {
                    bar.println(line.trim_end());
                    bar.inc(1);
                }
                (None, Some(line)) => eprint!("{line}"),
                (_, None) => {}
            },
            Event::WaveFinished { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {
                if let Some(line) = describe(event) {
                    match &self.bar {
                        Some(bar) => bar.println(line.trim_end()),
                        None => eprint!("{line}"),
                    }
                }
            }
        }
    }
}

/// The text for an event, or nothing for events too small to print on their own.
fn describe(event: &Event) -> Option<String> {
    match event {
        Event::Started {
            instances,
            waves,
            parallelism,
        } => Some(format!(
            "applying {instances} instance(s) in {} wave(s), at most {parallelism} at once\n",
            waves.len()
        )),
        Event::WaveStarted { wave, instances } => {
            Some(format!("wave {wave}: {instances} instance(s)\n"))
        }
        Event::Finished {
            instance,
            region,
            outcome,
            reason,
            ..
        } => {
            let word = match outcome {
                Outcome::Effective => "done",
                Outcome::Pending => "pending",
                Outcome::Failed => "failed",
                Outcome::NotStarted => "skipped",
                Outcome::Blocked => "blocked",
                Outcome::Forgotten => "forgotten",
            };
            Some(format!("{instance} ({region}): {word}: {reason}\n"))
        }
        Event::Interrupted => Some(
            "interrupted: finishing what is in flight; press Ctrl-C again to exit at once\n"
                .to_owned(),
        ),
        Event::Summary(summary) => Some(summary.to_text()),
        Event::Reset { .. } | Event::RestartSent { .. } | Event::WaveFinished { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(outcome: Outcome, reason: &str) -> Event {
        Event::Finished {
            instance: "i-web1".to_owned(),
            region: "cn-hangzhou".to_owned(),
            wave: 1,
            outcome,
            restart: Some(RestartKind::Reboot),
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn json_lines_print_one_object_per_event_named_by_its_kind() {
        let mut output = Vec::new();
        let mut reporter = JsonLines::new(&mut output);
        reporter.event(&Event::WaveStarted {
            wave: 1,
            instances: 2,
        });
        reporter.event(&finished(Outcome::Effective, "in effect: rebooted"));

        let text = String::from_utf8(output).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"event": "wave_started", "wave": 1, "instances": 2}),
                serde_json::json!({
                    "event": "finished", "instance": "i-web1", "region": "cn-hangzhou",
                    "wave": 1, "outcome": "effective", "restart": "reboot",
                    "reason": "in effect: rebooted"
                }),
            ]
        );
    }

    #[test]
    fn plain_lines_show_each_finished_instance_and_the_summary_with_failures() {
        let mut output = Vec::new();
        let mut reporter = PlainLines::new(&mut output);
        reporter.event(&Event::Reset {
            instance: "i-web1".to_owned(),
            region: "cn-hangzhou".to_owned(),
        });
        reporter.event(&finished(Outcome::Failed, "the restart was refused"));
        reporter.event(&Event::Summary(Summary {
            reset: 1,
            failed: vec![Failure {
                instance: "i-web1".to_owned(),
                reason: "the restart was refused".to_owned(),
            }],
            ..Summary::default()
        }));

        assert_eq!(
            String::from_utf8(output).unwrap(),
            "i-web1 (cn-hangzhou): failed: the restart was refused\n\
             apply failed: 1 reset, 0 rebooted, 0 started, 0 in effect, 0 left pending, \
             0 forgotten, 1 failed, 0 blocked, 0 not started\n\
             \x20 failed i-web1: the restart was refused\n"
        );
    }

    #[test]
    fn a_summary_succeeds_only_without_failures_blocks_skips_or_interruption() {
        assert!(Summary::default().succeeded());
        let interrupted = Summary {
            interrupted: true,
            ..Summary::default()
        };
        assert!(!interrupted.succeeded());
        let skipped = Summary {
            not_started: 1,
            ..Summary::default()
        };
        assert!(!skipped.succeeded());
        let blocked = Summary {
            blocked: vec![Failure {
                instance: "i-web1".to_owned(),
                reason: "not found".to_owned(),
            }],
            ..Summary::default()
        };
        assert!(!blocked.succeeded());
    }
}
