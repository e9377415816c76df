//! What the staff screens are given: entries made for showing, never the
//! store's rows (a row may hold what no screen should: codes, hashes).

use super::log::detail_line;
use crate::domain::{CompartmentNumber, ParcelStatus, SizeClass, Timestamp};
use crate::store::{EventRecord, ParcelRow, ReportRow};

/// One event as the audit log and the histories list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub actor: String,
    pub compartment: Option<CompartmentNumber>,
    /// Its details in one line (`key: value · …`).
    pub detail: String,
}

impl From<&EventRecord> for LogEntry {
    fn from(event: &EventRecord) -> LogEntry {
        LogEntry {
            id: event.id,
            at: event.at,
            kind: event.kind.clone(),
            actor: event.actor.clone(),
            compartment: event.compartment,
            detail: detail_line(event),
        }
    }
}

/// Events as entries, in the order given.
pub fn entries(events: &[EventRecord]) -> Vec<LogEntry> {
    events.iter().map(LogEntry::from).collect()
}

/// One parcel in the locker, as the parcels tab lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelEntry {
    pub id: i64,
    pub tracking: String,
    pub compartment: CompartmentNumber,
    pub size: SizeClass,
    pub status: ParcelStatus,
    pub recipient: String,
    pub unit: Option<String>,
    pub deposited_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// The courier left before the door was seen closed: check it.
    pub confirmed: bool,
    pub return_requested: bool,
}

impl From<ParcelRow> for ParcelEntry {
    fn from(row: ParcelRow) -> ParcelEntry {
        ParcelEntry {
            id: row.id,
            tracking: row.tracking,
            compartment: row.compartment,
            size: row.size,
            status: row.status,
            recipient: row.recipient,
            unit: row.unit,
            deposited_at: row.deposited_at,
            expires_at: row.expires_at,
            confirmed: row.confirmed,
            return_requested: row.return_requested,
        }
    }
}

/// Who raised a report, as the reports tab groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporter {
    Recipient,
    Courier,
    Staff,
    Kiosk,
}

/// One report, with who raised it and whether staff handled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    pub id: i64,
    pub kind: String,
    pub compartment: Option<CompartmentNumber>,
    pub tracking: Option<String>,
    pub reporter: Reporter,
    /// A courier's name and company.
    pub reporter_name: Option<String>,
    pub created_at: Timestamp,
    pub handled_at: Option<Timestamp>,
}

impl ReportEntry {
    pub fn of(row: ReportRow, courier: Option<String>) -> ReportEntry {
        let reporter = match row.reported_by.split(':').next() {
            Some("recipient") => Reporter::Recipient,
            Some("courier") => Reporter::Courier,
            Some("staff" | "cli") => Reporter::Staff,
            _ => Reporter::Kiosk,
        };
        ReportEntry {
            id: row.id,
            kind: row.kind,
            compartment: row.compartment,
            tracking: row.tracking,
            reporter,
            reporter_name: courier,
            created_at: row.created_at,
            handled_at: row.handled.map(|(at, _)| at),
        }
    }
}
