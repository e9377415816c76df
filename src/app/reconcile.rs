//! At start-up, before anyone touches the screen: every door action the
//! records show begun but not finished (the kiosk was killed, the power
//! cut) is settled from what the doors were seen doing, and said in the
//! log (`reconciled`). No flow survives a restart, so every compartment
//! still held for a deposit is such an action, and so is a pickup whose
//! door was seen open but whose parcels are still waiting.
//!
//! - A deposit whose door was never seen open: nothing went in; the
//!   compartment is free again.
//! - A deposit whose door was seen open and then closed: the courier put
//!   the parcel in and shut it; it is recorded deposited, unconfirmed (for
//!   staff to check), and its recipient is told.
//! - A deposit whose door was seen open and not closed: nobody knows
//!   whether the parcel is inside; the compartment is flagged faulty with
//!   everything known, for staff.
//! - A pickup whose door was seen open: the parcels were handed over; they
//!   are recorded collected and their code is spent, so it never opens the
//!   door again.

use crate::app::kiosk::records::Settings;
use crate::app::system::OsEntropy;
use crate::domain::{CompartmentNumber, CompartmentState, Timestamp};
use crate::store::event::NotifiedParcel;
use crate::store::{Event, EventRecord, NewDeposit, NewEvent, Result, Store};

const ACTOR: &str = "kiosk:start-up";

/// What was settled at one compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub compartment: CompartmentNumber,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Released,
    Deposited { tracking: String },
    Flagged { tracking: String },
    Collected { parcels: Vec<i64> },
}

impl Decision {
    fn name(&self) -> &'static str {
        match self {
            Decision::Released => "released",
            Decision::Deposited { .. } => "deposited",
            Decision::Flagged { .. } => "flagged",
            Decision::Collected { .. } => "collected",
        }
    }
}

/// The door movements recorded after an intent.
struct Seen {
    opened: bool,
    closed_after_open: bool,
    collected: bool,
}

fn seen(after: &[EventRecord]) -> Seen {
    let mut seen = Seen {
        opened: false,
        closed_after_open: false,
        collected: false,
    };
    for event in after {
        match event.kind.as_str() {
            "door_opened" => seen.opened = true,
            "door_open_outcome"
                if matches!(
                    event.detail["outcome"].as_str(),
                    Some("opened" | "already_open")
                ) =>
            {
                seen.opened = true
            }
            "door_closed" if seen.opened => seen.closed_after_open = true,
            "parcel_collected" | "parcel_deposited" | "deposit_undone" | "parcel_retrieved" => {
                seen.collected = true
            }
            _ => {}
        }
    }
    seen
}

/// Settles every unfinished door action; what it decided, compartment by
/// compartment.
pub fn reconcile(store: &mut Store, settings: &Settings, now: Timestamp) -> Result<Vec<Settled>> {
    let mut settled = Vec::new();
    let compartments = store.compartments().all()?;
    for compartment in compartments
        .iter()
        .filter(|c| c.state == CompartmentState::Reserved)
    {
        let number = compartment.number;
        let decision = settle_deposit(store, number, settings, now)?;
        settled.push(Settled {
            compartment: number,
            decision,
        });
    }
    // Deposited parcels by compartment (`in_locker` is ordered by it).
    let mut waiting: Vec<(CompartmentNumber, Vec<i64>)> = Vec::new();
    for parcel in store.parcels().in_locker()? {
        let Some(number) = parcel.compartment else {
            continue;
        };
        if parcel.status != crate::domain::ParcelStatus::Deposited {
            continue;
        }
        match waiting.last_mut() {
            Some((last, ids)) if *last == number => ids.push(parcel.id),
            _ => waiting.push((number, vec![parcel.id])),
        }
    }
    for (number, parcels) in waiting {
        if let Some(decision) = settle_pickup(store, number, parcels, now)? {
            settled.push(Settled {
                compartment: number,
                decision,
            });
        }
    }
    for done in &settled {
        let tracking = match &done.decision {
            Decision::Deposited { tracking } | Decision::Flagged { tracking } => {
                Some(tracking.clone())
            }
            _ => None,
        };
        let event = Event::Reconciled {
            decision: done.decision.name().into(),
            tracking,
        };
        store.events().record(
            now,
            &NewEvent::new(event, ACTOR).compartment(done.compartment),
        )?;
        tracing::warn!(compartment = done.compartment, decision = ?done.decision, "settled a door action the kiosk stopped in");
    }
    Ok(settled)
}

fn settle_deposit(
    store: &mut Store,
    number: CompartmentNumber,
    settings: &Settings,
    now: Timestamp,
) -> Result<Decision> {
    let intent = store.events().last_intent(number)?;
    let deposit = intent.as_ref().and_then(|i| match i.event() {
        Some(Event::DoorOpenIntent {
            purpose,
            tracking: Some(tracking),
            recipient: Some(recipient),
            announced,
        }) if purpose == "deposit" => Some((tracking, recipient, announced, i.actor.clone())),
        _ => None,
    });
    let Some((tracking, recipient, announced, actor)) = deposit else {
        store.compartments().release(number, now)?;
        return Ok(Decision::Released);
    };
    let intent_id = intent.map_or(0, |i| i.id);
    let after = seen(&store.events().at_compartment_after(number, intent_id)?);
    if !after.opened {
        store.compartments().release(number, now)?;
        return Ok(Decision::Released);
    }
    if !after.closed_after_open {
        let reason = format!(
            "a deposit of {tracking} was interrupted (the kiosk stopped while its door was open): check whether the parcel is inside"
        );
        store
            .compartments()
            .set_state(number, &CompartmentState::Faulty { reason }, ACTOR, now)?;
        return Ok(Decision::Flagged { tracking });
    }
    let courier = actor
        .strip_prefix("courier:")
        .and_then(|id| id.parse::<i64>().ok());
    let company = match courier {
        Some(id) => store.couriers().get(id)?.map(|c| c.company),
        None => None,
    };
    let size = store
        .compartments()
        .get(number)?
        .map_or(crate::domain::SizeClass::M, |c| c.size);
    let deposit = NewDeposit {
        tracking: &tracking,
        carrier: company.as_deref(),
        recipient,
        announced,
        compartment: number,
        size,
        courier,
        // The courier never confirmed: staff see it flagged.
        confirmed: false,
        storage_hours: settings.storage_hours,
        pin_length: settings.pin_length,
        preset_code: None,
    };
    store.parcels().deposit(&deposit, &mut OsEntropy, now)?;
    if let Some((code, _)) = store.parcels().live_code_for(recipient)? {
        let message = Event::RecipientNotification {
            recipient,
            name: None,
            reason: None,
            expires_at: None,
            code: Some(code),
            parcels: vec![NotifiedParcel {
                tracking: tracking.clone(),
                compartment: Some(number),
            }],
        };
        store.events().record(now, &NewEvent::new(message, ACTOR))?;
    }
    Ok(Decision::Deposited { tracking })
}

/// `parcels`: those waiting in compartment `number`.
fn settle_pickup(
    store: &mut Store,
    number: CompartmentNumber,
    parcels: Vec<i64>,
    now: Timestamp,
) -> Result<Option<Decision>> {
    let Some(intent) = store.events().last_intent(number)? else {
        return Ok(None);
    };
    if intent.detail["purpose"] != "pickup" {
        return Ok(None);
    }
    let after = seen(&store.events().at_compartment_after(number, intent.id)?);
    if !after.opened || after.collected {
        return Ok(None);
    }
    for parcel in &parcels {
        store.parcels().collect(*parcel, now)?;
    }
    Ok(Some(Decision::Collected { parcels }))
}
