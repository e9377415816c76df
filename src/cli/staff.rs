//! The staff commands, for an installer with a laptop over SSH:
//! `admin set-pin`, `couriers`, `compartments`, `locker`, `parcels`,
//! `reports`. They run while the kiosk runs (through its control socket,
//! `app::control`) or while it is stopped (on the database directly): the
//! same code (`app::staff_commands`) either way. Each change is in the
//! audit log as `cli:<user>`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Subcommand;

use super::GlobalArgs;
use super::run::open_records;
use crate::app::control::{self, Sent};
use crate::app::staff_commands::{StaffRequest, execute};
use crate::app::system;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set or change the admin PIN for maintenance (read from the terminal, twice; never from the arguments)
    SetPin {
        /// A staff member's own PIN instead of the shared one: the audit log then names them
        #[arg(long, value_name = "NAME")]
        staff: Option<String>,
    },
    /// Who has a PIN for maintenance (names only)
    Staff,
    /// Take a staff member's own PIN away
    RemoveStaff { name: String },
}

#[derive(Debug, Subcommand)]
pub enum CouriersCommand {
    /// Every courier: name, company, whether they have a code and a badge, active or revoked (never the codes)
    List,
    /// Add a courier; their login code (4 to 8 digits, not weak) is read from the terminal, twice, or from standard input
    Add {
        name: String,
        #[arg(long)]
        company: String,
        /// The text of their badge's QR code, to log in by scanning it
        #[arg(long)]
        badge: Option<String>,
        /// No login code: the badge only
        #[arg(long, requires = "badge")]
        badge_only: bool,
    },
    /// Take a courier's code and badge away for good (their deliveries stay on record)
    Revoke { id: i64 },
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
pub enum LockerCommand {
    /// Take the whole locker out of service: the screen says so, nobody collects or delivers, staff still come in
    OutOfService {
        #[arg(long)]
        reason: String,
    },
    /// Put it back in service: the parcels inside get the time it was out added to their deadlines, and their recipients are told
    BackInService,
}

#[derive(Debug, Subcommand)]
pub enum ParcelsCommand {
    /// The parcels in the locker
    List {
        /// Only those past their storage period
        #[arg(long)]
        expired: bool,
    },
    /// One parcel, by id or tracking number, with its history
    Show { parcel: String },
    /// Mark every parcel past its storage period as expired (for the courier to take back)
    ExpireRun,
    /// Give a parcel's recipient more time (they are sent the new deadline)
    Extend {
        parcel: String,
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
    /// Mark a parcel for return to the sender: its carrier's next courier takes it back
    Return {
        parcel: String,
        #[arg(long)]
        reason: String,
    },
    /// A one-time code for someone else to collect a parcel (the recipient's own code still works);
    /// an earlier one for it opens nothing more. Printed once, never stored readable
    Delegate {
        parcel: String,
        /// Who will collect, for the records
        #[arg(long)]
        name: Option<String>,
    },
    /// The delegate code of a parcel opens nothing any more
    RevokeDelegate { parcel: String },
    /// A person will return (or send) a parcel from the locker: prints the code they put it in with.
    /// Once its door is closed, the carrier's next courier takes it back with the other returns
    ExpectReturn {
        /// Who brings it
        #[arg(long)]
        person: String,
        /// Their email address or phone number, for the directory
        #[arg(long)]
        contact: Option<String>,
        /// The carrier (the couriers' company) that takes it
        #[arg(long)]
        carrier: String,
        /// S, M, L, XL or WxHxD in millimetres: the compartment it needs (without it, the person
        /// chooses at the screen)
        #[arg(long)]
        size: Option<String>,
        /// The carrier's reference (the return label's number)
        #[arg(long)]
        reference: Option<String>,
    },
    /// Items to hand out to named people, from a CSV file (`-` for standard input) with the header
    /// person,contact,item,size,asset_tag,deadline,badge (the last three may be empty or left out; a
    /// badge is the text of the person's staff badge QR, to collect with it):
    /// each gets a compartment held for it, to load in maintenance ("Load items"). A bad row is
    /// named by its line and nothing is imported.
    Import {
        file: std::path::PathBuf,
        /// Check the file and show the doors it would get, changing nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Every item handed out, as CSV for the asset register: person, item, asset tag, door, when
    /// loaded and when handed over
    Register,
    /// The codes no message has delivered yet (nobody reachable, or not sent yet), as slips to
    /// print and hand out: the person, their items and doors, the code and the deadline
    Slips {
        /// Record them delivered on paper: the messages stop, and the codes are kept only as hashes
        #[arg(long)]
        mark_delivered: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Reports raised at the kiosk that are not handled yet (with --all, every one)
    List {
        #[arg(long)]
        all: bool,
    },
    /// Mark a report handled
    Handle { report: i64 },
}

/// Who runs the command, for the audit log: the user behind `sudo`, else
/// the login name, else the account of this process's user id (services
/// and `su -c` may set no names at all), else the id itself.
fn actor() -> String {
    let named = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.trim().is_empty());
    let name = named.unwrap_or_else(|| {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid());
        crate::app::system::account_of(uid).unwrap_or_else(|| format!("uid{uid}"))
    });
    format!("cli:{name}")
}

/// Carries out `request`: by the running kiosk when there is one on this
/// data directory, else on the database itself.
fn run(global: &GlobalArgs, request: StaffRequest) -> ExitCode {
    let actor = actor();
    let answer = match control::send(&global.data_dir(), &actor, &request) {
        Sent::Answered(answer) => answer,
        Sent::NoKiosk => open_records(global).and_then(|(config, mut store)| {
            execute(&mut store, &config, &request, &actor, system::now())
        }),
    };
    match answer {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("locker-kiosk: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn admin(global: &GlobalArgs, command: &AdminCommand) -> ExitCode {
    match command {
        AdminCommand::SetPin { staff } => {
            match read_twice("New admin PIN (6 to 12 digits): ", "PIN") {
                Ok(pin) => run(
                    global,
                    StaffRequest::SetAdminPin {
                        pin,
                        staff: staff.clone(),
                    },
                ),
                Err(message) => {
                    eprintln!("locker-kiosk: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        AdminCommand::Staff => run(global, StaffRequest::ListStaff),
        AdminCommand::RemoveStaff { name } => {
            run(global, StaffRequest::RemoveStaff { name: name.clone() })
        }
    }
}

/// Reads the PIN twice: without echo from a terminal, else two lines from
/// standard input (for provisioning scripts).
fn read_twice(prompt: &str, what: &str) -> Result<String, String> {
    let (first, second) = if std::io::stdin().is_terminal() {
        let ask = |prompt: &str| rpassword::prompt_password(prompt).map_err(|e| e.to_string());
        (ask(prompt)?, ask("Again: ")?)
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let mut next = || -> Result<String, String> {
            lines
                .next()
                .ok_or(format!("expected the {what} twice on standard input"))?
                .map_err(|e| e.to_string())
        };
        (next()?, next()?)
    };
    if first.trim() != second.trim() {
        return Err(format!("the two {what}s differ; nothing was changed"));
    }
    Ok(first.trim().to_string())
}

pub fn couriers(global: &GlobalArgs, command: &CouriersCommand) -> ExitCode {
    let request = match command {
        CouriersCommand::List => StaffRequest::ListCouriers,
        CouriersCommand::Add {
            name,
            company,
            badge,
            badge_only,
        } => {
            let login_code = if *badge_only {
                None
            } else {
                match read_twice("Login code (4 to 8 digits): ", "code") {
                    Ok(code) => Some(code),
                    Err(message) => {
                        eprintln!("locker-kiosk: {message}");
                        return ExitCode::FAILURE;
                    }
                }
            };
            StaffRequest::AddCourier {
                name: name.clone(),
                company: company.clone(),
                login_code,
                badge: badge.clone(),
            }
        }
        CouriersCommand::Revoke { id } => StaffRequest::RevokeCourier { courier: *id },
    };
    run(global, request)
}

pub fn compartments(global: &GlobalArgs, command: &CompartmentsCommand) -> ExitCode {
    run(
        global,
        match command {
            CompartmentsCommand::List => StaffRequest::ListCompartments,
            CompartmentsCommand::Disable { number, reason } => StaffRequest::DisableCompartment {
                number: *number,
                reason: reason.clone(),
            },
            CompartmentsCommand::Enable { number } => {
                StaffRequest::EnableCompartment { number: *number }
            }
        },
    )
}

pub fn locker(global: &GlobalArgs, command: &LockerCommand) -> ExitCode {
    run(
        global,
        match command {
            LockerCommand::OutOfService { reason } => StaffRequest::LockerOutOfService {
                reason: reason.clone(),
            },
            LockerCommand::BackInService => StaffRequest::LockerBackInService,
        },
    )
}

pub fn parcels(global: &GlobalArgs, command: &ParcelsCommand) -> ExitCode {
    if let ParcelsCommand::Import { file, dry_run } = command {
        return match read_file(file) {
            Ok(csv) => run(
                global,
                StaffRequest::ImportItems {
                    csv,
                    dry_run: *dry_run,
                },
            ),
            Err(message) => {
                eprintln!("locker-kiosk: {message}");
                ExitCode::FAILURE
            }
        };
    }
    run(
        global,
        match command {
            ParcelsCommand::List { expired } => StaffRequest::ListParcels {
                expired_only: *expired,
            },
            ParcelsCommand::Show { parcel } => StaffRequest::ShowParcel {
                parcel: parcel.clone(),
            },
            ParcelsCommand::ExpireRun => StaffRequest::ExpireRun,
            ParcelsCommand::Extend { parcel, hours } => StaffRequest::ExtendParcel {
                parcel: parcel.clone(),
                hours: *hours,
            },
            ParcelsCommand::Return { parcel, reason } => StaffRequest::ReturnParcel {
                parcel: parcel.clone(),
                reason: reason.clone(),
            },
            ParcelsCommand::Import { .. } => unreachable!("handled above"),
            ParcelsCommand::Register => StaffRequest::ItemRegister,
            ParcelsCommand::Delegate { parcel, name } => StaffRequest::DelegateParcel {
                parcel: parcel.clone(),
                name: name.clone(),
            },
            ParcelsCommand::RevokeDelegate { parcel } => StaffRequest::RevokeDelegate {
                parcel: parcel.clone(),
            },
            ParcelsCommand::ExpectReturn {
                person,
                contact,
                carrier,
                size,
                reference,
            } => StaffRequest::ExpectReturn {
                person: person.clone(),
                contact: contact.clone(),
                carrier: carrier.clone(),
                size: size.clone(),
                reference: reference.clone(),
            },
            ParcelsCommand::Slips { mark_delivered } => StaffRequest::CodeSlips {
                mark_delivered: *mark_delivered,
            },
        },
    )
}

pub fn reports(global: &GlobalArgs, command: &ReportsCommand) -> ExitCode {
    run(
        global,
        match command {
            ReportsCommand::List { all } => StaffRequest::ListReports { all: *all },
            ReportsCommand::Handle { report } => StaffRequest::HandleReport { report: *report },
        },
    )
}

/// A file's text, `-` for standard input; the file is read here, by the
/// one who runs the command, not by the kiosk.
fn read_file(path: &std::path::Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}
