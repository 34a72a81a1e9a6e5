//! `passform emulator`: serve the ECS emulator on a loopback address until killed.
//!
//! The first line on stdout is `listening on http://ADDRESS`, flushed at once, so that scripts
//! and tests that start the binary with port 0 can read the port it got.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::EmulatorArgs;
use crate::emulator::{Emulator, EmulatorError, Fleet};

/// Loads the fleet file, starts serving, announces the URL and serves until killed.
pub async fn run(args: &EmulatorArgs) -> Result<ExitCode, EmulatorError> {
    let text = std::fs::read_to_string(&args.fleet).map_err(|source| EmulatorError::FleetRead {
        path: args.fleet.clone(),
        source,
    })?;
    let fleet = Fleet::parse(&text)?;
    if !args.listen.ip().is_loopback() {
        tracing::warn!(
            address = %args.listen,
            "the emulator serves every password it holds under /_emulator/ without \
             authentication; listen on a loopback address unless this network is yours alone"
        );
    }
    let instances = fleet.instances.len();
    let running = Emulator::start(fleet, args.listen).await?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", running.url()).map_err(EmulatorError::Announce)?;
    stdout.flush().map_err(EmulatorError::Announce)?;
    drop(stdout);
    tracing::info!(instances, "emulator serving");

    running.serve_forever().await;
    Ok(ExitCode::SUCCESS)
}
