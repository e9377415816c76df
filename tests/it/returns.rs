//! Returns and sending from the locker, headless through the real UI,
//! service, store and simulated boards: staff expect a return (the real
//! binary prints the code), the person types it where pickup codes go, a
//! door of the parcel's size opens (a jammed one is flagged and another
//! tried), the door closing accepts it with a signed receipt, and the
//! carrier's courier is then to take it back. A parcel too big for any
//! free compartment is told so; a restart settles a return cut short.

use std::time::Duration;

use crate::common::{self, in_store, page, press, pump_until, staff};
use locker_kiosk::app::kiosk::records::Settings;
use locker_kiosk::app::reconcile::{Decision, reconcile};
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentState, ParcelStatus, SizeClass};
use locker_kiosk::store::{Event, ExpectedReturn, NewEvent, Store};
use locker_kiosk::ui::{AppWindow, Kiosk, Page, ReturnStep};
use slint::ComponentHandle;

const CARRIER: &str = "Demo Parcel Co";

/// A return expected from Erin, under the carrier's `reference`.
fn expect(store: &mut Store, size: Option<SizeClass>, reference: &str) -> (i64, String) {
    let (parcel, code) = store
        .parcels()
        .expect_return(
            &ExpectedReturn {
                person: "Erin Eriksen",
                contact: None,
                carrier: CARRIER,
                size,
                reference: Some(reference),
            },
            6,
            &mut locker_kiosk::app::system::OsEntropy,
            "cli:it",
            locker_kiosk::app::system::now(),
        )
        .unwrap();
    (parcel, code.pin)
}

fn type_code(window: &AppWindow, code: &str) {
    press(window, "Pick up a parcel");
    for digit in code.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Open");
}

fn step(window: &AppWindow) -> ReturnStep {
    window.global::<Kiosk>().get_return_step()
}

#[test]
fn staff_expect_a_return_and_the_binary_prints_its_code() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::seeded_store(dir.path()));
    let (code, out, err) = staff(
        dir.path(),
        &[
            "parcels",
            "expect-return",
            "--person",
            "Erin Eriksen",
            "--contact",
            "erin@example.com",
            "--carrier",
            CARRIER,
            "--size",
            "L",
            "--reference",
            "RMA-7",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Erin Eriksen may put RMA-7 (size L, for Demo Parcel Co)"),
        "{out}"
    );
    let pin = common::printed_code(&out);
    let lookup = Store::open(dir.path())
        .unwrap()
        .parcels()
        .look_up_code(&CodeInput::Pin(pin))
        .unwrap();
    assert!(
        matches!(
            lookup,
            CodeLookup::Return {
                size: Some(SizeClass::L),
                ..
            }
        ),
        "{lookup:?}"
    );
    let (code, _, err) = staff(
        dir.path(),
        &[
            "parcels",
            "expect-return",
            "--person",
            "X",
            "--carrier",
            CARRIER,
            "--size",
            "huge",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("unknown size"), "{err}");
    let (code, _, err) = staff(
        dir.path(),
        &[
            "parcels",
            "expect-return",
            "--person",
            "Y",
            "--carrier",
            CARRIER,
            "--reference",
            "RMA-7",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("RMA-7 is already expected"), "{err}");
}

#[test]
fn a_person_returns_a_parcel_through_the_screen_and_gets_a_receipt() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::seeded_store(dir.path());
    let (parcel, pin) = expect(&mut store, Some(SizeClass::M), "RMA-2291");
    let (too_big, too_big_pin) = expect(
        &mut store,
        Some(SizeClass::Custom(locker_kiosk::domain::Dimensions::new(
            900, 900, 900,
        ))),
        "RMA-2292",
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(1500));
    config.doors.open_window = Duration::from_millis(800);
    let (service, window) = common::start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));

    // The first door chosen for an M parcel is jammed: it is flagged, and
    // the next one opens.
    let first = in_store(&runtime, &service, |s| {
        let views: Vec<_> = s
            .compartments()
            .all()
            .unwrap()
            .into_iter()
            .map(|c| locker_kiosk::domain::CompartmentView {
                number: c.number,
                size: c.size,
                position: c.position,
                state: c.state,
                door: locker_kiosk::domain::DoorState::Closed,
                board_online: true,
            })
            .collect();
        locker_kiosk::domain::allocate(
            &views,
            &locker_kiosk::domain::AllocationRequest::new(SizeClass::M),
        )
        .unwrap()
    });
    let (board, channel) = service.doors().place_of(first).unwrap();
    common::on_sim_board(&service, &board, move |sim, address| {
        sim.set_jammed(address, channel, true)
    });

    type_code(&window, &pin);
    pump_until(&window, "the return's door open", 10, |w| {
        page(w) == Page::ReturnParcel && step(w) == ReturnStep::Open
    });
    let door = window.global::<Kiosk>().get_return_door() as u32;
    assert_ne!(door, first, "the jammed door is not used");
    pump_until(&window, "accepted", 10, |w| step(w) == ReturnStep::Done);
    assert_eq!(window.global::<Kiosk>().get_return_door() as u32, door);

    let (record, flagged, retrievable, receipt_ok) = in_store(&runtime, &service, move |s| {
        let record = s.parcels().get(parcel).unwrap().unwrap();
        let flagged = s.compartments().get(first).unwrap().unwrap().state;
        let retrievable = s.parcels().retrievable_for(1).unwrap();
        let accepted = s.events().recent(Some("return_accepted"), 1).unwrap();
        let key = s
            .couriers()
            .receipt_key(&mut locker_kiosk::app::system::OsEntropy)
            .unwrap();
        (record, flagged, retrievable, (accepted.len(), key))
    });
    assert_eq!(record.status, ParcelStatus::Deposited);
    assert_eq!(record.compartment, Some(door));
    assert_eq!(record.tracking, "RMA-2291");
    assert!(
        matches!(flagged, CompartmentState::Faulty { .. }),
        "{flagged:?}"
    );
    assert!(
        retrievable.iter().any(|r| r.parcel.parcel == parcel),
        "its carrier's courier is to take it back: {retrievable:?}"
    );
    assert_eq!(receipt_ok.0, 1);
    // The code is spent: a second try says so.
    let lookup = in_store(&runtime, &service, {
        let pin = pin.clone();
        move |s| s.parcels().look_up_code(&CodeInput::Pin(pin)).unwrap()
    });
    assert_eq!(lookup, CodeLookup::AlreadyUsed);
    press(&window, "Done");
    pump_until(&window, "home", 5, |w| page(w) == Page::Home);

    // A parcel bigger than any compartment: said plainly, nothing held.
    type_code(&window, &too_big_pin);
    pump_until(&window, "no room", 10, |w| {
        step(w) == ReturnStep::NoRoom && page(w) == Page::ReturnParcel
    });
    let status = in_store(&runtime, &service, move |s| {
        s.parcels().get(too_big).unwrap().unwrap().status
    });
    assert_eq!(
        status,
        ParcelStatus::Announced,
        "still expected: the code stays valid"
    );
    press(&window, "Done");
    pump_until(&window, "home", 5, |w| page(w) == Page::Home);

    // Expected without a size: the person chooses it, then a door of that
    // size opens.
    let (unsized_parcel, unsized_pin) =
        in_store(&runtime, &service, |s| expect(s, None, "RMA-2293"));
    type_code(&window, &unsized_pin);
    pump_until(&window, "the size asked", 10, |w| {
        step(w) == ReturnStep::ChooseSize
    });
    press(&window, "Size L");
    pump_until(&window, "the L door", 10, |w| {
        !matches!(step(w), ReturnStep::ChooseSize | ReturnStep::Opening)
    });
    pump_until(&window, "the L door accepted", 10, |w| {
        step(w) == ReturnStep::Done
    });
    let (door_size, status) = in_store(&runtime, &service, move |s| {
        let record = s.parcels().get(unsized_parcel).unwrap().unwrap();
        let door = s
            .compartments()
            .get(record.compartment.unwrap())
            .unwrap()
            .unwrap();
        (door.size, record.status)
    });
    assert_eq!(status, ParcelStatus::Deposited);
    assert!(door_size.fits(&SizeClass::L), "{door_size:?}");
}

#[test]
fn a_return_cut_short_by_a_restart_is_settled_from_what_its_door_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::seeded_store(dir.path());
    let (parcel, _) = expect(&mut store, Some(SizeClass::M), "RMA-2291");
    let now = locker_kiosk::app::system::now();
    assert!(store.compartments().reserve(5, now).unwrap());
    let intent = Event::DoorOpenIntent {
        purpose: "return".into(),
        tracking: None,
        recipient: None,
        announced: None,
        to: None,
        reason: None,
    };
    let record = |store: &mut Store, event: Event| {
        store
            .events()
            .record(
                now,
                &NewEvent::new(event, "recipient")
                    .compartment(5)
                    .parcel(parcel),
            )
            .unwrap();
    };
    record(&mut store, intent);
    let door = |open: bool| {
        let (board, channel) = ("A".to_string(), 5);
        if open {
            Event::DoorOpened { board, channel }
        } else {
            Event::DoorClosed { board, channel }
        }
    };
    record(&mut store, door(true));
    record(&mut store, door(false));
    let settled = reconcile(&mut store, &Settings::from(&Config::demo()), now).unwrap();
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert!(
        matches!(&settled[0].decision, Decision::Deposited { tracking } if tracking == "RMA-2291")
    );
    let accepted = store.parcels().get(parcel).unwrap().unwrap();
    assert_eq!(
        (accepted.status, accepted.compartment),
        (ParcelStatus::Deposited, Some(5))
    );
    assert!(!accepted.confirmed, "settled after a restart");
}

#[test]
fn the_fleet_expects_a_return_and_its_answer_carries_the_code() {
    use locker_kiosk::fleet::command::{Command, CommandBody, sign};
    use locker_kiosk::fleet::wire::Outcome;
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = locker_kiosk::app::Service::start(store, Config::demo(), runtime.handle());
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let now = locker_kiosk::app::system::now();
    let body = CommandBody {
        id: "ret-1".into(),
        locker: "demo-1".into(),
        issued_at: now.0,
        expires_at: now.0 + 60_000,
        command: Command::ExpectReturn {
            person: "Erin Eriksen".into(),
            contact: Some("erin@example.com".into()),
            carrier: CARRIER.into(),
            size: Some("S".into()),
            reference: Some("RMA-9".into()),
        },
    };
    let payload = serde_json::to_vec(&sign(&body, &key)).unwrap();
    let keys = [key.verifying_key().to_bytes()];
    let answer = runtime.block_on(locker_kiosk::app::fleet::handle_command(
        &service, &keys, &payload, now,
    ));
    assert_eq!(answer.outcome, Outcome::Applied, "{}", answer.message);
    let pin = common::printed_code(&answer.message);
    let (lookup, kept) = in_store(&runtime, &service, {
        let pin = pin.clone();
        move |s| {
            let lookup = s.parcels().look_up_code(&CodeInput::Pin(pin)).unwrap();
            let kept: String = s
                .connection()
                .query_row(
                    "SELECT (SELECT group_concat(message, ' ') FROM fleet_commands) || ' ' ||
                            (SELECT group_concat(detail, ' ') FROM events)",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            (lookup, kept)
        }
    });
    assert!(
        matches!(
            lookup,
            CodeLookup::Return {
                size: Some(SizeClass::S),
                ..
            }
        ),
        "{lookup:?}"
    );
    assert!(!kept.contains(&pin), "the code is kept readable: {kept}");
    // The same command again: not carried out twice, nor the code handed
    // out again.
    let again = runtime.block_on(locker_kiosk::app::fleet::handle_command(
        &service, &keys, &payload, now,
    ));
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert!(!again.message.contains(&pin), "{}", again.message);
}

#[test]
fn the_fleet_imports_items_all_or_nothing() {
    use locker_kiosk::fleet::command::{Command, CommandBody, sign};
    use locker_kiosk::fleet::wire::Outcome;
    let dir = tempfile::tempdir().unwrap();
    let store = common::demo_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = locker_kiosk::app::Service::start(store, Config::demo(), runtime.handle());
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let keys = [key.verifying_key().to_bytes()];
    let now = locker_kiosk::app::system::now();
    let send = |id: &str, csv: &str| {
        let body = CommandBody {
            id: id.into(),
            locker: "demo-1".into(),
            issued_at: now.0,
            expires_at: now.0 + 60_000,
            command: Command::ImportItems { csv: csv.into() },
        };
        let payload = serde_json::to_vec(&sign(&body, &key)).unwrap();
        runtime.block_on(locker_kiosk::app::fleet::handle_command(
            &service, &keys, &payload, now,
        ))
    };
    let bad = send(
        "items-1",
        "person,contact,item,size\nAnna,anna@example.com,Laptop,M\nBo,,Laptop,M\n",
    );
    assert_eq!(bad.outcome, Outcome::Refused);
    assert!(
        bad.message.contains("line 3: `contact` is empty"),
        "{}",
        bad.message
    );
    let good = send(
        "items-2",
        "person,contact,item,size\nAnna,anna@example.com,Laptop,M\n",
    );
    assert_eq!(good.outcome, Outcome::Applied, "{}", good.message);
    let waiting = in_store(&runtime, &service, |s| {
        s.parcels().items_to_load().unwrap().len()
    });
    assert_eq!(waiting, 1, "only the good batch");
}
