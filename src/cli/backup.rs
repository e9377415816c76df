//! `locker-kiosk backup FILE` and `locker-kiosk restore FILE`: the records
//! copied out while the kiosk runs, and put back with the kiosk stopped.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::GlobalArgs;
use crate::app::system;
use crate::store::{self, Store};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (readable by this user only)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A copy made by `locker-kiosk backup`
    pub file: PathBuf,
}

fn finish(command: &str, result: Result<String, String>) -> ExitCode {
    match result {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("locker-kiosk {command}: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn backup(global: &GlobalArgs, args: &BackupArgs) -> ExitCode {
    let result = store::backup(&global.data_dir(), &args.file)
        .map(|found| {
            format!(
                "backed up the records of locker `{}` (schema {}) to {}",
                found.locker_id.as_deref().unwrap_or("?"),
                found.version,
                args.file.display()
            )
        })
        .map_err(|e| e.to_string());
    finish("backup", result)
}

pub fn restore(global: &GlobalArgs, args: &RestoreArgs) -> ExitCode {
    finish("restore", restore_checked(global, args))
}

fn restore_checked(global: &GlobalArgs, args: &RestoreArgs) -> Result<String, String> {
    let config = global
        .load_config()
        .map_err(|errors| format!("the configuration has errors:\n{errors}"))?;
    let found = store::inspect(&args.file).map_err(|e| e.to_string())?;
    if let Some(id) = found.locker_id.as_deref()
        && id != config.locker.id
    {
        return Err(format!(
            "{} holds the records of locker `{id}`, not of this locker (`{}`): nothing was changed",
            args.file.display(),
            config.locker.id
        ));
    }
    let kept = Store::restore(&global.data_dir(), &args.file, system::now())
        .map_err(|e| format!("{e}\nnothing was changed"))?;
    Ok(format!(
        "restored the records of locker `{}` from {}; the records it replaced are kept in {}",
        config.locker.id,
        args.file.display(),
        kept.display()
    ))
}
