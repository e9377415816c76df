//! Touch targets under the finger: they stay where they are when a message
//! appears or a door is selected, and they are large enough to hit, on the
//! smallest panel and in portrait.

use crate::common;

use crate::common::{enter_maintenance, page, press, pump_until};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
use locker_kiosk::ui::{AppWindow, DoorKind, Kiosk, Maintenance, Page, PickupNotice};
use slint::{ComponentHandle, LogicalPosition, LogicalSize, Model};

type Placed = Vec<(String, LogicalPosition, LogicalSize)>;

/// Where each button labelled one of `labels` is, and how large it is.
fn buttons(window: &AppWindow, labels: impl IntoIterator<Item = String>) -> Placed {
    labels
        .into_iter()
        .flat_map(|label| {
            ElementHandle::find_by_accessible_label(window, &label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .map(|e| (label.clone(), e.absolute_position(), e.size()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn resize(window: &AppWindow, width: u32, height: u32) {
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
}

fn keypad(window: &AppWindow) -> Placed {
    let keys = (0..10).map(|d| d.to_string()).chain(["Open".to_owned()]);
    buttons(window, keys)
}

/// Every door of the maintenance drawing, labelled with its state in words
/// as staff see it.
fn maintenance_doors(window: &AppWindow) -> Placed {
    let labels: Vec<String> = window
        .global::<Maintenance>()
        .get_doors()
        .iter()
        .map(|d| {
            let word = match d.kind {
                DoorKind::Free => "free",
                DoorKind::Occupied => "parcel",
                DoorKind::Expired => "expired",
                DoorKind::Open => "open",
                DoorKind::Reserved => "being filled",
                DoorKind::OutOfService => "out of service",
                DoorKind::Faulty => "faulty",
                DoorKind::Offline => "board offline",
            };
            format!("Compartment {}: {word}", d.compartment)
        })
        .collect();
    buttons(window, labels)
}

#[test]
fn the_keypad_stays_put_when_a_message_appears_in_portrait_and_landscape() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, _service, window) = common::demo_kiosk_with_closing_doors(dir.path());
    for (width, height) in [(600, 1024), (480, 800), (1280, 800), (800, 480)] {
        resize(&window, width, height);
        press(&window, "Pick up a parcel");
        assert_eq!(page(&window), Page::PickupCode);
        let before = keypad(&window);
        assert_eq!(before.len(), 11, "{before:?}");

        // Too short, then wrong: two messages of different lengths.
        press(&window, "5");
        press(&window, "Open");
        pump_until(&window, "too short", 5, |w| {
            w.global::<Kiosk>().get_pickup_notice() == PickupNotice::TooShort
        });
        assert_eq!(keypad(&window), before, "{width}x{height}: too short");
        for digit in "11122".chars() {
            press(&window, &digit.to_string());
        }
        press(&window, "Open");
        pump_until(&window, "wrong code", 5, |w| {
            w.global::<Kiosk>().get_pickup_notice() == PickupNotice::WrongCode
        });
        assert_eq!(keypad(&window), before, "{width}x{height}: wrong code");
        // The instruction stays beside the error.
        assert!(
            ElementHandle::find_by_accessible_label(&window, "Type the code from your message.")
                .chain(ElementHandle::find_by_accessible_label(
                    &window,
                    "Hold your QR code up to the camera, or type the code from your message."
                ))
                .next()
                .is_some(),
            "{width}x{height}: the instruction is gone"
        );
        press(&window, "Back");
    }
}

#[test]
fn maintenance_doors_are_large_say_their_state_and_stay_put_when_tapped() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, _service, window) = common::demo_kiosk_with_closing_doors(dir.path());
    enter_maintenance(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "every door's state", 5, |w| {
        w.global::<Maintenance>().get_doors().row_count() == 24
    });
    let doors = maintenance_doors;
    let geometry = |found: Placed| -> Vec<_> {
        // The label carries the state, which a tap does not change; the
        // door's number is the part before the colon.
        found
            .into_iter()
            .map(|(label, at, size)| (label.split(':').next().unwrap().to_owned(), at, size))
            .collect()
    };
    for (width, height) in [(800, 480), (1280, 800), (1080, 1920), (480, 800)] {
        resize(&window, width, height);
        let before = doors(&window);
        // A small panel scrolls the drawing rather than shrink the doors:
        // those in view are counted.
        assert!(before.len() >= 12, "{width}x{height}: {before:?}");
        for (label, _, size) in &before {
            assert!(
                size.height >= 48.0 && size.width >= 48.0,
                "{width}x{height}: {label} is {size:?}"
            );
        }
        window.global::<Maintenance>().invoke_select(7);
        pump_until(&window, "door 7 selected", 5, |w| {
            w.global::<Maintenance>().get_selected() == 7
        });
        assert_eq!(
            geometry(doors(&window)),
            geometry(before),
            "{width}x{height}: a tap moved the doors"
        );
        window.global::<Maintenance>().invoke_select(0);
    }
}
