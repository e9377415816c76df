//! The store writes of a courier's visit, as plain functions on a
//! [`Store`]: the executor runs them on the store's thread, in order.

use std::collections::{BTreeSet, HashMap};

use super::Summary;
use crate::app::system::OsEntropy;
use crate::config::Config;
use crate::domain::Timestamp;
use crate::domain::dropoff::{DropoffEffect, Session};
use crate::domain::pickup::ProblemKind;
use crate::domain::receipt::{self, Receipt, ReceiptLine};
use crate::store::event::NotifiedParcel;
use crate::store::{Courier, Event, NewDeposit, NewEvent, Result, Store, StoreError};

/// The policies a deposit needs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub storage_hours: u32,
    pub pin_length: u32,
    /// The shortest outage given back to parcels (`app::outages`).
    pub outage_credit_min_ms: i64,
}

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Settings {
            storage_hours: config.policies.storage_hours,
            pin_length: config.policies.pin_length,
            outage_credit_min_ms: i64::from(config.policies.outage_credit_min_minutes) * 60_000,
        }
    }
}

/// Carries out an effect that only writes to the store. Effects that ask
/// for an answer or move a door are the executor's business and are
/// ignored here.
pub fn write(
    store: &mut Store,
    effect: &DropoffEffect,
    courier: i64,
    settings: &Settings,
    now: Timestamp,
) -> Result<()> {
    use DropoffEffect as F;
    let actor = format!("courier:{courier}");
    match effect {
        F::Release(compartment) => store.compartments().release(*compartment, now),
        F::Flag {
            compartment,
            problem,
        } => store
            .compartments()
            .flag(*compartment, *problem, &actor, now),
        F::RecordDeposit {
            deposit,
            courier,
            confirmed,
        } => {
            let size = store
                .compartments()
                .get(deposit.compartment)?
                .ok_or_else(|| StoreError::NoSuchCompartment(deposit.compartment))?
                .size;
            let company = store.couriers().get(*courier)?.map(|c| c.company);
            let new = NewDeposit {
                tracking: &deposit.parcel.tracking,
                carrier: company.as_deref(),
                recipient: deposit.parcel.recipient,
                announced: deposit.parcel.announced,
                compartment: deposit.compartment,
                size,
                courier: Some(*courier),
                confirmed: *confirmed,
                storage_hours: settings.storage_hours,
                pin_length: settings.pin_length,
                preset_code: None,
            };
            store
                .parcels()
                .deposit(&new, &mut OsEntropy, now)
                .map(|_| ())
        }
        F::CancelDeposit { deposit, courier } => store
            .parcels()
            .undo_deposit(&deposit.parcel.tracking, deposit.compartment, *courier, now)
            .map(|_| ()),
        F::RecordRetrieved { parcel, courier } => {
            store.parcels().take_back(parcel.parcel, *courier, now)
        }
        F::RecordDoorFailure { parcel, outcome } => {
            let reason = format!("door did not open for a courier ({})", outcome.name());
            store
                .compartments()
                .door_failed(parcel, &reason, &actor, now)
        }
        F::RecordLockerFull { tracking, courier } => {
            let event = NewEvent::new(
                Event::LockerFull {
                    tracking: tracking.clone(),
                },
                format!("courier:{courier}"),
            );
            store.events().record(now, &event).map(|_| ())
        }
        F::WatchDoors(compartments) => {
            // The door system watches every door; note the hand-over.
            let event = NewEvent::new(
                Event::DropoffLeftDoorsOpen {
                    compartments: compartments.clone(),
                },
                actor,
            );
            store.events().record(now, &event).map(|_| ())
        }
        F::RecordMissing { parcel, courier } => store
            .reports()
            .add(
                ProblemKind::Missing,
                Some(parcel.compartment),
                Some(parcel.parcel),
                &format!("courier:{courier}"),
                now,
            )
            .map(|_| ()),
        F::RecordSensorDisagreement { compartment } => {
            // The door keeps its state: a report, and what each side said.
            let said = Event::SensorDisagreement {
                said: "door_did_not_open".into(),
                sensor: "open".into(),
            };
            store.events().record(
                now,
                &NewEvent::new(said, actor.clone()).compartment(*compartment),
            )?;
            store
                .reports()
                .add(
                    ProblemKind::DoorDidNotOpen,
                    Some(*compartment),
                    None,
                    &actor,
                    now,
                )
                .map(|_| ())
        }
        F::CheckLogin(_)
        | F::LookUpParcel(_)
        | F::FindCompartment { .. }
        | F::OpenForDeposit { .. }
        | F::ListRetrievable(_)
        | F::OpenForUndo(_)
        | F::OpenForTakeBack(_)
        | F::EndSession(_) => Ok(()),
    }
}

/// The end of a visit: one message per recipient queued in the outbox
/// (their parcels share one code), the visit recorded, and the signed
/// proof of delivery made.
pub fn end_session(
    store: &mut Store,
    locker: &str,
    courier: Option<&Courier>,
    session: &Session,
    names: &HashMap<i64, String>,
    now: Timestamp,
) -> Result<Summary> {
    let actor = format!("courier:{}", session.courier);
    let recipients: BTreeSet<i64> = session
        .deposits
        .iter()
        .map(|d| d.parcel.recipient)
        .collect();
    for recipient in &recipients {
        let Some((code, _)) = store.parcels().live_code_for(*recipient)? else {
            continue; // Undone, or already collected.
        };
        let parcels = session
            .deposits
            .iter()
            .filter(|d| d.parcel.recipient == *recipient)
            .map(|d| NotifiedParcel {
                tracking: d.parcel.tracking.clone(),
                compartment: Some(d.compartment),
                item: None,
            })
            .collect();
        let message = Event::RecipientNotification {
            recipient: *recipient,
            name: names.get(recipient).cloned(),
            reason: None,
            expires_at: None,
            code: Some(code),
            parcels,
        };
        let event = NewEvent::new(message, actor.clone());
        store.events().record(now, &event)?;
    }
    let mut retrieved = Vec::new();
    for parcel in &session.retrieved {
        let tracking = store
            .parcels()
            .get(parcel.parcel)?
            .map_or_else(String::new, |p| p.tracking);
        retrieved.push(ReceiptLine {
            tracking,
            door: parcel.compartment,
            at: now.0 / 1000,
        });
    }
    let proof = Receipt {
        locker: locker.into(),
        courier: courier.map_or_else(String::new, |c| c.name.clone()),
        company: courier.map_or_else(String::new, |c| c.company.clone()),
        issued_at: now.0 / 1000,
        deposited: session
            .deposits
            .iter()
            .map(|d| ReceiptLine {
                tracking: d.parcel.tracking.clone(),
                door: d.compartment,
                at: d.at.0 / 1000,
            })
            .collect(),
        retrieved,
    };
    let key = store.couriers().receipt_key(&mut OsEntropy)?;
    let text = receipt::sign(&proof, &key);
    let ended = Event::CourierVisitEnded {
        deposited: proof.deposited.len(),
        retrieved: proof.retrieved.len(),
        recipients: recipients.len(),
        receipt: text.clone(),
    };
    let event = NewEvent::new(ended, actor);
    store.events().record(now, &event)?;
    Ok(Summary {
        parcels: session.deposits.len(),
        doors: session.deposits.iter().map(|d| d.compartment).collect(),
        recipients: recipients.len(),
        retrieved: session.retrieved.len(),
        receipt: text,
    })
}
