//! Configuration files: what is accepted, and how mistakes are reported.

use std::path::PathBuf;

use locker_kiosk::config::{BoardPort, CameraDevice, Config, ConfigSource, StatusOrder};
use locker_kiosk::domain::SizeClass;
use locker_kiosk::hardware::{Protocol, SensorPolarity};

const BOARDS: &str = r#"
[locker]
id = "test-1"
name = "Test Locker"

[[boards]]
id = "A"
port = "/dev/ttyUSB0"
protocol = "8a"
address = 1
channels = 8
"#;

fn compartment(number: u32, board: &str, channel: u32, row: u32) -> String {
    format!(
        "\n[[compartments]]\nnumber = {number}\nsize = \"M\"\ncolumn = 1\nrow = {row}\nheight_mm = 500\nboard = \"{board}\"\nchannel = {channel}\n"
    )
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(
        text,
        ConfigSource::File(PathBuf::from("/etc/locker-kiosk/config.toml")),
    )
    .map_err(|e| e.to_string())
}

/// The line of `needle`'s first occurrence after `after`.
fn line_of(text: &str, after: &str, needle: &str) -> usize {
    let start = text.find(after).unwrap();
    let at = start + text[start..].find(needle).unwrap();
    text[..at].matches('\n').count() + 1
}

#[test]
fn the_demo_locker_is_valid() {
    let demo = Config::demo();
    assert_eq!(demo.compartments.len(), 24);
    assert_eq!(demo.boards.len(), 2);
    assert!(demo.boards.iter().all(|b| b.port == BoardPort::Simulated));
    let sizes: std::collections::HashSet<_> =
        demo.compartments.iter().map(|c| c.size.label()).collect();
    assert_eq!(sizes.len(), 4, "mixed sizes: {sizes:?}");
    assert!(demo.compartments.iter().any(|c| c.position.is_accessible()));
}

#[test]
fn the_documented_example_is_valid_and_means_what_it_says() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("locker-kiosk.example.toml");
    let config = Config::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.locker.id, "main-street-1");
    assert_eq!(
        config.locker.support.as_deref(),
        Some("Call the building office: 0800 555 0100")
    );
    let board = config.board("left").unwrap();
    assert_eq!(board.protocol, Protocol::EightA);
    assert_eq!(board.port, BoardPort::Serial("/dev/ttyUSB0".into()));
    assert_eq!(board.options.status_order, StatusOrder::LastByteFirst);
    assert_eq!(
        config.board("right").unwrap().polarity,
        SensorPolarity::ClosedWhenOpen
    );
    assert!(matches!(config.camera.device, CameraDevice::Device(_)));
    assert!(
        config
            .compartments
            .iter()
            .any(|c| matches!(c.size, SizeClass::Custom(_)))
    );
    assert_eq!(
        config.doors.open_window,
        std::time::Duration::from_millis(3000)
    );
}

#[test]
fn boards_sharing_a_port_must_share_protocol_and_speed() {
    let second = "\n[[boards]]\nid = \"B\"\nport = \"/dev/ttyUSB0\"\nprotocol = \"kerong-cu\"\naddress = 2\nchannels = 8\n";
    let text = format!("{BOARDS}{second}{}", compartment(1, "A", 1, 1));
    let error = parse(&text).unwrap_err();
    assert!(
        error.contains("one bus speaks one protocol at one speed"),
        "{error}"
    );
}

#[test]
fn every_layout_in_hardware_layouts_is_valid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("hardware/layouts");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Config::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
            count += 1;
        }
    }
    assert!(count >= 2);
}

#[test]
fn two_compartments_on_one_channel_are_refused_with_the_line() {
    let text = format!(
        "{BOARDS}{}{}",
        compartment(1, "A", 3, 1),
        compartment(2, "A", 3, 2)
    );
    let error = parse(&text).unwrap_err();
    let line = line_of(&text, "number = 2", "channel = 3");
    assert!(
        error.contains(&format!("/etc/locker-kiosk/config.toml:{line}:")),
        "{error}"
    );
    assert!(
        error.contains("compartments 1 and 2 are both wired to board `A` channel 3"),
        "{error}"
    );
}

#[test]
fn a_channel_beyond_the_board_is_refused() {
    let text = format!("{BOARDS}{}", compartment(1, "A", 9, 1));
    let error = parse(&text).unwrap_err();
    assert!(
        error.contains("channel 9 is beyond board `A`'s 8 channels"),
        "{error}"
    );
    let line = line_of(&text, "number = 1", "channel = 9");
    assert!(error.contains(&format!(":{line}:")), "{error}");
}

#[test]
fn channel_zero_is_refused_because_it_means_all() {
    let error = parse(&format!("{BOARDS}{}", compartment(1, "A", 0, 1))).unwrap_err();
    assert!(error.contains("channel 0 means \"all locks\""), "{error}");
}

#[test]
fn an_unknown_board_is_refused() {
    let error = parse(&format!("{BOARDS}{}", compartment(1, "Z", 1, 1))).unwrap_err();
    assert!(error.contains("board `Z`, which is not defined"), "{error}");
}

#[test]
fn a_typo_in_a_key_is_reported_with_its_line() {
    let text = format!("{BOARDS}{}", compartment(1, "A", 1, 1)).replace("height_mm", "hieght_mm");
    let error = parse(&text).unwrap_err();
    assert!(error.contains("hieght_mm"), "{error}");
    let line = line_of(&text, "", "hieght_mm");
    assert!(error.contains(&format!("config.toml:{line}:")), "{error}");
}

#[test]
fn broken_toml_is_reported_with_its_line() {
    let text =
        format!("{BOARDS}{}", compartment(1, "A", 1, 1)).replace("size = \"M\"", "size = \"M");
    let error = parse(&text).unwrap_err();
    let line = line_of(&text, "", "size = \"M");
    assert!(error.contains(&format!("config.toml:{line}:")), "{error}");
}

#[test]
fn several_mistakes_are_all_reported_in_file_order() {
    let text = format!(
        "{BOARDS}{}{}",
        compartment(1, "A", 9, 1),
        compartment(1, "B", 1, 2)
    );
    let error = parse(&text).unwrap_err();
    let lines: Vec<&str> = error.lines().collect();
    assert_eq!(lines.len(), 3, "{error}");
    assert!(lines[0].contains("beyond"));
    assert!(lines[1].contains("defined twice"));
    assert!(lines[2].contains("board `B`"));
}

#[test]
fn every_misspelt_key_and_wrong_type_is_reported_in_file_order() {
    let text = format!(
        "{BOARDS}{}{}[policies]\npin_length = \"six\"\n[colours]\nbackground = 1\n",
        compartment(1, "A", 1, 1).replace("height_mm", "hieght_mm"),
        compartment(2, "A", 2, 1).replace("row = ", "rwo = "),
    );
    let error = parse(&text).unwrap_err();
    let lines: Vec<&str> = error.lines().collect();
    assert_eq!(lines.len(), 4, "{error}");
    assert!(lines[0].contains("hieght_mm"), "{error}");
    assert!(lines[1].contains("rwo"), "{error}");
    assert!(lines[2].contains("string \"six\", expected u32"), "{error}");
    assert!(lines[3].contains("unknown section `colours`"), "{error}");
    let at = |needle: &str| format!("config.toml:{}:", line_of(&text, "", needle));
    // Where the file was given, the line and column of each.
    assert!(lines[0].contains(&at("hieght_mm")), "{error}");
    assert!(lines[1].contains(&at("rwo")), "{error}");
    assert!(lines[2].contains(&at("pin_length")), "{error}");
    assert!(lines[3].contains(&at("[colours]")), "{error}");
}

#[test]
fn protocol_limits_come_from_the_board_profiles() {
    let text = format!("{BOARDS}{}", compartment(1, "A", 1, 1))
        .replace("protocol = \"8a\"", "protocol = \"winnsen\"")
        .replace("channels = 8", "channels = 24");
    let error = parse(&text).unwrap_err();
    assert!(
        error.contains("winnsen boards have 1 to 16 channels, not 24"),
        "{error}"
    );
    let unknown = format!("{BOARDS}{}", compartment(1, "A", 1, 1)).replace("\"8a\"", "\"8b\"");
    assert!(
        parse(&unknown)
            .unwrap_err()
            .contains("unknown protocol `8b`")
    );
}

#[test]
fn two_boards_with_one_address_on_one_port_are_refused() {
    let second = BOARDS
        .split("[[boards]]")
        .nth(1)
        .unwrap()
        .replace("\"A\"", "\"B\"");
    let text = format!("{BOARDS}\n[[boards]]{second}{}", compartment(1, "A", 1, 1));
    let error = parse(&text).unwrap_err();
    assert!(error.contains("already has address 1"), "{error}");
}

#[test]
fn policies_are_range_checked() {
    let text = format!(
        "{BOARDS}{}\n[policies]\npin_length = 3\n",
        compartment(1, "A", 1, 1)
    );
    let error = parse(&text).unwrap_err();
    assert!(
        error.contains("pin_length must be between 4 and 10, not 3"),
        "{error}"
    );
}

#[test]
fn the_locker_id_must_fit_in_a_qr_payload() {
    let text = format!("{BOARDS}{}", compartment(1, "A", 1, 1)).replace("\"test-1\"", "\"a:b\"");
    assert!(parse(&text).unwrap_err().contains("locker id must be"));
}

#[test]
fn a_missing_file_is_named() {
    let error = Config::load_file(std::path::Path::new("/nonexistent/locker.toml")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/locker.toml: cannot read"),
        "{error}"
    );
}

#[test]
fn an_explicit_file_wins_over_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locker.toml");
    std::fs::write(&path, format!("{BOARDS}{}", compartment(1, "A", 1, 1))).unwrap();
    let config = Config::locate(Some(&path)).unwrap();
    assert_eq!(config.locker.id, "test-1");
    assert_eq!(config.source, ConfigSource::File(path));
}

#[test]
fn a_file_far_larger_than_any_layout_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let line = "# padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(locker_kiosk::config::MAX_CONFIG_BYTES as usize / line.len() + 2);
    std::fs::write(&path, text).unwrap();
    let error = Config::load_file(&path).unwrap_err().to_string();
    assert!(error.contains("larger than 32 MB"), "{error}");
    assert!(error.starts_with(&path.display().to_string()), "{error}");
}

mod mangled {
    //! The configuration parser meets every kind of mistake: the demo's
    //! file with random bytes changed, inserted and cut, 512 times (a
    //! fixed seed, so a failure can be replayed). None may panic, and
    //! every error must point into the file.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(16), ..ProptestConfig::default() })]
        #[test]
        fn a_mangled_file_never_panics_and_every_error_has_a_place(
            edits in proptest::collection::vec((any::<usize>(), 0u8..3, any::<u8>()), 1..12)
        ) {
            let mut bytes = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/hardware/layouts/demo-24.toml"
            ))
            .unwrap();
            for (at, how, byte) in edits {
                let at = at % (bytes.len() + 1);
                match how {
                    0 => bytes.insert(at, byte),
                    1 if at < bytes.len() => bytes[at] = byte,
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let lines = text.lines().count() + 1;
            if let Err(errors) = Config::parse(&text, ConfigSource::File("config.toml".into())) {
                prop_assert!(!errors.0.is_empty());
                for error in &errors.0 {
                    prop_assert!(error.line >= 1 && error.line <= lines, "{error}");
                }
            }
        }
    }
}

#[test]
fn notifications_and_the_fleet_link_are_read_and_their_mistakes_named() {
    let good = format!(
        "{BOARDS}{}\n{}",
        compartment(1, "A", 1, 1),
        r#"
[notifications.email]
server = "smtp.example.org"
security = "tls"
from = "Main Street locker <locker@example.org>"
credentials = "/etc/locker-kiosk/smtp.credentials"

[notifications.webhook]
url = "https://sms.example.org/hook"

[fleet]
broker = "mqtt.example.org"
credentials = "/etc/locker-kiosk/fleet.credentials"
operator_keys = ["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]
"#
    );
    let config = parse(&good).unwrap();
    let email = config.notifications.email.unwrap();
    assert_eq!(
        (email.port, email.security),
        (465, locker_kiosk::config::SmtpSecurity::Tls)
    );
    assert_eq!(
        config.notifications.webhook.unwrap().url,
        "https://sms.example.org/hook"
    );
    let fleet = config.fleet.unwrap();
    assert_eq!(
        (fleet.port, fleet.tls, fleet.topic_prefix.as_str()),
        (8883, true, "locker-kiosk")
    );
    assert_eq!(fleet.operator_keys.len(), 1);

    let bad = good
        .replace("\"tls\"", "\"ssl\"")
        .replace("Main Street locker <locker@example.org>", "nobody")
        .replace("https://sms", "ftp://sms")
        .replace("/etc/locker-kiosk/fleet.credentials", "fleet.credentials")
        .replace("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "not-a-key");
    let errors = parse(&bad).unwrap_err();
    for expected in [
        "email security `ssl` must be starttls, tls or none",
        "email from `nobody` must be an address",
        "webhook url must start with https://",
        "fleet credentials must be an absolute path",
        "an operator key must be an Ed25519 public key in base64",
    ] {
        assert!(
            errors.contains(expected),
            "missing `{expected}` in:\n{errors}"
        );
    }
}
