//! Leaving a visit: whatever step it is in, nothing is dropped on the
//! floor.

use super::{Deposit, DropoffEffect, DropoffState, RetrievalDoor, Timestamp};

/// What leaving does to a half-done step: nothing is dropped on the floor.
pub(super) fn leave(state: DropoffState, now: Timestamp, effects: &mut Vec<DropoffEffect>) {
    use DropoffEffect as F;
    use DropoffState as S;
    // First the step in hand, then the end of the visit: whatever was
    // delivered or taken back is reported (notifications, proof), however
    // the courier left. Every door still open goes to the watcher at once.
    let mut watch = Vec::new();
    let session = match state {
        S::Opening {
            session,
            compartment,
            ..
        } => {
            effects.push(F::Release(compartment));
            watch.push(compartment);
            Some(session)
        }
        S::Filling {
            mut session,
            job,
            compartment,
            ..
        } => {
            let deposit = Deposit {
                parcel: job.parcel,
                compartment,
                at: now,
            };
            effects.push(F::RecordDeposit {
                deposit: deposit.clone(),
                courier: session.courier,
                confirmed: false,
            });
            watch.push(compartment);
            session.deposits.push(deposit);
            Some(session)
        }
        // Left with a door open to take a parcel back: taken, as a door
        // opened for a recipient hands the parcel over (the courier had it
        // in reach and did not say it was not there).
        S::Retrieving {
            mut session,
            queue,
            door,
        } => {
            if let Some(first) = queue.first() {
                watch.push(first.parcel.compartment);
                if door == RetrievalDoor::Open {
                    effects.push(F::RecordRetrieved {
                        parcel: first.parcel,
                        courier: session.courier,
                    });
                    session.retrieved.push(first.parcel);
                }
            }
            Some(session)
        }
        // The deposit stands until its door is seen open; the sensor is
        // watched.
        S::Undoing {
            session,
            compartment,
        } => {
            watch.push(compartment);
            Some(session)
        }
        S::ScanParcel { session, .. }
        | S::LookingUp { session, .. }
        | S::ChooseRecipient { session, .. }
        | S::ChooseSize { session, .. }
        | S::Allocating { session, .. } => Some(session),
        // A finished visit was reported when it finished.
        S::Finished { .. } | S::Login { .. } | S::CheckingLogin | S::LockedOut { .. } => None,
    };
    let Some(session) = session else { return };
    for door in &session.to_close {
        if !watch.contains(door) {
            watch.push(*door);
        }
    }
    if !watch.is_empty() {
        effects.push(F::WatchDoors(watch));
    }
    if !session.deposits.is_empty() || !session.retrieved.is_empty() {
        effects.push(F::EndSession(session));
    }
}
