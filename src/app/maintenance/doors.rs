//! The doors in maintenance: every compartment's state, opening one door
//! or all of them with a reason, out of service and back, and one
//! compartment's history.

use super::{record_event, write_event};
use crate::app::service::ServiceError;
use crate::app::{Service, system};
use crate::domain::maintenance::{OpenAllReason, OpenAllSummary, PinHolder, TileKind, tile_kind};
use crate::domain::pickup::OpenOutcome;
use crate::domain::{CompartmentNumber, CompartmentState, ParcelStatus, SizeClass};
use tokio::sync::broadcast;

use super::LogEntry;
use crate::hardware::doors::DoorEvent;
use crate::store::{Event, LogFilter, NewEvent};

/// What staff see of one compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorStatus {
    pub number: CompartmentNumber,
    pub size: SizeClass,
    pub kind: TileKind,
    /// Why it is faulty or out of service.
    pub reason: String,
    /// The parcel in it: (id, tracking, status).
    pub parcel: Option<(i64, String, ParcelStatus)>,
}

/// Every compartment's status right now.
pub async fn statuses(service: &Service) -> Result<Vec<DoorStatus>, ServiceError> {
    let parcels = service.parcels(|parcels| parcels.in_locker()).await?;
    let views = crate::app::kiosk::compartment_views(service, service.doors()).await?;
    Ok(views
        .into_iter()
        .map(|view| {
            let parcel = parcels
                .iter()
                .find(|p| p.compartment == Some(view.number))
                .map(|p| (p.id, p.tracking.clone(), p.status));
            DoorStatus {
                number: view.number,
                size: view.size,
                kind: tile_kind(&view, parcel.as_ref().map(|p| p.2)),
                reason: view.state.reason().unwrap_or_default().to_string(),
                parcel,
            }
        })
        .collect())
}

/// The newest events about one compartment.
pub async fn history(
    service: &Service,
    compartment: CompartmentNumber,
    limit: u32,
) -> Result<Vec<LogEntry>, ServiceError> {
    let events = service
        .events(move |events| events.log_page(LogFilter::Compartment(compartment), None, limit))
        .await?;
    Ok(super::views::entries(&events))
}

/// Why staff open a door: written down as its intent before the lock is
/// pulsed, so that a restart can settle what the open was for.
pub struct StaffOpen {
    /// `maintenance`, `move`, `remove` or `load`.
    purpose: &'static str,
    /// What staff chose, said in the log with the outcome.
    said: String,
    parcel: Option<i64>,
    /// For a move: where the parcel goes.
    to: Option<CompartmentNumber>,
    /// For a removal: its reason's name, for a restart to record it with.
    removal: Option<&'static str>,
}

impl StaffOpen {
    /// An open for its own sake (checking a door, cleaning), for `said`.
    pub fn plain(said: String) -> StaffOpen {
        StaffOpen {
            purpose: "maintenance",
            said,
            parcel: None,
            to: None,
            removal: None,
        }
    }

    /// One of the two doors of moving `parcel` to `to`.
    pub fn moving(parcel: i64, to: CompartmentNumber, said: String) -> StaffOpen {
        StaffOpen {
            purpose: "move",
            said,
            parcel: Some(parcel),
            to: Some(to),
            removal: None,
        }
    }

    /// The door of an imported item `parcel`, which staff load.
    pub fn loading(parcel: i64, said: String) -> StaffOpen {
        StaffOpen {
            purpose: "load",
            said,
            parcel: Some(parcel),
            to: None,
            removal: None,
        }
    }

    /// The door of `parcel`, which staff take out for `reason`.
    pub fn removing(parcel: i64, reason: &'static str, said: String) -> StaffOpen {
        StaffOpen {
            purpose: "remove",
            said,
            parcel: Some(parcel),
            to: None,
            removal: Some(reason),
        }
    }
}

/// Opens one door for `reason`; the outcome is recorded with it.
pub async fn open(
    service: &Service,
    by: &PinHolder,
    compartment: CompartmentNumber,
    reason: String,
) -> OpenOutcome {
    open_for(service, by, compartment, StaffOpen::plain(reason)).await
}

/// Opens one door as `why` says: its intent first (no intent written, no
/// open: [`OpenOutcome::NotSent`]), then the outcome.
pub async fn open_for(
    service: &Service,
    by: &PinHolder,
    compartment: CompartmentNumber,
    why: StaffOpen,
) -> OpenOutcome {
    open_as(service, by.actor(), compartment, why).await
}

/// [`open_for`] by any actor (`fleet:<command>` for a remote open).
pub async fn open_as(
    service: &Service,
    actor: String,
    compartment: CompartmentNumber,
    why: StaffOpen,
) -> OpenOutcome {
    let intent = Event::DoorOpenIntent {
        purpose: why.purpose.into(),
        tracking: None,
        recipient: None,
        announced: None,
        to: why.to,
        reason: Some(why.removal.map_or_else(|| why.said.clone(), str::to_string)),
    };
    let mut event = NewEvent::new(intent, &actor).compartment(compartment);
    if let Some(parcel) = why.parcel {
        event = event.parcel(parcel);
    }
    if !write_event(service, event).await {
        tracing::error!(compartment, "not opening: the intent could not be recorded");
        return OpenOutcome::NotSent;
    }
    let outcome = service.open_door(compartment).await;
    let opened = Event::MaintenanceOpen {
        reason: why.said,
        outcome: outcome.name().into(),
    };
    let mut event = NewEvent::new(opened, &actor).compartment(compartment);
    if let Some(parcel) = why.parcel {
        event = event.parcel(parcel);
    }
    record_event(service, event).await;
    outcome
}

/// Opens every door of the locker, board by board (each board's own
/// "open all" where it has one), and waits for every door's outcome. The
/// reason is recorded before any lock is pulsed, the outcome after.
pub async fn open_all(
    service: &Service,
    by: &PinHolder,
    reason: OpenAllReason,
) -> Vec<(CompartmentNumber, OpenOutcome)> {
    let actor = by.actor();
    let asked = Event::MaintenanceOpenAll {
        reason: reason.name().into(),
    };
    let event = NewEvent::new(asked, &actor);
    let config = service.config();
    if !write_event(service, event).await {
        tracing::error!("not opening the doors: the intent could not be recorded");
        let mut outcomes: Vec<_> = config
            .compartments
            .iter()
            .map(|c| (c.number, OpenOutcome::NotSent))
            .collect();
        outcomes.sort_by_key(|(compartment, _)| *compartment);
        return outcomes;
    }
    let mut waiting = Vec::new();
    for board in &config.boards {
        let wired = config.compartments.iter().filter(|c| c.board == board.id);
        match service.doors().open_all(&board.id) {
            Ok(answers) => {
                let mut answers: Vec<_> = answers.into_iter().map(Some).collect();
                for compartment in wired {
                    let answer = answers
                        .iter_mut()
                        .find(|a| a.as_ref().is_some_and(|(ch, _)| *ch == compartment.channel))
                        .and_then(Option::take);
                    waiting.push((compartment.number, answer.map(|(_, rx)| rx)));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, board = %board.id, "cannot open the board's doors");
                waiting.extend(wired.map(|c| (c.number, None)));
            }
        }
    }
    let mut outcomes = Vec::with_capacity(waiting.len());
    for (compartment, answer) in waiting {
        let outcome = match answer {
            Some(answer) => answer.await.unwrap_or(OpenOutcome::NoReply),
            None => OpenOutcome::NoReply,
        };
        outcomes.push((compartment, outcome));
    }
    outcomes.sort_by_key(|(compartment, _)| *compartment);
    let summary = OpenAllSummary::of(&outcomes);
    let result = Event::MaintenanceOpenAllResult {
        reason: reason.name().into(),
        opened: summary.opened,
        already_open: summary.already_open,
        jammed: summary.jammed,
        no_reply: summary.no_reply,
    };
    let event = NewEvent::new(result, &actor);
    record_event(service, event).await;
    outcomes
}

/// Takes a compartment out of service (with the reason) or puts it back:
/// occupied again when a parcel is in it, else free.
pub async fn set_in_service(
    service: &Service,
    by: &PinHolder,
    compartment: CompartmentNumber,
    in_service: bool,
    reason: String,
) -> Result<(), ServiceError> {
    let actor = by.actor();
    let now = system::now();
    let settings = crate::app::kiosk::records::Settings::from(service.config());
    service
        .call(move |store| {
            if in_service {
                store
                    .compartments()
                    .put_back_in_service(compartment, &actor, now)?;
                // The time it was out is given back to the parcels in it.
                crate::app::outages::back_in_service(store, compartment, &settings, now).map(|_| ())
            } else {
                let state = CompartmentState::OutOfService { reason };
                store
                    .compartments()
                    .set_state(compartment, &state, &actor, now)
            }
        })
        .await
}

/// What changed at the doors, for the staff screens that show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorChange {
    /// A door opened or closed.
    Door,
    /// A board went offline or came back (or events were missed).
    Boards,
}

/// The door system's events, as the staff screens need them.
pub struct DoorWatch {
    events: broadcast::Receiver<DoorEvent>,
}

impl DoorWatch {
    pub fn new(service: &Service) -> DoorWatch {
        DoorWatch {
            events: service.doors().subscribe(),
        }
    }

    /// The next change; `None` once the door system has stopped.
    pub async fn next(&mut self) -> Option<DoorChange> {
        loop {
            match self.events.recv().await {
                Ok(DoorEvent::DoorChanged { .. }) => return Some(DoorChange::Door),
                Ok(DoorEvent::BoardOffline { .. } | DoorEvent::BoardOnline { .. })
                | Err(broadcast::error::RecvError::Lagged(_)) => return Some(DoorChange::Boards),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
