//! Messages to recipients on their way out: which are due, what each
//! channel took, and the reminders before a deadline.
//!
//! Every `recipient_notification` in the log has a `deliveries` row (a
//! trigger makes it in the same transaction, schema/010). The code a
//! message carries stays sealed in `undelivered_codes` until the message
//! has gone out on every channel that reaches its recipient; from then on
//! it exists only as hashes.

use rusqlite::{OptionalExtension, params};

use super::event::NotifiedParcel;
use super::parcels::{IssuedCode, undelivered};
use super::{Deliveries, Event, NewEvent, Result, events, sql_error};
use crate::domain::Timestamp;

/// How a recipient can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Their language, when known; else the locker's default.
    pub language: Option<String>,
}

/// A message that is due to be sent (again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMessage {
    /// The `recipient_notification` event's id: the message's identity
    /// everywhere (a webhook or fleet consumer drops a repeat by it).
    pub message: i64,
    pub at: Timestamp,
    pub attempts: u32,
    /// Channels that took it already.
    pub channels_done: Vec<String>,
    pub recipient: Contact,
    /// `None` for a delivery, `reminder`, `deadline_extended`.
    pub reason: Option<String>,
    pub expires_at: Option<Timestamp>,
    /// The code, while it is still sealed for this message; `None` when
    /// the message carries none or it was sent already.
    pub code: Option<IssuedCode>,
    pub parcels: Vec<NotifiedParcel>,
    /// The code this message was about opens nothing any more (collected,
    /// revoked): there is nothing left to tell.
    pub moot: bool,
}

/// The messages queue at a glance, for the maintenance sync tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryState {
    pub waiting: u64,
    pub oldest_waiting: Option<Timestamp>,
    pub last_error: Option<String>,
    pub unreachable: u64,
    pub last_delivered: Option<Timestamp>,
}

impl Deliveries<'_> {
    /// Messages due at `now`, oldest first, at most `limit`.
    pub fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<DueMessage>> {
        self.load(
            "d.delivered_at IS NULL AND d.unreachable_at IS NULL AND d.next_attempt_at <= ?1",
            now.0,
            limit,
        )
    }

    /// Message `message` as it would go out now, if it is still to be
    /// delivered (the fleet link sends it with its event).
    pub fn undelivered(&self, message: i64) -> Result<Option<DueMessage>> {
        let found = self.load(
            "d.delivered_at IS NULL AND d.unreachable_at IS NULL AND d.event_id = ?1",
            message,
            1,
        )?;
        Ok(found.into_iter().next())
    }

    /// Messages not delivered yet (waiting, or reaching nobody) that still
    /// carry a code that opens something: what staff may hand out on
    /// paper instead. Oldest first.
    pub fn codes_on_paper(&self) -> Result<Vec<DueMessage>> {
        let messages = self.load("d.delivered_at IS NULL AND ?1 = ?1", 0, u32::MAX)?;
        Ok(messages
            .into_iter()
            .filter(|m| m.code.is_some() && !m.moot)
            .collect())
    }

    /// The messages that meet `condition` (on `?1`), at most `limit` (`?2`).
    fn load(&self, condition: &str, value: i64, limit: u32) -> Result<Vec<DueMessage>> {
        let sql = sql_error(self.file);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT d.event_id, e.at, d.attempts, d.channels_done, e.detail,
                        r.id, r.name, r.email, r.phone, r.language
                 FROM deliveries d
                 JOIN events e ON e.id = d.event_id
                 JOIN recipients r ON r.id = d.recipient_id
                 WHERE {condition}
                 ORDER BY d.next_attempt_at, d.event_id LIMIT ?2"
            ))
            .map_err(&sql)?;
        type Row = (i64, i64, u32, String, String, Contact);
        let rows: Vec<Row> = stmt
            .query_map(params![value, limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    Contact {
                        id: r.get(5)?,
                        name: r.get(6)?,
                        email: non_empty(r.get(7)?),
                        phone: non_empty(r.get(8)?),
                        language: non_empty(r.get(9)?),
                    },
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(&sql)?;
        let mut due = Vec::with_capacity(rows.len());
        for (message, at, attempts, done, detail, recipient) in rows {
            let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
            let Some(Event::RecipientNotification {
                reason,
                expires_at,
                code,
                parcels,
                ..
            }) = Event::parse("recipient_notification", &detail)
            else {
                continue;
            };
            let (sealed, moot) = match code {
                Some(code) => (
                    undelivered(self.conn, code).map_err(&sql)?,
                    self.code_is_spent(code)?,
                ),
                None => (None, false),
            };
            // A delivery's message is written before any deadline is
            // asked for: the earliest of the parcels its code opens.
            let expires_at = match (expires_at, code) {
                (Some(at), _) => Some(at),
                (None, Some(code)) => self
                    .conn
                    .query_row(
                        "SELECT min(expires_at) FROM parcels WHERE pickup_code_id = ?1 AND status = 'deposited'",
                        [code],
                        |r| r.get::<_, Option<i64>>(0),
                    )
                    .map_err(&sql)?,
                (None, None) => None,
            };
            due.push(DueMessage {
                message,
                at: Timestamp(at),
                attempts,
                channels_done: done
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                recipient,
                reason,
                expires_at: expires_at.map(Timestamp),
                code: sealed,
                parcels,
                moot,
            });
        }
        Ok(due)
    }

    fn code_is_spent(&self, code: i64) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT used_at IS NOT NULL OR revoked_at IS NOT NULL FROM pickup_codes WHERE id = ?1",
                [code],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map(|spent| spent.unwrap_or(true))
            .map_err(sql_error(self.file))
    }

    /// `channel` took message `message`: recorded, once.
    pub fn took(&mut self, message: i64, channel: &str, now: Timestamp) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let done: String = tx
            .query_row(
                "SELECT channels_done FROM deliveries WHERE event_id = ?1",
                [message],
                |r| r.get(0),
            )
            .map_err(sql_error(file))?;
        if done.split(',').any(|c| c == channel) {
            return Ok(());
        }
        let done = if done.is_empty() {
            channel.to_owned()
        } else {
            format!("{done},{channel}")
        };
        tx.execute(
            "UPDATE deliveries SET channels_done = ?2 WHERE event_id = ?1",
            params![message, done],
        )
        .map_err(sql_error(file))?;
        let taken = Event::RecipientNotified {
            message,
            channel: channel.into(),
        };
        events::insert(&tx, now, &NewEvent::new(taken, "kiosk")).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))
    }

    /// Every channel took the message (or it is moot): done, and its code
    /// is kept only as hashes from now on.
    pub fn finished(&mut self, message: i64, now: Timestamp) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        tx.execute(
            "UPDATE deliveries SET delivered_at = ?2, last_error = NULL WHERE event_id = ?1",
            params![message, now.0],
        )
        .map_err(sql_error(file))?;
        forget_code(&tx, message).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))
    }

    /// A try on `channel` failed: tried again at `retry_at`. The log
    /// hears of the first failure and every tenth.
    pub fn failed(
        &mut self,
        message: i64,
        channel: &str,
        error: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Result<u32> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let attempts: u32 = tx
            .query_row(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE event_id = ?1 RETURNING attempts",
                params![message, retry_at.0, error],
                |r| r.get(0),
            )
            .map_err(sql_error(file))?;
        if attempts == 1 || attempts.is_multiple_of(10) {
            let failed = Event::NotificationFailed {
                message,
                channel: channel.into(),
                attempts,
                error: error.into(),
            };
            events::insert(&tx, now, &NewEvent::new(failed, "kiosk")).map_err(sql_error(file))?;
        }
        tx.commit().map_err(sql_error(file))?;
        Ok(attempts)
    }

    /// No channel reaches the recipient: staff are told, by an alarm.
    pub fn unreachable(&mut self, message: &DueMessage, why: &str, now: Timestamp) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        tx.execute(
            "UPDATE deliveries SET unreachable_at = ?2, last_error = ?3 WHERE event_id = ?1",
            params![message.message, now.0, why],
        )
        .map_err(sql_error(file))?;
        let alarm = Event::RecipientUnreachable {
            message: message.message,
            recipient: message.recipient.id,
            name: Some(message.recipient.name.clone()),
            why: why.into(),
        };
        events::insert(&tx, now, &NewEvent::new(alarm, "kiosk")).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))
    }

    /// The next time a message is due, if any waits.
    pub fn next_due(&self) -> Result<Option<Timestamp>> {
        self.conn
            .query_row(
                "SELECT min(next_attempt_at) FROM deliveries
                 WHERE delivered_at IS NULL AND unreachable_at IS NULL",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map(|at| at.map(Timestamp))
            .map_err(sql_error(self.file))
    }

    pub fn state(&self) -> Result<DeliveryState> {
        self.conn
            .query_row(
                "SELECT
                    (SELECT count(*) FROM deliveries WHERE delivered_at IS NULL AND unreachable_at IS NULL),
                    (SELECT min(e.at) FROM deliveries d JOIN events e ON e.id = d.event_id
                        WHERE d.delivered_at IS NULL AND d.unreachable_at IS NULL),
                    (SELECT last_error FROM deliveries WHERE delivered_at IS NULL AND unreachable_at IS NULL
                        AND last_error IS NOT NULL ORDER BY event_id DESC LIMIT 1),
                    (SELECT count(*) FROM deliveries WHERE unreachable_at IS NOT NULL),
                    (SELECT max(delivered_at) FROM deliveries)",
                [],
                |r| {
                    Ok(DeliveryState {
                        waiting: r.get::<_, i64>(0)? as u64,
                        oldest_waiting: r.get::<_, Option<i64>>(1)?.map(Timestamp),
                        last_error: r.get(2)?,
                        unreachable: r.get::<_, i64>(3)? as u64,
                        last_delivered: r.get::<_, Option<i64>>(4)?.map(Timestamp),
                    })
                },
            )
            .map_err(sql_error(self.file))
    }

    /// Queues one reminder per recipient whose parcels reach their
    /// deadline within `before` of `now` and were not reminded of yet;
    /// how many were queued. A code not sent yet goes with it.
    pub fn queue_reminders(&mut self, now: Timestamp, before_hours: u32) -> Result<usize> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let horizon = now.0 + i64::from(before_hours) * 3_600_000;
        let mut stmt = tx
            .prepare(
                "SELECT p.id, p.tracking, p.compartment, p.recipient_id, p.expires_at, r.name,
                        p.pickup_code_id, p.item
                 FROM parcels p JOIN recipients r ON r.id = p.recipient_id
                 WHERE p.status = 'deposited' AND p.reminded_at IS NULL
                   AND p.return_requested_at IS NULL
                   AND p.expires_at IS NOT NULL AND p.expires_at <= ?1 AND p.expires_at > ?2
                 ORDER BY p.recipient_id, p.expires_at",
            )
            .map_err(sql_error(file))?;
        // The parcels on their way back to the sender (returns, staff's
        // returns) have no one to remind.
        type Row = (
            i64,
            String,
            Option<u32>,
            i64,
            i64,
            String,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = stmt
            .query_map(params![horizon, now.0], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(sql_error(file))?;
        drop(stmt);
        let mut queued = 0;
        let mut rest = rows.as_slice();
        while let Some(first) = rest.first() {
            let recipient = first.3;
            let count = rest.iter().take_while(|r| r.3 == recipient).count();
            let (group, tail) = rest.split_at(count);
            rest = tail;
            // A code still sealed (the first message has not gone out) is
            // carried again, so that the reminder alone lets them in.
            let code = group
                .iter()
                .filter_map(|r| r.6)
                .find(|code| undelivered(&tx, *code).ok().flatten().is_some());
            let message = Event::RecipientNotification {
                recipient,
                name: Some(first.5.clone()),
                reason: Some("reminder".into()),
                expires_at: group.iter().map(|r| r.4).min(),
                code,
                parcels: group
                    .iter()
                    .map(|r| NotifiedParcel {
                        tracking: r.1.clone(),
                        compartment: r.2,
                        item: r.7.clone(),
                    })
                    .collect(),
            };
            events::insert(&tx, now, &NewEvent::new(message, "kiosk")).map_err(sql_error(file))?;
            for row in group {
                tx.execute(
                    "UPDATE parcels SET reminded_at = ?2 WHERE id = ?1",
                    params![row.0, now.0],
                )
                .map_err(sql_error(file))?;
            }
            queued += 1;
        }
        tx.commit().map_err(sql_error(file))?;
        Ok(queued)
    }
}

/// `channel` took message `message` and it is done: recorded, and its
/// code kept only as hashes from now on (the fleet's acknowledgement).
pub(super) fn delivered(
    tx: &rusqlite::Connection,
    message: i64,
    channel: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE deliveries SET delivered_at = ?2, last_error = NULL,
            channels_done = CASE channels_done WHEN '' THEN ?3 ELSE channels_done || ',' || ?3 END
         WHERE event_id = ?1",
        params![message, now.0, channel],
    )?;
    forget_code(tx, message)?;
    let taken = Event::RecipientNotified {
        message,
        channel: channel.into(),
    };
    events::insert(tx, now, &NewEvent::new(taken, "kiosk"))?;
    Ok(())
}

/// The plain code message `message` carried is kept no longer: only its
/// hashes open the door from now on.
fn forget_code(tx: &rusqlite::Connection, message: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM undelivered_codes WHERE code_id =
            (SELECT json_extract(detail, '$.code') FROM events WHERE id = ?1)",
        [message],
    )
    .map(drop)
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}
