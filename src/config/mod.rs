//! The kiosk's configuration: one TOML file, checked as a whole at start-up.
//!
//! Where it comes from: `--config FILE`, else `./locker-kiosk.toml`, else
//! `/etc/locker-kiosk/config.toml`, else the built-in demo locker
//! (`hardware/layouts/demo-24.toml`, compiled in). A config that could open
//! a wrong door is refused: see `validate`.

mod error;
mod links;
pub mod profile;
mod raw;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, ConfigErrors};
pub use links::{EmailSettings, FleetSettings, Notifications, SmtpSecurity, WebhookSettings};

/// The largest configuration file read: 100,000 compartments take about
/// 11 MB; anything much larger is a mistake (or an attack on the parser).
pub const MAX_CONFIG_BYTES: u64 = 32_000_000;

use crate::domain::codes::LockoutPolicy;
use crate::domain::pickup::PickupPolicy;
use crate::domain::{CompartmentNumber, Position, SizeClass};
pub use profile::{BoardProfile, Protocol, SensorPolarity};

/// The demo locker: 24 compartments of mixed sizes on two simulated boards.
pub const DEMO_LAYOUT: &str = include_str!("../../hardware/layouts/demo-24.toml");
pub const DEMO_LAYOUT_NAME: &str = "built-in demo (hardware/layouts/demo-24.toml)";

/// Where the configuration was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    BuiltInDemo,
}

impl ConfigSource {
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::File(path) => path.display().to_string(),
            ConfigSource::BuiltInDemo => DEMO_LAYOUT_NAME.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub source: ConfigSource,
    pub locker: LockerInfo,
    pub policies: Policies,
    pub doors: DoorSettings,
    pub languages: Languages,
    pub camera: CameraConfig,
    /// Scheduled backups (`[backups]`); none when not configured.
    pub backups: Option<BackupSchedule>,
    /// Telling recipients without a fleet backend (`[notifications]`).
    pub notifications: Notifications,
    /// The fleet backend over MQTT (`[fleet]`); none when not configured.
    pub fleet: Option<FleetSettings>,
    /// Spoken guidance (`[speech]`).
    pub speech: SpeechSettings,
    pub scanners: Vec<ScannerConfig>,
    pub boards: Vec<BoardConfig>,
    pub compartments: Vec<CompartmentConfig>,
}

/// Spoken guidance: off for each person until they ask for it; how loud,
/// and what plays the sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechSettings {
    /// Percent of full loudness, 0 (the kiosk never speaks) to 100.
    pub volume: u8,
    /// The program and its arguments; a WAV comes on its standard input.
    pub player: Vec<String>,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        SpeechSettings {
            volume: 80,
            player: ["aplay", "-q", "-"].map(String::from).to_vec(),
        }
    }
}

/// A copy of the records into `dir` every `every`, the newest `keep` kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSchedule {
    pub dir: std::path::PathBuf,
    pub every: std::time::Duration,
    pub keep: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockerInfo {
    /// Short, stable id: part of every pickup QR code (`LK1:<id>:<token>`).
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    /// Who to call when something goes wrong ("Call 0800 123 456"): shown
    /// on the home screen and with every error.
    pub support: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    pub storage_hours: u32,
    pub reminder_hours_before_expiry: u32,
    pub pin_length: u32,
    pub lockout: LockoutPolicy,
    pub idle_timeout_secs: u32,
    pub maintenance_idle_timeout_secs: u32,
    pub close_reminder_secs: u32,
    pub open_doors_together: bool,
    /// An outage (kiosk down, board offline, compartment out of service)
    /// at least this long is given back to the parcels it kept from
    /// their recipients (`app::outages`); 0 gives back every one.
    pub outage_credit_min_minutes: u32,
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            storage_hours: 72,
            reminder_hours_before_expiry: 24,
            pin_length: 6,
            lockout: LockoutPolicy::default(),
            idle_timeout_secs: 60,
            maintenance_idle_timeout_secs: 300,
            close_reminder_secs: 30,
            open_doors_together: false,
            outage_credit_min_minutes: 5,
        }
    }
}

impl Policies {
    pub fn pickup_policy(&self) -> PickupPolicy {
        PickupPolicy {
            open_together: self.open_doors_together,
            close_reminder_secs: self.close_reminder_secs,
            lockout: self.lockout,
            ..PickupPolicy::default()
        }
    }
}

/// Timing of the lock boards and door sensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorSettings {
    /// How long a pulsed door has to be seen open before it counts as jammed.
    pub open_window: Duration,
    /// A door open this long raises the `left_open` alarm.
    pub left_open_after: Duration,
    /// One query-all per board per this period.
    pub poll_interval: Duration,
    pub reply_timeout: Duration,
    /// Between opens when doors open one after another.
    pub open_spacing: Duration,
    /// Simulated boards: a pulsed door closes again after this long (the
    /// demo's "person"); `None`: it stays open.
    pub simulated_close_after: Option<Duration>,
}

impl Default for DoorSettings {
    fn default() -> Self {
        Self {
            open_window: Duration::from_millis(3000),
            left_open_after: Duration::from_secs(120),
            poll_interval: Duration::from_millis(200),
            reply_timeout: Duration::from_millis(500),
            open_spacing: Duration::from_millis(300),
            simulated_close_after: Some(Duration::from_millis(5000)),
        }
    }
}

/// The languages the UI ships, complete.
pub const SUPPORTED_LANGUAGES: [&str; 3] = ["en", "de", "es"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages {
    pub default: String,
    pub available: Vec<String>,
}

impl Default for Languages {
    fn default() -> Self {
        Self {
            default: "en".into(),
            available: SUPPORTED_LANGUAGES.iter().map(|l| l.to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraDevice {
    /// Camera scanning is off; typed codes and scanners still work.
    None,
    /// A V4L2 device such as `/dev/video0`.
    Device(PathBuf),
    /// A folder of images played as frames (tests, demos, field debugging).
    Replay(PathBuf),
}

impl CameraDevice {
    /// `none`, a device path such as `/dev/video0`, or `replay:DIR`.
    pub fn parse(text: &str) -> Result<CameraDevice, String> {
        let text = text.trim();
        if text.is_empty() || text == "none" {
            Ok(CameraDevice::None)
        } else if let Some(dir) = text.strip_prefix("replay:") {
            Ok(CameraDevice::Replay(PathBuf::from(dir)))
        } else if text.starts_with('/') {
            Ok(CameraDevice::Device(PathBuf::from(text)))
        } else {
            Err(format!(
                "camera device `{text}` must be `none`, a device path such as /dev/video0, or replay:DIR"
            ))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraConfig {
    pub device: CameraDevice,
    pub width: u32,
    pub height: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            device: CameraDevice::None,
            width: 640,
            height: 480,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerConfig {
    /// USB-CDC or UART scanner: one line per scan.
    Serial { port: PathBuf, baud: u32 },
    /// USB HID scanner typing into the kiosk as a keyboard.
    KeyboardWedge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardPort {
    /// The in-process board simulator (demo mode).
    Simulated,
    Serial(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

/// For `8a` boards: which status byte of a query-all reply holds channels
/// 1-8. Sources disagree; most put them in the last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusOrder {
    #[default]
    LastByteFirst,
    FirstByteFirst,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardOptions {
    pub status_order: StatusOrder,
    /// Pulse time sent with each open, for firmware that takes one.
    pub pulse_secs: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardConfig {
    pub id: String,
    pub port: BoardPort,
    pub protocol: Protocol,
    pub baud: u32,
    pub parity: Parity,
    pub address: u8,
    pub channels: u16,
    pub polarity: SensorPolarity,
    pub options: BoardOptions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentConfig {
    pub number: CompartmentNumber,
    pub size: SizeClass,
    pub position: Position,
    pub board: String,
    pub channel: u16,
}

impl Config {
    /// Parses and checks `text`; errors name `source`.
    pub fn parse(text: &str, source: ConfigSource) -> Result<Config, ConfigErrors> {
        validate::parse(text, source)
    }

    /// The built-in demo locker.
    pub fn demo() -> Config {
        Config::parse(DEMO_LAYOUT, ConfigSource::BuiltInDemo)
            .expect("the built-in demo layout is valid (checked by a test)")
    }

    pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
        use std::io::Read;
        let whole = |message: String| {
            ConfigErrors(vec![ConfigError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                message,
            }])
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| whole(format!("cannot read the configuration: {e}")))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(whole(format!(
                "the configuration is larger than {} MB: not a locker's layout",
                MAX_CONFIG_BYTES / 1_000_000
            )));
        }
        Config::parse(&text, ConfigSource::File(path.to_path_buf()))
    }

    /// Finds and loads the configuration: the explicit file, then the
    /// standard places, then the built-in demo ([`configured_file`]).
    pub fn locate(explicit: Option<&Path>) -> Result<Config, ConfigErrors> {
        match configured_file(explicit) {
            Some(path) => Config::load_file(&path),
            None => Ok(Config::demo()),
        }
    }

    pub fn board(&self, id: &str) -> Option<&BoardConfig> {
        self.boards.iter().find(|b| b.id == id)
    }

    pub fn compartment(&self, number: CompartmentNumber) -> Option<&CompartmentConfig> {
        self.compartments.iter().find(|c| c.number == number)
    }

    pub fn is_demo_layout(&self) -> bool {
        self.source == ConfigSource::BuiltInDemo
    }
}

/// The configuration file in use: `explicit`, else the first standard
/// place that holds settings. None means the built-in demo. A file of
/// nothing but comments (the Debian package installs one) is a locker not
/// configured yet, not an empty locker.
pub fn configured_file(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    standard_locations()
        .into_iter()
        .find(|candidate| candidate.exists() && !holds_no_settings(candidate))
}

/// Only comments and blank lines. A file that cannot be read may hold
/// settings: loading it then says why it cannot be read.
fn holds_no_settings(path: &Path) -> bool {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
        .is_ok()
        && text.lines().all(|line| {
            let line = line.trim();
            line.is_empty() || line.starts_with('#')
        })
}

pub fn standard_locations() -> Vec<PathBuf> {
    vec![
        PathBuf::from("locker-kiosk.toml"),
        PathBuf::from("/etc/locker-kiosk/config.toml"),
    ]
}
