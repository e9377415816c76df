//! Items handed out to named people: reserved by an import, loaded by
//! staff door by door, collected with a code like any parcel, and listed
//! for the organisation's asset register.

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Deposited, IssuedCode, NewDeposit, deposit_in, find_or_add_person, free_if_empty,
    tracking_in_use, transition, undelivered,
};
use crate::domain::codes::Entropy;
use crate::domain::handout::ItemRow;
use crate::domain::{CompartmentNumber, ParcelEvent, SizeClass, Timestamp};
use crate::store::event::{Event, NotifiedParcel};
use crate::store::events::{self, NewEvent};
use crate::store::{Parcels, Result, StoreError, sql_error};

/// An imported row with the compartment it holds.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub row: &'a ItemRow,
    pub compartment: CompartmentNumber,
    /// The row's deadline in the locker's time.
    pub deadline: Option<Timestamp>,
}

/// An item waiting for staff to put it in its compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemToLoad {
    pub parcel: i64,
    pub compartment: CompartmentNumber,
    pub person: String,
    pub item: String,
    pub asset_tag: Option<String>,
}

/// What loading an item did: the person's code, and the message queued
/// to them with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedItem {
    pub item: ItemToLoad,
    pub code: IssuedCode,
    pub expires_at: Timestamp,
}

/// One item as the asset register lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    pub parcel: i64,
    pub person: String,
    pub contact: String,
    pub item: String,
    pub asset_tag: Option<String>,
    pub compartment: Option<CompartmentNumber>,
    /// A `ParcelStatus`'s name: `announced` (to load), `deposited`
    /// (waiting), `collected`, ...
    pub status: String,
    pub imported_at: Option<Timestamp>,
    pub loaded_at: Option<Timestamp>,
    pub deadline: Option<Timestamp>,
    /// When it left the locker (collected, removed, ...).
    pub closed_at: Option<Timestamp>,
    /// `code` or `badge`, once collected.
    pub collected_with: Option<String>,
}

/// The row's person in the directory (found or added), with their
/// badge when the row gives one.
fn person(conn: &Connection, row: &ItemRow, now: Timestamp) -> rusqlite::Result<i64> {
    let id = find_or_add_person(conn, &row.person, Some(&row.contact), now)?;
    if let Some(badge) = &row.badge {
        conn.execute(
            "UPDATE recipients SET badge_hash = code_hash(?2) WHERE id = ?1",
            params![id, badge],
        )?;
    }
    Ok(id)
}

const TO_LOAD: &str = "SELECT p.id, p.compartment, r.name, p.item, p.asset_tag
     FROM parcels p JOIN recipients r ON r.id = p.recipient_id
     WHERE p.status = 'announced' AND p.item IS NOT NULL AND p.compartment IS NOT NULL";

fn to_load_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemToLoad> {
    Ok(ItemToLoad {
        parcel: r.get(0)?,
        compartment: r.get(1)?,
        person: r.get(2)?,
        item: r.get(3)?,
        asset_tag: r.get(4)?,
    })
}

impl Parcels<'_> {
    /// Records a batch of items, each holding its compartment, in one
    /// transaction: all of them or, on any error, none. An asset tag may
    /// be in the locker only once.
    pub fn reserve_items(
        &mut self,
        items: &[NewItem<'_>],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let mut ids = Vec::with_capacity(items.len());
        for new in items {
            let row = new.row;
            if let Some(tag) = &row.asset_tag
                && tracking_in_use(&tx, tag).map_err(&sql)?
            {
                return Err(StoreError::Rule(format!(
                    "line {}: asset tag {tag} is already in the locker or waiting to be loaded; nothing was imported",
                    row.line
                )));
            }
            let held = tx
                .execute(
                    "UPDATE compartments SET state = 'reserved', state_reason = ?2, updated_at = ?3
                     WHERE number = ?1 AND state = 'free' AND in_layout = 1",
                    params![
                        new.compartment,
                        format!("held for {} ({})", row.item, row.person),
                        now.0
                    ],
                )
                .map_err(&sql)?;
            if held != 1 {
                return Err(StoreError::Rule(format!(
                    "line {}: compartment {} is no longer free; nothing was imported",
                    row.line, new.compartment
                )));
            }
            let recipient = person(&tx, row, now).map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Rule(format!(
                        "line {}: that badge is someone else's in the directory; nothing was imported",
                        row.line
                    ))
                }
                other => sql(other),
            })?;
            tx.execute(
                "INSERT INTO parcels (tracking, recipient_id, compartment, size, status, item, asset_tag,
                     deadline_at, announced_at, updated_at)
                 VALUES ('', ?1, ?2, ?3, 'announced', ?4, ?5, ?6, ?7, ?7)",
                params![
                    recipient,
                    new.compartment,
                    row.size.label(),
                    row.item,
                    row.asset_tag,
                    new.deadline.map(|d| d.0),
                    now.0
                ],
            )
            .map_err(&sql)?;
            let parcel = tx.last_insert_rowid();
            // The tracking number staff and messages see: the asset tag,
            // else the item's own number.
            tx.execute(
                "UPDATE parcels SET tracking = coalesce(asset_tag, 'ITEM-' || id) WHERE id = ?1",
                [parcel],
            )
            .map_err(&sql)?;
            let reserved = Event::ItemReserved {
                item: row.item.clone(),
                asset_tag: row.asset_tag.clone(),
                recipient,
                person: row.person.clone(),
            };
            let event = NewEvent::new(reserved, actor)
                .compartment(new.compartment)
                .parcel(parcel);
            events::insert(&tx, now, &event).map_err(&sql)?;
            ids.push(parcel);
        }
        tx.commit().map_err(&sql)?;
        Ok(ids)
    }

    /// The items waiting to be loaded, door by door.
    pub fn items_to_load(&self) -> Result<Vec<ItemToLoad>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{TO_LOAD} ORDER BY p.compartment, p.id"))
            .map_err(sql_error(self.file))?;
        stmt.query_map([], to_load_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// The item waiting to be loaded into `compartment`, if any.
    pub fn item_to_load_at(&self, compartment: CompartmentNumber) -> Result<Option<ItemToLoad>> {
        self.conn
            .query_row(
                &format!("{TO_LOAD} AND p.compartment = ?1"),
                [compartment],
                to_load_from_row,
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Staff put the item in and closed its door: it waits for its
    /// person, who is sent a message with their code (by trigger, in the
    /// same transaction) and the deadline.
    pub fn load_item(
        &mut self,
        parcel: i64,
        storage_hours: u32,
        pin_length: u32,
        entropy: &mut dyn Entropy,
        actor: &str,
        now: Timestamp,
    ) -> Result<LoadedItem> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        type Found = (String, i64, String, Option<i64>);
        let found: Option<(ItemToLoad, Found)> = tx
            .query_row(
                "SELECT p.id, p.compartment, r.name, p.item, p.asset_tag,
                        p.tracking, p.recipient_id, p.size, p.deadline_at
                 FROM parcels p JOIN recipients r ON r.id = p.recipient_id
                 WHERE p.id = ?1 AND p.status = 'announced' AND p.item IS NOT NULL
                   AND p.compartment IS NOT NULL",
                [parcel],
                |r| {
                    Ok((
                        to_load_from_row(r)?,
                        (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
                    ))
                },
            )
            .optional()
            .map_err(&sql)?;
        let Some((item, (tracking, recipient, size, deadline))) = found else {
            return Err(StoreError::Rule(format!(
                "item {parcel} is not waiting to be loaded"
            )));
        };
        let expires = deadline
            .map(Timestamp)
            .filter(|d| *d > now)
            .unwrap_or_else(|| now.plus_secs(i64::from(storage_hours) * 3600));
        let deposit = NewDeposit {
            tracking: &tracking,
            carrier: None,
            recipient,
            announced: Some(parcel),
            compartment: item.compartment,
            size: size.parse().unwrap_or(SizeClass::M),
            courier: None,
            confirmed: true,
            storage_hours,
            pin_length,
            preset_code: None,
        };
        let Deposited { code_id, code, .. } =
            deposit_in(&tx, file, &deposit, entropy, expires, actor, now)?;
        // Only a code not sent yet goes in the message; a person whose
        // code is already out (an item loaded earlier, a message gone)
        // opens this one with it too.
        let sealed = undelivered(&tx, code_id).map_err(&sql)?.is_some();
        let message = Event::RecipientNotification {
            recipient,
            name: Some(item.person.clone()),
            reason: None,
            expires_at: Some(expires.0),
            code: sealed.then_some(code_id),
            parcels: vec![NotifiedParcel {
                tracking,
                compartment: Some(item.compartment),
                item: Some(item.item.clone()),
            }],
        };
        events::insert(&tx, now, &NewEvent::new(message, actor)).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(LoadedItem {
            item,
            code,
            expires_at: expires,
        })
    }

    /// An item that was never loaded leaves the list: its compartment is
    /// free again.
    pub fn cancel_item(&mut self, parcel: i64, actor: &str, now: Timestamp) -> Result<()> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let found: Option<(ItemToLoad,)> = tx
            .query_row(&format!("{TO_LOAD} AND p.id = ?1"), [parcel], |r| {
                Ok((to_load_from_row(r)?,))
            })
            .optional()
            .map_err(&sql)?;
        let Some((item,)) = found else {
            return Err(StoreError::Rule(format!(
                "item {parcel} is not waiting to be loaded"
            )));
        };
        transition(&tx, file, parcel, ParcelEvent::Cancel, now)?;
        free_if_empty(&tx, item.compartment, now).map_err(&sql)?;
        let cancelled = Event::ItemCancelled { item: item.item };
        let event = NewEvent::new(cancelled, actor)
            .compartment(item.compartment)
            .parcel(parcel);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(())
    }

    /// Every item ever imported, oldest first: who, what, which door,
    /// when loaded and when handed over.
    pub fn register(&self) -> Result<Vec<RegisterRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.id, r.name, coalesce(r.email, r.phone, ''), p.item, p.asset_tag,
                        p.compartment, p.status, p.announced_at, p.deposited_at,
                        coalesce(p.expires_at, p.deadline_at), p.closed_at, p.collected_with
                 FROM parcels p JOIN recipients r ON r.id = p.recipient_id
                 WHERE p.item IS NOT NULL ORDER BY p.id",
            )
            .map_err(sql_error(self.file))?;
        let time = |v: Option<i64>| v.map(Timestamp);
        stmt.query_map([], |r| {
            Ok(RegisterRow {
                parcel: r.get(0)?,
                person: r.get(1)?,
                contact: r.get(2)?,
                item: r.get(3)?,
                asset_tag: r.get(4)?,
                compartment: r.get(5)?,
                status: r.get(6)?,
                imported_at: time(r.get(7)?),
                loaded_at: time(r.get(8)?),
                deadline: time(r.get(9)?),
                closed_at: time(r.get(10)?),
                collected_with: r.get(11)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }
}
