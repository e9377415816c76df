//! A power cut at the storage layer: the database and its WAL copied at
//! arbitrary moments while the kiosk writes (what the disk holds when the
//! power goes; auto-checkpoints off, so the main file does not move under
//! the copy), and each copy's WAL also cut at an arbitrary byte (a write
//! torn mid-frame). Every copy must open, intact, as a prefix of what was
//! written: its audit chain unbroken and equal to the full log's up to
//! where it ends, every parcel in one known place.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::common::{NOW, deposit, seeded_store};
use locker_kiosk::app::system::OsEntropy;
use locker_kiosk::domain::Timestamp;
use locker_kiosk::store::{DATABASE_FILE, SECRET_FILE, Store};

const ROUNDS: i64 = 120;

fn snapshot(from: &Path, to: &Path, wal_bytes: Option<u64>) {
    fs::create_dir_all(to).unwrap();
    fs::copy(from.join(SECRET_FILE), to.join(SECRET_FILE)).unwrap();
    fs::copy(from.join(DATABASE_FILE), to.join(DATABASE_FILE)).unwrap();
    let wal = fs::read(from.join(format!("{DATABASE_FILE}-wal"))).unwrap_or_default();
    let keep = wal_bytes.map_or(wal.len(), |n| (n as usize).min(wal.len()));
    fs::write(to.join(format!("{DATABASE_FILE}-wal")), &wal[..keep]).unwrap();
}

/// (id, chain) of every event, in order.
fn chain(store: &Store) -> Vec<(i64, String)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT id, chain FROM events ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_power_cut_at_any_moment_of_writing_leaves_records_that_open_whole() {
    let dir = tempfile::tempdir().unwrap();
    let panel = dir.path().join("panel");
    let store = seeded_store(&panel);
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0;")
        .unwrap();
    let writer = std::thread::spawn(move || {
        let mut store = store;
        for round in 0..ROUNDS {
            let at = Timestamp(NOW.0 + round * 1000);
            let resident = store
                .recipients()
                .add(&format!("Resident {round}"), None, false, at)
                .unwrap();
            let tracking = format!("CUT{round:04}");
            let (parcel, _) = store
                .parcels()
                .deposit(&deposit(&tracking, resident, 14), &mut OsEntropy, at)
                .unwrap();
            store.parcels().collect(parcel, at).unwrap();
        }
        store
    });
    // Copies while it writes: the disk as a power cut would leave it.
    let mut copies = Vec::new();
    while !writer.is_finished() {
        let at = dir.path().join(format!("cut-{}", copies.len()));
        snapshot(&panel, &at, None);
        copies.push(at);
        std::thread::sleep(Duration::from_millis(3));
    }
    let store = writer.join().unwrap();
    let full = chain(&store);
    // Torn writes too: each WAL cut at a byte inside its frames.
    let wal_len = fs::metadata(panel.join(format!("{DATABASE_FILE}-wal")))
        .unwrap()
        .len();
    for cut in 1..=12u64 {
        let at = dir.path().join(format!("torn-{cut}"));
        snapshot(&panel, &at, Some(wal_len * cut / 13 + 7));
        copies.push(at);
    }
    drop(store);
    assert!(copies.len() >= 14, "{} copies", copies.len());
    let mut lengths = std::collections::BTreeSet::new();
    for copy in &copies {
        let what = copy.display().to_string();
        let mut store = Store::open(copy).unwrap_or_else(|e| panic!("{what}: {e}"));
        let found = chain(&store);
        assert!(!found.is_empty(), "{what}");
        assert_eq!(
            found[..],
            full[..found.len()],
            "{what}: not a prefix of the log"
        );
        let verified = store.verify_log().unwrap();
        assert_eq!(
            verified.first_broken,
            None,
            "{what}: {}",
            verified.describe()
        );
        // Compartment 14 holds at most the one parcel of an unfinished
        // round, and then it is occupied.
        let inside: Vec<_> = store
            .parcels()
            .in_locker()
            .unwrap()
            .into_iter()
            .filter(|p| p.compartment == Some(14))
            .collect();
        assert!(inside.len() <= 1, "{what}: {inside:?}");
        let state = store.compartments().get(14).unwrap().unwrap().state;
        assert_eq!(
            inside.len() == 1,
            state == locker_kiosk::domain::CompartmentState::Occupied,
            "{what}: {state:?} with {inside:?}"
        );
        lengths.insert(found.len());
    }
    eprintln!(
        "power cut: {} copies (12 with a torn WAL), {} distinct log lengths of {}",
        copies.len(),
        lengths.len(),
        full.len()
    );
    assert!(lengths.len() >= 5, "the copies should land at many points");
}
