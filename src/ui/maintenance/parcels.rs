//! The parcels tab: the list with its search, the selected parcel's
//! details and history, and what staff do with it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::log::log_lines;
use super::{Staff, current_staff};
use crate::app::maintenance::parcels::{self, ParcelActionResult, ParcelDetails};
use crate::app::maintenance::{
    self as rules, EXTENSION_HOURS, OpenOutcome, ParcelEntry, ParcelStatus,
};
use crate::app::system;
use crate::ui::{
    AppWindow, DoorFailure, MaintenanceParcels, ParcelLine, ParcelNotice, RemovalReason,
    ReturnReason,
};

/// Search text longer than any tracking number is noise.
const MAX_SEARCH: usize = 40;
/// Move targets offered (the snuggest first).
const TARGETS_SHOWN: usize = 5;

thread_local! {
    static SEARCH: RefCell<String> = const { RefCell::new(String::new()) };
    /// The parcel staff selected last (0: none): details that come back
    /// for another one, late, are dropped.
    static WANTED: Cell<i64> = const { Cell::new(0) };
    /// Counts list reads: only the newest one's answer is shown.
    static LIST_READS: Cell<u64> = const { Cell::new(0) };
}

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let parcels = window.global::<MaintenanceParcels>();
    let edit = |change: fn(&mut String, &str)| {
        staff.action_with(window, move |window, staff, key: SharedString| {
            let search = SEARCH.with(|search| {
                let mut search = search.borrow_mut();
                change(&mut search, &key);
                search.clone()
            });
            window
                .global::<MaintenanceParcels>()
                .set_search(search.into());
            load_list(window, staff);
        })
    };
    parcels.on_search_key(edit(|search, key| {
        if search.len() < MAX_SEARCH {
            search.push_str(key);
        }
    }));
    let erase = edit(|search, _| {
        search.pop();
    });
    parcels.on_search_erase(move || erase("".into()));
    let clear = edit(|search, _| search.clear());
    parcels.on_search_clear(move || clear("".into()));
    parcels.on_expired_only_toggled(staff.action(window, |window, staff| {
        let parcels = window.global::<MaintenanceParcels>();
        parcels.set_expired_only(!parcels.get_expired_only());
        load_list(window, staff);
    }));
    parcels.on_select(staff.action_with(window, |window, staff, parcel: i32| {
        window
            .global::<MaintenanceParcels>()
            .set_notice(ParcelNotice::None);
        WANTED.set(i64::from(parcel));
        load_details(window, staff, i64::from(parcel));
    }));
    parcels.on_move_to(staff.action_with(window, |window, staff, to: i32| {
        run(window, staff, Action::Move(to.max(0) as u32))
    }));
    for by_key in [false, true] {
        let remove = staff.action_with(window, move |window, staff, reason: RemovalReason| {
            let reason = match reason {
                RemovalReason::HandedToRecipient => rules::RemovalReason::HandedToRecipient,
                RemovalReason::Damaged => rules::RemovalReason::Damaged,
                RemovalReason::NotInCompartment => rules::RemovalReason::NotInCompartment,
                RemovalReason::Other => rules::RemovalReason::Other,
                // Nothing chosen yet: nothing to do.
                RemovalReason::None => return,
            };
            run(window, staff, Action::Remove { reason, by_key })
        });
        if by_key {
            parcels.on_remove_by_key(remove);
        } else {
            parcels.on_remove(remove);
        }
    }
    parcels.on_extend(staff.action_with(window, |window, staff, hours: i32| {
        // Only the extensions the screen offers.
        if let Some(hours) = EXTENSION_HOURS.into_iter().find(|h| *h as i32 == hours) {
            run(window, staff, Action::Extend(hours));
        }
    }));
    parcels.on_mark_for_return(
        staff.action_with(window, |window, staff, reason: ReturnReason| {
            let reason = match reason {
                ReturnReason::RefusedByRecipient => rules::ReturnReason::RefusedByRecipient,
                ReturnReason::WrongAddress => rules::ReturnReason::WrongAddress,
                ReturnReason::RecalledBySender => rules::ReturnReason::RecalledBySender,
            };
            run(window, staff, Action::MarkForReturn(reason))
        }),
    );
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Move(u32),
    Remove {
        reason: rules::RemovalReason,
        by_key: bool,
    },
    Extend(u32),
    MarkForReturn(rules::ReturnReason),
}

/// Carries out `action` on the selected parcel and shows what it came to.
fn run(window: &AppWindow, staff: &Staff, action: Action) {
    let parcels = window.global::<MaintenanceParcels>();
    let parcel = i64::from(parcels.get_selected().id);
    if parcel == 0 || parcels.get_notice() == ParcelNotice::Working {
        return;
    }
    parcels.set_notice(ParcelNotice::Working);
    let (weak, service) = (window.as_weak(), staff.service().clone());
    let who = staff.who();
    staff.spawn(async move {
        let result = match action {
            Action::Move(to) => parcels::move_parcel(&service, &who, parcel, to).await,
            Action::Remove { reason, by_key } => {
                parcels::remove(&service, &who, parcel, reason, by_key).await
            }
            Action::Extend(hours) => parcels::extend(&service, &who, parcel, hours).await,
            Action::MarkForReturn(reason) => {
                parcels::mark_for_return(&service, &who, parcel, reason).await
            }
        };
        let _ = weak.upgrade_in_event_loop(move |window| {
            show_result(&window, &result);
            if result == ParcelActionResult::Removed && WANTED.get() == parcel {
                WANTED.set(0);
            }
            if let Some(staff) = current_staff() {
                load_list(&window, &staff);
                if WANTED.get() == parcel {
                    load_details(&window, &staff, parcel);
                }
            }
        });
    });
}

fn show_result(window: &AppWindow, result: &ParcelActionResult) {
    let parcels = window.global::<MaintenanceParcels>();
    let notice = match result {
        ParcelActionResult::Moved { to, .. } => {
            parcels.set_notice_compartment(*to as i32);
            ParcelNotice::Moved
        }
        ParcelActionResult::Removed => {
            parcels.set_selected(ParcelLine::default());
            parcels.set_history(ModelRc::default());
            ParcelNotice::Removed
        }
        ParcelActionResult::Extended {
            expires_at,
            new_code,
        } => {
            parcels.set_notice_deadline(system::local_time(*expires_at).into());
            parcels.set_notice_new_code(*new_code);
            ParcelNotice::Extended
        }
        ParcelActionResult::MarkedForReturn => ParcelNotice::MarkedForReturn,
        ParcelActionResult::DoorFailed {
            compartment,
            outcome,
        } => {
            parcels.set_notice_compartment(*compartment as i32);
            parcels.set_door_failure(match outcome {
                OpenOutcome::Jammed => DoorFailure::Jammed,
                _ => DoorFailure::NoReply,
            });
            ParcelNotice::DoorFailed
        }
        ParcelActionResult::Refused(_) => ParcelNotice::Refused,
        ParcelActionResult::Gone => ParcelNotice::Gone,
        ParcelActionResult::Failed => ParcelNotice::Failed,
    };
    parcels.set_notice(notice);
}

pub(super) fn show(window: &AppWindow, staff: &Rc<Staff>) {
    let parcels = window.global::<MaintenanceParcels>();
    parcels.set_notice(ParcelNotice::None);
    parcels.set_selected(ParcelLine::default());
    WANTED.set(0);
    load_list(window, staff);
}

fn line_of(row: &ParcelEntry) -> ParcelLine {
    ParcelLine {
        id: row.id as i32,
        tracking: row.tracking.clone().into(),
        compartment: row.compartment as i32,
        size: row.size.label().into(),
        recipient: match &row.unit {
            Some(unit) => format!("{} ({unit})", row.recipient),
            None => row.recipient.clone(),
        }
        .into(),
        expired: row.status == ParcelStatus::Expired,
        deadline: row
            .expires_at
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
        deposited: row
            .deposited_at
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
        unconfirmed: !row.confirmed,
        return_requested: row.return_requested,
    }
}

fn load_list(window: &AppWindow, staff: &Staff) {
    let search = SEARCH.with(|s| s.borrow().clone());
    let expired_only = window.global::<MaintenanceParcels>().get_expired_only();
    let read = LIST_READS.get() + 1;
    LIST_READS.set(read);
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        match parcels::list(&service, search, expired_only).await {
            Ok(rows) => {
                let _ = weak.upgrade_in_event_loop(move |window| {
                    if LIST_READS.get() != read {
                        return; // A newer search is on its way.
                    }
                    let lines: Vec<ParcelLine> = rows.iter().map(line_of).collect();
                    window
                        .global::<MaintenanceParcels>()
                        .set_parcels(ModelRc::new(VecModel::from(lines)));
                });
            }
            Err(e) => tracing::error!(error = %e, "reading the parcels failed"),
        }
    });
}

fn load_details(window: &AppWindow, staff: &Staff, parcel: i64) {
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        let details = match parcels::details(&service, parcel).await {
            Ok(details) => details,
            Err(e) => {
                tracing::error!(error = %e, "reading a parcel failed");
                return;
            }
        };
        let _ = weak.upgrade_in_event_loop(move |window| {
            if WANTED.get() == parcel {
                show_details(&window, details);
            }
        });
    });
}

fn show_details(window: &AppWindow, details: Option<ParcelDetails>) {
    let parcels = window.global::<MaintenanceParcels>();
    let Some(details) = details else {
        // It left the locker meanwhile.
        parcels.set_selected(ParcelLine::default());
        parcels.set_history(ModelRc::default());
        return;
    };
    parcels.set_selected(line_of(&details.parcel));
    parcels.set_history(log_lines(&details.history));
    let targets: Vec<i32> = details
        .move_targets
        .iter()
        .take(TARGETS_SHOWN)
        .map(|c| *c as i32)
        .collect();
    parcels.set_move_targets(ModelRc::new(VecModel::from(targets)));
}
