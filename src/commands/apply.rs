//! `passform apply`: carry out a plan, under the state lock, asking first unless approved.
//!
//! Without a saved plan, apply computes a fresh one exactly as `passform plan` would, shows it,
//! and proceeds only on the literal answer `yes` (or with `--auto-approve`); without a terminal
//! to ask on, it refuses before touching anything. A saved plan was reviewed already, so it
//! runs without asking, after checking that nothing it was made from has changed. The lock is
//! held from before the state is read until the last record is written. The first Ctrl-C stops
//! new work and lets what is in flight finish and be recorded; the second exits at once,
//! leaving a state from which the next apply finishes the job.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::apply::report::{JsonLines, PlainLines, Progress};
use crate::apply::{
    self, ApplyError, Event, Interrupt, Journal, Options, Reporter, StateFile, Summary,
};
use crate::cli::{ApplyArgs, ApplyFormat, PlanFormat};
use crate::document::LoadedDocument;
use crate::ecs::Client;
use crate::ecs::model::FleetView;
use crate::plan::saved;
use crate::plan::{self, LiveView, Plan};
use crate::report::Hint;
use crate::settings::Settings;
use crate::state::State;
use crate::state::lock::StateLock;

use super::plan::render_plan;
use super::print_data;

/// The exit status after a second Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED_TWICE: i32 = 130;

/// Runs `passform apply`.
pub async fn run(settings: &Settings, args: &ApplyArgs) -> Result<ExitCode, super::Error> {
    let asks = args.plan_file.is_none() && !args.auto_approve;
    if asks && !std::io::stdin().is_terminal() {
        return Err(ApplyCommandError::NoTerminal.into());
    }
    if args.plan_file.is_some() && !args.targets.is_empty() {
        return Err(ApplyCommandError::TargetWithSavedPlan.into());
    }

    let _lock = StateLock::acquire(&settings.lock_path, args.api.lock_timeout, "apply")?;
    let loaded = crate::document::load(&settings.document_path, &settings.identities)?;
    let mut state = crate::state::load(&settings.state_path)?;
    let desired = plan::Desired::from_document(&loaded.document);
    let client = Client::from_settings(settings, args.api.max_rps).await?;
    let fleet = client.read_fleet(&wanted(&desired, &args.targets)).await?;
    let plan = plan_to_apply(args, &desired, &loaded, &state, &fleet)?;

    let mut journal = StateFile::new(&settings.state_path);
    if !plan.has_changes() {
        record_settled(&plan, &mut state, &fleet, &mut journal)?;
        eprintln!("No changes: every declared password is in effect or waits as planned.");
        if args.format == ApplyFormat::Json {
            // CI reads the summary line to learn the outcome, also when there was nothing to do.
            reporter_for(args.format).event(&Event::Summary(Summary::default()));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if asks {
        let shown = render_plan(&plan, PlanFormat::Text);
        if args.format == ApplyFormat::Json {
            // stdout carries only the JSON events, one per line, for whatever reads them.
            eprint!("{shown}");
        } else {
            print_data(&shown)?;
        }
        confirm()?;
    }
    record_settled(&plan, &mut state, &fleet, &mut journal)?;

    let options = Options {
        parallelism: args.parallelism as usize,
        wait_timeout: args.wait_timeout,
        interrupt: interrupt_on_ctrl_c(),
        ..Options::default()
    };
    let mut reporter = reporter_for(args.format);
    let summary = apply::run(
        &plan,
        &loaded.document,
        &mut state,
        client,
        &mut journal,
        reporter.as_mut(),
        &options,
    )
    .await
    .map_err(ApplyCommandError::Run)?;
    Ok(if summary.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `(region, id)` of every declared instance the plan covers, as `passform plan` reads
/// them.
fn wanted(desired: &[plan::Desired], targets: &[String]) -> Vec<(String, String)> {
    desired
        .iter()
        .filter(|instance| targets.is_empty() || targets.contains(&instance.id))
        .map(|instance| (instance.region.clone(), instance.id.clone()))
        .collect()
}

/// The saved plan, if it still holds; otherwise a fresh plan, as `passform plan` makes it.
fn plan_to_apply(
    args: &ApplyArgs,
    desired: &[plan::Desired],
    loaded: &LoadedDocument,
    state: &State,
    fleet: &FleetView,
) -> Result<Plan, super::Error> {
    let live = LiveView {
        instances: &fleet.instances,
        suspect_regions: &fleet.suspect_regions,
    };
    match &args.plan_file {
        Some(path) => {
            let saved = saved::load(path)?;
            saved::check(&saved, state, &loaded.digest, live)?;
            Ok(saved.plan)
        }
        None => Ok(plan::compute(desired, state, live, &args.targets)?),
    }
}

/// Records the passwords that a start since their reset made effective, which the plan
/// leaves to apply to record.
fn record_settled(
    plan: &Plan,
    state: &mut State,
    fleet: &FleetView,
    journal: &mut StateFile,
) -> Result<(), ApplyCommandError> {
    let settled = apply::record_started(plan, state, &fleet.instances);
    if settled.is_empty() {
        return Ok(());
    }
    journal
        .record(state)
        .map_err(|error| ApplyCommandError::Run(ApplyError::Journal(error)))?;
    for id in settled {
        eprintln!("{id}: recorded as in effect: the instance started since its reset");
    }
    Ok(())
}

/// Asks on the terminal; only the literal answer `yes` proceeds.
fn confirm() -> Result<(), ApplyCommandError> {
    eprint!("\nApply these changes? Only `yes` proceeds: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(ApplyCommandError::Prompt)?;
    if answer.trim_end_matches(['\r', '\n']) == "yes" {
        Ok(())
    } else {
        Err(ApplyCommandError::Declined)
    }
}

/// JSON events on stdout; otherwise a progress bar on a terminal, plain lines elsewhere.
fn reporter_for(format: ApplyFormat) -> Box<dyn Reporter> {
    match format {
        ApplyFormat::Json => Box::new(JsonLines::new(std::io::stdout())),
        ApplyFormat::Text if std::io::stderr().is_terminal() => Box::new(Progress::default()),
        ApplyFormat::Text => Box::new(PlainLines::new(std::io::stderr())),
    }
}

/// The first Ctrl-C raises the interrupt; the second ends the process at once. Everything
/// already done is in the state, which is written before and after every step.
fn interrupt_on_ctrl_c() -> Interrupt {
    let interrupt = Interrupt::default();
    let raised = interrupt.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        raised.raise();
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted again: exiting now; `passform plan` shows what remains");
            std::process::exit(INTERRUPTED_TWICE);
        }
    });
    interrupt
}

/// Why `passform apply` did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ApplyCommandError {
    /// Approval is needed and there is no terminal to ask on.
    #[error("apply needs approval, and standard input is not a terminal to ask on")]
    NoTerminal,
    /// `--target` was given with a saved plan, which already fixes what to change.
    #[error("--target cannot be combined with a saved plan")]
    TargetWithSavedPlan,
    /// The user answered something other than `yes`.
    #[error("apply cancelled: the answer was not `yes`")]
    Declined,
    /// The answer could not be read.
    #[error("could not read the answer from the terminal")]
    Prompt(#[source] std::io::Error),
    /// Apply stopped before it finished.
    #[error(transparent)]
    Run(ApplyError),
}

impl Hint for ApplyCommandError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::NoTerminal => Some(
                "review the plan with `passform plan --out FILE` and run `passform apply FILE`, \
                 or pass --auto-approve"
                    .to_owned(),
            ),
            Self::TargetWithSavedPlan => Some(
                "make the saved plan with `passform plan --target ID --out FILE` instead"
                    .to_owned(),
            ),
            Self::Declined => Some("nothing was changed; answer `yes` to proceed".to_owned()),
            Self::Prompt(_) => None,
            Self::Run(error) => error.hint(),
        }
    }
}
