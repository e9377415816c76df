//! Fair deadlines in the records: an outage's time given back to every
//! parcel it kept from its recipient, each told the new deadline.

use rusqlite::{OptionalExtension, params};

use super::{code_for, transition, undelivered};
use crate::domain::codes::Entropy;
use crate::domain::outage::{Outage, OutageCause, Waiting, credit};
use crate::domain::{CompartmentNumber, ParcelEvent, Timestamp};
use crate::store::event::{Event, NotifiedParcel};
use crate::store::events::{self, NewEvent};
use crate::store::{Parcels, Result, sql_error};

/// One parcel's deadline moved for an outage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credited {
    pub parcel: i64,
    pub tracking: String,
    pub previous_expires_at: Timestamp,
    pub expires_at: Timestamp,
}

type Row = (
    i64,
    String,
    String,
    i64,
    Option<u32>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
);

impl Parcels<'_> {
    /// Gives `outage`'s time back to every parcel in the locker it kept
    /// from its recipient (in `compartments`, or all of them): the
    /// deadline moves, an expired parcel waits again, the audit log says
    /// why, and the recipient is told (with their code when it still
    /// waits to be sent, or a new one when theirs was spent meanwhile).
    pub fn credit_outage(
        &mut self,
        outage: &Outage,
        compartments: Option<&[CompartmentNumber]>,
        shortest_ms: i64,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        now: Timestamp,
    ) -> Result<Vec<Credited>> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let rows: Vec<Row> = {
            let mut stmt = tx
                .prepare(
                    "SELECT p.id, p.tracking, p.status, p.recipient_id, p.compartment,
                            p.deposited_at, p.expires_at, p.outage_credited_until, p.pickup_code_id,
                            c.id IS NOT NULL AND c.used_at IS NULL AND c.revoked_at IS NULL
                     FROM parcels p LEFT JOIN pickup_codes c ON c.id = p.pickup_code_id
                     WHERE p.status IN ('deposited', 'expired') AND p.compartment IS NOT NULL
                       AND p.deposited_at IS NOT NULL AND p.expires_at IS NOT NULL
                       AND p.return_requested_at IS NULL
                     ORDER BY p.id",
                )
                .map_err(&sql)?;
            stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(&sql)?
        };
        let mut credited = Vec::new();
        for (
            parcel,
            tracking,
            status,
            recipient,
            compartment,
            deposited,
            expires,
            until,
            code,
            live,
        ) in rows
        {
            if let Some(only) = compartments
                && !compartment.is_some_and(|c| only.contains(&c))
            {
                continue;
            }
            let waiting = Waiting {
                deposited_at: Timestamp(deposited),
                expires_at: Timestamp(expires),
                credited_until: until.map(Timestamp),
            };
            let Some(given) = credit(waiting, outage, shortest_ms) else {
                continue;
            };
            if status == "expired" {
                if given.expires_at <= now {
                    continue; // Nothing left of its time even so.
                }
                transition(&tx, file, parcel, ParcelEvent::Extend, now)?;
            }
            // Their code while it still opens it; a spent one is replaced.
            let (code, new_code) = match code.filter(|_| live) {
                Some(id) => (id, false),
                None => {
                    let (id, _) =
                        code_for(&tx, recipient, None, pin_length, entropy, now).map_err(&sql)?;
                    (id, true)
                }
            };
            tx.execute(
                "UPDATE parcels SET expires_at = ?2, outage_credited_until = ?3, pickup_code_id = ?4,
                     reminded_at = NULL
                 WHERE id = ?1",
                params![parcel, given.expires_at.0, given.credited_until.0, code],
            )
            .map_err(&sql)?;
            let board = match &outage.cause {
                OutageCause::BoardOffline { board } => Some(board.clone()),
                _ => None,
            };
            let moved = Event::DeadlineCredited {
                tracking: tracking.clone(),
                cause: outage.cause.name().into(),
                board,
                outage_from: outage.from.0,
                outage_to: outage.to.0,
                given_minutes: given.given_ms / 60_000,
                previous_expires_at: expires,
                expires_at: given.expires_at.0,
            };
            let mut event = NewEvent::new(moved, "kiosk").parcel(parcel);
            event.compartment = compartment;
            events::insert(&tx, now, &event).map_err(&sql)?;
            // The code goes with the message only while it is still to be
            // sent (a new one always is).
            let sealed = new_code || undelivered(&tx, code).map_err(&sql)?.is_some();
            let name: Option<String> = tx
                .query_row(
                    "SELECT name FROM recipients WHERE id = ?1",
                    [recipient],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&sql)?;
            let message = Event::RecipientNotification {
                recipient,
                name,
                reason: Some("outage".into()),
                expires_at: Some(given.expires_at.0),
                code: sealed.then_some(code),
                parcels: vec![NotifiedParcel {
                    tracking: tracking.clone(),
                    compartment,
                    item: None,
                }],
            };
            events::insert(&tx, now, &NewEvent::new(message, "kiosk").parcel(parcel))
                .map_err(&sql)?;
            credited.push(Credited {
                parcel,
                tracking,
                previous_expires_at: Timestamp(expires),
                expires_at: given.expires_at,
            });
        }
        tx.commit().map_err(&sql)?;
        Ok(credited)
    }
}
