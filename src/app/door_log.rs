//! Writes what the doors do into the event log: every open's outcome, door
//! movements, alarms, and boards going offline and coming back.

use serde_json::json;
use tokio::sync::broadcast;

use super::{Service, system};
use crate::hardware::doors::{DoorEvent, DoorPlace};
use crate::hardware::protocol::Door;
use crate::store::NewEvent;

/// The event-log record for a door event; `None` for first readings at
/// start-up, which are not movements.
pub fn record_for(event: &DoorEvent) -> Option<NewEvent> {
    let at_door = |kind: &'static str, place: &DoorPlace| {
        let mut record = NewEvent::new(kind, "kiosk").detail(json!({
            "board": place.board,
            "channel": place.channel,
        }));
        record.compartment = place.compartment;
        record
    };
    Some(match event {
        DoorEvent::DoorChanged { initial: true, .. } => return None,
        DoorEvent::DoorChanged { place, door, .. } => at_door(
            match door {
                Door::Open => "door_opened",
                Door::Closed => "door_closed",
            },
            place,
        ),
        DoorEvent::OpenOutcome { place, outcome } => {
            let mut record = at_door("door_open_outcome", place);
            record.detail["outcome"] = json!(outcome.name());
            record
        }
        DoorEvent::UncommandedOpen { place } => at_door("uncommanded_open", place),
        DoorEvent::LeftOpen { place, open_for } => {
            let mut record = at_door("left_open", place);
            record.detail["open_secs"] = json!(open_for.as_secs());
            record
        }
        DoorEvent::BoardOffline { board } => {
            NewEvent::new("board_offline", "kiosk").detail(json!({ "board": board }))
        }
        DoorEvent::BoardOnline { board } => {
            NewEvent::new("board_online", "kiosk").detail(json!({ "board": board }))
        }
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
            .call(move |store| store.record_event(now, &record))
            .await
        {
            tracing::error!(error = %e, "recording a door event failed");
        }
    }
}
