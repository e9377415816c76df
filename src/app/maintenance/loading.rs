//! Loading imported items (`parcels import`): staff walk the list door
//! by door. Each door opens for its item (its intent written first, as
//! for every open); once its sensor sees it closed again the item is
//! loaded and its person is sent their code. A door that does not open
//! leaves the item waiting, for a retry or for later.

use tokio::sync::broadcast;

use super::doors::{StaffOpen, open_for};
use crate::app::Service;
use crate::app::service::ServiceError;
use crate::app::system::{self, OsEntropy};
use crate::domain::maintenance::PinHolder;
use crate::domain::pickup::OpenOutcome;
use crate::hardware::doors::DoorEvent;
use crate::hardware::protocol::Door;
use crate::store::LoadedItem;

// What the loading tab lists, as the records hold it.
pub use crate::store::ItemToLoad;

/// How loading one item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadResult {
    /// In, door closed, person told.
    Loaded(LoadedItem),
    /// The door did not open (or its intent could not be written): the
    /// item still waits.
    DidNotOpen(OpenOutcome),
    /// The door opened and closed but the records refused the load.
    NotRecorded(String),
}

/// The items waiting to be loaded, door by door.
pub async fn to_load(service: &Service) -> Result<Vec<ItemToLoad>, ServiceError> {
    service.parcels(|parcels| parcels.items_to_load()).await
}

/// Opens `item`'s door, waits for staff to close it, and records the item
/// loaded. `opened` is told as soon as the door is seen open, for the
/// screen to say "put it in and close the door".
pub async fn load(
    service: &Service,
    by: &PinHolder,
    item: &ItemToLoad,
    opened: impl FnOnce(),
) -> LoadResult {
    let compartment = item.compartment;
    // Listening before the open: the close cannot be missed.
    let mut events = service.doors().subscribe();
    let said = format!("load {} for {}", item.item, item.person);
    let why = StaffOpen::loading(item.parcel, said);
    let outcome = open_for(service, by, compartment, why).await;
    if !matches!(outcome, OpenOutcome::Opened | OpenOutcome::AlreadyOpen) {
        return LoadResult::DidNotOpen(outcome);
    }
    opened();
    while service.doors().compartment_door(compartment) != Some(Door::Closed) {
        match events.recv().await {
            Ok(DoorEvent::DoorChanged { place, door, .. })
                if place.compartment == Some(compartment) && door == Door::Closed =>
            {
                break;
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                return LoadResult::NotRecorded("the door system stopped".into());
            }
        }
    }
    let policies = service.config().policies;
    let (parcel, actor) = (item.parcel, by.actor());
    let loaded = service
        .parcels(move |parcels| {
            parcels.load_item(
                parcel,
                policies.storage_hours,
                policies.pin_length,
                &mut OsEntropy,
                &actor,
                system::now(),
            )
        })
        .await;
    match loaded {
        Ok(loaded) => LoadResult::Loaded(loaded),
        Err(e) => {
            tracing::error!(error = %e, parcel, "recording an item loaded failed");
            LoadResult::NotRecorded(e.to_string())
        }
    }
}

/// Takes an item that was never loaded off the list; its door is free.
pub async fn cancel(service: &Service, by: &PinHolder, parcel: i64) -> Result<(), ServiceError> {
    let actor = by.actor();
    service
        .parcels(move |parcels| parcels.cancel_item(parcel, &actor, system::now()))
        .await
}
