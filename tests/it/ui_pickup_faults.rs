//! A recipient's pickup when things go wrong, headless through the real
//! UI, service, store and simulated boards: a lockout after wrong codes
//! that counts down and ends, a door that does not open (one more try,
//! then flagged for staff while the code stays valid), a door left open (a
//! reminder), a person who walks away with a door open (idle timeout), and
//! a lock board going offline (the status strip says so).

use crate::common;

use std::time::Duration;

use crate::common::{on_sim_board, page, press, pump_until};
use i_slint_backend_testing::ElementHandle;
use locker_kiosk::config::Config;
use locker_kiosk::domain::CompartmentState;
use locker_kiosk::domain::codes::LockoutPolicy;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::ui::{AppWindow, DoorProgress, Kiosk, Page, PickupNotice, StatusLevel};
use slint::{ComponentHandle, Model};

fn type_code(window: &AppWindow, code: &str) {
    for digit in code.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Open");
}

fn door_of(window: &AppWindow, compartment: i32) -> Option<(DoorProgress, bool)> {
    window
        .global::<Kiosk>()
        .get_pickup_doors()
        .iter()
        .find(|d| d.compartment == compartment)
        .map(|d| (d.progress, d.reminder))
}

#[test]
fn pickups_that_go_wrong_end_safely_and_say_why() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    // Nobody closes the doors here.
    config.doors.simulated_close_after = None;
    config.doors.open_window = Duration::from_millis(600);
    config.policies.lockout = LockoutPolicy {
        max_attempts: 2,
        lockout_secs: 3,
        max_lockout_secs: 60,
    };
    config.policies.close_reminder_secs = 2;
    config.policies.idle_timeout_secs = 8;
    let (service, window) = common::start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let in_store = |f: fn(&mut locker_kiosk::store::Store) -> String| -> String {
        runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
    };

    // Too few digits cost no try; the digits stay to be finished.
    press(&window, "Pick up a parcel");
    type_code(&window, "1112");
    assert_eq!(
        window.global::<Kiosk>().get_pickup_notice(),
        PickupNotice::TooShort
    );
    assert_eq!(window.global::<Kiosk>().get_code_typed(), "1112");
    // Two wrong codes: the keypad locks, the countdown runs, then ends.
    type_code(&window, "22");
    pump_until(&window, "one try left", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::WrongCode
    });
    // Typing again puts the last code's notice away.
    press(&window, "3");
    assert_eq!(
        window.global::<Kiosk>().get_pickup_notice(),
        PickupNotice::None
    );
    press(&window, "Delete");
    type_code(&window, "333444");
    pump_until(&window, "locked out", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::LockedOut
    });
    let first = window.global::<Kiosk>().get_lockout_seconds();
    assert!((1..=3).contains(&first), "{first}");
    let five: Vec<_> = ElementHandle::find_by_accessible_label(&window, "5").collect();
    assert_eq!(
        five[0].accessible_enabled(),
        Some(false),
        "the keypad looks locked"
    );
    press(&window, "5");
    assert_eq!(
        window.global::<Kiosk>().get_code_typed(),
        "",
        "the keypad is locked"
    );
    pump_until(&window, "the countdown runs", 3, move |w| {
        w.global::<Kiosk>().get_lockout_seconds() < first
    });
    pump_until(&window, "the lockout ends", 6, |w| {
        w.global::<Kiosk>().get_pickup_notice() != PickupNotice::LockedOut
    });

    // Alice's door is jammed: tried again, then flagged for staff; her
    // code stays valid and the screen says so.
    let (board, channel) = service.doors().place_of(2).unwrap();
    on_sim_board(&service, &board, |sim, address| {
        sim.set_jammed(address, channel, true)
    });
    type_code(&window, "583920");
    pump_until(&window, "door 2 failed", 10, |w| {
        door_of(w, 2).map(|d| d.0) == Some(DoorProgress::Failed)
            || w.global::<Kiosk>().get_failed_doors() == 1
    });
    pump_until(&window, "told on the last screen", 10, |w| {
        page(w) == Page::PickupDone && w.global::<Kiosk>().get_failed_doors() == 1
    });
    let flagged = in_store(|s| {
        let state = s.compartments().get(2).unwrap().unwrap().state;
        let reports: Vec<String> = s
            .reports()
            .open()
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        let code = s
            .parcels()
            .look_up_code(&CodeInput::Pin("583920".into()))
            .unwrap();
        format!(
            "{} {reports:?} {}",
            matches!(state, CompartmentState::Faulty { .. }),
            matches!(code, CodeLookup::Valid(_))
        )
    });
    assert_eq!(flagged, "true [\"door_did_not_open\"] true");
    press(&window, "Back to the start");
    on_sim_board(&service, &board, |sim, address| {
        sim.set_jammed(address, channel, false)
    });

    // Bob's doors open and are left open: a reminder, then the person
    // walks away and the idle timeout takes the kiosk home; the parcels
    // count as collected (their doors were seen open) and the open doors
    // are handed to the door watcher.
    press(&window, "Pick up a parcel");
    type_code(&window, "246813");
    pump_until(&window, "door 10 open", 10, |w| {
        door_of(w, 10).map(|d| d.0) == Some(DoorProgress::Open)
    });
    pump_until(&window, "a reminder to close", 8, |w| {
        door_of(w, 10) == Some((DoorProgress::Open, true))
    });
    pump_until(&window, "idle: back home", 15, |w| page(w) == Page::Home);
    // Recorded just after the screen went home.
    common::until_in_store(&runtime, &service, "the open doors handed over", |s| {
        !s.events()
            .recent(Some("pickup_left_doors_open"), 1)
            .unwrap()
            .is_empty()
    });
    let handed_over = in_store(|s| {
        let collected = s
            .events()
            .recent(Some("parcel_collected"), 5)
            .unwrap()
            .len();
        let left = s
            .events()
            .recent(Some("pickup_left_doors_open"), 5)
            .unwrap()
            .len();
        format!("{collected} {left}")
    });
    assert_eq!(handed_over, "2 1");

    // A lock board stops answering: the status strip says so in plain words.
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    pump_until(&window, "board offline on the strip", 10, |w| {
        w.global::<Kiosk>().get_status_level() == StatusLevel::Fault
    });
    assert!(
        window
            .global::<Kiosk>()
            .get_status_text()
            .contains("Some compartments cannot be opened right now"),
        "{}",
        window.global::<Kiosk>().get_status_text()
    );
    // And when it is back, so is the strip.
    on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });
    pump_until(&window, "board back", 10, |w| {
        w.global::<Kiosk>().get_status_level() != StatusLevel::Fault
    });
}
