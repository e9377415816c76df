//! The two things the domain may not touch itself: the clock and the
//! random number generator.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::Timestamp;
use crate::domain::codes::Entropy;

pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Timestamp(millis)
}

/// The operating system's cryptographic random number generator.
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // Without the OS generator no code can be made safely: stop rather
        // than hand out guessable codes.
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// `YYYY-MM-DD hh:mm` in the locker's local time (the system's time zone),
/// for staff screens.
pub fn local_time(at: Timestamp) -> String {
    let secs = at.0.div_euclid(1000) as libc::time_t;
    // SAFETY: localtime_r only writes into the `tm` we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return String::new();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min
    )
}
