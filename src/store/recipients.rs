//! The resident directory: who parcels are for, and what they asked of
//! the locker (compartments they can reach).

use rusqlite::{OptionalExtension, params};

use super::{Recipients, Result, StoreError, sql_error};
use crate::domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub name: String,
    pub unit: Option<String>,
    pub needs_accessible: bool,
}

/// Whose badge it is (active residents only), by its hash.
pub(super) fn badge_holder(
    conn: &rusqlite::Connection,
    badge: &str,
) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM recipients WHERE badge_hash = code_hash(?1) AND active = 1",
        [badge],
        |r| r.get(0),
    )
    .optional()
}

impl Recipients<'_> {
    /// Runs `change` as one step: what it did is undone when it fails
    /// (a resident updated, then their badge refused, stays as they were).
    pub fn all_or_nothing<R>(&mut self, change: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        let sql = sql_error(self.file);
        self.conn
            .execute_batch("SAVEPOINT directory_change")
            .map_err(&sql)?;
        let result = change(self);
        let end = if result.is_ok() {
            "RELEASE directory_change"
        } else {
            "ROLLBACK TO directory_change; RELEASE directory_change"
        };
        self.conn.execute_batch(end).map_err(&sql)?;
        result
    }

    /// Gives resident `id` the staff badge whose QR code reads `badge`
    /// (kept only as its hash): they may collect with it. Refused when it
    /// is someone else's.
    pub fn set_badge(&mut self, id: i64, badge: &str) -> Result<()> {
        let sql = sql_error(self.file);
        let holder = badge_holder(self.conn, badge).map_err(&sql)?;
        if holder.is_some_and(|holder| holder != id) {
            return Err(StoreError::Rule(
                "that badge is someone else's in the directory".into(),
            ));
        }
        self.conn
            .execute(
                "UPDATE recipients SET badge_hash = code_hash(?2) WHERE id = ?1",
                params![id, badge],
            )
            .map_err(&sql)?;
        Ok(())
    }

    pub fn add(
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
            .map_err(sql_error(self.file))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Adds a resident or updates one, found by `external_id` (the fleet
    /// backend's id), else by name and unit; their id.
    #[allow(clippy::too_many_arguments)]
    pub fn upsert(
        &mut self,
        external_id: Option<&str>,
        name: &str,
        unit: Option<&str>,
        needs_accessible: bool,
        contact: (Option<&str>, Option<&str>, Option<&str>),
        now: Timestamp,
    ) -> Result<i64> {
        let found: Option<i64> = match external_id {
            Some(external) => self
                .conn
                .query_row(
                    "SELECT id FROM recipients WHERE external_id = ?1",
                    [external],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_error(self.file))?,
            None => None,
        };
        let found = match found {
            Some(id) => Some(id),
            None => self
                .conn
                .query_row(
                    "SELECT id FROM recipients WHERE name = ?1 AND unit IS ?2 AND active = 1 ORDER BY id LIMIT 1",
                    params![name, unit],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_error(self.file))?,
        };
        let id = match found {
            Some(id) => {
                self.conn
                    .execute(
                        "UPDATE recipients SET name = ?2, unit = ?3, needs_accessible = ?4,
                            external_id = coalesce(?5, external_id), active = 1 WHERE id = ?1",
                        params![id, name, unit, needs_accessible, external_id],
                    )
                    .map_err(sql_error(self.file))?;
                id
            }
            None => {
                let id = self.add(name, unit, needs_accessible, now)?;
                self.conn
                    .execute(
                        "UPDATE recipients SET external_id = ?2 WHERE id = ?1",
                        params![id, external_id],
                    )
                    .map_err(sql_error(self.file))?;
                id
            }
        };
        let (email, phone, language) = contact;
        self.set_contact(id, email, phone, language)?;
        Ok(id)
    }

    /// How the recipient is reached: email, phone (for a webhook to an SMS
    /// gateway) and language, each cleared when empty.
    pub fn set_contact(
        &mut self,
        id: i64,
        email: Option<&str>,
        phone: Option<&str>,
        language: Option<&str>,
    ) -> Result<()> {
        let clean = |t: Option<&str>| {
            t.map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        self.conn
            .execute(
                "UPDATE recipients SET email = ?2, phone = ?3, language = ?4 WHERE id = ?1",
                params![id, clean(email), clean(phone), clean(language)],
            )
            .map_err(sql_error(self.file))?;
        Ok(())
    }

    pub fn get(&self, id: i64) -> Result<Option<Recipient>> {
        self.conn
            .query_row(
                "SELECT id, name, unit, needs_accessible FROM recipients WHERE id = ?1",
                [id],
                recipient_from_row,
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Active residents whose name (any word) or unit starts with `text`.
    pub fn search(&self, text: &str, limit: u32) -> Result<Vec<Recipient>> {
        let text = text.trim().replace(['%', '_'], "");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, unit, needs_accessible FROM recipients
                 WHERE active = 1 AND (name LIKE ?1 || '%' OR name LIKE '% ' || ?1 || '%' OR unit LIKE ?1 || '%')
                 ORDER BY name LIMIT ?2",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map(params![text, limit], recipient_from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    /// The recipient of `parcel` asked for compartments they can reach:
    /// their future parcels go low.
    pub fn prefer_low(&mut self, parcel: i64, actor: &str, now: Timestamp) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let recipient: i64 = tx
            .query_row(
                "SELECT recipient_id FROM parcels WHERE id = ?1",
                [parcel],
                |r| r.get(0),
            )
            .map_err(sql_error(file))?;
        tx.execute(
            "UPDATE recipients SET needs_accessible = 1 WHERE id = ?1",
            [recipient],
        )
        .map_err(sql_error(file))?;
        let event = super::NewEvent::new(super::Event::RecipientPrefersLow { recipient }, actor)
            .parcel(parcel);
        super::events::insert(&tx, now, &event).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))
    }
}

/// How a recipient likes the screen: remembered from a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisplayPreferences {
    pub large_text: bool,
    pub high_contrast: bool,
}

impl Recipients<'_> {
    /// The display the recipient of `parcel` chose last.
    pub fn display_of(&self, parcel: i64) -> Result<DisplayPreferences> {
        self.conn
            .query_row(
                "SELECT r.large_text, r.high_contrast FROM parcels p
                 JOIN recipients r ON r.id = p.recipient_id WHERE p.id = ?1",
                [parcel],
                |r| {
                    Ok(DisplayPreferences {
                        large_text: r.get(0)?,
                        high_contrast: r.get(1)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(sql_error(self.file))
    }

    /// The recipient of `parcel` chose these this visit (`None`: left as
    /// it was): remembered for their next.
    pub fn remember_display(
        &mut self,
        parcel: i64,
        large_text: Option<bool>,
        high_contrast: Option<bool>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let recipient: i64 = tx
            .query_row(
                "SELECT recipient_id FROM parcels WHERE id = ?1",
                [parcel],
                |r| r.get(0),
            )
            .map_err(sql_error(file))?;
        let changed = tx
            .execute(
                "UPDATE recipients SET large_text = coalesce(?2, large_text),
                     high_contrast = coalesce(?3, high_contrast)
                 WHERE id = ?1 AND (large_text IS NOT coalesce(?2, large_text)
                     OR high_contrast IS NOT coalesce(?3, high_contrast))",
                params![recipient, large_text, high_contrast],
            )
            .map_err(sql_error(file))?;
        if changed > 0 {
            let (large_text, high_contrast): (bool, bool) = tx
                .query_row(
                    "SELECT large_text, high_contrast FROM recipients WHERE id = ?1",
                    [recipient],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_error(file))?;
            let remembered = super::Event::RecipientDisplay {
                recipient,
                large_text,
                high_contrast,
            };
            let event = super::NewEvent::new(remembered, actor).parcel(parcel);
            super::events::insert(&tx, now, &event).map_err(sql_error(file))?;
        }
        tx.commit().map_err(sql_error(file))
    }
}

fn recipient_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Recipient> {
    Ok(Recipient {
        id: r.get(0)?,
        name: r.get(1)?,
        unit: r.get(2)?,
        needs_accessible: r.get(3)?,
    })
}
