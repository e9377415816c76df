//! The configuration file as written, with the source spans that error
//! messages need. Only `validate` reads these; everyone else uses the
//! checked model in `super`.

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue, ValueDeserializer};

use super::error::Reporter;

/// The whole file, as [`read`] puts it together.
#[derive(Debug)]
pub struct RawConfig {
    pub locker: Spanned<RawLocker>,
    pub policies: Option<Spanned<RawPolicies>>,
    pub languages: Option<Spanned<RawLanguages>>,
    pub doors: Option<Spanned<RawDoors>>,
    pub camera: Option<Spanned<RawCamera>>,
    pub backups: Option<Spanned<RawBackups>>,
    pub notifications: Option<Spanned<RawNotifications>>,
    pub fleet: Option<Spanned<RawFleet>>,
    pub speech: Option<Spanned<RawSpeech>>,
    pub scanners: Vec<Spanned<RawScanner>>,
    pub boards: Vec<Spanned<RawBoard>>,
    pub compartments: Vec<Spanned<RawCompartment>>,
}

/// Spoken guidance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpeech {
    pub volume: Option<Spanned<u32>>,
    pub player: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifications {
    pub email: Option<Spanned<RawEmail>>,
    pub webhook: Option<Spanned<RawWebhook>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    pub server: Spanned<String>,
    pub port: Option<Spanned<u32>>,
    pub security: Option<Spanned<String>>,
    pub from: Spanned<String>,
    pub credentials: Option<Spanned<String>>,
    pub ca: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub url: Spanned<String>,
    pub token_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub broker: Spanned<String>,
    pub port: Option<Spanned<u32>>,
    pub tls: Option<bool>,
    pub ca: Option<Spanned<String>>,
    pub client_cert: Option<Spanned<String>>,
    pub client_key: Option<Spanned<String>>,
    pub credentials: Option<Spanned<String>>,
    pub topic_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub fallbacks: Vec<Spanned<String>>,
    #[serde(default)]
    pub operator_keys: Vec<Spanned<String>>,
    pub heartbeat_secs: Option<Spanned<u32>>,
    pub outbox_limit: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackups {
    pub dir: Spanned<String>,
    pub every_hours: Option<Spanned<u32>>,
    pub keep: Option<Spanned<u32>>,
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
    pub outage_credit_min_minutes: Option<Spanned<u32>>,
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

/// Reads the file's shape: each section, and each `[[boards]]`,
/// `[[compartments]]` and `[[scanners]]` entry, on its own, so that every
/// misspelt key and wrong type in the file is reported (the reporter puts
/// them in file order), not only the first one serde meets. `None` when
/// anything is wrong: the checks of meaning would only add noise.
pub fn read(text: &str, report: &mut Reporter) -> Option<RawConfig> {
    let (document, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for error in syntax {
            report.error(error.span().unwrap_or(0..0), error.message().trim());
        }
        return None;
    }
    let mut ok = true;
    let mut locker = None;
    let mut raw = RestOfConfig {
        policies: None,
        languages: None,
        doors: None,
        camera: None,
        backups: None,
        notifications: None,
        fleet: None,
        speech: None,
        scanners: Vec::new(),
        boards: Vec::new(),
        compartments: Vec::new(),
    };
    for (key, value) in document.get_ref() {
        let read = match key.get_ref().as_ref() {
            "locker" => one(value, report).map(|v| locker = Some(v)),
            "policies" => one(value, report).map(|v| raw.policies = Some(v)),
            "languages" => one(value, report).map(|v| raw.languages = Some(v)),
            "doors" => one(value, report).map(|v| raw.doors = Some(v)),
            "camera" => one(value, report).map(|v| raw.camera = Some(v)),
            "backups" => one(value, report).map(|v| raw.backups = Some(v)),
            "notifications" => one(value, report).map(|v| raw.notifications = Some(v)),
            "fleet" => one(value, report).map(|v| raw.fleet = Some(v)),
            "speech" => one(value, report).map(|v| raw.speech = Some(v)),
            "scanners" => each(key, value, report).map(|v| raw.scanners = v),
            "boards" => each(key, value, report).map(|v| raw.boards = v),
            "compartments" => each(key, value, report).map(|v| raw.compartments = v),
            other => {
                report.error(
                    key.span(),
                    format!(
                        "unknown section `{other}`, expected one of `locker`, `policies`, `languages`, `doors`, `camera`, `backups`, `notifications`, `fleet`, `speech`, `scanners`, `boards`, `compartments`"
                    ),
                );
                None
            }
        };
        ok &= read.is_some();
    }
    if locker.is_none() && ok {
        report.error(0..0, "missing the [locker] section (its id and name)");
    }
    let locker = locker.filter(|_| ok)?;
    Some(RawConfig {
        locker,
        policies: raw.policies,
        languages: raw.languages,
        doors: raw.doors,
        camera: raw.camera,
        backups: raw.backups,
        notifications: raw.notifications,
        fleet: raw.fleet,
        speech: raw.speech,
        scanners: raw.scanners,
        boards: raw.boards,
        compartments: raw.compartments,
    })
}

/// Every section but `[locker]`, which has no default, while reading.
struct RestOfConfig {
    policies: Option<Spanned<RawPolicies>>,
    languages: Option<Spanned<RawLanguages>>,
    doors: Option<Spanned<RawDoors>>,
    camera: Option<Spanned<RawCamera>>,
    backups: Option<Spanned<RawBackups>>,
    notifications: Option<Spanned<RawNotifications>>,
    fleet: Option<Spanned<RawFleet>>,
    speech: Option<Spanned<RawSpeech>>,
    scanners: Vec<Spanned<RawScanner>>,
    boards: Vec<Spanned<RawBoard>>,
    compartments: Vec<Spanned<RawCompartment>>,
}

/// One section, read on its own.
fn one<'i, T: Deserialize<'i>>(
    value: &Spanned<DeValue<'i>>,
    report: &mut Reporter,
) -> Option<Spanned<T>> {
    Spanned::<T>::deserialize(ValueDeserializer::from(value.clone()))
        .map_err(|e| report.error(e.span().unwrap_or(value.span()), e.message().trim()))
        .ok()
}

/// A list of tables (`[[boards]]`), each entry read on its own.
fn each<'i, T: Deserialize<'i>>(
    key: &Spanned<DeString<'i>>,
    value: &Spanned<DeValue<'i>>,
    report: &mut Reporter,
) -> Option<Vec<Spanned<T>>> {
    let Some(items) = value.get_ref().as_array() else {
        report.error(
            value.span(),
            format!(
                "`{}` must be a list of [[{}]] tables",
                key.get_ref(),
                key.get_ref()
            ),
        );
        return None;
    };
    let read: Vec<Option<Spanned<T>>> = items.iter().map(|item| one(item, report)).collect();
    read.into_iter().collect()
}
