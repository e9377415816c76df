//! What a courier's visit writes: compartments held and released while a
//! door is open, compartments flagged, deposits undone, parcels taken back,
//! and the key that signs proofs of delivery.

use rusqlite::{OptionalExtension, params};

use super::event::Event;
use super::events::{self, NewEvent};
use super::parcels::{free_if_empty, transition};
use super::{Result, Store, StoreError, sql_error};
use crate::domain::codes::Entropy;
use crate::domain::pickup::{ProblemKind, WaitingParcel};
use crate::domain::{CompartmentNumber, CompartmentState, ParcelEvent, Timestamp};

const RECEIPT_KEY: &str = "receipt_signing_key";

impl Store {
    pub fn courier(&self, id: i64) -> Result<Option<super::Courier>> {
        self.conn
            .query_row(
                "SELECT id, name, company FROM couriers WHERE id = ?1",
                [id],
                super::people::courier_from_row,
            )
            .optional()
            .map_err(sql_error(&self.file))
    }

    /// Holds a free compartment for a deposit whose door is opening, so
    /// that nobody else is given it. False when it is no longer free.
    pub fn reserve_compartment(
        &mut self,
        number: CompartmentNumber,
        now: Timestamp,
    ) -> Result<bool> {
        self.conn
            .execute(
                "UPDATE compartments SET state = 'reserved', updated_at = ?2
                 WHERE number = ?1 AND state = 'free' AND in_layout = 1",
                params![number, now.0],
            )
            .map(|changed| changed == 1)
            .map_err(sql_error(&self.file))
    }

    /// Gives back a compartment held for a deposit that did not happen.
    pub fn release_compartment(&mut self, number: CompartmentNumber, now: Timestamp) -> Result<()> {
        let file = self.file.clone();
        free_if_empty(&self.conn, number, now).map_err(sql_error(&file))
    }

    /// A courier found a compartment unusable: it leaves service with the
    /// reason (a door that does not open is faulty, a dirty or occupied one
    /// is out of service until staff look), and staff get a report.
    pub fn flag_compartment(
        &mut self,
        number: CompartmentNumber,
        problem: ProblemKind,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let state = match problem {
            ProblemKind::Dirty => CompartmentState::OutOfService {
                reason: "not empty or dirty (reported by a courier)".into(),
            },
            _ => CompartmentState::Faulty {
                reason: format!(
                    "{} (reported at drop-off)",
                    problem.name().replace('_', " ")
                ),
            },
        };
        self.set_compartment_state(number, &state, actor, now)?;
        self.add_report(problem, Some(number), None, actor, now)
            .map(|_| ())
    }

    /// A door that did not open on a parcel in it: the compartment is
    /// faulty with `reason`, and staff get a report naming the parcel.
    pub fn record_door_failure(
        &mut self,
        parcel: &WaitingParcel,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let faulty = CompartmentState::Faulty {
            reason: reason.into(),
        };
        self.set_compartment_state(parcel.compartment, &faulty, actor, now)?;
        self.add_report(
            ProblemKind::DoorDidNotOpen,
            Some(parcel.compartment),
            Some(parcel.parcel),
            actor,
            now,
        )
        .map(|_| ())
    }

    /// Undoes a deposit made in error in this session: the parcel leaves
    /// the compartment with the courier, and its code is revoked unless it
    /// still opens another of the recipient's parcels. A parcel from the
    /// manifest goes back to announced; any other record is cancelled.
    pub fn undo_deposit(
        &mut self,
        tracking: &str,
        compartment: CompartmentNumber,
        courier: i64,
        now: Timestamp,
    ) -> Result<i64> {
        let file = self.file.clone();
        let sql = sql_error(&file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let (parcel, code, announced): (i64, Option<i64>, bool) = tx
            .query_row(
                "SELECT id, pickup_code_id, announced_at IS NOT NULL FROM parcels
                 WHERE tracking = ?1 AND compartment = ?2 AND status = 'deposited'",
                params![tracking, compartment],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| {
                StoreError::Rule(format!(
                    "parcel {tracking} is not deposited in compartment {compartment}"
                ))
            })?;
        let event = if announced {
            ParcelEvent::TakeBack
        } else {
            ParcelEvent::Cancel
        };
        transition(&tx, &file, parcel, event, now)?;
        tx.execute(
            "UPDATE parcels SET compartment = NULL, pickup_code_id = NULL, deposited_at = NULL,
                 expires_at = NULL, courier_id = NULL
             WHERE id = ?1",
            [parcel],
        )
        .map_err(&sql)?;
        free_if_empty(&tx, compartment, now).map_err(&sql)?;
        if let Some(code) = code {
            tx.execute(
                "UPDATE pickup_codes SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM parcels WHERE pickup_code_id = ?1 AND status = 'deposited')",
                params![code, now.0],
            )
            .map_err(&sql)?;
        }
        let undone = Event::DepositUndone {
            tracking: tracking.into(),
        };
        let event = NewEvent::new(undone, format!("courier:{courier}"))
            .compartment(compartment)
            .parcel(parcel);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(parcel)
    }

    /// The parcels this courier's carrier is to take back: expired ones and
    /// those staff marked for return, of parcels the carrier brought.
    pub fn retrievable_for(&self, courier: i64) -> Result<Vec<WaitingParcel>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.id, p.compartment FROM parcels p
                 LEFT JOIN couriers brought ON brought.id = p.courier_id
                 JOIN couriers me ON me.id = ?1
                 WHERE p.compartment IS NOT NULL
                   AND (p.status = 'expired' OR (p.status = 'deposited' AND p.return_requested_at IS NOT NULL))
                   AND (brought.company = me.company OR p.carrier = me.company)
                 ORDER BY p.compartment, p.id",
            )
            .map_err(sql_error(&self.file))?;
        stmt.query_map([courier], |r| {
            Ok(WaitingParcel {
                parcel: r.get(0)?,
                compartment: r.get(1)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(&self.file))
    }

    /// A courier took a parcel back: retrieved when it had expired,
    /// returned when it was marked for return.
    pub fn take_back(&mut self, parcel: i64, courier: i64, now: Timestamp) -> Result<()> {
        let status: Option<String> = self
            .conn
            .query_row("SELECT status FROM parcels WHERE id = ?1", [parcel], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql_error(&self.file))?;
        match status.as_deref() {
            Some("expired") => self.retrieve(parcel, courier, now),
            Some(_) => self.leave_locker(
                parcel,
                ParcelEvent::Return,
                &format!("courier:{courier}"),
                Event::ParcelReturned {},
                now,
            ),
            None => Err(StoreError::NoSuchParcel(parcel)),
        }
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
        let file = self.file.clone();
        let sql = sql_error(&file);
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

    /// The locker's key for signing proofs of delivery, made on first use.
    pub fn receipt_key(&mut self, entropy: &mut dyn Entropy) -> Result<[u8; 32]> {
        if let Some(hex) = self.meta(RECEIPT_KEY)? {
            if let Some(key) = from_hex(&hex) {
                return Ok(key);
            }
            return Err(StoreError::Rule(format!(
                "the stored {RECEIPT_KEY} is damaged"
            )));
        }
        let mut key = [0u8; 32];
        entropy.fill(&mut key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.set_meta(RECEIPT_KEY, &hex)?;
        Ok(key)
    }
}

fn from_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}
