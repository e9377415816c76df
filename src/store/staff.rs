//! Staff: the site's admin PIN and staff members' own PINs (argon2id
//! hashes only, so that maintenance knows who came in), and the settings
//! staff change. What a PIN may be and who it opens for is decided in
//! `app::admin`; this keeps the hashes and records each change.

use rusqlite::{OptionalExtension, params};

use super::event::Event;
use super::events::{self, NewEvent};
use super::{Result, Staff, sql_error};
use crate::domain::Timestamp;
use crate::domain::codes::Attempts;

const DEFAULT_LANGUAGE: &str = "default_language";
/// The whole locker out of service, while it is: a [`Closure`] as JSON.
pub(super) const OUT_OF_SERVICE: &str = "out_of_service";

/// The whole locker is out of service: nobody collects or delivers until
/// staff put it back; then the time is given back to the parcels inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub reason: String,
    pub since: Timestamp,
    /// Who took it out (an actor, as the log names them).
    pub by: String,
}

/// A [`Closure`] from its `meta` row (`out_of_service`). A value that does
/// not read (this code wrote it) is taken as closed since an unknown time,
/// so nothing is given back for it: staff see it and put the locker back.
pub(super) fn closure_from_meta(value: String) -> Closure {
    match serde_json::from_str::<StoredClosure>(&value) {
        Ok(stored) => Closure {
            reason: stored.reason,
            since: Timestamp(stored.since),
            by: stored.by,
        },
        Err(_) => Closure {
            reason: value,
            since: Timestamp(i64::MAX),
            by: String::new(),
        },
    }
}

/// A [`Closure`] as `meta` keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredClosure {
    reason: String,
    since: i64,
    by: String,
}

/// Where the site's shared admin PIN's hash is kept.
pub const SITE_PIN: &str = "admin_pin_hash";

/// One staff member's PIN, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPin {
    pub name: String,
    pub pin_hash: String,
    pub set_at: Timestamp,
}

/// Where a keypad's count is kept in `meta`: `attempts.<keypad>`, as
/// `failures lockouts locked_until|-`.
const ATTEMPTS_PREFIX: &str = "attempts.";

fn parse_attempts(text: &str) -> Option<Attempts> {
    let mut parts = text.split(' ');
    let failures = parts.next()?.parse().ok()?;
    let lockouts = parts.next()?.parse().ok()?;
    let locked_until = match parts.next()? {
        "-" => None,
        at => Some(Timestamp(at.parse().ok()?)),
    };
    Some(Attempts {
        failures,
        lockouts,
        locked_until,
    })
}

impl Staff<'_> {
    /// The hash of the site's shared admin PIN, once one is set.
    pub fn site_pin_hash(&self) -> Result<Option<String>> {
        self.meta(SITE_PIN)
    }

    /// Sets the site's admin PIN (its hash), with its event.
    pub fn set_site_pin(&mut self, pin_hash: &str, actor: &str, now: Timestamp) -> Result<()> {
        let replaced = self.meta(SITE_PIN)?.is_some();
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [SITE_PIN, pin_hash],
        )
        .map_err(&sql)?;
        let event = NewEvent::new(Event::AdminPinSet { replaced }, actor);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }

    /// What a keypad (`pickup`, `courier`, `maintenance`) had counted of
    /// wrong codes; nothing counted when never kept.
    pub fn attempts(&self, keypad: &str) -> Result<Attempts> {
        let kept = self.meta(&format!("{ATTEMPTS_PREFIX}{keypad}"))?;
        Ok(kept.as_deref().and_then(parse_attempts).unwrap_or_default())
    }

    /// Every keypad's kept count, by keypad.
    pub fn all_attempts(&self) -> Result<Vec<(String, Attempts)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM meta WHERE key LIKE 'attempts.%' ORDER BY key")
            .map_err(sql_error(self.file))?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, value)| {
                let keypad = key.strip_prefix(ATTEMPTS_PREFIX)?.to_owned();
                Some((keypad, parse_attempts(&value)?))
            })
            .collect())
    }

    /// Keeps a keypad's count across restarts; a refused code goes into
    /// the audit log with it, in one transaction.
    pub fn save_attempts(
        &mut self,
        keypad: &str,
        attempts: Attempts,
        refused: bool,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let until = attempts
            .locked_until
            .map_or(String::from("-"), |t| t.0.to_string());
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [
                format!("{ATTEMPTS_PREFIX}{keypad}"),
                format!("{} {} {until}", attempts.failures, attempts.lockouts),
            ],
        )
        .map_err(&sql)?;
        if refused {
            let event = Event::CodeRefused {
                keypad: keypad.into(),
                failures: attempts.failures,
                locked_until: attempts.locked_until.map(|t| t.0),
            };
            events::insert(&tx, now, &NewEvent::new(event, "kiosk")).map_err(&sql)?;
        }
        tx.commit().map_err(&sql)
    }

    /// Every staff member with a PIN, by name.
    pub fn pins(&self) -> Result<Vec<StaffPin>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, pin_hash, set_at FROM staff_pins ORDER BY name")
            .map_err(sql_error(self.file))?;
        stmt.query_map([], |r| {
            Ok(StaffPin {
                name: r.get(0)?,
                pin_hash: r.get(1)?,
                set_at: Timestamp(r.get(2)?),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }

    /// Gives `name` the PIN hashed as `pin_hash` (a new member, or a new
    /// PIN for one), with its event; whether a PIN was replaced.
    pub fn set_pin(
        &mut self,
        name: &str,
        pin_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let replaced = tx
            .query_row("SELECT 1 FROM staff_pins WHERE name = ?1", [name], |_| {
                Ok(())
            })
            .optional()
            .map_err(&sql)?
            .is_some();
        tx.execute(
            "INSERT INTO staff_pins (name, pin_hash, set_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET pin_hash = excluded.pin_hash, set_at = excluded.set_at",
            params![name, pin_hash, now.0],
        )
        .map_err(&sql)?;
        let set = Event::StaffPinSet {
            staff: name.into(),
            replaced,
        };
        let event = NewEvent::new(set, actor);
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(replaced)
    }

    /// Takes `name`'s PIN away, with its event; whether there was one.
    pub fn remove_pin(&mut self, name: &str, actor: &str, now: Timestamp) -> Result<bool> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let removed = tx
            .execute("DELETE FROM staff_pins WHERE name = ?1", [name])
            .map_err(&sql)?
            > 0;
        if removed {
            let removed = Event::StaffPinRemoved { staff: name.into() };
            let event = NewEvent::new(removed, actor);
            events::insert(&tx, now, &event).map_err(&sql)?;
        }
        tx.commit().map_err(&sql)?;
        Ok(removed)
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
        let file = self.file;
        let sql = sql_error(file);
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

    /// Whether the whole locker is out of service, since when and why.
    pub fn closure(&self) -> Result<Option<Closure>> {
        Ok(self.meta(OUT_OF_SERVICE)?.map(closure_from_meta))
    }

    /// Takes the whole locker out of service; `None` when it was already
    /// (the first closure and its reason stand).
    pub fn take_out_of_service(
        &mut self,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<Closure>> {
        if self.closure()?.is_some() {
            return Ok(None);
        }
        let closure = Closure {
            reason: reason.to_string(),
            since: now,
            by: actor.to_string(),
        };
        let file = self.file;
        let sql = sql_error(file);
        let stored = StoredClosure {
            reason: closure.reason.clone(),
            since: now.0,
            by: closure.by.clone(),
        };
        let value = serde_json::to_string(&stored).expect("a closure serialises");
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [OUT_OF_SERVICE, &value],
        )
        .map_err(&sql)?;
        let closed = Event::LockerOutOfService {
            reason: reason.to_string(),
        };
        events::insert(&tx, now, &NewEvent::new(closed, actor)).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(Some(closure))
    }

    /// Puts the whole locker back in service; the closure it ends, or
    /// `None` when it was in service.
    pub fn put_back_in_service(&mut self, actor: &str, now: Timestamp) -> Result<Option<Closure>> {
        let Some(closure) = self.closure()? else {
            return Ok(None);
        };
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [OUT_OF_SERVICE])
            .map_err(&sql)?;
        let back = Event::LockerBackInService {
            reason: closure.reason.clone(),
            out_since: closure.since.0,
            out_minutes: (now.0 - closure.since.0).max(0) / 60_000,
        };
        events::insert(&tx, now, &NewEvent::new(back, actor)).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(Some(closure))
    }
}
