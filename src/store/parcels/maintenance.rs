//! What staff do to parcels in maintenance: find them, move them to
//! another compartment, give them more time, take them out, mark them for
//! return. Each change commits with its event.

use rusqlite::{OptionalExtension, params};

use super::super::event::{Event, NotifiedParcel, RemovalDoor};
use super::super::events::{self, NewEvent};
use super::super::{Parcels, Result, StoreError, sql_error};
use super::{IssuedCode, code_for, free_if_empty, transition, undelivered};
use crate::domain::codes::Entropy;
use crate::domain::maintenance::{RemovalReason, extended_deadline};
use crate::domain::{CompartmentNumber, ParcelEvent, ParcelStatus, SizeClass, Timestamp};

/// A parcel in the locker as staff see it in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRow {
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
    /// Marked for return to the sender (the carrier's courier takes it).
    pub return_requested: bool,
}

/// What an extension did: the new deadline, and the code the recipient
/// was sent with it (a new one when theirs had been spent meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub expires_at: Timestamp,
    pub code: IssuedCode,
    /// Their old code had been spent: this one is new.
    pub new_code: bool,
}

const ROW_QUERY: &str =
    "SELECT p.id, p.tracking, p.compartment, COALESCE(p.size, c.size), p.status,
        r.name, r.unit, p.deposited_at, p.expires_at, p.confirmed, p.return_requested_at IS NOT NULL
     FROM parcels p
     JOIN recipients r ON r.id = p.recipient_id
     JOIN compartments c ON c.number = p.compartment";

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ParcelRow> {
    let size: String = r.get(3)?;
    let status: String = r.get(4)?;
    Ok(ParcelRow {
        id: r.get(0)?,
        tracking: r.get(1)?,
        compartment: r.get(2)?,
        size: size.parse().unwrap_or(SizeClass::S),
        status: ParcelStatus::from_name(&status).unwrap_or(ParcelStatus::Deposited),
        recipient: r.get(5)?,
        unit: r.get(6)?,
        deposited_at: r.get::<_, Option<i64>>(7)?.map(Timestamp),
        expires_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
        confirmed: r.get(9)?,
        return_requested: r.get(10)?,
    })
}

impl Parcels<'_> {
    /// Parcels in the locker whose tracking number, recipient, flat or
    /// door matches `search` (all of them when it is empty), by door.
    pub fn rows(&self, search: &str, expired_only: bool) -> Result<Vec<ParcelRow>> {
        let text = search.trim().replace(['%', '_'], "");
        let query = format!(
            "{ROW_QUERY}
             WHERE p.status IN ('deposited', 'expired') AND (?2 = 0 OR p.status = 'expired')
               AND (?1 = '' OR p.tracking LIKE '%' || ?1 || '%' OR r.name LIKE '%' || ?1 || '%'
                    OR r.unit LIKE ?1 || '%' OR CAST(p.compartment AS TEXT) = ?1)
             ORDER BY p.compartment, p.id"
        );
        let mut stmt = self.conn.prepare(&query).map_err(sql_error(self.file))?;
        stmt.query_map(params![text, expired_only], row_from)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// One parcel in the locker, as in [`Store::parcel_rows`].
    pub fn row(&self, parcel: i64) -> Result<Option<ParcelRow>> {
        let query = format!("{ROW_QUERY} WHERE p.id = ?1 AND p.status IN ('deposited', 'expired')");
        self.conn
            .query_row(&query, [parcel], row_from)
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Moves a parcel into another compartment (staff moved it by hand):
    /// the new one is occupied, the old one free once empty. The target
    /// must still be free; the caller checked fit and door.
    pub fn move_to(
        &mut self,
        parcel: i64,
        to: CompartmentNumber,
        actor: &str,
        now: Timestamp,
    ) -> Result<CompartmentNumber> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let (from, tracking): (CompartmentNumber, String) = tx
            .query_row(
                "SELECT compartment, tracking FROM parcels
                 WHERE id = ?1 AND status IN ('deposited', 'expired') AND compartment IS NOT NULL",
                [parcel],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| StoreError::NotInLocker(parcel))?;
        let taken = tx
            .execute(
                "UPDATE compartments SET state = 'occupied', state_reason = NULL, updated_at = ?2
                 WHERE number = ?1 AND state = 'free' AND in_layout = 1",
                params![to, now.0],
            )
            .map_err(&sql)?;
        if taken == 0 || to == from {
            return Err(StoreError::CompartmentNotFree(to));
        }
        tx.execute(
            "UPDATE parcels SET compartment = ?2, updated_at = ?3 WHERE id = ?1",
            params![parcel, to, now.0],
        )
        .map_err(&sql)?;
        free_if_empty(&tx, from, now).map_err(&sql)?;
        let moved = Event::ParcelMoved {
            tracking: tracking.clone(),
            from,
            to,
        };
        let event = NewEvent::new(moved, actor).compartment(to).parcel(parcel);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(from)
    }

    /// Gives the recipient `hours` more (an expired parcel waits again),
    /// and queues a message with the new deadline and their code. A code
    /// spent meanwhile (their other parcels were collected) is replaced.
    pub fn extend(
        &mut self,
        parcel: i64,
        hours: u32,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        actor: &str,
        now: Timestamp,
    ) -> Result<Extension> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        type Found = (Option<i64>, Option<u32>, i64, String, Option<i64>, bool);
        let (expires, compartment, recipient, tracking, code, code_live): Found = tx
            .query_row(
                "SELECT p.expires_at, p.compartment, p.recipient_id, p.tracking, p.pickup_code_id,
                        c.id IS NOT NULL AND c.used_at IS NULL AND c.revoked_at IS NULL
                 FROM parcels p LEFT JOIN pickup_codes c ON c.id = p.pickup_code_id WHERE p.id = ?1",
                [parcel],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| StoreError::NoSuchParcel(parcel))?;
        transition(&tx, file, parcel, ParcelEvent::Extend, now)?;
        let deadline = extended_deadline(now, expires.map(Timestamp), hours);
        // The same code while it is still to be sent; once delivered it is
        // kept only as hashes, so the message brings a new one.
        let kept = match code.filter(|_| code_live) {
            Some(id) => undelivered(&tx, id)
                .map_err(&sql)?
                .map(|issued| (id, issued)),
            None => None,
        };
        let (code_id, issued) = match kept {
            Some(found) => found,
            None => code_for(&tx, recipient, None, pin_length, entropy, now).map_err(&sql)?,
        };
        let new_code = Some(code_id) != code;
        tx.execute(
            "UPDATE parcels SET expires_at = ?2, pickup_code_id = ?3 WHERE id = ?1",
            params![parcel, deadline.0, code_id],
        )
        .map_err(&sql)?;
        let extension = Event::ParcelExtended {
            tracking: tracking.clone(),
            hours,
            previous_expires_at: expires,
            expires_at: deadline.0,
            new_code,
        };
        let mut extended = NewEvent::new(extension, actor).parcel(parcel);
        extended.compartment = compartment;
        events::insert(&tx, now, &extended).map_err(&sql)?;
        let notification = Event::RecipientNotification {
            recipient,
            name: None,
            reason: Some("deadline_extended".into()),
            expires_at: Some(deadline.0),
            code: Some(code_id),
            parcels: vec![NotifiedParcel {
                tracking: tracking.clone(),
                compartment,
                item: None,
            }],
        };
        let message = NewEvent::new(notification, actor).parcel(parcel);
        events::insert(&tx, now, &message).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(Extension {
            expires_at: deadline,
            code: issued,
            new_code,
        })
    }

    /// Staff took a parcel out (or found it gone): it leaves the locker
    /// with the reason, its compartment is free once empty, and its code
    /// opens it no more. `door_opened` says whether the kiosk saw the door
    /// open for it (else staff used the key).
    pub fn remove(
        &mut self,
        parcel: i64,
        reason: RemovalReason,
        door_opened: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let tracking = self
            .get(parcel)?
            .ok_or_else(|| StoreError::NoSuchParcel(parcel))?
            .tracking;
        let removed = Event::ParcelRemoved {
            tracking,
            reason: reason.name().into(),
            door: if door_opened {
                RemovalDoor::Opened
            } else {
                RemovalDoor::Key
            },
        };
        self.leave_locker(parcel, ParcelEvent::Remove, actor, removed, now)
    }

    /// Marks a parcel in the locker for return to the sender: the carrier's
    /// next courier takes it back.
    pub fn request_return(
        &mut self,
        parcel: i64,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let changed = tx
            .execute(
                "UPDATE parcels SET return_requested_at = ?2, return_reason = ?3, updated_at = ?2
                 WHERE id = ?1 AND status IN ('deposited', 'expired')",
                params![parcel, now.0, reason],
            )
            .map_err(&sql)?;
        if changed == 0 {
            return Err(StoreError::NotInLocker(parcel));
        }
        let requested = Event::ReturnRequested {
            reason: reason.into(),
        };
        let event = NewEvent::new(requested, actor).parcel(parcel);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }
}
