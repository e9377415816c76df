//! The parsers that see outside input, each as one function of raw bytes,
//! for the cargo-fuzz targets in `fuzz/` (run locally on nightly) and for
//! the suite's fixed-seed replay (`tests/it/fuzz_replay.rs`, on stable).
//! Each must return for any input: no panic, no hang, no unbounded
//! allocation.

use std::time::{Duration, Instant};

use crate::config::{Config, ConfigSource, StatusOrder};
use crate::hardware::protocol::{self, Decoded, Request, codec};
use crate::hardware::{Protocol, SensorPolarity};

/// A lock board's reply bytes, against every protocol and request.
pub fn lock_board_reply(data: &[u8]) {
    let Some((&shape, bytes)) = data.split_first() else {
        return;
    };
    let channels = u16::from(shape % 24) + 1;
    for protocol in Protocol::ALL {
        let target = protocol::Target {
            address: shape % 4,
            channels: channels.min(protocol.profile().max_channels as u16),
            polarity: if shape & 0x80 == 0 {
                SensorPolarity::ClosedWhenLocked
            } else {
                SensorPolarity::ClosedWhenOpen
            },
            status_order: if shape & 0x40 == 0 {
                StatusOrder::LastByteFirst
            } else {
                StatusOrder::FirstByteFirst
            },
            pulse_secs: None,
        };
        let codec = codec(protocol);
        for request in [
            Request::OpenAll,
            Request::QueryAll,
            Request::Open { channel: 1 },
            Request::QueryOne {
                channel: target.channels,
            },
        ] {
            // Walk the stream as the bus does: garbage is skipped, replies
            // consumed, until more is needed.
            let mut rest = bytes;
            while !rest.is_empty() {
                match codec.decode(&target, &request, rest) {
                    Decoded::NeedMore => break,
                    Decoded::Garbage(n) => {
                        assert!(n > 0 && n <= rest.len(), "garbage of {n} in {}", rest.len());
                        rest = &rest[n..];
                    }
                    Decoded::Reply { skip, len, .. } => {
                        assert!(len > 0 && skip + len <= rest.len());
                        rest = &rest[skip + len..];
                    }
                }
            }
        }
    }
}

/// A scanned text: pickup and badge QR codes, tracking numbers, receipts.
pub fn scanned_payload(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::scanning::payload::recognise(&text);
    let _ = crate::scanning::payload::check_tracking(&text);
    let _ = crate::domain::receipt::verify(&text, &[7; 32]);
}

/// Bytes from a serial scanner, and keys from a keyboard-wedge one.
pub fn scanner_input(data: &[u8]) {
    let mut lines = crate::scanning::serial::LineSplitter::default();
    for chunk in data.chunks(7) {
        for line in lines.push(chunk) {
            assert!(line.len() <= 4096, "a line of {} bytes", line.len());
        }
    }
    let mut wedge = crate::scanning::wedge::WedgeDetector::default();
    let start = Instant::now();
    for (i, key) in String::from_utf8_lossy(data).chars().enumerate() {
        // Gaps from the bytes themselves: fast bursts and slow typing.
        let gap = Duration::from_millis(u64::from(data[i % data.len()] % 64));
        let _ = wedge.key(&key.to_string(), start + gap * i as u32);
    }
}

/// A configuration file.
pub fn configuration(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(text, ConfigSource::BuiltInDemo);
    }
}

/// A request on the control socket.
pub fn control_request(data: &[u8]) {
    let _ = crate::app::control::read_request(data);
}

/// A fuzz target: raw bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target, by name (the replay and `fuzz/` use the same names).
pub const TARGETS: [(&str, Target); 5] = [
    ("lock_board_reply", lock_board_reply),
    ("scanned_payload", scanned_payload),
    ("scanner_input", scanner_input),
    ("configuration", configuration),
    ("control_request", control_request),
];
