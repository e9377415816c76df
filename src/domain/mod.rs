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
pub mod handout;
pub mod maintenance;
pub mod outage;
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
/// `millis` since the epoch as RFC 3339 in UTC, to the millisecond
/// (`2026-12-03T06:13:46.250Z`), the form machine-readable messages carry.
pub fn rfc3339(millis: i64) -> String {
    let text = utc_text(millis.div_euclid(1000));
    format!(
        "{}T{}.{:03}Z",
        &text[..10],
        &text[11..19],
        millis.rem_euclid(1000)
    )
}

/// Reads back what [`rfc3339`] wrote: milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
    // Days since 1970-01-01 from a civil date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

#[cfg(test)]
#[test]
fn rfc3339_reads_back_to_the_millisecond() {
    for millis in [0, 1_780_000_000_123, 951_782_400_999, 4_102_444_800_000] {
        assert_eq!(
            parse_rfc3339(&rfc3339(millis)),
            Some(millis),
            "{}",
            rfc3339(millis)
        );
    }
    assert_eq!(rfc3339(1_780_000_000_123), "2026-05-28T20:26:40.123Z");
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
