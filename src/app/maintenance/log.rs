//! The audit log for staff, newest first, a page at a time.

use super::views::{self, LogEntry};
use crate::app::service::ServiceError;
use crate::app::{Service, system};
use crate::domain::Timestamp;
use crate::store::EventRecord;
pub use crate::store::LogFilter;

/// Events on one page of the log.
pub const PAGE: u32 = 50;

/// The newest page of `filter`, or the page older than event `before`.
pub async fn page(
    service: &Service,
    filter: LogFilter,
    before: Option<i64>,
) -> Result<Vec<LogEntry>, ServiceError> {
    let events = service
        .events(move |events| events.log_page(filter, before, PAGE))
        .await?;
    Ok(views::entries(&events))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    Intact,
    Altered,
    Lost,
}

/// What the log tab says of the chain: intact, altered at an entry, or
/// short of history after an entry.
pub fn integrity(found: &crate::store::audit::Verification) -> (Integrity, i32) {
    if let Some(entry) = found.first_broken {
        return (Integrity::Altered, entry as i32);
    }
    if found.lost_since.is_some() {
        let last = found.head.as_ref().map_or(0, |h| h.id);
        return (Integrity::Lost, last as i32);
    }
    match found.rollbacks.first() {
        Some((_, _, last)) => (Integrity::Lost, *last as i32),
        None => (Integrity::Intact, 0),
    }
}

/// An event's details in one line, `key: value` pairs by key: what staff
/// need to see of a record (reason, outcome, tracking). Times (`…_at`)
/// are shown in local time; record names are written as words
/// (`out_of_service` as "out of service"). What opens a door (a
/// notification's PIN and QR token) is never shown: staff at a public
/// screen must not read a recipient's code.
pub fn detail_line(event: &EventRecord) -> String {
    let Some(fields) = event.detail.as_object() else {
        return event.detail.to_string();
    };
    fields
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| {
            if SECRET_KEYS.contains(&key.as_str()) {
                return format!("{}: ••••", key.replace('_', " "));
            }
            let value = match value {
                serde_json::Value::String(text) if is_record_name(text) => text.replace('_', " "),
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Number(n) if key.ends_with("_at") && n.as_i64().is_some() => {
                    system::local_time(Timestamp(n.as_i64().unwrap_or_default()))
                }
                other => other.to_string(),
            };
            format!("{}: {value}", key.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Details that open doors or sign things.
const SECRET_KEYS: [&str; 5] = ["pin", "qr", "token", "code", "secret"];

/// A name from the records (`out_of_service`), not a person's text or a
/// tracking number, which keep their underscores.
fn is_record_name(text: &str) -> bool {
    text.contains('_') && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_never_shown() {
        let event = EventRecord {
            id: 1,
            at: Timestamp(0),
            kind: "recipient_notification".into(),
            actor: "kiosk".into(),
            compartment: None,
            parcel: None,
            detail: serde_json::json!({ "recipient": 4, "pin": "583920", "qr": "LK1:demo-1:TOKEN" }),
        };
        let line = detail_line(&event);
        assert_eq!(line, "pin: •••• · qr: •••• · recipient: 4");
    }

    #[test]
    fn details_read_as_one_line() {
        let event = EventRecord {
            id: 1,
            at: Timestamp(0),
            kind: "maintenance_open".into(),
            actor: "staff:maintenance".into(),
            compartment: Some(7),
            parcel: None,
            detail: serde_json::json!({
                "reason": "inspection", "outcome": "opened", "none": null, "n": 3,
                "new_state": "out_of_service", "tracking": "AB_12",
            }),
        };
        assert_eq!(
            detail_line(&event),
            "n: 3 · new state: out of service · outcome: opened · reason: inspection · tracking: AB_12"
        );
        let at = Timestamp(1_780_000_000_000);
        let extended = EventRecord {
            detail: serde_json::json!({ "expires_at": at.0 }),
            ..event
        };
        assert_eq!(
            detail_line(&extended),
            format!("expires at: {}", system::local_time(at))
        );
    }
}
