//! Room held back on the data disk for the parcels already inside.
//!
//! A file of [`RESERVE_BYTES`] sits beside the database. When the disk is
//! nearly full (something else filled it: logs, a runaway process), the
//! store lets the file go before its next piece of work, so that pickups
//! (an intent and a collection, a few pages each) still find room; new
//! deposits are refused meanwhile (`Service::disk_low`). Once there is
//! room again the file is taken back. A full disk then stops the kiosk
//! only after the reserve is spent too, and then no door opens that could
//! not be written down (intent before action).

use std::path::{Path, PathBuf};

use super::disk::free_bytes;

/// The reserve's file name, beside the database.
pub const RESERVE_FILE: &str = "locker.reserve";

/// Room for the write-ahead log to reach its checkpoint size (4 MiB)
/// and for hundreds of collections after it.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// Free space under which the reserve is let go.
const LOW_WATER: u64 = 1 << 20;

/// What changed at a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceChange {
    /// The disk was nearly full: the reserve was let go.
    Released { free_bytes: u64 },
    /// There was room again: the reserve is held again.
    Retaken,
}

/// The reserve file and whether it is held.
#[derive(Debug)]
pub struct Reserve {
    path: PathBuf,
    bytes: u64,
    /// Let go in this run (and not yet taken back).
    released: bool,
}

impl Reserve {
    /// Takes the reserve in `data_dir` (making it when there is room).
    pub fn take(data_dir: &Path) -> Reserve {
        let reserve = Reserve {
            path: data_dir.join(RESERVE_FILE),
            bytes: RESERVE_BYTES,
            released: false,
        };
        if !reserve.held() && !reserve.make() {
            tracing::warn!(
                path = %reserve.path.display(),
                "no room to hold space back on the data disk for pickups"
            );
        }
        reserve
    }

    fn held(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.len() >= self.bytes)
    }

    /// Whether the store runs on its reserve: new deposits wait for room.
    pub fn low(&self) -> bool {
        self.released
    }

    /// Before each piece of work: lets the reserve go when the disk is
    /// nearly full, takes it back when there is room for it and more.
    pub fn check(&mut self) -> Option<SpaceChange> {
        let free = free_bytes(self.path.parent()?)?;
        if !self.released && free < LOW_WATER {
            if !self.held() {
                return None;
            }
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::error!(error = %e, "could not let go of the disk reserve");
                return None;
            }
            self.released = true;
            return Some(SpaceChange::Released { free_bytes: free });
        }
        if self.released && free > self.bytes + 4 * LOW_WATER && self.make() {
            self.released = false;
            return Some(SpaceChange::Retaken);
        }
        None
    }

    /// Allocates the file's blocks for real (a sparse file holds nothing
    /// back); false when there is no room.
    fn make(&self) -> bool {
        use std::os::unix::io::AsRawFd;
        let file = match std::fs::File::create(&self.path) {
            Ok(file) => file,
            Err(_) => return false,
        };
        // SAFETY: a valid open descriptor and a non-negative length.
        let allocated =
            unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, self.bytes as libc::off_t) } == 0;
        let allocated = allocated || write_zeros(&file, self.bytes).is_ok();
        if !allocated || file.sync_all().is_err() {
            drop(file);
            let _ = std::fs::remove_file(&self.path);
            return false;
        }
        true
    }
}

/// For a filesystem without `fallocate`.
fn write_zeros(mut file: &std::fs::File, bytes: u64) -> std::io::Result<()> {
    use std::io::Write;
    let block = vec![0u8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_a_real_allocation_beside_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = Reserve::take(dir.path());
        let file = std::fs::metadata(dir.path().join(RESERVE_FILE)).unwrap();
        assert_eq!(file.len(), RESERVE_BYTES);
        use std::os::unix::fs::MetadataExt;
        // Blocks really allocated (512-byte units), not a sparse file.
        assert!(file.blocks() * 512 >= RESERVE_BYTES, "{}", file.blocks());
        assert!(!reserve.low());
        // Plenty of room here: nothing to let go.
        let mut reserve = reserve;
        assert_eq!(reserve.check(), None);
    }
}
