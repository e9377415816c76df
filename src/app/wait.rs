//! Small async waits shared by the flows' tasks.

use std::time::Instant;

use tokio::sync::broadcast;

use crate::domain::CompartmentNumber;
use crate::hardware::doors::DoorEvent;
use crate::hardware::protocol::Door;
use crate::scanning::ScanEvent;

/// The next scan; pends forever without a camera or scanner. `None` once
/// the scanner has stopped.
pub async fn next_scan(scans: &mut Option<broadcast::Receiver<ScanEvent>>) -> Option<ScanEvent> {
    let Some(receiver) = scans else {
        return std::future::pending().await;
    };
    loop {
        match receiver.recv().await {
            Ok(event) => return Some(event),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Sleeps until `wake`; pends forever when nothing is due.
pub async fn sleep_until(wake: Option<Instant>) {
    if let Some(wake) = wake {
        tokio::time::sleep_until(wake.into()).await;
    }
}

/// The next compartment door seen closing (first readings at start-up are
/// not movements); `None` once the door system has stopped.
pub async fn next_door_closed(
    doors: &mut broadcast::Receiver<DoorEvent>,
) -> Option<CompartmentNumber> {
    loop {
        match doors.recv().await {
            Ok(DoorEvent::DoorChanged {
                place,
                door: Door::Closed,
                initial: false,
            }) => {
                if let Some(compartment) = place.compartment {
                    return Some(compartment);
                }
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}
