//! Maintenance for site staff: the admin PIN (checked on the store's
//! thread, wrong ones locked out like codes), then the locker's state door
//! by door. Closes itself after the maintenance idle timeout.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use super::{
    AppWindow, DoorKind, Kiosk, Maintenance, MaintenanceDoor, MaintenanceNotice, OpenResult, Page,
    UiContext,
};
use crate::app::maintenance::{self, DoorStatus, StatusKind};
use crate::app::{Service, system};
use crate::domain::codes::{AttemptLimiter, AttemptVerdict};
use crate::domain::pickup::OpenOutcome;
use crate::hardware::doors::DoorEvent;

const MAX_PIN: usize = 12;

/// Whether the maintenance grid is on screen (read by the door-event task).
static GRID_SHOWN: AtomicBool = AtomicBool::new(false);

/// What the maintenance screens keep on the UI thread.
struct State {
    pin: String,
    limiter: AttemptLimiter,
    idle: slint::Timer,
    countdown: slint::Timer,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `f` on the maintenance state (UI thread only).
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(s.borrow_mut().as_mut().expect("maintenance is bound")))
}

fn in_maintenance(window: &AppWindow) -> bool {
    matches!(
        window.global::<Kiosk>().get_page(),
        Page::MaintenancePin | Page::Maintenance
    )
}

pub(super) fn bind_maintenance(window: &AppWindow, context: &UiContext) {
    let config = context.service.config();
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            pin: String::new(),
            limiter: AttemptLimiter::new(config.policies.lockout),
            idle: slint::Timer::default(),
            countdown: slint::Timer::default(),
        })
    });
    let idle_after = Duration::from_secs(u64::from(config.policies.maintenance_idle_timeout_secs));
    let maintenance = window.global::<Maintenance>();
    let service = context.service.clone();
    let runtime = context.runtime.clone();

    // Any action keeps maintenance open; inactivity closes it.
    let touch = {
        let (weak, service, runtime) = (window.as_weak(), service.clone(), runtime.clone());
        move || {
            let (weak, service, runtime) = (weak.clone(), service.clone(), runtime.clone());
            with_state(|state| {
                state
                    .idle
                    .start(slint::TimerMode::SingleShot, idle_after, move || {
                        if let Some(window) = weak.upgrade()
                            && in_maintenance(&window)
                        {
                            tracing::info!("maintenance idle: closing it");
                            leave(&window, &service, &runtime);
                        }
                    })
            });
        }
    };

    let (w, t) = (window.as_weak(), touch.clone());
    maintenance.on_requested(move || {
        if let Some(window) = w.upgrade() {
            with_state(|state| state.pin.clear());
            let maintenance = window.global::<Maintenance>();
            maintenance.set_pin_typed("".into());
            maintenance.set_notice(MaintenanceNotice::None);
            window.global::<Kiosk>().set_page(Page::MaintenancePin);
            t();
        }
    });
    let (w, t) = (window.as_weak(), touch.clone());
    maintenance.on_pin_key(move |digit| {
        let typed = with_state(|state| {
            if state.pin.len() < MAX_PIN {
                state.pin.push_str(&digit);
            }
            state.pin.len()
        });
        show_pin(&w, typed);
        t();
    });
    let (w, t) = (window.as_weak(), touch.clone());
    maintenance.on_pin_erase(move || {
        let typed = with_state(|state| {
            state.pin.pop();
            state.pin.len()
        });
        show_pin(&w, typed);
        t();
    });
    let (w, t, service_, runtime_) = (
        window.as_weak(),
        touch.clone(),
        service.clone(),
        runtime.clone(),
    );
    maintenance.on_pin_ok(move || {
        let Some(window) = w.upgrade() else { return };
        t();
        let (pin, locked) = with_state(|state| {
            let locked = state.limiter.locked_until(system::now()).is_some();
            (std::mem::take(&mut state.pin), locked)
        });
        show_pin(&w, 0);
        if pin.is_empty() || locked {
            return;
        }
        window
            .global::<Maintenance>()
            .set_notice(MaintenanceNotice::Checking);
        let (weak, service, runtime) = (w.clone(), service_.clone(), runtime_.clone());
        runtime_.spawn(async move {
            let opens = maintenance::pin_opens(&service, pin).await;
            let _ = weak.upgrade_in_event_loop(move |window| {
                pin_checked(&window, opens, &service, &runtime);
            });
        });
    });
    let (w, t) = (window.as_weak(), touch.clone());
    maintenance.on_select(move |compartment| {
        if let Some(window) = w.upgrade() {
            window.global::<Maintenance>().set_selected(compartment);
            window
                .global::<Maintenance>()
                .set_last_open(OpenResult::None);
            show_statuses(&window, &[]);
        }
        t();
    });
    let (w, t, service_, runtime_) = (
        window.as_weak(),
        touch.clone(),
        service.clone(),
        runtime.clone(),
    );
    maintenance.on_open_selected(move |reason| {
        t();
        let Some(window) = w.upgrade() else { return };
        let compartment = window.global::<Maintenance>().get_selected();
        if compartment <= 0 {
            return;
        }
        window
            .global::<Maintenance>()
            .set_last_open(OpenResult::Opening);
        let (weak, service) = (w.clone(), service_.clone());
        runtime_.spawn(async move {
            let outcome = maintenance::open(&service, compartment as u32, reason.to_string()).await;
            let _ = weak.upgrade_in_event_loop(move |window| {
                window.global::<Maintenance>().set_last_open(match outcome {
                    OpenOutcome::Opened => OpenResult::Opened,
                    OpenOutcome::AlreadyOpen => OpenResult::AlreadyOpen,
                    OpenOutcome::Jammed => OpenResult::Jammed,
                    OpenOutcome::NoReply => OpenResult::NoReply,
                });
            });
            refresh(weak, &service).await;
        });
    });
    for in_service in [false, true] {
        let (w, t, service_, runtime_) = (
            window.as_weak(),
            touch.clone(),
            service.clone(),
            runtime.clone(),
        );
        let change = move |reason: String| {
            t();
            let Some(window) = w.upgrade() else { return };
            let compartment = window.global::<Maintenance>().get_selected();
            if compartment <= 0 {
                return;
            }
            let (weak, service) = (w.clone(), service_.clone());
            runtime_.spawn(async move {
                if let Err(e) =
                    maintenance::set_in_service(&service, compartment as u32, in_service, reason)
                        .await
                {
                    tracing::error!(error = %e, "changing a compartment's service failed");
                }
                refresh(weak, &service).await;
            });
        };
        if in_service {
            maintenance.on_put_back_in_service(move || change(String::new()));
        } else {
            maintenance.on_take_out_of_service(move |reason| change(reason.to_string()));
        }
    }
    let (w, service_, runtime_) = (window.as_weak(), service.clone(), runtime.clone());
    maintenance.on_leave(move || {
        if let Some(window) = w.upgrade() {
            leave(&window, &service_, &runtime_);
        }
    });

    // Doors and boards change while staff look: the grid follows.
    let mut events = service.doors().subscribe();
    let weak = window.as_weak();
    runtime.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(
                    DoorEvent::DoorChanged { .. }
                    | DoorEvent::BoardOffline { .. }
                    | DoorEvent::BoardOnline { .. },
                )
                | Err(RecvError::Lagged(_)) => {
                    // Only while staff look at the grid: a pickup's door
                    // movements cost no store reads.
                    if GRID_SHOWN.load(Ordering::Acquire) {
                        refresh(weak.clone(), &service).await;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn show_pin(window: &slint::Weak<AppWindow>, digits: usize) {
    if let Some(window) = window.upgrade() {
        window
            .global::<Maintenance>()
            .set_pin_typed("•".repeat(digits).into());
    }
}

fn pin_checked(
    window: &AppWindow,
    opens: bool,
    service: &Service,
    runtime: &tokio::runtime::Handle,
) {
    let maintenance = window.global::<Maintenance>();
    if opens {
        with_state(|state| state.limiter.record_success());
        maintenance.set_notice(MaintenanceNotice::None);
        maintenance.set_selected(0);
        maintenance.set_last_open(OpenResult::None);
        window.global::<Kiosk>().set_page(Page::Maintenance);
        GRID_SHOWN.store(true, Ordering::Release);
        let service = service.clone();
        let weak = window.as_weak();
        runtime.spawn(async move {
            maintenance::record(&service, "maintenance_entered").await;
            refresh(weak, &service).await;
        });
        return;
    }
    let verdict = with_state(|state| state.limiter.record_failure(system::now()));
    match verdict {
        AttemptVerdict::TryAgain { attempts_left } => {
            maintenance.set_notice(MaintenanceNotice::WrongPin);
            maintenance.set_attempts_left(attempts_left as i32);
        }
        AttemptVerdict::LockedOut { until } => {
            maintenance.set_notice(MaintenanceNotice::LockedOut);
            let weak = window.as_weak();
            let tick = move || {
                let Some(window) = weak.upgrade() else { return };
                let left = (system::now().millis_until(until) as u64).div_ceil(1000);
                let maintenance = window.global::<Maintenance>();
                maintenance.set_lockout_seconds(left as i32);
                if left == 0 && maintenance.get_notice() == MaintenanceNotice::LockedOut {
                    maintenance.set_notice(MaintenanceNotice::None);
                }
            };
            tick();
            with_state(|state| {
                state
                    .countdown
                    .start(slint::TimerMode::Repeated, Duration::from_secs(1), tick)
            });
        }
    }
}

fn leave(window: &AppWindow, service: &Service, runtime: &tokio::runtime::Handle) {
    let entered = window.global::<Kiosk>().get_page() == Page::Maintenance;
    window.global::<Kiosk>().set_page(Page::Home);
    window.global::<Maintenance>().set_selected(0);
    GRID_SHOWN.store(false, Ordering::Release);
    if entered {
        let service = service.clone();
        runtime.spawn(async move { maintenance::record(&service, "maintenance_left").await });
    }
}

/// Reads every compartment's status off the UI thread and shows it.
async fn refresh(weak: slint::Weak<AppWindow>, service: &Service) {
    let statuses = maintenance::statuses(service).await;
    let _ = weak.upgrade_in_event_loop(move |window| {
        STATUSES.with(|s| *s.borrow_mut() = statuses.clone());
        show_statuses(&window, &statuses);
    });
}

thread_local! {
    static STATUSES: RefCell<Vec<DoorStatus>> = const { RefCell::new(Vec::new()) };
}

fn kind_of(kind: StatusKind) -> DoorKind {
    match kind {
        StatusKind::Offline => DoorKind::Offline,
        StatusKind::Faulty => DoorKind::Faulty,
        StatusKind::OutOfService => DoorKind::OutOfService,
        StatusKind::Open => DoorKind::Open,
        StatusKind::Expired => DoorKind::Expired,
        StatusKind::Occupied => DoorKind::Occupied,
        StatusKind::Free => DoorKind::Free,
    }
}

/// The grid (drawn like the locker) with each door's state, and the
/// selected one's details.
fn show_statuses(window: &AppWindow, statuses: &[DoorStatus]) {
    let statuses: Vec<DoorStatus> = if statuses.is_empty() {
        STATUSES.with(|s| s.borrow().clone())
    } else {
        statuses.to_vec()
    };
    let kiosk = window.global::<Kiosk>();
    let maintenance = window.global::<Maintenance>();
    let selected = maintenance.get_selected();
    let doors: Vec<MaintenanceDoor> = kiosk
        .get_door_grid()
        .iter()
        .map(|d| {
            let status = statuses.iter().find(|s| s.number as i32 == d.compartment);
            MaintenanceDoor {
                compartment: d.compartment,
                column: d.column,
                top: d.top,
                height: d.height,
                kind: status.map_or(DoorKind::Free, |s| kind_of(s.kind)),
                selected: d.compartment == selected,
            }
        })
        .collect();
    maintenance.set_doors(ModelRc::new(VecModel::from(doors)));
    if let Some(status) = statuses.iter().find(|s| s.number as i32 == selected) {
        maintenance.set_selected_kind(kind_of(status.kind));
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
}
