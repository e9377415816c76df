//! The messages a locker publishes, made from its records.

use std::collections::BTreeMap;

use crate::app::Service;
use crate::app::service::ServiceError;
use crate::domain::codes::pickup_qr_payload;
use crate::domain::{CompartmentState, Timestamp, rfc3339};
use crate::fleet::wire::{
    ChainHead, Delivery, EVENT_SCHEMA, EventMessage, STATE_SCHEMA, SizeCounts, StateMessage,
};
use crate::store::{DueMessage, EventRecord};

/// One outbox event as published; a recipient message the fleet is to
/// deliver carries its recipient and code.
pub fn event_message(
    locker: &str,
    event: &EventRecord,
    chain: &str,
    delivery: Option<&DueMessage>,
) -> EventMessage {
    EventMessage {
        schema: EVENT_SCHEMA.into(),
        locker: locker.into(),
        id: event.id,
        at: rfc3339(event.at.0),
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        compartment: event.compartment,
        parcel: event.parcel,
        detail: event.detail.clone(),
        chain: chain.into(),
        delivery: delivery.map(|m| Delivery {
            name: m.recipient.name.clone(),
            email: m.recipient.email.clone(),
            phone: m.recipient.phone.clone(),
            language: m.recipient.language.clone(),
            pin: m.code.as_ref().map(|c| c.pin.clone()),
            qr: m
                .code
                .as_ref()
                .map(|c| pickup_qr_payload(locker, &c.qr_token)),
            deadline: m.expires_at.map(|at| rfc3339(at.0)),
        }),
    }
}

/// The locker at a glance, from its records and its boards.
pub async fn state_message(
    service: &Service,
    now: Timestamp,
) -> Result<StateMessage, ServiceError> {
    let overview = service.overview().await?;
    let (compartments, outbox, chain_head) = service
        .call(|store| {
            Ok((
                store.compartments().all()?,
                store.events().outbox_state()?,
                store.events().chain_head()?,
            ))
        })
        .await?;
    let mut by_size: BTreeMap<String, SizeCounts> = BTreeMap::new();
    for compartment in &compartments {
        let counts = by_size.entry(compartment.size.label()).or_default();
        match compartment.state {
            CompartmentState::Free => counts.free += 1,
            CompartmentState::Occupied | CompartmentState::Reserved => counts.occupied += 1,
            CompartmentState::Faulty { .. } => counts.faulty += 1,
            CompartmentState::OutOfService { .. } => counts.out_of_service += 1,
        }
    }
    let mut alarms: Vec<String> = overview
        .boards_offline
        .iter()
        .map(|board| format!("board {board} offline"))
        .collect();
    if overview.faulty > 0 {
        alarms.push(format!("{} faulty compartments", overview.faulty));
    }
    if overview.is_full() {
        alarms.push("locker full".into());
    }
    if let Some(closure) = &overview.closed {
        alarms.push(format!("locker out of service: {}", closure.reason));
    }
    if service.disk_low() {
        alarms.push("data disk nearly full".into());
    }
    let config = service.config();
    Ok(StateMessage {
        schema: STATE_SCHEMA.into(),
        locker: config.locker.id.clone(),
        name: config.locker.name.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        at: rfc3339(now.0),
        compartments: by_size,
        parcels_waiting: overview.parcels_waiting as u64,
        alarms,
        outbox_pending: outbox.pending,
        last_contact: outbox.last_sent.map(|at| rfc3339(at.0)),
        chain_head: chain_head.map(|(id, hash)| ChainHead { id, hash }),
    })
}
