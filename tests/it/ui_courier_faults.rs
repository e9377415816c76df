//! A courier's visit when things go wrong, headless through the real UI,
//! service, store and simulated boards: a badge shown to the camera (a
//! replay folder stands in for it), a full locker, a lock board that goes
//! offline mid-visit, and a courier who walks away with a door open.

use crate::common;

use std::time::Duration;

use crate::common::{on_sim_board, page, press, pump_until, save_qr_frame};
use locker_kiosk::config::{CameraDevice, Config};
use locker_kiosk::domain::CompartmentState;
use locker_kiosk::ui::{AppWindow, Courier, CourierNotice, Kiosk, Page, ParcelSize};
use slint::{ComponentHandle, Model};

fn type_on_keyboard(window: &AppWindow, text: &str, enter: &str) {
    for key in text.chars() {
        press(window, &key.to_string());
    }
    press(window, enter);
}

/// Opens the keyboard on the scan screen, unless it is open already.
fn open_keyboard(window: &AppWindow) {
    let closed = i_slint_backend_testing::ElementHandle::find_by_accessible_label(
        window,
        "Type a tracking number",
    )
    .count()
        > 0;
    if closed {
        press(window, "Type a tracking number");
    }
}

/// From the scan screen to the size screen, for Alice.
fn parcel_for_alice(window: &AppWindow, tracking: &str) {
    open_keyboard(window);
    type_on_keyboard(window, tracking, "Continue");
    pump_until(window, "recipient screen", 5, |w| {
        page(w) == Page::CourierRecipient
    });
    press(window, "A");
    press(window, "L");
    pump_until(window, "Alice found", 5, |w| {
        w.global::<Courier>().get_residents().row_count() > 0
    });
    press(window, "Alice Adams (1A)");
}

#[test]
fn a_couriers_visit_survives_a_full_locker_an_offline_board_and_walking_away() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    save_qr_frame("LKC1:demo-1:DANA", &frames.join("badge.png"));
    let store = common::seeded_store(&dir.path().join("data"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.camera.device = CameraDevice::Replay(frames);
    // Nobody closes the doors here; the courier walks away after 6 s.
    config.doors.simulated_close_after = None;
    config.doors.open_window = Duration::from_millis(800);
    config.policies.idle_timeout_secs = 6;
    let (service, window) = common::start_kiosk(store, config, &runtime);
    let with_store = |f: fn(&mut locker_kiosk::store::Store) -> String| -> String {
        runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
    };

    // The badge held up to the camera logs Dana in without a touch.
    pump_until(&window, "logged in by badge", 10, |w| {
        page(w) == Page::CourierScan
    });
    assert!(
        window
            .global::<Courier>()
            .get_courier_name()
            .contains("Dana Driver")
    );

    // A full locker: said at once after the scan (before any recipient or
    // door step), the parcel stays with the courier, and staff can see it
    // in the event log.
    let freed = with_store(|s| {
        let mut taken = Vec::new();
        for c in s.compartments().all().unwrap() {
            if c.state == CompartmentState::Free {
                let full = CompartmentState::OutOfService {
                    reason: "test: full".into(),
                };
                s.compartments()
                    .set_state(c.number, &full, "test", common::NOW)
                    .unwrap();
                taken.push(c.number.to_string());
            }
        }
        taken.join(",")
    });
    open_keyboard(&window);
    type_on_keyboard(&window, "JD014600006301", "Continue");
    pump_until(&window, "locker full", 5, |w| {
        w.global::<Courier>().get_notice() == CourierNotice::LockerFull
    });
    assert_eq!(page(&window), Page::CourierScan);
    // Recorded just after the screen said so.
    common::until_in_store(&runtime, &service, "the full locker recorded", |s| {
        let full_events = s
            .events()
            .recent(Some("locker_full"), 5)
            .unwrap()
            .iter()
            .map(|e| e.detail["tracking"].to_string())
            .collect::<Vec<_>>()
            .join(",");
        full_events == "\"JD014600006301\""
    });
    runtime
        .block_on(service.call(move |s| {
            for number in freed.split(',') {
                s.compartments().set_state(
                    number.parse().unwrap(),
                    &CompartmentState::Free,
                    "test",
                    common::NOW,
                )?;
            }
            Ok(())
        }))
        .unwrap();

    // Board B (doors 13-24) stops answering mid-visit: its sizes are not
    // offered, and the parcel goes to a door on board A.
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    let watcher = service.clone();
    pump_until(&window, "board B offline", 5, move |_| {
        watcher.doors().board_offline("B")
    });
    parcel_for_alice(&window, "JD014600006302");
    pump_until(&window, "sizes counted", 5, |w| {
        page(w) == Page::CourierSize && w.global::<Courier>().get_sizes().row_count() == 4
    });
    let xl = window
        .global::<Courier>()
        .get_sizes()
        .iter()
        .find(|s| s.size == ParcelSize::Xl)
        .unwrap();
    assert!(!xl.enabled, "XL doors are all on the offline board");
    let small: Vec<_> = i_slint_backend_testing::ElementQuery::from_root(&window)
        .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
        .match_predicate(|e| {
            e.accessible_label()
                .is_some_and(|l| l.starts_with("Size S,"))
        })
        .find_all();
    small[0].invoke_accessible_default_action();
    pump_until(&window, "a door on board A open", 5, |w| {
        w.global::<Courier>().get_door_open()
    });
    let first = window.global::<Courier>().get_door();
    assert!((1..=12).contains(&first), "door {first} is on board A");

    // The courier says this door did not open, but its sensor saw it open:
    // not faulty on the courier's word; staff get the disagreement, the
    // courier is told to close it, and another door on board A opens.
    press(&window, "Door didn't open");
    pump_until(&window, "another door open", 5, move |w| {
        let courier = w.global::<Courier>();
        courier.get_door_open() && courier.get_door() != first
    });
    let door = window.global::<Courier>().get_door();
    assert!((1..=12).contains(&door), "door {door} is on board A");
    assert_eq!(
        window.global::<Courier>().get_to_close_doors(),
        first.to_string()
    );
    common::until_in_store(&runtime, &service, "the disagreement reported", move |s| {
        let reported = s
            .reports()
            .open()
            .unwrap()
            .iter()
            .any(|r| r.kind == "door_did_not_open" && r.compartment == Some(first as u32));
        let said = s.events().recent(Some("sensor_disagreement"), 5).unwrap();
        reported && said.iter().any(|e| e.compartment == Some(first as u32))
    });
    let state = runtime
        .block_on(service.call(move |s| s.compartments().get(first as u32)))
        .unwrap()
        .unwrap()
        .state;
    assert!(
        !matches!(state, CompartmentState::Faulty { .. }),
        "not faulty on the courier's word: {state:?}"
    );

    // The courier walks away with the door open: after the idle timeout the
    // kiosk goes home, the parcel is recorded as an unconfirmed deposit for
    // staff to check, and the open door is handed to the watcher.
    pump_until(&window, "idle: back home", 10, |w| page(w) == Page::Home);
    // The records are written just after the screen went home.
    common::until_in_store(&runtime, &service, "the visit's end recorded", |s| {
        !s.events()
            .recent(Some("courier_visit_ended"), 1)
            .unwrap()
            .is_empty()
    });
    let recorded = with_store(|s| {
        let parcel = s
            .parcels()
            .in_locker()
            .unwrap()
            .into_iter()
            .find(|p| p.tracking == "JD014600006302")
            .unwrap();
        let handed_over = s
            .events()
            .recent(Some("dropoff_left_doors_open"), 5)
            .unwrap()
            .len();
        let notified = s
            .events()
            .recent(Some("recipient_notification"), 5)
            .unwrap()
            .len();
        format!(
            "{:?} {} {handed_over} {notified}",
            parcel.compartment.is_some(),
            parcel.confirmed
        )
    });
    assert_eq!(recorded, "true false 1 1");
    assert_eq!(
        window.global::<Kiosk>().get_language(),
        "en",
        "the session ended"
    );
}
