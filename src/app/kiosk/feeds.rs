//! What the readers and the doors report, turned into the kiosk's inputs:
//! every scan, every compartment door seen closing, every board that goes
//! offline or comes back, and every change staff made from outside.

use tokio::sync::broadcast::error::RecvError;

use super::Input;
use super::executor::Deliver;
use crate::app::Service;
use crate::hardware::doors::DoorEvent;
use crate::hardware::protocol::Door;

/// Starts the feeds on `runtime`, then lets scans through: a code already
/// in front of the camera is not spent before the kiosk listens.
pub fn start(service: &Service, runtime: &tokio::runtime::Handle, deliver: Deliver) {
    if let Some(mut scans) = service.scans() {
        let deliver = deliver.clone();
        runtime.spawn(async move {
            loop {
                match scans.recv().await {
                    Ok(scan) => deliver(Input::Scanned(scan)),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }
    let mut changes = service.watch_records();
    let changed = deliver.clone();
    runtime.spawn(async move {
        while changes.changed().await.is_ok() {
            changed(Input::RecordsChanged);
        }
    });
    let mut doors = service.doors().subscribe();
    runtime.spawn(async move {
        loop {
            match doors.recv().await {
                Ok(event) => {
                    if let Some(input) = input_of(event) {
                        deliver(input);
                    }
                }
                // Missed events may have been a board's: read the state.
                Err(RecvError::Lagged(_)) => deliver(Input::BoardsChanged),
                Err(RecvError::Closed) => break,
            }
        }
    });
    service.take_scans();
}

/// The first readings at start-up are not movements.
fn input_of(event: DoorEvent) -> Option<Input> {
    match event {
        DoorEvent::DoorChanged {
            place,
            door: Door::Closed,
            initial: false,
        } => place.compartment.map(Input::DoorClosed),
        DoorEvent::BoardOffline { .. } | DoorEvent::BoardOnline { .. } => {
            Some(Input::BoardsChanged)
        }
        _ => None,
    }
}
