//! A command from the fleet: verified (`crate::fleet::verify`), carried
//! out at most once (its id kept with its outcome), audited, answered.
//! Commands that staff can also give on the command line go through the
//! same `staff_commands::execute`, so both are one implementation.

use crate::app::Service;
use crate::app::maintenance::doors::{StaffOpen, open_as};
use crate::app::staff_commands::{StaffRequest, execute};
use crate::domain::pickup::OpenOutcome;
use crate::domain::{CompartmentState, SizeClass, Timestamp, rfc3339};
use crate::fleet::command::{Command, Resident};
use crate::fleet::verify;
use crate::fleet::wire::{Outcome, RESPONSE_SCHEMA, ResponseMessage};
use crate::scanning::payload::may_be_badge;

/// One command at a time: a repeat arriving while the first is carried
/// out must find it recorded.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Verifies, carries out and records one published command; the answer.
pub async fn handle(
    service: &Service,
    keys: &[[u8; 32]],
    payload: &[u8],
    now: Timestamp,
) -> ResponseMessage {
    let _turn = ONE_AT_A_TIME.lock().await;
    let locker = service.config().locker.id.clone();
    let answer = |command: Option<String>, outcome, message: String| ResponseMessage {
        schema: RESPONSE_SCHEMA.into(),
        locker: locker.clone(),
        command,
        outcome,
        message,
        at: rfc3339(now.0),
    };
    let body = match verify(payload, keys, &locker, now.0) {
        Ok(body) => body,
        Err(refusal) => {
            // Audited, not kept as seen: a forgery must not spend the id
            // of a real command.
            let message = format!("refused: {refusal}");
            tracing::warn!(%message, "a fleet command was refused");
            let _ = service
                .fleet_commands({
                    let message = message.clone();
                    move |c| c.record(None, None, false, &message, "fleet", now)
                })
                .await;
            return answer(refusal.id().map(str::to_owned), Outcome::Refused, message);
        }
    };
    let id = body.id.clone();
    match service.fleet_commands(move |c| c.seen(&id)).await {
        Ok(Some((_, first))) => return answer(Some(body.id), Outcome::Duplicate, first),
        Ok(None) => {}
        Err(e) => {
            return answer(
                Some(body.id),
                Outcome::Refused,
                format!("not carried out: {e}"),
            );
        }
    }
    let actor = format!("fleet:{}", body.id);
    let result = apply(service, &body.command, &actor, now).await;
    let (applied, message) = match result {
        Ok(text) => (true, text.trim().to_owned()),
        Err(text) => (false, text.trim().to_owned()),
    };
    // A code made for the answer (a delegate's, a return's) goes to the
    // fleet once and is never kept readable: the records keep the answer
    // without it, and a repeat of the command gets that.
    let (id, name, recorded_message) =
        (body.id.clone(), body.command.name(), without_code(&message));
    let recorded = service
        .fleet_commands(move |c| {
            c.record(
                Some(&id),
                Some(name),
                applied,
                &recorded_message,
                &actor,
                now,
            )
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "a fleet command's outcome could not be recorded");
    }
    if applied {
        service.records_changed_elsewhere();
    }
    let outcome = if applied {
        Outcome::Applied
    } else {
        Outcome::Refused
    };
    answer(Some(body.id), outcome, message)
}

/// `message` up to the code a staff command printed ("… with the code
/// 123456 or the QR code made from LK1:…"): what the records keep.
fn without_code(message: &str) -> String {
    match message.split_once(" with the code ") {
        Some((before, _)) => {
            format!("{before} with a code sent in the first answer only (not kept)")
        }
        None => message.to_string(),
    }
}

async fn apply(
    service: &Service,
    command: &Command,
    actor: &str,
    now: Timestamp,
) -> Result<String, String> {
    let staff = |request: StaffRequest| staff_request(service, request, actor, now);
    match command.clone() {
        Command::AddCourier {
            name,
            company,
            login_code,
            badge,
        } => {
            staff(StaffRequest::AddCourier {
                name,
                company,
                login_code,
                badge,
            })
            .await
        }
        Command::RevokeCourier { courier } => staff(StaffRequest::RevokeCourier { courier }).await,
        Command::ExtendDeadline { tracking, hours } => {
            staff(StaffRequest::ExtendParcel {
                parcel: tracking,
                hours,
            })
            .await
        }
        Command::DelegatePickup { tracking, name } => {
            staff(StaffRequest::DelegateParcel {
                parcel: tracking,
                name,
            })
            .await
        }
        Command::ImportItems { csv } => {
            staff(StaffRequest::ImportItems {
                csv,
                dry_run: false,
            })
            .await
        }
        Command::ExpectReturn {
            person,
            contact,
            carrier,
            size,
            reference,
        } => {
            staff(StaffRequest::ExpectReturn {
                person,
                contact,
                carrier,
                size,
                reference,
            })
            .await
        }
        Command::RevokeDelegate { tracking } => {
            staff(StaffRequest::RevokeDelegate { parcel: tracking }).await
        }
        Command::MarkForReturn { tracking, reason } => {
            staff(StaffRequest::ReturnParcel {
                parcel: tracking,
                reason,
            })
            .await
        }
        Command::OutOfService { door, reason } => {
            staff(StaffRequest::DisableCompartment {
                number: door,
                reason,
            })
            .await
        }
        Command::BackInService { door } => {
            staff(StaffRequest::EnableCompartment { number: door }).await
        }
        Command::LockerOutOfService { reason } => {
            staff(StaffRequest::LockerOutOfService { reason }).await
        }
        Command::LockerBackInService {} => staff(StaffRequest::LockerBackInService).await,
        Command::UpsertResident { resident } => {
            let id = upsert(service, resident, now).await?;
            Ok(format!("resident {id} is in the directory"))
        }
        Command::AnnounceParcel {
            tracking,
            carrier,
            resident,
            size,
        } => {
            let size = match size.as_deref() {
                None => None,
                Some(label) => Some(label.parse::<SizeClass>().map_err(|e| e.to_string())?),
            };
            if tracking.trim().is_empty() {
                return Err("an announced parcel needs a tracking number".into());
            }
            let recipient = upsert(service, resident, now).await?;
            let parcel = service
                .parcels(move |p| {
                    p.announce(tracking.trim(), carrier.as_deref(), recipient, size, now)
                })
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("parcel {parcel} announced"))
        }
        Command::CancelAnnouncement { tracking } => {
            let actor = actor.to_owned();
            service
                .parcels(move |p| p.cancel_announcement(tracking.trim(), &actor, now))
                .await
                .map(|parcel| format!("the announcement of parcel {parcel} is cancelled"))
                .map_err(|e| e.to_string())
        }
        Command::SetSetting { key, value } => match key.as_str() {
            "default_language" if service.config().languages.available.contains(&value) => {
                let actor = actor.to_owned();
                service
                    .staff(move |s| s.set_default_language(&value, &actor, now))
                    .await
                    .map(|()| "default language set (from the next visit on)".to_owned())
                    .map_err(|e| e.to_string())
            }
            "default_language" => Err(format!("`{value}` is not one of this locker's languages")),
            other => Err(format!(
                "`{other}` is not a setting the fleet can change (default_language)"
            )),
        },
        Command::OpenDoor { door, reason } => open_door(service, door, reason, actor).await,
    }
}

async fn staff_request(
    service: &Service,
    request: StaffRequest,
    actor: &str,
    now: Timestamp,
) -> Result<String, String> {
    let (config, actor) = (service.config().clone(), actor.to_owned());
    service
        .call(move |store| Ok(execute(store, &config, &request, &actor, now)))
        .await
        .map_err(|e| e.to_string())?
}

async fn upsert(service: &Service, resident: Resident, now: Timestamp) -> Result<i64, String> {
    if resident.name.trim().is_empty() {
        return Err("a resident needs a name".into());
    }
    if let Some(language) = &resident.language
        && !service.config().languages.available.contains(language)
    {
        return Err(format!(
            "`{language}` is not one of this locker's languages"
        ));
    }
    let badge = resident.badge.as_deref().map(str::trim);
    if badge.is_some_and(|b| !may_be_badge(b)) {
        return Err("a badge is the text of its QR code: 3 to 128 characters of one line".into());
    }
    let badge = badge.map(str::to_owned);
    service
        .recipients(move |r| {
            r.all_or_nothing(|r| {
                let id = r.upsert(
                    resident.external_id.as_deref(),
                    resident.name.trim(),
                    resident.unit.as_deref(),
                    resident.needs_accessible,
                    (
                        resident.email.as_deref(),
                        resident.phone.as_deref(),
                        resident.language.as_deref(),
                    ),
                    now,
                )?;
                if let Some(badge) = &badge {
                    r.set_badge(id, badge)?;
                }
                Ok(id)
            })
        })
        .await
        .map_err(|e| e.to_string())
}

/// A remote open, refused while someone is at that door: a courier's
/// deposit holding it, or the door open now.
async fn open_door(
    service: &Service,
    door: u32,
    reason: String,
    actor: &str,
) -> Result<String, String> {
    let Some(compartment) = service
        .compartments(move |c| c.get(door))
        .await
        .map_err(|e| e.to_string())?
    else {
        return Err(format!("this locker has no door {door}"));
    };
    if compartment.state == CompartmentState::Reserved {
        return Err(format!(
            "door {door} is held for a courier's deposit right now: try again later"
        ));
    }
    if service.doors().compartment_door(door) == Some(crate::hardware::protocol::Door::Open) {
        return Err(format!("door {door} is open right now: someone is at it"));
    }
    if reason.trim().is_empty() {
        return Err("a remote open needs a reason".into());
    }
    let why = StaffOpen::plain(format!("remote: {}", reason.trim()));
    match open_as(service, actor.to_owned(), door, why).await {
        OpenOutcome::Opened => Ok(format!("door {door} opened")),
        other => Err(format!(
            "door {door} did not open: {}",
            other.name().replace('_', " ")
        )),
    }
}
