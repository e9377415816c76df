//! The real Slint UI, headless (Slint's testing backend), bound to the real
//! service and store exactly as `main` binds it.

use crate::common;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use locker_kiosk::config::Config;
use locker_kiosk::ui::{self, Kiosk, StatusLevel};
use slint::ComponentHandle;

#[test]
fn home_screen_shows_the_locker_and_its_state() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_service, window) = common::start_kiosk(store, Config::demo(), &runtime);

    let kiosk = window.global::<Kiosk>();
    assert_eq!(kiosk.get_locker_name(), "Demo Locker");
    // The overview arrives from the store thread, not from a blocking read.
    common::pump_until(&window, "the overview", 10, |w| {
        w.global::<Kiosk>().get_total_compartments() == 24
    });
    assert_eq!(kiosk.get_free_compartments(), 20);
    assert_eq!(kiosk.get_status_text(), "20 of 24 compartments free.");
    // The same facts in German.
    ui::set_language(&window, "de");
    assert_eq!(kiosk.get_status_text(), "20 von 24 Fächern frei.");
    ui::set_language(&window, "en");
    assert_eq!(kiosk.get_status_level(), StatusLevel::Ok);

    // Both choices are on screen as buttons a person (or a screen reader) can press.
    for label in ["Pick up a parcel", "Deliver parcels"] {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&window, label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(found.len(), 1, "{label}");
        let size = found[0].size();
        assert!(
            size.height >= 56.0,
            "{label} is too small to touch: {size:?}"
        );
    }
}

#[test]
fn larger_text_and_high_contrast_chosen_at_home_last_into_pickup_and_courier_visits() {
    use locker_kiosk::ui::{Page, Theme};
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_service, window) = common::start_kiosk(store, Config::demo(), &runtime);
    let toggle = |label: &str| {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&window, label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
            .collect();
        assert_eq!(found.len(), 1, "{label}");
        found[0].invoke_accessible_default_action();
    };
    let chosen = |w: &ui::AppWindow| {
        let theme = w.global::<Theme>();
        (theme.get_large_text(), theme.get_high_contrast())
    };
    for flow in ["Pick up a parcel", "Deliver parcels"] {
        toggle("Larger text");
        toggle("High contrast");
        assert_eq!(chosen(&window), (true, true));
        common::press(&window, flow);
        assert_ne!(common::page(&window), Page::Home, "{flow}");
        assert_eq!(chosen(&window), (true, true), "kept for {flow}");
        common::press(&window, "Back");
        common::pump_until(&window, "home again", 5, |w| common::page(w) == Page::Home);
        assert_eq!(chosen(&window), (false, false), "the next person");
    }
}
