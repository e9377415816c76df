//! Returns and sending from the locker: a code that lets a person put one
//! expected parcel into a compartment, which the carrier's courier then
//! takes back like any return.

use rusqlite::{Connection, OptionalExtension, params};

use super::{IssuedCode, find_or_add_person, new_code, tracking_in_use, transition};
use crate::domain::codes::Entropy;
use crate::domain::handout::Contact;
use crate::domain::pickup::CodeLookup;
use crate::domain::{CompartmentNumber, ParcelEvent, SizeClass, Timestamp};
use crate::store::event::Event;
use crate::store::events::{self, NewEvent};
use crate::store::{Parcels, Result, StoreError, sql_error};

/// A return to expect: from whom, for which carrier, how big.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedReturn<'a> {
    pub person: &'a str,
    pub contact: Option<&'a Contact>,
    pub carrier: &'a str,
    /// None: the person chooses at the screen.
    pub size: Option<SizeClass>,
    /// The carrier's reference (a return label's number), if any.
    pub reference: Option<&'a str>,
}

/// A return in its compartment, for its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedReturn {
    pub tracking: String,
    pub carrier: String,
    pub person: String,
}

/// What return code `code` lets in, if it is one.
pub(super) fn look_up_return(conn: &Connection, code: i64) -> rusqlite::Result<Option<CodeLookup>> {
    let found: Option<(i64, String, Option<String>)> = conn
        .query_row(
            "SELECT p.id, p.status, p.size FROM return_codes r JOIN parcels p ON p.id = r.parcel_id
             WHERE r.code_id = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(found.map(|(parcel, status, size)| {
        if status == "announced" {
            CodeLookup::Return {
                parcel,
                size: size.and_then(|s| s.parse().ok()),
            }
        } else {
            CodeLookup::AlreadyUsed
        }
    }))
}

impl Parcels<'_> {
    /// Expects a return: the person, in the directory, gets a code that
    /// lets them put it into a compartment.
    pub fn expect_return(
        &mut self,
        expected: &ExpectedReturn<'_>,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        actor: &str,
        now: Timestamp,
    ) -> Result<(i64, IssuedCode)> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        if let Some(reference) = expected.reference
            && tracking_in_use(&tx, reference).map_err(&sql)?
        {
            return Err(StoreError::Rule(format!(
                "a parcel {reference} is already expected or in the locker"
            )));
        }
        let person =
            find_or_add_person(&tx, expected.person, expected.contact, now).map_err(&sql)?;
        tx.execute(
            "INSERT INTO parcels (tracking, carrier, recipient_id, size, status, announced_at, updated_at,
                 return_requested_at, return_reason)
             VALUES (coalesce(?1, ''), ?2, ?3, ?4, 'announced', ?5, ?5, ?5, 'sent_from_locker')",
            params![
                expected.reference,
                expected.carrier,
                person,
                expected.size.map(|s| s.label()),
                now.0
            ],
        )
        .map_err(&sql)?;
        let parcel = tx.last_insert_rowid();
        tx.execute(
            "UPDATE parcels SET tracking = 'RET-' || id WHERE id = ?1 AND tracking = ''",
            [parcel],
        )
        .map_err(&sql)?;
        let (code_id, code) = new_code(&tx, person, pin_length, entropy, now).map_err(&sql)?;
        tx.execute(
            "INSERT INTO return_codes (code_id, parcel_id) VALUES (?1, ?2)",
            params![code_id, parcel],
        )
        .map_err(&sql)?;
        let tracking: String = tx
            .query_row(
                "SELECT tracking FROM parcels WHERE id = ?1",
                [parcel],
                |r| r.get(0),
            )
            .map_err(&sql)?;
        let expected_event = Event::ReturnExpected {
            tracking,
            carrier: expected.carrier.into(),
            person: expected.person.into(),
        };
        events::insert(
            &tx,
            now,
            &NewEvent::new(expected_event, actor).parcel(parcel),
        )
        .map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok((parcel, code))
    }

    /// The person put the return into `compartment` and its door closed:
    /// it waits for its carrier's courier; the code is spent.
    pub fn accept_return(
        &mut self,
        parcel: i64,
        compartment: CompartmentNumber,
        confirmed: bool,
        now: Timestamp,
    ) -> Result<AcceptedReturn> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let (tracking, carrier, person): (String, String, String) = tx
            .query_row(
                "SELECT p.tracking, coalesce(p.carrier, ''), r.name FROM parcels p
                 JOIN recipients r ON r.id = p.recipient_id
                 WHERE p.id = ?1 AND p.status = 'announced'
                   AND p.id IN (SELECT parcel_id FROM return_codes)",
                [parcel],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| {
                StoreError::Rule(format!("parcel {parcel} is not an expected return"))
            })?;
        transition(&tx, file, parcel, ParcelEvent::Deposit, now)?;
        tx.execute(
            "UPDATE parcels SET compartment = ?2, confirmed = ?3, deposited_at = ?4 WHERE id = ?1",
            params![parcel, compartment, confirmed, now.0],
        )
        .map_err(&sql)?;
        tx.execute(
            "UPDATE compartments SET state = 'occupied', state_reason = NULL, updated_at = ?2 WHERE number = ?1",
            params![compartment, now.0],
        )
        .map_err(&sql)?;
        tx.execute(
            "UPDATE pickup_codes SET used_at = ?2
             WHERE id IN (SELECT code_id FROM return_codes WHERE parcel_id = ?1) AND used_at IS NULL",
            params![parcel, now.0],
        )
        .map_err(&sql)?;
        let accepted = Event::ReturnAccepted {
            tracking: tracking.clone(),
            confirmed,
        };
        let event = NewEvent::new(accepted, "recipient")
            .compartment(compartment)
            .parcel(parcel);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(AcceptedReturn {
            tracking,
            carrier,
            person,
        })
    }
}
