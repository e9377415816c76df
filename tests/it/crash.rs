//! The crash harness: the kiosk as a process of its own (`exercise`, the
//! real driver, service, store and simulated boards) on a real database
//! file, killed with SIGKILL after each event it writes during a drop-off,
//! a pickup, a courier's take-back and staff's move and removal, then
//! started again on the same records. Whatever the
//! kill point, the records must hold: every parcel in one known state, no
//! compartment left held, no code that opens a door it should not, every
//! event with its outbox row, the audit chain intact.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{binary, seeded_store};
use locker_kiosk::app::kiosk::records::Settings;
use locker_kiosk::app::reconcile::reconcile;
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentState, ParcelStatus};
use locker_kiosk::store::{DATABASE_FILE, Store};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // The lock is the running process's; the reserve is made again.
        if name.to_string_lossy().ends_with(".lock") || name.to_string_lossy().ends_with(".reserve")
        {
            continue;
        }
        std::fs::copy(entry.path(), to.join(name)).unwrap();
    }
}

fn exercise(data: &Path, scenario: &str) -> Child {
    binary()
        .args(["--demo", "--data-dir"])
        .arg(data)
        .args(["exercise", scenario])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn events(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap_or(0)
}

/// When to kill the process.
#[derive(Clone, Copy)]
enum Kill {
    Never,
    /// Once this many events are in the log.
    AtEvents(i64),
    /// This long after it started.
    After(Duration),
}

/// Runs `scenario` and kills it as `kill` says; the number of events in
/// the log when it died.
fn run_until(data: &Path, scenario: &str, kill: Kill) -> i64 {
    let started = Instant::now();
    let mut child = exercise(data, scenario);
    let file = data.join(DATABASE_FILE);
    let conn = rusqlite::Connection::open_with_flags(
        &file,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let due = match kill {
            Kill::Never => false,
            Kill::AtEvents(target) => events(&conn) >= target,
            Kill::After(time) => started.elapsed() >= time,
        };
        if due {
            child.kill().unwrap(); // SIGKILL
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "{scenario} never finished");
        std::thread::sleep(Duration::from_micros(300));
    }
    child.wait().unwrap();
    events(&conn)
}

/// Starts again on the records (reconciling) and checks every invariant.
fn check_after_restart(data: &Path, what: &str) {
    let mut store = Store::open(data).unwrap_or_else(|e| panic!("{what}: {e}"));
    let now = locker_kiosk::app::system::now();
    let settings = Settings::from(&Config::demo());
    reconcile(&mut store, &settings, now).unwrap();
    assert!(
        reconcile(&mut store, &settings, now).unwrap().is_empty(),
        "{what}: a second start settled something again"
    );
    let compartments = store.compartments().all().unwrap();
    let in_locker = store.parcels().in_locker().unwrap();
    for compartment in &compartments {
        assert_ne!(
            compartment.state,
            CompartmentState::Reserved,
            "{what}: compartment {} left held",
            compartment.number
        );
        let holds = in_locker
            .iter()
            .any(|p| p.compartment == Some(compartment.number));
        if compartment.state == CompartmentState::Occupied {
            assert!(
                holds,
                "{what}: compartment {} occupied by nothing",
                compartment.number
            );
        }
        if compartment.state == CompartmentState::Free {
            assert!(
                !holds,
                "{what}: compartment {} free with a parcel",
                compartment.number
            );
        }
    }
    let unknown: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM parcels WHERE status NOT IN
               ('announced', 'deposited', 'collected', 'expired', 'retrieved', 'returned',
                'cancelled', 'removed', 'missing')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unknown, 0, "{what}: a parcel in no known state");
    // Alice's code opens her door exactly while her parcel waits.
    let alice = store.parcels().get(1).unwrap().unwrap().status;
    let lookup = store
        .parcels()
        .look_up_code(&CodeInput::Pin("583920".into()))
        .unwrap();
    match alice {
        ParcelStatus::Deposited => assert!(matches!(lookup, CodeLookup::Valid(_)), "{what}"),
        ParcelStatus::Collected => assert_eq!(lookup, CodeLookup::AlreadyUsed, "{what}"),
        other => panic!("{what}: Alice's parcel is {other:?}"),
    }
    // Bob's parcel (door 10) waits or staff removed it; Carla's expired
    // one (door 20) is inside or back with the courier.
    let bob = store.parcels().get(2).unwrap().unwrap().status;
    assert!(
        matches!(bob, ParcelStatus::Deposited | ParcelStatus::Removed),
        "{what}: Bob's parcel is {bob:?}"
    );
    let carla = store.parcels().get(4).unwrap().unwrap();
    match carla.status {
        ParcelStatus::Expired => assert_eq!(carla.compartment, Some(20), "{what}"),
        ParcelStatus::Retrieved => {}
        other => panic!("{what}: Carla's parcel is {other:?}"),
    }
    // Deniz's parcel is announced (not in), or in exactly one compartment.
    let deniz = store
        .parcels()
        .by_tracking("9400111899223197428497")
        .unwrap()
        .unwrap();
    match deniz.status {
        ParcelStatus::Announced => assert_eq!(deniz.compartment, None, "{what}"),
        ParcelStatus::Deposited => assert!(deniz.compartment.is_some(), "{what}"),
        other => panic!("{what}: Deniz's parcel is {other:?}"),
    }
    let without_outbox: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM events e LEFT JOIN outbox o ON o.event_id = e.id
             WHERE o.event_id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        without_outbox, 0,
        "{what}: an event missing from the outbox"
    );
    // Every take-back, staff move or removal whose door was seen open
    // ended in its record or was settled at the start: none left silent.
    let silent: Vec<(i64, String)> = {
        let mut stmt = store
            .connection()
            .prepare(
                "SELECT i.id, json_extract(i.detail, '$.purpose') FROM events i
                 WHERE i.kind = 'door_open_intent'
                   AND json_extract(i.detail, '$.purpose') IN ('take_back', 'move', 'remove')
                   AND EXISTS (SELECT 1 FROM events o WHERE o.compartment = i.compartment
                       AND o.id > i.id AND (o.kind = 'door_opened'
                         OR json_extract(o.detail, '$.outcome') IN ('opened', 'already_open')))
                   AND NOT EXISTS (SELECT 1 FROM events d WHERE d.id > i.id
                       AND d.compartment IN (i.compartment, json_extract(i.detail, '$.to'))
                       AND d.kind IN ('parcel_retrieved', 'parcel_returned', 'parcel_moved',
                                      'parcel_removed', 'reconciled'))",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        silent.is_empty(),
        "{what}: door actions left unsettled: {silent:?}"
    );
    let verified = store.verify_log().unwrap();
    assert!(verified.intact(), "{what}: {}", verified.describe());
}

#[test]
fn a_kill_at_any_step_of_a_drop_off_a_pickup_a_take_back_or_a_staff_move_leaves_the_records_whole()
{
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template");
    drop(seeded_store(&template));
    let mut tried = Vec::new();
    for scenario in ["drop-off", "pickup", "take-back", "move", "remove"] {
        let full = dir.path().join(format!("{scenario}-full"));
        copy_dir(&template, &full);
        let before = {
            let conn = rusqlite::Connection::open(full.join(DATABASE_FILE)).unwrap();
            events(&conn)
        };
        let started = Instant::now();
        let after = run_until(&full, scenario, Kill::Never);
        let duration = started.elapsed();
        assert!(after > before, "{scenario} wrote nothing");
        check_after_restart(&full, &format!("{scenario} run to its end"));
        let mut hit = std::collections::BTreeSet::new();
        // Killed as soon as each of its events is in the log (and once
        // before the first).
        for target in before..after {
            let data = dir.path().join(format!("{scenario}-{target}"));
            copy_dir(&template, &data);
            let died_at = run_until(&data, scenario, Kill::AtEvents(target + 1));
            hit.insert(died_at - before);
            check_after_restart(
                &data,
                &format!("{scenario} killed after {} of its events", died_at - before),
            );
            std::fs::remove_dir_all(&data).unwrap();
        }
        // And at times spread over the visit, between its writes too.
        const BY_TIME: u32 = 12;
        for slice in 1..=BY_TIME {
            let data = dir.path().join(format!("{scenario}-t{slice}"));
            copy_dir(&template, &data);
            let died_at = run_until(
                &data,
                scenario,
                Kill::After(duration * slice / (BY_TIME + 1)),
            );
            check_after_restart(
                &data,
                &format!(
                    "{scenario} killed {slice}/{} into it ({} events)",
                    BY_TIME + 1,
                    died_at - before
                ),
            );
            std::fs::remove_dir_all(&data).unwrap();
        }
        eprintln!(
            "crash harness: {scenario}: {} kills, one after each of its {} events ({} distinct points hit), and {BY_TIME} at times spread over its {duration:?}",
            after - before + i64::from(BY_TIME),
            after - before,
            hit.len(),
        );
        tried.push((scenario, hit.len(), after - before));
    }
    for (scenario, distinct, events) in tried {
        assert!(
            distinct as i64 * 2 >= events,
            "{scenario}: only {distinct} distinct kill points of {events}"
        );
    }
}
