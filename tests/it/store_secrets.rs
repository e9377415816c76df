//! The database alone opens nothing: codes are kept as keyed hashes under
//! the locker's secret (a file beside the database), a code not yet sent
//! is sealed until delivered, and a database without its secret refuses
//! to start rather than start with every code dead.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::{NOW, demo_store, deposit, seeded_store};
use locker_kiosk::app::system::OsEntropy;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::store::{DATABASE_FILE, SECRET_FILE, Store, StoreError};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The database file and its WAL, as a thief copying them would get them.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = fs::read(dir.join(DATABASE_FILE)).unwrap();
    bytes.extend(fs::read(dir.join(format!("{DATABASE_FILE}-wal"))).unwrap_or_default());
    bytes
}

#[test]
fn codes_are_stored_as_keyed_hashes_and_a_delivered_code_leaves_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = demo_store(dir.path());
    let rita = store
        .recipients()
        .add("Rita Resident", Some("7A"), false, NOW)
        .unwrap();
    let (first, code) = store
        .parcels()
        .deposit(&deposit("RITA-1", rita, 3), &mut OsEntropy, NOW)
        .unwrap();
    let code_id = store.parcels().code_of(first).unwrap().unwrap();
    let mode = fs::metadata(dir.path().join(SECRET_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the secret is the kiosk user's only");

    // Until it is delivered, the code is kept sealed, never in plain.
    assert_eq!(
        store.parcels().undelivered_code(code_id).unwrap(),
        Some(code.clone())
    );
    let (pin_hash, token_hash): (String, String) = store
        .connection()
        .query_row(
            "SELECT pin_hash, token_hash FROM pickup_codes WHERE id = ?1",
            [code_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((pin_hash.len(), token_hash.len()), (64, 64));
    assert!(!pin_hash.contains(&code.pin));
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = database_bytes(dir.path());
    assert!(!contains(&bytes, &code.pin), "the PIN is in the database");
    assert!(
        !contains(&bytes, &code.qr_token),
        "the QR token is in the database"
    );

    // Delivered: only the hashes are left, and they still open the parcel.
    store.parcels().code_delivered(code_id).unwrap();
    assert_eq!(store.parcels().undelivered_code(code_id).unwrap(), None);
    assert_eq!(store.parcels().pickup_code_for(rita).unwrap(), None);
    let lookup = store
        .parcels()
        .look_up_code(&CodeInput::Pin(code.pin.clone()))
        .unwrap();
    assert!(matches!(lookup, CodeLookup::Valid(ref p) if p[0].parcel == first));

    // The code cannot be sent again, so the next parcel gets its own.
    let (second, other) = store
        .parcels()
        .deposit(&deposit("RITA-2", rita, 4), &mut OsEntropy, NOW)
        .unwrap();
    assert_ne!(other.pin, code.pin);
    let CodeLookup::Valid(opened) = store
        .parcels()
        .look_up_code(&CodeInput::Pin(other.pin.clone()))
        .unwrap()
    else {
        panic!("the second code opens nothing");
    };
    assert_eq!(
        opened.iter().map(|p| p.parcel).collect::<Vec<_>>(),
        [second]
    );

    // A spent code's envelope is gone with it.
    store.parcels().collect(second, NOW).unwrap();
    let second_code = store.parcels().code_of(second).unwrap().unwrap();
    assert_eq!(store.parcels().undelivered_code(second_code).unwrap(), None);
}

#[test]
fn a_courier_code_and_badge_are_kept_as_hashes_and_still_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded_store(dir.path());
    let dana = store.couriers().by_credential("4711").unwrap().unwrap();
    assert_eq!(dana.name, "Dana Driver");
    let by_badge = store
        .couriers()
        .by_credential("LKC1:demo-1:DANA")
        .unwrap()
        .unwrap();
    assert_eq!(by_badge.id, dana.id);
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = database_bytes(dir.path());
    assert!(!contains(&bytes, "LKC1:demo-1:DANA"));
    // The receipt key is sealed: its hex is nowhere in the file.
    let key = store.couriers().receipt_key(&mut OsEntropy).unwrap();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    assert!(!contains(&database_bytes(dir.path()), &hex));
}

#[test]
fn a_database_copied_without_its_secret_opens_nothing_and_says_why() {
    let panel = tempfile::tempdir().unwrap();
    let store = seeded_store(panel.path());
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(store);

    // Copied off the panel without the secret: refused, and no new secret
    // is left behind in its place.
    let thief = tempfile::tempdir().unwrap();
    fs::copy(
        panel.path().join(DATABASE_FILE),
        thief.path().join(DATABASE_FILE),
    )
    .unwrap();
    let error = Store::open(thief.path()).unwrap_err();
    assert!(
        matches!(error, StoreError::SecretMismatch { created: true, .. }),
        "{error}"
    );
    let said = error.to_string();
    assert!(
        said.contains("was missing") && said.contains(SECRET_FILE),
        "{said}"
    );
    assert!(!thief.path().join(SECRET_FILE).exists());

    // With another locker's secret: refused too.
    let other = tempfile::tempdir().unwrap();
    drop(demo_store(other.path()));
    fs::copy(
        other.path().join(SECRET_FILE),
        thief.path().join(SECRET_FILE),
    )
    .unwrap();
    let error = Store::open(thief.path()).unwrap_err();
    assert!(
        matches!(error, StoreError::SecretMismatch { created: false, .. }),
        "{error}"
    );

    // With its own secret it works, demo codes and all.
    fs::copy(
        panel.path().join(SECRET_FILE),
        thief.path().join(SECRET_FILE),
    )
    .unwrap();
    let mut store = Store::open(thief.path()).unwrap();
    let lookup = store
        .parcels()
        .look_up_code(&CodeInput::Pin("583920".into()))
        .unwrap();
    assert!(matches!(lookup, CodeLookup::Valid(_)), "{lookup:?}");
}

#[test]
fn a_backup_of_another_locker_is_refused_before_anything_is_replaced() {
    let ours = tempfile::tempdir().unwrap();
    drop(seeded_store(ours.path()));
    let theirs = tempfile::tempdir().unwrap();
    drop(seeded_store(theirs.path()));
    let backup = theirs.path().join("their.backup");
    locker_kiosk::store::backup(theirs.path(), &backup).unwrap();
    let before = fs::read(ours.path().join(DATABASE_FILE)).unwrap();
    let error = Store::restore(ours.path(), &backup, NOW).unwrap_err();
    assert!(
        matches!(error, StoreError::SecretMismatch { .. }),
        "{error}"
    );
    assert_eq!(fs::read(ours.path().join(DATABASE_FILE)).unwrap(), before);
}
