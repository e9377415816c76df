//! The messages a locker publishes, as types: serialised for the broker,
//! read back by `operator watch`. Each carries `schema` (name and
//! version) first; `docs/fleet/*.schema.json` describe them and a test
//! checks every message the locker sends against them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const EVENT_SCHEMA: &str = "locker-kiosk/event/1";
pub const STATE_SCHEMA: &str = "locker-kiosk/state/1";
pub const STATUS_SCHEMA: &str = "locker-kiosk/status/1";
pub const HEARTBEAT_SCHEMA: &str = "locker-kiosk/heartbeat/1";
pub const RESPONSE_SCHEMA: &str = "locker-kiosk/response/1";

/// One event of the log, as the outbox sends it. `id` is the event's id
/// in the locker's log: increasing, never reused, the same in a repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    pub schema: String,
    pub locker: String,
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub kind: String,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<i64>,
    pub detail: Value,
    /// The audit chain's hash at this event (hex): a backend can check
    /// that the log it holds is the locker's, unaltered.
    pub chain: String,
    /// On a `recipient_notification` the fleet is to deliver: who, and
    /// the code, which the locker forgets once the broker has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// The pickup QR's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// The locker at a glance, retained: a new subscriber sees it at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateMessage {
    pub schema: String,
    pub locker: String,
    pub name: String,
    pub version: String,
    pub at: String,
    /// Free and occupied (and faulty, out of service) compartments by
    /// size: `S`, `M`, `L`, `XL`, or the odd size's name.
    pub compartments: BTreeMap<String, SizeCounts>,
    pub parcels_waiting: u64,
    /// What needs a person now: boards offline, a nearly full disk, a
    /// full locker, faulty doors.
    pub alarms: Vec<String>,
    pub outbox_pending: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_head: Option<ChainHead>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeCounts {
    pub free: u32,
    pub occupied: u32,
    pub faulty: u32,
    pub out_of_service: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub id: i64,
    pub hash: String,
}

/// Online when connected; the broker publishes the offline one (the last
/// will) when the locker goes away without saying so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMessage {
    pub schema: String,
    pub locker: String,
    pub online: bool,
}

impl StatusMessage {
    pub fn new(locker: &str, online: bool) -> StatusMessage {
        StatusMessage {
            schema: STATUS_SCHEMA.into(),
            locker: locker.into(),
            online,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatMessage {
    pub schema: String,
    pub locker: String,
    pub at: String,
    pub uptime_secs: u64,
    pub outbox_pending: u64,
}

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMessage {
    pub schema: String,
    pub locker: String,
    /// The command's id; `null` when the command could not be read.
    pub command: Option<String>,
    pub outcome: Outcome,
    /// What happened, in words for the operator.
    pub message: String,
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Carried out.
    Applied,
    /// Not carried out: malformed, unsigned, expired, for another locker,
    /// or the locker said no (a person mid-flow at that door).
    Refused,
    /// Seen before: not carried out again; `message` is the first answer.
    Duplicate,
}
