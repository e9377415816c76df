//! The log tab: the audit log newest first, filtered, a page at a time.
//! Also how any list of events (a door's or a parcel's history) is shown.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::Staff;
use crate::app::maintenance::LogEntry;
use crate::app::maintenance::log::{self, LogFilter, PAGE};
use crate::app::system;
use crate::ui::{AppWindow, LogFilterKind, LogIntegrity, LogLine, MaintenanceLog};

thread_local! {
    /// The oldest event on each page shown so far, for paging back.
    static PAGES: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Events as the log and the histories show them.
pub(super) fn log_lines(events: &[LogEntry]) -> ModelRc<LogLine> {
    let lines: Vec<LogLine> = events
        .iter()
        .map(|event| LogLine {
            at: system::local_time(event.at).into(),
            kind: event.kind.clone().into(),
            actor: event.actor.clone().into(),
            compartment: event.compartment.map_or(0, |c| c as i32),
            detail: event.detail.clone().into(),
        })
        .collect();
    ModelRc::new(VecModel::from(lines))
}

fn filter_of(kind: LogFilterKind) -> LogFilter {
    match kind {
        LogFilterKind::All => LogFilter::All,
        LogFilterKind::Staff => LogFilter::Staff,
        LogFilterKind::Doors => LogFilter::Doors,
        LogFilterKind::Parcels => LogFilter::Parcels,
        LogFilterKind::Alarms => LogFilter::Alarms,
    }
}

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let log = window.global::<MaintenanceLog>();
    log.on_filter_chosen(staff.action_with(window, |window, staff, filter| {
        window.global::<MaintenanceLog>().set_filter(filter);
        load(window, staff, None);
    }));
    log.on_older(staff.action(window, |window, staff| {
        let before = PAGES.with(|p| p.borrow().last().copied());
        if before.is_some() {
            load(window, staff, before);
        }
    }));
    log.on_newest(staff.action(window, |window, staff| load(window, staff, None)));
}

pub(super) fn show(window: &AppWindow, staff: &Rc<Staff>) {
    load(window, staff, None);
    check_chain(window, staff);
}

/// Checks the log's hash chain (on the store's thread) and says on the tab
/// when it is broken.
fn check_chain(window: &AppWindow, staff: &Staff) {
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        let found = match service.call(|store| store.verify_log()).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "checking the audit log failed");
                return;
            }
        };
        let (integrity, entry) = log::integrity(&found);
        let _ = weak.upgrade_in_event_loop(move |window| {
            let log = window.global::<MaintenanceLog>();
            log.set_integrity(match integrity {
                log::Integrity::Intact => LogIntegrity::Intact,
                log::Integrity::Altered => LogIntegrity::Altered,
                log::Integrity::Lost => LogIntegrity::Lost,
            });
            log.set_integrity_entry(entry);
        });
    });
}

/// Loads the newest page, or the one older than event `before`.
fn load(window: &AppWindow, staff: &Staff, before: Option<i64>) {
    let filter = filter_of(window.global::<MaintenanceLog>().get_filter());
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        let events = match log::page(&service, filter, before).await {
            Ok(events) => events,
            Err(e) => {
                tracing::error!(error = %e, "reading the audit log failed");
                return;
            }
        };
        let _ = weak.upgrade_in_event_loop(move |window| {
            PAGES.with(|pages| {
                let mut pages = pages.borrow_mut();
                if before.is_none() {
                    pages.clear();
                }
                if let Some(oldest) = events.last() {
                    pages.push(oldest.id);
                }
            });
            let log = window.global::<MaintenanceLog>();
            log.set_lines(log_lines(&events));
            log.set_more(events.len() == PAGE as usize);
            log.set_paged(before.is_some());
        });
    });
}
