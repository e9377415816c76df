//! The command line. `locker-kiosk` alone runs the kiosk; the subcommands
//! are for staff and installers. Each subcommand lives in its own module.

mod audit;
mod backup;
mod decode;
mod doctor;
mod doors;
mod exercise;
mod fleet_sim;
mod measure;
mod operator;
mod run;
mod screenshot;
mod sim;
mod staff;
mod systemd;
mod verify_receipt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::data_dir;
use crate::config::{Config, ConfigErrors};

#[derive(Debug, Parser)]
#[command(
    name = "locker-kiosk",
    version,
    about = "Touchscreen software for smart parcel lockers"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `locker-kiosk --windowed` means `locker-kiosk run --windowed`.
    #[command(flatten)]
    pub run: run::RunArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Configuration file [default: ./locker-kiosk.toml, then /etc/locker-kiosk/config.toml, then the built-in demo locker]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the database lives [default: $STATE_DIRECTORY, /var/lib/locker-kiosk for root and its owner, else the user's data directory; the demo in demo/ inside]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use the built-in demo locker and demo data (codes in README.md), whatever config exists
    #[arg(long, global = true)]
    pub demo: bool,
    /// Log machine-readable JSON lines instead of text (level from RUST_LOG)
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The camera, overriding the configuration: a device such as /dev/video0, replay:DIR (a folder of images played as frames), or none
    #[arg(long, global = true, value_name = "DEVICE", value_parser = crate::config::CameraDevice::parse)]
    pub camera: Option<crate::config::CameraDevice>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kiosk (the default)
    Run(run::RunArgs),
    /// Check the configuration, database, lock boards and camera; non-zero exit on any failure
    Doctor,
    /// Door states and opens, from the configuration or a bare board (--port)
    #[command(subcommand)]
    Doors(doors::DoorsCommand),
    /// Simulate lock boards on a pseudo-terminal (prints its path)
    Sim(sim::SimArgs),
    /// Decode barcodes in image files with the kiosk's scanning pipeline
    Decode(decode::DecodeArgs),
    /// Render a screen with demo data to a PNG, headlessly (`--screen list` for the names)
    Screenshot(screenshot::ScreenshotArgs),
    /// Check a courier's proof-of-delivery receipt (the text of its QR code)
    VerifyReceipt(verify_receipt::VerifyReceiptArgs),
    /// Maintenance access: the admin PIN
    #[command(subcommand)]
    Admin(staff::AdminCommand),
    /// Couriers who may log in: list them, add one, revoke one
    #[command(subcommand)]
    Couriers(staff::CouriersCommand),
    /// List compartments, take one out of service or put it back
    #[command(subcommand)]
    Compartments(staff::CompartmentsCommand),
    /// Take the whole locker out of service or put it back
    #[command(subcommand)]
    Locker(staff::LockerCommand),
    /// List parcels, show one with its history, expire those past their time, extend one, mark one for return
    #[command(subcommand)]
    Parcels(staff::ParcelsCommand),
    /// Reports raised at the kiosk: list them, mark one handled
    #[command(subcommand)]
    Reports(staff::ReportsCommand),
    /// Copy the records to FILE, safely while the kiosk runs
    Backup(backup::BackupArgs),
    /// Put the records of a backup back (the kiosk stopped); the replaced ones are kept beside
    Restore(backup::RestoreArgs),
    /// The tamper-evident audit log: check its hash chain, export it
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The fleet's side: make an operator key, send a signed command to a locker, watch every locker on a broker
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// N headless locker cores against a broker, depositing and collecting: events/s, latency, memory
    FleetSim(fleet_sim::FleetSimArgs),
    /// One scripted visit, headless (the crash harness kills it mid-way)
    #[command(hide = true)]
    Exercise(exercise::ExerciseArgs),
}

impl GlobalArgs {
    pub fn load_config(&self) -> Result<Config, ConfigErrors> {
        let mut config = if self.demo {
            Config::demo()
        } else {
            Config::locate(self.config.as_deref())?
        };
        if let Some(camera) = &self.camera {
            config.camera.device = camera.clone();
        }
        Ok(config)
    }

    /// The demo, asked for or because no configuration holds settings yet,
    /// keeps its records apart from the locker's (`demo/` inside), so that
    /// configuring the locker later starts from clean records.
    pub fn data_dir(&self) -> PathBuf {
        let demo = self.demo || crate::config::configured_file(self.config.as_deref()).is_none();
        data_dir::resolve(self.data_dir.clone(), demo)
    }
}

pub fn main(cli: Cli) -> ExitCode {
    measure::mark_process_start();
    let global = cli.global;
    match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Run(args) => run::run(&global, &args),
        Command::Doctor => doctor::doctor(&global),
        Command::Doors(command) => doors::doors(&global, &command),
        Command::Sim(args) => sim::sim(&args),
        Command::Screenshot(args) => screenshot::screenshot(&args),
        Command::Decode(args) => decode::decode(&args),
        Command::VerifyReceipt(args) => verify_receipt::verify_receipt(&global, &args),
        Command::Admin(command) => staff::admin(&global, &command),
        Command::Couriers(command) => staff::couriers(&global, &command),
        Command::Compartments(command) => staff::compartments(&global, &command),
        Command::Locker(command) => staff::locker(&global, &command),
        Command::Parcels(command) => staff::parcels(&global, &command),
        Command::Reports(command) => staff::reports(&global, &command),
        Command::Backup(args) => backup::backup(&global, &args),
        Command::Restore(args) => backup::restore(&global, &args),
        Command::Audit(command) => audit::run(&global, &command),
        Command::Operator(command) => operator::operator(&command),
        Command::FleetSim(args) => fleet_sim::fleet_sim(&args),
        Command::Exercise(args) => exercise::run(&global, &args),
    }
}

pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
