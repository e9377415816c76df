//! What staff change in maintenance, against real SQLite files: parcels
//! moved, given more time, taken out; reports handled; the audit log's
//! filters and pages; the outbox; the default language.

use crate::common;

use crate::common::{NOW, seeded_store};
use locker_kiosk::app::system::OsEntropy;
use locker_kiosk::domain::maintenance::RemovalReason;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup, ProblemKind};
use locker_kiosk::domain::{CompartmentState, ParcelStatus, Timestamp};
use locker_kiosk::store::{LogFilter, NewDeposit, Store, StoreError};

const STAFF: &str = "staff:maintenance";
const HOUR: i64 = 3600 * 1000;

fn lookup(store: &mut Store, pin: &str) -> CodeLookup {
    store
        .parcels()
        .look_up_code(&CodeInput::Pin(pin.into()))
        .unwrap()
}

fn parcel_in(store: &mut Store, compartment: u32) -> i64 {
    store
        .parcels()
        .in_locker()
        .unwrap()
        .into_iter()
        .find(|p| p.compartment == Some(compartment))
        .unwrap_or_else(|| panic!("no parcel in {compartment}"))
        .id
}

use crate::common::compartment_state as state;

#[test]
fn a_parcel_moves_into_a_free_compartment_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let alice = parcel_in(&mut store, 2);

    // Into an occupied or out-of-service compartment: refused, nothing moves.
    let busy = store.parcels().move_to(alice, 10, STAFF, NOW).unwrap_err();
    assert!(matches!(busy, StoreError::CompartmentNotFree(10)), "{busy}");
    let broken = CompartmentState::OutOfService {
        reason: "hinge".into(),
    };
    store
        .compartments()
        .set_state(7, &broken, STAFF, NOW)
        .unwrap();
    assert!(store.parcels().move_to(alice, 7, STAFF, NOW).is_err());
    assert!(store.parcels().move_to(alice, 2, STAFF, NOW).is_err());
    assert_eq!(state(&mut store, 2), CompartmentState::Occupied);

    // Into a free one: the code now opens the new door, the old is free.
    assert_eq!(store.parcels().move_to(alice, 5, STAFF, NOW).unwrap(), 2);
    assert_eq!(state(&mut store, 2), CompartmentState::Free);
    assert_eq!(state(&mut store, 5), CompartmentState::Occupied);
    let CodeLookup::Valid(parcels) = lookup(&mut store, "583920") else {
        panic!("Alice's code stopped working");
    };
    assert_eq!(parcels[0].compartment, 5);
    let moved = &store.events().recent(Some("parcel_moved"), 1).unwrap()[0];
    assert_eq!(
        (
            moved.actor.as_str(),
            moved.detail["from"].as_u64(),
            moved.detail["to"].as_u64()
        ),
        (STAFF, Some(2), Some(5))
    );
}

#[test]
fn an_expired_parcel_given_more_time_can_be_collected_and_its_recipient_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let carla = parcel_in(&mut store, 20);
    assert_eq!(lookup(&mut store, "907531"), CodeLookup::Expired);

    let extension = store
        .parcels()
        .extend(carla, 24, 6, &mut OsEntropy, STAFF, NOW)
        .unwrap();
    assert_eq!(extension.expires_at, Timestamp(NOW.0 + 24 * HOUR));
    assert!(!extension.new_code);
    assert_eq!(extension.code.pin, "907531");
    let record = store.parcels().get(carla).unwrap().unwrap();
    assert_eq!(record.status, ParcelStatus::Deposited);
    assert_eq!(record.expires_at, Some(extension.expires_at));
    assert!(matches!(lookup(&mut store, "907531"), CodeLookup::Valid(_)));

    // A deadline still ahead is moved on from where it is.
    let again = store
        .parcels()
        .extend(carla, 72, 6, &mut OsEntropy, STAFF, NOW)
        .unwrap();
    assert_eq!(again.expires_at, Timestamp(NOW.0 + 96 * HOUR));

    let message = &store
        .events()
        .recent(Some("recipient_notification"), 1)
        .unwrap()[0];
    assert_eq!(message.detail["reason"], "deadline_extended");
    // The message names the code; the code itself stays sealed in the
    // store until the message is delivered, and never enters the log.
    assert!(message.detail.get("pin").is_none() && message.detail.get("qr").is_none());
    let code = message.detail["code"].as_i64().unwrap();
    let sealed = store.parcels().undelivered_code(code).unwrap().unwrap();
    assert_eq!(sealed.pin, "907531");
    assert_eq!(sealed.qr_token, "DEMOCARLACCCCCCCCCCCCCCCCC");
    assert_eq!(message.detail["expires_at"], again.expires_at.0);
    assert_eq!(message.parcel, Some(carla));
    let extended = store.events().recent(Some("parcel_extended"), 5).unwrap();
    assert_eq!(extended.len(), 2);
    assert_eq!(extended[0].actor, STAFF);
}

#[test]
fn an_extension_gives_a_new_code_when_the_old_one_was_spent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let rita = store
        .recipients()
        .add("Rita Resident", Some("7A"), false, NOW)
        .unwrap();
    let deposit = |tracking, compartment| NewDeposit {
        courier: Some(1),
        ..common::deposit(tracking, rita, compartment)
    };
    let (first, code) = store
        .parcels()
        .deposit(&deposit("RITA-1", 3), &mut OsEntropy, NOW)
        .unwrap();
    let (second, same) = store
        .parcels()
        .deposit(&deposit("RITA-2", 4), &mut OsEntropy, NOW)
        .unwrap();
    assert_eq!(code, same, "one code for both");
    // The second expires; Rita collects the first: her code is spent.
    store
        .connection()
        .execute(
            "UPDATE parcels SET expires_at = ?2 WHERE id = ?1",
            [second, NOW.0 - 1],
        )
        .unwrap();
    store.parcels().expire_due(NOW).unwrap();
    store.parcels().collect(first, NOW).unwrap();
    assert_eq!(lookup(&mut store, &code.pin), CodeLookup::AlreadyUsed);

    let extension = store
        .parcels()
        .extend(second, 24, 6, &mut OsEntropy, STAFF, NOW)
        .unwrap();
    assert!(extension.new_code);
    assert_ne!(extension.code.pin, code.pin);
    let CodeLookup::Valid(parcels) = lookup(&mut store, &extension.code.pin) else {
        panic!("the new code opens nothing");
    };
    assert_eq!(parcels.len(), 1);
    assert_eq!(parcels[0].parcel, second);
    let message = &store
        .events()
        .recent(Some("recipient_notification"), 1)
        .unwrap()[0];
    let code = message.detail["code"].as_i64().unwrap();
    assert_eq!(
        store.parcels().undelivered_code(code).unwrap(),
        Some(extension.code.clone())
    );
}

#[test]
fn a_parcel_taken_out_leaves_with_its_reason_and_its_code_stops_opening_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let alice = parcel_in(&mut store, 2);
    store
        .parcels()
        .remove(alice, RemovalReason::HandedToRecipient, true, STAFF, NOW)
        .unwrap();
    let record = store.parcels().get(alice).unwrap().unwrap();
    assert_eq!(record.status, ParcelStatus::Removed);
    assert_eq!(state(&mut store, 2), CompartmentState::Free);
    assert_eq!(lookup(&mut store, "583920"), CodeLookup::AlreadyUsed);
    let removed = &store.events().recent(Some("parcel_removed"), 1).unwrap()[0];
    assert_eq!(removed.detail["reason"], "handed_to_recipient");
    assert_eq!(removed.detail["door"], "opened");
    assert_eq!(removed.compartment, Some(2));
    // Only once.
    assert!(
        store
            .parcels()
            .remove(alice, RemovalReason::Other, true, STAFF, NOW)
            .is_err()
    );

    // Bob has two parcels on one code: taking one out leaves the other's.
    let bob = parcel_in(&mut store, 10);
    store
        .parcels()
        .remove(bob, RemovalReason::Damaged, false, STAFF, NOW)
        .unwrap();
    let CodeLookup::Valid(left) = lookup(&mut store, "246813") else {
        panic!("Bob's other parcel can no longer be collected");
    };
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].compartment, 16);
    let removed = &store.events().recent(Some("parcel_removed"), 1).unwrap()[0];
    assert_eq!(removed.detail["door"], "key");
}

#[test]
fn reports_are_listed_newest_first_and_handled_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let bob = parcel_in(&mut store, 16);
    let first = store
        .reports()
        .add(ProblemKind::Dirty, Some(9), None, "courier:2", NOW)
        .unwrap();
    let second = store
        .reports()
        .add(ProblemKind::Damaged, Some(16), Some(bob), "recipient", NOW)
        .unwrap();
    let open = store.reports().rows(false, 10).unwrap();
    assert_eq!(
        open.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second, first]
    );
    assert_eq!(open[0].tracking.as_deref(), Some("TBA123456789000"));
    assert_eq!(open[0].kind, "damaged");

    store.reports().mark_handled(second, STAFF, NOW).unwrap();
    assert!(matches!(
        store.reports().mark_handled(second, STAFF, NOW),
        Err(StoreError::Rule(_))
    ));
    assert!(store.reports().mark_handled(999, STAFF, NOW).is_err());
    let open = store.reports().rows(false, 10).unwrap();
    assert_eq!(open.iter().map(|r| r.id).collect::<Vec<_>>(), [first]);
    let all = store.reports().rows(true, 10).unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(all[1].handled, Some((NOW, STAFF.to_string())));
    let handled = &store.events().recent(Some("report_handled"), 1).unwrap()[0];
    assert_eq!(handled.detail["report"], second);
    assert_eq!(handled.parcel, Some(bob));
}

#[test]
fn the_audit_log_filters_and_pages_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let broken = CompartmentState::OutOfService {
        reason: "hinge".into(),
    };
    store
        .compartments()
        .set_state(7, &broken, STAFF, NOW)
        .unwrap();
    store
        .reports()
        .add(ProblemKind::Missing, Some(2), None, "recipient", NOW)
        .unwrap();
    let alice = parcel_in(&mut store, 2);
    store.parcels().move_to(alice, 5, "cli:root", NOW).unwrap();

    let staff = store.events().log_page(LogFilter::Staff, None, 50).unwrap();
    assert!(!staff.is_empty());
    assert!(
        staff
            .iter()
            .all(|e| e.actor == STAFF || e.actor.starts_with("cli:"))
    );
    let doors = store.events().log_page(LogFilter::Doors, None, 50).unwrap();
    assert_eq!(
        doors.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["compartment_state"]
    );
    let alarms = store
        .events()
        .log_page(LogFilter::Alarms, None, 50)
        .unwrap();
    assert_eq!(
        alarms.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["report_raised"]
    );
    let parcels = store
        .events()
        .log_page(LogFilter::Parcels, None, 50)
        .unwrap();
    assert!(parcels.iter().all(|e| e.parcel.is_some()));
    assert_eq!(parcels[0].kind, "parcel_moved");
    let door_5 = store
        .events()
        .log_page(LogFilter::Compartment(5), None, 50)
        .unwrap();
    assert_eq!(
        door_5.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["parcel_moved"]
    );

    // Pages: newest first, each older than the last, none twice.
    let everything = store.events().log_page(LogFilter::All, None, 1000).unwrap();
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.events().log_page(LogFilter::All, before, 3).unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|e| e.id);
        paged.extend(page);
    }
    assert_eq!(paged, everything);
    assert!(everything.windows(2).all(|w| w[0].id > w[1].id));
}

#[test]
fn the_outbox_says_what_waits_and_when_it_was_last_taken() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let state = store.events().outbox_state().unwrap();
    assert_eq!(state.pending, store.events().outbox_pending().unwrap());
    assert!(state.pending > 0);
    assert!(state.last_sent.is_none());
    // The oldest waiting is the first recorded.
    let at_of = |store: &Store, id: i64| -> i64 {
        store
            .connection()
            .query_row("SELECT at FROM events WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(state.oldest_pending, Some(Timestamp(at_of(&store, 1))));
    store
        .connection()
        .execute(
            "UPDATE outbox SET sent_at = ?1 WHERE event_id = 1",
            [NOW.0 + 5],
        )
        .unwrap();
    let state = store.events().outbox_state().unwrap();
    assert_eq!(state.last_sent, Some(Timestamp(NOW.0 + 5)));
    assert_eq!(state.oldest_pending, Some(Timestamp(at_of(&store, 2))));
    assert_eq!(state.pending, store.events().outbox_pending().unwrap());
}

#[test]
fn the_default_language_is_kept_with_who_changed_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = seeded_store(dir.path());
        assert_eq!(store.staff().default_language().unwrap(), None);
        store
            .staff()
            .set_default_language("de", STAFF, NOW)
            .unwrap();
    }
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.staff().default_language().unwrap().as_deref(),
        Some("de")
    );
    let event = &store
        .events()
        .recent(Some("default_language_set"), 1)
        .unwrap()[0];
    assert_eq!(
        (event.actor.as_str(), &event.detail["to"]),
        (STAFF, &serde_json::json!("de"))
    );
}
