//! The audit log's tamper evidence. Every event carries `chain`, the
//! SHA-256 of the previous event's chain and its own fields, so that
//! changing, removing or reordering an entry breaks every link after it;
//! anyone can check an export, no key needed.
//!
//! Cutting entries off the end leaves a valid chain, so the head (the last
//! event's id and chain) is also written, after each commit, to
//! `locker.head` beside the database. A log that ends before its anchored
//! head, or differs there, lost history the kiosk had written (a damaged
//! WAL, a rolled-back file): the store says so at start-up with an alarm
//! in the log, and `audit verify` names it. The chain head goes with every
//! fleet heartbeat too, so that rewriting the log and the anchor together
//! is caught by the fleet.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::event::Event;
use super::events::{self, NewEvent};
use super::{Result, StoreError, sql_error};
use crate::domain::{CompartmentNumber, Timestamp};

pub const HEAD_FILE: &str = "locker.head";

/// The fields of an event that the chain covers, in their stored form.
pub struct Entry<'a> {
    pub id: i64,
    pub at: i64,
    pub kind: &'a str,
    pub actor: &'a str,
    pub compartment: Option<CompartmentNumber>,
    pub parcel: Option<i64>,
    pub detail: &'a str,
}

/// The chain value of `entry` after `previous` ("" for the first entry).
pub fn link(previous: &str, entry: &Entry<'_>) -> String {
    let mut hash = Sha256::new();
    // Each field with its length first: no two entries hash alike by
    // moving text from one field into the next.
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    field(previous.as_bytes());
    field(entry.id.to_string().as_bytes());
    field(entry.at.to_string().as_bytes());
    field(entry.kind.as_bytes());
    field(entry.actor.as_bytes());
    field(
        entry
            .compartment
            .map(|c| c.to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    field(
        entry
            .parcel
            .map(|p| p.to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    field(entry.detail.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers `chain_link(previous, id, at, kind, actor, compartment,
/// parcel, detail)`, with which migration 8 chains the events already
/// there.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("chain_link", 8, flags, |ctx| {
        let previous: String = ctx.get(0)?;
        let kind: String = ctx.get(3)?;
        let actor: String = ctx.get(4)?;
        let detail: String = ctx.get(7)?;
        Ok(link(
            &previous,
            &Entry {
                id: ctx.get(1)?,
                at: ctx.get(2)?,
                kind: &kind,
                actor: &actor,
                compartment: ctx.get(5)?,
                parcel: ctx.get(6)?,
                detail: &detail,
            },
        ))
    })
}

/// The last event's id and chain value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub chain: String,
}

pub fn head(conn: &Connection) -> rusqlite::Result<Option<Head>> {
    conn.query_row(
        "SELECT id, chain FROM events ORDER BY id DESC LIMIT 1",
        [],
        |r| {
            Ok(Head {
                id: r.get(0)?,
                chain: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            })
        },
    )
    .optional()
}

/// The head last written beside the database; `None` when there is none
/// (a new data directory, a restore) or it cannot be read.
pub fn anchored(data_dir: &Path) -> Option<Head> {
    let text = std::fs::read_to_string(data_dir.join(HEAD_FILE)).ok()?;
    let line = text.lines().nth(1)?;
    let (id, chain) = line.split_once(' ')?;
    Some(Head {
        id: id.parse().ok()?,
        chain: chain.to_string(),
    })
}

/// Writes `head` beside the database, replacing the last one whole.
pub fn anchor(data_dir: &Path, head: &Head) -> std::io::Result<()> {
    let path = data_dir.join(HEAD_FILE);
    let partial = PathBuf::from(format!("{}.new", path.display()));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)?;
        writeln!(file, "locker-kiosk audit log head")?;
        writeln!(file, "{} {}", head.id, head.chain)?;
        file.sync_data()?;
    }
    // A rename lost to a power cut leaves the older head: behind, never a
    // false alarm.
    std::fs::rename(&partial, &path)
}

/// Forgets the anchored head (a restore puts older records back on
/// purpose).
pub fn forget_anchor(data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(data_dir.join(HEAD_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// What checking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    pub head: Option<Head>,
    /// The first entry whose chain value does not follow from the one
    /// before it and its own fields.
    pub first_broken: Option<i64>,
    /// The head anchored beside the database, when the log no longer
    /// reaches it (entries cut off the end, or rewritten up to there).
    pub lost_since: Option<Head>,
    /// Earlier losses found at start-up and written into the log
    /// (`log_rolled_back`): (the entry that said it, the last entry
    /// anchored before, the last entry found).
    pub rollbacks: Vec<(i64, i64, i64)>,
}

impl Verification {
    /// Nothing altered, nothing lost, now or before.
    pub fn intact(&self) -> bool {
        self.first_broken.is_none() && self.lost_since.is_none() && self.rollbacks.is_empty()
    }

    /// In words, for `audit verify`, `doctor` and maintenance.
    pub fn describe(&self) -> String {
        match (&self.first_broken, &self.lost_since) {
            (Some(id), _) => format!(
                "the audit log was altered: entry {id} does not follow from the entries before it (checked {} entries)",
                self.entries
            ),
            (None, Some(anchor)) => format!(
                "the audit log lost history: it ends at entry {}, but entry {} had been written; the records were rolled back or damaged",
                self.head.as_ref().map_or(0, |h| h.id),
                anchor.id
            ),
            (None, None) => match self.rollbacks.first() {
                None => format!(
                    "the audit log is intact: {} entries, chained up to entry {}",
                    self.entries,
                    self.head.as_ref().map_or(0, |h| h.id)
                ),
                Some((said, anchored, last)) => format!(
                    "the audit log lost history before entry {said}: the kiosk had written up to entry {anchored}, but found the records ending at entry {last} when it started{}",
                    if self.rollbacks.len() > 1 {
                        format!(" ({} times in all)", self.rollbacks.len())
                    } else {
                        String::new()
                    }
                ),
            },
        }
    }
}

/// Checks every link of the chain, and the log's end against `anchored`.
pub fn verify(conn: &Connection, anchored: Option<&Head>) -> rusqlite::Result<Verification> {
    let mut stmt = conn.prepare(
        "SELECT id, at, kind, actor, compartment, parcel_id, detail, chain FROM events ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut previous = String::new();
    let mut entries = 0;
    let mut first_broken = None;
    let mut at_anchor = None;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let kind: String = row.get(2)?;
        let actor: String = row.get(3)?;
        let detail: String = row.get(6)?;
        let chain: Option<String> = row.get(7)?;
        let expected = link(
            &previous,
            &Entry {
                id,
                at: row.get(1)?,
                kind: &kind,
                actor: &actor,
                compartment: row.get(4)?,
                parcel: row.get(5)?,
                detail: &detail,
            },
        );
        let chain = chain.unwrap_or_default();
        if first_broken.is_none() && chain != expected {
            first_broken = Some(id);
        }
        if anchored.is_some_and(|a| a.id == id) {
            at_anchor = Some(chain.clone());
        }
        previous = chain;
        entries += 1;
    }
    let lost_since = anchored
        .filter(|a| at_anchor.as_deref() != Some(a.chain.as_str()))
        .cloned();
    let mut stmt = conn.prepare(
        "SELECT id, json_extract(detail, '$.anchored_id'), json_extract(detail, '$.last_id')
         FROM events WHERE kind = 'log_rolled_back' ORDER BY id",
    )?;
    let rollbacks = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Verification {
        entries,
        head: head(conn)?,
        first_broken,
        lost_since,
        rollbacks,
    })
}

/// At start-up: a log that no longer reaches its anchored head is said in
/// the log itself (an alarm for staff), and the anchor moves to what is
/// there now, so that it is said once.
pub fn check_at_start(conn: &mut Connection, file: &Path, data_dir: &Path) -> Result<()> {
    let sql = sql_error(file);
    let Some(anchored) = anchored(data_dir) else {
        if let Err(e) = anchor_now(conn, file, data_dir) {
            tracing::warn!(error = %e, "could not write the audit log's head");
        }
        return Ok(());
    };
    let found: Option<String> = conn
        .query_row(
            "SELECT chain FROM events WHERE id = ?1",
            [anchored.id],
            |r| r.get(0),
        )
        .optional()
        .map_err(&sql)?
        .flatten();
    if found.as_deref() != Some(anchored.chain.as_str()) {
        let last = head(conn).map_err(&sql)?.map_or(0, |h| h.id);
        tracing::error!(
            anchored = anchored.id,
            last,
            "the records lost history since they were last written: the database was rolled back or damaged"
        );
        let lost = Event::LogRolledBack {
            anchored_id: anchored.id,
            last_id: last,
        };
        let now = Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        );
        let tx = conn.transaction().map_err(&sql)?;
        events::insert(&tx, now, &NewEvent::new(lost, "kiosk")).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
    }
    // Not being able to anchor (a full disk) must not stop the start: the
    // worker anchors again after the next write.
    if let Err(e) = anchor_now(conn, file, data_dir) {
        tracing::warn!(error = %e, "could not write the audit log's head");
    }
    Ok(())
}

/// Anchors the log's current head.
pub fn anchor_now(conn: &Connection, file: &Path, data_dir: &Path) -> Result<()> {
    let Some(head) = head(conn).map_err(sql_error(file))? else {
        return Ok(());
    };
    anchor(data_dir, &head).map_err(|source| StoreError::Io {
        path: data_dir.join(HEAD_FILE),
        source,
    })
}

/// The next event's id and chain value, for [`events::insert`].
pub(super) fn next_link(conn: &Connection) -> rusqlite::Result<(i64, String)> {
    Ok(match head(conn)? {
        Some(head) => (head.id + 1, head.chain),
        None => (1, String::new()),
    })
}

/// The database of `data_dir`, read-only and without the writer lock
/// (the kiosk may be running), once its log is chained.
fn open_chained(data_dir: &Path) -> Result<Connection> {
    let file = data_dir.join(super::DATABASE_FILE);
    let conn = super::open_existing(&file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version = super::migrations::version(&conn).map_err(sql_error(&file))?;
    if version < 8 {
        return Err(StoreError::Rule(format!(
            "{} has schema v{version}, from before the audit log was chained; start the kiosk once to migrate it",
            file.display()
        )));
    }
    Ok(conn)
}

/// `audit verify`: checks the log of `data_dir`, also while the kiosk runs.
pub fn verify_at(data_dir: &Path) -> Result<Verification> {
    let conn = open_chained(data_dir)?;
    verify(&conn, anchored(data_dir).as_ref())
        .map_err(sql_error(&data_dir.join(super::DATABASE_FILE)))
}

/// `audit export`: the log of `data_dir`, also while the kiosk runs.
pub fn export_at(
    data_dir: &Path,
    since: Option<Timestamp>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64> {
    let conn = open_chained(data_dir)?;
    export(&conn, since, format, out).map_err(|source| StoreError::Io {
        path: PathBuf::from("-"),
        source,
    })
}

/// One exported entry.
struct Exported {
    id: i64,
    at: i64,
    kind: String,
    actor: String,
    compartment: Option<i64>,
    parcel: Option<i64>,
    detail: String,
    chain: Option<String>,
}

fn for_each_entry(
    conn: &Connection,
    since: Option<Timestamp>,
    mut f: impl FnMut(Exported) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let io = |e: rusqlite::Error| std::io::Error::other(e.to_string());
    let mut stmt = conn
        .prepare(
            "SELECT id, at, kind, actor, compartment, parcel_id, detail, chain FROM events
             WHERE at >= ?1 ORDER BY id",
        )
        .map_err(io)?;
    let mut rows = stmt
        .query(params![since.map_or(i64::MIN, |t| t.0)])
        .map_err(io)?;
    let mut count = 0;
    while let Some(row) = rows.next().map_err(io)? {
        f(Exported {
            id: row.get(0).map_err(io)?,
            at: row.get(1).map_err(io)?,
            kind: row.get(2).map_err(io)?,
            actor: row.get(3).map_err(io)?,
            compartment: row.get(4).map_err(io)?,
            parcel: row.get(5).map_err(io)?,
            detail: row.get(6).map_err(io)?,
            chain: row.get(7).map_err(io)?,
        })?;
        count += 1;
    }
    Ok(count)
}

/// Writes the log to `out` from `since` on, as CSV or JSON lines, with
/// each entry's chain value so that the export can be checked on its own.
pub fn export(
    conn: &Connection,
    since: Option<Timestamp>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> std::io::Result<u64> {
    let utc = |at: i64| crate::domain::utc_text(at.div_euclid(1000));
    match format {
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record([
                "id",
                "at_ms",
                "at_utc",
                "kind",
                "actor",
                "compartment",
                "parcel",
                "detail",
                "chain",
            ])?;
            let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            let count = for_each_entry(conn, since, |e| {
                writer
                    .write_record([
                        e.id.to_string(),
                        e.at.to_string(),
                        utc(e.at),
                        e.kind,
                        e.actor,
                        opt(e.compartment),
                        opt(e.parcel),
                        e.detail,
                        e.chain.unwrap_or_default(),
                    ])
                    .map_err(std::io::Error::from)
            })?;
            writer.flush()?;
            Ok(count)
        }
        ExportFormat::Jsonl => for_each_entry(conn, since, |e| {
            let detail: serde_json::Value =
                serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail));
            let line = serde_json::json!({
                "id": e.id, "at_ms": e.at, "at_utc": utc(e.at), "kind": e.kind,
                "actor": e.actor, "compartment": e.compartment, "parcel": e.parcel,
                "detail": detail, "chain": e.chain,
            });
            writeln!(out, "{line}")
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}
