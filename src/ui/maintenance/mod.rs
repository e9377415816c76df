//! Maintenance for site staff: the admin PIN (checked on the store's
//! thread, wrong ones locked out like codes), then one tab per part, each
//! with its adapter module. Closes itself after the maintenance idle
//! timeout; every action keeps it open.
//!
//! While staff are in maintenance the screen is theirs
//! ([`ScreenOwner::Staff`]): a code shown to the camera is a test scan,
//! never someone's pickup.

mod doors;
mod hardware;
mod log;
mod parcels;
mod reports;
mod settings;

use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use slint::{ComponentHandle, SharedString};

use super::{AppWindow, Kiosk, Maintenance, MaintenanceNotice, MaintenanceTab, Page, UiContext};
use crate::app::maintenance;
use crate::app::{ScreenOwner, Service, system};
use crate::domain::codes::{AttemptLimiter, AttemptVerdict};
use crate::domain::maintenance::PinHolder;
use crate::hardware::doors::DoorEvent;

const MAX_PIN: usize = 12;

/// What every maintenance adapter shares, on the UI thread.
pub(super) struct Staff {
    service: Service,
    runtime: tokio::runtime::Handle,
    idle_after: Duration,
    idle: slint::Timer,
    pin: RefCell<String>,
    /// Whose PIN opened maintenance: every action is recorded as theirs.
    signed_in: RefCell<PinHolder>,
    limiter: RefCell<AttemptLimiter>,
    countdown: slint::Timer,
    /// What tasks on other threads need to know: whether maintenance is
    /// on screen, and which tab.
    on_screen: Arc<OnScreen>,
    /// Runs once a second while the hardware tab is shown.
    ticker: slint::Timer,
    this: Weak<Staff>,
}

/// Shared with the service's tasks (door events, scans).
#[derive(Default)]
pub(super) struct OnScreen {
    shown: AtomicBool,
    tab: AtomicU8,
}

impl OnScreen {
    /// Whether `tab` of maintenance is what staff look at.
    pub(super) fn showing(&self, tab: MaintenanceTab) -> bool {
        self.shown.load(Ordering::Acquire) && self.tab.load(Ordering::Acquire) == tab_index(tab)
    }
}

fn tab_index(tab: MaintenanceTab) -> u8 {
    match tab {
        MaintenanceTab::Doors => 0,
        MaintenanceTab::Parcels => 1,
        MaintenanceTab::Reports => 2,
        MaintenanceTab::Hardware => 3,
        MaintenanceTab::Log => 4,
        MaintenanceTab::Settings => 5,
    }
}

impl Staff {
    /// Any action keeps maintenance open; inactivity closes it.
    pub(super) fn touch(&self, window: &AppWindow) {
        let (weak, staff) = (window.as_weak(), self.this.clone());
        self.idle
            .start(slint::TimerMode::SingleShot, self.idle_after, move || {
                if let (Some(window), Some(staff)) = (weak.upgrade(), staff.upgrade())
                    && in_maintenance(&window)
                {
                    tracing::info!("maintenance idle: closing it");
                    leave(&window, &staff);
                }
            });
    }

    /// A callback for something staff touch: it keeps maintenance open,
    /// then does `act` with the window.
    pub(super) fn action(
        self: &Rc<Self>,
        window: &AppWindow,
        act: impl Fn(&AppWindow, &Rc<Staff>) + 'static,
    ) -> impl Fn() + 'static {
        let action = self.action_with(window, move |window, staff, ()| act(window, staff));
        move || action(())
    }

    /// The same for a callback with an argument.
    pub(super) fn action_with<A>(
        self: &Rc<Self>,
        window: &AppWindow,
        act: impl Fn(&AppWindow, &Rc<Staff>, A) + 'static,
    ) -> impl Fn(A) + 'static {
        let (weak, staff) = (window.as_weak(), self.clone());
        move |argument| {
            if let Some(window) = weak.upgrade() {
                staff.touch(&window);
                act(&window, &staff, argument);
            }
        }
    }

    /// Who is in maintenance now.
    pub(super) fn who(&self) -> PinHolder {
        self.signed_in.borrow().clone()
    }

    pub(super) fn service(&self) -> &Service {
        &self.service
    }

    /// Runs `work` on the service's runtime, off the UI thread.
    pub(super) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(work);
    }
}

fn in_maintenance(window: &AppWindow) -> bool {
    matches!(
        window.global::<Kiosk>().get_page(),
        Page::MaintenancePin | Page::Maintenance
    )
}

pub(super) fn bind_maintenance(window: &AppWindow, context: &UiContext) {
    let config = context.service.config();
    let staff = Rc::new_cyclic(|this| Staff {
        service: context.service.clone(),
        runtime: context.runtime.clone(),
        idle_after: Duration::from_secs(u64::from(config.policies.maintenance_idle_timeout_secs)),
        idle: slint::Timer::default(),
        pin: RefCell::new(String::new()),
        signed_in: RefCell::new(PinHolder::Site),
        limiter: RefCell::new(AttemptLimiter::new(config.policies.lockout)),
        countdown: slint::Timer::default(),
        on_screen: Arc::new(OnScreen::default()),
        ticker: slint::Timer::default(),
        this: this.clone(),
    });
    STAFF.with(|s| *s.borrow_mut() = Rc::downgrade(&staff));
    bind_entry(window, &staff);
    doors::bind(window, &staff);
    parcels::bind(window, &staff);
    reports::bind(window, &staff);
    hardware::bind(window, &staff);
    log::bind(window, &staff);
    settings::bind(window, &staff);
    follow_doors(window, &staff);
}

/// The hidden entry, the PIN, the tabs and the way out.
fn bind_entry(window: &AppWindow, staff: &Rc<Staff>) {
    let maintenance = window.global::<Maintenance>();
    maintenance.on_requested(staff.action(window, |window, staff| {
        if !staff.service.claim_screen(ScreenOwner::Staff) {
            staff.idle.stop();
            return;
        }
        staff.pin.borrow_mut().clear();
        let maintenance = window.global::<Maintenance>();
        maintenance.set_pin_typed("".into());
        maintenance.set_notice(MaintenanceNotice::None);
        window.global::<Kiosk>().set_page(Page::MaintenancePin);
    }));
    maintenance.on_pin_key(
        staff.action_with(window, |window, staff, digit: SharedString| {
            let mut pin = staff.pin.borrow_mut();
            if pin.len() < MAX_PIN {
                pin.push_str(&digit);
            }
            show_pin(window, pin.len());
        }),
    );
    maintenance.on_pin_erase(staff.action(window, |window, staff| {
        let mut pin = staff.pin.borrow_mut();
        pin.pop();
        show_pin(window, pin.len());
    }));
    maintenance.on_pin_ok(staff.action(window, |window, staff| {
        let pin = std::mem::take(&mut *staff.pin.borrow_mut());
        let locked = staff.limiter.borrow().locked_until(system::now()).is_some();
        show_pin(window, 0);
        if pin.is_empty() || locked {
            return;
        }
        window
            .global::<Maintenance>()
            .set_notice(MaintenanceNotice::Checking);
        let (weak, service) = (window.as_weak(), staff.service.clone());
        staff.spawn(async move {
            let opens = maintenance::pin_opens(&service, pin).await;
            let _ = weak.upgrade_in_event_loop(move |window| pin_checked(&window, opens));
        });
    }));
    maintenance.on_tab_chosen(staff.action_with(window, show_tab));
    let (w, s) = (window.as_weak(), staff.clone());
    // Leaving is no activity: it must not start the idle timer again.
    maintenance.on_leave(move || {
        if let Some(window) = w.upgrade() {
            leave(&window, &s);
        }
    });
}

/// Switches to `tab` and fetches what it shows.
fn show_tab(window: &AppWindow, staff: &Rc<Staff>, tab: MaintenanceTab) {
    window.global::<Maintenance>().set_tab(tab);
    staff.on_screen.tab.store(tab_index(tab), Ordering::Release);
    staff.ticker.stop();
    match tab {
        MaintenanceTab::Doors => doors::show(window, staff),
        MaintenanceTab::Parcels => parcels::show(window, staff),
        MaintenanceTab::Reports => reports::show(window, staff),
        MaintenanceTab::Hardware => hardware::show(window, staff),
        MaintenanceTab::Log => log::show(window, staff),
        MaintenanceTab::Settings => settings::show(window, staff),
    }
}

fn show_pin(window: &AppWindow, digits: usize) {
    window
        .global::<Maintenance>()
        .set_pin_typed("•".repeat(digits).into());
}

thread_local! {
    /// The adapters' shared state, for answers that come back through the
    /// event loop (which cannot carry an `Rc`).
    static STAFF: RefCell<Weak<Staff>> = const { RefCell::new(Weak::new()) };
}

/// The adapters' shared state, from an answer that came back through the
/// event loop.
pub(super) fn current_staff() -> Option<Rc<Staff>> {
    STAFF.with(|s| s.borrow().upgrade())
}

fn pin_checked(window: &AppWindow, opens: Option<PinHolder>) {
    let Some(staff) = current_staff() else { return };
    let maintenance = window.global::<Maintenance>();
    if let Some(who) = opens {
        maintenance.set_signed_in(who.name().unwrap_or_default().into());
        *staff.signed_in.borrow_mut() = who.clone();
        staff.limiter.borrow_mut().record_success();
        maintenance.set_notice(MaintenanceNotice::None);
        window.global::<Kiosk>().set_page(Page::Maintenance);
        staff.on_screen.shown.store(true, Ordering::Release);
        doors::reset(window);
        show_tab(window, &staff, MaintenanceTab::Doors);
        reports::show(window, &staff);
        let service = staff.service.clone();
        staff
            .spawn(async move { maintenance::record(&service, &who, "maintenance_entered").await });
        return;
    }
    let verdict = staff.limiter.borrow_mut().record_failure(system::now());
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
            staff
                .countdown
                .start(slint::TimerMode::Repeated, Duration::from_secs(1), tick);
        }
    }
}

fn leave(window: &AppWindow, staff: &Staff) {
    let entered = window.global::<Kiosk>().get_page() == Page::Maintenance;
    window.global::<Kiosk>().set_page(Page::Home);
    staff.on_screen.shown.store(false, Ordering::Release);
    staff.ticker.stop();
    staff.idle.stop();
    staff.service.release_screen(ScreenOwner::Staff);
    super::end_session(window);
    if entered {
        let (service, who) = (staff.service.clone(), staff.who());
        staff.spawn(async move { maintenance::record(&service, &who, "maintenance_left").await });
    }
}

/// Doors and boards change while staff look: the grid, the door's history
/// and the hardware page follow.
fn follow_doors(window: &AppWindow, staff: &Rc<Staff>) {
    let mut events = staff.service.doors().subscribe();
    let (weak, service, on_screen) = (
        window.as_weak(),
        staff.service.clone(),
        staff.on_screen.clone(),
    );
    staff.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let boards = match events.recv().await {
                Ok(DoorEvent::DoorChanged { .. }) => false,
                Ok(DoorEvent::BoardOffline { .. } | DoorEvent::BoardOnline { .. })
                | Err(RecvError::Lagged(_)) => true,
                Ok(_) => continue,
                Err(RecvError::Closed) => break,
            };
            // Only while staff look: a pickup's door movements cost no
            // store reads.
            if on_screen.showing(MaintenanceTab::Doors) {
                doors::refresh(weak.clone(), &service).await;
            } else if boards && on_screen.showing(MaintenanceTab::Hardware) {
                hardware::refresh(weak.clone(), &service).await;
            }
        }
    });
}
