//! Maintenance mode for site staff, behind the admin PIN. One module per
//! part of it: the doors, the parcels, the reports, the hardware and sync
//! state, the audit log, and the settings. Every action is in the audit
//! log as [`ACTOR`] with its reason; the rules live in
//! `domain::maintenance`, the records in the store.

pub mod doors;
pub mod log;
pub mod parcels;
pub mod reports;
pub mod settings;
pub mod status;

use super::{Service, admin, system};
use crate::store::NewEvent;

/// Who staff actions are recorded as: everyone who knows the admin PIN.
pub const ACTOR: &str = "staff:maintenance";

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

/// Entering and leaving are in the audit log too.
pub async fn record(service: &Service, kind: &'static str) {
    record_event(service, NewEvent::new(kind, ACTOR)).await;
}

/// Records `event` now; a failure is logged (the action itself happened).
async fn record_event(service: &Service, event: NewEvent) {
    let now = system::now();
    let kind = event.kind;
    if let Err(e) = service
        .call(move |store| store.record_event(now, &event))
        .await
    {
        tracing::error!(error = %e, "recording {kind} failed");
    }
}
