//! `passform plan`: show what apply would change, and why, without changing anything.
//!
//! It holds the state lock while it reads, so the state it plans against is not half-way
//! through another command's apply. It reads only the declared instances (one DescribeInstances
//! per region per 100 ids) and calls nothing else. The plan goes to stdout; warnings, and where
//! a saved plan went, go to stderr.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::{PlanArgs, PlanFormat};
use crate::document::{self, LoadedDocument};
use crate::ecs::Client;
use crate::plan::saved::{self, SavedPlan};
use crate::plan::{self, Desired, LiveView, Plan, render};
use crate::settings::Settings;
use crate::state::{self, lock::StateLock};

use super::{Error, print_data, stdout_wants_colour};

/// The exit code of `plan --detailed-exitcode` when there are changes.
const CHANGES_PRESENT: u8 = 2;

/// Runs `passform plan`.
pub async fn run(settings: &Settings, args: &PlanArgs) -> Result<ExitCode, Error> {
    let _lock = StateLock::acquire(&settings.lock_path, args.api.lock_timeout, "plan")?;
    let LoadedDocument { document, digest } =
        document::load(&settings.document_path, &settings.identities)?;
    let state = state::load(&settings.state_path)?;
    // Only the planner's view of the document is kept: on a large fleet, freeing the rest
    // before the live status is read keeps plan's peak memory down.
    let desired = Desired::from_document(&document);
    drop(document);

    // The calls are spaced by the shared request budget, so at the default of 20 per second a
    // fleet of 10,000 instances (100 calls) takes about 5 seconds to read.
    let client = Client::from_settings(settings, args.api.max_rps).await?;
    let fleet = client.read_fleet(&wanted(&desired, &args.targets)).await?;
    let live = LiveView {
        instances: &fleet.instances,
        suspect_regions: &fleet.suspect_regions,
    };
    let mut plan = plan::compute(&desired, &state, live, &args.targets)?;
    drop(desired);

    warn_about(&plan, live);
    if let Some(path) = &args.out {
        plan = save(path, plan, &state, &digest, live)?;
    }
    // Rendering needs only the plan, so the live view and the state go first.
    drop((fleet, state));
    match args.format {
        PlanFormat::Text => print_text(&plan)?,
        format => print_data(&render_plan(&plan, format))?,
    }
    Ok(exit_code(&plan, args.detailed_exitcode))
}

/// Writes the text plan straight to stdout: for a large fleet it runs to megabytes, which need
/// not be held in memory at once. A closed pipe is an error, as with [`print_data`].
fn print_text(plan: &Plan) -> Result<(), Error> {
    let mut stdout = TextOut {
        writer: std::io::BufWriter::new(std::io::stdout().lock()),
        failure: None,
    };
    let written = render::write_text(&mut stdout, plan, stdout_wants_colour());
    let flushed = stdout.writer.flush();
    match (written, stdout.failure, flushed) {
        (Ok(()), None, Ok(())) => Ok(()),
        (_, Some(error), _) | (_, None, Err(error)) => Err(Error::Output(error)),
        (Err(_), None, Ok(())) => Err(Error::Output(std::io::Error::other("formatting failed"))),
    }
}

/// stdout as a text sink, keeping the first write error, which `fmt::Write` cannot carry.
struct TextOut<W: std::io::Write> {
    writer: W,
    failure: Option<std::io::Error>,
}

impl<W: std::io::Write> std::fmt::Write for TextOut<W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.writer.write_all(text.as_bytes()).map_err(|error| {
            self.failure.get_or_insert(error);
            std::fmt::Error
        })
    }
}

/// The `(region, id)` of every declared instance the plan covers.
fn wanted(desired: &[Desired], targets: &[String]) -> Vec<(String, String)> {
    desired
        .iter()
        .filter(|instance| targets.is_empty() || targets.contains(&instance.id))
        .map(|instance| (instance.region.clone(), instance.id.clone()))
        .collect()
}

fn warn_about(plan: &Plan, live: LiveView<'_>) {
    if plan.partial {
        eprintln!(
            "warning: this plan is partial: it covers only the instances named with --target, \
             and other instances may need changes too"
        );
    }
    for region in live.suspect_regions {
        eprintln!(
            "warning: none of the declared instances in region {region} came back; the \
             credentials may not be allowed to read that region"
        );
    }
}

/// Saves the plan bound to what it was computed from, and hands the plan back for printing.
fn save(
    path: &std::path::Path,
    plan: Plan,
    state: &state::State,
    document_digest: &str,
    live: LiveView<'_>,
) -> Result<Plan, Error> {
    let saved_plan = SavedPlan::new(plan, state, document_digest, live);
    saved::save(path, &saved_plan)?;
    eprintln!(
        "Saved this plan to `{}`; `passform apply {}` carries out exactly this plan.",
        path.display(),
        path.display()
    );
    Ok(saved_plan.plan)
}

/// Renders a plan in the format the user asked for.
pub fn render_plan(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => render::text(plan, stdout_wants_colour()),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan),
    }
}

fn exit_code(plan: &Plan, detailed: bool) -> ExitCode {
    if detailed && plan.has_changes() {
        ExitCode::from(CHANGES_PRESENT)
    } else {
        ExitCode::SUCCESS
    }
}
