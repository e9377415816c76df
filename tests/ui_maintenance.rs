//! Maintenance for site staff, headless through the real UI, service,
//! store and simulated boards: the admin PIN (wrong ones counted), the
//! door grid with every compartment's state, opening a door with a reason,
//! out of service and back, a board going offline and coming back while
//! the grid is shown, leaving, and closing by itself when left alone.
//!
//! One test function: the testing backend can be set up once per process.

mod common;

use std::time::Duration;

use common::{on_sim_board, page, press, pump_until};
use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
use locker_kiosk::config::Config;
use locker_kiosk::domain::CompartmentState;
use locker_kiosk::ui::{AppWindow, DoorKind, Maintenance, MaintenanceNotice, OpenResult, Page};
use slint::{ComponentHandle, Model};

fn type_pin(window: &AppWindow, pin: &str) {
    for digit in pin.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Enter");
}

fn kind(window: &AppWindow, compartment: i32) -> Option<DoorKind> {
    window
        .global::<Maintenance>()
        .get_doors()
        .iter()
        .find(|d| d.compartment == compartment)
        .map(|d| d.kind)
}

#[test]
fn staff_see_and_work_every_door_behind_the_admin_pin() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = None;
    config.doors.open_window = Duration::from_millis(600);
    config.policies.maintenance_idle_timeout_secs = 4;
    let (service, window) = common::start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let in_store = |f: fn(&mut locker_kiosk::store::Store) -> String| -> String {
        runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
    };

    // The hidden entry (a long press on the locker's name), then the PIN.
    window.global::<Maintenance>().invoke_requested();
    assert_eq!(page(&window), Page::MaintenancePin);
    type_pin(&window, "111111");
    pump_until(&window, "wrong PIN", 5, |w| {
        w.global::<Maintenance>().get_notice() == MaintenanceNotice::WrongPin
    });
    assert_eq!(window.global::<Maintenance>().get_attempts_left(), 4);
    type_pin(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "maintenance", 5, |w| page(w) == Page::Maintenance);

    // The grid: every compartment with its state.
    pump_until(&window, "the grid", 5, |w| {
        w.global::<Maintenance>().get_doors().row_count() == 24
    });
    assert_eq!(kind(&window, 2), Some(DoorKind::Occupied));
    assert_eq!(kind(&window, 20), Some(DoorKind::Expired));
    assert_eq!(kind(&window, 7), Some(DoorKind::Free));

    // Select door 7 and open it for an inspection: the outcome is shown,
    // the grid shows it open, the audit log says who and why.
    press(&window, "Compartment 7: free");
    assert_eq!(window.global::<Maintenance>().get_selected(), 7);
    assert_eq!(window.global::<Maintenance>().get_selected_size(), "L");
    press(&window, "Open: inspection");
    pump_until(&window, "door 7 opened", 5, |w| {
        w.global::<Maintenance>().get_last_open() == OpenResult::Opened
    });
    pump_until(&window, "door 7 shown open", 5, |w| {
        kind(w, 7) == Some(DoorKind::Open)
    });
    let audit = in_store(|s| {
        let e = &s.recent_events(Some("maintenance_open"), 1).unwrap()[0];
        format!(
            "{} {} {} {}",
            e.actor,
            e.compartment.unwrap(),
            e.detail["reason"],
            e.detail["outcome"]
        )
    });
    assert_eq!(audit, "staff:maintenance 7 \"inspection\" \"opened\"");

    // Door 9 out of service and back.
    press(&window, "Compartment 9: free");
    press(&window, "Out of service: broken");
    pump_until(&window, "door 9 out of service", 5, |w| {
        kind(w, 9) == Some(DoorKind::OutOfService)
    });
    let state = in_store(|s| format!("{:?}", s.compartment(9).unwrap().unwrap().state));
    assert_eq!(
        state,
        format!(
            "{:?}",
            CompartmentState::OutOfService {
                reason: "broken".into()
            }
        )
    );
    press(&window, "Back in service");
    pump_until(&window, "door 9 back", 5, |w| {
        kind(w, 9) == Some(DoorKind::Free)
    });

    // Board B goes offline while the grid is shown, and comes back.
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    pump_until(&window, "board B's doors offline", 10, |w| {
        (13..=24).all(|c| kind(w, c) == Some(DoorKind::Offline))
    });
    assert_eq!(kind(&window, 2), Some(DoorKind::Occupied));
    on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });
    pump_until(&window, "board B back", 10, |w| {
        kind(w, 20) == Some(DoorKind::Expired)
    });

    // Leaving, and being left alone: both end maintenance.
    press(&window, "Leave maintenance");
    assert_eq!(page(&window), Page::Home);
    window.global::<Maintenance>().invoke_requested();
    type_pin(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "maintenance again", 5, |w| {
        page(w) == Page::Maintenance
    });
    pump_until(&window, "closed by itself", 8, |w| page(w) == Page::Home);
    let visits = in_store(|s| {
        let entered = s
            .recent_events(Some("maintenance_entered"), 5)
            .unwrap()
            .len();
        let left = s.recent_events(Some("maintenance_left"), 5).unwrap().len();
        format!("{entered} {left}")
    });
    assert_eq!(visits, "2 2");
}
