//! What the filesystem under the data directory says of itself: room
//! left, and whether it is mounted read-only. A full or read-only disk is
//! said as such, never as a damaged database.

use std::path::Path;

fn statvfs(dir: &Path) -> Option<libc::statvfs> {
    use std::os::unix::ffi::OsStrExt;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed plain-data struct for the answer.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a struct to write into.
    (unsafe { libc::statvfs(path.as_ptr(), &mut stat) } == 0).then_some(stat)
}

/// Bytes an unprivileged process may still write on `dir`'s filesystem.
// The fields are narrower than u64 on 32-bit panels (armhf).
#[allow(clippy::unnecessary_cast)]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = statvfs(dir)?;
    Some((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

/// The filesystem holding `dir` is mounted read-only.
pub fn read_only(dir: &Path) -> bool {
    statvfs(dir).is_some_and(|stat| stat.f_flag & libc::ST_RDONLY != 0)
}

/// The filesystem holding `dir` has (next to) no space left: SQLite then
/// fails in ways of its own (a journal it cannot make), which must not
/// read as a damaged database.
pub fn no_space_left(dir: &Path) -> bool {
    free_bytes(dir).is_some_and(|free| free < 256 * 1024)
}
