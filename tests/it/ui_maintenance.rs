//! Maintenance for site staff, headless through the real UI, service,
//! store and simulated boards: the admin PIN (wrong ones counted), the
//! door grid with every compartment's state, opening a door with a reason,
//! a door's history, out of service and back, a board going offline and
//! coming back while the grid is shown, opening every door (one jammed,
//! one board silent), leaving, and closing by itself when left alone.

use crate::common;

use crate::common::{
    enter_maintenance, in_store, on_sim_board, page, press, pump_until, type_admin_pin,
    until_in_store,
};
use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
use locker_kiosk::domain::CompartmentState;
use locker_kiosk::ui::{
    AppWindow, DoorKind, Maintenance, MaintenanceNotice, OpenAllState, OpenResult, Page,
};
use slint::{ComponentHandle, Model};

fn kind(window: &AppWindow, compartment: i32) -> Option<DoorKind> {
    window
        .global::<Maintenance>()
        .get_doors()
        .iter()
        .find(|d| d.compartment == compartment)
        .map(|d| d.kind)
}

fn history_kinds(window: &AppWindow) -> Vec<String> {
    window
        .global::<Maintenance>()
        .get_selected_history()
        .iter()
        .map(|l| l.kind.to_string())
        .collect()
}

#[test]
fn staff_see_and_work_every_door_behind_the_admin_pin() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let (runtime, service, window) = common::staff_kiosk(store, |config| {
        config.policies.maintenance_idle_timeout_secs = 4;
    });

    // The hidden entry (a long press on the locker's name), then the PIN.
    window.global::<Maintenance>().invoke_requested();
    assert_eq!(page(&window), Page::MaintenancePin);
    type_admin_pin(&window, "111111");
    pump_until(&window, "wrong PIN", 5, |w| {
        w.global::<Maintenance>().get_notice() == MaintenanceNotice::WrongPin
    });
    assert_eq!(window.global::<Maintenance>().get_attempts_left(), 4);
    type_admin_pin(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "maintenance", 5, |w| page(w) == Page::Maintenance);

    // The grid: every compartment with its state.
    pump_until(&window, "the grid", 5, |w| {
        w.global::<Maintenance>().get_doors().row_count() == 24
    });
    assert_eq!(kind(&window, 2), Some(DoorKind::Occupied));
    assert_eq!(kind(&window, 20), Some(DoorKind::Expired));
    assert_eq!(kind(&window, 7), Some(DoorKind::Free));

    // Select door 7 and open it for an inspection: the outcome is shown,
    // the grid shows it open, the audit log says who and why, and so does
    // the door's history.
    press(&window, "Compartment 7: free");
    assert_eq!(window.global::<Maintenance>().get_selected(), 7);
    assert_eq!(window.global::<Maintenance>().get_selected_size(), "L");
    press(&window, "Open: inspection");
    pump_until(&window, "door 7 opened", 5, |w| {
        w.global::<Maintenance>().get_last_open() == OpenResult::Opened
    });
    // What spoken guidance would say of it.
    assert_eq!(
        window.global::<locker_kiosk::ui::Guidance>().get_prompt(),
        "Door 7 opened."
    );
    pump_until(&window, "door 7 shown open", 5, |w| {
        kind(w, 7) == Some(DoorKind::Open)
    });
    let audit = in_store(&runtime, &service, |s| {
        let e = &s.events().recent(Some("maintenance_open"), 1).unwrap()[0];
        format!(
            "{} {} {} {}",
            e.actor,
            e.compartment.unwrap(),
            e.detail["reason"],
            e.detail["outcome"]
        )
    });
    assert_eq!(audit, "staff:maintenance 7 \"inspection\" \"opened\"");
    pump_until(&window, "door 7's history", 5, |w| {
        history_kinds(w).contains(&"maintenance_open".to_string())
    });
    let line = window
        .global::<Maintenance>()
        .get_selected_history()
        .iter()
        .find(|l| l.kind == "maintenance_open")
        .unwrap();
    assert_eq!(line.actor, "staff:maintenance");
    assert!(
        line.detail.contains("reason: inspection"),
        "{}",
        line.detail
    );

    // Door 9 out of service and back.
    press(&window, "Compartment 9: free");
    press(&window, "Out of service: broken");
    pump_until(&window, "door 9 out of service", 5, |w| {
        kind(w, 9) == Some(DoorKind::OutOfService)
    });
    let state = in_store(&runtime, &service, |s| {
        s.compartments().get(9).unwrap().unwrap().state
    });
    assert_eq!(
        state,
        CompartmentState::OutOfService {
            reason: "broken".into()
        }
    );
    pump_until(&window, "door 9's history", 5, |w| {
        history_kinds(w).first().map(String::as_str) == Some("compartment_state")
    });
    press(&window, "Back in service");
    pump_until(&window, "door 9 back", 5, |w| {
        kind(w, 9) == Some(DoorKind::Free)
    });
    // A compartment with a parcel in it, out for cleaning, comes back
    // holding it.
    press(&window, "Compartment 10: parcel");
    press(&window, "Out of service: cleaning");
    pump_until(&window, "door 10 out of service", 5, |w| {
        kind(w, 10) == Some(DoorKind::OutOfService)
    });
    press(&window, "Back in service");
    pump_until(&window, "door 10 back with its parcel", 5, |w| {
        kind(w, 10) == Some(DoorKind::Occupied)
    });
    let state = in_store(&runtime, &service, |s| {
        s.compartments().get(10).unwrap().unwrap().state
    });
    assert_eq!(state, CompartmentState::Occupied);

    // Board B goes offline while the grid is shown.
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    pump_until(&window, "board B's doors offline", 10, |w| {
        (13..=24).all(|c| kind(w, c) == Some(DoorKind::Offline))
    });
    assert_eq!(kind(&window, 2), Some(DoorKind::Occupied));

    // Every door at once, after saying why: door 5's lock is jammed, door
    // 7 is still open, board B does not answer. Each outcome is shown.
    on_sim_board(&service, "A", |sim, address| {
        sim.set_jammed(address, 5, true)
    });
    press(&window, "Open all doors…");
    press(&window, "Open all: inspection");
    assert_eq!(
        window.global::<Maintenance>().get_open_all_state(),
        OpenAllState::Running
    );
    pump_until(&window, "every door tried", 10, |w| {
        w.global::<Maintenance>().get_open_all_state() == OpenAllState::Done
    });
    let maintenance = window.global::<Maintenance>();
    assert_eq!(maintenance.get_open_all_opened(), 10);
    assert_eq!(maintenance.get_open_all_already_open(), 1);
    assert_eq!(maintenance.get_open_all_jammed(), "5");
    assert_eq!(
        maintenance.get_open_all_no_reply(),
        "13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24"
    );
    pump_until(&window, "board A's doors shown open", 5, |w| {
        (1..=12)
            .filter(|c| *c != 5)
            .all(|c| kind(w, c) == Some(DoorKind::Open))
    });
    let (reason, result) = in_store(&runtime, &service, |s| {
        let asked = &s.events().recent(Some("maintenance_open_all"), 1).unwrap()[0];
        let result = &s
            .events()
            .recent(Some("maintenance_open_all_result"), 1)
            .unwrap()[0];
        (
            asked.detail["reason"].clone(),
            (
                result.detail["opened"].clone(),
                result.detail["jammed"].clone(),
            ),
        )
    });
    assert_eq!(reason, "inspection");
    assert_eq!(result, (serde_json::json!(10), serde_json::json!([5])));

    // Board B comes back while the grid is shown.
    on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });
    pump_until(&window, "board B back", 10, |w| {
        kind(w, 20) == Some(DoorKind::Expired)
    });

    // Leaving, and being left alone: both end maintenance.
    press(&window, "Leave maintenance");
    assert_eq!(page(&window), Page::Home);
    enter_maintenance(&window, DEMO_ADMIN_PIN);
    assert_eq!(
        window.global::<Maintenance>().get_open_all_state(),
        OpenAllState::Idle,
        "a new visit starts afresh"
    );
    pump_until(&window, "closed by itself", 8, |w| page(w) == Page::Home);
    // Both visits are in the audit log (written just after the screen
    // changed).
    until_in_store(&runtime, &service, "both visits logged", |s| {
        let mut count = |kind| s.events().recent(Some(kind), 5).unwrap().len();
        (count("maintenance_entered"), count("maintenance_left")) == (2, 2)
    });
}
