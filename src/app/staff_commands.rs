//! The staff commands of the command line (`admin set-pin`,
//! `compartments`, `parcels`, `reports`) as requests with a text answer.
//! One implementation, run in one of two places: on the store directly
//! while the kiosk is stopped, or by the running kiosk when the command
//! reaches it through its control socket (`control.rs`). Either way the
//! change is in the audit log as the command line's user.

use serde::{Deserialize, Serialize};

use super::admin;
use crate::config::Config;
use crate::domain::maintenance::{PinHolder, staff_name};
use crate::domain::{CompartmentState, ParcelStatus, Timestamp};
use crate::store::{Event, NewEvent, ParcelRecord, Store, StoreError};

/// What an installer asks of the locker's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum StaffRequest {
    /// The site's shared admin PIN, or with `staff` that member's own.
    SetAdminPin {
        pin: String,
        #[serde(default)]
        staff: Option<String>,
    },
    ListStaff,
    RemoveStaff {
        name: String,
    },
    ListCompartments,
    DisableCompartment {
        number: u32,
        reason: String,
    },
    EnableCompartment {
        number: u32,
    },
    /// The whole locker: nobody collects or delivers until it is back.
    LockerOutOfService {
        reason: String,
    },
    /// The whole locker back in service; its parcels get the time back.
    LockerBackInService,
    ListParcels {
        expired_only: bool,
    },
    ShowParcel {
        parcel: String,
    },
    ExpireRun,
    ExtendParcel {
        parcel: String,
        hours: u32,
    },
    ReturnParcel {
        parcel: String,
        reason: String,
    },
    ListReports {
        all: bool,
    },
    HandleReport {
        report: i64,
    },
    ListCouriers,
    AddCourier {
        name: String,
        company: String,
        #[serde(default)]
        login_code: Option<String>,
        #[serde(default)]
        badge: Option<String>,
    },
    RevokeCourier {
        courier: i64,
    },
    /// Items for named people (`parcels import`), the CSV's text.
    ImportItems {
        csv: String,
        #[serde(default)]
        dry_run: bool,
    },
    /// Every item handed out, as CSV for the asset register.
    ItemRegister,
    /// A one-time code for someone else to collect a parcel.
    DelegateParcel {
        parcel: String,
        #[serde(default)]
        name: Option<String>,
    },
    /// The delegate code of a parcel opens nothing more.
    RevokeDelegate {
        parcel: String,
    },
    /// A person will return or send a parcel from the locker: their code.
    ExpectReturn {
        person: String,
        #[serde(default)]
        contact: Option<String>,
        carrier: String,
        /// None: the person chooses at the screen.
        #[serde(default)]
        size: Option<String>,
        #[serde(default)]
        reference: Option<String>,
    },
    /// The codes no message delivered yet, as slips to print.
    CodeSlips {
        #[serde(default)]
        mark_delivered: bool,
    },
}

/// The refusal of a second closure: the first one's reason and time.
fn already_out(store: &mut Store) -> Result<String, StoreError> {
    let closure = store.staff().closure()?;
    Ok(match closure {
        Some(c) => format!(
            "the locker is out of service already ({}, by {}, since {})",
            c.reason,
            c.by,
            crate::app::system::local_time(c.since)
        ),
        None => "the locker is out of service already".into(),
    })
}

/// The most hours an extension may give at once (a month).
pub const MAX_EXTENSION_HOURS: u32 = 24 * 31;

/// Carries out `request` as `actor`; the answer is the text to print, the
/// error a sentence for the installer.
pub fn execute(
    store: &mut Store,
    config: &Config,
    request: &StaffRequest,
    actor: &str,
    now: Timestamp,
) -> Result<String, String> {
    let error = |e: StoreError| e.to_string();
    match request {
        StaffRequest::SetAdminPin { pin, staff: None } => {
            admin::set_pin(&mut store.staff(), &PinHolder::Site, pin.trim(), actor, now)
                .map_err(error)?;
            Ok("admin PIN set\n".into())
        }
        StaffRequest::SetAdminPin {
            pin,
            staff: Some(name),
        } => {
            let name = staff_name(name).map_err(|e| e.to_string())?;
            let holder = PinHolder::Staff(name.clone());
            admin::set_pin(&mut store.staff(), &holder, pin.trim(), actor, now).map_err(error)?;
            Ok(format!(
                "{name}'s PIN set: maintenance records their actions as {}\n",
                holder.actor()
            ))
        }
        StaffRequest::ListStaff => list_staff(store).map_err(error),
        StaffRequest::RemoveStaff { name } => {
            admin::remove_staff(&mut store.staff(), name, actor, now).map_err(error)?;
            Ok(format!("{}'s PIN opens nothing any more\n", name.trim()))
        }
        StaffRequest::ListCompartments => list_compartments(store).map_err(error),
        StaffRequest::ImportItems { csv, dry_run } => {
            super::handout::import(store, csv, *dry_run, actor, now)
        }
        StaffRequest::ItemRegister => super::handout::register_csv(store),
        StaffRequest::CodeSlips { mark_delivered } => {
            super::handout::slips(store, config, *mark_delivered, now)
        }
        StaffRequest::ListCouriers => list_couriers(store).map_err(error),
        StaffRequest::AddCourier {
            name,
            company,
            login_code,
            badge,
        } => {
            let (name, company) = (name.trim(), company.trim());
            if name.is_empty() || company.is_empty() {
                return Err("a courier needs a name and a company".into());
            }
            let code = login_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty());
            let badge = badge.as_deref().map(str::trim).filter(|b| !b.is_empty());
            if code.is_none() && badge.is_none() {
                return Err("a courier needs a login code or a badge to log in with".into());
            }
            let id = store
                .couriers()
                .add(name, company, code, badge, now)
                .map_err(|e| match e {
                    StoreError::Sqlite { .. } if e.to_string().contains("UNIQUE") => {
                        "another courier already has that code or badge; nothing was changed"
                            .to_string()
                    }
                    other => other.to_string(),
                })?;
            let added = Event::CourierAdded {
                courier: id,
                name: name.into(),
                company: company.into(),
            };
            store
                .events()
                .record(now, &NewEvent::new(added, actor))
                .map_err(error)?;
            Ok(format!("courier {id} added: {name} ({company})\n"))
        }
        StaffRequest::RevokeCourier { courier } => {
            let revoked = store
                .couriers()
                .revoke(*courier, actor, now)
                .map_err(error)?;
            Ok(format!(
                "courier {} ({}, {}) can no longer log in; their deliveries stay on record\n",
                revoked.id, revoked.name, revoked.company
            ))
        }
        StaffRequest::DisableCompartment { number, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("say why with --reason".into());
            }
            let state = CompartmentState::OutOfService {
                reason: reason.into(),
            };
            store
                .compartments()
                .set_state(*number, &state, actor, now)
                .map_err(error)?;
            Ok(format!(
                "compartment {number} is out of service: {reason}\n"
            ))
        }
        StaffRequest::EnableCompartment { number } => {
            let state = store
                .compartments()
                .put_back_in_service(*number, actor, now)
                .map_err(error)?;
            // The time it was out is given back to the parcels in it.
            let settings = crate::app::kiosk::records::Settings::from(config);
            super::outages::back_in_service(store, *number, &settings, now).map_err(error)?;
            Ok(format!(
                "compartment {number} is back in service ({})\n",
                state.name()
            ))
        }
        StaffRequest::LockerOutOfService { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("say why with --reason".into());
            }
            match store
                .staff()
                .take_out_of_service(reason, actor, now)
                .map_err(error)?
            {
                Some(_) => Ok(format!(
                    "the locker is out of service: {reason}\n\
                     nobody can collect or deliver until `locker-kiosk locker back-in-service`\n"
                )),
                None => Err(already_out(store).map_err(error)?),
            }
        }
        StaffRequest::LockerBackInService => {
            let settings = crate::app::kiosk::records::Settings::from(config);
            match super::outages::locker_back_in_service(store, &settings, actor, now)
                .map_err(error)?
            {
                Some((closure, credited)) => Ok(format!(
                    "the locker is back in service after {} minutes ({}); \
                     parcels given that time back: {}\n",
                    (now.0 - closure.since.0).max(0) / 60_000,
                    closure.reason,
                    credited.len()
                )),
                None => Err("the locker is in service already".into()),
            }
        }
        StaffRequest::ListParcels { expired_only } => {
            list_parcels(store, *expired_only).map_err(error)
        }
        StaffRequest::ShowParcel { parcel } => {
            let record = find_parcel(store, parcel)?;
            show_parcel(store, &record).map_err(error)
        }
        StaffRequest::ExpireRun => {
            let expired = store.parcels().expire_due(now).map_err(error)?;
            let mut out = format!("{} parcels expired\n", expired.len());
            for id in expired {
                out.push_str(&format!("  parcel {id}\n"));
            }
            Ok(out)
        }
        StaffRequest::ExtendParcel { parcel, hours } => {
            if !(1..=MAX_EXTENSION_HOURS).contains(hours) {
                return Err(format!("an extension is 1 to {MAX_EXTENSION_HOURS} hours"));
            }
            let record = find_parcel(store, parcel)?;
            let extension = store
                .parcels()
                .extend(
                    record.id,
                    *hours,
                    config.policies.pin_length,
                    &mut super::system::OsEntropy,
                    actor,
                    now,
                )
                .map_err(error)?;
            Ok(format!(
                "parcel {} waits until {}; its recipient is sent the new deadline{}\n",
                record.id,
                utc(extension.expires_at),
                if extension.new_code {
                    " and a new code"
                } else {
                    ""
                }
            ))
        }
        StaffRequest::DelegateParcel { parcel, name } => {
            let record = find_parcel(store, parcel)?;
            let code = store
                .parcels()
                .delegate(
                    &[record.id],
                    name.as_deref(),
                    config.policies.pin_length,
                    &mut super::system::OsEntropy,
                    actor,
                    now,
                )
                .map_err(error)?;
            Ok(format!(
                "Someone else may collect {} once with the code {} (or the QR code made from {}).\n\
                 Give it to them yourself: it is shown only now. The recipient's own code still works;\n\
                 `parcels revoke-delegate {}` takes it back.\n",
                record.tracking,
                code.pin,
                crate::domain::codes::pickup_qr_payload(&config.locker.id, &code.qr_token),
                record.id
            ))
        }
        StaffRequest::ExpectReturn {
            person,
            contact,
            carrier,
            size,
            reference,
        } => {
            let (person, carrier) = (person.trim(), carrier.trim());
            if person.is_empty() || carrier.is_empty() {
                return Err("a return needs the person and the carrier that takes it".into());
            }
            let size: Option<crate::domain::SizeClass> = size
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| format!("{e}"))?;
            let contact = contact
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(crate::domain::handout::contact)
                .transpose()?;
            let expected = crate::store::ExpectedReturn {
                person,
                contact: contact.as_ref(),
                carrier,
                size,
                reference: reference
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty()),
            };
            let (parcel, code) = store
                .parcels()
                .expect_return(
                    &expected,
                    config.policies.pin_length,
                    &mut super::system::OsEntropy,
                    actor,
                    now,
                )
                .map_err(error)?;
            let tracking = store
                .parcels()
                .get(parcel)
                .map_err(error)?
                .map_or_else(String::new, |p| p.tracking);
            Ok(format!(
                "{person} may put {tracking} ({}, for {carrier}) into the locker with the code {} \
                 or the QR code made from {}.\nGive it to them: it is shown only now. {carrier}'s next courier \
                 takes the parcel with the other returns.\n",
                size.map_or("size chosen at the screen".to_string(), |s| format!(
                    "size {s}"
                )),
                code.pin,
                crate::domain::codes::pickup_qr_payload(&config.locker.id, &code.qr_token),
            ))
        }
        StaffRequest::RevokeDelegate { parcel } => {
            let record = find_parcel(store, parcel)?;
            match store
                .parcels()
                .revoke_delegates(record.id, actor, now)
                .map_err(error)?
            {
                0 => Err(format!("no delegate code opens {} now", record.tracking)),
                _ => Ok(format!(
                    "the delegate code for {} opens nothing any more\n",
                    record.tracking
                )),
            }
        }
        StaffRequest::ReturnParcel { parcel, reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("say why with --reason".into());
            }
            let record = find_parcel(store, parcel)?;
            store
                .parcels()
                .request_return(record.id, reason, actor, now)
                .map_err(error)?;
            Ok(format!(
                "parcel {} is marked for return: the carrier's next courier takes it back\n",
                record.id
            ))
        }
        StaffRequest::ListReports { all } => list_reports(store, *all).map_err(error),
        StaffRequest::HandleReport { report } => {
            store
                .reports()
                .mark_handled(*report, actor, now)
                .map_err(error)?;
            Ok(format!("report {report} is handled\n"))
        }
    }
}

/// A parcel by its id or tracking number.
fn find_parcel(store: &mut Store, parcel: &str) -> Result<ParcelRecord, String> {
    match parcel.parse::<i64>() {
        Ok(id) => store.parcels().get(id).map_err(|e| e.to_string())?,
        Err(_) => None,
    }
    .or_else(|| store.parcels().by_tracking(parcel).ok().flatten())
    .ok_or_else(|| format!("no parcel `{parcel}` (give its id or tracking number)"))
}

fn utc(at: Timestamp) -> String {
    super::system::utc_time(at.0 / 1000)
}

fn list_couriers(store: &mut Store) -> Result<String, StoreError> {
    let mut out = format!(
        "{:>4}  {:<24} {:<20} {:<6} {:<6} state\n",
        "id", "name", "company", "code", "badge"
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    for entry in store.couriers().list()? {
        out.push_str(&format!(
            "{:>4}  {:<24} {:<20} {:<6} {:<6} {}\n",
            entry.courier.id,
            entry.courier.name,
            entry.courier.company,
            yes(entry.has_code),
            yes(entry.has_badge),
            if entry.active { "active" } else { "revoked" }
        ));
    }
    Ok(out)
}

fn list_staff(store: &mut Store) -> Result<String, StoreError> {
    let shared = if store.staff().site_pin_hash()?.is_some() {
        "set"
    } else {
        "not set"
    };
    let mut out = format!("shared admin PIN: {shared}\n");
    let staff = store.staff().pins()?;
    if staff.is_empty() {
        out.push_str("no staff member has a PIN of their own\n");
    }
    for member in staff {
        out.push_str(&format!(
            "{:<32}  PIN set {}\n",
            member.name,
            utc(member.set_at)
        ));
    }
    Ok(out)
}

fn list_compartments(store: &mut Store) -> Result<String, StoreError> {
    let parcels = store.parcels().in_locker()?;
    let mut out = format!(
        "{:>4}  {:<5} {:<10} {:<15} detail\n",
        "door", "size", "wiring", "state"
    );
    for c in store.compartments().all()? {
        let parcel = parcels
            .iter()
            .filter(|p| p.compartment == Some(c.number))
            .map(|p| format!("parcel {} ({}, {})", p.id, p.tracking, p.status))
            .collect::<Vec<_>>()
            .join("; ");
        let detail = match (c.state.reason(), parcel.is_empty()) {
            (Some(reason), true) => reason.to_string(),
            (Some(reason), false) => format!("{reason}; {parcel}"),
            (None, _) => parcel,
        };
        out.push_str(&format!(
            "{:>4}  {:<5} {:<10} {:<15} {detail}\n",
            c.number,
            c.size.label(),
            format!("{}:{}", c.board, c.channel),
            c.state.name()
        ));
    }
    Ok(out)
}

fn list_parcels(store: &mut Store, expired_only: bool) -> Result<String, StoreError> {
    let mut out = format!(
        "{:>5}  {:<24} {:>4}  {:<10} {:<20} expires\n",
        "id", "tracking", "door", "status", "recipient"
    );
    for p in store.parcels().rows("", expired_only)? {
        out.push_str(&format!(
            "{:>5}  {:<24} {:>4}  {:<10} {:<20} {}\n",
            p.id,
            p.tracking,
            p.compartment,
            p.status.name(),
            p.recipient,
            p.expires_at.map_or("-".into(), utc)
        ));
    }
    Ok(out)
}

fn show_parcel(store: &mut Store, record: &ParcelRecord) -> Result<String, StoreError> {
    let mut out = format!(
        "parcel {}: {}\nstatus: {}\n",
        record.id, record.tracking, record.status
    );
    if let Some(door) = record.compartment {
        out.push_str(&format!("compartment: {door}\n"));
    }
    if let Some(expires) = record.expires_at {
        out.push_str(&format!("expires: {}\n", utc(expires)));
    }
    if record.status == ParcelStatus::Deposited && !record.confirmed {
        out.push_str("note: the courier left before the door was seen closed; check it\n");
    }
    out.push_str("history:\n");
    for event in store.events().parcel_history(record.id)? {
        out.push_str(&format!(
            "  {}  {:<22} {}\n",
            utc(event.at),
            event.kind,
            event.actor
        ));
    }
    Ok(out)
}

fn list_reports(store: &mut Store, all: bool) -> Result<String, StoreError> {
    let mut out = format!(
        "{:>4}  {:<18} {:>4}  {:<24} {:<24} handled\n",
        "id", "kind", "door", "reported", "by"
    );
    for r in store.reports().rows(all, 1000)? {
        out.push_str(&format!(
            "{:>4}  {:<18} {:>4}  {:<24} {:<24} {}\n",
            r.id,
            r.kind,
            r.compartment.map_or("-".into(), |c| c.to_string()),
            utc(r.created_at),
            r.reported_by,
            r.handled
                .as_ref()
                .map_or("-".into(), |(at, by)| format!("{} by {by}", utc(*at)))
        ));
    }
    Ok(out)
}
