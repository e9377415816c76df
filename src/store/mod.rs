//! The local SQLite store: the locker works fully offline from it.
//!
//! Invariants:
//! - one writer: [`Store::open`] takes an exclusive lock on the data
//!   directory; a second process gets [`StoreError::Locked`];
//! - never silently empty: an existing database that is unreadable, damaged
//!   or foreign stops the start with a message naming the file. A new
//!   database is built under a temporary name and renamed into place, so a
//!   crash during creation cannot leave an empty `locker.db` behind;
//! - durable: WAL with `synchronous=FULL`, because most writes record a
//!   physical action (a door opened, a parcel put in) that must survive a
//!   power cut the moment after;
//! - every state change writes its event in the same transaction, and every
//!   event gets an outbox row for the fleet sync.
//!
//! The records are reached by aggregate, each through a narrow handle of
//! its own ([`Store::compartments`], [`Store::parcels`] with their codes,
//! [`Store::couriers`], [`Store::recipients`], [`Store::staff`],
//! [`Store::events`] with the outbox, [`Store::reports`]), so that code
//! given one handle touches nothing else.

pub mod audit;
mod backup;
mod compartments;
mod couriers;
mod deliveries;
pub mod disk;
pub mod event;
mod events;
mod fleet_commands;
mod lock;
pub mod migrations;
mod parcels;
mod private;
mod recipients;
mod reports;
pub mod reserve;
mod secret;
mod staff;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::domain::{CompartmentNumber, Timestamp};

pub use backup::backup;
pub use compartments::StoredCompartment;
pub use couriers::{Courier, CourierEntry};
pub use deliveries::{Contact, DeliveryState, DueMessage};
pub use event::Event;
pub use events::{EventRecord, LogFilter, NewEvent, OutboxState};
pub use lock::{DataDirLock, LOCK_FILE};
pub use parcels::{
    Credited, ExpectedReturn, Extension, IssuedCode, ItemToLoad, LoadedItem, NewDeposit, NewItem,
    ParcelRecord, ParcelRow, RegisterRow,
};
pub use recipients::{DisplayPreferences, Recipient};
pub use reports::{Report, ReportRow};
pub use secret::{LockerSecret, SECRET_FILE};

/// Registers the SQL functions the store and its migrations use: the
/// locker secret's (secret.rs) and the audit chain's (audit.rs).
pub fn register_functions(
    conn: &Connection,
    secret: &std::sync::Arc<LockerSecret>,
) -> rusqlite::Result<()> {
    secret.register(conn)?;
    audit::register(conn)
}
pub use staff::{Closure, SITE_PIN, StaffPin};

pub const DATABASE_FILE: &str = "locker.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("another locker-kiosk{} is already using the data directory {}; stop it first, or give this one its own --data-dir", holder.map(|pid| format!(" (process {pid})")).unwrap_or_default(), data_dir.display())]
    Locked {
        data_dir: PathBuf,
        holder: Option<u32>,
    },
    #[error("the database {} is damaged ({detail}); locker-kiosk will not start with an empty one in its place: restore it from a backup, or move it aside to start afresh", file.display())]
    Corrupt { file: PathBuf, detail: String },
    #[error("{} is not a locker-kiosk database ({detail}); refusing to use it", file.display())]
    Foreign { file: PathBuf, detail: String },
    #[error("the database {} has schema version {found}, newer than this program understands ({supported}); install the newer locker-kiosk that wrote it", file.display())]
    TooNew {
        file: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the database {} belongs to locker `{found}`, but the configuration is for locker `{expected}`; use that locker's data directory", file.display())]
    OtherLocker {
        file: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "compartment {number} holds parcel {tracking} but is missing from the configuration; put it back, or empty it first"
    )]
    LayoutDropsParcel { number: u32, tracking: String },
    #[error("the disk holding {} is full: nothing more can be written until space is freed (old logs, old backups); the records already there are intact", file.display())]
    DiskFull { file: PathBuf },
    #[error("the disk holding {} is read-only (a disk that had errors is often remounted so): nothing can be recorded, so no door opens; check the disk (`dmesg`), then remount it read-write or replace it; the records already there are intact", path.display())]
    ReadOnly { path: PathBuf },
    #[error("the locker secret {} is damaged (it must hold 32 bytes); put back the copy kept with this locker's backups", path.display())]
    SecretDamaged { path: PathBuf },
    #[error("the locker secret {} {}: the codes in this database were made with another; put back the `locker.secret` kept with this database (from the same panel, or saved with its backup), or no pickup or courier code can be checked", path.display(), if *created { "was missing" } else { "is not this database's" })]
    SecretMismatch { path: PathBuf, created: bool },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {}: {source}", file.display())]
    Sqlite {
        file: PathBuf,
        source: rusqlite::Error,
    },
    #[error("there is no parcel {0}")]
    NoSuchParcel(i64),
    #[error("there is no compartment {0}")]
    NoSuchCompartment(CompartmentNumber),
    #[error("parcel {0} is not in the locker")]
    NotInLocker(i64),
    #[error("compartment {0} is not free")]
    CompartmentNotFree(CompartmentNumber),
    /// Any other rule of the records broken, said in words.
    #[error("{0}")]
    Rule(String),
}

impl StoreError {
    /// The records themselves failed (the disk, the database), as opposed
    /// to a request that no longer fits them.
    pub fn is_storage(&self) -> bool {
        matches!(
            self,
            StoreError::Io { .. }
                | StoreError::Sqlite { .. }
                | StoreError::DiskFull { .. }
                | StoreError::ReadOnly { .. }
        )
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The open store. Not `Sync`: it lives on one thread (the application
/// service's database worker), never on the UI thread.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    file: PathBuf,
    data_dir: PathBuf,
    /// The head last written beside the database.
    anchored: std::cell::RefCell<Option<audit::Head>>,
    /// Room held back for pickups on a nearly full disk.
    reserve: reserve::Reserve,
    _lock: DataDirLock,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.anchor_log() {
            tracing::warn!(error = %e, "could not write the audit log's head");
        }
    }
}

impl Store {
    /// Opens (or creates) the store in `data_dir`, taking the writer lock,
    /// checking integrity and applying migrations.
    pub fn open(data_dir: &Path) -> Result<Store> {
        Store::open_with(data_dir, false)
    }

    /// Like [`Store::open`], but throws the existing database away first
    /// (under the lock). Only the demo does this.
    pub fn open_fresh(data_dir: &Path) -> Result<Store> {
        Store::open_with(data_dir, true)
    }

    fn open_with(data_dir: &Path, fresh: bool) -> Result<Store> {
        private::create_dir(data_dir)?;
        let lock = DataDirLock::acquire(data_dir)?;
        let file = data_dir.join(DATABASE_FILE);
        if fresh {
            audit::forget_anchor(data_dir).map_err(|source| StoreError::Io {
                path: data_dir.join(audit::HEAD_FILE),
                source,
            })?;
            for suffix in ["", "-wal", "-shm"] {
                let path = PathBuf::from(format!("{}{suffix}", file.display()));
                if path.exists() {
                    std::fs::remove_file(&path)
                        .map_err(|source| StoreError::Io { path, source })?;
                }
            }
        }
        let (secret, created) = LockerSecret::load_or_create(data_dir)?;
        let secret = std::sync::Arc::new(secret);
        if !file.exists() {
            create_fresh(&file, &secret)?;
        }
        private::restrict_database(&file)?;
        let mut conn = open_existing(&file, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let sql_file = file.clone();
        let sql = sql_error(&sql_file);
        register_functions(&conn, &secret).map_err(&sql)?;
        // What is deleted or rewritten (a spent code's envelope) is
        // overwritten in the file, not left in its free space.
        conn.pragma_update(None, "secure_delete", true)
            .map_err(&sql)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(&sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "could not switch the database to WAL");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(&sql)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(&sql)?;
        let before = migrations::version(&conn).map_err(&sql)?;
        migrations::migrate_to(&mut conn, migrations::LATEST_VERSION).map_err(&sql)?;
        check_secret(&conn, &file, data_dir, &secret, created)?;
        audit::check_at_start(&mut conn, &file, data_dir)?;
        if before < migrations::LATEST_VERSION {
            // Old page images (plain codes before version 7) leave the WAL.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(&sql)?;
        }
        Ok(Store {
            conn,
            file,
            data_dir: data_dir.to_path_buf(),
            anchored: std::cell::RefCell::new(audit::anchored(data_dir)),
            reserve: reserve::Reserve::take(data_dir),
            _lock: lock,
        })
    }

    /// Writes the audit log's head beside the database (see audit.rs).
    /// The store's worker does this after each piece of work, and a store
    /// when it closes.
    pub fn anchor_log(&self) -> Result<()> {
        let head = audit::head(&self.conn).map_err(sql_error(&self.file))?;
        if head.is_none() || *self.anchored.borrow() == head {
            return Ok(());
        }
        audit::anchor_now(&self.conn, &self.file, &self.data_dir)?;
        *self.anchored.borrow_mut() = head;
        Ok(())
    }

    /// Before each piece of work: lets the disk reserve go when the disk is
    /// nearly full (or takes it back), and says so in the log.
    pub fn mind_space(&mut self, now: Timestamp) -> Option<reserve::SpaceChange> {
        let change = self.reserve.check()?;
        let event = match change {
            reserve::SpaceChange::Released { free_bytes } => {
                tracing::error!(
                    free_bytes,
                    dir = %self.data_dir.display(),
                    "the data disk is nearly full: using the reserve; new deposits wait for room"
                );
                Event::DiskNearlyFull { free_bytes }
            }
            reserve::SpaceChange::Retaken => {
                tracing::info!("there is room on the data disk again");
                Event::DiskSpaceBack {}
            }
        };
        if let Err(e) = self.events().record(now, &NewEvent::new(event, "kiosk")) {
            tracing::error!(error = %e, "could not record the data disk's state");
        }
        Some(change)
    }

    /// The store runs on its disk reserve: new deposits wait for room.
    pub fn disk_low(&self) -> bool {
        self.reserve.low()
    }

    /// Checks the audit log's chain and its end against the anchored head.
    pub fn verify_log(&self) -> Result<audit::Verification> {
        let anchored = audit::anchored(&self.data_dir);
        audit::verify(&self.conn, anchored.as_ref()).map_err(sql_error(&self.file))
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn schema_version(&self) -> Result<u32> {
        migrations::version(&self.conn).map_err(sql_error(&self.file))
    }

    /// The raw connection, for tests that need to look under the hood.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A value from the `meta` table (the locker's id, settings, hashes).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        meta(&self.conn, &self.file, key)
    }

    /// When the kiosk last said it was running (`app::outages`).
    pub fn alive_at(&self) -> Result<Option<Timestamp>> {
        Ok(self
            .meta("alive_at")?
            .and_then(|v| v.parse().ok())
            .map(Timestamp))
    }

    /// The kiosk is running at `now`.
    pub fn set_alive_at(&mut self, now: Timestamp) -> Result<()> {
        set_meta(&self.conn, &self.file, "alive_at", &now.0.to_string())
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

/// The database's codes must have been made with this secret; a database
/// that has none recorded yet takes this one.
fn check_secret(
    conn: &Connection,
    file: &Path,
    data_dir: &Path,
    secret: &LockerSecret,
    created: bool,
) -> Result<()> {
    match meta(conn, file, secret::SECRET_CHECK)? {
        Some(check) if check == secret.check() => Ok(()),
        Some(_) => {
            let path = data_dir.join(SECRET_FILE);
            if created {
                // Ours was made just now: leave the place for the right one.
                let _ = std::fs::remove_file(&path);
            }
            Err(StoreError::SecretMismatch { path, created })
        }
        None => set_meta(conn, file, secret::SECRET_CHECK, secret.check()),
    }
}

fn meta(conn: &Connection, file: &Path, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map_err(sql_error(file))
}

fn set_meta(conn: &Connection, file: &Path, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map(|_| ())
    .map_err(sql_error(file))
}

/// A handle on one aggregate of the records: the connection and the file
/// it came from, borrowed from the [`Store`] for as long as it is used.
trait Handle<'s> {
    fn of(conn: &'s mut Connection, file: &'s Path) -> Self;
}

macro_rules! handles {
    ($($(#[$doc:meta])* $handle:ident, $accessor:ident;)*) => {
        $(
            $(#[$doc])*
            pub struct $handle<'s> {
                conn: &'s mut Connection,
                file: &'s Path,
            }

            impl<'s> Handle<'s> for $handle<'s> {
                fn of(conn: &'s mut Connection, file: &'s Path) -> Self {
                    $handle { conn, file }
                }
            }

            impl<'s> $handle<'s> {
                /// Another aggregate's handle, for a change that touches
                /// both (a flagged compartment files a report).
                #[allow(dead_code)]
                fn other<'t, H: Handle<'t>>(&'t mut self) -> H {
                    H::of(&mut *self.conn, self.file)
                }

                #[allow(dead_code)]
                fn meta(&self, key: &str) -> Result<Option<String>> {
                    meta(self.conn, self.file, key)
                }

                #[allow(dead_code)]
                fn set_meta(&self, key: &str, value: &str) -> Result<()> {
                    set_meta(self.conn, self.file, key, value)
                }
            }
        )*

        impl Store {
            $(
                $(#[$doc])*
                pub fn $accessor(&mut self) -> $handle<'_> {
                    $handle::of(&mut self.conn, &self.file)
                }
            )*
        }
    };
}

handles! {
    /// Compartments: the layout, their states, holding one for a deposit.
    Compartments, compartments;
    /// Parcels and their pickup codes, from announced to gone.
    Parcels, parcels;
    /// Couriers and the key that signs their proofs of delivery.
    Couriers, couriers;
    /// The resident directory.
    Recipients, recipients;
    /// Staff PINs and the settings staff change.
    Staff, staff;
    /// The event log and its outbox.
    Events, events;
    /// Reports raised at the kiosk.
    Reports, reports;
    /// Messages to recipients on their way out, and reminders.
    Deliveries, deliveries;
    /// Commands from the fleet seen so far, by id.
    FleetCommands, fleet_commands;
}

/// Wraps SQLite errors with the file they came from. Takes the path rather
/// than `&self` so that it can be used while a transaction borrows the
/// connection.
fn sql_error(file: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| {
        if is_disk_full(&source) {
            return StoreError::DiskFull {
                file: file.to_path_buf(),
            };
        }
        if file.parent().is_some_and(disk::read_only) {
            return StoreError::ReadOnly {
                path: file.to_path_buf(),
            };
        }
        StoreError::Sqlite {
            file: file.to_path_buf(),
            source,
        }
    }
}

/// An I/O error, said as a read-only disk where that is what it is.
fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    if source.raw_os_error() == Some(libc::EROFS) {
        return StoreError::ReadOnly {
            path: path.to_path_buf(),
        };
    }
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SQLite's word for a full disk (or a file at its size limit).
fn is_disk_full(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// Checks a database without opening it for writing and without the
/// writer lock: what `doctor` does while the kiosk may be running.
pub fn inspect(file: &Path) -> Result<Inspection> {
    let conn = open_existing(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let sql = sql_error(file);
    let version = migrations::version(&conn).map_err(&sql)?;
    let read = |key: &str| -> Result<Option<String>> {
        if version < 1 {
            return Ok(None);
        }
        meta(&conn, file, key)
    };
    Ok(Inspection {
        version,
        locker_id: read("locker_id")?,
        out_of_service: read(staff::OUT_OF_SERVICE)?.map(staff::closure_from_meta),
    })
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub version: u32,
    pub locker_id: Option<String>,
    /// The whole locker is out of service.
    pub out_of_service: Option<Closure>,
}

/// Opens an existing database file and proves it is ours and intact.
fn open_existing(file: &Path, flags: OpenFlags) -> Result<Connection> {
    let corrupt = |detail: String| StoreError::Corrupt {
        file: file.to_path_buf(),
        detail,
    };
    // A full disk is said as such: the file is fine, only space is short.
    let failed = |e: rusqlite::Error| {
        if is_disk_full(&e) || file.parent().is_some_and(disk::no_space_left) {
            StoreError::DiskFull {
                file: file.to_path_buf(),
            }
        } else {
            corrupt(e.to_string())
        }
    };
    let size = std::fs::metadata(file)
        .map_err(|source| StoreError::Io {
            path: file.to_path_buf(),
            source,
        })?
        .len();
    if size == 0 {
        return Err(corrupt("the file is empty".into()));
    }
    let conn = Connection::open_with_flags(file, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(failed)?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(failed)?;
    if problems != ["ok"] {
        return Err(corrupt(problems.join("; ")));
    }
    let version = migrations::version(&conn).map_err(failed)?;
    if version > migrations::LATEST_VERSION {
        return Err(StoreError::TooNew {
            file: file.to_path_buf(),
            found: version,
            supported: migrations::LATEST_VERSION,
        });
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(failed)?;
        if tables > 0 {
            return Err(StoreError::Foreign {
                file: file.to_path_buf(),
                detail: format!("it has {tables} tables but no locker-kiosk schema version"),
            });
        }
    }
    Ok(conn)
}

/// Builds a new database beside `file` and renames it into place.
fn create_fresh(file: &Path, secret: &std::sync::Arc<LockerSecret>) -> Result<()> {
    let temp = file.with_extension("db.new");
    let io = |path: &Path, source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    for leftover in [temp.clone(), temp.with_extension("new-journal")] {
        if leftover.exists() {
            std::fs::remove_file(&leftover).map_err(|e| io(&leftover, e))?;
        }
    }
    private::create_file(&temp)?;
    {
        let mut conn = Connection::open(&temp).map_err(|source| StoreError::Sqlite {
            file: temp.clone(),
            source,
        })?;
        register_functions(&conn, secret)
            .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
            .and_then(|_| migrations::migrate_to(&mut conn, migrations::LATEST_VERSION))
            .map_err(|source| StoreError::Sqlite {
                file: temp.clone(),
                source,
            })?;
    }
    std::fs::rename(&temp, file).map_err(|e| io(file, e))?;
    if let Some(dir) = file.parent() {
        // Make the rename itself durable.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    tracing::info!(file = %file.display(), "created a new database");
    Ok(())
}
