//! What staff change in maintenance: parcels moved to another compartment,
//! given more time, taken out; reports marked handled; the locker's
//! default language. Each change commits with its event.

use rusqlite::{OptionalExtension, params};

use super::event::{Event, NotifiedParcel, RemovalDoor};
use super::events::{self, NewEvent};
use super::parcels::{IssuedCode, code_for, free_if_empty, transition};
use super::{Result, Store, StoreError, sql_error};
use crate::domain::codes::{Entropy, pickup_qr_payload};
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

/// A report raised at the kiosk, with what staff did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub kind: String,
    pub compartment: Option<CompartmentNumber>,
    pub tracking: Option<String>,
    pub reported_by: String,
    pub created_at: Timestamp,
    pub handled: Option<(Timestamp, String)>,
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

const DEFAULT_LANGUAGE: &str = "default_language";

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

impl Store {
    /// Parcels in the locker whose tracking number, recipient, flat or
    /// door matches `search` (all of them when it is empty), by door.
    pub fn parcel_rows(&self, search: &str, expired_only: bool) -> Result<Vec<ParcelRow>> {
        let text = search.trim().replace(['%', '_'], "");
        let query = format!(
            "{ROW_QUERY}
             WHERE p.status IN ('deposited', 'expired') AND (?2 = 0 OR p.status = 'expired')
               AND (?1 = '' OR p.tracking LIKE '%' || ?1 || '%' OR r.name LIKE '%' || ?1 || '%'
                    OR r.unit LIKE ?1 || '%' OR CAST(p.compartment AS TEXT) = ?1)
             ORDER BY p.compartment, p.id"
        );
        let mut stmt = self.conn.prepare(&query).map_err(sql_error(&self.file))?;
        stmt.query_map(params![text, expired_only], row_from)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(&self.file))
    }

    /// One parcel in the locker, as in [`Store::parcel_rows`].
    pub fn parcel_row(&self, parcel: i64) -> Result<Option<ParcelRow>> {
        let query = format!("{ROW_QUERY} WHERE p.id = ?1 AND p.status IN ('deposited', 'expired')");
        self.conn
            .query_row(&query, [parcel], row_from)
            .optional()
            .map_err(sql_error(&self.file))
    }

    /// Moves a parcel into another compartment (staff moved it by hand):
    /// the new one is occupied, the old one free once empty. The target
    /// must still be free; the caller checked fit and door.
    pub fn move_parcel(
        &mut self,
        parcel: i64,
        to: CompartmentNumber,
        actor: &str,
        now: Timestamp,
    ) -> Result<CompartmentNumber> {
        let file = self.file.clone();
        let sql = sql_error(&file);
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
    pub fn extend_parcel(
        &mut self,
        parcel: i64,
        hours: u32,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        actor: &str,
        now: Timestamp,
    ) -> Result<Extension> {
        let file = self.file.clone();
        let sql = sql_error(&file);
        let locker = self.meta("locker_id")?.unwrap_or_default();
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
        transition(&tx, &file, parcel, ParcelEvent::Extend, now)?;
        let deadline = extended_deadline(now, expires.map(Timestamp), hours);
        let (code_id, issued) = match code.filter(|_| code_live) {
            Some(id) => {
                let issued = tx
                    .query_row(
                        "SELECT pin, qr_token FROM pickup_codes WHERE id = ?1",
                        [id],
                        |r| {
                            Ok(IssuedCode {
                                pin: r.get(0)?,
                                qr_token: r.get(1)?,
                            })
                        },
                    )
                    .map_err(&sql)?;
                (id, issued)
            }
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
            pin: issued.pin.clone(),
            qr: pickup_qr_payload(&locker, &issued.qr_token),
            parcels: vec![NotifiedParcel {
                tracking: tracking.clone(),
                compartment,
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
    pub fn remove_parcel(
        &mut self,
        parcel: i64,
        reason: RemovalReason,
        door_opened: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let tracking = self
            .parcel(parcel)?
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

    /// Reports raised at the kiosk, newest first: those still open, or
    /// also the handled ones.
    pub fn report_rows(&self, include_handled: bool, limit: u32) -> Result<Vec<ReportRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.kind, r.compartment, p.tracking, r.reported_by, r.created_at,
                        r.handled_at, r.handled_by
                 FROM reports r LEFT JOIN parcels p ON p.id = r.parcel_id
                 WHERE ?1 OR r.handled_at IS NULL
                 ORDER BY r.handled_at IS NOT NULL, r.id DESC LIMIT ?2",
            )
            .map_err(sql_error(&self.file))?;
        stmt.query_map(params![include_handled, limit], |r| {
            let handled_at: Option<i64> = r.get(6)?;
            let handled_by: Option<String> = r.get(7)?;
            Ok(ReportRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                compartment: r.get(2)?,
                tracking: r.get(3)?,
                reported_by: r.get(4)?,
                created_at: Timestamp(r.get(5)?),
                handled: handled_at.map(|at| (Timestamp(at), handled_by.unwrap_or_default())),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(&self.file))
    }

    /// Staff dealt with a report.
    pub fn mark_report_handled(&mut self, report: i64, actor: &str, now: Timestamp) -> Result<()> {
        let file = self.file.clone();
        let sql = sql_error(&file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let found: Option<(String, Option<u32>, Option<i64>)> = tx
            .query_row(
                "SELECT kind, compartment, parcel_id FROM reports WHERE id = ?1 AND handled_at IS NULL",
                [report],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(&sql)?;
        let Some((kind, compartment, parcel)) = found else {
            return Err(StoreError::Rule(format!(
                "report {report} is not open (handled already, or no such report)"
            )));
        };
        tx.execute(
            "UPDATE reports SET handled_at = ?2, handled_by = ?3 WHERE id = ?1",
            params![report, now.0, actor],
        )
        .map_err(&sql)?;
        let handled = Event::ReportHandled { report, kind };
        let mut event = NewEvent::new(handled, actor);
        event.compartment = compartment;
        event.parcel = parcel;
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// The language the kiosk starts in and returns to, when staff chose
    /// one (else the configuration's).
    pub fn default_language(&self) -> Result<Option<String>> {
        self.meta(DEFAULT_LANGUAGE)
    }

    pub fn set_default_language(
        &mut self,
        language: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file.clone();
        let sql = sql_error(&file);
        let before = self.meta(DEFAULT_LANGUAGE)?;
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [DEFAULT_LANGUAGE, language],
        )
        .map_err(&sql)?;
        let set = Event::DefaultLanguageSet {
            from: before,
            to: language.into(),
        };
        let event = NewEvent::new(set, actor);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }
}
