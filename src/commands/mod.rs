//! One function per command, and the entry point that runs them.
//!
//! Each command file turns resolved settings and its own arguments into calls on the library
//! modules and prints the result: data on stdout, progress and warnings on stderr. This file
//! sets up logging and the async runtime, and maps outcomes to exit codes: 0 success, 1 error,
//! 2 for `plan --detailed-exitcode` with changes.

use std::io::Write as _;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::report::{self, Hint};
use crate::settings::Settings;

pub mod apply;
pub mod edit;
pub mod emulator;
pub mod force_unlock;
pub mod init;
pub mod password;
pub mod plan;
pub mod rotate;
pub mod show;
pub mod show_document;
pub mod state;
pub mod validate;

/// Runs the command line and returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    init_logging(&cli.global);
    let settings = Settings::resolve(&cli.global);
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
        .and_then(|runtime| runtime.block_on(run(&settings, cli.command)));
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprint!("{}", report::render(&error, error.hint()));
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: &Settings, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Init(args) => Ok(init::run(settings, &args)?),
        Command::Password(args) => Ok(password::run(settings, &args)?),
        Command::Validate(args) => Ok(validate::run(settings, &args)?),
        Command::Rotate(args) => Ok(rotate::run(settings, &args)?),
        Command::ShowDocument(args) => Ok(show_document::run(settings, &args)?),
        Command::Edit => Ok(edit::run(settings).await?),
        Command::Show(args) => show::run(settings, &args),
        Command::State(command) => state::run(settings, &command),
        Command::ForceUnlock => force_unlock::run(settings),
        Command::Plan(args) => plan::run(settings, &args).await,
        Command::Apply(args) => apply::run(settings, &args).await,
        Command::Emulator(args) => Ok(emulator::run(&args).await?),
    }
}

/// Logs go to stderr: warnings by default, `-v` debug, `-vv` trace, `-q` errors only;
/// `RUST_LOG` overrides all of these.
fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "passform=debug,warn",
        (false, _) => "passform=trace,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && no_color_unset())
        .without_time()
        .try_init();
}

/// Returns true unless the user asked for no colour with `NO_COLOR`.
pub fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Returns true when stdout is a terminal and the user did not ask for no colour.
pub fn stdout_wants_colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout()) && no_color_unset()
}

/// Writes data to stdout; a closed pipe (`passform plan | head`) is an error, not a panic.
pub fn print_data(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Error::Output)
}

/// Every way a command can fail, one variant per module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The desired document.
    #[error(transparent)]
    Document(#[from] crate::document::DocumentError),
    /// `passform edit`.
    #[error(transparent)]
    Edit(#[from] edit::EditError),
    /// The state file.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The ECS emulator.
    #[error(transparent)]
    Emulator(#[from] crate::emulator::EmulatorError),
    /// The ECS API.
    #[error(transparent)]
    Ecs(#[from] crate::ecs::EcsError),
    /// The state lock.
    #[error(transparent)]
    Lock(#[from] crate::state::lock::LockError),
    /// The planner.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// A saved plan.
    #[error(transparent)]
    SavedPlan(#[from] crate::plan::saved::SavedPlanError),
    /// Standard output could not be written.
    #[error("could not write to standard output")]
    Output(#[source] std::io::Error),
    /// `passform apply`.
    #[error(transparent)]
    Apply(#[from] apply::ApplyCommandError),
}

impl Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Runtime(_) | Self::Output(_) => None,
            Self::Document(error) => error.hint(),
            Self::Edit(error) => error.hint(),
            Self::State(error) => error.hint(),
            Self::Emulator(error) => error.hint(),
            Self::Ecs(error) => error.hint(),
            Self::Lock(error) => error.hint(),
            Self::Plan(error) => error.hint(),
            Self::SavedPlan(error) => error.hint(),
            Self::Apply(error) => error.hint(),
        }
    }
}
