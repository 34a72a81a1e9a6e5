//! passform keeps the logon passwords of Alibaba Cloud ECS instances in the state that a
//! repository declares, the way Terraform keeps infrastructure.
//!
//! The modules follow the pipeline, and data flows one way through it:
//!
//! - [`document`]: the desired document, age-encrypted TOML: decrypted, parsed, validated, and
//!   the source of every desired password.
//! - [`state`]: what passform has done (`passform.state.json`) and the lock that guards it.
//! - [`ecs`]: the ECS API client: signing, credentials, retries, the live view of instances.
//! - [`plan`]: the planner (a pure function of document, state and live status) and its
//!   renderers.
//! - [`apply`]: carries a plan out, journaling every step into the state.
//! - [`emulator`]: a local twin of the ECS API for tests, benchmarks and the quickstart.
//! - [`cli`], [`settings`] and [`commands`]: what the user typed, resolved, and run.
//!
//! Beside them, [`atomic_file`] replaces the files a user keeps without ever leaving half of
//! one, [`secret`] holds secrets that never print, and [`report`] renders errors.

pub mod apply;
pub mod atomic_file;
pub mod cli;
pub mod commands;
pub mod document;
pub mod ecs;
pub mod emulator;
pub mod plan;
pub mod report;
pub mod secret;
pub mod settings;
pub mod state;
