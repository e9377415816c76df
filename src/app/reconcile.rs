//! At start-up, before anyone touches the screen: every door action the
//! records show begun but not finished (the kiosk was killed, the power
//! cut) is settled from what the doors were seen doing, and said in the
//! log (`reconciled`). No flow survives a restart, so every compartment
//! still held for a deposit is such an action, and so is the last intent
//! at a compartment holding a parcel when that intent's door was seen
//! open and its record never followed.
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
//! - A take-back whose door was seen open and then closed: the courier has
//!   the parcel (retrieved, or returned); open and not closed: flagged.
//! - A courier's undo whose door was seen open: flagged (the parcel may or
//!   may not have come out).
//! - A staff removal whose door was seen open: removed, with its reason.
//! - A staff move with a door seen open: both compartments flagged, for
//!   staff to say which holds the parcel.
//!
//! Each decision is recorded as `reconciled` at its compartment, which
//! also marks the action settled for later starts.

use crate::app::kiosk::records::Settings;
use crate::app::system::OsEntropy;
use crate::domain::maintenance::RemovalReason;
use crate::domain::{CompartmentNumber, CompartmentState, ParcelStatus, Timestamp};
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
    TakenBack { tracking: String },
    Removed { tracking: String },
}

impl Decision {
    fn name(&self) -> &'static str {
        match self {
            Decision::Released => "released",
            Decision::Deposited { .. } => "deposited",
            Decision::Flagged { .. } => "flagged",
            Decision::Collected { .. } => "collected",
            Decision::TakenBack { .. } => "taken_back",
            Decision::Removed { .. } => "removed",
        }
    }
}

/// The door movements recorded after an intent.
struct Seen {
    opened: bool,
    closed_after_open: bool,
    /// The action was recorded as done (or settled at an earlier start).
    finished: bool,
}

fn seen(after: &[EventRecord]) -> Seen {
    let mut seen = Seen {
        opened: false,
        closed_after_open: false,
        finished: false,
    };
    for event in after {
        match event.kind.as_str() {
            "door_opened" => seen.opened = true,
            "door_open_outcome" | "maintenance_open"
                if matches!(
                    event.detail["outcome"].as_str(),
                    Some("opened" | "already_open")
                ) =>
            {
                seen.opened = true
            }
            "door_closed" if seen.opened => seen.closed_after_open = true,
            "parcel_collected" | "parcel_deposited" | "deposit_undone" | "parcel_retrieved"
            | "parcel_returned" | "parcel_removed" | "parcel_moved" | "reconciled"
            // The courier said the door did not open though its sensor
            // saw it open: the flow settled it (the parcel stays).
            | "sensor_disagreement" => seen.finished = true,
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
        // Held for an imported item: it stays held until staff load it.
        if let Some(item) = store.parcels().item_to_load_at(number)? {
            if let Some(decision) = settle_load(store, &item, settings, now)? {
                settled.push(Settled {
                    compartment: number,
                    decision,
                });
            }
            continue;
        }
        if let Some(decision) = settle_return(store, number, now)? {
            settled.push(Settled {
                compartment: number,
                decision,
            });
            continue;
        }
        let decision = settle_deposit(store, number, settings, now)?;
        settled.push(Settled {
            compartment: number,
            decision,
        });
    }
    // Parcels in the locker by compartment (`in_locker` is ordered by it).
    let mut held: Vec<(CompartmentNumber, Vec<Held>)> = Vec::new();
    for parcel in store.parcels().in_locker()? {
        let Some(number) = parcel.compartment else {
            continue;
        };
        let this = Held {
            id: parcel.id,
            tracking: parcel.tracking,
            waiting: parcel.status == ParcelStatus::Deposited,
        };
        match held.last_mut() {
            Some((last, parcels)) if *last == number => parcels.push(this),
            _ => held.push((number, vec![this])),
        }
    }
    for (number, parcels) in held {
        settled.extend(settle_held(store, number, &parcels, now)?);
    }
    for done in &settled {
        let tracking = match &done.decision {
            Decision::Deposited { tracking }
            | Decision::Flagged { tracking }
            | Decision::TakenBack { tracking }
            | Decision::Removed { tracking } => Some(tracking.clone()),
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

/// A compartment held for a person's return when the kiosk stopped: its
/// door seen opened and then closed means the parcel is in, as a return
/// that ran to its end records (unconfirmed); opened and left open is
/// flagged for staff; never opened is released. `None`: not a return's.
fn settle_return(
    store: &mut Store,
    number: CompartmentNumber,
    now: Timestamp,
) -> Result<Option<Decision>> {
    let Some(intent) = store.events().last_intent(number)? else {
        return Ok(None);
    };
    let (true, Some(parcel)) = (
        intent.detail["purpose"].as_str() == Some("return"),
        intent.parcel,
    ) else {
        return Ok(None);
    };
    let after = seen(&store.events().at_compartment_after(number, intent.id)?);
    let tracking = store
        .parcels()
        .get(parcel)?
        .map_or_else(String::new, |p| p.tracking);
    if after.opened && after.closed_after_open {
        store.parcels().accept_return(parcel, number, false, now)?;
        return Ok(Some(Decision::Deposited { tracking }));
    }
    if after.opened {
        let reason = format!(
            "a return of {tracking} was interrupted (the kiosk stopped while its door was open): check whether the parcel is inside"
        );
        flag(store, number, reason, now)?;
        return Ok(Some(Decision::Flagged { tracking }));
    }
    store.compartments().release(number, now)?;
    Ok(Some(Decision::Released))
}

/// An item staff were loading when the kiosk stopped: its door seen
/// opened and then closed means loaded, as a load that ran to its end
/// records (the person is sent their code); anything less leaves it
/// waiting to be loaded.
fn settle_load(
    store: &mut Store,
    item: &crate::store::ItemToLoad,
    settings: &Settings,
    now: Timestamp,
) -> Result<Option<Decision>> {
    let number = item.compartment;
    let Some(intent) = store.events().last_intent(number)? else {
        return Ok(None);
    };
    let loading =
        intent.detail["purpose"].as_str() == Some("load") && intent.parcel == Some(item.parcel);
    let after = seen(&store.events().at_compartment_after(number, intent.id)?);
    if !loading || after.finished || !after.closed_after_open {
        return Ok(None);
    }
    let loaded = store.parcels().load_item(
        item.parcel,
        settings.storage_hours,
        settings.pin_length,
        &mut OsEntropy,
        &intent.actor,
        now,
    )?;
    let tracking = store
        .parcels()
        .get(loaded.item.parcel)?
        .map_or_else(|| item.item.clone(), |p| p.tracking);
    Ok(Some(Decision::Deposited { tracking }))
}

/// A parcel in a compartment.
struct Held {
    id: i64,
    tracking: String,
    /// Deposited (a pickup code opens it), not expired.
    waiting: bool,
}

/// Flags `number` faulty for staff, saying why.
fn flag(
    store: &mut Store,
    number: CompartmentNumber,
    reason: String,
    now: Timestamp,
) -> Result<()> {
    store
        .compartments()
        .set_state(number, &CompartmentState::Faulty { reason }, ACTOR, now)
}

/// The last door action at a compartment that holds `parcels`, settled if
/// the kiosk stopped in it.
fn settle_held(
    store: &mut Store,
    number: CompartmentNumber,
    parcels: &[Held],
    now: Timestamp,
) -> Result<Vec<Settled>> {
    let Some(intent) = store.events().last_intent(number)? else {
        return Ok(Vec::new());
    };
    let after = seen(&store.events().at_compartment_after(number, intent.id)?);
    let purpose = intent.detail["purpose"].as_str().unwrap_or_default();
    // The parcel the intent names, if it is still here.
    let named = parcels.iter().find(|p| Some(p.id) == intent.parcel);
    let here = |decision| {
        vec![Settled {
            compartment: number,
            decision,
        }]
    };
    if after.finished {
        return Ok(Vec::new());
    }
    match purpose {
        "pickup" if after.opened => {
            let waiting: Vec<i64> = parcels.iter().filter(|p| p.waiting).map(|p| p.id).collect();
            if waiting.is_empty() {
                return Ok(Vec::new());
            }
            for parcel in &waiting {
                store.parcels().collect(*parcel, now)?;
            }
            Ok(here(Decision::Collected { parcels: waiting }))
        }
        "take_back" if after.opened => {
            let Some(parcel) = named else {
                return Ok(Vec::new());
            };
            let tracking = parcel.tracking.clone();
            let courier = intent
                .actor
                .strip_prefix("courier:")
                .and_then(|id| id.parse::<i64>().ok());
            match courier {
                // Opened, then shut: the courier took it, as a take-back
                // that ran to its end records.
                Some(courier) if after.closed_after_open => {
                    store.parcels().take_back(parcel.id, courier, now)?;
                    Ok(here(Decision::TakenBack { tracking }))
                }
                _ => {
                    let reason = format!(
                        "a take-back of {tracking} was interrupted (the kiosk stopped while its door was open): check whether the parcel is still inside"
                    );
                    flag(store, number, reason, now)?;
                    Ok(here(Decision::Flagged { tracking }))
                }
            }
        }
        "undo" if after.opened => {
            let tracking = parcels
                .first()
                .map(|p| p.tracking.clone())
                .unwrap_or_default();
            let reason = format!(
                "a courier's undo of {tracking} was interrupted after its door opened: check whether the parcel is still inside"
            );
            flag(store, number, reason, now)?;
            Ok(here(Decision::Flagged { tracking }))
        }
        "remove" if after.opened => {
            let Some(parcel) = named else {
                return Ok(Vec::new());
            };
            let reason = intent.detail["reason"]
                .as_str()
                .and_then(RemovalReason::from_name)
                .unwrap_or(RemovalReason::Other);
            // Staff had the door open to take it out: as a removal that
            // ran to its end records.
            store
                .parcels()
                .remove(parcel.id, reason, true, &intent.actor, now)?;
            Ok(here(Decision::Removed {
                tracking: parcel.tracking.clone(),
            }))
        }
        "move" => {
            let (Some(parcel), Some(to)) = (named, intent.detail["to"].as_u64()) else {
                return Ok(Vec::new());
            };
            let to = to as CompartmentNumber;
            let target = seen(&store.events().at_compartment_after(to, intent.id)?);
            if target.finished || !(after.opened || target.opened) {
                return Ok(Vec::new());
            }
            // Staff may or may not have carried it over: both doors are
            // held for them to look.
            let tracking = parcel.tracking.clone();
            let reason = format!(
                "a move of {tracking} from {number} to {to} was interrupted: check which of the two compartments holds it"
            );
            flag(store, number, reason.clone(), now)?;
            flag(store, to, reason, now)?;
            let mut both = here(Decision::Flagged {
                tracking: tracking.clone(),
            });
            both.push(Settled {
                compartment: to,
                decision: Decision::Flagged { tracking },
            });
            Ok(both)
        }
        _ => Ok(Vec::new()),
    }
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
            ..
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
                item: None,
            }],
        };
        store.events().record(now, &NewEvent::new(message, ACTOR))?;
    }
    Ok(Decision::Deposited { tracking })
}
