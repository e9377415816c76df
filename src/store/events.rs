//! The append-only event and audit log, and its sync outbox.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::audit;
use super::event::Event;
use super::{Events, Result, sql_error};
use crate::domain::{CompartmentNumber, Timestamp};

/// An event to record. `actor` says who: `kiosk`, `courier:3`,
/// `recipient`, `staff:<name>`, `cli:<user>`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event: Event,
    pub actor: String,
    pub compartment: Option<CompartmentNumber>,
    pub parcel: Option<i64>,
}

impl NewEvent {
    pub fn new(event: Event, actor: impl Into<String>) -> Self {
        Self {
            event,
            actor: actor.into(),
            compartment: None,
            parcel: None,
        }
    }

    pub fn compartment(mut self, number: CompartmentNumber) -> Self {
        self.compartment = Some(number);
        self
    }

    pub fn parcel(mut self, id: i64) -> Self {
        self.parcel = Some(id);
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub actor: String,
    pub compartment: Option<CompartmentNumber>,
    pub parcel: Option<i64>,
    pub detail: Value,
}

impl EventRecord {
    /// The event as its type; `None` for a kind this program does not know.
    pub fn event(&self) -> Option<Event> {
        Event::parse(&self.kind, &self.detail)
    }
}

/// Writes an event, chained to the one before it (see audit.rs), and its
/// outbox row. Callers pass their transaction so that the event commits
/// together with the change it describes.
pub(super) fn insert(conn: &Connection, at: Timestamp, event: &NewEvent) -> rusqlite::Result<i64> {
    let (id, previous) = audit::next_link(conn)?;
    let kind = event.event.kind();
    let detail = event.event.detail().to_string();
    let chain = audit::link(
        &previous,
        &audit::Entry {
            id,
            at: at.0,
            kind: &kind,
            actor: &event.actor,
            compartment: event.compartment,
            parcel: event.parcel,
            detail: &detail,
        },
    );
    conn.execute(
        "INSERT INTO events (id, at, kind, actor, compartment, parcel_id, detail, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            at.0,
            kind,
            event.actor,
            event.compartment,
            event.parcel,
            detail,
            chain
        ],
    )?;
    conn.execute("INSERT INTO outbox (event_id) VALUES (?1)", [id])?;
    Ok(id)
}

impl Events<'_> {
    /// Records an event on its own (door alarms, logins, reports).
    pub fn record(&mut self, at: Timestamp, event: &NewEvent) -> Result<i64> {
        let tx = self.conn.transaction().map_err(sql_error(self.file))?;
        let id = insert(&tx, at, event).map_err(sql_error(self.file))?;
        tx.commit().map_err(sql_error(self.file))?;
        Ok(id)
    }

    /// Everything that happened to one parcel, oldest first.
    pub fn parcel_history(&self, parcel: i64) -> Result<Vec<EventRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, kind, actor, compartment, parcel_id, detail FROM events
                 WHERE parcel_id = ?1 ORDER BY id",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map([parcel], event_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// The last door-open intent written for a compartment.
    pub fn last_intent(&self, compartment: CompartmentNumber) -> Result<Option<EventRecord>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT id, at, kind, actor, compartment, parcel_id, detail FROM events
                 WHERE compartment = ?1 AND kind = 'door_open_intent' ORDER BY id DESC LIMIT 1",
                [compartment],
                event_from_row,
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// What was recorded at a compartment after event `after`, oldest
    /// first.
    pub fn at_compartment_after(
        &self,
        compartment: CompartmentNumber,
        after: i64,
    ) -> Result<Vec<EventRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, kind, actor, compartment, parcel_id, detail FROM events
                 WHERE compartment = ?1 AND id > ?2 ORDER BY id",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map(params![compartment, after], event_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// The newest events first, optionally of one kind.
    pub fn recent(&self, kind: Option<&str>, limit: u32) -> Result<Vec<EventRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, kind, actor, compartment, parcel_id, detail FROM events
                 WHERE ?1 IS NULL OR kind = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(sql_error(self.file))?;
        let rows = stmt
            .query_map(params![kind, limit], event_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(sql_error(self.file))?;
        Ok(rows)
    }

    /// The audit log for staff, newest first: `limit` events of `filter`
    /// older than event `before` (for paging back).
    pub fn log_page(
        &self,
        filter: LogFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        // Which rows, and how to find them newest first: by id for the
        // common kinds (a page is found at once), by their own partial
        // index for the rare ones (else a page means reading the whole log).
        let (index, condition, compartment) = match filter {
            LogFilter::All => ("", "1", None),
            LogFilter::Staff => ("INDEXED BY events_by_staff", STAFF_ACTORS, None),
            LogFilter::Doors => ("", DOOR_KINDS, None),
            LogFilter::Parcels => ("", PARCEL_KINDS, None),
            LogFilter::Alarms => ("INDEXED BY events_alarms", ALARM_KINDS, None),
            LogFilter::Compartment(number) => ("", "1", Some(number)),
        };
        let query = format!(
            "SELECT id, at, kind, actor, compartment, parcel_id, detail FROM events {index}
             WHERE (?1 IS NULL OR id < ?1) AND {condition} AND (?3 IS NULL OR compartment = ?3)
             ORDER BY id DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare(&query).map_err(sql_error(self.file))?;
        stmt.query_map(params![before, limit, compartment], event_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// What waits for the fleet backend, and when it last took something.
    /// Cheap enough to ask every second: the pending rows are counted on
    /// their partial index, the oldest found by its key.
    pub fn outbox_state(&self) -> Result<OutboxState> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL),
                        (SELECT at FROM events WHERE id =
                            (SELECT min(event_id) FROM outbox WHERE sent_at IS NULL)),
                        (SELECT max(sent_at) FROM outbox)",
                [],
                |r| {
                    Ok(OutboxState {
                        pending: r.get::<_, i64>(0)? as u64,
                        oldest_pending: r.get::<_, Option<i64>>(1)?.map(Timestamp),
                        last_sent: r.get::<_, Option<i64>>(2)?.map(Timestamp),
                    })
                },
            )
            .map_err(sql_error(self.file))
    }

    /// Events not yet acknowledged by the fleet backend, oldest first,
    /// after event `after`, with their audit-chain hash.
    pub fn outbox_after(&self, after: i64, limit: u32) -> Result<Vec<(EventRecord, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.id, e.at, e.kind, e.actor, e.compartment, e.parcel_id, e.detail, e.chain
                 FROM outbox o JOIN events e ON e.id = o.event_id
                 WHERE o.sent_at IS NULL AND o.event_id > ?1 ORDER BY o.event_id LIMIT ?2",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map(params![after, limit], |row| {
            Ok((
                event_from_row(row)?,
                row.get::<_, Option<String>>(7)?.unwrap_or_default(),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }

    /// The fleet backend acknowledged `ids`. A recipient message among
    /// them is the fleet's to deliver from now on: its code is kept only
    /// as hashes here.
    pub fn outbox_sent(&mut self, ids: &[i64], now: Timestamp) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET sent_at = ?2 WHERE event_id = ?1 AND sent_at IS NULL",
                params![id, now.0],
            )
            .map_err(sql_error(file))?;
            let message: Option<i64> = tx
                .query_row(
                    "SELECT event_id FROM deliveries WHERE event_id = ?1 AND delivered_at IS NULL",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_error(file))?;
            if let Some(message) = message {
                super::deliveries::delivered(&tx, message, "fleet", now)
                    .map_err(sql_error(file))?;
            }
        }
        tx.commit().map_err(sql_error(file))
    }

    /// Keeps the unsent outbox within `limit` events: door chatter
    /// (opened, closed, outcomes) is dropped from it first, oldest first;
    /// it stays in the log. Parcel records and alarms are never dropped.
    /// How many were dropped.
    pub fn compact_outbox(&mut self, limit: u64) -> Result<u64> {
        let pending = self.outbox_pending()?;
        if pending <= limit {
            return Ok(0);
        }
        self.conn
            .execute(
                "DELETE FROM outbox WHERE event_id IN (
                    SELECT o.event_id FROM outbox o JOIN events e ON e.id = o.event_id
                    WHERE o.sent_at IS NULL
                      AND e.kind IN ('door_opened', 'door_closed', 'door_open_outcome', 'door_open_intent',
                                     'recipient_notified', 'notification_failed')
                    ORDER BY o.event_id LIMIT ?1)",
                [(pending - limit) as i64],
            )
            .map(|n| n as u64)
            .map_err(sql_error(self.file))
    }

    /// The newest event's id (0 for none).
    pub fn newest_id(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))
            .map_err(sql_error(self.file))
    }

    /// The audit chain's newest link: `(id, hash)`.
    pub fn chain_head(&self) -> Result<Option<(i64, String)>> {
        audit::head(self.conn)
            .map(|head| head.map(|h| (h.id, h.chain)))
            .map_err(sql_error(self.file))
    }

    /// Events recorded but not yet acknowledged by the fleet backend.
    pub fn outbox_pending(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(sql_error(self.file))
    }
}

/// Which part of the audit log staff look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFilter {
    #[default]
    All,
    /// What people did in maintenance and on the command line.
    Staff,
    /// Doors opening and closing, opens and their outcomes, boards.
    Doors,
    /// Everything about parcels and messages to recipients.
    Parcels,
    /// What needs a person: alarms, faults, reports, a full locker.
    Alarms,
    /// Everything about one compartment (its history).
    Compartment(CompartmentNumber),
}

// Door events are most of the log: `+kind` keeps SQLite off the kind index
// (which would gather them all to sort them) and on the id.
const DOOR_KINDS: &str = "+kind IN ('door_opened', 'door_closed', 'door_open_outcome',
    'maintenance_open', 'maintenance_open_all', 'uncommanded_open', 'left_open',
    'board_offline', 'board_online', 'compartment_state')";
const PARCEL_KINDS: &str = "(parcel_id IS NOT NULL OR kind IN ('recipient_notification',
    'courier_visit_ended', 'locker_full'))";
// These two are the conditions of the partial indexes `events_by_staff` and
// `events_alarms` (schema/004, schema/009), term for term: SQLite uses such an index
// only for a query that implies its condition.
const STAFF_ACTORS: &str = "(substr(actor, 1, 6) = 'staff:' OR substr(actor, 1, 4) = 'cli:')";
const ALARM_KINDS: &str = "(kind IN ('uncommanded_open', 'left_open', 'board_offline',
        'report_raised', 'locker_full', 'pickup_left_doors_open', 'dropoff_left_doors_open',
        'log_rolled_back', 'disk_nearly_full', 'recipient_unreachable')
    OR (kind IN ('door_open_outcome', 'maintenance_open')
        AND json_extract(detail, '$.outcome') IN ('jammed', 'no_reply'))
    OR (kind = 'compartment_state' AND json_extract(detail, '$.to') = 'faulty'))";

/// The sync outbox at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxState {
    /// Events not yet acknowledged by the fleet backend.
    pub pending: u64,
    /// When the oldest of them happened.
    pub oldest_pending: Option<Timestamp>,
    /// When the backend last acknowledged an event.
    pub last_sent: Option<Timestamp>,
}

fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventRecord> {
    let detail: String = row.get(6)?;
    Ok(EventRecord {
        id: row.get(0)?,
        at: Timestamp(row.get(1)?),
        kind: row.get(2)?,
        actor: row.get(3)?,
        compartment: row.get(4)?,
        parcel: row.get(5)?,
        detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
    })
}
