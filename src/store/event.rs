//! Every kind of event the locker records, each with its details as a
//! type: the one list of what a locker says about itself, to staff on the
//! audit log and, through the outbox, to the fleet. An [`Event`] is stored
//! as its `kind` (the variant's name in snake case) and its `detail` (the
//! fields as a JSON object); the names and fields are the contract, so a
//! change here is a change of the outbox's schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::CompartmentNumber;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Event {
    // Parcels.
    ParcelAnnounced {
        tracking: String,
        carrier: Option<String>,
    },
    ParcelDeposited {
        tracking: String,
        recipient: i64,
        confirmed: bool,
        expires_at: i64,
    },
    ParcelCollected {
        /// `badge` when its recipient's staff badge opened it (absent:
        /// their code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with: Option<String>,
    },
    ParcelRetrieved {},
    ParcelReturned {},
    ParcelExpired {},
    ParcelRemoved {
        tracking: String,
        /// A `RemovalReason`'s name.
        reason: String,
        door: RemovalDoor,
    },
    ParcelExtended {
        tracking: String,
        hours: u32,
        previous_expires_at: Option<i64>,
        expires_at: i64,
        new_code: bool,
    },
    /// The locker could not hand the parcel out for a while: its deadline
    /// moved by that time (`domain::outage`).
    DeadlineCredited {
        tracking: String,
        /// An `OutageCause`'s name.
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        board: Option<String>,
        outage_from: i64,
        outage_to: i64,
        given_minutes: i64,
        previous_expires_at: i64,
        expires_at: i64,
    },
    ParcelMoved {
        tracking: String,
        from: CompartmentNumber,
        to: CompartmentNumber,
    },
    /// The carrier called an announced parcel off.
    AnnouncementCancelled {
        tracking: String,
    },
    ReturnRequested {
        /// A `ReturnReason`'s name.
        reason: String,
    },
    DepositUndone {
        tracking: String,
    },
    /// A person may return (or send) this parcel from the locker with a
    /// return code; its carrier's courier then takes it.
    ReturnExpected {
        tracking: String,
        carrier: String,
        person: String,
    },
    /// The return is in its compartment, its door closed (`confirmed`:
    /// seen closed; false when settled after a restart).
    ReturnAccepted {
        tracking: String,
        confirmed: bool,
    },
    /// Staff imported an item for a named person (`parcels import`): its
    /// compartment is held until staff load it.
    ItemReserved {
        item: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asset_tag: Option<String>,
        recipient: i64,
        person: String,
    },
    /// An imported item that was never loaded was taken off the list.
    ItemCancelled {
        item: String,
    },
    // Recipients.
    RecipientNotification {
        recipient: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Why they are told again (`deadline_extended`); none for a
        /// delivery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<i64>,
        /// The code's id: the code itself is kept sealed in the store
        /// until the message is delivered, and never enters the log.
        /// None in messages logged before codes were hashed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i64>,
        parcels: Vec<NotifiedParcel>,
    },
    /// The recipient made a one-time code for someone else to collect
    /// this parcel (`code` is its id; the code itself is never logged).
    DelegateCodeIssued {
        code: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The delegate code for this parcel was taken back.
    DelegateCodeRevoked {},
    /// The recipient's larger text and high contrast, remembered.
    RecipientDisplay {
        recipient: i64,
        large_text: bool,
        high_contrast: bool,
    },
    RecipientPrefersLow {
        recipient: i64,
    },
    /// Message `message` (a `recipient_notification`'s id) was taken by
    /// `channel` (`email`, `webhook`, `fleet`).
    RecipientNotified {
        message: i64,
        channel: String,
    },
    /// A message could not be sent yet; it is tried again (recorded at
    /// the first failure and every tenth, not at each retry).
    NotificationFailed {
        message: i64,
        channel: String,
        attempts: u32,
        error: String,
    },
    /// No channel reaches the recipient (no email address, no phone, or
    /// no channel configured): staff must tell them.
    RecipientUnreachable {
        message: i64,
        recipient: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        why: String,
    },
    // Couriers.
    CourierVisitEnded {
        deposited: usize,
        retrieved: usize,
        recipients: usize,
        receipt: String,
    },
    LockerFull {
        tracking: String,
    },
    DropoffLeftDoorsOpen {
        compartments: Vec<CompartmentNumber>,
    },
    PickupLeftDoorsOpen {
        compartments: Vec<CompartmentNumber>,
    },
    /// A person and a door's sensor disagree (a courier said the door did
    /// not open; its sensor saw it open): for staff to look at.
    SensorDisagreement {
        said: String,
        sensor: String,
    },
    // Compartments and the layout.
    CompartmentState {
        from: String,
        to: String,
        reason: Option<String>,
    },
    LayoutChanged {
        source: String,
        added_or_changed: Vec<CompartmentNumber>,
        removed: Vec<CompartmentNumber>,
    },
    // Reports.
    ReportRaised {
        report: i64,
        kind: String,
    },
    ReportHandled {
        report: i64,
        kind: String,
    },
    // Staff.
    AdminPinSet {
        replaced: bool,
    },
    StaffPinSet {
        staff: String,
        replaced: bool,
    },
    StaffPinRemoved {
        staff: String,
    },
    DefaultLanguageSet {
        from: Option<String>,
        to: String,
    },
    /// Nobody collects or delivers until staff put the locker back.
    LockerOutOfService {
        reason: String,
    },
    /// The locker is in service again, after `out_minutes`; the parcels
    /// inside got that time back (`deadline_credited`).
    LockerBackInService {
        reason: String,
        out_since: i64,
        out_minutes: i64,
    },
    MaintenanceEntered {},
    MaintenanceLeft {},
    MaintenanceOpen {
        reason: String,
        /// An `OpenOutcome`'s name.
        outcome: String,
    },
    MaintenanceOpenAll {
        reason: String,
    },
    MaintenanceOpenAllResult {
        reason: String,
        opened: usize,
        already_open: usize,
        /// The compartments whose doors stayed shut, and those whose
        /// board did not answer.
        jammed: Vec<CompartmentNumber>,
        no_reply: Vec<CompartmentNumber>,
    },
    // Doors and boards, as the sensors saw them.
    DoorOpened {
        board: String,
        channel: u16,
    },
    DoorClosed {
        board: String,
        channel: u16,
    },
    DoorOpenOutcome {
        board: String,
        channel: u16,
        outcome: String,
    },
    UncommandedOpen {
        board: String,
        channel: u16,
    },
    LeftOpen {
        board: String,
        channel: u16,
        open_secs: u64,
    },
    BoardOffline {
        board: String,
    },
    BoardOnline {
        board: String,
    },
    // The locker itself.
    /// A record the kiosk meant to write, or a read it needed, failed;
    /// the person at the screen was told.
    RecordsFailed {
        /// What it was (a `StoreWork`'s name).
        work: String,
        error: String,
    },
    /// A wrong code on a keypad (`pickup`, `courier`, `maintenance`);
    /// never the code itself.
    CodeRefused {
        keypad: String,
        /// Wrong codes since the last lockout or right code.
        failures: u32,
        /// The lockout this one started, if any (ms since the epoch).
        locked_until: Option<i64>,
    },
    /// A door is about to be opened, and why (`pickup`, `deposit`,
    /// `take_back`, `undo`, `maintenance`, `move`, `remove`): written
    /// before the command is sent, so that no door opens that the records
    /// do not know of. The parcel it is for, if any, is the event's parcel.
    DoorOpenIntent {
        purpose: String,
        /// For a deposit: what goes in, so that a restart can settle it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        announced: Option<i64>,
        /// For a move: the compartment the parcel goes to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<CompartmentNumber>,
        /// Staff's reason; for a removal, the removal's reason.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// At start-up, a door action begun before the kiosk stopped (a crash,
    /// a power cut) and settled from what the doors were seen doing:
    /// `released`, `deposited`, `flagged` or `collected`.
    Reconciled {
        decision: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
    },
    /// A scheduled backup was made (`deleted`: older ones rotated out).
    BackupMade {
        file: String,
        deleted: usize,
    },
    BackupFailed {
        error: String,
    },
    /// At start-up the log no longer reached the head anchored beside it
    /// (see audit.rs): history the kiosk had written is gone.
    /// Staff added a courier (who logs in with a code and/or a badge).
    CourierAdded {
        courier: i64,
        name: String,
        company: String,
    },
    /// Staff took a courier's code and badge away for good.
    CourierRevoked {
        courier: i64,
        name: String,
        company: String,
    },
    /// A command from the fleet, carried out or refused (a repeat of one
    /// already seen is not recorded again).
    FleetCommand {
        id: Option<String>,
        command: Option<String>,
        outcome: String,
        message: String,
    },
    /// The data disk was nearly full: the reserve beside the database was
    /// let go so that parcels inside can still be collected; new deposits
    /// wait for room.
    DiskNearlyFull {
        free_bytes: u64,
    },
    /// There is room on the data disk again: the reserve is held again.
    DiskSpaceBack {},
    LogRolledBack {
        anchored_id: i64,
        last_id: i64,
    },
}

/// How a parcel taken out left its compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalDoor {
    /// The door opened for it.
    Opened,
    /// Staff opened it with the key.
    Key,
}

/// One parcel in a recipient's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifiedParcel {
    pub tracking: String,
    pub compartment: Option<CompartmentNumber>,
    /// What an item handed out is ("Laptop"), for the message to name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl Event {
    /// The `kind` column: the variant's name in snake case.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut fields)) => match fields.remove("kind") {
                Some(Value::String(kind)) => kind,
                _ => unreachable!("an adjacently tagged enum has its tag"),
            },
            _ => unreachable!("an event serialises to an object"),
        }
    }

    /// The `detail` column: the fields as a JSON object.
    pub fn detail(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut fields)) => fields
                .remove("detail")
                .unwrap_or_else(|| Value::Object(Default::default())),
            _ => unreachable!("an event serialises to an object"),
        }
    }

    /// The event stored as `kind` with `detail`; `None` for a kind this
    /// program does not know (written by a newer one) or a detail that
    /// does not fit it.
    pub fn parse(kind: &str, detail: &Value) -> Option<Event> {
        let tagged = serde_json::json!({ "kind": kind, "detail": detail });
        serde_json::from_value(tagged).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_stored_as_its_kind_and_its_fields() {
        let event = Event::ParcelMoved {
            tracking: "JD01".into(),
            from: 3,
            to: 9,
        };
        assert_eq!(event.kind(), "parcel_moved");
        assert_eq!(
            event.detail(),
            serde_json::json!({ "tracking": "JD01", "from": 3, "to": 9 })
        );
        assert_eq!(Event::parse("parcel_moved", &event.detail()), Some(event));
    }

    #[test]
    fn events_without_fields_have_an_empty_detail_and_unknown_kinds_parse_to_none() {
        assert_eq!(
            Event::ParcelCollected { with: None }.kind(),
            "parcel_collected"
        );
        assert_eq!(
            Event::ParcelCollected { with: None }.detail(),
            serde_json::json!({})
        );
        assert_eq!(
            Event::parse("parcel_collected", &serde_json::json!({})),
            Some(Event::ParcelCollected { with: None })
        );
        assert_eq!(Event::parse("teleported", &serde_json::json!({})), None);
        assert_eq!(
            Event::parse("parcel_moved", &serde_json::json!({ "to": "nine" })),
            None
        );
    }

    #[test]
    fn optional_fields_of_a_message_are_left_out_when_empty() {
        let message = Event::RecipientNotification {
            recipient: 4,
            name: None,
            reason: None,
            expires_at: None,
            code: Some(4),
            parcels: vec![NotifiedParcel {
                tracking: "JD01".into(),
                compartment: Some(2),
                item: None,
            }],
        };
        let detail = message.detail();
        assert!(detail.get("reason").is_none() && detail.get("name").is_none());
        assert_eq!(Event::parse(&message.kind(), &detail), Some(message));
    }
}
