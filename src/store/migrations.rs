//! Forward-only schema migrations, tracked in SQLite's `user_version`.
//!
//! Each migration runs in its own transaction together with the version
//! bump, so a crash leaves the database at the previous version, never
//! half-way. Migrations are never edited once released: add a new one.

use rusqlite::Connection;

/// `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/001_core.sql"),
    include_str!("schema/002_event_log.sql"),
    include_str!("schema/003_returns.sql"),
];

pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the schema from its current version up to `target`.
pub fn migrate_to(conn: &mut Connection, target: u32) -> rusqlite::Result<()> {
    let current = version(conn)?;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied schema migration");
    }
    Ok(())
}
