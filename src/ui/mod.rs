//! The adapters between the Slint UI (`ui/`, compiled by build.rs) and the
//! application service. `main` and the UI tests both go through [`bind`],
//! so the tests drive exactly what the kiosk runs.
//!
//! Rule: nothing here blocks. Work goes to the service; answers come back
//! through `upgrade_in_event_loop` on a weak handle.

slint::include_modules!();

use crate::app::{Overview, Service};
use crate::hardware::doors::DoorEvent;

/// Everything the UI needs from the outside world.
pub struct UiContext {
    pub service: Service,
    /// Where the service's async work runs.
    pub runtime: tokio::runtime::Handle,
}

/// Wires a window to the service: sets the static properties, installs the
/// callbacks, and starts filling in the live ones.
pub fn bind(window: &AppWindow, context: &UiContext) {
    let kiosk = window.global::<Kiosk>();
    kiosk.set_locker_name(context.service.config().locker.name.clone().into());
    kiosk.set_status_text("Starting…".into());
    kiosk.on_pickup_chosen(|| tracing::info!("pickup chosen"));
    kiosk.on_deliver_chosen(|| tracing::info!("delivery chosen"));
    let weak = window.as_weak();
    let service = context.service.clone();
    context
        .runtime
        .spawn(refresh_overview(weak.clone(), service.clone()));
    // A board going offline or coming back changes what the strip says.
    let mut doors = service.doors().subscribe();
    context.runtime.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match doors.recv().await {
                Ok(DoorEvent::BoardOffline { .. } | DoorEvent::BoardOnline { .. })
                | Err(RecvError::Lagged(_)) => {
                    refresh_overview(weak.clone(), service.clone()).await
                }
                Ok(_) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Reads the overview off the UI thread and shows it.
pub async fn refresh_overview(weak: slint::Weak<AppWindow>, service: Service) {
    {
        let (text, level, overview) = match service.overview().await {
            Ok(overview) => {
                let (text, level) = status_line(&overview);
                (text, level, overview)
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the locker overview failed");
                (
                    "This locker has a problem with its records. Staff have been told.".to_string(),
                    StatusLevel::Fault,
                    Overview::default(),
                )
            }
        };
        let _ = weak.upgrade_in_event_loop(move |window| {
            let kiosk = window.global::<Kiosk>();
            kiosk.set_status_text(text.into());
            kiosk.set_status_level(level);
            kiosk.set_free_compartments(overview.free as i32);
            kiosk.set_total_compartments(overview.compartments as i32);
        });
    }
}

/// The status strip in plain words.
pub fn status_line(overview: &Overview) -> (String, StatusLevel) {
    if overview.compartments == 0 {
        return (
            "This locker has no compartments configured.".into(),
            StatusLevel::Fault,
        );
    }
    let mut text = if overview.is_full() {
        "The locker is full: no compartment is free for deliveries right now.".to_string()
    } else {
        format!(
            "{} of {} compartments free.",
            overview.free, overview.compartments
        )
    };
    if !overview.boards_offline.is_empty() {
        text.push_str(" Some compartments cannot be opened right now: staff have been told.");
        return (text, StatusLevel::Fault);
    }
    let broken = overview.faulty + overview.out_of_service;
    let level = if broken > 0 {
        text.push_str(&format!(
            " {broken} {} out of use.",
            if broken == 1 {
                "compartment is"
            } else {
                "compartments are"
            }
        ));
        StatusLevel::Warning
    } else if overview.is_full() {
        StatusLevel::Warning
    } else {
        StatusLevel::Ok
    };
    (text, level)
}
