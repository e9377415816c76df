//! The tamper-evident audit log: a chain that breaks where an entry was
//! changed, an anchored head that shows history cut off or rolled back
//! (also by a damaged WAL), and `audit verify` / `audit export` through
//! the real binary.

use std::fs;
use std::path::Path;

use crate::common::{NOW, binary, seeded_store};
use locker_kiosk::domain::{ParcelStatus, Timestamp};
use locker_kiosk::store::{DATABASE_FILE, Store};

fn audit(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = binary()
        .args(["--demo", "--data-dir"])
        .arg(data)
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Alice (the demo's parcel 1) collects: one more entry in the log.
fn alice_collects(store: &mut Store) {
    store
        .parcels()
        .collect(1, Timestamp(NOW.0 + 60_000))
        .unwrap();
}

#[test]
fn a_changed_entry_breaks_the_chain_where_it_was_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    alice_collects(&mut store);
    let verified = store.verify_log().unwrap();
    assert!(verified.intact(), "{}", verified.describe());
    let entries = verified.entries;
    assert!(entries >= 5, "{entries}");
    drop(store);
    let (code, out, err) = audit(dir.path(), &["verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("intact") && out.contains(&format!("{entries} entries")),
        "{out}"
    );

    // Someone with the file drops the guard and makes the collection a
    // mere note: the chain breaks at that entry.
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let collected: i64 = conn
        .query_row(
            "SELECT id FROM events WHERE kind = 'parcel_collected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_no_update;
         UPDATE events SET kind = 'note' WHERE kind = 'parcel_collected';",
    )
    .unwrap();
    drop(conn);
    let (code, _, err) = audit(dir.path(), &["verify"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("entry {collected} does not follow")),
        "{err}"
    );
    let doctor = binary()
        .args(["--demo", "--data-dir"])
        .arg(dir.path())
        .arg("doctor")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&doctor.stdout).into_owned()
        + &String::from_utf8_lossy(&doctor.stderr);
    assert!(!doctor.status.success(), "{said}");
    assert!(said.contains("audit log was altered"), "{said}");
}

#[test]
fn entries_cut_off_the_end_are_seen_by_the_anchored_head() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    alice_collects(&mut store);
    let last = store.verify_log().unwrap().head.unwrap().id;
    drop(store); // anchors the head beside the database
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_no_delete;
         DELETE FROM outbox WHERE event_id >= (SELECT max(id) - 1 FROM events);
         DELETE FROM events WHERE id >= (SELECT max(id) - 1 FROM events);",
    )
    .unwrap();
    drop(conn);
    // The chain that is left is valid; its end is not where it was.
    let (code, _, err) = audit(dir.path(), &["verify"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("lost history") && err.contains(&format!("entry {last} had been written")),
        "{err}"
    );
}

#[test]
fn a_damaged_wal_that_rolls_history_back_is_an_alarm_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel");
    let copy = dir.path().join("copy");
    let mut store = seeded_store(&panel);
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    // These land in the WAL only; the worker anchors after each.
    alice_collects(&mut store);
    store.anchor_log().unwrap();
    for i in 0..8 {
        store
            .events()
            .record(
                Timestamp(NOW.0 + 120_000 + i),
                &locker_kiosk::store::NewEvent::new(
                    locker_kiosk::store::Event::BoardOnline { board: "A".into() },
                    "kiosk",
                ),
            )
            .unwrap();
        store.anchor_log().unwrap();
    }
    // A power cut: the files as they are on the disk, then one byte of
    // the WAL flipped early on (the collection's frames).
    fs::create_dir(&copy).unwrap();
    for name in [
        DATABASE_FILE.to_string(),
        format!("{DATABASE_FILE}-wal"),
        locker_kiosk::store::SECRET_FILE.to_string(),
        locker_kiosk::store::audit::HEAD_FILE.to_string(),
    ] {
        fs::copy(panel.join(&name), copy.join(&name)).unwrap();
    }
    drop(store);
    let wal = copy.join(format!("{DATABASE_FILE}-wal"));
    let mut bytes = fs::read(&wal).unwrap();
    assert!(bytes.len() > 32 + 2 * (24 + 4096), "the WAL holds frames");
    bytes[32 + 24 + 100] ^= 0x01; // in the first frame's page
    fs::write(&wal, bytes).unwrap();

    let mut store = Store::open(&copy).unwrap();
    // SQLite dropped the damaged frames and all after them: Alice's parcel
    // is back in the locker. The kiosk cannot bring it back, but it says so.
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().status,
        ParcelStatus::Deposited
    );
    let alarms = store.events().recent(Some("log_rolled_back"), 5).unwrap();
    assert_eq!(alarms.len(), 1, "one alarm for one loss");
    let verified = store.verify_log().unwrap();
    assert!(!verified.intact());
    assert!(
        verified.describe().contains("lost history"),
        "{}",
        verified.describe()
    );
    drop(store);
    // Said once, not at every start.
    let mut store = Store::open(&copy).unwrap();
    assert_eq!(
        store
            .events()
            .recent(Some("log_rolled_back"), 5)
            .unwrap()
            .len(),
        1
    );
    let alarms = store
        .events()
        .log_page(locker_kiosk::store::LogFilter::Alarms, None, 10)
        .unwrap();
    assert!(
        alarms.iter().any(|e| e.kind == "log_rolled_back"),
        "an alarm for staff"
    );
}

#[test]
fn the_log_exports_as_csv_or_json_lines_from_a_time_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    alice_collects(&mut store);
    let entries = store.verify_log().unwrap().entries as usize;
    drop(store);

    let (code, csv, err) = audit(dir.path(), &["export"]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "id");
    assert_eq!(&header[8], "chain");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), entries);
    assert!(rows.iter().any(|r| &r[3] == "parcel_collected"));

    let (code, jsonl, err) = audit(
        dir.path(),
        &[
            "export",
            "--format",
            "jsonl",
            "--since",
            &(NOW.0 + 1).to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "only the collection is after NOW: {jsonl}");
    assert_eq!(lines[0]["kind"], "parcel_collected");
    assert_eq!(lines[0]["chain"].as_str().unwrap().len(), 64);

    let (code, _, err) = audit(dir.path(), &["export", "--since", "yesterday"]);
    assert_ne!(code, 0);
    assert!(err.contains("is not a time"), "{err}");
}
