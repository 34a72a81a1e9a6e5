//! The command line as typed: clap definitions for every command and global option.
//!
//! This module only describes what a user can type and which environment variable stands in
//! for each global option. It resolves nothing: turning these raw values into settings (default
//! identity path, endpoint per region, credentials) happens in `settings`, in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps the logon passwords of Alibaba Cloud ECS instances in the state a repository declares.
#[derive(Debug, Parser)]
#[command(name = "passform", version, about, max_term_width = 100)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every command, each with an environment twin.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The encrypted desired document.
    #[arg(
        long,
        global = true,
        env = "PASSFORM_FILE",
        default_value = "passwords.toml.age",
        value_name = "PATH"
    )]
    pub file: PathBuf,

    /// The state file.
    #[arg(
        long,
        global = true,
        env = "PASSFORM_STATE",
        default_value = "passform.state.json",
        value_name = "PATH"
    )]
    pub state: PathBuf,

    /// An age identity file that can decrypt the document (repeatable); defaults to the user's
    /// passform identity file.
    #[arg(
        short,
        long = "identity",
        global = true,
        env = "PASSFORM_IDENTITY",
        value_name = "PATH",
        value_delimiter = ':'
    )]
    pub identities: Vec<PathBuf>,

    /// The ECS endpoint for every region (plain http:// only for loopback addresses).
    #[arg(long, global = true, env = "PASSFORM_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,

    /// The aliyun CLI profile to take credentials from.
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// More logs on stderr: -v for debug, -vv for trace (RUST_LOG overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Errors only on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The commands passform offers.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an identity (if missing) and a new encrypted document.
    Init(InitArgs),
    /// Decrypt the document into a private file, open $VISUAL or $EDITOR, validate, re-encrypt.
    Edit,
    /// Decrypt and check the document, without touching the network.
    Validate(ValidateArgs),
    /// Show what apply would change, and why, without changing anything.
    Plan(PlanArgs),
    /// Carry out a plan: reset passwords and restart instances so they take effect.
    Apply(ApplyArgs),
    /// Render a saved plan, or the state when no plan is given.
    Show(ShowArgs),
    /// Inspect or edit the state file.
    #[command(subcommand)]
    State(StateCommand),
    /// Break a lock that the operating system cannot release (state on a shared filesystem).
    ForceUnlock,
    /// Raise generations inside the encrypted document, so the next apply rotates passwords.
    Rotate(RotateArgs),
    /// Print one instance's desired password to stdout.
    Password(PasswordArgs),
    /// Print the document with every secret masked (for a git textconv driver).
    ShowDocument(ShowDocumentArgs),
    /// Serve a local emulator of the ECS API.
    Emulator(EmulatorArgs),
}

/// Options of `passform init`.
#[derive(Debug, Args)]
pub struct InitArgs {}

/// Options of `passform validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// How to print the outcome.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
}

/// Output formats of `passform validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Lines for people.
    Text,
    /// One JSON object, for editors and CI.
    Json,
}

/// Options that limit how fast and how long passform talks to ECS.
#[derive(Debug, Args, Clone)]
pub struct ApiArgs {
    /// How long to wait for another passform command's lock on the state.
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: Duration,

    /// At most this many API requests per second, shared by every task.
    #[arg(long, default_value_t = 20.0, value_name = "N")]
    pub max_rps: f64,
}

/// Options of `passform plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan to this file, for `passform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 2 when there are changes, 0 when there are none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Plan only these instances (repeatable); the plan is then partial.
    #[arg(long = "target", value_name = "ID")]
    pub targets: Vec<String>,

    /// Limits on talking to ECS.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Output formats of `passform plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A unified diff of the managed view and a summary line.
    Text,
    /// One versioned JSON object.
    Json,
    /// A pull-request comment.
    Markdown,
}

/// Options of `passform apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `passform plan --out`; apply refuses it if anything changed since.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,

    /// Proceed without asking.
    #[arg(long)]
    pub auto_approve: bool,

    /// At most this many instances resetting or restarting at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub parallelism: u32,

    /// Apply only these instances (repeatable).
    #[arg(long = "target", value_name = "ID")]
    pub targets: Vec<String>,

    /// How long to wait for an instance to reach a stable status.
    #[arg(long, value_parser = parse_duration, default_value = "10m", value_name = "DURATION")]
    pub wait_timeout: Duration,

    /// How to report progress.
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    pub format: ApplyFormat,

    /// Limits on talking to ECS.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Output formats of `passform apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    /// Progress and a summary for people.
    Text,
    /// One JSON event per line.
    Json,
}

/// Options of `passform show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan to render; without it, the state is shown.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,

    /// How to print it.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// The `passform state` commands.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the instances the state records.
    List,
    /// Show what the state records for one instance.
    Show {
        /// The instance id.
        id: String,
    },
    /// Forget one instance (a backup of the state is kept).
    Rm {
        /// The instance id.
        id: String,
    },
}

/// Options of `passform rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The instances whose generation to raise.
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub ids: Vec<String>,

    /// Raise the generation of every instance.
    #[arg(long)]
    pub all: bool,
}

/// Options of `passform password`.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The instance id.
    pub id: String,
}

/// Options of `passform show-document`.
#[derive(Debug, Args)]
pub struct ShowDocumentArgs {
    /// Read this encrypted file instead of --file (git textconv passes the path).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

/// Options of `passform emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// The fleet file describing the emulated instances.
    #[arg(long, value_name = "FILE")]
    pub fleet: PathBuf,
}

/// Parses durations such as `30s`, `5m`, `1h`, `250ms` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write it like 30s, 5m or 1h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "`{unit}` is not a duration unit; use ms, s, m or h"
            ));
        }
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_accept_the_usual_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
