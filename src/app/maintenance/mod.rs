//! Maintenance mode for site staff, behind the admin PIN. One module per
//! part of it: the doors, the parcels, the reports, the hardware and sync
//! state, the audit log, and the settings. Every action is in the audit
//! log with who did it (whose PIN opened maintenance) and why; the rules
//! live in `domain::maintenance`, the records in the store.

pub mod doors;
pub mod loading;
pub mod log;
pub mod parcels;
pub mod reports;
pub mod settings;
pub mod status;
pub mod views;

// The facts staff screens show, as the rules name them.
pub use crate::domain::maintenance::{
    DoorOpenReason, EXTENSION_HOURS, OpenAllReason, OpenAllSummary, PinHolder, RemovalReason,
    ReturnReason, ServiceReason, TileKind,
};
pub use crate::domain::{OpenOutcome, ParcelStatus, SizeClass};
pub use views::{LogEntry, ParcelEntry, ReportEntry, Reporter};

use super::{Service, system};

use crate::store::NewEvent;

/// Records `event` now; a failure is logged (the action itself happened).
async fn record_event(service: &Service, event: NewEvent) {
    write_event(service, event).await;
}

/// Records `event`; whether the records took it (a failure is logged).
async fn write_event(service: &Service, event: NewEvent) -> bool {
    let now = system::now();
    let kind = event.event.kind();
    match service
        .events(move |events| events.record(now, &event))
        .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "recording {kind} failed");
            false
        }
    }
}
