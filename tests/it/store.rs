//! The SQLite store against real database files.

use std::fs;

use crate::common::{NOW, demo_store, deposit, seeded_store};
use locker_kiosk::config::Config;
use locker_kiosk::domain::codes::Entropy;
use locker_kiosk::domain::dropoff::ParcelMatch;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup, ProblemKind, WaitingParcel};
use locker_kiosk::domain::{CompartmentState, ParcelStatus, SizeClass};
use locker_kiosk::store::{
    DATABASE_FILE, IssuedCode, LockerSecret, NewDeposit, Store, StoreError, migrations,
};
use rusqlite::Connection;

struct FixedEntropy(u64);

impl Entropy for FixedEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.0 >> 33) as u8;
        }
    }
}

/// Rows that exist from schema version `version` on, to prove that a
/// migration keeps what was there.
pub(crate) fn insert_rows_of_version(conn: &Connection, version: u32) {
    if version >= 1 {
        conn.execute_batch(
            "INSERT INTO meta VALUES ('locker_id', 'demo-1');
             INSERT INTO compartments (number, size, board, channel, col, row, height_mm, state, updated_at)
                 VALUES (2, 'S', 'A', 2, 1, 2, 1510, 'occupied', 0);
             INSERT INTO recipients (id, name, created_at) VALUES (1, 'Old Resident', 0);",
        )
        .unwrap();
        if version >= 7 {
            conn.execute_batch(
                "INSERT INTO pickup_codes (id, pin_hash, token_hash, recipient_id, created_at)
                     VALUES (1, code_hash('583920'), code_hash('OLDTOKEN'), 1, 0);
                 INSERT INTO undelivered_codes VALUES (1, seal('583920 OLDTOKEN'));",
            )
            .unwrap();
        } else {
            conn.execute(
                "INSERT INTO pickup_codes (id, pin, qr_token, recipient_id, created_at) VALUES (1, '583920', 'OLDTOKEN', 1, 0)",
                [],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO parcels (tracking, recipient_id, compartment, status, pickup_code_id, deposited_at, expires_at, updated_at)
                 VALUES ('OLD-PARCEL', 1, 2, 'deposited', 1, 0, 9999999999999, 0);",
        )
        .unwrap();
    }
    if version >= 2 {
        conn.execute_batch(
            "INSERT INTO events (at, kind, actor) VALUES (0, 'old_event', 'kiosk');
             INSERT INTO outbox (event_id) VALUES (1);

             INSERT INTO reports (kind, compartment, parcel_id, reported_by, created_at)
                 VALUES ('damaged', 2, 1, 'recipient', 0);",
        )
        .unwrap();
        // Before version 7 a recipient's message carried the code itself.
        let message = if version < 7 {
            r#"{"recipient":1,"pin":"583920","qr":"LK1:demo-1:OLDTOKEN","parcels":[]}"#
        } else {
            r#"{"recipient":1,"code":1,"parcels":[]}"#
        };
        conn.execute(
            "INSERT INTO events (at, kind, actor, detail) VALUES (0, 'recipient_notification', 'courier:1', ?1)",
            [message],
        )
        .unwrap();
    }
}

#[test]
fn migrates_from_every_earlier_version_keeping_the_data() {
    for version in 0..=migrations::LATEST_VERSION {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            // The functions the store registers (migration 7 hashes codes).
            let (secret, _) = LockerSecret::load_or_create(dir.path()).unwrap();
            locker_kiosk::store::register_functions(&conn, &std::sync::Arc::new(secret)).unwrap();
            // A real (non-empty) file even at version 0.
            conn.execute_batch("CREATE TABLE scratch (x); DROP TABLE scratch;")
                .unwrap();
            migrations::migrate_to(&mut conn, version).unwrap();
            insert_rows_of_version(&conn, version);
        }
        let mut store = Store::open(dir.path()).unwrap_or_else(|e| panic!("from v{version}: {e}"));
        assert_eq!(store.schema_version().unwrap(), migrations::LATEST_VERSION);
        store
            .compartments()
            .sync_layout(&Config::demo(), NOW)
            .unwrap();
        if version >= 1 {
            let lookup = store
                .parcels()
                .look_up_code(&CodeInput::Pin("583920".into()))
                .unwrap();
            let CodeLookup::Valid(parcels) = lookup else {
                panic!("from v{version}: the old parcel's code no longer works: {lookup:?}");
            };
            assert_eq!(parcels[0].compartment, 2);
            let by_qr = store
                .parcels()
                .look_up_code(&CodeInput::QrToken("OLDTOKEN".into()))
                .unwrap();
            assert!(matches!(by_qr, CodeLookup::Valid(_)), "from v{version}");
            // Not yet sent to its recipient: kept sealed for the message.
            let code = store.parcels().pickup_code_for(1).unwrap().unwrap();
            assert_eq!(
                (code.pin.as_str(), code.qr_token.as_str()),
                ("583920", "OLDTOKEN")
            );
            assert_eq!(
                store.compartments().get(2).unwrap().unwrap().state,
                CompartmentState::Occupied
            );
        }
        if version >= 2 {
            assert_eq!(
                store.events().recent(Some("old_event"), 10).unwrap().len(),
                1
            );
            // A table rebuilt by a migration keeps what refers to it.
            let reports = store.reports().rows(true, 10).unwrap();
            assert_eq!(reports[0].tracking.as_deref(), Some("OLD-PARCEL"));
        }
        let broken: Option<String> = store
            .connection()
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .ok();
        assert_eq!(broken, None, "from v{version}");
        let enforced: bool = store
            .connection()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(enforced, "from v{version}: foreign keys are enforced again");
        drop(store);
        // Nothing in the files gives the code away: not the codes table,
        // not the messages logged, not freed pages, not the WAL.
        for suffix in ["", "-wal"] {
            let path = dir.path().join(format!("{DATABASE_FILE}{suffix}"));
            let bytes = fs::read(&path).unwrap_or_default();
            for secret in [&b"583920"[..], b"OLDTOKEN"] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "from v{version}: {} holds {}",
                    path.display(),
                    String::from_utf8_lossy(secret)
                );
            }
        }
    }
}

#[test]
fn a_database_from_a_newer_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(demo_store(dir.path()));
    let file = dir.path().join(DATABASE_FILE);
    Connection::open(&file)
        .unwrap()
        .pragma_update(None, "user_version", migrations::LATEST_VERSION + 1)
        .unwrap();
    let error = Store::open(dir.path()).unwrap_err();
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(error.to_string().contains(&file.display().to_string()));
}

#[test]
fn a_damaged_database_stops_the_start_and_is_left_as_it_was() {
    type Damage = Box<dyn Fn(&std::path::Path)>;
    let cases: [(&str, Damage); 3] = [
        (
            "garbage",
            Box::new(|file| fs::write(file, b"this is not a database at all, just text").unwrap()),
        ),
        ("empty", Box::new(|file| fs::write(file, b"").unwrap())),
        (
            "damaged page",
            Box::new(|file| {
                let mut bytes = fs::read(file).unwrap();
                assert!(bytes.len() > 8192, "expected several pages");
                // Scribble over the second page (a b-tree page of the schema).
                for b in &mut bytes[4096 + 8..4096 + 200] {
                    *b = 0xA5;
                }
                fs::write(file, bytes).unwrap();
            }),
        ),
    ];
    for (name, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = seeded_store(dir.path());
            // Fold the WAL into the main file so that the damage hits real data.
            store
                .connection()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
        }
        let file = dir.path().join(DATABASE_FILE);
        damage(&file);
        let before = fs::read(&file).unwrap();
        let error = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{name}: expected Corrupt, got {error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&file.display().to_string()),
            "{name}: {message}"
        );
        assert!(
            message.contains("will not start with an empty one"),
            "{name}: {message}"
        );
        assert_eq!(
            fs::read(&file).unwrap(),
            before,
            "{name}: the file was changed"
        );
    }
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(DATABASE_FILE);
    Connection::open(&file)
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);")
        .unwrap();
    let error = Store::open(dir.path()).unwrap_err();
    assert!(matches!(error, StoreError::Foreign { .. }), "{error}");
}

#[test]
fn one_writer_per_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let error = Store::open(dir.path()).unwrap_err();
    match &error {
        StoreError::Locked { holder, .. } => assert_eq!(*holder, Some(std::process::id())),
        other => panic!("expected Locked, got {other}"),
    }
    assert!(
        error
            .to_string()
            .contains("already using the data directory")
    );
    drop(first);
    Store::open(dir.path()).expect("the lock is released with the store");
}

#[test]
fn the_store_is_durable_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let conn = store.connection();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let keys: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
    assert_eq!(keys, 1);
}

#[test]
fn the_records_are_readable_by_the_kiosks_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let file = data.join(DATABASE_FILE);
    {
        let mut store = Store::open(&data).unwrap();
        store
            .compartments()
            .sync_layout(&Config::demo(), NOW)
            .unwrap();
        assert_eq!(mode(&data), 0o700, "a data directory the kiosk creates");
        assert_eq!(mode(&file), 0o600);
        for journal in ["-wal", "-shm"] {
            let journal = data.join(format!("{DATABASE_FILE}{journal}"));
            assert_eq!(mode(&journal), 0o600, "{}", journal.display());
        }
    }
    // A database an older version left readable to all is made private.
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&data).unwrap());
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn the_event_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path());
    let conn = store.connection();
    let update = conn
        .execute("UPDATE events SET kind = 'x'", [])
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = conn.execute("DELETE FROM events", []).unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
}

#[test]
fn a_database_of_another_locker_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(demo_store(dir.path()));
    let mut other = Config::demo();
    other.locker.id = "elsewhere".into();
    let mut store = Store::open(dir.path()).unwrap();
    let error = store.compartments().sync_layout(&other, NOW).unwrap_err();
    assert!(matches!(error, StoreError::OtherLocker { .. }), "{error}");
}

#[test]
fn a_layout_that_drops_an_occupied_compartment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let mut smaller = Config::demo();
    smaller.compartments.retain(|c| c.number != 2);
    let error = store.compartments().sync_layout(&smaller, NOW).unwrap_err();
    assert!(
        matches!(error, StoreError::LayoutDropsParcel { number: 2, .. }),
        "{error}"
    );
    // Nothing changed: compartment 2 is still there and occupied.
    assert_eq!(
        store.compartments().get(2).unwrap().unwrap().state,
        CompartmentState::Occupied
    );
    // Dropping an empty one is fine and recorded.
    let mut without_24 = Config::demo();
    without_24.compartments.retain(|c| c.number != 24);
    store.compartments().sync_layout(&without_24, NOW).unwrap();
    assert_eq!(store.compartments().all().unwrap().len(), 23);
    assert_eq!(
        store
            .events()
            .recent(Some("layout_changed"), 5)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn rewiring_two_compartments_onto_each_others_channels_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let mut swapped = Config::demo();
    let (a, b) = (
        swapped.compartments[0].channel,
        swapped.compartments[1].channel,
    );
    swapped.compartments[0].channel = b;
    swapped.compartments[1].channel = a;
    store.compartments().sync_layout(&swapped, NOW).unwrap();
    assert_eq!(store.compartments().get(1).unwrap().unwrap().channel, b);
    assert_eq!(store.compartments().get(2).unwrap().unwrap().channel, a);
}

#[test]
fn a_parcel_goes_in_and_comes_out_with_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store
        .recipients()
        .add("Rita Resident", Some("7A"), false, NOW)
        .unwrap();
    let (parcel, code) = store
        .parcels()
        .deposit(&deposit("1ZTEST", resident, 5), &mut FixedEntropy(7), NOW)
        .unwrap();
    assert_eq!(code.pin.len(), 6);
    assert_eq!(code.qr_token.len(), 26);
    assert_eq!(
        store.compartments().get(5).unwrap().unwrap().state,
        CompartmentState::Occupied
    );
    assert_eq!(
        store.parcels().match_tracking("1ZTEST").unwrap(),
        ParcelMatch::AlreadyInLocker { compartment: 5 }
    );
    let expected = CodeLookup::Valid(vec![WaitingParcel {
        parcel,
        compartment: 5,
    }]);
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(code.pin.clone()))
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::QrToken(code.qr_token.clone()))
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin("000001".into()))
            .unwrap(),
        CodeLookup::Unknown
    );

    store.parcels().collect(parcel, NOW.plus_secs(60)).unwrap();
    assert_eq!(
        store.parcels().get(parcel).unwrap().unwrap().status,
        ParcelStatus::Collected
    );
    assert_eq!(
        store.compartments().get(5).unwrap().unwrap().state,
        CompartmentState::Free
    );
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(code.pin))
            .unwrap(),
        CodeLookup::AlreadyUsed
    );
    // Collecting twice is refused by the lifecycle.
    assert!(store.parcels().collect(parcel, NOW).is_err());

    let kinds: Vec<String> = store
        .events()
        .recent(None, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.starts_with(&[
            "parcel_collected".to_string(),
            "parcel_deposited".to_string()
        ]),
        "{kinds:?}"
    );
    assert_eq!(
        store.events().outbox_pending().unwrap() as usize,
        kinds.len()
    );
}

#[test]
fn parcels_for_one_recipient_share_one_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store
        .recipients()
        .add("Rita Resident", None, false, NOW)
        .unwrap();
    let (first, a) = store
        .parcels()
        .deposit(&deposit("P1", resident, 3), &mut FixedEntropy(1), NOW)
        .unwrap();
    let (second, b) = store
        .parcels()
        .deposit(&deposit("P2", resident, 4), &mut FixedEntropy(2), NOW)
        .unwrap();
    assert_eq!(a, b);
    let CodeLookup::Valid(parcels) = store
        .parcels()
        .look_up_code(&CodeInput::Pin(a.pin.clone()))
        .unwrap()
    else {
        panic!("code does not open");
    };
    assert_eq!(
        parcels.iter().map(|p| p.parcel).collect::<Vec<_>>(),
        vec![first, second]
    );
    // The code stays valid until the last parcel is out.
    store.parcels().collect(first, NOW).unwrap();
    assert!(
        matches!(store.parcels().look_up_code(&CodeInput::Pin(a.pin.clone())).unwrap(), CodeLookup::Valid(p) if p.len() == 1)
    );
    store.parcels().collect(second, NOW).unwrap();
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(a.pin))
            .unwrap(),
        CodeLookup::AlreadyUsed
    );
}

#[test]
fn expired_parcels_say_so_and_wait_for_the_courier() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store
        .recipients()
        .add("Rita Resident", None, false, NOW)
        .unwrap();
    let courier = store
        .couriers()
        .add("Dana", "Demo", Some("4711"), None, NOW)
        .unwrap();
    let (parcel, code) = store
        .parcels()
        .deposit(&deposit("P1", resident, 3), &mut FixedEntropy(1), NOW)
        .unwrap();
    assert!(
        store
            .parcels()
            .expire_due(NOW.plus_secs(71 * 3600))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .parcels()
            .expire_due(NOW.plus_secs(72 * 3600))
            .unwrap(),
        vec![parcel]
    );
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(code.pin))
            .unwrap(),
        CodeLookup::Expired
    );
    assert!(
        store.parcels().collect(parcel, NOW).is_err(),
        "an expired parcel is not handed to the recipient"
    );
    store.parcels().retrieve(parcel, courier, NOW).unwrap();
    assert_eq!(
        store.parcels().get(parcel).unwrap().unwrap().status,
        ParcelStatus::Retrieved
    );
    assert_eq!(
        store.compartments().get(3).unwrap().unwrap().state,
        CompartmentState::Free
    );
}

#[test]
fn faulty_compartments_take_no_parcels_and_stay_faulty() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store
        .recipients()
        .add("Rita Resident", None, false, NOW)
        .unwrap();
    let jammed = CompartmentState::Faulty {
        reason: "door did not open".into(),
    };
    store
        .compartments()
        .set_state(3, &jammed, "kiosk", NOW)
        .unwrap();
    let error = store
        .parcels()
        .deposit(&deposit("P1", resident, 3), &mut FixedEntropy(1), NOW)
        .unwrap_err();
    assert!(error.to_string().contains("faulty"), "{error}");
    assert_eq!(store.compartments().get(3).unwrap().unwrap().state, jammed);
    let events = store.events().recent(Some("compartment_state"), 1).unwrap();
    assert_eq!(events[0].detail["reason"], "door did not open");
}

#[test]
fn the_same_parcel_cannot_be_in_the_locker_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store
        .recipients()
        .add("Rita Resident", None, false, NOW)
        .unwrap();
    store
        .parcels()
        .deposit(&deposit("SAME", resident, 3), &mut FixedEntropy(1), NOW)
        .unwrap();
    assert!(
        store
            .parcels()
            .deposit(&deposit("SAME", resident, 4), &mut FixedEntropy(1), NOW)
            .is_err()
    );
    // The failed deposit changed nothing.
    assert_eq!(
        store.compartments().get(4).unwrap().unwrap().state,
        CompartmentState::Free
    );
}

#[test]
fn announced_parcels_are_matched_for_drop_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let resident = store.recipients().add("Bea", None, true, NOW).unwrap();
    let parcel = store
        .parcels()
        .announce("ANN-1", Some("UPS"), resident, Some(SizeClass::L), NOW)
        .unwrap();
    assert_eq!(
        store.parcels().match_tracking("ANN-1").unwrap(),
        ParcelMatch::Announced {
            parcel,
            recipient: resident,
            accessible: true,
            size: Some(SizeClass::L),
        }
    );
    assert_eq!(
        store.parcels().match_tracking("NOPE").unwrap(),
        ParcelMatch::Unknown
    );
}

#[test]
fn weak_courier_codes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let error = store
        .couriers()
        .add("Weak", "Co", Some("1234"), None, NOW)
        .unwrap_err();
    assert!(error.to_string().contains("too easy"), "{error}");
    let id = store
        .couriers()
        .add("Good", "Co", Some("4711"), Some("BADGE-1"), NOW)
        .unwrap();
    assert_eq!(
        store.couriers().by_credential("4711").unwrap().unwrap().id,
        id
    );
    assert_eq!(
        store
            .couriers()
            .by_credential("BADGE-1")
            .unwrap()
            .unwrap()
            .id,
        id
    );
    assert!(store.couriers().by_credential("9999").unwrap().is_none());
}

#[test]
fn residents_are_found_by_name_or_unit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let mut names = |q: &str| -> Vec<String> {
        store
            .recipients()
            .search(q, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(names("ali"), vec!["Alice Adams"]);
    assert_eq!(names("Brown"), vec!["Bob Brown"]);
    assert_eq!(names("3C"), vec!["Carla Cruz"]);
    assert!(names("%").len() <= 10);
}

/// A deposit in compartment `compartment` for `recipient`, by courier 1.
fn deposit_for(
    store: &mut Store,
    tracking: &str,
    recipient: i64,
    compartment: u32,
    announced: Option<i64>,
) -> (i64, IssuedCode) {
    let deposit = NewDeposit {
        tracking,
        carrier: None,
        recipient,
        announced,
        compartment,
        size: SizeClass::S,
        courier: Some(1),
        confirmed: true,
        storage_hours: 72,
        pin_length: 6,
        preset_code: None,
    };
    store
        .parcels()
        .deposit(&deposit, &mut locker_kiosk::app::system::OsEntropy, NOW)
        .unwrap()
}

#[test]
fn an_undone_deposit_frees_its_compartment_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    store
        .couriers()
        .add("Dana", "Co", Some("4711"), None, NOW)
        .unwrap();
    let bea = store.recipients().add("Bea", None, false, NOW).unwrap();
    let announced = store
        .parcels()
        .announce("ANN-1", None, bea, None, NOW)
        .unwrap();
    let (first, code) = deposit_for(&mut store, "ANN-1", bea, 1, Some(announced));
    let (_, same_code) = deposit_for(&mut store, "LOOSE-1", bea, 3, None);
    assert_eq!(code, same_code, "one code for one recipient's parcels");

    // Undoing one of two keeps the code alive for the other.
    store.parcels().undo_deposit("ANN-1", 1, 1, NOW).unwrap();
    assert_eq!(
        store.parcels().get(first).unwrap().unwrap().status,
        ParcelStatus::Announced,
        "a manifest parcel goes back to announced"
    );
    assert_eq!(
        store.compartments().get(1).unwrap().unwrap().state,
        CompartmentState::Free
    );
    assert!(matches!(
        store.parcels().look_up_code(&CodeInput::Pin(code.pin.clone())).unwrap(),
        CodeLookup::Valid(parcels) if parcels.len() == 1
    ));
    // The manifest parcel can be deposited again.
    assert!(matches!(
        store.parcels().match_tracking("ANN-1").unwrap(),
        ParcelMatch::Announced { .. }
    ));

    // Undoing the last one revokes the code; the record is cancelled.
    let loose = store.parcels().undo_deposit("LOOSE-1", 3, 1, NOW).unwrap();
    assert_eq!(
        store.parcels().get(loose).unwrap().unwrap().status,
        ParcelStatus::Cancelled
    );
    assert_eq!(
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(code.pin))
            .unwrap(),
        CodeLookup::AlreadyUsed
    );
    // Nothing to undo twice.
    assert!(store.parcels().undo_deposit("LOOSE-1", 3, 1, NOW).is_err());
    let kinds: Vec<String> = store
        .events()
        .recent(None, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "deposit_undone").count(),
        2,
        "{kinds:?}"
    );
}

#[test]
fn a_parcel_reported_missing_is_recorded_missing_and_frees_its_compartment() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    // Carla's expired parcel in door 20: the courier finds the door empty.
    let carla = store.parcels().retrievable_for(1).unwrap()[0].parcel;
    assert_eq!(carla.compartment, 20);
    store
        .reports()
        .add(
            ProblemKind::Missing,
            Some(20),
            Some(carla.parcel),
            "courier:1",
            NOW,
        )
        .unwrap();
    let parcel = store.parcels().get(carla.parcel).unwrap().unwrap();
    assert_eq!(parcel.status, ParcelStatus::Missing);
    assert!(store.parcels().retrievable_for(1).unwrap().is_empty());
    let door = store.compartments().get(20).unwrap().unwrap();
    assert_eq!(door.state, CompartmentState::Free);
    // A second report about it changes nothing more.
    store
        .reports()
        .add(
            ProblemKind::Missing,
            Some(20),
            Some(carla.parcel),
            "staff:x",
            NOW,
        )
        .unwrap();
    assert_eq!(store.reports().open().unwrap().len(), 2);
}

#[test]
fn couriers_take_back_only_their_carriers_parcels() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    // Demo: Dana's company brought every parcel; Carla's (door 20) expired.
    let dana = 1;
    let sam = 2;
    let listed = |store: &mut Store, courier| -> Vec<u32> {
        store
            .parcels()
            .retrievable_for(courier)
            .unwrap()
            .iter()
            .map(|p| p.parcel.compartment)
            .collect()
    };
    assert_eq!(listed(&mut store, dana), vec![20]);
    assert_eq!(listed(&mut store, sam), Vec::<u32>::new());

    // Staff mark Alice's parcel (door 2) for return: Dana takes it too.
    let alice = store
        .parcels()
        .in_locker()
        .unwrap()
        .into_iter()
        .find(|p| p.compartment == Some(2))
        .unwrap();
    store
        .parcels()
        .request_return(alice.id, "sender asked", "staff:test", NOW)
        .unwrap();
    assert_eq!(listed(&mut store, dana), vec![2, 20]);
    for parcel in store.parcels().retrievable_for(dana).unwrap() {
        store
            .parcels()
            .take_back(parcel.parcel.parcel, dana, NOW)
            .unwrap();
    }
    assert_eq!(
        store.parcels().get(alice.id).unwrap().unwrap().status,
        ParcelStatus::Returned
    );
    assert!(listed(&mut store, dana).is_empty());
    for door in [2, 20] {
        assert_eq!(
            store.compartments().get(door).unwrap().unwrap().state,
            CompartmentState::Free
        );
    }
}

#[test]
fn flagged_compartments_leave_service_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    assert!(store.compartments().reserve(5, NOW).unwrap());
    assert!(
        !store.compartments().reserve(5, NOW).unwrap(),
        "a held compartment is not given twice"
    );
    store.compartments().release(5, NOW).unwrap();
    assert_eq!(
        store.compartments().get(5).unwrap().unwrap().state,
        CompartmentState::Free
    );
    store
        .compartments()
        .flag(5, ProblemKind::Dirty, "courier:1", NOW)
        .unwrap();
    store
        .compartments()
        .flag(6, ProblemKind::DoorDidNotOpen, "courier:1", NOW)
        .unwrap();
    assert!(matches!(
        store.compartments().get(5).unwrap().unwrap().state,
        CompartmentState::OutOfService { .. }
    ));
    assert!(matches!(
        store.compartments().get(6).unwrap().unwrap().state,
        CompartmentState::Faulty { .. }
    ));
    let reports: Vec<(String, Option<u32>)> = store
        .reports()
        .open()
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, r.compartment))
        .collect();
    assert_eq!(
        reports,
        vec![
            ("dirty".to_string(), Some(5)),
            ("door_did_not_open".to_string(), Some(6))
        ]
    );
}

#[test]
fn the_receipt_key_is_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let key = store
        .couriers()
        .receipt_key(&mut locker_kiosk::app::system::OsEntropy)
        .unwrap();
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store
            .couriers()
            .receipt_key(&mut locker_kiosk::app::system::OsEntropy)
            .unwrap(),
        key
    );
}

#[test]
fn a_full_outbox_drops_door_chatter_first_and_never_parcel_records() {
    use locker_kiosk::store::{Event, NewEvent};
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let ann = store
        .recipients()
        .add("Ann Archer", None, false, NOW)
        .unwrap();
    for n in 0..30u16 {
        let opened = Event::DoorOpened {
            board: "A".into(),
            channel: 1 + n % 5,
        };
        store
            .events()
            .record(NOW, &NewEvent::new(opened, "kiosk"))
            .unwrap();
        store
            .parcels()
            .announce(&format!("KEEP{n:03}"), None, ann, None, NOW)
            .unwrap();
    }
    let kinds = |store: &mut locker_kiosk::store::Store, kind: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = store
            .events()
            .outbox_after(0, 10_000)
            .unwrap()
            .into_iter()
            .filter(|(e, _)| e.kind == kind)
            .map(|(e, _)| e.id)
            .collect();
        ids.sort();
        ids
    };
    let doors_before = kinds(&mut store, "door_opened");
    let before = store.events().outbox_pending().unwrap();
    assert_eq!(store.events().compact_outbox(before - 20).unwrap(), 20);
    assert_eq!(store.events().outbox_pending().unwrap(), before - 20);
    assert_eq!(
        kinds(&mut store, "door_opened"),
        doors_before[20..],
        "the oldest door events went"
    );
    assert_eq!(kinds(&mut store, "parcel_announced").len(), 30);
    // Within its bound, nothing is dropped; parcel records never are.
    assert_eq!(store.events().compact_outbox(1000).unwrap(), 0);
    assert_eq!(
        store.events().compact_outbox(1).unwrap(),
        10,
        "only door events are dropped"
    );
    assert_eq!(kinds(&mut store, "parcel_announced").len(), 30);
    // Every record is still in the log.
    assert_eq!(
        store
            .events()
            .recent(Some("door_opened"), 100)
            .unwrap()
            .len(),
        30
    );
}
