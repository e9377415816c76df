//! Couriers: who may log in (a code, a badge), and the locker's key that
//! signs their proofs of delivery.

use rusqlite::{OptionalExtension, params};

use super::{Couriers, Event, NewEvent, Result, StoreError, events, sql_error};
use crate::domain::Timestamp;
use crate::domain::codes::{Entropy, validate_courier_code};

/// Sealed with the locker's secret (see secret.rs).
const RECEIPT_KEY: &str = "receipt_signing_key_sealed";

/// A courier as staff list them: never their code or badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierEntry {
    pub courier: Courier,
    pub active: bool,
    pub has_code: bool,
    pub has_badge: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Courier {
    pub id: i64,
    pub name: String,
    pub company: String,
}

impl Couriers<'_> {
    /// Adds a courier who logs in with `login_code` (4 to 8 digits, not
    /// weak) and/or a badge QR.
    pub fn add(
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
                "INSERT INTO couriers (name, company, login_code_hash, badge_hash, created_at)
                 VALUES (?1, ?2, code_hash(?3), code_hash(?4), ?5)",
                params![name, company, login_code, badge, now.0],
            )
            .map_err(sql_error(self.file))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every courier, active or not, by id.
    pub fn list(&self) -> Result<Vec<CourierEntry>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, company, active, login_code_hash IS NOT NULL, badge_hash IS NOT NULL
                 FROM couriers ORDER BY id",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map([], |r| {
            Ok(CourierEntry {
                courier: courier_from_row(r)?,
                active: r.get(3)?,
                has_code: r.get(4)?,
                has_badge: r.get(5)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }

    /// Takes a courier's code and badge away for good (their deliveries
    /// stay on record), in the audit log as `actor`.
    pub fn revoke(&mut self, id: i64, actor: &str, now: Timestamp) -> Result<Courier> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let courier = tx
            .query_row(
                "SELECT id, name, company FROM couriers WHERE id = ?1 AND active = 1",
                [id],
                courier_from_row,
            )
            .optional()
            .map_err(sql_error(file))?
            .ok_or_else(|| StoreError::Rule(format!("no active courier has id {id}")))?;
        tx.execute(
            "UPDATE couriers SET active = 0, login_code_hash = NULL, badge_hash = NULL WHERE id = ?1",
            [id],
        )
        .map_err(sql_error(file))?;
        let revoked = Event::CourierRevoked {
            courier: id,
            name: courier.name.clone(),
            company: courier.company.clone(),
        };
        events::insert(&tx, now, &NewEvent::new(revoked, actor)).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))?;
        Ok(courier)
    }

    pub fn get(&self, id: i64) -> Result<Option<super::Courier>> {
        self.conn
            .query_row(
                "SELECT id, name, company FROM couriers WHERE id = ?1",
                [id],
                courier_from_row,
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// The active courier with this login code or badge (both kept only
    /// as keyed hashes).
    pub fn by_credential(&self, credential: &str) -> Result<Option<Courier>> {
        self.conn
            .query_row(
                "SELECT id, name, company FROM couriers
                 WHERE active = 1 AND (login_code_hash = code_hash(?1) OR badge_hash = code_hash(?1))",
                [credential],
                courier_from_row,
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// The locker's key for signing proofs of delivery, made on first use
    /// and kept sealed with the locker's secret.
    pub fn receipt_key(&mut self, entropy: &mut dyn Entropy) -> Result<[u8; 32]> {
        let stored: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT unseal(value) FROM meta WHERE key = ?1",
                [RECEIPT_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error(self.file))?;
        if let Some(opened) = stored {
            if let Some(key) = opened.as_deref().and_then(from_hex) {
                return Ok(key);
            }
            return Err(StoreError::Rule(format!(
                "the stored {RECEIPT_KEY} is damaged or sealed with another locker's secret"
            )));
        }
        let mut key = [0u8; 32];
        entropy.fill(&mut key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, seal(?2))",
                [RECEIPT_KEY, hex.as_str()],
            )
            .map_err(sql_error(self.file))?;
        Ok(key)
    }
}

fn courier_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Courier> {
    Ok(Courier {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
    })
}

fn from_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}
