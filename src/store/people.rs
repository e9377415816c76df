//! Couriers and the resident directory.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, sql_error};
use crate::domain::Timestamp;
use crate::domain::codes::validate_courier_code;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Courier {
    pub id: i64,
    pub name: String,
    pub company: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub name: String,
    pub unit: Option<String>,
    pub needs_accessible: bool,
}

impl Store {
    /// Adds a courier who logs in with `login_code` (4 to 8 digits, not
    /// weak) and/or a badge QR.
    pub fn add_courier(
        &mut self,
        name: &str,
        company: &str,
        login_code: Option<&str>,
        badge: Option<&str>,
        now: Timestamp,
    ) -> Result<i64> {
        if let Some(code) = login_code {
            validate_courier_code(code).map_err(|e| StoreError::Rule(e.to_string()))?;
        }
        self.conn
            .execute(
                "INSERT INTO couriers (name, company, login_code, badge, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, company, login_code, badge, now.0],
            )
            .map_err(sql_error(&self.file))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The active courier with this login code or badge.
    pub fn courier_by_credential(&self, credential: &str) -> Result<Option<Courier>> {
        self.conn
            .query_row(
                "SELECT id, name, company FROM couriers
                 WHERE active = 1 AND (login_code = ?1 OR badge = ?1)",
                [credential],
                courier_from_row,
            )
            .optional()
            .map_err(sql_error(&self.file))
    }

    pub fn add_recipient(
        &mut self,
        name: &str,
        unit: Option<&str>,
        needs_accessible: bool,
        now: Timestamp,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO recipients (name, unit, needs_accessible, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, unit, needs_accessible, now.0],
            )
            .map_err(sql_error(&self.file))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn recipient(&self, id: i64) -> Result<Option<Recipient>> {
        self.conn
            .query_row(
                "SELECT id, name, unit, needs_accessible FROM recipients WHERE id = ?1",
                [id],
                recipient_from_row,
            )
            .optional()
            .map_err(sql_error(&self.file))
    }

    /// Active residents whose name (any word) or unit starts with `text`.
    pub fn search_recipients(&self, text: &str, limit: u32) -> Result<Vec<Recipient>> {
        let text = text.trim().replace(['%', '_'], "");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, unit, needs_accessible FROM recipients
                 WHERE active = 1 AND (name LIKE ?1 || '%' OR name LIKE '% ' || ?1 || '%' OR unit LIKE ?1 || '%')
                 ORDER BY name LIMIT ?2",
            )
            .map_err(sql_error(&self.file))?;
        stmt.query_map(params![text, limit], recipient_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(&self.file))
    }
}

pub(super) fn courier_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Courier> {
    Ok(Courier {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
    })
}

fn recipient_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Recipient> {
    Ok(Recipient {
        id: r.get(0)?,
        name: r.get(1)?,
        unit: r.get(2)?,
        needs_accessible: r.get(3)?,
    })
}

impl Store {
    /// The recipient of `parcel` asked for compartments they can reach:
    /// their future parcels go low.
    pub fn prefer_low_compartments(
        &mut self,
        parcel: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file.clone();
        let tx = self.conn.transaction().map_err(sql_error(&file))?;
        let recipient: i64 = tx
            .query_row(
                "SELECT recipient_id FROM parcels WHERE id = ?1",
                [parcel],
                |r| r.get(0),
            )
            .map_err(sql_error(&file))?;
        tx.execute(
            "UPDATE recipients SET needs_accessible = 1 WHERE id = ?1",
            [recipient],
        )
        .map_err(sql_error(&file))?;
        let event = super::NewEvent::new(super::Event::RecipientPrefersLow { recipient }, actor)
            .parcel(parcel);
        super::events::insert(&tx, now, &event).map_err(sql_error(&file))?;
        tx.commit().map_err(sql_error(&file))
    }

    /// True for a store that has never had anyone or anything in it.
    pub fn is_blank(&self) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM couriers) + (SELECT count(*) FROM recipients)
                      + (SELECT count(*) FROM parcels)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n == 0)
            .map_err(sql_error(&self.file))
    }
}
