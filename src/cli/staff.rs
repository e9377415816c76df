//! The staff commands, for an installer with a laptop over SSH:
//! `admin set-pin`, `compartments`, `parcels`. Each change is in the audit
//! log as `cli:<user>`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Subcommand;

use super::GlobalArgs;
use super::run::open_records;
use crate::app::{admin, system};
use crate::domain::{CompartmentState, ParcelStatus};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set or change the admin PIN for maintenance (read from the terminal, twice; never from the arguments)
    SetPin,
}

#[derive(Debug, Subcommand)]
pub enum CompartmentsCommand {
    /// Every compartment with its size, wiring, state and parcel
    List,
    /// Take a compartment out of service, saying why
    Disable {
        number: u32,
        #[arg(long)]
        reason: String,
    },
    /// Put a compartment back in service
    Enable { number: u32 },
}

#[derive(Debug, Subcommand)]
pub enum ParcelsCommand {
    /// The parcels in the locker
    List,
    /// One parcel, by id or tracking number, with its history
    Show { parcel: String },
    /// Mark every parcel past its storage period as expired (for the courier to take back)
    ExpireRun,
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into())
    )
}

fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("locker-kiosk: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn admin(global: &GlobalArgs, command: &AdminCommand) -> ExitCode {
    finish(match command {
        AdminCommand::SetPin => set_pin(global),
    })
}

/// Reads the PIN twice: without echo from a terminal, else two lines from
/// standard input (for provisioning scripts).
fn set_pin(global: &GlobalArgs) -> Result<(), String> {
    let (first, second) = if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| rpassword::prompt_password(prompt).map_err(|e| e.to_string());
        (ask("New admin PIN (6 to 12 digits): ")?, ask("Again: ")?)
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let mut next = || -> Result<String, String> {
            lines
                .next()
                .ok_or("expected the PIN twice on standard input")?
                .map_err(|e| e.to_string())
        };
        (next()?, next()?)
    };
    if first.trim() != second.trim() {
        return Err("the two PINs differ; nothing was changed".into());
    }
    let (_, mut store) = open_records(global)?;
    admin::set_pin(&mut store, first.trim(), &actor(), system::now()).map_err(|e| e.to_string())?;
    println!("admin PIN set");
    Ok(())
}

pub fn compartments(global: &GlobalArgs, command: &CompartmentsCommand) -> ExitCode {
    finish((|| {
        let (_, mut store) = open_records(global)?;
        let error = |e: crate::store::StoreError| e.to_string();
        match command {
            CompartmentsCommand::List => {
                let parcels = store.parcels_in_locker().map_err(error)?;
                println!(
                    "{:>4}  {:<5} {:<10} {:<15} detail",
                    "door", "size", "wiring", "state"
                );
                for c in store.compartments().map_err(error)? {
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
                    println!(
                        "{:>4}  {:<5} {:<10} {:<15} {detail}",
                        c.number,
                        c.size.label(),
                        format!("{}:{}", c.board, c.channel),
                        c.state.name()
                    );
                }
                Ok(())
            }
            CompartmentsCommand::Disable { number, reason } => {
                if reason.trim().is_empty() {
                    return Err("say why with --reason".into());
                }
                let state = CompartmentState::OutOfService {
                    reason: reason.trim().into(),
                };
                store
                    .set_compartment_state(*number, &state, &actor(), system::now())
                    .map_err(error)?;
                println!("compartment {number} is out of service: {}", reason.trim());
                Ok(())
            }
            CompartmentsCommand::Enable { number } => {
                let state = store
                    .put_back_in_service(*number, &actor(), system::now())
                    .map_err(error)?;
                println!("compartment {number} is back in service ({})", state.name());
                Ok(())
            }
        }
    })())
}

pub fn parcels(global: &GlobalArgs, command: &ParcelsCommand) -> ExitCode {
    finish((|| {
        let (_, mut store) = open_records(global)?;
        let error = |e: crate::store::StoreError| e.to_string();
        match command {
            ParcelsCommand::List => {
                println!(
                    "{:>5}  {:<24} {:>4}  {:<10} {:<20} expires",
                    "id", "tracking", "door", "status", "recipient"
                );
                for p in store.parcels_in_locker().map_err(error)? {
                    let recipient = store
                        .recipient(p.recipient)
                        .map_err(error)?
                        .map_or_else(|| p.recipient.to_string(), |r| r.name);
                    println!(
                        "{:>5}  {:<24} {:>4}  {:<10} {:<20} {}",
                        p.id,
                        p.tracking,
                        p.compartment.map_or("-".into(), |c| c.to_string()),
                        p.status.name(),
                        recipient,
                        p.expires_at
                            .map_or("-".into(), |t| super::verify_receipt::utc(t.0 / 1000))
                    );
                }
                Ok(())
            }
            ParcelsCommand::Show { parcel } => {
                let record = match parcel.parse::<i64>() {
                    Ok(id) => store.parcel(id).map_err(error)?,
                    Err(_) => None,
                }
                .or_else(|| store.parcel_by_tracking(parcel).ok().flatten())
                .ok_or_else(|| format!("no parcel `{parcel}` (give its id or tracking number)"))?;
                println!("parcel {}: {}", record.id, record.tracking);
                println!("status: {}", record.status);
                if let Some(door) = record.compartment {
                    println!("compartment: {door}");
                }
                if let Some(expires) = record.expires_at {
                    println!("expires: {}", super::verify_receipt::utc(expires.0 / 1000));
                }
                if record.status == ParcelStatus::Deposited && !record.confirmed {
                    println!("note: the courier left before the door was seen closed; check it");
                }
                println!("history:");
                for event in store.parcel_history(record.id).map_err(error)? {
                    println!(
                        "  {}  {:<22} {}",
                        super::verify_receipt::utc(event.at.0 / 1000),
                        event.kind,
                        event.actor
                    );
                }
                Ok(())
            }
            ParcelsCommand::ExpireRun => {
                let expired = store.expire_due(system::now()).map_err(error)?;
                println!("{} parcels expired", expired.len());
                for id in expired {
                    println!("  parcel {id}");
                }
                Ok(())
            }
        }
    })())
}
