//! The loop that drives every instance of a wave through its steps, tick by tick.
//!
//! Each tick: admit queued instances up to the parallelism bound, poll the status of everything
//! waiting (one call per region per 100 instances), send the resets that became possible, then
//! send the restarts that became due, batched per region. Batching falls out of this order:
//! every restart that becomes due in a tick goes out in the same call for its region.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::api::{CallFailure, InstanceApi, RestartKind, RestartResult};
use super::job::{Job, Step, Work, resetting_record, restart_visible};
use super::journal::Journal;
use super::report::{Event, Failure, Outcome, Reporter, Summary};
use super::{ApplyError, Desired, Options};
use crate::document::RestartPolicy;
use crate::ecs::model::{InstanceStatus, LiveInstance};
use crate::plan::{Action, Change, Plan};
use crate::state::{InstanceRecord, Phase, State};

/// The most ids one Describe, Reboot or Start call may carry.
const BATCH_LIMIT: usize = 100;
/// How many times a reset whose answer was lost is sent again within one apply.
const RESET_ATTEMPTS: u32 = 4;
/// How many restarts one instance may be sent within one apply.
const RESTART_ATTEMPTS: u32 = 4;
/// An instance is polled again after this fraction of the time it has waited so far.
const POLL_FRACTION: u32 = 20;

/// Drives a plan through the API, one tick at a time.
pub(super) struct Engine<'a, A, J, R: ?Sized> {
    api: A,
    journal: &'a mut J,
    reporter: &'a mut R,
    state: &'a mut State,
    options: &'a Options,
    summary: Summary,
    /// Set by the first failure: no new work starts after it.
    halted: bool,
}

impl<'a, A, J, R> Engine<'a, A, J, R>
where
    A: InstanceApi,
    J: Journal,
    R: Reporter + ?Sized,
{
    pub(super) fn new(
        api: A,
        journal: &'a mut J,
        reporter: &'a mut R,
        state: &'a mut State,
        options: &'a Options,
    ) -> Self {
        Self {
            api,
            journal,
            reporter,
            state,
            options,
            summary: Summary::default(),
            halted: false,
        }
    }

    /// Runs the whole plan: forgets and blocked instances first (no API call), then the waves
    /// in ascending order.
    pub(super) async fn run(
        mut self,
        plan: &Plan,
        desired: &BTreeMap<String, Desired>,
    ) -> Result<Summary, ApplyError> {
        let waves = self.jobs_by_wave(plan, desired);
        self.reporter.event(&Event::Started {
            instances: waves.values().map(VecDeque::len).sum(),
            waves: waves.keys().copied().collect(),
            parallelism: self.options.parallelism,
        });
        self.forget(plan)?;
        self.report_blocked(plan);

        for (wave, jobs) in waves {
            if self.stopping() {
                self.skip_all(jobs);
                continue;
            }
            self.reporter.event(&Event::WaveStarted {
                wave,
                instances: jobs.len(),
            });
            self.run_wave(jobs).await?;
            self.reporter.event(&Event::WaveFinished { wave });
        }

        self.reporter.event(&Event::Summary(self.summary.clone()));
        Ok(self.summary)
    }

    fn jobs_by_wave(
        &self,
        plan: &Plan,
        desired: &BTreeMap<String, Desired>,
    ) -> BTreeMap<u32, VecDeque<Job>> {
        let mut waves: BTreeMap<u32, VecDeque<Job>> = BTreeMap::new();
        for change in &plan.changes {
            let Some(desired) = desired.get(&change.instance) else {
                continue;
            };
            let Some(work) = self.work_for(change, desired) else {
                continue;
            };
            waves.entry(change.wave).or_default().push_back(Job {
                id: change.instance.clone(),
                region: change.region.clone(),
                wave: change.wave,
                work,
                desired: desired.clone(),
                step: Step::Queued,
                waiting_since: Instant::now(),
                restarts_sent: 0,
            });
        }
        waves
    }

    /// What a change asks for. A `wait` change resumes where the state says the instance is:
    /// restart only when the declared password is already set, otherwise a reset.
    fn work_for(&self, change: &Change, desired: &Desired) -> Option<Work> {
        match change.action {
            Action::Reset => Some(Work::Reset),
            Action::Restart => Some(Work::RestartOnly),
            Action::Wait => {
                let record = self.state.instances.get(&change.instance);
                let set = record.is_some_and(|record| {
                    record.generation == desired.generation
                        && record.fingerprint == desired.fingerprint
                        && record.phase == Phase::Reset
                });
                Some(if set { Work::RestartOnly } else { Work::Reset })
            }
            Action::None | Action::Forget | Action::Blocked => None,
        }
    }

    fn forget(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let forgotten: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|change| change.action == Action::Forget)
            .collect();
        if forgotten.is_empty() {
            return Ok(());
        }
        for change in &forgotten {
            self.state.instances.remove(&change.instance);
        }
        self.record()?;
        for change in forgotten {
            self.summary.forgotten += 1;
            self.reporter.event(&Event::Finished {
                instance: change.instance.clone(),
                region: change.region.clone(),
                wave: change.wave,
                outcome: Outcome::Forgotten,
                restart: None,
                reason: "no longer declared; removed from the state".to_owned(),
            });
        }
        Ok(())
    }

    /// Reports each instance the plan found blocked, with the plan's reason. Apply does not
    /// touch them, and the run does not count as a success while any remain.
    fn report_blocked(&mut self, plan: &Plan) {
        for change in plan
            .changes
            .iter()
            .filter(|change| change.action == Action::Blocked)
        {
            self.summary.blocked.push(Failure {
                instance: change.instance.clone(),
                reason: change.reason.clone(),
            });
            self.reporter.event(&Event::Finished {
                instance: change.instance.clone(),
                region: change.region.clone(),
                wave: change.wave,
                outcome: Outcome::Blocked,
                restart: None,
                reason: change.reason.clone(),
            });
        }
    }

    fn stopping(&mut self) -> bool {
        if self.options.interrupt.is_raised() && !self.summary.interrupted {
            self.summary.interrupted = true;
            self.reporter.event(&Event::Interrupted);
        }
        self.halted || self.summary.interrupted
    }

    fn skip_all(&mut self, jobs: impl IntoIterator<Item = Job>) {
        for mut job in jobs {
            self.skip(&mut job);
        }
    }

    fn skip(&mut self, job: &mut Job) {
        let reason = if self.summary.interrupted {
            "not started: apply was interrupted"
        } else {
            "not started: an earlier failure stopped new work"
        };
        self.finish(job, Outcome::NotStarted, None, reason.to_owned());
    }

    /// Runs one wave to its end: every instance finished, failed or skipped.
    async fn run_wave(&mut self, mut queue: VecDeque<Job>) -> Result<(), ApplyError> {
        let mut active: Vec<Job> = Vec::new();
        loop {
            if self.stopping() {
                self.skip_all(queue.drain(..));
                // Waiting for a stable status has changed nothing yet, so it is safe to drop.
                for job in active.iter_mut() {
                    if matches!(job.step, Step::AwaitStable) {
                        self.skip(job);
                    }
                }
                active.retain(|job| !job.is_done());
            }
            // A parallelism of 0 would admit nothing and drop the wave unreported.
            while active.len() < self.options.parallelism.max(1) {
                let Some(mut job) = queue.pop_front() else {
                    break;
                };
                job.step = Step::AwaitStable;
                job.waiting_since = Instant::now();
                active.push(job);
            }
            if active.is_empty() {
                return Ok(());
            }

            self.poll(&mut active).await?;
            self.reset(&mut active).await?;
            self.restart(&mut active).await;
            let before = active.len();
            active.retain(|job| !job.is_done());

            // A freed slot is filled at once: waiting a tick would add to every round.
            let freed = active.len() < before && !queue.is_empty();
            if !active.is_empty() && !freed {
                tokio::time::sleep(self.pause(&active)).await;
            }
        }
    }

    /// How long to wait before the next poll. Each waiting instance is polled again after a
    /// twentieth of the time it has waited so far, within the configured bounds: a quick
    /// restart is seen soon after it ends, and a slow one does not cost a call every moment.
    /// The bounds come from [`Options`]; the command line does not offer a way to change them.
    fn pause(&self, active: &[Job]) -> Duration {
        let now = Instant::now();
        active
            .iter()
            .filter(|job| job.needs_status())
            .map(|job| (now - job.waiting_since) / POLL_FRACTION)
            .min()
            .unwrap_or_default()
            .clamp(
                self.options.poll_interval_min,
                self.options.poll_interval_max,
            )
    }

    /// One status call per region (per 100 instances) for every instance waiting on its status.
    async fn poll(&mut self, active: &mut [Job]) -> Result<(), ApplyError> {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for job in active.iter().filter(|job| job.needs_status()) {
            wanted
                .entry(job.region.clone())
                .or_default()
                .push(job.id.clone());
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let answers = self.describe(wanted).await;

        for job in active.iter_mut().filter(|job| job.needs_status()) {
            match answers.get(&job.id) {
                Some(Answer::Live(live)) => self.observe(job, live),
                Some(Answer::Missing) => self.fail(
                    job,
                    "the instance no longer exists (it may have been released)".to_owned(),
                ),
                Some(Answer::Refused(failure)) => {
                    self.fail(job, format!("could not read its status: {failure}"))
                }
                // No answer this tick: try again next tick, within the wait timeout.
                None => self.check_timeout(job, None),
            }
        }
        self.record_effective(active)
    }

    async fn describe(&self, wanted: BTreeMap<String, Vec<String>>) -> HashMap<String, Answer> {
        let mut calls = JoinSet::new();
        for (region, ids) in wanted {
            for chunk in ids.chunks(BATCH_LIMIT) {
                let api = self.api.clone();
                let region = region.clone();
                let chunk = chunk.to_vec();
                calls.spawn(async move {
                    let result = api.describe(&region, &chunk).await;
                    (chunk, result)
                });
            }
        }
        let mut answers = HashMap::new();
        while let Some(joined) = calls.join_next().await {
            let Ok((ids, result)) = joined else { continue };
            match result {
                Ok(instances) => {
                    let mut found: HashMap<String, LiveInstance> = instances
                        .into_iter()
                        .map(|live| (live.id.clone(), live))
                        .collect();
                    for id in ids {
                        let answer = found.remove(&id).map_or(Answer::Missing, Answer::Live);
                        answers.insert(id, answer);
                    }
                }
                Err(failure @ CallFailure::Refused { .. }) => {
                    for id in ids {
                        answers.insert(id, Answer::Refused(failure.clone()));
                    }
                }
                Err(CallFailure::Unanswered(reason)) => {
                    tracing::debug!(%reason, "status poll unanswered; polling again next tick");
                }
            }
        }
        answers
    }

    /// Moves an instance on according to the status just seen.
    fn observe(&mut self, job: &mut Job, live: &LiveInstance) {
        match job.step.clone() {
            Step::AwaitStable if live.status.is_stable() => self.on_stable(job, live),
            Step::AwaitStable => self.check_timeout(job, Some(live.status)),
            Step::RestartUnconfirmed(kind, before) => {
                if restart_visible(kind, &before, live) {
                    job.step = Step::AwaitRunning {
                        kind,
                        before,
                        seen_transition: false,
                    };
                    self.observe(job, live);
                } else if live.status.is_stable() {
                    tracing::debug!(instance = %job.id, "restart not visible; sending it again");
                    self.plan_restart(job, live.clone());
                } else {
                    self.check_timeout(job, Some(live.status));
                }
            }
            Step::AwaitRunning {
                kind,
                before,
                seen_transition,
            } => self.await_running(job, kind, before, seen_transition, live),
            _ => {}
        }
    }

    fn on_stable(&mut self, job: &mut Job, live: &LiveInstance) {
        match job.work {
            Work::Reset => job.step = Step::ReadyToReset(live.clone()),
            Work::RestartOnly if self.started_since_reset(job, live) => {
                job.step = Step::Effective(
                    None,
                    "in effect: the instance started since its password was set".to_owned(),
                );
            }
            Work::RestartOnly => self.plan_restart(job, live.clone()),
        }
    }

    /// Returns true when the instance's `StartTime` moved since the reset: a start (perhaps
    /// one whose answer was lost) already made the password effective.
    ///
    /// DescribeInstances gives `StartTime` to the minute, and the state does not record that a
    /// restart was accepted. So when passform is killed after a restart was accepted, and the
    /// restart finished within the same minute as the instance's previous start, the next apply
    /// cannot tell it happened and restarts the instance once more; the password is unaffected.
    fn started_since_reset(&self, job: &Job, live: &LiveInstance) -> bool {
        let Some(record) = self.state.instances.get(&job.id) else {
            return false;
        };
        record.phase == Phase::Reset
            && live.start_time.is_some()
            && live.start_time != record.start_time_at_reset
    }

    /// Decides the restart per policy and status, or leaves the password pending.
    fn plan_restart(&mut self, job: &mut Job, live: LiveInstance) {
        let kind = match (job.desired.restart, live.status) {
            (RestartPolicy::Never, _) => None,
            (_, InstanceStatus::Running) => Some(RestartKind::Reboot),
            (RestartPolicy::Auto, InstanceStatus::Stopped) => Some(RestartKind::Start),
            _ => None,
        };
        match kind {
            Some(_) if job.restarts_sent >= RESTART_ATTEMPTS => self.fail(
                job,
                format!("no restart took effect after {RESTART_ATTEMPTS} attempts"),
            ),
            Some(kind) => job.step = Step::ReadyToRestart(kind, live),
            None => {
                let reason = match job.desired.restart {
                    RestartPolicy::Never => {
                        "password set; restart policy `never` leaves it pending until the next \
                         restart"
                    }
                    _ => {
                        "password set; the instance stays stopped (restart policy \
                         `running-only`) and gets it at its next start"
                    }
                };
                self.finish(job, Outcome::Pending, None, reason.to_owned());
            }
        }
    }

    fn await_running(
        &mut self,
        job: &mut Job,
        kind: RestartKind,
        before: LiveInstance,
        seen_transition: bool,
        live: &LiveInstance,
    ) {
        let restarted = seen_transition
            || live.start_time != before.start_time
            || before.status != InstanceStatus::Running;
        match live.status {
            InstanceStatus::Running if restarted => {
                let verb = match kind {
                    RestartKind::Reboot => "rebooted",
                    RestartKind::Start => "started",
                };
                job.step = Step::Effective(Some(kind), format!("in effect: {verb}"));
            }
            InstanceStatus::Stopped if seen_transition => self.fail(
                job,
                "it stopped instead of coming back Running; the password is set and takes \
                 effect at its next start"
                    .to_owned(),
            ),
            status => {
                job.step = Step::AwaitRunning {
                    kind,
                    before,
                    seen_transition: seen_transition || !status.is_stable(),
                };
                self.check_timeout(job, Some(status));
            }
        }
    }

    fn check_timeout(&mut self, job: &mut Job, status: Option<InstanceStatus>) {
        if job.waiting_since.elapsed() < self.options.wait_timeout {
            return;
        }
        let limit = humanize(self.options.wait_timeout);
        let seen = status.map_or("unknown".to_owned(), |status| status.to_string());
        let reason = match job.step {
            Step::AwaitRunning { .. } | Step::RestartUnconfirmed(..) => format!(
                "did not come back Running within {limit} after its restart (status {seen}); \
                 the password is set and takes effect once it starts"
            ),
            _ => format!(
                "did not reach a stable status within {limit} (status {seen}); nothing was \
                 changed"
            ),
        };
        self.fail(job, reason);
    }

    /// Records phase `effective` for every instance seen in effect this tick, in one write.
    fn record_effective(&mut self, active: &mut [Job]) -> Result<(), ApplyError> {
        if !active
            .iter()
            .any(|job| matches!(job.step, Step::Effective(..)))
        {
            return Ok(());
        }
        let now = timestamp();
        for job in active
            .iter()
            .filter(|job| matches!(job.step, Step::Effective(..)))
        {
            if let Some(record) = self.state.instances.get_mut(&job.id) {
                record.phase = Phase::Effective;
                record.effective_at = Some(now.clone());
            }
        }
        self.record()?;
        for job in active.iter_mut() {
            if let Step::Effective(kind, reason) = job.step.clone() {
                match kind {
                    Some(RestartKind::Reboot) => self.summary.rebooted += 1,
                    Some(RestartKind::Start) => self.summary.started += 1,
                    None => {}
                }
                self.summary.effective += 1;
                self.finish(job, Outcome::Effective, kind, reason);
            }
        }
        Ok(())
    }

    /// Sends every reset that became possible this tick: intent recorded first, outcome after.
    async fn reset(&mut self, active: &mut [Job]) -> Result<(), ApplyError> {
        let ready: Vec<usize> = (0..active.len())
            .filter(|&index| matches!(active[index].step, Step::ReadyToReset(_)))
            .collect();
        if ready.is_empty() {
            return Ok(());
        }

        let mut previous = HashMap::new();
        let now = timestamp();
        for &index in &ready {
            let job = &active[index];
            let Step::ReadyToReset(live) = &job.step else {
                continue;
            };
            let record = resetting_record(job, live, &now);
            previous.insert(index, self.state.instances.insert(job.id.clone(), record));
        }
        self.record()?;

        let mut calls = JoinSet::new();
        for &index in &ready {
            let job = &active[index];
            let (api, region, id) = (self.api.clone(), job.region.clone(), job.id.clone());
            let password = job.desired.password.clone();
            // The reset's own logs, and the client's logs of its calls, carry the instance id.
            let span = tracing::debug_span!("instance", id = %id);
            calls.spawn(
                async move { (index, reset_with_retries(api, region, id, password).await) }
                    .instrument(span),
            );
        }
        while let Some(joined) = calls.join_next().await {
            let Ok((index, result)) = joined else {
                continue;
            };
            let previous = previous.remove(&index).flatten();
            self.after_reset(&mut active[index], result, previous);
        }
        self.record()
    }

    fn after_reset(
        &mut self,
        job: &mut Job,
        result: Result<(), CallFailure>,
        previous: Option<InstanceRecord>,
    ) {
        let Step::ReadyToReset(live) = job.step.clone() else {
            return;
        };
        match result {
            Ok(()) => {
                if let Some(record) = self.state.instances.get_mut(&job.id) {
                    record.phase = Phase::Reset;
                }
                self.summary.reset += 1;
                self.reporter.event(&Event::Reset {
                    instance: job.id.clone(),
                    region: job.region.clone(),
                });
                self.plan_restart(job, live);
            }
            Err(failure) => {
                let unanswered = matches!(failure, CallFailure::Unanswered(_));
                if !unanswered {
                    // Refused: nothing changed, so the state goes back to what it was.
                    self.restore(&job.id, previous);
                }
                if failure.is_incorrect_status() {
                    job.step = Step::AwaitStable;
                    return;
                }
                let reason = if unanswered {
                    format!(
                        "the password reset got no answer ({failure}); the next apply sends it again"
                    )
                } else {
                    format!("the password reset was refused: {failure}")
                };
                self.fail(job, reason);
            }
        }
    }

    fn restore(&mut self, id: &str, previous: Option<InstanceRecord>) {
        match previous {
            Some(record) => self.state.instances.insert(id.to_owned(), record),
            None => self.state.instances.remove(id),
        };
    }

    /// Sends the restarts due this tick: one call per region and kind (per 100 instances).
    async fn restart(&mut self, active: &mut [Job]) {
        let mut due: BTreeMap<(String, RestartKind), Vec<usize>> = BTreeMap::new();
        for (index, job) in active.iter().enumerate() {
            if let Step::ReadyToRestart(kind, _) = job.step {
                due.entry((job.region.clone(), kind))
                    .or_default()
                    .push(index);
            }
        }
        let mut calls = JoinSet::new();
        for ((region, kind), indices) in due {
            for chunk in indices.chunks(BATCH_LIMIT) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|&index| active[index].id.clone())
                    .collect();
                let (api, region, chunk) = (self.api.clone(), region.clone(), chunk.to_vec());
                let span = tracing::debug_span!("instances", ids = %ids.join(","));
                calls.spawn(
                    async move {
                        let result = match kind {
                            RestartKind::Reboot => api.reboot(&region, &ids).await,
                            RestartKind::Start => api.start(&region, &ids).await,
                        };
                        (chunk, result)
                    }
                    .instrument(span),
                );
            }
        }
        while let Some(joined) = calls.join_next().await {
            let Ok((indices, result)) = joined else {
                continue;
            };
            self.after_restart(active, &indices, result);
        }
    }

    fn after_restart(
        &mut self,
        active: &mut [Job],
        indices: &[usize],
        result: Result<Vec<RestartResult>, CallFailure>,
    ) {
        let mut answers: HashMap<String, Result<(), CallFailure>> = match result {
            Ok(answers) => answers.into_iter().collect(),
            Err(failure) => indices
                .iter()
                .map(|&index| (active[index].id.clone(), Err(failure.clone())))
                .collect(),
        };
        let now = Instant::now();
        for &index in indices {
            let job = &mut active[index];
            let Step::ReadyToRestart(kind, before) = job.step.clone() else {
                continue;
            };
            job.restarts_sent += 1;
            job.waiting_since = now;
            // An instance missing from the answer is treated like a lost answer: check first.
            let answer = answers
                .remove(&job.id)
                .unwrap_or_else(|| Err(CallFailure::Unanswered("no result for it".to_owned())));
            match answer {
                Ok(()) => {
                    self.reporter.event(&Event::RestartSent {
                        instance: job.id.clone(),
                        region: job.region.clone(),
                        restart: kind,
                    });
                    job.step = Step::AwaitRunning {
                        kind,
                        before,
                        seen_transition: false,
                    };
                }
                Err(failure)
                    if failure.is_incorrect_status()
                        || matches!(failure, CallFailure::Unanswered(_)) =>
                {
                    tracing::debug!(instance = %job.id, %failure, "restart unconfirmed; checking");
                    job.step = Step::RestartUnconfirmed(kind, before);
                }
                Err(failure) => self.fail(
                    job,
                    format!(
                        "the restart was refused: {failure}; the password is set and takes \
                         effect at its next start"
                    ),
                ),
            }
        }
    }

    /// Records a failure and stops new work. The rest of the wave is not started either, so
    /// that no further machine is restarted after something went wrong; the next apply picks
    /// those instances up.
    fn fail(&mut self, job: &mut Job, reason: String) {
        self.halted = true;
        self.summary.failed.push(Failure {
            instance: job.id.clone(),
            reason: reason.clone(),
        });
        self.finish(job, Outcome::Failed, None, reason);
    }

    fn finish(
        &mut self,
        job: &mut Job,
        outcome: Outcome,
        restart: Option<RestartKind>,
        reason: String,
    ) {
        match outcome {
            Outcome::Pending => self.summary.left_pending += 1,
            Outcome::NotStarted => self.summary.not_started += 1,
            _ => {}
        }
        tracing::debug!(instance = %job.id, ?outcome, %reason, "instance finished");
        job.step = Step::Done;
        self.reporter.event(&Event::Finished {
            instance: job.id.clone(),
            region: job.region.clone(),
            wave: job.wave,
            outcome,
            restart,
            reason,
        });
    }

    fn record(&mut self) -> Result<(), ApplyError> {
        self.journal.record(self.state).map_err(ApplyError::Journal)
    }
}

/// What one status poll said about one instance.
enum Answer {
    Live(LiveInstance),
    Missing,
    Refused(CallFailure),
}

/// Sends a reset, and sends it again with the same password while its answer is lost: a reset
/// is safe to repeat.
async fn reset_with_retries<A: InstanceApi>(
    api: A,
    region: String,
    id: String,
    password: crate::secret::SecretString,
) -> Result<(), CallFailure> {
    let mut attempt = 1;
    loop {
        match api.reset_password(&region, &id, &password).await {
            Err(CallFailure::Unanswered(reason)) if attempt < RESET_ATTEMPTS => {
                tracing::debug!(instance = %id, %reason, attempt, "reset unanswered; sending again");
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Now, as the state records times (RFC 3339, UTC).
pub(super) fn timestamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A duration as people write it: `90s`, `10m`.
fn humanize(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else if seconds > 0 {
        format!("{seconds}s")
    } else {
        format!("{}ms", duration.as_millis())
    }
}
