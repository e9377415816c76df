//! The settings tab: a new PIN for whoever came in (typed twice, checked
//! against the rules before anything is saved), the default language, and
//! the whole locker in or out of service.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, SharedString};

use super::Staff;
use crate::app::kiosk::Input;
use crate::app::maintenance::settings::{self, Closure, PinChange};
use crate::app::maintenance::settings::{AdminPinError, validate_admin_pin};
use crate::ui::host;
use crate::ui::{AppWindow, Kiosk, MaintenanceSettings, PinProblem, PinStep};

const MAX_PIN: usize = 12;

/// The PIN being typed, and the first one once it was typed.
#[derive(Default)]
struct PinEntry {
    typed: String,
    first: Option<String>,
}

thread_local! {
    static ENTRY: RefCell<PinEntry> = RefCell::new(PinEntry::default());
}

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let settings = window.global::<MaintenanceSettings>();
    settings.on_change_pin(staff.action(window, |window, _| {
        ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
        show_step(window, PinStep::NewPin);
    }));
    settings.on_pin_cancel(staff.action(window, |window, _| {
        ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
        show_step(window, PinStep::Idle);
    }));
    settings.on_pin_key(staff.action_with(window, |window, _, digit: SharedString| {
        ENTRY.with(|e| {
            let mut e = e.borrow_mut();
            if e.typed.len() < MAX_PIN {
                e.typed.push_str(&digit);
            }
        });
        show_typed(window);
    }));
    settings.on_pin_erase(staff.action(window, |window, _| {
        ENTRY.with(|e| e.borrow_mut().typed.pop());
        show_typed(window);
    }));
    settings.on_pin_ok(staff.action(window, |window, staff| pin_entered(window, staff)));
    settings.on_locker_service_toggled(
        staff.action(window, |window, staff| toggle_locker_service(window, staff)),
    );
    settings.on_default_language_chosen(staff.action_with(
        window,
        |window, staff, language: SharedString| {
            let (weak, service) = (window.as_weak(), staff.service().clone());
            let who = staff.who();
            staff.spawn(async move {
                let chosen = language.to_string();
                if let Err(e) = settings::set_default_language(&service, &who, chosen.clone()).await
                {
                    tracing::error!(error = %e, "setting the default language failed");
                    return;
                }
                let _ = weak.upgrade_in_event_loop(move |window| {
                    window
                        .global::<MaintenanceSettings>()
                        .set_default_language(chosen.clone().into());
                    window
                        .global::<Kiosk>()
                        .set_default_language(chosen.clone().into());
                    host::input(Input::DefaultLanguageChanged(chosen));
                });
            });
        },
    ));
}

pub(super) fn show(window: &AppWindow, staff: &Rc<Staff>) {
    ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
    let settings = window.global::<MaintenanceSettings>();
    settings.set_pin_step(PinStep::Idle);
    settings.set_pin_typed("".into());
    settings.set_default_language(window.global::<Kiosk>().get_default_language());
    settings.set_locker_service_failed(false);
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move {
        match settings::locker_closure(&service).await {
            Ok(closure) => {
                let _ = weak.upgrade_in_event_loop(move |window| show_closure(&window, &closure));
            }
            Err(e) => {
                tracing::error!(error = %e, "reading whether the locker is in service failed")
            }
        }
    });
}

/// "Take the locker out of service" or "Put it back", off the UI thread.
fn toggle_locker_service(window: &AppWindow, staff: &Staff) {
    let settings = window.global::<MaintenanceSettings>();
    let in_service = settings.get_locker_out();
    settings.set_locker_service_failed(false);
    let (weak, service) = (window.as_weak(), staff.service().clone());
    let who = staff.who();
    staff.spawn(async move {
        let done = settings::set_locker_in_service(&service, &who, in_service).await;
        let _ = weak.upgrade_in_event_loop(move |window| match done {
            Ok(closure) => show_closure(&window, &closure),
            Err(e) => {
                tracing::error!(error = %e, "taking the locker out of service or back failed");
                let settings = window.global::<MaintenanceSettings>();
                settings.set_locker_service_failed(true);
            }
        });
    });
}

fn show_closure(window: &AppWindow, closure: &Option<Closure>) {
    let settings = window.global::<MaintenanceSettings>();
    settings.set_locker_out(closure.is_some());
    if let Some(closure) = closure {
        let since = crate::app::system::local_time(closure.since);
        settings.set_locker_out_since(since.into());
        settings.set_locker_out_reason(closure.reason.clone().into());
    }
}

fn show_step(window: &AppWindow, step: PinStep) {
    window.global::<MaintenanceSettings>().set_pin_step(step);
    show_typed(window);
}

fn show_typed(window: &AppWindow) {
    let digits = ENTRY.with(|e| e.borrow().typed.len());
    window
        .global::<MaintenanceSettings>()
        .set_pin_typed("•".repeat(digits).into());
}

/// "Enter" on the keypad: the first PIN is checked against the rules, the
/// second must match it, then the PIN is saved off the UI thread.
fn pin_entered(window: &AppWindow, staff: &Staff) {
    let (typed, first) = ENTRY.with(|e| {
        let mut e = e.borrow_mut();
        (std::mem::take(&mut e.typed), e.first.clone())
    });
    let settings = window.global::<MaintenanceSettings>();
    match first {
        None => match validate_admin_pin(&typed) {
            Ok(()) => {
                ENTRY.with(|e| e.borrow_mut().first = Some(typed));
                show_step(window, PinStep::Again);
            }
            Err(problem) => {
                settings.set_pin_problem(match problem {
                    AdminPinError::Weak => PinProblem::Weak,
                    AdminPinError::Length | AdminPinError::NotDigits => PinProblem::Length,
                });
                ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
                show_step(window, PinStep::Invalid);
            }
        },
        Some(first) if first != typed => {
            ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
            show_step(window, PinStep::Mismatch);
        }
        Some(pin) => {
            ENTRY.with(|e| *e.borrow_mut() = PinEntry::default());
            show_step(window, PinStep::Saving);
            let (weak, service) = (window.as_weak(), staff.service().clone());
            let who = staff.who();
            staff.spawn(async move {
                let step = match settings::change_pin(&service, &who, pin).await {
                    Ok(PinChange::Changed) => PinStep::Done,
                    Ok(PinChange::Taken) => PinStep::Invalid,
                    Err(e) => {
                        tracing::error!(error = %e, "changing the admin PIN failed");
                        PinStep::Failed
                    }
                };
                let _ = weak.upgrade_in_event_loop(move |window| {
                    if step == PinStep::Invalid {
                        let settings = window.global::<MaintenanceSettings>();
                        settings.set_pin_problem(PinProblem::Taken);
                    }
                    show_step(&window, step)
                });
            });
        }
    }
}
