//! Forward-only schema migrations, tracked in SQLite's `user_version`.
//!
//! Each migration runs in its own transaction together with the version
//! bump, so a crash leaves the database at the previous version, never
//! half-way. Migrations are never edited once released: add a new one.
//! They may call the SQL functions the store registers before migrating:
//! the locker secret's `code_hash` and `seal` (secret.rs) and the audit
//! log's `chain_link` (audit.rs).

use rusqlite::{Connection, OptionalExtension};

/// `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/001_core.sql"),
    include_str!("schema/002_event_log.sql"),
    include_str!("schema/003_returns.sql"),
    include_str!("schema/004_staff_removal.sql"),
    include_str!("schema/005_staff_pins.sql"),
    include_str!("schema/006_reported_missing.sql"),
    include_str!("schema/007_hashed_codes.sql"),
    include_str!("schema/008_audit_chain.sql"),
    include_str!("schema/009_disk_alarm.sql"),
    include_str!("schema/010_messages.sql"),
    include_str!("schema/011_fleet_commands.sql"),
    include_str!("schema/012_handout.sql"),
    include_str!("schema/013_fair_deadlines.sql"),
    include_str!("schema/014_delegation.sql"),
    include_str!("schema/015_display_preferences.sql"),
    include_str!("schema/016_returns_from_the_locker.sql"),
];

pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the schema from its current version up to `target`.
///
/// Foreign keys are off while migrations run, so that a migration can
/// rebuild a table that others refer to (SQLite's way to change a
/// constraint); each one is checked with `foreign_key_check` before it
/// commits, and the setting is restored afterwards.
pub fn migrate_to(conn: &mut Connection, target: u32) -> rusqlite::Result<()> {
    let current = version(conn)?;
    if current >= target {
        return Ok(());
    }
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn, current, target);
    conn.pragma_update(None, "foreign_keys", enforced)?;
    result
}

fn apply(conn: &mut Connection, current: u32, target: u32) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            // Rolled back when `tx` drops: the database stays as it was.
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some(format!(
                    "migration to version {} breaks a reference from table {table}",
                    index + 1
                )),
            ));
        }
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied schema migration");
    }
    Ok(())
}
