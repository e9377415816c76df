//! Writes what the doors do into the event log: every open's outcome, door
//! movements, alarms, and boards going offline and coming back.

use tokio::sync::broadcast;

use super::{Service, system};
use crate::hardware::doors::{DoorEvent, DoorPlace};
use crate::hardware::protocol::Door;
use crate::store::{Event, NewEvent};

/// The event-log record for a door event; `None` for first readings at
/// start-up, which are not movements.
pub fn record_for(event: &DoorEvent) -> Option<NewEvent> {
    let at_door = |event: Event, place: &DoorPlace| {
        let mut record = NewEvent::new(event, "kiosk");
        record.compartment = place.compartment;
        record
    };
    Some(match event {
        DoorEvent::DoorChanged { initial: true, .. } => return None,
        DoorEvent::DoorChanged { place, door, .. } => {
            let (board, channel) = (place.board.clone(), place.channel);
            let event = match door {
                Door::Open => Event::DoorOpened { board, channel },
                Door::Closed => Event::DoorClosed { board, channel },
            };
            at_door(event, place)
        }
        DoorEvent::OpenOutcome { place, outcome } => at_door(
            Event::DoorOpenOutcome {
                board: place.board.clone(),
                channel: place.channel,
                outcome: outcome.name().into(),
            },
            place,
        ),
        DoorEvent::UncommandedOpen { place } => at_door(
            Event::UncommandedOpen {
                board: place.board.clone(),
                channel: place.channel,
            },
            place,
        ),
        DoorEvent::LeftOpen { place, open_for } => at_door(
            Event::LeftOpen {
                board: place.board.clone(),
                channel: place.channel,
                open_secs: open_for.as_secs(),
            },
            place,
        ),
        DoorEvent::BoardOffline { board } => NewEvent::new(
            Event::BoardOffline {
                board: board.clone(),
            },
            "kiosk",
        ),
        DoorEvent::BoardOnline { board } => NewEvent::new(
            Event::BoardOnline {
                board: board.clone(),
            },
            "kiosk",
        ),
    })
}

pub async fn record_door_events(service: Service, mut events: broadcast::Receiver<DoorEvent>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::error!(
                    missed,
                    "door events were lost before they could be recorded"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        let Some(record) = record_for(&event) else {
            continue;
        };
        let now = system::now();
        if let Err(e) = service
            .events(move |events| events.record(now, &record))
            .await
        {
            tracing::error!(error = %e, "recording a door event failed");
        }
        if let DoorEvent::BoardOnline { board } = event {
            give_back_board_time(&service, board, now).await;
        }
    }
}

/// A board is back: the time it was offline is given back to the parcels
/// behind its doors (`outages.rs`).
async fn give_back_board_time(service: &Service, board: String, now: crate::domain::Timestamp) {
    let settings = super::kiosk::records::Settings::from(service.config());
    let compartments: Vec<_> = service
        .config()
        .compartments
        .iter()
        .filter(|c| c.board == board)
        .map(|c| c.number)
        .collect();
    let given = service
        .call(move |store| super::outages::board_back(store, &board, &compartments, &settings, now))
        .await;
    match given {
        Ok(credited) if !credited.is_empty() => service.records_changed_elsewhere(),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "giving back a board's offline time failed"),
    }
}
