//! The ECS emulator: a local twin of the ECS RPC API for tests, benchmarks and the quickstart.
//!
//! It keeps its own model of instances (status transitions with timing, pending and effective
//! passwords) and authenticates requests with its own implementation of the documented
//! signature algorithms, so that a mistake in the client's signing cannot hide in both.
//!
//! The pieces, in the order a request meets them: [`fleet`] (the fleet file), `server` (HTTP),
//! `request` (decoding), `auth` (signatures V2 and V3), `faults` (injected failures),
//! `operations` (the API), `world` and `instance` (the model, on the emulated `clock`),
//! `response` (error codes and bodies) and `inspect` (the test-only `/_emulator/` endpoints).
//! docs/emulator.md is the user's guide.

pub mod auth;
pub mod clock;
pub mod faults;
pub mod fleet;
pub mod inspect;
pub mod instance;
pub mod operations;
pub mod request;
pub mod response;
pub mod server;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use fleet::Fleet;

use crate::report::Hint;

/// Everything that can go wrong loading a fleet or starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The fleet file could not be read.
    #[error("could not read the fleet file `{}`", path.display())]
    FleetRead {
        /// The fleet file.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The fleet file is not valid TOML, or has a key the emulator does not know.
    #[error("the fleet file is not a valid fleet description")]
    FleetSyntax(#[source] toml::de::Error),
    /// The fleet file parses but describes something impossible.
    #[error("the fleet file is not valid: {reason}")]
    FleetInvalid {
        /// What is wrong, naming the key or the instance.
        reason: String,
    },
    /// The listen address could not be bound.
    #[error("could not listen on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The `listening on` line could not be written to stdout.
    #[error("could not announce the emulator's address on stdout")]
    Announce(#[source] std::io::Error),
}

impl Hint for EmulatorError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::FleetRead { .. } => Some("check the path given to --fleet".to_owned()),
            Self::FleetSyntax(_) => Some(
                "see docs/emulator.md for the fleet file's keys: time_scale, [credentials], \
                 [timing] and [[instance]]"
                    .to_owned(),
            ),
            Self::FleetInvalid { .. } => Some("fix that entry in the fleet file".to_owned()),
            Self::Bind { .. } => Some(
                "pick another address, or port 0 to let the system choose a free port".to_owned(),
            ),
            Self::Announce(_) => None,
        }
    }
}

/// The emulator, ready to start.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Loads the fleet and serves it on `address`, on the current tokio runtime. The emulated
    /// clock starts now.
    pub async fn start(
        fleet: Fleet,
        address: SocketAddr,
    ) -> Result<RunningEmulator, EmulatorError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| EmulatorError::Bind { address, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { address, source })?;
        let shared = Arc::new(server::Shared::new(fleet));
        let task = tokio::spawn(server::serve(listener, shared));
        Ok(RunningEmulator { address, task })
    }
}

/// A serving emulator; dropping it stops serving and closes its connections.
#[derive(Debug)]
pub struct RunningEmulator {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the process ends.
    pub async fn serve_forever(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
