//! Fair deadlines: time a parcel could not be collected (the kiosk was
//! down, its board offline, its compartment or the whole locker out of
//! service) is given
//! back to its recipient. Pure: the outage and the parcel's times come in,
//! the new deadline goes out.

use super::Timestamp;

/// Why the locker could not hand parcels out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutageCause {
    /// The kiosk was not running (power cut, crash, stopped).
    KioskDown,
    /// The lock board of the parcel's compartment did not answer.
    BoardOffline { board: String },
    /// Staff had the compartment out of service, or it was faulty.
    CompartmentOutOfService,
    /// Staff (or the fleet) had the whole locker out of service.
    LockerOutOfService,
}

impl OutageCause {
    pub fn name(&self) -> &'static str {
        match self {
            OutageCause::KioskDown => "kiosk_down",
            OutageCause::BoardOffline { .. } => "board_offline",
            OutageCause::CompartmentOutOfService => "compartment_out_of_service",
            OutageCause::LockerOutOfService => "locker_out_of_service",
        }
    }
}

/// A span of time in which some parcels could not be collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub cause: OutageCause,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// A parcel's times as the credit needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub deposited_at: Timestamp,
    pub expires_at: Timestamp,
    /// The end of the last outage already given back (none: never).
    pub credited_until: Option<Timestamp>,
}

/// The time given back for `outage`: its part after the parcel came in,
/// after outages already given back, and before the parcel's deadline
/// (an outage that began after the deadline took nothing from anyone).
/// The new deadline is the old one plus that time, which is the outage's
/// end plus whatever the recipient still had when it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    pub given_ms: i64,
    pub expires_at: Timestamp,
    pub credited_until: Timestamp,
}

/// `None` when nothing is given back, or less than `shortest_ms` (a
/// restart for an update, a board's brief hiccup: not worth a message).
pub fn credit(parcel: Waiting, outage: &Outage, shortest_ms: i64) -> Option<Credit> {
    let start = [
        Some(outage.from),
        Some(parcel.deposited_at),
        parcel.credited_until,
    ]
    .into_iter()
    .flatten()
    .max()?;
    if start >= parcel.expires_at || start >= outage.to {
        return None;
    }
    let given_ms = outage.to.0 - start.0;
    (given_ms > 0 && given_ms >= shortest_ms).then_some(Credit {
        given_ms,
        expires_at: parcel.expires_at.plus_millis(given_ms),
        credited_until: outage.to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const FIVE_MINUTES: i64 = 300_000;

    fn credit(parcel: Waiting, outage: &Outage) -> Option<Credit> {
        super::credit(parcel, outage, FIVE_MINUTES)
    }

    fn at(hours: f64) -> Timestamp {
        Timestamp((hours * HOUR as f64) as i64)
    }

    fn down(from: f64, to: f64) -> Outage {
        Outage {
            cause: OutageCause::KioskDown,
            from: at(from),
            to: at(to),
        }
    }

    fn parcel(deposited: f64, expires: f64) -> Waiting {
        Waiting {
            deposited_at: at(deposited),
            expires_at: at(expires),
            credited_until: None,
        }
    }

    #[test]
    fn an_outage_inside_the_waiting_time_moves_the_deadline_by_its_length() {
        let credit = credit(parcel(0.0, 72.0), &down(10.0, 13.0)).unwrap();
        assert_eq!(credit.given_ms, 3 * HOUR);
        assert_eq!(credit.expires_at, at(75.0));
    }

    #[test]
    fn an_outage_across_the_deadline_gives_back_what_was_left_after_it_ends() {
        // One hour was left when the kiosk went down; it came back two
        // hours after the deadline: one hour from now.
        let credit = credit(parcel(0.0, 72.0), &down(71.0, 74.0)).unwrap();
        assert_eq!(credit.expires_at, at(75.0));
    }

    #[test]
    fn only_the_part_after_the_deposit_and_before_the_deadline_counts() {
        assert_eq!(
            credit(parcel(5.0, 72.0), &down(0.0, 6.0)).unwrap().given_ms,
            HOUR
        );
        assert_eq!(credit(parcel(0.0, 72.0), &down(73.0, 80.0)), None);
        assert_eq!(credit(parcel(10.0, 72.0), &down(0.0, 9.0)), None);
    }

    #[test]
    fn a_short_outage_is_not_credited_and_none_is_credited_twice() {
        assert_eq!(credit(parcel(0.0, 72.0), &down(10.0, 10.05)), None);
        let first = credit(parcel(0.0, 72.0), &down(10.0, 13.0)).unwrap();
        let after = Waiting {
            deposited_at: at(0.0),
            expires_at: first.expires_at,
            credited_until: Some(first.credited_until),
        };
        assert_eq!(
            credit(after, &down(10.0, 13.0)),
            None,
            "the same outage again"
        );
        // A board outage overlapping the kiosk's: only the rest counts.
        assert_eq!(credit(after, &down(12.0, 15.0)).unwrap().given_ms, 2 * HOUR);
    }
}
