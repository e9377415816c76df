use std::process::ExitCode;

use clap::Parser;
use locker_kiosk::cli::{self, Cli};

fn main() -> ExitCode {
    // `locker-kiosk parcels list | head` ends quietly, as Unix tools do.
    // SAFETY: setting a signal's disposition to the default at the start
    // of main, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    cli::init_logging(cli.global.log_json);
    cli::main(cli)
}
