//! The parcel lifecycle.
//!
//! ```text
//! announced ──deposit──▶ deposited ──collect──▶ collected
//!                          │   ▲
//!                   expire │   │ extend
//!                          ▼   │
//!                        expired ──retrieve──▶ retrieved
//!        deposited / expired ──return──▶ returned
//!        deposited / expired ──remove──▶ removed
//!        announced / deposited ──cancel──▶ cancelled
//!        deposited ──take back──▶ announced
//! ```
//!
//! `take back` and `cancel` from `deposited` undo a deposit made in error
//! while the courier is still there: a parcel from the manifest goes back
//! to being announced, any other record is cancelled.
//!
//! `remove` is staff taking a parcel out in maintenance, with a reason
//! (handed over at the desk, damaged, not there after all).
//!
//! `collected`, `retrieved`, `returned`, `removed` and `cancelled` are final: a parcel
//! that has left the locker never comes back to it as the same record.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParcelStatus {
    /// Known in advance from a carrier's manifest, not yet in the locker.
    Announced,
    /// In a compartment, waiting for its recipient.
    Deposited,
    /// Taken out by the recipient.
    Collected,
    /// Not collected within the storage period; waits for the courier.
    Expired,
    /// An expired parcel taken back by a courier.
    Retrieved,
    /// Taken back by a courier or staff because it was marked for return.
    Returned,
    /// An announcement withdrawn before the parcel arrived.
    Cancelled,
    /// Taken out by staff in maintenance, with a reason.
    Removed,
    /// Reported missing when its door opened (by its recipient, or by the
    /// courier taking it back): not handed over as far as anyone knows;
    /// staff and the carrier follow it up.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParcelEvent {
    Deposit,
    Collect,
    Expire,
    /// Staff gave the recipient more time.
    Extend,
    Retrieve,
    Return,
    Cancel,
    /// The courier undid a deposit of an announced parcel.
    TakeBack,
    /// Staff took the parcel out.
    Remove,
    /// The recipient or a courier found the compartment empty.
    ReportMissing,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a parcel that is {from} cannot be {}", event_verb(*.event))]
pub struct LifecycleError {
    pub from: ParcelStatus,
    pub event: ParcelEvent,
}

fn event_verb(event: ParcelEvent) -> &'static str {
    match event {
        ParcelEvent::Deposit => "deposited",
        ParcelEvent::Collect => "collected",
        ParcelEvent::Expire => "expired",
        ParcelEvent::Extend => "extended",
        ParcelEvent::Retrieve => "retrieved",
        ParcelEvent::Return => "returned",
        ParcelEvent::Cancel => "cancelled",
        ParcelEvent::TakeBack => "taken back",
        ParcelEvent::Remove => "removed",
        ParcelEvent::ReportMissing => "reported missing",
    }
}

impl ParcelStatus {
    pub const ALL: [ParcelStatus; 9] = [
        ParcelStatus::Announced,
        ParcelStatus::Deposited,
        ParcelStatus::Collected,
        ParcelStatus::Expired,
        ParcelStatus::Retrieved,
        ParcelStatus::Returned,
        ParcelStatus::Cancelled,
        ParcelStatus::Removed,
        ParcelStatus::Missing,
    ];

    pub fn apply(self, event: ParcelEvent) -> Result<ParcelStatus, LifecycleError> {
        use ParcelEvent as E;
        use ParcelStatus as S;
        match (self, event) {
            (S::Announced, E::Deposit) => Ok(S::Deposited),
            (S::Announced | S::Deposited, E::Cancel) => Ok(S::Cancelled),
            (S::Deposited, E::TakeBack) => Ok(S::Announced),
            (S::Deposited, E::Collect) => Ok(S::Collected),
            (S::Deposited, E::Expire) => Ok(S::Expired),
            (S::Expired, E::Extend) => Ok(S::Deposited),
            (S::Deposited, E::Extend) => Ok(S::Deposited),
            (S::Expired, E::Retrieve) => Ok(S::Retrieved),
            (S::Deposited | S::Expired, E::Return) => Ok(S::Returned),
            (S::Deposited | S::Expired, E::Remove) => Ok(S::Removed),
            // Not in its compartment when its door opened: at pickup (after
            // the collection was recorded) or at take-back.
            (S::Collected | S::Deposited | S::Expired, E::ReportMissing) => Ok(S::Missing),
            (from, event) => Err(LifecycleError { from, event }),
        }
    }

    /// Whether the parcel is physically in a compartment.
    pub fn is_in_locker(self) -> bool {
        matches!(self, ParcelStatus::Deposited | ParcelStatus::Expired)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            ParcelStatus::Collected
                | ParcelStatus::Retrieved
                | ParcelStatus::Returned
                | ParcelStatus::Cancelled
                | ParcelStatus::Removed
                | ParcelStatus::Missing
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            ParcelStatus::Announced => "announced",
            ParcelStatus::Deposited => "deposited",
            ParcelStatus::Collected => "collected",
            ParcelStatus::Expired => "expired",
            ParcelStatus::Retrieved => "retrieved",
            ParcelStatus::Returned => "returned",
            ParcelStatus::Cancelled => "cancelled",
            ParcelStatus::Removed => "removed",
            ParcelStatus::Missing => "missing",
        }
    }

    pub fn from_name(name: &str) -> Option<ParcelStatus> {
        ParcelStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for ParcelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParcelEvent as E;
    use ParcelStatus as S;

    const EVENTS: [ParcelEvent; 10] = [
        E::Deposit,
        E::Collect,
        E::Expire,
        E::Extend,
        E::Retrieve,
        E::Return,
        E::Cancel,
        E::TakeBack,
        E::Remove,
        E::ReportMissing,
    ];

    #[test]
    fn happy_paths() {
        let collect = [E::Deposit, E::Collect];
        let retrieve = [E::Deposit, E::Expire, E::Retrieve];
        let extended = [E::Deposit, E::Expire, E::Extend, E::Collect];
        let returned = [E::Deposit, E::Return];
        let removed = [E::Deposit, E::Expire, E::Remove];
        for (path, end) in [
            (&collect[..], S::Collected),
            (&retrieve[..], S::Retrieved),
            (&extended[..], S::Collected),
            (&returned[..], S::Returned),
            (&removed[..], S::Removed),
        ] {
            let status = path
                .iter()
                .try_fold(S::Announced, |s, e| s.apply(*e))
                .unwrap();
            assert_eq!(status, end);
        }
    }

    #[test]
    fn final_states_accept_nothing_but_a_missing_report_after_collection() {
        for status in S::ALL.into_iter().filter(|s| s.is_final()) {
            for event in EVENTS {
                if (status, event) == (S::Collected, E::ReportMissing) {
                    assert_eq!(status.apply(event), Ok(S::Missing));
                } else {
                    assert!(status.apply(event).is_err(), "{status} accepted {event:?}");
                }
            }
        }
    }

    #[test]
    fn only_parcels_in_the_locker_leave_it() {
        for status in S::ALL {
            for event in EVENTS {
                // A missing report moves nothing: it says what was not there.
                if let Ok(next) = status.apply(event)
                    && next.is_final()
                    && next != S::Cancelled
                    && event != E::ReportMissing
                {
                    assert!(status.is_in_locker(), "{status} --{event:?}--> {next}");
                }
            }
        }
    }

    #[test]
    fn an_expired_parcel_cannot_be_collected() {
        let err = S::Expired.apply(E::Collect).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a parcel that is expired cannot be collected"
        );
    }

    #[test]
    fn names_round_trip() {
        for status in S::ALL {
            assert_eq!(S::from_name(status.name()), Some(status));
        }
        assert_eq!(S::from_name("lost"), None);
    }
}
