//! The pure domain core: compartments, parcels, codes, allocation and the
//! drop-off and pickup flows as plain state machines, and the rules of
//! maintenance.
//!
//! Invariant: nothing in here knows about Slint, SQLite, serial ports, tokio
//! or the clock. Time is passed in as [`Timestamp`], randomness as bytes, and
//! every decision that touches hardware or storage comes out as a value (an
//! effect) for the application service to carry out.

pub mod allocation;
pub mod codes;
pub mod compartment;
pub mod dropoff;
pub mod maintenance;
pub mod parcel;
pub mod pickup;
pub mod receipt;

pub use allocation::{AllocationRequest, allocate};
pub use compartment::{
    CompartmentNumber, CompartmentState, CompartmentView, Dimensions, DoorState, OpenOutcome,
    Position, SizeClass,
};
pub use parcel::{ParcelEvent, ParcelStatus};

/// Milliseconds since the Unix epoch. The domain never reads the clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }

    pub fn plus_secs(self, secs: i64) -> Timestamp {
        self.plus_millis(secs.saturating_mul(1000))
    }

    /// Milliseconds from `self` until `later`, zero if `later` has passed.
    pub fn millis_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).max(0)
    }
}

/// Seconds since the epoch as `YYYY-MM-DD hh:mm:ss UTC`.
/// `millis` since the epoch as RFC 3339 in UTC (`2026-12-03T06:13:46Z`),
/// the form machine-readable messages carry.
pub fn rfc3339(millis: i64) -> String {
    let text = utc_text(millis.div_euclid(1000));
    format!("{}T{}Z", &text[..10], &text[11..19])
}

pub fn utc_text(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
