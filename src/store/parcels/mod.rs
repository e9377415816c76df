//! Parcels, their pickup codes, and the lifecycle transitions that move
//! them. Every transition is checked by the domain's lifecycle, changes the
//! compartment with it, and records its event, in one transaction.

mod delegation;
mod handout;
mod maintenance;
mod outage;
mod returns;

use rusqlite::{Connection, OptionalExtension, params};

use super::event::Event;
use super::events::{self, NewEvent};
use super::{Parcels, Result, StoreError, sql_error};
use crate::domain::codes::{Entropy, generate_pin, generate_token};
use crate::domain::dropoff::{ParcelMatch, Retrievable};
use crate::domain::pickup::{CodeInput, CodeLookup, CollectedWith, WaitingParcel};
use crate::domain::{CompartmentNumber, ParcelEvent, ParcelStatus, SizeClass, Timestamp};

pub use handout::{ItemToLoad, LoadedItem, NewItem, RegisterRow};
pub use maintenance::{Extension, ParcelRow};
pub use outage::Credited;
pub use returns::ExpectedReturn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRecord {
    pub id: i64,
    pub tracking: String,
    pub recipient: i64,
    pub compartment: Option<CompartmentNumber>,
    pub status: ParcelStatus,
    pub expires_at: Option<Timestamp>,
    pub confirmed: bool,
}

/// A parcel going into a compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeposit<'a> {
    pub tracking: &'a str,
    pub carrier: Option<&'a str>,
    pub recipient: i64,
    /// The announced record, when the manifest had one.
    pub announced: Option<i64>,
    pub compartment: CompartmentNumber,
    pub size: SizeClass,
    pub courier: Option<i64>,
    /// False when the courier left without confirming.
    pub confirmed: bool,
    pub storage_hours: u32,
    pub pin_length: u32,
    /// A code chosen elsewhere (the fleet backend, the demo data) instead
    /// of a new random one. Ignored when the recipient already has a code.
    pub preset_code: Option<&'a IssuedCode>,
}

/// The code a recipient uses; shared by all their parcels in the locker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub pin: String,
    pub qr_token: String,
}

const PARCEL_COLUMNS: &str =
    "id, tracking, recipient_id, compartment, status, expires_at, confirmed";

fn parcel_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ParcelRecord> {
    let status: String = r.get(4)?;
    Ok(ParcelRecord {
        id: r.get(0)?,
        tracking: r.get(1)?,
        recipient: r.get(2)?,
        compartment: r.get(3)?,
        status: ParcelStatus::from_name(&status).unwrap_or(ParcelStatus::Deposited),
        expires_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        confirmed: r.get(6)?,
    })
}

/// Moves a parcel along its lifecycle, refusing what the domain refuses.
pub(super) fn transition(
    conn: &Connection,
    file: &std::path::Path,
    parcel: i64,
    event: ParcelEvent,
    now: Timestamp,
) -> std::result::Result<ParcelStatus, StoreError> {
    let current: String = conn
        .query_row("SELECT status FROM parcels WHERE id = ?1", [parcel], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql_error(file))?
        .ok_or_else(|| StoreError::NoSuchParcel(parcel))?;
    let current = ParcelStatus::from_name(&current)
        .ok_or_else(|| StoreError::Rule(format!("parcel {parcel} has an unknown status")))?;
    let next = current
        .apply(event)
        .map_err(|e| StoreError::Rule(e.to_string()))?;
    let closes = next.is_final() && current.is_in_locker();
    conn.execute(
        "UPDATE parcels SET status = ?2, updated_at = ?3,
             closed_at = CASE WHEN ?4 THEN ?3 ELSE closed_at END
         WHERE id = ?1",
        params![parcel, next.name(), now.0, closes],
    )
    .map_err(sql_error(file))?;
    Ok(next)
}

/// A compartment whose last parcel left is free again, unless staff or a
/// fault took it out of use meanwhile.
pub(super) fn free_if_empty(
    conn: &Connection,
    compartment: CompartmentNumber,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE compartments SET state = 'free', state_reason = NULL, updated_at = ?2
         WHERE number = ?1 AND state IN ('occupied', 'reserved')
           AND NOT EXISTS (SELECT 1 FROM parcels WHERE compartment = ?1 AND status IN ('deposited', 'expired'))",
        params![compartment, now.0],
    )?;
    Ok(())
}

/// A parcel reported missing (an empty compartment where it should be, at
/// pickup or at take-back) is recorded as missing, no longer collected or
/// waiting: its compartment is free and its code opens nothing for it.
/// A report about a parcel in no such state changes nothing.
pub(in crate::store) fn mark_missing(
    conn: &Connection,
    file: &std::path::Path,
    parcel: i64,
    now: Timestamp,
) -> Result<()> {
    let sql = sql_error(file);
    let found: Option<(String, Option<u32>, Option<i64>)> = conn
        .query_row(
            "SELECT status, compartment, pickup_code_id FROM parcels WHERE id = ?1",
            [parcel],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(&sql)?;
    let Some((status, compartment, code)) = found else {
        return Ok(());
    };
    let reportable = ParcelStatus::from_name(&status)
        .is_some_and(|s| s.apply(ParcelEvent::ReportMissing).is_ok());
    if !reportable {
        return Ok(());
    }
    transition(conn, file, parcel, ParcelEvent::ReportMissing, now)?;
    if let Some(compartment) = compartment {
        free_if_empty(conn, compartment, now).map_err(&sql)?;
    }
    if let Some(code) = code {
        spend_code_if_done(conn, code, now).map_err(&sql)?;
    }
    Ok(())
}

/// A code is spent once none of its parcels is waiting any more.
fn spend_code_if_done(conn: &Connection, code: i64, now: Timestamp) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE pickup_codes SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM parcels WHERE pickup_code_id = ?1 AND status = 'deposited')",
        params![code, now.0],
    )?;
    Ok(())
}

/// The recipient's live code that has not been sent yet, or a new one
/// (`preset`, else random and unlike every other live PIN). A code already
/// delivered is kept only as hashes, so a later parcel gets a code of its
/// own.
pub(super) fn code_for(
    conn: &Connection,
    recipient: i64,
    preset: Option<&IssuedCode>,
    pin_length: u32,
    entropy: &mut dyn Entropy,
    now: Timestamp,
) -> rusqlite::Result<(i64, IssuedCode)> {
    if let Some(found) = live_code(conn, recipient)? {
        return Ok(found);
    }
    let (id, issued) = match preset {
        Some(preset) => (insert_code(conn, recipient, preset, now)?, preset.clone()),
        None => new_code(conn, recipient, pin_length, entropy, now)?,
    };
    conn.execute(
        "INSERT INTO undelivered_codes (code_id, sealed) VALUES (?1, seal(?2))",
        params![id, format!("{} {}", issued.pin, issued.qr_token)],
    )?;
    Ok((id, issued))
}

/// Whether a parcel with this tracking number (an asset tag, a return's
/// reference) is expected or in the locker: one may be there only once.
pub(super) fn tracking_in_use(conn: &Connection, tracking: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM parcels WHERE tracking = ?1
           AND status IN ('announced', 'deposited', 'expired') LIMIT 1",
        [tracking],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// A person in the directory: found by name and the same email address
/// or phone, else added (always added when there is no contact to tell
/// two of the same name apart).
pub(super) fn find_or_add_person(
    conn: &Connection,
    name: &str,
    contact: Option<&crate::domain::handout::Contact>,
    now: Timestamp,
) -> rusqlite::Result<i64> {
    use crate::domain::handout::Contact;
    let (email, phone) = match contact {
        Some(Contact::Email(email)) => (Some(email.as_str()), None),
        Some(Contact::Phone(phone)) => (None, Some(phone.as_str())),
        None => (None, None),
    };
    let found: Option<i64> = conn
        .query_row(
            "SELECT id FROM recipients WHERE active = 1 AND name = ?1
               AND ((?2 IS NOT NULL AND email = ?2) OR (?3 IS NOT NULL AND phone = ?3))
             ORDER BY id LIMIT 1",
            params![name, email, phone],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO recipients (name, email, phone, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, email, phone, now.0],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A new random code for `recipient` (its PIN unlike every other live
/// one), kept only as hashes: its id and the code.
pub(super) fn new_code(
    conn: &Connection,
    recipient: i64,
    pin_length: u32,
    entropy: &mut dyn Entropy,
    now: Timestamp,
) -> rusqlite::Result<(i64, IssuedCode)> {
    let taken = |pin: &str| -> bool {
        conn.query_row(
            "SELECT 1 FROM pickup_codes
             WHERE pin_hash = code_hash(?1) AND used_at IS NULL AND revoked_at IS NULL",
            [pin],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
        .unwrap_or(true)
    };
    let issued = IssuedCode {
        pin: generate_pin(pin_length as usize, entropy, &taken),
        qr_token: generate_token(entropy),
    };
    Ok((insert_code(conn, recipient, &issued, now)?, issued))
}

/// `code` for `recipient`, as hashes; its id.
fn insert_code(
    conn: &Connection,
    recipient: i64,
    code: &IssuedCode,
    now: Timestamp,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO pickup_codes (pin_hash, token_hash, recipient_id, created_at)
         VALUES (code_hash(?1), code_hash(?2), ?3, ?4)",
        params![code.pin, code.qr_token, recipient, now.0],
    )?;
    Ok(conn.last_insert_rowid())
}

/// What a lookup finds among `parcels` (id, door, status) in the
/// locker: those waiting, else expired ones, else `none`.
fn waiting_among(parcels: &[(i64, u32, String)], none: CodeLookup) -> CodeLookup {
    let waiting: Vec<WaitingParcel> = parcels
        .iter()
        .filter(|(_, _, status)| status == "deposited")
        .map(|(parcel, compartment, _)| WaitingParcel {
            parcel: *parcel,
            compartment: *compartment,
        })
        .collect();
    if !waiting.is_empty() {
        CodeLookup::Valid(waiting)
    } else if !parcels.is_empty() {
        CodeLookup::Expired
    } else {
        none
    }
}

/// A code kept sealed until its message is delivered.
pub(super) fn undelivered(conn: &Connection, code: i64) -> rusqlite::Result<Option<IssuedCode>> {
    let opened: Option<Option<String>> = conn
        .query_row(
            "SELECT unseal(sealed) FROM undelivered_codes WHERE code_id = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    Ok(opened.flatten().and_then(|text| {
        let (pin, qr_token) = text.split_once(' ')?;
        Some(IssuedCode {
            pin: pin.into(),
            qr_token: qr_token.into(),
        })
    }))
}

/// The recipient's code that still opens something and has not been sent
/// yet, if any.
fn live_code(conn: &Connection, recipient: i64) -> rusqlite::Result<Option<(i64, IssuedCode)>> {
    let code: Option<i64> = conn
        .query_row(
            "SELECT c.id FROM pickup_codes c JOIN undelivered_codes u ON u.code_id = c.id
             WHERE c.recipient_id = ?1 AND c.used_at IS NULL AND c.revoked_at IS NULL
               AND EXISTS (SELECT 1 FROM parcels p WHERE p.pickup_code_id = c.id AND p.status = 'deposited')
             ORDER BY c.id DESC LIMIT 1",
            [recipient],
            |r| r.get(0),
        )
        .optional()?;
    let Some(code) = code else {
        return Ok(None);
    };
    Ok(undelivered(conn, code)?.map(|issued| (code, issued)))
}

/// What [`deposit_in`] did.
pub(super) struct Deposited {
    pub parcel: i64,
    pub code_id: i64,
    pub code: IssuedCode,
}

/// A parcel into its compartment within `tx`, waiting until `expires`,
/// with its code and its `parcel_deposited` event as `actor`.
pub(super) fn deposit_in(
    tx: &Connection,
    file: &std::path::Path,
    deposit: &NewDeposit<'_>,
    entropy: &mut dyn Entropy,
    expires: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<Deposited> {
    let sql = sql_error(file);
    let state: Option<String> = tx
        .query_row(
            "SELECT state FROM compartments WHERE number = ?1 AND in_layout = 1",
            [deposit.compartment],
            |r| r.get(0),
        )
        .optional()
        .map_err(&sql)?;
    match state.as_deref() {
        None => {
            return Err(StoreError::NoSuchCompartment(deposit.compartment));
        }
        Some("free" | "reserved" | "occupied") => {}
        Some(other) => {
            return Err(StoreError::Rule(format!(
                "compartment {} is {other} and takes no parcels",
                deposit.compartment
            )));
        }
    }
    let (code_id, issued) = code_for(
        tx,
        deposit.recipient,
        deposit.preset_code,
        deposit.pin_length,
        entropy,
        now,
    )
    .map_err(&sql)?;
    let parcel = match deposit.announced {
        Some(id) => id,
        None => {
            tx.execute(
                "INSERT INTO parcels (tracking, carrier, recipient_id, status, updated_at)
                 VALUES (?1, ?2, ?3, 'announced', ?4)",
                params![deposit.tracking, deposit.carrier, deposit.recipient, now.0],
            )
            .map_err(&sql)?;
            tx.last_insert_rowid()
        }
    };
    transition(tx, file, parcel, ParcelEvent::Deposit, now)?;
    tx.execute(
        "UPDATE parcels SET compartment = ?2, size = ?3, courier_id = ?4, pickup_code_id = ?5,
             confirmed = ?6, deposited_at = ?7, expires_at = ?8
         WHERE id = ?1",
        params![
            parcel,
            deposit.compartment,
            deposit.size.label(),
            deposit.courier,
            code_id,
            deposit.confirmed,
            now.0,
            expires.0
        ],
    )
    .map_err(&sql)?;
    tx.execute(
        "UPDATE compartments SET state = 'occupied', state_reason = NULL, updated_at = ?2 WHERE number = ?1",
        params![deposit.compartment, now.0],
    )
    .map_err(&sql)?;
    let deposited = Event::ParcelDeposited {
        tracking: deposit.tracking.into(),
        recipient: deposit.recipient,
        confirmed: deposit.confirmed,
        expires_at: expires.0,
    };
    let event = NewEvent::new(deposited, actor)
        .compartment(deposit.compartment)
        .parcel(parcel);
    events::insert(tx, now, &event).map_err(&sql)?;
    Ok(Deposited {
        parcel,
        code_id,
        code: issued,
    })
}

impl Parcels<'_> {
    /// Records a parcel announced by a carrier's manifest.
    pub fn announce(
        &mut self,
        tracking: &str,
        carrier: Option<&str>,
        recipient: i64,
        size: Option<SizeClass>,
        now: Timestamp,
    ) -> Result<i64> {
        let tx = self.conn.transaction().map_err(sql_error(self.file))?;
        tx.execute(
            "INSERT INTO parcels (tracking, carrier, recipient_id, size, status, announced_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'announced', ?5, ?5)",
            params![tracking, carrier, recipient, size.map(|s| s.label()), now.0],
        )
        .map_err(sql_error(self.file))?;
        let id = tx.last_insert_rowid();
        let announced = Event::ParcelAnnounced {
            tracking: tracking.into(),
            carrier: carrier.map(Into::into),
        };
        let event = NewEvent::new(announced, "kiosk").parcel(id);
        events::insert(&tx, now, &event).map_err(sql_error(self.file))?;
        tx.commit().map_err(sql_error(self.file))?;
        Ok(id)
    }

    /// The carrier called an announced parcel off: a courier's scan of it
    /// finds nothing any more. Only an announced parcel can be.
    pub fn cancel_announcement(
        &mut self,
        tracking: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let parcel: i64 = tx
            .query_row(
                "SELECT id FROM parcels WHERE tracking = ?1 AND status = 'announced' ORDER BY id DESC LIMIT 1",
                [tracking],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error(file))?
            .ok_or_else(|| StoreError::Rule(format!("no announced parcel {tracking}")))?;
        transition(&tx, file, parcel, ParcelEvent::Cancel, now)?;
        let event = NewEvent::new(
            Event::AnnouncementCancelled {
                tracking: tracking.into(),
            },
            actor,
        )
        .parcel(parcel);
        events::insert(&tx, now, &event).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))?;
        Ok(parcel)
    }

    /// What a courier's scan of `tracking` refers to.
    pub fn match_tracking(&self, tracking: &str) -> Result<ParcelMatch> {
        type Found = (i64, i64, String, Option<u32>, bool, Option<String>);
        let found: Option<Found> = self
            .conn
            .query_row(
                "SELECT p.id, p.recipient_id, p.status, p.compartment, r.needs_accessible, p.size
                 FROM parcels p JOIN recipients r ON r.id = p.recipient_id
                 WHERE p.tracking = ?1 AND p.status IN ('announced', 'deposited', 'expired')
                 ORDER BY p.status = 'announced' LIMIT 1",
                [tracking],
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
            .map_err(sql_error(self.file))?;
        Ok(match found {
            None => ParcelMatch::Unknown,
            Some((parcel, recipient, status, _, accessible, size)) if status == "announced" => {
                ParcelMatch::Announced {
                    parcel,
                    recipient,
                    accessible,
                    size: size.and_then(|s| s.parse().ok()),
                }
            }
            Some((_, _, _, compartment, _, _)) => ParcelMatch::AlreadyInLocker {
                compartment: compartment.unwrap_or_default(),
            },
        })
    }

    /// Puts a parcel into a compartment and gives its recipient a code (the
    /// one they already have, when other parcels of theirs are waiting).
    pub fn deposit(
        &mut self,
        deposit: &NewDeposit<'_>,
        entropy: &mut dyn Entropy,
        now: Timestamp,
    ) -> Result<(i64, IssuedCode)> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let expires = now.plus_secs(i64::from(deposit.storage_hours) * 3600);
        let actor = deposit
            .courier
            .map_or("kiosk".to_string(), |c| format!("courier:{c}"));
        let put = deposit_in(&tx, file, deposit, entropy, expires, &actor, now)?;
        tx.commit().map_err(sql_error(file))?;
        Ok((put.parcel, put.code))
    }

    /// What a typed PIN or scanned QR token opens.
    pub fn look_up_code(&self, input: &CodeInput) -> Result<CodeLookup> {
        let sql = sql_error(self.file);
        let (column, value) = match input {
            CodeInput::Pin(pin) => ("pin_hash", pin),
            CodeInput::QrToken(token) => ("token_hash", token),
            CodeInput::Badge(badge) => return self.look_up_badge(badge),
        };
        // Found by its keyed hash through an index: what is compared is a
        // hash the person typing cannot know, so the time it takes says
        // nothing about the codes. A PIN is only unique among live codes;
        // prefer the live one.
        let query = format!(
            "SELECT id, used_at IS NOT NULL OR revoked_at IS NOT NULL FROM pickup_codes
             WHERE {column} = code_hash(?1) ORDER BY (used_at IS NULL AND revoked_at IS NULL) DESC, id DESC LIMIT 1"
        );
        let code: Option<(i64, bool)> = self
            .conn
            .query_row(&query, [value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(&sql)?;
        let Some((code, spent)) = code else {
            return Ok(CodeLookup::Unknown);
        };
        if spent {
            return Ok(CodeLookup::AlreadyUsed);
        }
        if let Some(delegated) = delegation::look_up_delegate(self.conn, code).map_err(&sql)? {
            return Ok(delegated);
        }
        if let Some(found) = returns::look_up_return(self.conn, code).map_err(&sql)? {
            return Ok(found);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, compartment, status FROM parcels
                 WHERE pickup_code_id = ?1 AND status IN ('deposited', 'expired') ORDER BY compartment, id",
            )
            .map_err(&sql)?;
        let parcels: Vec<(i64, u32, String)> = stmt
            .query_map([code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(&sql)?;
        Ok(waiting_among(&parcels, CodeLookup::AlreadyUsed))
    }

    /// What a scanned badge opens: every parcel waiting for the person
    /// the directory gives it to, whatever code it came with.
    fn look_up_badge(&self, badge: &str) -> Result<CodeLookup> {
        let sql = sql_error(self.file);
        let holder = super::recipients::badge_holder(self.conn, badge).map_err(&sql)?;
        let Some(holder) = holder else {
            return Ok(CodeLookup::NotOurs);
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, compartment, status FROM parcels
                 WHERE recipient_id = ?1 AND status IN ('deposited', 'expired') AND compartment IS NOT NULL
                 ORDER BY compartment, id",
            )
            .map_err(&sql)?;
        let parcels: Vec<(i64, u32, String)> = stmt
            .query_map([holder], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(&sql)?;
        Ok(waiting_among(&parcels, CodeLookup::NothingWaiting))
    }

    /// The code that opens the recipient's waiting parcels and has not
    /// been sent to them yet, if any.
    pub fn pickup_code_for(&self, recipient: i64) -> Result<Option<IssuedCode>> {
        live_code(self.conn, recipient)
            .map(|found| found.map(|(_, code)| code))
            .map_err(sql_error(self.file))
    }

    /// Like [`Parcels::pickup_code_for`], with the code's id.
    pub fn live_code_for(&self, recipient: i64) -> Result<Option<(i64, IssuedCode)>> {
        live_code(self.conn, recipient).map_err(sql_error(self.file))
    }

    /// The code `code` (an id, as in a recipient message), while it is
    /// still to be delivered: unsealed for the message that carries it.
    pub fn undelivered_code(&self, code: i64) -> Result<Option<IssuedCode>> {
        undelivered(self.conn, code).map_err(sql_error(self.file))
    }

    /// The message with code `code` reached its recipient: the code is
    /// kept only as hashes from now on.
    pub fn code_delivered(&mut self, code: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM undelivered_codes WHERE code_id = ?1", [code])
            .map(drop)
            .map_err(sql_error(self.file))
    }

    /// The id of the code that opens `parcel`.
    pub fn code_of(&self, parcel: i64) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT pickup_code_id FROM parcels WHERE id = ?1",
                [parcel],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(sql_error(self.file))
    }

    /// The recipient has opened the door with their code: the parcel is
    /// handed over.
    pub fn collect(&mut self, parcel: i64, now: Timestamp) -> Result<()> {
        self.collect_with(parcel, CollectedWith::Code, now)
    }

    /// The recipient has opened the door (`with` their code or badge):
    /// the parcel is handed over, and how is recorded with it.
    pub fn collect_with(&mut self, parcel: i64, with: CollectedWith, now: Timestamp) -> Result<()> {
        let collected = Event::ParcelCollected {
            with: (with != CollectedWith::Code).then(|| with.name().to_string()),
        };
        self.leave_locker(parcel, ParcelEvent::Collect, "recipient", collected, now)?;
        self.conn
            .execute(
                "UPDATE parcels SET collected_with = ?2 WHERE id = ?1",
                params![parcel, with.name()],
            )
            .map_err(sql_error(self.file))?;
        Ok(())
    }

    /// A courier took an expired parcel back.
    pub fn retrieve(&mut self, parcel: i64, courier: i64, now: Timestamp) -> Result<()> {
        self.leave_locker(
            parcel,
            ParcelEvent::Retrieve,
            &format!("courier:{courier}"),
            Event::ParcelRetrieved {},
            now,
        )
    }

    /// The parcels this courier's carrier is to take back: expired ones and
    /// those staff marked for return, of parcels the carrier brought.
    pub fn retrievable_for(&self, courier: i64) -> Result<Vec<Retrievable>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.id, p.compartment, p.tracking FROM parcels p
                 LEFT JOIN couriers brought ON brought.id = p.courier_id
                 JOIN couriers me ON me.id = ?1
                 WHERE p.compartment IS NOT NULL
                   AND (p.status = 'expired' OR (p.status = 'deposited' AND p.return_requested_at IS NOT NULL))
                   AND (brought.company = me.company OR p.carrier = me.company)
                 ORDER BY p.compartment, p.id",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map([courier], |r| {
            Ok(Retrievable {
                parcel: WaitingParcel {
                    parcel: r.get(0)?,
                    compartment: r.get(1)?,
                },
                tracking: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
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
            .map_err(sql_error(self.file))?;
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
        let file = self.file;
        let sql = sql_error(file);
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
        transition(&tx, file, parcel, event, now)?;
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

    /// A parcel leaves the locker (`event`), recorded as `record`: its
    /// compartment is free once empty, its code spent once it opens
    /// nothing else.
    pub(super) fn leave_locker(
        &mut self,
        parcel: i64,
        event: ParcelEvent,
        actor: &str,
        record: Event,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let (compartment, code): (Option<u32>, Option<i64>) = tx
            .query_row(
                "SELECT compartment, pickup_code_id FROM parcels WHERE id = ?1",
                [parcel],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(&sql)?
            .ok_or_else(|| StoreError::NoSuchParcel(parcel))?;
        transition(&tx, file, parcel, event, now)?;
        if let Some(compartment) = compartment {
            free_if_empty(&tx, compartment, now).map_err(&sql)?;
        }
        if let Some(code) = code {
            spend_code_if_done(&tx, code, now).map_err(&sql)?;
        }
        // Out of the locker: a code made for someone else is spent too.
        delegation::spend_delegates(&tx, parcel, "used_at", now).map_err(&sql)?;
        let mut record = NewEvent::new(record, actor).parcel(parcel);
        record.compartment = compartment;
        events::insert(&tx, now, &record).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// Marks every deposited parcel past its deadline as expired.
    pub fn expire_due(&mut self, now: Timestamp) -> Result<Vec<i64>> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let due: Vec<(i64, Option<u32>)> = {
            let mut stmt = tx
                .prepare("SELECT id, compartment FROM parcels WHERE status = 'deposited' AND expires_at <= ?1")
                .map_err(&sql)?;
            stmt.query_map([now.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(&sql)?
        };
        for (parcel, compartment) in &due {
            transition(&tx, file, *parcel, ParcelEvent::Expire, now)?;
            let mut event = NewEvent::new(Event::ParcelExpired {}, "kiosk").parcel(*parcel);
            event.compartment = *compartment;
            events::insert(&tx, now, &event).map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(due.into_iter().map(|(id, _)| id).collect())
    }

    pub fn get(&self, id: i64) -> Result<Option<ParcelRecord>> {
        let query = format!("SELECT {PARCEL_COLUMNS} FROM parcels WHERE id = ?1");
        self.conn
            .query_row(&query, [id], parcel_from_row)
            .optional()
            .map_err(sql_error(self.file))
    }

    /// The newest parcel record with this tracking number.
    pub fn by_tracking(&self, tracking: &str) -> Result<Option<ParcelRecord>> {
        let query = format!(
            "SELECT {PARCEL_COLUMNS} FROM parcels WHERE tracking = ?1 ORDER BY id DESC LIMIT 1"
        );
        self.conn
            .query_row(&query, [tracking], parcel_from_row)
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Parcels physically in the locker (deposited or expired).
    pub fn in_locker(&self) -> Result<Vec<ParcelRecord>> {
        let query = format!(
            "SELECT {PARCEL_COLUMNS} FROM parcels WHERE status IN ('deposited', 'expired') ORDER BY compartment, id"
        );
        let mut stmt = self.conn.prepare(&query).map_err(sql_error(self.file))?;
        stmt.query_map([], parcel_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }
}
