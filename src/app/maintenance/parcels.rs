//! Parcels in maintenance: find them, move one to another compartment,
//! take one out with a reason, give the recipient more time, or mark it
//! for the carrier to take back.
//!
//! A move or a removal is recorded only once the kiosk saw the doors
//! open that it needs (or staff say they used the key): the records never
//! claim a parcel moved that is still behind a jammed door.

use super::doors;
use super::views::{self, LogEntry, ParcelEntry};
use crate::app::service::ServiceError;
use crate::app::{Service, system};
use crate::domain::maintenance::{
    MoveRefusal, ParcelPlace, PinHolder, RemovalReason, ReturnReason, check_move, move_targets,
};
use crate::domain::pickup::OpenOutcome;
use crate::domain::{CompartmentNumber, Timestamp};
use crate::store::{ParcelRow, StoreError};

/// How many events of a parcel's history the details show.
const HISTORY: usize = 12;

/// One parcel with what staff can do with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelDetails {
    pub parcel: ParcelEntry,
    /// Newest first.
    pub history: Vec<LogEntry>,
    /// Compartments it may be moved into, snuggest first.
    pub move_targets: Vec<CompartmentNumber>,
}

/// What a move, a removal or an extension came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParcelActionResult {
    Moved {
        from: CompartmentNumber,
        to: CompartmentNumber,
    },
    Removed,
    /// The new deadline, and whether the recipient was sent a new code.
    Extended {
        expires_at: Timestamp,
        new_code: bool,
    },
    MarkedForReturn,
    /// A door it needed did not open: nothing was recorded.
    DoorFailed {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    Refused(MoveRefusal),
    /// The parcel left the locker meanwhile.
    Gone,
    /// The records could not be read or written.
    Failed,
}

pub async fn list(
    service: &Service,
    search: String,
    expired_only: bool,
) -> Result<Vec<ParcelEntry>, ServiceError> {
    let rows = service
        .parcels(move |parcels| parcels.rows(&search, expired_only))
        .await?;
    Ok(rows.into_iter().map(ParcelEntry::from).collect())
}

/// `None` when the parcel is no longer in the locker.
pub async fn details(
    service: &Service,
    parcel: i64,
) -> Result<Option<ParcelDetails>, ServiceError> {
    let found = service
        .call(move |store| {
            let Some(row) = store.parcels().row(parcel)? else {
                return Ok(None);
            };
            let mut history = store.events().parcel_history(parcel)?;
            history.reverse();
            history.truncate(HISTORY);
            Ok(Some((row, history)))
        })
        .await?;
    let Some((row, history)) = found else {
        return Ok(None);
    };
    let views = crate::app::kiosk::compartment_views(service, service.doors()).await?;
    let move_targets = move_targets(&place_of(&row), &views);
    Ok(Some(ParcelDetails {
        parcel: row.into(),
        history: views::entries(&history),
        move_targets,
    }))
}

fn place_of(row: &ParcelRow) -> ParcelPlace {
    ParcelPlace {
        compartment: row.compartment,
        size: row.size,
        status: row.status,
    }
}

/// Opens the parcel's door and the target's; once both are open (staff
/// move the parcel by hand), records the move.
pub async fn move_parcel(
    service: &Service,
    by: &PinHolder,
    parcel: i64,
    to: CompartmentNumber,
) -> ParcelActionResult {
    let actor = by.actor();
    let row = match service.parcels(move |parcels| parcels.row(parcel)).await {
        Ok(Some(row)) => row,
        Ok(None) => return ParcelActionResult::Gone,
        Err(_) => return ParcelActionResult::Failed,
    };
    let views = match crate::app::kiosk::compartment_views(service, service.doors()).await {
        Ok(views) => views,
        Err(_) => return ParcelActionResult::Failed,
    };
    let Some(target) = views.iter().find(|v| v.number == to) else {
        return ParcelActionResult::Refused(MoveRefusal::NotFree);
    };
    if let Err(refusal) = check_move(&place_of(&row), target) {
        return ParcelActionResult::Refused(refusal);
    }
    let reason = format!(
        "move parcel {} from {} to {to}",
        row.tracking, row.compartment
    );
    for compartment in [row.compartment, to] {
        let why = doors::StaffOpen::moving(parcel, to, reason.clone());
        let outcome = doors::open_for(service, by, compartment, why).await;
        if !outcome.door_is_open() {
            return ParcelActionResult::DoorFailed {
                compartment,
                outcome,
            };
        }
    }
    let now = system::now();
    match service
        .parcels(move |parcels| parcels.move_to(parcel, to, &actor, now))
        .await
    {
        Ok(from) => ParcelActionResult::Moved { from, to },
        Err(e) => failure(e, "recording a parcel move"),
    }
}

/// Opens the parcel's door and, once it is open, records that staff took
/// the parcel out. With `by_key`, staff opened it with the mechanical key
/// (its board is down): no open is tried.
pub async fn remove(
    service: &Service,
    by: &PinHolder,
    parcel: i64,
    reason: RemovalReason,
    by_key: bool,
) -> ParcelActionResult {
    let actor = by.actor();
    let row = match service.parcels(move |parcels| parcels.row(parcel)).await {
        Ok(Some(row)) => row,
        Ok(None) => return ParcelActionResult::Gone,
        Err(_) => return ParcelActionResult::Failed,
    };
    if !by_key {
        let said = format!("remove parcel {} ({})", row.tracking, reason.name());
        let why = doors::StaffOpen::removing(parcel, reason.name(), said);
        let outcome = doors::open_for(service, by, row.compartment, why).await;
        if !outcome.door_is_open() {
            return ParcelActionResult::DoorFailed {
                compartment: row.compartment,
                outcome,
            };
        }
    }
    let now = system::now();
    match service
        .parcels(move |parcels| parcels.remove(parcel, reason, !by_key, &actor, now))
        .await
    {
        Ok(()) => ParcelActionResult::Removed,
        Err(e) => failure(e, "recording a parcel removal"),
    }
}

/// Gives the recipient `hours` more; they are sent the new deadline.
pub async fn extend(
    service: &Service,
    by: &PinHolder,
    parcel: i64,
    hours: u32,
) -> ParcelActionResult {
    let actor = by.actor();
    let now = system::now();
    let pin_length = service.config().policies.pin_length;
    match service
        .parcels(move |parcels| {
            parcels.extend(
                parcel,
                hours,
                pin_length,
                &mut system::OsEntropy,
                &actor,
                now,
            )
        })
        .await
    {
        Ok(extension) => ParcelActionResult::Extended {
            expires_at: extension.expires_at,
            new_code: extension.new_code,
        },
        Err(e) => failure(e, "extending a parcel"),
    }
}

/// The carrier's next courier takes the parcel back (to its sender).
pub async fn mark_for_return(
    service: &Service,
    by: &PinHolder,
    parcel: i64,
    reason: ReturnReason,
) -> ParcelActionResult {
    let actor = by.actor();
    let now = system::now();
    match service
        .parcels(move |parcels| parcels.request_return(parcel, reason.name(), &actor, now))
        .await
    {
        Ok(()) => ParcelActionResult::MarkedForReturn,
        Err(e) => failure(e, "marking a parcel for return"),
    }
}

/// A store error as the screen is told it: the parcel gone (or the
/// target taken) meanwhile, or the records failing.
fn failure(error: ServiceError, what: &str) -> ParcelActionResult {
    match error {
        ServiceError::Store(StoreError::NoSuchParcel(_) | StoreError::NotInLocker(_)) => {
            ParcelActionResult::Gone
        }
        ServiceError::Store(StoreError::CompartmentNotFree(_)) => {
            ParcelActionResult::Refused(MoveRefusal::NotFree)
        }
        error => {
            tracing::error!(%error, "{what} failed");
            ParcelActionResult::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parcel_gone_meanwhile_is_told_apart_from_records_that_fail() {
        let store = |e| failure(ServiceError::Store(e), "testing");
        assert_eq!(store(StoreError::NotInLocker(3)), ParcelActionResult::Gone);
        assert_eq!(store(StoreError::NoSuchParcel(3)), ParcelActionResult::Gone);
        assert_eq!(
            store(StoreError::CompartmentNotFree(9)),
            ParcelActionResult::Refused(MoveRefusal::NotFree)
        );
        let full = StoreError::Io {
            path: "locker.db".into(),
            source: std::io::Error::other("no space left on device"),
        };
        assert_eq!(store(full), ParcelActionResult::Failed);
        assert_eq!(
            failure(ServiceError::Stopped, "testing"),
            ParcelActionResult::Failed
        );
    }
}
