//! Someone else collects: a recipient's second code for their waiting
//! parcels, one-time (spent at the first collection, and whenever the
//! parcels leave the locker otherwise) and revocable. Kept only as
//! hashes, like every code; the plain code goes to the caller alone.

use rusqlite::{Connection, OptionalExtension, params};

use super::{IssuedCode, new_code};
use crate::domain::Timestamp;
use crate::domain::codes::Entropy;
use crate::domain::pickup::{CodeLookup, WaitingParcel};
use crate::store::event::Event;
use crate::store::events::{self, NewEvent};
use crate::store::{Parcels, Result, StoreError, sql_error};

/// The delegate codes of `parcel` open nothing more (it left the locker,
/// or its recipient took the delegation back).
pub(super) fn spend_delegates(
    conn: &Connection,
    parcel: i64,
    column: &str,
    now: Timestamp,
) -> rusqlite::Result<usize> {
    conn.execute(
        &format!(
            "UPDATE pickup_codes SET {column} = ?2
             WHERE used_at IS NULL AND revoked_at IS NULL
               AND id IN (SELECT code_id FROM delegations WHERE parcel_id = ?1)"
        ),
        params![parcel, now.0],
    )
}

/// What delegate code `code` opens: its parcels still waiting.
pub(super) fn look_up_delegate(
    conn: &Connection,
    code: i64,
) -> rusqlite::Result<Option<CodeLookup>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.compartment, p.status FROM delegations d JOIN parcels p ON p.id = d.parcel_id
         WHERE d.code_id = ?1 ORDER BY p.compartment, p.id",
    )?;
    let parcels: Vec<(i64, Option<u32>, String)> = stmt
        .query_map([code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if parcels.is_empty() {
        return Ok(None); // Not a delegate code.
    }
    let waiting: Vec<WaitingParcel> = parcels
        .iter()
        .filter(|(_, compartment, status)| status == "deposited" && compartment.is_some())
        .map(|(parcel, compartment, _)| WaitingParcel {
            parcel: *parcel,
            compartment: compartment.unwrap_or_default(),
        })
        .collect();
    Ok(Some(if !waiting.is_empty() {
        CodeLookup::Delegated(waiting)
    } else if parcels.iter().any(|(_, _, status)| status == "expired") {
        CodeLookup::Expired
    } else {
        CodeLookup::AlreadyUsed
    }))
}

impl Parcels<'_> {
    /// A one-time code for someone else to collect `parcels` (waiting,
    /// all of one recipient); an earlier delegate code for them opens
    /// nothing more. `name` is who will collect, if said.
    pub fn delegate(
        &mut self,
        parcels: &[i64],
        name: Option<&str>,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        actor: &str,
        now: Timestamp,
    ) -> Result<IssuedCode> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let mut recipient = None;
        let mut trackings = Vec::new();
        for parcel in parcels {
            let found: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT recipient_id, status, tracking FROM parcels WHERE id = ?1",
                    [parcel],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(&sql)?;
            let (owner, status, tracking) = found.ok_or(StoreError::NoSuchParcel(*parcel))?;
            if status != "deposited" {
                return Err(StoreError::Rule(format!(
                    "parcel {tracking} is not waiting in the locker ({status})"
                )));
            }
            if recipient.is_some_and(|r| r != owner) {
                return Err(StoreError::Rule(
                    "a delegate code is for one recipient's parcels".into(),
                ));
            }
            recipient = Some(owner);
            spend_delegates(&tx, *parcel, "revoked_at", now).map_err(&sql)?;
            trackings.push(tracking);
        }
        let Some(recipient) = recipient else {
            return Err(StoreError::Rule("no parcel to delegate".into()));
        };
        let (code, issued) = new_code(&tx, recipient, pin_length, entropy, now).map_err(&sql)?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        for parcel in parcels {
            tx.execute(
                "INSERT INTO delegations (code_id, parcel_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![code, parcel, name, now.0],
            )
            .map_err(&sql)?;
            let issued_event = Event::DelegateCodeIssued {
                code,
                name: name.map(str::to_string),
            };
            let event = NewEvent::new(issued_event, actor).parcel(*parcel);
            events::insert(&tx, now, &event).map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(issued)
    }

    /// The delegate codes for `parcel` open nothing more; how many did.
    pub fn revoke_delegates(&mut self, parcel: i64, actor: &str, now: Timestamp) -> Result<usize> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let revoked = spend_delegates(&tx, parcel, "revoked_at", now).map_err(&sql)?;
        if revoked > 0 {
            let event = NewEvent::new(Event::DelegateCodeRevoked {}, actor).parcel(parcel);
            events::insert(&tx, now, &event).map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(revoked)
    }
}
