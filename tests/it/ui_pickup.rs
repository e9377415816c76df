//! A recipient's pickup, end to end and headless: the real Slint UI under
//! the testing backend, the real application service and store, and the
//! demo's simulated lock boards. Keys are pressed by their accessible
//! labels, as a screen reader would.

use crate::common;

use crate::common::{page, press, pump_until};

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentState, ParcelStatus};
use locker_kiosk::ui::{AppWindow, DoorProgress, Kiosk, Page, PickupNotice};
use slint::{ComponentHandle, Model};

fn type_code(window: &AppWindow, code: &str) {
    for digit in code.chars() {
        press(window, &digit.to_string());
    }
    assert_eq!(window.global::<Kiosk>().get_code_typed(), code);
    press(window, "Open");
}

fn doors(window: &AppWindow) -> Vec<(i32, DoorProgress)> {
    window
        .global::<Kiosk>()
        .get_pickup_doors()
        .iter()
        .map(|d| (d.compartment, d.progress))
        .collect()
}

#[test]
fn pickups_from_code_to_thank_you() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, window) = common::demo_kiosk_with_closing_doors(dir.path());
    let store = |f: fn(&mut locker_kiosk::store::Store) -> String| -> String {
        runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
    };

    // Alice asks for low compartments at home; her code tells the kiosk
    // who she is, and her profile keeps it for her next parcels.
    let low: Vec<_> = ElementHandle::find_by_accessible_label(&window, "Low compartments")
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
        .collect();
    low[0].invoke_accessible_default_action();
    assert!(window.global::<Kiosk>().get_prefer_low());

    // A wrong code: told how many tries are left, and nothing opens.
    press(&window, "Pick up a parcel");
    assert_eq!(
        page(&window),
        Page::PickupCode,
        "the page changes within the touch"
    );
    type_code(&window, "111222");
    pump_until(&window, "the wrong-code notice", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::WrongCode
    });
    assert_eq!(window.global::<Kiosk>().get_attempts_left(), 4);
    assert_eq!(
        window.global::<Kiosk>().get_code_typed(),
        "",
        "the keypad is cleared"
    );

    // Alice's code: compartment 2 opens, is shown on the locker drawing,
    // closes, "Thank you", home.
    press(&window, "Delete");
    type_code(&window, "583920");
    pump_until(&window, "compartment 2 open", 5, |w| {
        doors(w) == vec![(2, DoorProgress::Open)]
    });
    assert_eq!(page(&window), Page::PickupDoors);
    pump_until(&window, "preference saved", 5, |w| {
        w.global::<Kiosk>().get_prefer_low_saved()
    });
    let alice_low = store(|s| {
        let alice = s.recipients().search("Alice", 1).unwrap();
        format!("{}", alice[0].needs_accessible)
    });
    assert_eq!(alice_low, "true");
    let highlighted: Vec<i32> = window
        .global::<Kiosk>()
        .get_door_grid()
        .iter()
        .filter(|d| d.highlighted)
        .map(|d| d.compartment)
        .collect();
    assert_eq!(highlighted, vec![2]);
    assert_eq!(
        ElementHandle::find_by_accessible_label(&window, "Your compartment 2").count(),
        1
    );
    pump_until(&window, "thank you", 5, |w| page(w) == Page::PickupDone);
    assert_eq!(window.global::<Kiosk>().get_failed_doors(), 0);
    let alice = store(|s| {
        let code = s
            .parcels()
            .look_up_code(&CodeInput::Pin("583920".into()))
            .unwrap();
        let parcels = s.parcels().in_locker().unwrap();
        let compartment = s.compartments().get(2).unwrap().unwrap().state;
        format!(
            "{code:?} {} {compartment:?}",
            parcels.iter().any(|p| p.compartment == Some(2))
        )
    });
    assert_eq!(
        alice,
        format!(
            "{:?} false {:?}",
            CodeLookup::AlreadyUsed,
            CompartmentState::Free
        )
    );
    pump_until(&window, "back home after thank you", 8, |w| {
        page(w) == Page::Home
    });
    assert!(
        !window.global::<Kiosk>().get_prefer_low(),
        "the next person starts without it"
    );

    // Bob's two parcels open one after another (one pulse at a time), with
    // one code.
    press(&window, "Pick up a parcel");
    type_code(&window, "246813");
    // 10 may already have been closed again by the time 16 is open.
    pump_until(&window, "compartment 10, then 16 open", 8, |w| {
        let doors = doors(w);
        doors.len() == 2
            && matches!(doors[0], (10, DoorProgress::Open | DoorProgress::Closed))
            && doors[1] == (16, DoorProgress::Open)
    });
    // "Compartment 10 was empty" and "my parcel is damaged" are recorded
    // for the staff.
    press(&window, "Parcel in compartment 10 missing");
    press(&window, "Parcel in compartment 16 damaged");
    pump_until(&window, "report acknowledged", 2, |w| {
        w.global::<Kiosk>().get_report_recorded()
    });
    pump_until(&window, "thank you", 8, |w| page(w) == Page::PickupDone);
    // The last screen says what happens next, and who to call.
    let said = |w: &AppWindow, text: &str| {
        i_slint_backend_testing::ElementHandle::find_by_accessible_label(w, text)
            .next()
            .is_some()
    };
    assert!(said(
        &window,
        "Your report has gone to the staff. They will check the compartment and contact you."
    ));
    assert!(said(&window, "Help: Building office, 0800 555 0100"));
    press(&window, "Back to the start");
    assert_eq!(page(&window), Page::Home);

    // Carla's parcel expired: told what to do, nothing opens.
    press(&window, "Pick up a parcel");
    type_code(&window, "907531");
    pump_until(&window, "the expired notice", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::Expired
    });
    assert!(said(&window, "Help: Building office, 0800 555 0100"));
    press(&window, "Back");
    assert_eq!(page(&window), Page::Home);

    // A code used already says so.
    press(&window, "Pick up a parcel");
    type_code(&window, "583920");
    pump_until(&window, "the already-used notice", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::AlreadyUsed
    });
    press(&window, "Back");

    // What the store recorded: both of Bob's parcels collected, the report,
    // and every event waiting in the outbox.
    let summary = store(|s| {
        let collected = s
            .events()
            .recent(Some("parcel_collected"), 10)
            .unwrap()
            .len();
        let reports: Vec<_> = s
            .reports()
            .open()
            .unwrap()
            .into_iter()
            .map(|r| (r.kind, r.compartment, r.parcel))
            .collect();
        let outcomes = s
            .events()
            .recent(Some("door_open_outcome"), 10)
            .unwrap()
            .len();
        let pending = s.events().outbox_pending().unwrap() as usize;
        let total = s.events().recent(None, 1000).unwrap().len();
        format!("{collected} {reports:?} {outcomes} {}", pending == total)
    });
    assert_eq!(
        summary,
        "3 [(\"missing\", Some(10), Some(2)), (\"damaged\", Some(16), Some(3))] 3 true"
    );
    // The damaged parcel was handed over; the missing one is not recorded
    // as collected.
    let bob = store(|s| {
        let mut status = |id| s.parcels().get(id).unwrap().unwrap().status;
        format!("{:?} {:?}", status(2), status(3))
    });
    assert_eq!(
        bob,
        format!("{:?} {:?}", ParcelStatus::Missing, ParcelStatus::Collected)
    );

    // A language chosen at home lasts for that person's session only.
    let german: Vec<_> = ElementHandle::find_by_accessible_label(&window, "Deutsch")
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
        .collect();
    german[0].invoke_accessible_default_action();
    assert_eq!(window.global::<Kiosk>().get_language(), "de");
    press(&window, "Paket abholen");
    press(&window, "Zurück");
    assert_eq!(page(&window), Page::Home);
    assert_eq!(window.global::<Kiosk>().get_language(), "en");
    press(&window, "Pick up a parcel");
}

#[test]
fn larger_text_chosen_once_is_met_again_at_the_next_pickup() {
    use locker_kiosk::ui::Theme;
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, window) = common::demo_kiosk_with_closing_doors(dir.path());
    let toggle = |label: &str| {
        ElementHandle::find_by_accessible_label(&window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
            .unwrap()
            .invoke_accessible_default_action();
    };

    // Bob chooses larger text at home and collects: his profile keeps it.
    toggle("Larger text");
    assert!(window.global::<Theme>().get_large_text());
    press(&window, "Pick up a parcel");
    type_code(&window, "246813");
    pump_until(&window, "thank you", 10, |w| page(w) == Page::PickupDone);
    press(&window, "Back to the start");
    pump_until(&window, "home, plain again", 5, |w| {
        page(w) == Page::Home && !w.global::<Theme>().get_large_text()
    });
    let saved = runtime
        .block_on(service.call(|s| {
            let large: bool = s
                .connection()
                .query_row(
                    "SELECT large_text FROM recipients WHERE name LIKE 'Bob%'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            Ok(large)
        }))
        .unwrap();
    assert!(saved);

    // Staff give him a new parcel; he touches nothing at home, and once
    // his code is known the screen is large again.
    let code = runtime
        .block_on(service.call(|s| {
            let bob: i64 = s
                .connection()
                .query_row(
                    "SELECT id FROM recipients WHERE name LIKE 'Bob%'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let (_, code) = s
                .parcels()
                .deposit(
                    &common::deposit("BOB-NEXT", bob, 3),
                    &mut locker_kiosk::app::system::OsEntropy,
                    locker_kiosk::app::system::now(),
                )
                .unwrap();
            Ok(code)
        }))
        .unwrap();
    press(&window, "Pick up a parcel");
    assert!(!window.global::<Theme>().get_large_text());
    type_code(&window, &code.pin);
    pump_until(&window, "larger text again", 10, |w| {
        w.global::<Theme>().get_large_text()
    });
}
