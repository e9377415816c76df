//! Maintenance for site staff: the tabs behind the admin PIN, one adapter
//! module each. The session itself (the PIN, who came in, the idle
//! timeout, the page) is the kiosk driver's (`app::kiosk`); every action
//! here tells it so, which keeps maintenance open.
//!
//! While staff are in maintenance the screen is theirs: a code shown to
//! the camera is a test scan, never someone's pickup.

mod doors;
mod hardware;
mod loading;
mod log;
mod parcels;
mod reports;
mod settings;

use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use slint::ComponentHandle;

use super::{AppWindow, Maintenance, MaintenanceNotice, MaintenanceTab, UiContext, host};
use crate::app::Service;
use crate::app::kiosk::{Input, KioskView, Page, PinNotice};
use crate::app::maintenance::PinHolder;
use crate::app::maintenance::doors::{DoorChange, DoorWatch};

/// What every maintenance adapter shares, on the UI thread.
pub(super) struct Staff {
    service: Service,
    runtime: tokio::runtime::Handle,
    /// Whose PIN opened maintenance: every action is recorded as theirs.
    signed_in: RefCell<PinHolder>,
    /// What tasks on other threads need to know: whether maintenance is
    /// on screen, and which tab.
    on_screen: Arc<OnScreen>,
    /// Runs once a second while the hardware tab is shown.
    ticker: slint::Timer,
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
        MaintenanceTab::Loading => 6,
    }
}

impl Staff {
    /// Any action keeps maintenance open; inactivity closes it.
    pub(super) fn touch(&self, _window: &AppWindow) {
        host::input(Input::Touch);
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

pub(super) fn bind_maintenance(window: &AppWindow, context: &UiContext) {
    let staff = Rc::new(Staff {
        service: context.service.clone(),
        runtime: context.runtime.clone(),
        signed_in: RefCell::new(PinHolder::Site),
        on_screen: Arc::new(OnScreen::default()),
        ticker: slint::Timer::default(),
    });
    STAFF.with(|s| *s.borrow_mut() = Rc::downgrade(&staff));
    bind_entry(window, &staff);
    doors::bind(window, &staff);
    parcels::bind(window, &staff);
    loading::bind(window, &staff);
    reports::bind(window, &staff);
    hardware::bind(window, &staff);
    log::bind(window, &staff);
    settings::bind(window, &staff);
    follow_doors(window, &staff);
}

/// The hidden entry, the PIN, the tabs and the way out: the entry, the
/// PIN and leaving are the kiosk driver's.
fn bind_entry(window: &AppWindow, staff: &Rc<Staff>) {
    let maintenance = window.global::<Maintenance>();
    maintenance.on_requested(|| host::input(Input::MaintenanceRequested));
    maintenance.on_pin_key(|digit| host::input(Input::Key(digit.into())));
    maintenance.on_pin_erase(|| host::input(Input::Erase));
    maintenance.on_pin_ok(|| host::input(Input::Enter));
    maintenance.on_tab_chosen(staff.action_with(window, show_tab));
    maintenance.on_leave(|| host::input(Input::Leave));
}

/// Switches to `tab` and fetches what it shows.
fn show_tab(window: &AppWindow, staff: &Rc<Staff>, tab: MaintenanceTab) {
    window.global::<Maintenance>().set_tab(tab);
    staff.on_screen.tab.store(tab_index(tab), Ordering::Release);
    staff.ticker.stop();
    match tab {
        MaintenanceTab::Doors => doors::show(window, staff),
        MaintenanceTab::Parcels => parcels::show(window, staff),
        MaintenanceTab::Loading => loading::show(window, staff),
        MaintenanceTab::Reports => reports::show(window, staff),
        MaintenanceTab::Hardware => hardware::show(window, staff),
        MaintenanceTab::Log => log::show(window, staff),
        MaintenanceTab::Settings => settings::show(window, staff),
    }
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

/// The PIN screen and who is in, from the kiosk's view; entering and
/// leaving maintenance set the tabs up and down.
pub(super) fn show_staff(window: &AppWindow, view: &KioskView, before: Option<Page>) {
    let maintenance = window.global::<Maintenance>();
    let (notice, attempts, seconds) = match view.staff.notice {
        PinNotice::None => (MaintenanceNotice::None, 0, 0),
        PinNotice::Checking => (MaintenanceNotice::Checking, 0, 0),
        PinNotice::WrongPin { attempts_left } => {
            (MaintenanceNotice::WrongPin, attempts_left as i32, 0)
        }
        PinNotice::LockedOut { seconds } => (MaintenanceNotice::LockedOut, 0, seconds as i32),
    };
    maintenance.set_notice(notice);
    if attempts > 0 {
        maintenance.set_attempts_left(attempts);
    }
    maintenance.set_lockout_seconds(seconds);
    let pin_typed = if view.page == Page::MaintenancePin {
        view.typed.clone()
    } else {
        String::new()
    };
    maintenance.set_pin_typed(pin_typed.into());
    let Some(staff) = current_staff() else { return };
    let was_in = before == Some(Page::Maintenance);
    let is_in = view.page == Page::Maintenance;
    if is_in && !was_in {
        let who = view.staff.signed_in.clone().unwrap_or(PinHolder::Site);
        maintenance.set_signed_in(who.name().unwrap_or_default().into());
        *staff.signed_in.borrow_mut() = who;
        staff.on_screen.shown.store(true, Ordering::Release);
        doors::reset(window);
        loading::reset(window);
        show_tab(window, &staff, MaintenanceTab::Doors);
        reports::show(window, &staff);
        // The tab appears only while items wait to be loaded.
        loading::show(window, &staff);
    } else if was_in && !is_in {
        staff.on_screen.shown.store(false, Ordering::Release);
        staff.ticker.stop();
    }
}

/// Doors and boards change while staff look: the grid, the door's history
/// and the hardware page follow.
fn follow_doors(window: &AppWindow, staff: &Rc<Staff>) {
    let mut changes = DoorWatch::new(&staff.service);
    let (weak, service, on_screen) = (
        window.as_weak(),
        staff.service.clone(),
        staff.on_screen.clone(),
    );
    staff.spawn(async move {
        while let Some(change) = changes.next().await {
            // Only while staff look: a pickup's door movements cost no
            // store reads.
            if on_screen.showing(MaintenanceTab::Doors) {
                doors::refresh(weak.clone(), &service).await;
            } else if change == DoorChange::Boards && on_screen.showing(MaintenanceTab::Hardware) {
                hardware::refresh(weak.clone(), &service).await;
            }
        }
    });
}
