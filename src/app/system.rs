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
