//! Maintenance mode for site staff, behind the admin PIN: the state of
//! every compartment, opening doors with a reason, taking compartments out
//! of service and back. Every action is in the audit log as
//! `staff:maintenance` with its reason.

use serde_json::json;

use super::{Service, admin, system};
use crate::domain::pickup::OpenOutcome;
use crate::domain::{CompartmentNumber, CompartmentState, DoorState, ParcelStatus, SizeClass};
use crate::store::NewEvent;

pub const ACTOR: &str = "staff:maintenance";

/// What staff see of one compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorStatus {
    pub number: CompartmentNumber,
    pub size: SizeClass,
    pub kind: StatusKind,
    /// Why it is faulty or out of service.
    pub reason: String,
    /// The parcel in it: (id, tracking, status).
    pub parcel: Option<(i64, String, ParcelStatus)>,
}

/// The one word a compartment's tile shows, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Offline,
    Faulty,
    OutOfService,
    Open,
    Expired,
    Occupied,
    Free,
}

/// Checks the admin PIN on the store's thread (argon2id takes a moment).
pub async fn pin_opens(service: &Service, pin: String) -> bool {
    let config = service.config().clone();
    service
        .call(move |store| admin::check_pin(store, &config, &pin))
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "checking the admin PIN failed");
            false
        })
}

/// Every compartment's status right now.
pub async fn statuses(service: &Service) -> Vec<DoorStatus> {
    let read = service
        .call(|store| Ok((store.compartments()?, store.parcels_in_locker()?)))
        .await;
    let Ok((compartments, parcels)) = read else {
        tracing::error!("reading the compartments for maintenance failed");
        return Vec::new();
    };
    let views = super::dropoff::compartment_views(service)
        .await
        .unwrap_or_default();
    compartments
        .into_iter()
        .map(|c| {
            let view = views.iter().find(|v| v.number == c.number);
            let parcel = parcels
                .iter()
                .find(|p| p.compartment == Some(c.number))
                .map(|p| (p.id, p.tracking.clone(), p.status));
            let kind = if view.is_some_and(|v| !v.board_online) {
                StatusKind::Offline
            } else {
                match &c.state {
                    CompartmentState::Faulty { .. } => StatusKind::Faulty,
                    CompartmentState::OutOfService { .. } => StatusKind::OutOfService,
                    _ if view.is_some_and(|v| v.door == DoorState::Open) => StatusKind::Open,
                    _ if parcel
                        .as_ref()
                        .is_some_and(|p| p.2 == ParcelStatus::Expired) =>
                    {
                        StatusKind::Expired
                    }
                    _ if parcel.is_some() => StatusKind::Occupied,
                    _ => StatusKind::Free,
                }
            };
            DoorStatus {
                number: c.number,
                size: c.size,
                kind,
                reason: c.state.reason().unwrap_or_default().to_string(),
                parcel,
            }
        })
        .collect()
}

/// Opens one door for `reason`; the outcome is recorded with it.
pub async fn open(
    service: &Service,
    compartment: CompartmentNumber,
    reason: String,
) -> OpenOutcome {
    let outcome = match service.doors().open(compartment) {
        Ok(answer) => answer.await.unwrap_or(OpenOutcome::NoReply),
        Err(e) => {
            tracing::error!(error = %e, "cannot open compartment {compartment}");
            OpenOutcome::NoReply
        }
    };
    let event = NewEvent::new("maintenance_open", ACTOR)
        .compartment(compartment)
        .detail(json!({ "reason": reason, "outcome": outcome.name() }));
    let now = system::now();
    if let Err(e) = service
        .call(move |store| store.record_event(now, &event))
        .await
    {
        tracing::error!(error = %e, "recording a maintenance open failed");
    }
    outcome
}

/// Takes a compartment out of service (with the reason) or puts it back.
pub async fn set_in_service(
    service: &Service,
    compartment: CompartmentNumber,
    in_service: bool,
    reason: String,
) -> Result<(), super::service::ServiceError> {
    let now = system::now();
    service
        .call(move |store| {
            let state = if in_service {
                let holds_parcel = store
                    .parcels_in_locker()?
                    .iter()
                    .any(|p| p.compartment == Some(compartment));
                if holds_parcel {
                    CompartmentState::Occupied
                } else {
                    CompartmentState::Free
                }
            } else {
                CompartmentState::OutOfService { reason }
            };
            store.set_compartment_state(compartment, &state, ACTOR, now)
        })
        .await
}

/// Entering and leaving are in the audit log too.
pub async fn record(service: &Service, kind: &'static str) {
    let now = system::now();
    let event = NewEvent::new(kind, ACTOR);
    if let Err(e) = service
        .call(move |store| store.record_event(now, &event))
        .await
    {
        tracing::error!(error = %e, "recording {kind} failed");
    }
}
