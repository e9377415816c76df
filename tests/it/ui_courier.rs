//! A courier's visit, end to end and headless: the real Slint UI under the
//! testing backend, the real application service and store, and the demo's
//! simulated lock boards (whose simulated person closes each door 1.5 s
//! after it opens). Keys are pressed by their accessible labels.

use crate::common;

use crate::common::{on_sim_board, page, press, pump_until};
use i_slint_backend_testing::{AccessibleRole, ElementQuery};
use locker_kiosk::app::Service;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::receipt;
use locker_kiosk::domain::{AllocationRequest, CompartmentState, SizeClass, allocate};
use locker_kiosk::store::Store;
use locker_kiosk::ui::{
    AppWindow, Courier, CourierNotice, Kiosk, Page, ParcelSize, TrackingProblem,
};
use slint::{ComponentHandle, Model};

fn notice(window: &AppWindow) -> CourierNotice {
    window.global::<Courier>().get_notice()
}

fn type_on_keypad(window: &AppWindow, code: &str) {
    for digit in code.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Log in");
}

/// Types on the on-screen keyboard (letters and digits) and goes on.
fn type_on_keyboard(window: &AppWindow, text: &str, enter: &str) {
    for key in text.chars() {
        press(window, &key.to_string());
    }
    assert_eq!(window.global::<Courier>().get_typed(), text);
    press(window, enter);
}

/// Presses the size button for `size` (its label also says how many are free).
fn choose_size(window: &AppWindow, size: &str) {
    let prefix = format!("Size {size},");
    let buttons: Vec<_> = ElementQuery::from_root(window)
        .match_accessible_role(AccessibleRole::Button)
        .match_predicate(move |e| e.accessible_label().is_some_and(|l| l.starts_with(&prefix)))
        .find_all();
    assert!(!buttons.is_empty(), "no button for size {size}");
    buttons[0].invoke_accessible_default_action();
}

fn door(window: &AppWindow) -> (i32, bool) {
    let courier = window.global::<Courier>();
    (courier.get_door(), courier.get_door_open())
}

fn highlighted(window: &AppWindow) -> Vec<i32> {
    window
        .global::<Kiosk>()
        .get_door_grid()
        .iter()
        .filter(|d| d.highlighted)
        .map(|d| d.compartment)
        .collect()
}

/// Runs `f` on the store's thread.
fn with_store<R: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    service: &Service,
    f: impl FnOnce(&mut Store) -> R + Send + 'static,
) -> R {
    runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
}

/// The compartment the kiosk will offer next for `size`.
fn next_for(runtime: &tokio::runtime::Runtime, service: &Service, size: SizeClass) -> u32 {
    let views = runtime
        .block_on(locker_kiosk::app::kiosk::compartment_views(
            service,
            service.doors(),
        ))
        .unwrap();
    allocate(&views, &AllocationRequest::new(size)).expect("a free compartment")
}

#[test]
fn a_couriers_visit_from_log_in_to_proof_of_delivery() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, window) = common::demo_kiosk_with_closing_doors(dir.path());

    // Log-in: a wrong code counts, the right one opens the visit.
    press(&window, "Deliver parcels");
    assert_eq!(page(&window), Page::CourierLogin, "within the touch");
    type_on_keypad(&window, "9999");
    pump_until(&window, "wrong courier code", 5, |w| {
        notice(w) == CourierNotice::WrongCode
    });
    assert_eq!(window.global::<Courier>().get_notice_number(), 4);
    press(&window, "4");
    assert_eq!(
        window.global::<Courier>().get_typed(),
        "•",
        "the code is masked"
    );
    press(&window, "Delete");
    type_on_keypad(&window, "4711");
    pump_until(&window, "logged in", 5, |w| page(w) == Page::CourierScan);
    assert!(
        window
            .global::<Courier>()
            .get_courier_name()
            .contains("Dana Driver")
    );

    // A tracking number with a wrong check digit is refused with the reason.
    press(&window, "Type a tracking number");
    type_on_keyboard(&window, "1Z999AA10123456785", "Continue");
    pump_until(&window, "refused tracking", 5, |w| {
        notice(w) == CourierNotice::InvalidTracking
    });
    assert_eq!(
        window.global::<Courier>().get_tracking_problem(),
        TrackingProblem::BadCheckDigit
    );
    // It stays in the field to be corrected: one digit.
    assert_eq!(window.global::<Courier>().get_typed(), "1Z999AA10123456785");
    press(&window, "Delete");
    // Corrected, it is a parcel already in the locker: refused too.
    press(&window, "4");
    assert_eq!(window.global::<Courier>().get_typed(), "1Z999AA10123456784");
    press(&window, "Continue");
    pump_until(&window, "already in the locker", 5, |w| {
        notice(w) == CourierNotice::AlreadyInLocker
    });
    assert_eq!(window.global::<Courier>().get_notice_number(), 2);

    // An announced parcel: the recipient comes from the manifest, its
    // size is preselected, the door opens and is shown on the drawing.
    type_on_keyboard(&window, "9400111899223197428497", "Continue");
    pump_until(&window, "size screen", 5, |w| page(w) == Page::CourierSize);
    pump_until(&window, "sizes counted", 5, |w| {
        w.global::<Courier>().get_sizes().row_count() == 4
    });
    let preselected: Vec<_> = window
        .global::<Courier>()
        .get_sizes()
        .iter()
        .filter(|s| s.preselected)
        .map(|s| s.size)
        .collect();
    assert_eq!(preselected, vec![ParcelSize::M]);
    pump_until(&window, "recipient named", 5, |w| {
        w.global::<Courier>().get_recipient() == "Deniz Demir"
    });
    let expected = next_for(&runtime, &service, SizeClass::M);
    choose_size(&window, "M");
    assert_eq!(
        (page(&window), door(&window)),
        (Page::CourierDoor, (0, false)),
        "within the touch: finding a compartment"
    );
    pump_until(&window, "door open for the parcel", 5, move |w| {
        door(w) == (expected as i32, true)
    });
    assert_eq!(page(&window), Page::CourierDoor);
    assert_eq!(highlighted(&window), vec![expected as i32]);
    pump_until(&window, "deposit recorded", 8, |w| {
        page(w) == Page::CourierScan && w.global::<Courier>().get_deposits().row_count() == 1
    });
    let deniz_door = expected;
    // Written just after the screen moved on.
    common::until_in_store(&runtime, &service, "door occupied", move |s| {
        s.compartments().get(deniz_door).unwrap().unwrap().state == CompartmentState::Occupied
    });

    // A parcel not in the manifest: the recipient is searched by name.
    press(&window, "Type a tracking number");
    type_on_keyboard(&window, "JD014600006299", "Continue");
    pump_until(&window, "recipient screen", 5, |w| {
        page(w) == Page::CourierRecipient
    });
    press(&window, "E");
    assert_eq!(
        window.global::<Courier>().get_residents().row_count(),
        0,
        "no search from one letter"
    );
    press(&window, "M");
    pump_until(&window, "Emma found", 5, |w| {
        w.global::<Courier>()
            .get_residents()
            .iter()
            .any(|r| r.name == "Emma Evans")
    });
    press(&window, "Emma Evans (5B)");
    pump_until(&window, "size screen", 5, |w| page(w) == Page::CourierSize);

    // It does not fit in S: the next size up opens, nothing is lost.
    let small = next_for(&runtime, &service, SizeClass::S);
    choose_size(&window, "S");
    pump_until(&window, "small door open", 5, move |w| {
        door(w) == (small as i32, true)
    });
    let medium = next_for(&runtime, &service, SizeClass::M);
    press(&window, "Doesn't fit (bigger)");
    pump_until(&window, "medium door open", 5, move |w| {
        door(w) == (medium as i32, true)
    });
    // That one is dirty: out of service, and the next M opens. The next M
    // is asked before the press: once the flow has it, it is reserved and
    // no longer "next".
    let medium_2 = next_for(&runtime, &service, SizeClass::M);
    assert_ne!(medium_2, medium);
    press(&window, "Not empty or dirty");
    // The dirty door is still open: the courier is told to close it, and
    // it is marked on the drawing until its sensor sees it shut.
    // (The small one may still be open too.)
    let to_close = window.global::<Courier>().get_to_close_doors();
    assert!(
        to_close.split(", ").any(|d| d == medium.to_string()),
        "{to_close}"
    );
    let marked: Vec<i32> = window
        .global::<Kiosk>()
        .get_door_grid()
        .iter()
        .filter(|d| d.to_close)
        .map(|d| d.compartment)
        .collect();
    assert!(marked.contains(&(medium as i32)), "{marked:?}");
    pump_until(&window, "second medium door open", 5, move |w| {
        door(w) == (medium_2 as i32, true)
    });
    pump_until(&window, "the dirty door closed", 5, |w| {
        w.global::<Courier>().get_to_close_count() == 0
    });
    pump_until(&window, "second deposit", 8, |w| {
        w.global::<Courier>().get_deposits().row_count() == 2
    });
    let (small_state, dirty_state) = with_store(&runtime, &service, move |s| {
        (
            s.compartments().get(small).unwrap().unwrap().state,
            s.compartments().get(medium).unwrap().unwrap().state,
        )
    });
    assert_eq!(small_state, CompartmentState::Free, "released");
    assert!(
        matches!(dirty_state, CompartmentState::OutOfService { .. }),
        "{dirty_state:?}"
    );

    // A jammed door: flagged faulty, the parcel goes to the next compartment.
    let jammed = next_for(&runtime, &service, SizeClass::S);
    let (board, channel) = service.doors().place_of(jammed).unwrap();
    on_sim_board(&service, &board, |sim, address| {
        sim.set_jammed(address, channel, true)
    });
    press(&window, "Type a tracking number");
    type_on_keyboard(&window, "JD014600006300", "Continue");
    pump_until(&window, "recipient screen", 5, |w| {
        page(w) == Page::CourierRecipient
    });
    press(&window, "E");
    press(&window, "M");
    pump_until(&window, "Emma found", 5, |w| {
        w.global::<Courier>().get_residents().row_count() > 0
    });
    press(&window, "Emma Evans (5B)");
    pump_until(&window, "size screen", 5, |w| page(w) == Page::CourierSize);
    pump_until(&window, "sizes counted", 5, |w| {
        w.global::<Courier>().get_sizes().row_count() == 4
    });
    choose_size(&window, "S");
    pump_until(&window, "the jam is reported", 8, |w| {
        notice(w) == CourierNotice::DoorFailed
    });
    assert_eq!(
        window.global::<Courier>().get_notice_number(),
        jammed as i32
    );
    pump_until(&window, "another door open", 8, move |w| {
        let (door, open) = door(w);
        open && door != jammed as i32
    });
    let replacement = door(&window).0 as u32;
    pump_until(&window, "third deposit", 8, |w| {
        w.global::<Courier>().get_deposits().row_count() == 3
    });
    let jammed_state = with_store(&runtime, &service, move |s| {
        s.compartments().get(jammed).unwrap().unwrap().state
    });
    assert!(
        matches!(jammed_state, CompartmentState::Faulty { .. }),
        "{jammed_state:?}"
    );
    on_sim_board(&service, &board, |sim, address| {
        sim.set_jammed(address, channel, false)
    });

    // Emma's two parcels share one code; undoing one keeps it for the other.
    let emma_code = with_store(&runtime, &service, |s| {
        let emma = s.recipients().search("Emma", 1).unwrap()[0].id;
        s.parcels().pickup_code_for(emma).unwrap().unwrap()
    });
    press(&window, &format!("Undo door {replacement}"));
    pump_until(&window, "undone", 8, |w| notice(w) == CourierNotice::Undone);
    assert_eq!(window.global::<Courier>().get_deposits().row_count(), 2);
    // Cancelled just after the screen said so.
    common::until_in_store(&runtime, &service, "one of Emma's parcels left", move |s| {
        let lookup = s
            .parcels()
            .look_up_code(&CodeInput::Pin(emma_code.pin.clone()))
            .unwrap();
        matches!(&lookup, CodeLookup::Valid(parcels) if parcels.len() == 1 && parcels[0].compartment == medium_2)
    });

    // Taking back: Carla's expired parcel in door 20.
    let carla_tracking = with_store(&runtime, &service, |s| {
        let carla = s.parcels().in_locker().unwrap();
        let carla = carla.iter().find(|p| p.compartment == Some(20)).unwrap();
        carla.tracking.clone()
    });
    pump_until(&window, "undo door closed", 5, move |_| true);
    press(&window, "Take back expired parcels");
    pump_until(&window, "door 20 open for take-back", 8, |w| {
        page(w) == Page::CourierRetrieve && door(w) == (20, true)
    });
    // The door step names the parcel; closing the door takes it.
    assert_eq!(
        window.global::<Courier>().get_tracking(),
        carla_tracking.as_str()
    );
    pump_until(&window, "back to scanning, confirmed", 8, |w| {
        page(w) == Page::CourierScan && notice(w) == CourierNotice::TakenBack
    });
    assert_eq!(window.global::<Courier>().get_notice_number(), 1);
    common::until_in_store(&runtime, &service, "Carla's parcel taken back", |s| {
        s.events()
            .recent(Some("parcel_retrieved"), 5)
            .unwrap()
            .len()
            == 1
    });

    // Finish: the summary and a proof of delivery that verifies.
    press(&window, "Finish");
    pump_until(&window, "summary with receipt", 8, |w| {
        page(w) == Page::CourierDone && w.global::<Courier>().get_receipt_ready()
    });
    assert_eq!(window.global::<Courier>().get_summary_parcels(), 2);
    assert_eq!(window.global::<Courier>().get_summary_recipients(), 2);
    assert_eq!(window.global::<Courier>().get_summary_retrieved(), 1);
    let image = window.global::<Courier>().get_receipt_qr();
    assert!(image.size().width > 20, "a QR is drawn");
    let (key, ended, notifications) = with_store(&runtime, &service, |s| {
        let key = s
            .couriers()
            .receipt_key(&mut locker_kiosk::app::system::OsEntropy)
            .unwrap();
        let ended = s.events().recent(Some("courier_visit_ended"), 1).unwrap();
        let notifications = s
            .events()
            .recent(Some("recipient_notification"), 10)
            .unwrap()
            .len();
        (key, ended, notifications)
    });
    let text = ended[0].detail["receipt"].as_str().unwrap().to_string();
    let proof = receipt::verify(&text, &receipt::public_key(&key)).unwrap();
    let doors: Vec<u32> = proof.deposited.iter().map(|l| l.door).collect();
    assert_eq!(doors, vec![deniz_door, medium_2]);
    assert_eq!(proof.retrieved.len(), 1);
    assert_eq!(proof.courier, "Dana Driver");
    assert_eq!(notifications, 2, "one message per recipient");

    press(&window, "Done");
    assert_eq!(page(&window), Page::Home);
}
