//! The doors tab: the grid drawn like the locker with each door's state,
//! the selected door's details, history and actions, and "open all".

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use super::log::log_lines;
use super::{Staff, current_staff};
use crate::app::Service;
use crate::app::maintenance::doors::{self, DoorStatus};
use crate::app::maintenance::{self as rules, LogEntry, OpenAllSummary, OpenOutcome, TileKind};
use crate::ui::{
    AppWindow, DoorKind, DoorOpenReason, Kiosk, Maintenance, MaintenanceDoor, OpenAllReason,
    OpenAllState, OpenResult, ServiceReason,
};

/// How many events of a door's history its details show.
const HISTORY: u32 = 20;

thread_local! {
    /// The statuses last read, for selecting a door without a store read.
    static STATUSES: RefCell<Vec<DoorStatus>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let maintenance = window.global::<Maintenance>();
    maintenance.on_select(staff.action_with(window, |window, staff, compartment| {
        let maintenance = window.global::<Maintenance>();
        maintenance.set_selected(compartment);
        maintenance.set_last_open(OpenResult::None);
        maintenance.set_selected_history(ModelRc::default());
        show_statuses(window);
        load_history(window, staff, compartment);
    }));
    maintenance.on_open_selected(staff.action_with(
        window,
        |window, staff, reason: DoorOpenReason| {
            let reason = match reason {
                DoorOpenReason::Inspection => rules::DoorOpenReason::Inspection,
                DoorOpenReason::ParcelStuck => rules::DoorOpenReason::ParcelStuck,
            };
            let compartment = window.global::<Maintenance>().get_selected();
            if compartment <= 0 {
                return;
            }
            window
                .global::<Maintenance>()
                .set_last_open(OpenResult::Opening);
            let (weak, service) = (window.as_weak(), staff.service().clone());
            let who = staff.who();
            staff.spawn(async move {
                let outcome =
                    doors::open(&service, &who, compartment as u32, reason.name().into()).await;
                let _ = weak.upgrade_in_event_loop(move |window| {
                    window
                        .global::<Maintenance>()
                        .set_last_open(open_result(outcome));
                    if let Some(staff) = current_staff() {
                        load_history(&window, &staff, compartment);
                    }
                });
                refresh(weak, &service).await;
            });
        },
    ));
    maintenance.on_open_all(
        staff.action_with(window, |window, staff, reason: OpenAllReason| {
            let reason = match reason {
                OpenAllReason::Emptying => rules::OpenAllReason::Emptying,
                OpenAllReason::Inspection => rules::OpenAllReason::Inspection,
                OpenAllReason::Emergency => rules::OpenAllReason::Emergency,
            };
            let maintenance = window.global::<Maintenance>();
            if maintenance.get_open_all_state() == OpenAllState::Running {
                return;
            }
            maintenance.set_open_all_state(OpenAllState::Running);
            let (weak, service) = (window.as_weak(), staff.service().clone());
            let who = staff.who();
            staff.spawn(async move {
                let outcomes = doors::open_all(&service, &who, reason).await;
                let summary = OpenAllSummary::of(&outcomes);
                let _ = weak.upgrade_in_event_loop(move |window| show_open_all(&window, &summary));
                refresh(weak, &service).await;
            });
        }),
    );
    maintenance.on_take_out_of_service(staff.action_with(
        window,
        |window, staff, reason: ServiceReason| {
            let reason = match reason {
                ServiceReason::Broken => rules::ServiceReason::Broken,
                ServiceReason::Cleaning => rules::ServiceReason::Cleaning,
            };
            set_in_service(window, staff, false, reason.name().into())
        },
    ));
    maintenance.on_put_back_in_service(staff.action(window, |window, staff| {
        set_in_service(window, staff, true, String::new())
    }));
}

/// The selected compartment out of service (with `reason`) or back.
fn set_in_service(window: &AppWindow, staff: &Staff, in_service: bool, reason: String) {
    let compartment = window.global::<Maintenance>().get_selected();
    if compartment <= 0 {
        return;
    }
    let (weak, service) = (window.as_weak(), staff.service().clone());
    let who = staff.who();
    staff.spawn(async move {
        if let Err(e) =
            doors::set_in_service(&service, &who, compartment as u32, in_service, reason).await
        {
            tracing::error!(error = %e, "changing a compartment's service failed");
        }
        let history = doors::history(&service, compartment as u32, HISTORY).await;
        let _ = weak.upgrade_in_event_loop(move |window| {
            if let Ok(history) = history {
                show_history(&window, compartment, &history);
            }
        });
        refresh(weak, &service).await;
    });
}

/// Entering maintenance: nothing selected, nothing opened yet.
pub(super) fn reset(window: &AppWindow) {
    let maintenance = window.global::<Maintenance>();
    maintenance.set_selected(0);
    maintenance.set_last_open(OpenResult::None);
    maintenance.set_open_all_state(OpenAllState::Idle);
    maintenance.set_selected_history(ModelRc::default());
}

pub(super) fn show(window: &AppWindow, staff: &Rc<Staff>) {
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move { refresh(weak, &service).await });
}

/// Reads every compartment's status off the UI thread and shows it.
pub(super) async fn refresh(weak: slint::Weak<AppWindow>, service: &Service) {
    match doors::statuses(service).await {
        Ok(statuses) => {
            let _ = weak.upgrade_in_event_loop(move |window| {
                STATUSES.with(|s| *s.borrow_mut() = statuses);
                show_statuses(&window);
            });
        }
        Err(e) => tracing::error!(error = %e, "reading the compartments for maintenance failed"),
    }
}

fn load_history(window: &AppWindow, staff: &Staff, compartment: i32) {
    if compartment <= 0 {
        return;
    }
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        match doors::history(&service, compartment as u32, HISTORY).await {
            Ok(history) => {
                let _ = weak.upgrade_in_event_loop(move |window| {
                    show_history(&window, compartment, &history);
                });
            }
            Err(e) => tracing::error!(error = %e, "reading a compartment's history failed"),
        }
    });
}

fn show_history(window: &AppWindow, compartment: i32, history: &[LogEntry]) {
    let maintenance = window.global::<Maintenance>();
    // Staff may have moved on to another door meanwhile.
    if maintenance.get_selected() == compartment {
        maintenance.set_selected_history(log_lines(history));
    }
}

fn show_open_all(window: &AppWindow, summary: &OpenAllSummary) {
    let list = |doors: &[u32]| {
        doors
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let maintenance = window.global::<Maintenance>();
    maintenance.set_open_all_opened(summary.opened as i32);
    maintenance.set_open_all_already_open(summary.already_open as i32);
    maintenance.set_open_all_jammed(list(&summary.jammed).into());
    maintenance.set_open_all_no_reply(list(&summary.no_reply).into());
    maintenance.set_open_all_state(OpenAllState::Done);
}

pub(super) fn open_result(outcome: OpenOutcome) -> OpenResult {
    match outcome {
        OpenOutcome::Opened => OpenResult::Opened,
        OpenOutcome::AlreadyOpen => OpenResult::AlreadyOpen,
        OpenOutcome::Jammed => OpenResult::Jammed,
        OpenOutcome::NoReply => OpenResult::NoReply,
        OpenOutcome::NotSent => OpenResult::NotSent,
    }
}

fn door_kind(kind: TileKind) -> DoorKind {
    match kind {
        TileKind::Offline => DoorKind::Offline,
        TileKind::Faulty => DoorKind::Faulty,
        TileKind::OutOfService => DoorKind::OutOfService,
        TileKind::Open => DoorKind::Open,
        TileKind::Expired => DoorKind::Expired,
        TileKind::Occupied => DoorKind::Occupied,
        TileKind::Reserved => DoorKind::Reserved,
        TileKind::Free => DoorKind::Free,
    }
}

/// The grid (drawn like the locker) with each door's state, and the
/// selected one's details.
fn show_statuses(window: &AppWindow) {
    STATUSES.with(|statuses| {
        let statuses = statuses.borrow();
        let maintenance = window.global::<Maintenance>();
        let selected = maintenance.get_selected();
        let doors: Vec<MaintenanceDoor> = window
            .global::<Kiosk>()
            .get_door_grid()
            .iter()
            .map(|d| {
                let status = statuses.iter().find(|s| s.number as i32 == d.compartment);
                MaintenanceDoor {
                    compartment: d.compartment,
                    column: d.column,
                    top: d.top,
                    height: d.height,
                    kind: status.map_or(DoorKind::Free, |s| door_kind(s.kind)),
                    selected: d.compartment == selected,
                }
            })
            .collect();
        maintenance.set_doors(ModelRc::new(VecModel::from(doors)));
        if let Some(status) = statuses.iter().find(|s| s.number as i32 == selected) {
            maintenance.set_selected_kind(door_kind(status.kind));
            maintenance.set_selected_reason(status.reason.clone().into());
            maintenance.set_selected_parcel(
                status
                    .parcel
                    .as_ref()
                    .map_or(String::new(), |(id, tracking, parcel_status)| {
                        format!("{tracking} (#{id}, {parcel_status})")
                    })
                    .into(),
            );
            maintenance.set_selected_size(status.size.label().into());
        }
    });
}
