//! Backups and restores through SQLite's online backup API: a backup is
//! consistent while the kiosk keeps writing (it needs no writer lock), and
//! a restore replaces the records page by page under the writer lock, so
//! that nothing half-copied is ever the database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use super::{
    DATABASE_FILE, Inspection, Result, Store, StoreError, inspect, open_existing, private,
};
use crate::domain::Timestamp;

/// Pages copied per step; between steps the kiosk may write.
const PAGES_PER_STEP: std::ffi::c_int = 256;
const PAUSE: Duration = Duration::from_millis(5);

fn sql(file: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        file: file.to_path_buf(),
        source,
    }
}

/// Copies `from` into a new private file `target` (replacing one there),
/// checks the copy, and says what it holds.
fn copy(from: &Connection, source: &Path, target: &Path) -> Result<Inspection> {
    let partial = PathBuf::from(format!("{}.partial", target.display()));
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(|e| StoreError::Io {
            path: partial.clone(),
            source: e,
        })?;
    }
    private::create_file(&partial)?;
    {
        let mut to = Connection::open(&partial).map_err(sql(&partial))?;
        Backup::new(from, &mut to)
            .and_then(|backup| backup.run_to_completion(PAGES_PER_STEP, PAUSE, None))
            .map_err(sql(source))?;
    }
    // The copy must open as the records do, intact and ours.
    drop(open_existing(&partial, OpenFlags::SQLITE_OPEN_READ_ONLY)?);
    let found = inspect(&partial)?;
    std::fs::rename(&partial, target).map_err(|e| StoreError::Io {
        path: target.to_path_buf(),
        source: e,
    })?;
    Ok(found)
}

/// Backs up the database of `data_dir` into `target`, while the kiosk
/// runs or not.
pub fn backup(data_dir: &Path, target: &Path) -> Result<Inspection> {
    let file = data_dir.join(DATABASE_FILE);
    let from = open_existing(&file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    copy(&from, &file, target)
}

impl Store {
    /// Replaces the records in `data_dir` by the backup `source` (checked
    /// first: intact, a locker-kiosk database, not from a newer version).
    /// The records it replaces are kept beside them, as
    /// `locker.db.before-restore-<time>`; that path is returned. Needs the
    /// kiosk stopped (the writer lock).
    pub fn restore(data_dir: &Path, source: &Path, now: Timestamp) -> Result<PathBuf> {
        let from = open_existing(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut store = Store::open(data_dir)?;
        // Codes in a backup from another locker were made with its secret.
        let theirs: Option<String> = from
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [super::secret::SECRET_CHECK],
                |r| r.get(0),
            )
            .ok();
        if let Some(theirs) = theirs
            && Some(&theirs) != store.meta(super::secret::SECRET_CHECK)?.as_ref()
        {
            return Err(StoreError::SecretMismatch {
                path: data_dir.join(super::SECRET_FILE),
                created: false,
            });
        }
        let kept = data_dir.join(format!("{DATABASE_FILE}.before-restore-{}", now.0));
        copy(&store.conn, &store.file, &kept)?;
        Backup::new(&from, &mut store.conn)
            .and_then(|backup| backup.run_to_completion(PAGES_PER_STEP, PAUSE, None))
            .map_err(sql(source))?;
        drop(store);
        // Older records are put back on purpose: not a rollback.
        super::audit::forget_anchor(data_dir).map_err(|e| StoreError::Io {
            path: data_dir.join(super::audit::HEAD_FILE),
            source: e,
        })?;
        // An older backup is brought up to the current schema.
        drop(Store::open(data_dir)?);
        Ok(kept)
    }
}
