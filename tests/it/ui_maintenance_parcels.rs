//! Parcels in maintenance, headless through the real UI, service, store
//! and simulated boards: search by tracking number, name, door; expired
//! only; move a parcel (both doors open, then the record moves); a move
//! whose target door is jammed records nothing; take a parcel out with a
//! reason, or with the key when its board is down; give an expired parcel
//! more time, after which its recipient picks it up with their code; mark
//! one for return, after which its carrier's courier is to take it back.

use crate::common;

use crate::common::{enter_maintenance, in_store, on_sim_board, page, press, pump_until};
use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
use locker_kiosk::domain::ParcelStatus;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::ui::{
    AppWindow, DoorFailure, DoorProgress, Kiosk, MaintenanceParcels, Page, ParcelNotice,
};
use slint::{ComponentHandle, Model};

fn listed(window: &AppWindow) -> Vec<i32> {
    window
        .global::<MaintenanceParcels>()
        .get_parcels()
        .iter()
        .map(|p| p.compartment)
        .collect()
}

fn notice(window: &AppWindow) -> ParcelNotice {
    window.global::<MaintenanceParcels>().get_notice()
}

fn select(window: &AppWindow, tracking: &str, compartment: i32) {
    press(
        window,
        &format!("Parcel {tracking} in compartment {compartment}"),
    );
    pump_until(window, "the parcel's details", 5, move |w| {
        let parcels = w.global::<MaintenanceParcels>();
        parcels.get_selected().compartment == compartment && parcels.get_history().row_count() > 0
    });
}

fn search(window: &AppWindow, text: &str) {
    press(window, "Search");
    for key in text.chars() {
        press(window, &key.to_string());
    }
    press(window, "Done");
}

#[test]
fn staff_find_move_take_out_extend_and_return_parcels() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let (runtime, service, window) = common::staff_kiosk(store, |_| {});
    enter_maintenance(&window, DEMO_ADMIN_PIN);

    // The list, and the search: by name, by door, by tracking number.
    press(&window, "Parcels");
    pump_until(&window, "the parcels", 5, |w| listed(w) == [2, 10, 16, 20]);
    search(&window, "BOB");
    assert_eq!(window.global::<MaintenanceParcels>().get_search(), "BOB");
    pump_until(&window, "Bob's parcels", 5, |w| listed(w) == [10, 16]);
    press(&window, "Clear");
    search(&window, "20");
    pump_until(&window, "door 20", 5, |w| listed(w) == [20]);
    press(&window, "Clear");
    search(&window, "TBA12");
    pump_until(&window, "a tracking number", 5, |w| listed(w) == [16]);
    press(&window, "Clear");
    press(&window, "Expired only");
    pump_until(&window, "expired ones", 5, |w| listed(w) == [20]);
    assert!(
        window
            .global::<MaintenanceParcels>()
            .get_parcels()
            .row_data(0)
            .unwrap()
            .expired
    );
    press(&window, "Expired only");
    pump_until(&window, "all again", 5, |w| listed(w).len() == 4);

    // Alice's parcel moves to the snuggest free compartment: both doors
    // open, then the record moves and her code opens the new door.
    select(&window, "1Z999AA10123456784", 2);
    let target = window
        .global::<MaintenanceParcels>()
        .get_move_targets()
        .row_data(0)
        .expect("somewhere to move it");
    assert_eq!(target, 1, "the smallest free compartment that fits, first");
    press(&window, "Move…");
    press(&window, &format!("To {target}"));
    pump_until(&window, "moved", 5, |w| notice(w) == ParcelNotice::Moved);
    assert_eq!(
        window
            .global::<MaintenanceParcels>()
            .get_notice_compartment(),
        target
    );
    let (opened, lookup) = in_store(&runtime, &service, |s| {
        let opened = s.events().recent(Some("maintenance_open"), 2).unwrap();
        let lookup = s
            .parcels()
            .look_up_code(&CodeInput::Pin("583920".into()))
            .unwrap();
        (
            opened
                .iter()
                .map(|e| e.compartment.unwrap())
                .collect::<Vec<_>>(),
            lookup,
        )
    });
    assert_eq!(opened, [target as u32, 2], "both doors were opened for it");
    let CodeLookup::Valid(parcels) = lookup else {
        panic!("Alice's code no longer works")
    };
    assert_eq!(parcels[0].compartment, target as u32);
    pump_until(&window, "the list follows", 5, move |w| {
        listed(w).contains(&target) && !listed(w).contains(&2)
    });

    // Bob's parcel in 10 cannot go where the door is jammed: nothing is
    // recorded, it stays where it is.
    select(&window, "00340123450000000017", 10);
    let target = window
        .global::<MaintenanceParcels>()
        .get_move_targets()
        .row_data(0)
        .unwrap();
    on_sim_board(&service, "A", move |sim, address| {
        sim.set_jammed(address, target as u16, true)
    });
    press(&window, "Move…");
    press(&window, &format!("To {target}"));
    pump_until(&window, "the jammed door", 5, |w| {
        notice(w) == ParcelNotice::DoorFailed
    });
    let parcels = window.global::<MaintenanceParcels>();
    assert_eq!(parcels.get_notice_compartment(), target);
    assert_eq!(parcels.get_door_failure(), DoorFailure::Jammed);
    let (moves, compartment) = in_store(&runtime, &service, |s| {
        let moves = s.events().recent(Some("parcel_moved"), 10).unwrap().len();
        let bob = s
            .parcels()
            .by_tracking("00340123450000000017")
            .unwrap()
            .unwrap();
        (moves, bob.compartment)
    });
    assert_eq!((moves, compartment), (1, Some(10)));

    // Mark it for return: the carrier's next courier takes it back.
    press(&window, "Mark for return to the sender…");
    press(&window, "Refused by the recipient");
    pump_until(&window, "marked", 5, |w| {
        notice(w) == ParcelNotice::MarkedForReturn
    });
    let (retrievable, reason) = in_store(&runtime, &service, |s| {
        let retrievable = s
            .parcels()
            .retrievable_for(1)
            .unwrap()
            .iter()
            .map(|p| p.parcel.compartment)
            .collect::<Vec<_>>();
        let asked = &s.events().recent(Some("return_requested"), 1).unwrap()[0];
        (retrievable, asked.detail["reason"].clone())
    });
    assert!(retrievable.contains(&10), "{retrievable:?}");
    assert_eq!(reason, "refused_by_recipient");

    // Bob's other parcel is behind board B, which is down: the door does
    // not open, nothing is recorded; staff take it out with the key.
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    select(&window, "TBA123456789000", 16);
    press(&window, "Take out…");
    press(&window, "Damaged");
    pump_until(&window, "no reply", 10, |w| {
        notice(w) == ParcelNotice::DoorFailed
    });
    assert_eq!(
        window.global::<MaintenanceParcels>().get_door_failure(),
        DoorFailure::NoReply
    );
    let status = in_store(&runtime, &service, |s| {
        s.parcels()
            .by_tracking("TBA123456789000")
            .unwrap()
            .unwrap()
            .status
    });
    assert_eq!(status, ParcelStatus::Deposited);
    let doors = service.clone();
    pump_until(&window, "board B declared offline", 10, move |_| {
        doors.doors().board_offline("B")
    });
    press(&window, "I took it out with the key");
    pump_until(&window, "taken out", 5, |w| {
        notice(w) == ParcelNotice::Removed
    });
    let (status, removed) = in_store(&runtime, &service, |s| {
        let status = s
            .parcels()
            .by_tracking("TBA123456789000")
            .unwrap()
            .unwrap()
            .status;
        let removed = s.events().recent(Some("parcel_removed"), 1).unwrap()[0]
            .detail
            .clone();
        (status, removed)
    });
    assert_eq!(status, ParcelStatus::Removed);
    assert_eq!(removed["reason"], "damaged");
    assert_eq!(removed["door"], "key");
    assert_eq!(window.global::<MaintenanceParcels>().get_selected().id, 0);
    pump_until(&window, "gone from the list", 5, |w| {
        !listed(w).contains(&16)
    });
    // Board B is plugged back in; the kiosk still thinks it offline until
    // it next asks (every 2 s) or the board answers an open.
    on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });

    // Carla's expired parcel gets three more days; she is told, and her
    // code opens its door again.
    select(&window, "JD014600006281234567", 20);
    assert!(window.global::<MaintenanceParcels>().get_selected().expired);
    press(&window, "3 days more");
    pump_until(&window, "extended", 5, |w| {
        notice(w) == ParcelNotice::Extended
    });
    assert!(
        !window
            .global::<MaintenanceParcels>()
            .get_notice_deadline()
            .is_empty()
    );
    pump_until(&window, "no longer expired", 5, |w| {
        !w.global::<MaintenanceParcels>().get_selected().expired
    });
    press(&window, "Leave maintenance");
    press(&window, "Pick up a parcel");
    for digit in "907531".chars() {
        press(&window, &digit.to_string());
    }
    press(&window, "Open");
    pump_until(&window, "Carla's door opens", 10, |w| {
        w.global::<Kiosk>()
            .get_pickup_doors()
            .iter()
            .any(|d| d.compartment == 20 && d.progress == DoorProgress::Open)
    });
    assert_eq!(page(&window), Page::PickupDoors);
    let alarms = in_store(&runtime, &service, |s| {
        s.events()
            .recent(Some("uncommanded_open"), 5)
            .unwrap()
            .len()
    });
    assert_eq!(alarms, 0, "the door opened for Carla is no alarm");
}
