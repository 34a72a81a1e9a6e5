//! The `passform` binary: parse the command line, run the command, map the outcome to an exit
//! code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = passform::cli::Cli::parse();
    passform::commands::main(cli)
}
