//! Start-up reconciliation: door actions a crash or power cut left
//! unfinished are settled from what the doors were seen doing. The records
//! here are written as the kiosk writes them up to the moment it died.

use std::time::Duration;

use crate::common::{self, NOW, seeded_store};
use locker_kiosk::app::Service;
use locker_kiosk::app::kiosk::records::Settings;
use locker_kiosk::app::reconcile::{Decision, reconcile};
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentState, ParcelStatus, Timestamp};
use locker_kiosk::store::{Event, NewEvent, Store};

const DENIZ_PARCEL: &str = "9400111899223197428497";

fn settings() -> Settings {
    Settings::from(&Config::demo())
}

fn at(ms: i64) -> Timestamp {
    Timestamp(NOW.0 + ms)
}

/// The demo's announced parcel for Deniz: (its id, Deniz's id).
fn deniz(store: &mut Store) -> (i64, i64) {
    let parcel = store
        .parcels()
        .by_tracking(DENIZ_PARCEL)
        .unwrap()
        .expect("the demo announces Deniz's parcel");
    (parcel.id, parcel.recipient)
}

fn intent(store: &mut Store, compartment: u32, event: Event, actor: &str, ms: i64) {
    store
        .events()
        .record(
            at(ms),
            &NewEvent::new(event, actor).compartment(compartment),
        )
        .unwrap();
}

/// An intent with no deposit in it (`pickup`, `take_back`, `move`...).
fn staff_or_pickup(purpose: &str, to: Option<u32>, reason: Option<&str>) -> Event {
    Event::DoorOpenIntent {
        purpose: purpose.into(),
        tracking: None,
        recipient: None,
        announced: None,
        to,
        reason: reason.map(Into::into),
    }
}

fn door(store: &mut Store, compartment: u32, open: bool, ms: i64) {
    let (board, channel) = ("A".to_string(), compartment as u16);
    let event = if open {
        Event::DoorOpened { board, channel }
    } else {
        Event::DoorClosed { board, channel }
    };
    intent(store, compartment, event, "kiosk", ms);
}

/// A deposit begun at compartment 14: reserved, its intent written.
fn deposit_begun(store: &mut Store) -> i64 {
    let (parcel, recipient) = deniz(store);
    assert!(store.compartments().reserve(14, at(0)).unwrap());
    let event = Event::DoorOpenIntent {
        purpose: "deposit".into(),
        tracking: Some(DENIZ_PARCEL.into()),
        recipient: Some(recipient),
        announced: Some(parcel),
        to: None,
        reason: None,
    };
    intent(store, 14, event, "courier:1", 1);
    parcel
}

#[test]
fn a_deposit_whose_door_opened_and_closed_before_the_crash_is_recorded_and_told() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let parcel = deposit_begun(&mut store);
    door(&mut store, 14, true, 2);
    door(&mut store, 14, false, 3);

    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(
        settled[0].decision,
        Decision::Deposited {
            tracking: DENIZ_PARCEL.into()
        }
    );
    let record = store.parcels().get(parcel).unwrap().unwrap();
    assert_eq!(record.status, ParcelStatus::Deposited);
    assert_eq!(record.compartment, Some(14));
    assert!(!record.confirmed, "staff see it unconfirmed");
    assert_eq!(
        store.compartments().get(14).unwrap().unwrap().state,
        CompartmentState::Occupied
    );
    let told = store
        .events()
        .recent(Some("recipient_notification"), 1)
        .unwrap();
    assert_eq!(told[0].actor, "kiosk:start-up");
    // Settled once: a second start finds nothing to do.
    assert!(
        reconcile(&mut store, &settings(), at(20))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_deposit_whose_door_was_left_open_is_flagged_with_everything_known() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let parcel = deposit_begun(&mut store);
    door(&mut store, 14, true, 2);

    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert!(matches!(settled[0].decision, Decision::Flagged { .. }));
    let CompartmentState::Faulty { reason } = store.compartments().get(14).unwrap().unwrap().state
    else {
        panic!("not flagged");
    };
    assert!(
        reason.contains(DENIZ_PARCEL) && reason.contains("interrupted"),
        "{reason}"
    );
    let record = store.parcels().get(parcel).unwrap().unwrap();
    assert_eq!(record.status, ParcelStatus::Announced, "not claimed inside");
    let said = store.events().recent(Some("reconciled"), 1).unwrap();
    assert_eq!(said[0].detail["decision"], "flagged");
    assert_eq!(said[0].compartment, Some(14));
}

#[test]
fn a_deposit_whose_door_never_opened_gives_the_compartment_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    deposit_begun(&mut store);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(settled[0].decision, Decision::Released);
    assert_eq!(
        store.compartments().get(14).unwrap().unwrap().state,
        CompartmentState::Free
    );
}

#[test]
fn a_pickup_whose_door_opened_is_collected_and_its_code_opens_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    // Alice's code, door 2: the intent, the door seen open, then the end.
    let event = staff_or_pickup("pickup", None, None);
    intent(&mut store, 2, event, "recipient", 1);
    door(&mut store, 2, true, 2);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(
        settled[0].decision,
        Decision::Collected { parcels: vec![1] }
    );
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().status,
        ParcelStatus::Collected
    );
    let lookup = store
        .parcels()
        .look_up_code(&CodeInput::Pin("583920".into()))
        .unwrap();
    assert_eq!(lookup, CodeLookup::AlreadyUsed);

    // A pickup whose door was never seen open keeps its parcel and code.
    let event = staff_or_pickup("pickup", None, None);
    intent(&mut store, 10, event, "recipient", 20);
    assert!(
        reconcile(&mut store, &settings(), at(30))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin("246813".into()))
            .unwrap(),
        CodeLookup::Valid(_)
    ));
}

/// The real kiosk, stopped dead with a deposit's door open (its runtime
/// and store dropped, nothing written on the way out), then started again
/// on the same records.
#[test]
fn a_kiosk_stopped_dead_at_an_open_deposit_door_flags_it_at_the_next_start() {
    use locker_kiosk::app::kiosk::{DoorStep, Headless, Input, Page};
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = None;
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let service = Service::start(seeded_store(dir.path()), config.clone(), runtime.handle());
        assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
        let (views, seen) = std::sync::mpsc::channel();
        let kiosk = Headless::spawn(&service, runtime.handle(), move |v| {
            let _ = views.send(v.clone());
        });
        kiosk.send(Input::DeliverChosen);
        for key in "4711".chars() {
            kiosk.send(Input::Key(key.to_string()));
        }
        kiosk.send(Input::Enter);
        let mut scanned = false;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut sized = false;
        loop {
            let view = seen
                .recv_timeout(Duration::from_secs(5))
                .expect("a view within 5 s");
            if view.page == Page::CourierScan && !scanned {
                for key in DENIZ_PARCEL.chars() {
                    kiosk.send(Input::Key(key.to_string()));
                }
                kiosk.send(Input::Enter);
                scanned = true;
            }
            if view.page == Page::CourierSize && !sized {
                kiosk.send(Input::SizeChosen(locker_kiosk::domain::SizeClass::M));
                sized = true;
            }
            if matches!(view.courier.door, Some((_, DoorStep::Open))) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the door never opened"
            );
        }
        common::until_in_store(&runtime, &service, "the door seen open", |s| {
            !s.events()
                .recent(Some("door_opened"), 1)
                .unwrap()
                .is_empty()
        });
        // Dead: no leave, no stop, no end of the visit.
        runtime.shutdown_background();
        std::mem::forget(kiosk);
        drop(service);
    }
    // The store's worker lets go of the records once every handle is gone.
    let started = std::time::Instant::now();
    let mut store = loop {
        match Store::open(dir.path()) {
            Ok(store) => break store,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let reserved: Vec<u32> = store
        .compartments()
        .all()
        .unwrap()
        .into_iter()
        .filter(|c| c.state == CompartmentState::Reserved)
        .map(|c| c.number)
        .collect();
    assert_eq!(reserved.len(), 1, "the crash left its compartment reserved");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, config, runtime.handle());
    let (state, status) = common::in_store(&runtime, &service, move |s| {
        let state = s.compartments().get(reserved[0]).unwrap().unwrap().state;
        let (parcel, _) = deniz(s);
        (state, s.parcels().get(parcel).unwrap().unwrap().status)
    });
    assert!(
        matches!(state, CompartmentState::Faulty { .. }),
        "{state:?}"
    );
    assert_eq!(status, ParcelStatus::Announced);
}

/// Carla's expired parcel in compartment 20, brought by courier 1.
const CARLA_PARCEL: i64 = 4;

fn intent_for(store: &mut Store, compartment: u32, event: Event, actor: &str, parcel: i64) {
    store
        .events()
        .record(
            at(1),
            &NewEvent::new(event, actor)
                .compartment(compartment)
                .parcel(parcel),
        )
        .unwrap();
}

use crate::common::compartment_state as state_of;

#[test]
fn a_take_back_whose_door_opened_and_closed_is_retrieved_and_one_left_open_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    assert_eq!(
        store.parcels().get(CARLA_PARCEL).unwrap().unwrap().status,
        ParcelStatus::Expired
    );
    let event = staff_or_pickup("take_back", None, None);
    intent_for(&mut store, 20, event, "courier:1", CARLA_PARCEL);
    door(&mut store, 20, true, 2);
    // Open only: nobody knows whether the courier took it.
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert!(matches!(settled[0].decision, Decision::Flagged { .. }));
    assert!(
        matches!(state_of(&mut store, 20), CompartmentState::Faulty { reason } if reason.contains("take-back"))
    );
    assert_eq!(
        store.parcels().get(CARLA_PARCEL).unwrap().unwrap().status,
        ParcelStatus::Expired,
        "still on record as inside"
    );
    assert!(
        reconcile(&mut store, &settings(), at(20))
            .unwrap()
            .is_empty(),
        "settled once"
    );

    // Opened and shut: the courier has it.
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let event = staff_or_pickup("take_back", None, None);
    intent_for(&mut store, 20, event, "courier:1", CARLA_PARCEL);
    door(&mut store, 20, true, 2);
    door(&mut store, 20, false, 3);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(
        settled[0].decision,
        Decision::TakenBack {
            tracking: "JD014600006281234567".into()
        }
    );
    assert_eq!(
        store.parcels().get(CARLA_PARCEL).unwrap().unwrap().status,
        ParcelStatus::Retrieved
    );
    assert_eq!(state_of(&mut store, 20), CompartmentState::Free);
}

#[test]
fn a_take_back_the_courier_said_did_not_open_was_settled_by_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let event = staff_or_pickup("take_back", None, None);
    intent_for(&mut store, 20, event, "courier:1", CARLA_PARCEL);
    door(&mut store, 20, true, 2);
    let said = Event::SensorDisagreement {
        said: "door_did_not_open".into(),
        sensor: "open".into(),
    };
    intent(&mut store, 20, said, "courier:1", 3);
    door(&mut store, 20, false, 4);
    assert!(
        reconcile(&mut store, &settings(), at(10))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.parcels().get(CARLA_PARCEL).unwrap().unwrap().status,
        ParcelStatus::Expired,
        "it stays for the next visit"
    );
}

#[test]
fn an_undo_whose_door_opened_is_flagged_for_staff() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    intent(
        &mut store,
        2,
        staff_or_pickup("undo", None, None),
        "courier:1",
        1,
    );
    door(&mut store, 2, true, 2);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(settled.len(), 1);
    assert!(
        matches!(state_of(&mut store, 2), CompartmentState::Faulty { reason } if reason.contains("undo"))
    );
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().status,
        ParcelStatus::Deposited
    );
}

#[test]
fn a_staff_removal_whose_door_opened_is_recorded_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let event = staff_or_pickup("remove", None, Some("damaged"));
    intent_for(&mut store, 2, event, "staff:admin", 1);
    door(&mut store, 2, true, 2);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert!(matches!(settled[0].decision, Decision::Removed { .. }));
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().status,
        ParcelStatus::Removed
    );
    let removed = store.events().recent(Some("parcel_removed"), 1).unwrap();
    assert_eq!(removed[0].detail["reason"], "damaged");
    assert_eq!(removed[0].actor, "staff:admin");
    assert_eq!(state_of(&mut store, 2), CompartmentState::Free);
}

#[test]
fn a_staff_move_cut_short_holds_both_doors_for_staff_and_a_finished_one_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let event = staff_or_pickup("move", Some(5), Some("move parcel"));
    intent_for(&mut store, 2, event, "staff:admin", 1);
    door(&mut store, 2, true, 2);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    let mut flagged: Vec<u32> = settled.iter().map(|s| s.compartment).collect();
    flagged.sort_unstable();
    assert_eq!(flagged, vec![2, 5]);
    for number in [2, 5] {
        assert!(
            matches!(state_of(&mut store, number), CompartmentState::Faulty { reason } if reason.contains("from 2 to 5"))
        );
    }
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().compartment,
        Some(2),
        "the record stays where it was"
    );
    assert!(
        reconcile(&mut store, &settings(), at(20))
            .unwrap()
            .is_empty()
    );

    // The move recorded before the kill: nothing to settle.
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let event = staff_or_pickup("move", Some(5), Some("move parcel"));
    intent_for(&mut store, 2, event, "staff:admin", 1);
    door(&mut store, 2, true, 2);
    store.parcels().move_to(1, 5, "staff:admin", at(3)).unwrap();
    assert!(
        reconcile(&mut store, &settings(), at(10))
            .unwrap()
            .is_empty()
    );
    assert_eq!(state_of(&mut store, 5), CompartmentState::Occupied);
}

#[test]
fn an_item_load_whose_door_opened_and_closed_is_loaded_and_one_never_opened_stays_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let office = "person,contact,item,size,asset_tag\n\
                  Anna,anna@example.com,Laptop,M,IT-1\n\
                  Bo,bo@example.com,Laptop,M,IT-2\n";
    locker_kiosk::app::handout::import(&mut store, office, false, "cli:it", at(0)).unwrap();
    let items = store.parcels().items_to_load().unwrap();
    let (loading, waiting) = (&items[0], &items[1]);
    // Staff opened Anna's door and closed it; the kiosk died before it
    // recorded the load. Bo's door was opened and is still open.
    for item in [loading, waiting] {
        let event = staff_or_pickup("load", None, Some("load Laptop"));
        intent_for(
            &mut store,
            item.compartment,
            event,
            "staff:admin",
            item.parcel,
        );
    }
    let (anna, bo) = (loading.compartment, waiting.compartment);
    door(&mut store, anna, true, 2);
    door(&mut store, bo, true, 3);
    door(&mut store, anna, false, 4);
    let settled = reconcile(&mut store, &settings(), at(10)).unwrap();
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0].compartment, anna);
    assert!(matches!(&settled[0].decision, Decision::Deposited { tracking } if tracking == "IT-1"));
    let parcel = store.parcels().by_tracking("IT-1").unwrap().unwrap();
    assert_eq!(parcel.status, ParcelStatus::Deposited);
    let told = store
        .events()
        .recent(Some("recipient_notification"), 5)
        .unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].actor, "staff:admin");
    assert_eq!(told[0].detail["parcels"][0]["item"], "Laptop");
    assert_eq!(state_of(&mut store, bo), CompartmentState::Reserved);
    assert_eq!(store.parcels().items_to_load().unwrap().len(), 1);
    // Settled once: a second start changes nothing.
    assert!(
        reconcile(&mut store, &settings(), at(20))
            .unwrap()
            .is_empty()
    );
}
