//! The records are readable by the kiosk's user only: the database holds
//! what opens doors and signs receipts. A data directory the kiosk creates
//! is 0700; the database file (and with it SQLite's `-wal` and `-shm`,
//! which take its mode) is 0600, also when an older version left it 0644.
//! A directory given by the operator is never changed, only warned about.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{Result, StoreError};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| super::io_error(path, source)
}

/// Creates the data directory (and its parents) private to the kiosk.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        let mode = std::fs::metadata(dir)
            .map_err(io(dir))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data directory is open to other users; the database itself is not (chmod 700 the directory to hide its file names too)"
            );
        }
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io(dir))
}

/// Creates an empty file readable by the kiosk's user only.
pub fn create_file(file: &Path) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(file)
        .map(drop)
        .map_err(io(file))
}

/// Makes the database and its journal files private, whatever made them.
pub fn restrict_database(file: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, Permissions::from_mode(FILE_MODE))
                .map_err(io(&path))?;
        }
    }
    Ok(())
}
