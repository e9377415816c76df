//! Someone else collects: the recipient makes a one-time code at the
//! screen (no door opens), the other person collects with it (recorded as
//! a delegate pickup), and then neither code opens anything more. Staff
//! make and take back such a code from the command line.

use crate::common;

use crate::common::{in_store, page, press, pump_until, staff};
use locker_kiosk::domain::ParcelStatus;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::store::Store;
use locker_kiosk::ui::{AppWindow, Kiosk, Page};
use slint::ComponentHandle;

const ALICE_PIN: &str = "583920";

fn type_code(window: &AppWindow, code: &str) {
    for digit in code.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Open");
}

#[test]
fn a_recipient_makes_a_code_for_someone_else_who_collects_with_it_once() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, window) = common::demo_kiosk_with_closing_doors(dir.path());

    // Alice, at the screen: "someone else will collect", then her code.
    press(&window, "Pick up a parcel");
    press(&window, "Someone else will collect");
    pump_until(&window, "the choice shown", 5, |w| {
        w.global::<Kiosk>().get_for_someone_else()
    });
    type_code(&window, ALICE_PIN);
    pump_until(&window, "the code for someone else", 5, |w| {
        page(w) == Page::PickupDelegate
    });
    let delegate_pin = window.global::<Kiosk>().get_delegate_pin().to_string();
    assert_eq!(delegate_pin.len(), 6);
    assert_ne!(delegate_pin, ALICE_PIN);
    let (opened, issued) = in_store(&runtime, &service, |s| {
        (
            s.events()
                .recent(Some("door_open_intent"), 5)
                .unwrap()
                .len(),
            s.events().recent(Some("delegate_code_issued"), 5).unwrap(),
        )
    });
    assert_eq!(opened, 0, "no door opens for it");
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].actor, "recipient");
    assert!(
        !issued[0].detail.to_string().contains(&delegate_pin),
        "the code itself is never logged"
    );
    press(&window, "Done");
    pump_until(&window, "home", 5, |w| page(w) == Page::Home);
    assert!(
        !window.global::<Kiosk>().get_for_someone_else(),
        "the choice ends with the visit"
    );

    // The neighbour, with the new code: door 2 opens, and the handover is
    // recorded as a delegate's.
    press(&window, "Pick up a parcel");
    type_code(&window, &delegate_pin);
    pump_until(&window, "thank you", 10, |w| page(w) == Page::PickupDone);
    let (status, with) = in_store(&runtime, &service, |s| {
        let parcel = s
            .parcels()
            .by_tracking("1Z999AA10123456784")
            .unwrap()
            .unwrap();
        let collected = s.events().recent(Some("parcel_collected"), 1).unwrap();
        (parcel.status, collected[0].detail["with"].clone())
    });
    assert_eq!(status, ParcelStatus::Collected);
    assert_eq!(with, "delegate");

    // One time only, and Alice's own code is spent with the parcel.
    let lookups = in_store(&runtime, &service, move |s| {
        let parcels = s.parcels();
        [delegate_pin.clone(), ALICE_PIN.to_string()]
            .map(|pin| parcels.look_up_code(&CodeInput::Pin(pin)).unwrap())
    });
    assert_eq!(lookups, [CodeLookup::AlreadyUsed, CodeLookup::AlreadyUsed]);
}

#[test]
fn staff_make_and_take_back_a_code_for_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::seeded_store(dir.path()));
    let (code, out, err) = staff(
        dir.path(),
        &[
            "parcels",
            "delegate",
            "1Z999AA10123456784",
            "--name",
            "Neighbour",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let pin = common::printed_code(&out);
    assert_eq!(pin.len(), 6, "{out}");
    assert!(out.contains("LK1:demo-1:"), "{out}");
    let lookup = |pin: &str| {
        Store::open(dir.path())
            .unwrap()
            .parcels()
            .look_up_code(&CodeInput::Pin(pin.into()))
            .unwrap()
    };
    assert!(
        matches!(lookup(&pin), CodeLookup::Delegated(ref p) if p.len() == 1 && p[0].compartment == 2)
    );
    assert!(
        matches!(lookup(ALICE_PIN), CodeLookup::Valid(_)),
        "hers still works"
    );

    let (code, out, _) = staff(
        dir.path(),
        &["parcels", "revoke-delegate", "1Z999AA10123456784"],
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("opens nothing any more"), "{out}");
    assert_eq!(lookup(&pin), CodeLookup::AlreadyUsed);
    assert!(matches!(lookup(ALICE_PIN), CodeLookup::Valid(_)));
    let (code, _, err) = staff(
        dir.path(),
        &["parcels", "revoke-delegate", "1Z999AA10123456784"],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("no delegate code"), "{err}");
    let events = Store::open(dir.path())
        .unwrap()
        .events()
        .recent(None, 5)
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "delegate_code_revoked"));
    let issued = events
        .iter()
        .find(|e| e.kind == "delegate_code_issued")
        .unwrap();
    assert_eq!(issued.detail["name"], "Neighbour");
    assert!(issued.actor.starts_with("cli:"));
}
