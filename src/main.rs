use std::process::ExitCode;

use clap::Parser;
use locker_kiosk::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.log_json);
    cli::main(cli)
}
