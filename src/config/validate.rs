//! Turns the raw file into the checked model, collecting every problem with
//! its line. The checks that matter most are the ones that prevent opening
//! a wrong door: every compartment on a known board, on a channel that board
//! has, and no two compartments on the same board and channel.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::error::{ConfigErrors, Reporter};
use super::raw::*;
use super::*;
use crate::domain::codes::{MAX_PIN_LENGTH, MIN_PIN_LENGTH};

const STANDARD_BAUDS: [u32; 8] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

pub fn parse(text: &str, source: ConfigSource) -> Result<Config, ConfigErrors> {
    let file = source.describe();
    let mut report = Reporter::new(&file, text);
    let Some(raw) = read(text, &mut report) else {
        return Err(report.finish(()).err().unwrap_or_default());
    };
    let config = Config {
        locker: locker(&raw.locker, &mut report),
        policies: policies(raw.policies.as_ref(), &mut report),
        doors: doors(raw.doors.as_ref(), &mut report),
        languages: languages(raw.languages.as_ref(), &mut report),
        camera: camera(raw.camera.as_ref(), &mut report),
        backups: backups(raw.backups.as_ref(), &mut report),
        notifications: super::links::notifications(raw.notifications.as_ref(), &mut report),
        fleet: super::links::fleet(raw.fleet.as_ref(), &mut report),
        speech: speech(raw.speech.as_ref(), &mut report),
        scanners: raw
            .scanners
            .iter()
            .filter_map(|s| scanner(s, &mut report))
            .collect(),
        boards: boards(&raw.boards, &mut report),
        compartments: Vec::new(),
        source,
    };
    let compartments = compartments(&raw, &config.boards, &mut report);
    report.finish(Config {
        compartments,
        ..config
    })
}

fn locker(raw: &Spanned<RawLocker>, report: &mut Reporter) -> LockerInfo {
    let locker = raw.get_ref();
    let id = locker.id.get_ref();
    let id_ok = !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !id_ok {
        report.error(
            locker.id.span(),
            "locker id must be 1 to 32 letters, digits, `-`, `_` or `.` (it is part of every pickup QR code)",
        );
    }
    if locker.name.trim().is_empty() {
        report.error(raw.span(), "locker name must not be empty");
    }
    LockerInfo {
        id: id.clone(),
        name: locker.name.trim().to_string(),
        address: locker.address.clone(),
        support: locker
            .support
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Into::into),
    }
}

/// Checks an optional number against a range, reporting at its line.
pub(super) fn bounded(
    value: &Option<Spanned<u32>>,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
    what: &str,
    report: &mut Reporter,
) -> u32 {
    match value {
        None => default,
        Some(v) if range.contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            report.error(
                v.span(),
                format!(
                    "{what} must be between {} and {}, not {}",
                    range.start(),
                    range.end(),
                    v.get_ref()
                ),
            );
            default
        }
    }
}

fn policies(raw: Option<&Spanned<RawPolicies>>, report: &mut Reporter) -> Policies {
    let d = Policies::default();
    let Some(raw) = raw else { return d };
    let p = raw.get_ref();
    let storage_hours = bounded(
        &p.storage_hours,
        1..=24 * 30,
        d.storage_hours,
        "storage_hours",
        report,
    );
    let reminder = bounded(
        &p.reminder_hours_before_expiry,
        0..=24 * 30,
        d.reminder_hours_before_expiry,
        "reminder_hours_before_expiry",
        report,
    );
    if reminder >= storage_hours
        && let Some(r) = &p.reminder_hours_before_expiry
    {
        report.error(
                r.span(),
                format!("the reminder ({reminder} h before expiry) must come after the parcel arrives (storage is {storage_hours} h)"),
            );
    }
    let lockout_secs = bounded(
        &p.lockout_secs,
        1..=86_400,
        d.lockout.lockout_secs,
        "lockout_secs",
        report,
    );
    let max_lockout_secs = bounded(
        &p.max_lockout_secs,
        1..=7 * 86_400,
        d.lockout.max_lockout_secs.max(lockout_secs),
        "max_lockout_secs",
        report,
    );
    if max_lockout_secs < lockout_secs
        && let Some(m) = &p.max_lockout_secs
    {
        report.error(
            m.span(),
            "max_lockout_secs must not be shorter than lockout_secs",
        );
    }
    Policies {
        storage_hours,
        reminder_hours_before_expiry: reminder,
        pin_length: bounded(
            &p.pin_length,
            MIN_PIN_LENGTH as u32..=MAX_PIN_LENGTH as u32,
            d.pin_length,
            "pin_length",
            report,
        ),
        lockout: LockoutPolicy {
            max_attempts: bounded(
                &p.wrong_code_attempts,
                1..=20,
                d.lockout.max_attempts,
                "wrong_code_attempts",
                report,
            ),
            lockout_secs,
            max_lockout_secs,
        },
        idle_timeout_secs: bounded(
            &p.idle_timeout_secs,
            10..=600,
            d.idle_timeout_secs,
            "idle_timeout_secs",
            report,
        ),
        maintenance_idle_timeout_secs: bounded(
            &p.maintenance_idle_timeout_secs,
            30..=3600,
            d.maintenance_idle_timeout_secs,
            "maintenance_idle_timeout_secs",
            report,
        ),
        close_reminder_secs: bounded(
            &p.close_reminder_secs,
            5..=600,
            d.close_reminder_secs,
            "close_reminder_secs",
            report,
        ),
        open_doors_together: p.open_doors_together.unwrap_or(d.open_doors_together),
        outage_credit_min_minutes: bounded(
            &p.outage_credit_min_minutes,
            0..=1440,
            d.outage_credit_min_minutes,
            "outage_credit_min_minutes",
            report,
        ),
    }
}

fn doors(raw: Option<&Spanned<RawDoors>>, report: &mut Reporter) -> DoorSettings {
    let d = DoorSettings::default();
    let Some(raw) = raw else { return d };
    let r = raw.get_ref();
    let ms = |v: u32| Duration::from_millis(u64::from(v));
    let millis = |d: Duration| d.as_millis() as u32;
    let close_after = bounded(
        &r.simulated_close_after_ms,
        0..=600_000,
        d.simulated_close_after.map_or(0, millis),
        "simulated_close_after_ms",
        report,
    );
    DoorSettings {
        open_window: ms(bounded(
            &r.open_window_ms,
            500..=30_000,
            millis(d.open_window),
            "open_window_ms",
            report,
        )),
        left_open_after: Duration::from_secs(u64::from(bounded(
            &r.left_open_alarm_secs,
            10..=86_400,
            d.left_open_after.as_secs() as u32,
            "left_open_alarm_secs",
            report,
        ))),
        poll_interval: ms(bounded(
            &r.poll_interval_ms,
            20..=10_000,
            millis(d.poll_interval),
            "poll_interval_ms",
            report,
        )),
        reply_timeout: ms(bounded(
            &r.reply_timeout_ms,
            50..=5_000,
            millis(d.reply_timeout),
            "reply_timeout_ms",
            report,
        )),
        open_spacing: ms(bounded(
            &r.open_spacing_ms,
            0..=5_000,
            millis(d.open_spacing),
            "open_spacing_ms",
            report,
        )),
        simulated_close_after: (close_after > 0).then(|| ms(close_after)),
    }
}

fn languages(raw: Option<&Spanned<RawLanguages>>, report: &mut Reporter) -> Languages {
    let Some(raw) = raw else {
        return Languages::default();
    };
    let l = raw.get_ref();
    for lang in l.available.get_ref() {
        if !SUPPORTED_LANGUAGES.contains(&lang.as_str()) {
            report.error(
                l.available.span(),
                format!(
                    "language `{lang}` is not shipped; available: {}",
                    SUPPORTED_LANGUAGES.join(", ")
                ),
            );
        }
    }
    if l.available.get_ref().is_empty() {
        report.error(
            l.available.span(),
            "at least one language must be available",
        );
    }
    if !l.available.get_ref().contains(l.default.get_ref()) {
        report.error(
            l.default.span(),
            format!(
                "default language `{}` is not in `available`",
                l.default.get_ref()
            ),
        );
    }
    Languages {
        default: l.default.get_ref().clone(),
        available: l.available.get_ref().clone(),
    }
}

fn speech(raw: Option<&Spanned<RawSpeech>>, report: &mut Reporter) -> SpeechSettings {
    let d = SpeechSettings::default();
    let Some(raw) = raw else { return d };
    let r = raw.get_ref();
    let player = match &r.player {
        Some(player) if player.get_ref().is_empty() => {
            report.error(
                player.span(),
                "speech player needs a program, e.g. [\"aplay\", \"-q\", \"-\"]",
            );
            d.player
        }
        Some(player) => player.get_ref().clone(),
        None => d.player,
    };
    SpeechSettings {
        volume: bounded(
            &r.volume,
            0..=100,
            u32::from(d.volume),
            "speech volume",
            report,
        ) as u8,
        player,
    }
}

fn backups(raw: Option<&Spanned<RawBackups>>, report: &mut Reporter) -> Option<BackupSchedule> {
    let b = raw?.get_ref();
    let dir = b.dir.get_ref().trim();
    if !dir.starts_with('/') {
        report.error(
            b.dir.span(),
            "backups dir must be an absolute path (on another disk than the data, if the panel has one)",
        );
        return None;
    }
    let hours = bounded(
        &b.every_hours,
        1..=24 * 31,
        24,
        "backups every_hours",
        report,
    );
    Some(BackupSchedule {
        dir: dir.into(),
        every: std::time::Duration::from_secs(u64::from(hours) * 3600),
        keep: bounded(&b.keep, 1..=1000, 7, "backups keep", report),
    })
}

fn camera(raw: Option<&Spanned<RawCamera>>, report: &mut Reporter) -> CameraConfig {
    let d = CameraConfig::default();
    let Some(raw) = raw else { return d };
    let c = raw.get_ref();
    let text = c.device.get_ref().trim();
    let device = CameraDevice::parse(text).unwrap_or_else(|message| {
        report.error(c.device.span(), message);
        CameraDevice::None
    });
    CameraConfig {
        device,
        width: bounded(&c.width, 160..=4096, d.width, "camera width", report),
        height: bounded(&c.height, 120..=4096, d.height, "camera height", report),
    }
}

fn scanner(raw: &Spanned<RawScanner>, report: &mut Reporter) -> Option<ScannerConfig> {
    let s = raw.get_ref();
    match s.kind.get_ref().as_str() {
        "serial" => match &s.port {
            Some(port) => Some(ScannerConfig::Serial {
                port: PathBuf::from(port),
                baud: baud(&s.baud, 9600, report),
            }),
            None => {
                report.error(
                    raw.span(),
                    "a serial scanner needs `port` (for example /dev/ttyACM0)",
                );
                None
            }
        },
        "keyboard" => Some(ScannerConfig::KeyboardWedge),
        other => {
            report.error(
                s.kind.span(),
                format!("scanner kind `{other}` must be `serial` or `keyboard`"),
            );
            None
        }
    }
}

fn baud(raw: &Option<Spanned<u32>>, default: u32, report: &mut Reporter) -> u32 {
    match raw {
        None => default,
        Some(b) if STANDARD_BAUDS.contains(b.get_ref()) => *b.get_ref(),
        Some(b) => {
            report.error(
                b.span(),
                format!(
                    "baud rate {} is not a standard rate ({STANDARD_BAUDS:?})",
                    b.get_ref()
                ),
            );
            default
        }
    }
}

fn boards(raw: &[Spanned<RawBoard>], report: &mut Reporter) -> Vec<BoardConfig> {
    let mut seen_ids = HashSet::new();
    let mut seen_addresses: HashMap<(String, u32), usize> = HashMap::new();
    let mut out: Vec<BoardConfig> = Vec::new();
    for entry in raw {
        let b = entry.get_ref();
        let id = b.id.get_ref().trim().to_string();
        if id.is_empty() {
            report.error(b.id.span(), "board id must not be empty");
        } else if !seen_ids.insert(id.clone()) {
            report.error(b.id.span(), format!("board `{id}` is defined twice"));
        }
        let protocol = match b.protocol.get_ref().parse::<Protocol>() {
            Ok(p) => p,
            Err(message) => {
                report.error(b.protocol.span(), message);
                continue;
            }
        };
        let profile = protocol.profile();
        let address = *b.address.get_ref();
        if !(profile.address_min..=profile.address_max).contains(&address) {
            report.error(
                b.address.span(),
                format!(
                    "address {address} is outside {} boards' range {} to {}",
                    protocol, profile.address_min, profile.address_max
                ),
            );
        }
        let channels = *b.channels.get_ref();
        if channels == 0 || channels > profile.max_channels {
            report.error(
                b.channels.span(),
                format!(
                    "{} boards have 1 to {} channels, not {channels}",
                    protocol, profile.max_channels
                ),
            );
        }
        let port_text = b.port.get_ref().trim();
        let port = if port_text == "sim" {
            BoardPort::Simulated
        } else if port_text.starts_with('/') {
            BoardPort::Serial(PathBuf::from(port_text))
        } else {
            report.error(
                b.port.span(),
                format!("port `{port_text}` must be `sim` or a device path such as /dev/ttyUSB0"),
            );
            BoardPort::Simulated
        };
        // Two boards with one address on one bus would both obey each command.
        if let BoardPort::Serial(path) = &port {
            let key = (path.display().to_string(), address);
            if seen_addresses.insert(key, out.len()).is_some() {
                report.error(
                    b.address.span(),
                    format!(
                        "another board on {} already has address {address}",
                        path.display()
                    ),
                );
            }
        }
        let this_baud = baud(&b.baud, profile.default_baud, report);
        if let Some(other) = out
            .iter()
            // Simulated boards get a bus per protocol.
            .filter(|o| matches!(o.port, BoardPort::Serial(_)) && o.port == port)
            .find(|o| o.protocol != protocol || o.baud != this_baud)
        {
            report.error(
                b.port.span(),
                format!(
                    "board `{id}` shares {port_text} with board `{}` but not its protocol and baud rate: one bus speaks one protocol at one speed",
                    other.id
                ),
            );
        }
        let parity = match b.parity.as_ref().map(|p| p.get_ref().as_str()) {
            None | Some("none") => Parity::None,
            Some("even") => Parity::Even,
            Some("odd") => Parity::Odd,
            Some(other) => {
                report.error(
                    b.parity.as_ref().unwrap().span(),
                    format!("parity `{other}` must be none, even or odd"),
                );
                Parity::None
            }
        };
        let polarity = match b.sensor.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("closed-when-locked") => SensorPolarity::ClosedWhenLocked,
            Some("closed-when-open") => SensorPolarity::ClosedWhenOpen,
            Some(other) => {
                report.error(
                    b.sensor.as_ref().unwrap().span(),
                    format!("sensor `{other}` must be closed-when-locked or closed-when-open"),
                );
                SensorPolarity::ClosedWhenLocked
            }
        };
        out.push(BoardConfig {
            id,
            port,
            protocol,
            baud: this_baud,
            parity,
            address: address.min(255) as u8,
            channels: channels.min(u32::from(u16::MAX)) as u16,
            polarity,
            options: options(b.options.as_ref(), protocol, report),
        });
    }
    out
}

fn options(
    raw: Option<&Spanned<toml::Table>>,
    protocol: Protocol,
    report: &mut Reporter,
) -> BoardOptions {
    let mut options = BoardOptions::default();
    let Some(raw) = raw else { return options };
    let allowed = &protocol.profile().options;
    for (key, value) in raw.get_ref() {
        if !allowed.contains(key) {
            let hint = if allowed.is_empty() {
                "it takes none".to_string()
            } else {
                format!("it takes {}", allowed.join(", "))
            };
            report.error(
                raw.span(),
                format!("option `{key}` is not known for {protocol} boards; {hint}"),
            );
            continue;
        }
        match (key.as_str(), value) {
            ("status_order", toml::Value::String(s)) if s == "last-byte-first" => {
                options.status_order = StatusOrder::LastByteFirst
            }
            ("status_order", toml::Value::String(s)) if s == "first-byte-first" => {
                options.status_order = StatusOrder::FirstByteFirst
            }
            ("pulse_secs", toml::Value::Integer(n)) if (1..=25).contains(n) => {
                options.pulse_secs = Some(*n as u8)
            }
            ("status_order", _) => report.error(
                raw.span(),
                "status_order must be \"last-byte-first\" or \"first-byte-first\"",
            ),
            _ => report.error(
                raw.span(),
                format!("option `{key}` must be a number from 1 to 25"),
            ),
        }
    }
    options
}

fn compartments(
    raw: &RawConfig,
    boards: &[BoardConfig],
    report: &mut Reporter,
) -> Vec<CompartmentConfig> {
    if raw.compartments.is_empty() {
        report.error(raw.locker.span(), "the locker has no [[compartments]]");
    }
    let mut numbers = HashSet::new();
    let mut wiring: HashMap<(String, u32), u32> = HashMap::new();
    let mut places: HashMap<(u32, u32), u32> = HashMap::new();
    let mut out = Vec::new();
    let by_id: HashMap<&str, &BoardConfig> = boards.iter().map(|b| (b.id.as_str(), b)).collect();
    for entry in &raw.compartments {
        let c = entry.get_ref();
        let number = *c.number.get_ref();
        if number == 0 {
            report.error(c.number.span(), "compartment numbers start at 1");
        } else if !numbers.insert(number) {
            report.error(
                c.number.span(),
                format!("compartment {number} is defined twice"),
            );
        }
        let size = match c.size.get_ref().parse::<SizeClass>() {
            Ok(size) => size,
            Err(e) => {
                report.error(c.size.span(), e.to_string());
                SizeClass::S
            }
        };
        if *c.height_mm.get_ref() > 3000 {
            report.error(
                c.height_mm.span(),
                "height_mm is the door's height above the floor, at most 3000",
            );
        }
        if let Some(other) = places.insert((c.column, c.row), number) {
            report.error(
                entry.span(),
                format!("compartment {number} is at column {} row {}, where compartment {other} already is", c.column, c.row),
            );
        }
        let board_id = c.board.get_ref().trim();
        let channel = *c.channel.get_ref();
        match by_id.get(board_id) {
            None => report.error(
                c.board.span(),
                format!("compartment {number} is wired to board `{board_id}`, which is not defined in [[boards]]"),
            ),
            Some(board) => {
                if channel == 0 {
                    report.error(
                        c.channel.span(),
                        "channel 0 means \"all locks\" on most boards; channels start at 1",
                    );
                } else if channel > u32::from(board.channels) {
                    report.error(
                        c.channel.span(),
                        format!(
                            "compartment {number}: channel {channel} is beyond board `{board_id}`'s {} channels",
                            board.channels
                        ),
                    );
                } else if let Some(other) = wiring.insert((board_id.to_string(), channel), number) {
                    report.error(
                        c.channel.span(),
                        format!(
                            "compartments {other} and {number} are both wired to board `{board_id}` channel {channel}: one would open the other's door"
                        ),
                    );
                }
            }
        }
        out.push(CompartmentConfig {
            number,
            size,
            position: Position {
                column: c.column,
                row: c.row,
                height_mm: *c.height_mm.get_ref(),
            },
            board: board_id.to_string(),
            channel: channel.min(u32::from(u16::MAX)) as u16,
        });
    }
    out.sort_by_key(|c| c.number);
    out
}
