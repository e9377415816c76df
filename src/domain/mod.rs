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
