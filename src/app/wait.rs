//! Small async waits shared by the flows' tasks.

use std::time::Instant;

use tokio::sync::broadcast;

use crate::scanning::camera::ScanEvent;

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
