//! The configuration file as written, with the source spans that error
//! messages need. Only `validate` reads these; everyone else uses the
//! checked model in `super`.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub locker: Spanned<RawLocker>,
    #[serde(default)]
    pub policies: Option<Spanned<RawPolicies>>,
    #[serde(default)]
    pub languages: Option<Spanned<RawLanguages>>,
    #[serde(default)]
    pub doors: Option<Spanned<RawDoors>>,
    #[serde(default)]
    pub camera: Option<Spanned<RawCamera>>,
    #[serde(default)]
    pub scanners: Vec<Spanned<RawScanner>>,
    #[serde(default)]
    pub boards: Vec<Spanned<RawBoard>>,
    #[serde(default)]
    pub compartments: Vec<Spanned<RawCompartment>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocker {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub support: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPolicies {
    pub storage_hours: Option<Spanned<u32>>,
    pub reminder_hours_before_expiry: Option<Spanned<u32>>,
    pub pin_length: Option<Spanned<u32>>,
    pub wrong_code_attempts: Option<Spanned<u32>>,
    pub lockout_secs: Option<Spanned<u32>>,
    pub max_lockout_secs: Option<Spanned<u32>>,
    pub idle_timeout_secs: Option<Spanned<u32>>,
    pub maintenance_idle_timeout_secs: Option<Spanned<u32>>,
    pub close_reminder_secs: Option<Spanned<u32>>,
    pub open_doors_together: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDoors {
    pub open_window_ms: Option<Spanned<u32>>,
    pub left_open_alarm_secs: Option<Spanned<u32>>,
    pub poll_interval_ms: Option<Spanned<u32>>,
    pub reply_timeout_ms: Option<Spanned<u32>>,
    pub open_spacing_ms: Option<Spanned<u32>>,
    pub simulated_close_after_ms: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLanguages {
    pub default: Spanned<String>,
    pub available: Spanned<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    pub device: Spanned<String>,
    pub width: Option<Spanned<u32>>,
    pub height: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScanner {
    pub kind: Spanned<String>,
    pub port: Option<String>,
    pub baud: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoard {
    pub id: Spanned<String>,
    pub port: Spanned<String>,
    pub protocol: Spanned<String>,
    pub baud: Option<Spanned<u32>>,
    pub parity: Option<Spanned<String>>,
    pub address: Spanned<u32>,
    pub channels: Spanned<u32>,
    pub sensor: Option<Spanned<String>>,
    #[serde(default)]
    pub options: Option<Spanned<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompartment {
    pub number: Spanned<u32>,
    pub size: Spanned<String>,
    pub column: u32,
    pub row: u32,
    pub height_mm: Spanned<u32>,
    pub board: Spanned<String>,
    pub channel: Spanned<u32>,
}
