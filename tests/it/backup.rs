//! Backups taken while the kiosk writes, and restores with it stopped,
//! through the real binary and real database files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{NOW, binary, seeded_store};
use locker_kiosk::domain::{ParcelStatus, Timestamp};
use locker_kiosk::store::{Event, NewEvent, Store};

fn run(data: &Path, args: &[&str], file: &Path) -> (i32, String, String) {
    let out = binary()
        .args(["--demo", "--data-dir"])
        .arg(data)
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Alice's parcel (door 2, the demo's parcel 1).
fn alice(store: &mut Store) -> ParcelStatus {
    store.parcels().get(1).unwrap().unwrap().status
}

#[test]
fn a_backup_taken_while_the_kiosk_writes_restores_the_records_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let copy = dir.path().join("backup.db");
    let mut store = seeded_store(&data);
    assert_eq!(alice(&mut store), ParcelStatus::Deposited);

    // The kiosk keeps writing while the backup runs.
    let writing = std::thread::spawn(move || {
        for i in 0..300 {
            let closed = Event::DoorClosed {
                board: "A".into(),
                channel: 2,
            };
            let event = NewEvent::new(closed, "kiosk").compartment(2);
            store.events().record(Timestamp(NOW.0 + i), &event).unwrap();
        }
        store
    });
    let (code, stdout, stderr) = run(&data, &["backup"], &copy);
    let mut store = writing.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("backed up the records of locker `demo-1`"),
        "{stdout}"
    );
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a backup holds what the records hold");

    // Later Alice collects; then the records are lost to a mistake.
    store.parcels().collect(1, NOW).unwrap();
    assert_eq!(alice(&mut store), ParcelStatus::Collected);

    // Not while the kiosk runs: nothing changes.
    let (code, _, stderr) = run(&data, &["restore"], &copy);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("already using the data directory"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    drop(store);

    let (code, stdout, stderr) = run(&data, &["restore"], &copy);
    assert_eq!(code, 0, "{stderr}");
    let kept = stdout
        .split("are kept in ")
        .nth(1)
        .map(|s| s.trim().to_owned())
        .expect(&stdout);
    let mut store = Store::open(&data).unwrap();
    assert_eq!(alice(&mut store), ParcelStatus::Deposited, "as backed up");
    drop(store);
    // The replaced records are kept, private.
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let replaced = locker_kiosk::store::inspect(Path::new(&kept)).unwrap();
    assert_eq!(replaced.locker_id.as_deref(), Some("demo-1"));
}

#[test]
fn a_damaged_or_foreign_backup_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(seeded_store(&data));
    let before = std::fs::read(data.join("locker.db")).unwrap();

    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, b"not a database at all").unwrap();
    let (code, _, stderr) = run(&data, &["restore"], &damaged);
    assert_ne!(code, 0);
    assert!(stderr.contains(&damaged.display().to_string()), "{stderr}");

    // Another locker's records.
    let other = dir.path().join("other");
    {
        let mut store = Store::open(&other).unwrap();
        let mut config = locker_kiosk::config::Config::demo();
        config.locker.id = "lobby-3".into();
        store.compartments().sync_layout(&config, NOW).unwrap();
    }
    let other_copy = dir.path().join("other.db");
    let (code, _, stderr) = run(&other, &["backup"], &other_copy);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&data, &["restore"], &other_copy);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("locker `lobby-3`, not of this locker"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(data.join("locker.db")).unwrap(), before);
}

#[test]
fn a_backup_from_an_older_version_is_restored_and_brought_up_to_date() {
    use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
    use locker_kiosk::store::migrations;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(seeded_store(&data));
    // A backup taken by the version before "missing" parcels (schema 5).
    let old = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        migrations::migrate_to(&mut conn, 5).unwrap();
        crate::store::insert_rows_of_version(&conn, 5);
    }
    let (code, _, stderr) = run(&data, &["restore"], &old);
    assert_eq!(code, 0, "{stderr}");
    let mut store = Store::open(&data).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::LATEST_VERSION);
    let lookup = store
        .parcels()
        .look_up_code(&CodeInput::Pin("583920".into()))
        .unwrap();
    assert!(
        matches!(&lookup, CodeLookup::Valid(p) if p[0].compartment == 2),
        "{lookup:?}"
    );
}

#[test]
fn scheduled_backups_are_made_at_once_when_due_and_rotated() {
    use locker_kiosk::app::backups;
    use locker_kiosk::config::BackupSchedule;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let schedule = BackupSchedule {
        dir: dir.path().join("backups"),
        every: std::time::Duration::from_secs(3600),
        keep: 3,
    };
    let store = seeded_store(&data);
    // None there yet: due at once; the kiosk's schedule makes one.
    assert_eq!(
        backups::due_in(&schedule, std::time::SystemTime::now()),
        std::time::Duration::ZERO
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = locker_kiosk::config::Config::demo();
    let service = locker_kiosk::app::Service::start(store, config, runtime.handle());
    {
        let _entered = runtime.enter();
        backups::spawn(&service, data.clone(), schedule.clone());
    }
    crate::common::until_in_store(&runtime, &service, "the first backup", |s| {
        !s.events()
            .recent(Some("backup_made"), 1)
            .unwrap()
            .is_empty()
    });
    assert_eq!(backups::existing(&schedule.dir).len(), 1);
    let due = backups::due_in(&schedule, std::time::SystemTime::now());
    assert!(due > std::time::Duration::from_secs(3590), "{due:?}");

    // Four more, an hour apart: the newest three are kept.
    let start = locker_kiosk::app::system::now();
    for hour in 1..=4 {
        let at = Timestamp(start.0 + hour * 3_600_000);
        let (file, _) = backups::run_once(&data, &schedule, at).unwrap();
        assert!(file.ends_with(backups::file_name(at)));
    }
    let kept = backups::existing(&schedule.dir);
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept[2].ends_with(backups::file_name(Timestamp(start.0 + 4 * 3_600_000))));
    for file in &kept {
        let found = locker_kiosk::store::inspect(file).unwrap();
        assert_eq!(found.locker_id.as_deref(), Some("demo-1"));
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn the_backup_schedule_is_read_from_the_configuration_with_its_mistakes_named() {
    use locker_kiosk::config::{Config, ConfigSource};
    let base = locker_kiosk::config::DEMO_LAYOUT;
    let good =
        format!("{base}\n[backups]\ndir = \"/var/backups/locker\"\nevery_hours = 12\nkeep = 14\n");
    let config = Config::parse(&good, ConfigSource::BuiltInDemo).unwrap();
    let schedule = config.backups.unwrap();
    assert_eq!(schedule.every, std::time::Duration::from_secs(12 * 3600));
    assert_eq!(schedule.keep, 14);
    let bad = format!("{base}\n[backups]\ndir = \"backups\"\nkeep = 0\n");
    let errors = Config::parse(&bad, ConfigSource::BuiltInDemo)
        .unwrap_err()
        .to_string();
    assert!(errors.contains("absolute path"), "{errors}");
    assert!(Config::demo().backups.is_none());
}
