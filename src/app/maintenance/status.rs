//! The hardware and sync page: every lock board's health, the camera and
//! the scanners, and what waits in the outbox for the fleet backend.

use std::time::SystemTime;

use crate::app::Service;
use crate::app::service::ServiceError;
use crate::config::{BoardPort, ScannerConfig};
use crate::domain::Timestamp;
use crate::scanning::camera::CameraStatus;
use crate::scanning::{Payload, ScanEvent, ScanSource};

/// One lock board, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardHealth {
    pub id: String,
    pub protocol: String,
    /// The serial port, or that it is simulated.
    pub port: String,
    pub simulated: bool,
    /// It answered its last request.
    pub online: bool,
    /// It stopped answering (not merely not yet heard since the start).
    pub offline: bool,
    /// Seconds since its last reply; `None`: never heard.
    pub last_reply_secs: Option<u64>,
    /// Why its port cannot be used, while it cannot.
    pub port_error: Option<String>,
    /// Requests sent since the start, and how many got no reply.
    pub transactions: u64,
    pub timeouts: u64,
    /// Bytes on the line that were no reply (noise, another device).
    pub garbage_bytes: u64,
}

/// A serial scanner and whether its port is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerHealth {
    pub port: String,
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardwareStatus {
    pub boards: Vec<BoardHealth>,
    /// `None`: no camera configured.
    pub camera: Option<CameraStatus>,
    pub serial_scanners: Vec<ScannerHealth>,
    pub keyboard_scanner: bool,
    pub sync: SyncStatus,
    /// Messages to recipients; `None` when no email or webhook is set up.
    pub messages: Option<MessageQueue>,
}

/// Messages to recipients on their way out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageQueue {
    pub waiting: u64,
    pub oldest_waiting: Option<Timestamp>,
    /// Why the newest waiting message did not go out, in words.
    pub last_error: Option<String>,
    /// Recipients no channel reaches, ever: staff tell them.
    pub unreachable: u64,
    pub last_delivered: Option<Timestamp>,
}

/// What waits for the fleet backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Events not yet acknowledged by the backend.
    pub pending: u64,
    /// When the oldest of them happened.
    pub oldest_pending: Option<Timestamp>,
    /// When the backend last acknowledged an event.
    pub last_contact: Option<Timestamp>,
    /// `[fleet]` is set up.
    pub configured: bool,
    /// Connected to the broker now.
    pub connected: bool,
    /// Why the last connection failed, in words.
    pub link_error: Option<String>,
}

pub async fn read(service: &Service) -> Result<HardwareStatus, ServiceError> {
    let outbox = service.events(|events| events.outbox_state()).await?;
    let config = service.config();
    let link = service.fleet_status();
    let messages = if config.notifications.any() {
        let state = service.deliveries(|d| d.state()).await?;
        Some(MessageQueue {
            waiting: state.waiting,
            oldest_waiting: state.oldest_waiting,
            last_error: state.last_error,
            unreachable: state.unreachable,
            last_delivered: state.last_delivered,
        })
    } else {
        None
    };
    let now = SystemTime::now();
    let boards = config
        .boards
        .iter()
        .map(|board| {
            let status = service.doors().board_status(&board.id);
            let stats = status.as_ref().map(|s| s.stats).unwrap_or_default();
            let (port, simulated) = match &board.port {
                BoardPort::Serial(path) => (path.display().to_string(), false),
                BoardPort::Simulated => (String::new(), true),
            };
            BoardHealth {
                id: board.id.clone(),
                protocol: board.protocol.to_string(),
                port,
                simulated,
                online: status.as_ref().is_some_and(|s| s.online),
                offline: status.as_ref().is_some_and(|s| s.offline),
                last_reply_secs: status
                    .as_ref()
                    .and_then(|s| s.last_reply)
                    .map(|at| now.duration_since(at).map_or(0, |ago| ago.as_secs())),
                port_error: status.as_ref().and_then(|s| s.port_error.clone()),
                transactions: stats.transactions,
                timeouts: stats.timeouts,
                garbage_bytes: stats.garbage_bytes,
            }
        })
        .collect();
    Ok(HardwareStatus {
        boards,
        camera: service.camera_status().map(|status| *status.borrow()),
        serial_scanners: service
            .serial_scanners()
            .iter()
            .map(|scanner| ScannerHealth {
                port: scanner.port().display().to_string(),
                online: scanner.is_online(),
            })
            .collect(),
        keyboard_scanner: config
            .scanners
            .iter()
            .any(|s| matches!(s, ScannerConfig::KeyboardWedge)),
        sync: SyncStatus {
            pending: outbox.pending,
            oldest_pending: outbox.oldest_pending,
            last_contact: outbox.last_sent,
            configured: config.fleet.is_some(),
            connected: link.connected,
            link_error: link.last_error,
        },
        messages,
    })
}

/// What a scanner read, as the hardware tab's test scan shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestScan {
    pub text: String,
    pub reader: Reader,
    /// The symbology the camera saw (empty for scanners).
    pub symbology: &'static str,
    pub meaning: Meaning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Camera,
    Serial,
    Keyboard,
}

/// What a scanned text would mean to the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    PickupHere,
    PickupElsewhere,
    CourierBadge,
    Tracking,
    Other,
}

impl TestScan {
    pub fn of(scan: &ScanEvent, locker: &str) -> TestScan {
        let (reader, symbology) = match scan.source {
            ScanSource::Camera(symbology) => (Reader::Camera, symbology.label()),
            ScanSource::Serial => (Reader::Serial, ""),
            ScanSource::Keyboard => (Reader::Keyboard, ""),
        };
        let meaning = match &scan.payload {
            Payload::Pickup { locker: of, .. } if of == locker => Meaning::PickupHere,
            Payload::Pickup { .. } => Meaning::PickupElsewhere,
            Payload::CourierBadge { .. } => Meaning::CourierBadge,
            Payload::Tracking { .. } => Meaning::Tracking,
            Payload::Unknown => Meaning::Other,
        };
        TestScan {
            text: scan.text.clone(),
            reader,
            symbology,
            meaning,
        }
    }
}
