//! The kiosk driver headless, with its real executor, store and simulated
//! boards: what a visit leaves in the store, whatever order the answers
//! come back in.

use crate::common::{self, Screen, courier_to_the_door, headless, keys};

use std::sync::mpsc;
use std::time::{Duration, Instant};

use locker_kiosk::app::Service;
use locker_kiosk::app::kiosk::{DoorStep, Headless, Input, KioskView, Page};
use locker_kiosk::config::Config;
use locker_kiosk::domain::SizeClass;

#[test]
fn a_courier_walking_away_from_an_open_door_still_gets_the_recipient_told() {
    courier_leaves_an_open_door(|kiosk, _| kiosk.send(Input::Leave));
}

/// As `main` does on SIGTERM (systemd stopping the service) or Ctrl-C.
#[test]
fn a_kiosk_stopped_mid_visit_still_gets_the_recipient_told() {
    courier_leaves_an_open_door(|kiosk, runtime| {
        runtime.block_on(kiosk.stop()).unwrap();
    });
}

/// Deniz's parcel goes into a door that is left open, and the visit ends
/// by `leave`: the deposit is recorded (unconfirmed) and Deniz is told.
fn courier_leaves_an_open_door(leave: fn(&Headless, &tokio::runtime::Runtime)) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    // Nobody closes the door: the courier leaves it open.
    config.doors.simulated_close_after = None;
    let service = Service::start(common::seeded_store(dir.path()), config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let (kiosk, screen) = headless(&service, runtime.handle());

    // Deniz's parcel, announced by the carrier.
    courier_to_the_door(&kiosk, &screen);
    let view = screen.until("door open", |v| {
        matches!(v.courier.door, Some((_, DoorStep::Open)))
    });
    let (door, _) = view.courier.door.unwrap();

    // Leaving yields "record the deposit", then "end the visit": the
    // second must find the first's pickup code to tell Deniz.
    leave(&kiosk, &runtime);
    screen.until("home", |v| v.page == Page::Home);
    common::until_in_store(&runtime, &service, "the visit's end", |s| {
        !s.events()
            .recent(Some("courier_visit_ended"), 1)
            .unwrap()
            .is_empty()
    });
    let (in_door, told) = common::in_store(&runtime, &service, |s| {
        let parcel = s
            .parcels()
            .in_locker()
            .unwrap()
            .into_iter()
            .find(|p| p.tracking == "9400111899223197428497")
            .map(|p| (p.compartment, p.confirmed));
        let told = s
            .events()
            .recent(Some("recipient_notification"), 5)
            .unwrap()
            .iter()
            .filter(|e| e.detail["name"] == "Deniz Demir")
            .count();
        (parcel, told)
    });
    assert_eq!(in_door, Some((Some(door), false)), "an unconfirmed deposit");
    assert_eq!(told, 1, "Deniz is told once");
}

#[test]
fn a_write_that_fails_is_answered_and_recorded_for_staff() {
    use locker_kiosk::app::kiosk::{Answer, Effect, StoreWork, Work};
    use locker_kiosk::app::system::ManualClock;
    use locker_kiosk::store::Event;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(
        common::seeded_store(dir.path()),
        Config::demo(),
        runtime.handle(),
    );
    let (answers, answered) = mpsc::channel();
    let deliver = Arc::new(move |input| {
        let _ = answers.send(input);
    });
    let work = Work::new(
        service.clone(),
        Arc::new(ManualClock::at(common::NOW)),
        deliver,
    );
    // The preference of a parcel that is not (any more) in the records.
    runtime.block_on(work.perform(Effect::SavePreferLow { parcel: 424_242 }));
    let answer = answered.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        matches!(
            answer,
            Input::Answer(Answer::StoreFailed(StoreWork::Preference))
        ),
        "{answer:?}"
    );
    let recorded = common::in_store(&runtime, &service, |s| {
        s.events().recent(Some("records_failed"), 5).unwrap()
    });
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    match recorded[0].event() {
        Some(Event::RecordsFailed { work, error }) => {
            assert_eq!(work, "preference");
            assert!(!error.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(recorded[0].actor, "kiosk");
}

/// The free count on the home screen, once the kiosk has read it.
fn free_on_home(view: &KioskView) -> Option<usize> {
    (view.page == Page::Home)
        .then_some(view.overview.as_ref())
        .flatten()
        .map(|o| o.free)
}

#[test]
fn the_home_count_follows_every_deposit_and_every_staff_command() {
    use locker_kiosk::app::control;
    use locker_kiosk::app::kiosk::CourierAction;
    use locker_kiosk::app::staff_commands::StaffRequest;

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(300));
    let service = Service::start(common::seeded_store(dir.path()), config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    control::serve(service.clone(), dir.path(), runtime.handle()).unwrap();
    let (kiosk, screen) = headless(&service, runtime.handle());
    screen.until("20 free at the start", |v| free_on_home(v) == Some(20));

    // A deposit, its door closed by the courier, and the visit finished.
    courier_to_the_door(&kiosk, &screen);
    screen.until("deposited", |v| {
        v.page == Page::CourierScan && v.courier.deposits.len() == 1
    });
    kiosk.send(Input::Courier(CourierAction::Finish));
    screen.until("summary", |v| v.page == Page::CourierDone);
    kiosk.send(Input::Leave);
    screen.until("19 free after the deposit", |v| free_on_home(v) == Some(19));

    // Staff take a free compartment out of service from the command line
    // while the kiosk runs.
    let free = common::in_store(&runtime, &service, |s| {
        s.compartments()
            .all()
            .unwrap()
            .into_iter()
            .find(|c| c.state == locker_kiosk::domain::CompartmentState::Free)
            .unwrap()
            .number
    });
    let request = StaffRequest::DisableCompartment {
        number: free,
        reason: "hinge loose".into(),
    };
    let sent = control::send(dir.path(), "cli:test", &request);
    assert!(matches!(sent, control::Sent::Answered(Ok(_))), "{sent:?}");
    screen.until("18 free after the staff command", |v| {
        free_on_home(v) == Some(18)
    });
}

/// Wrong codes on the pickup keypad until the kiosk locks it, each one
/// waited for in the audit log.
fn lock_the_pickup_keypad(
    runtime: &tokio::runtime::Runtime,
    service: &Service,
    kiosk: &Headless,
    screen: &Screen,
) {
    use locker_kiosk::app::kiosk::CodeNotice;
    kiosk.send(Input::PickupChosen);
    for refused in 1..=5 {
        keys(kiosk, "111222");
        common::until_in_store(runtime, service, "the refusal recorded", move |s| {
            s.events().recent(Some("code_refused"), 10).unwrap().len() == refused
        });
    }
    screen.until("locked out", |v| {
        matches!(v.pickup.notice, CodeNotice::LockedOut { .. })
    });
}

#[test]
fn a_lockout_survives_a_restart_and_every_wrong_code_is_audited() {
    use locker_kiosk::app::kiosk::CodeNotice;
    let dir = tempfile::tempdir().unwrap();
    {
        // The first run of the kiosk, on a runtime of its own: it ends
        // with it, and lets the records go.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let service = Service::start(
            common::seeded_store(dir.path()),
            Config::demo(),
            runtime.handle(),
        );
        let (kiosk, screen) = headless(&service, runtime.handle());
        lock_the_pickup_keypad(&runtime, &service, &kiosk, &screen);
        let refused = common::in_store(&runtime, &service, |s| {
            s.events().recent(Some("code_refused"), 1).unwrap()
        });
        // The last one started the lockout; no code is in the log.
        assert_eq!(refused[0].detail["keypad"], "pickup");
        assert!(refused[0].detail["locked_until"].is_i64());
        assert!(!refused[0].detail.to_string().contains("111222"));
        kiosk.send(Input::Leave);
    }

    // The kiosk restarts on the same records: still locked, counting down.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let store = loop {
        match locker_kiosk::store::Store::open(dir.path()) {
            Ok(store) => break store,
            Err(e) if started.elapsed() > Duration::from_secs(5) => panic!("{e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let service = Service::start(store, Config::demo(), runtime.handle());
    let (kiosk, screen) = headless(&service, runtime.handle());
    // At once: a code typed before the count is read waits for it.
    kiosk.send(Input::PickupChosen);
    keys(&kiosk, "583920");
    screen.until(
        "still locked out after the restart",
        |v| matches!(v.pickup.notice, CodeNotice::LockedOut { seconds } if seconds > 0),
    );
}

/// Mounts a tmpfs of `bytes` on `dir` in a mount namespace of this test's
/// own (nextest runs each test in its own process; threads started after
/// this inherit it). False where the machine does not allow it.
fn small_filesystem(dir: &std::path::Path, bytes: u64) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |s: &[u8]| CString::new(s).unwrap();
    let (root, tmpfs) = (c(b"/"), c(b"tmpfs"));
    let target = c(dir.as_os_str().as_bytes());
    let options = c(format!("size={bytes}").as_bytes());
    // SAFETY: plain system calls on valid C strings.
    unsafe {
        libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
            && libc::mount(
                tmpfs.as_ptr(),
                target.as_ptr(),
                tmpfs.as_ptr(),
                0,
                options.as_ptr().cast(),
            ) == 0
    }
}

/// A `data` folder in `dir` on a 24 MiB filesystem of its own; `None`
/// (the test says SKIPPED) where the machine does not allow the mount.
fn small_data_dir(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    if !small_filesystem(&data, 24 << 20) {
        eprintln!(
            "SKIPPED: mounting a small filesystem needs CAP_SYS_ADMIN here: {}",
            std::io::Error::last_os_error()
        );
        return None;
    }
    Some(data)
}

/// Remounts the filesystem `small_filesystem` mounted on `dir` read-only
/// (or read-write again), as the kernel does to a disk with errors.
fn remount(dir: &std::path::Path, read_only: bool) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let target = CString::new(dir.as_os_str().as_bytes()).unwrap();
    let flags = libc::MS_REMOUNT | if read_only { libc::MS_RDONLY } else { 0 };
    // SAFETY: a plain system call on a valid C string.
    unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        ) == 0
    }
}

/// A data disk remounted read-only (as after disk errors): the kiosk does
/// not start on it as if it could record; it says the disk is read-only,
/// changes nothing, and starts normally once the disk is writable again.
#[test]
fn a_read_only_data_disk_is_said_as_such_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = small_data_dir(dir.path()) else {
        return;
    };
    drop(common::seeded_store(&data));
    let before = std::fs::read(data.join(locker_kiosk::store::DATABASE_FILE)).unwrap();
    assert!(remount(&data, true), "{}", std::io::Error::last_os_error());
    let error = locker_kiosk::store::Store::open(&data).unwrap_err();
    assert!(
        matches!(error, locker_kiosk::store::StoreError::ReadOnly { .. }),
        "{error:?}"
    );
    let said = error.to_string();
    assert!(
        said.contains("read-only") && said.contains("no door opens"),
        "{said}"
    );
    assert!(!said.contains("damaged"), "{said}");
    assert_eq!(
        std::fs::read(data.join(locker_kiosk::store::DATABASE_FILE)).unwrap(),
        before
    );
    assert!(remount(&data, false), "{}", std::io::Error::last_os_error());
    let mut store = locker_kiosk::store::Store::open(&data).unwrap();
    assert_eq!(
        store.parcels().get(1).unwrap().unwrap().status,
        locker_kiosk::domain::ParcelStatus::Deposited
    );
}

/// Fills the filesystem of `dir` to the last byte; the file to delete to
/// free it again.
fn fill_up(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    use std::io::Write;
    let ballast = dir.join(name);
    let mut file = std::fs::File::create(&ballast).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    // The last few bytes too.
    let block = vec![0u8; 512];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    ballast
}

/// The data disk fills up (a real filesystem, really full). The kiosk
/// lets go of its reserve: Alice still collects her parcel, staff get an
/// alarm, and a courier's new parcel stays with the courier. Filled up
/// again past the reserve, Bob's code opens no door, because its intent
/// cannot be written, and the screen says the records have a problem; his
/// parcel stays with a code that works once there is room again, and the
/// reserve is taken back. A store opened on the full disk says the disk
/// is full, not that the database is damaged.
#[test]
fn a_full_disk_keeps_pickups_going_on_its_reserve_and_opens_no_door_it_cannot_record() {
    use locker_kiosk::app::kiosk::{CourierAction, CourierNotice, DropoffNotice};
    use locker_kiosk::domain::ParcelStatus;
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = small_data_dir(dir.path()) else {
        return;
    };
    drop(common::seeded_store(&data));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(300));
    let store = locker_kiosk::store::Store::open(&data).unwrap();
    let service = Service::start(store, config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let (kiosk, screen) = headless(&service, runtime.handle());
    let opens = || {
        service
            .doors()
            .simulators()
            .iter()
            .filter_map(|s| s.lock().unwrap().last_open_at)
            .max()
    };
    let status = |parcel: i64| {
        common::in_store(&runtime, &service, move |s| {
            s.parcels().get(parcel).unwrap().unwrap().status
        })
    };

    let first = fill_up(&data, "ballast-1");
    kiosk.send(Input::PickupChosen);
    keys(&kiosk, "583920");
    common::until_in_store(&runtime, &service, "Alice's parcel collected", |s| {
        s.parcels().get(1).unwrap().unwrap().status == ParcelStatus::Collected
    });
    let alarm = common::in_store(&runtime, &service, |s| {
        s.events().recent(Some("disk_nearly_full"), 1).unwrap()
    });
    assert_eq!(alarm.len(), 1, "staff are told the disk is nearly full");
    assert!(service.disk_low());
    kiosk.send(Input::Leave);
    screen.until("home", |v| v.page == Page::Home);

    // A courier's new parcel is not taken: the room left is for pickups.
    let before = opens();
    kiosk.send(Input::DeliverChosen);
    keys(&kiosk, "4711");
    screen.until("the courier's scan page", |v| v.page == Page::CourierScan);
    keys(&kiosk, "9400111899223197428497");
    screen.until("the size page", |v| v.page == Page::CourierSize);
    kiosk.send(Input::SizeChosen(SizeClass::M));
    screen.until("the parcel kept with the courier", |v| {
        v.courier.notice == CourierNotice::Flow(DropoffNotice::NotRecorded)
    });
    assert_eq!(
        opens(),
        before,
        "a door opened for a deposit on a full disk"
    );
    assert_eq!(status(5), ParcelStatus::Announced);
    kiosk.send(Input::Courier(CourierAction::Finish));
    kiosk.send(Input::Leave);
    screen.until("home", |v| v.page == Page::Home);

    // Past the reserve too: no intent, no open.
    let second = fill_up(&data, "ballast-2");
    let before = opens();
    kiosk.send(Input::PickupChosen);
    keys(&kiosk, "246813");
    screen.until("the doors given up, the records' problem shown", |v| {
        v.page == Page::PickupDone && v.pickup.failed >= 1 && v.records_problem
    });
    assert_eq!(
        opens(),
        before,
        "a door opened whose intent was not recorded"
    );
    assert_eq!(status(2), ParcelStatus::Deposited);

    // Room again: the reserve is taken back and Bob's code works.
    std::fs::remove_file(&first).unwrap();
    std::fs::remove_file(&second).unwrap();
    kiosk.send(Input::Leave);
    screen.until("home", |v| v.page == Page::Home);
    kiosk.send(Input::PickupChosen);
    keys(&kiosk, "246813");
    common::until_in_store(&runtime, &service, "Bob's parcels collected", |s| {
        s.parcels().get(2).unwrap().unwrap().status == ParcelStatus::Collected
    });
    assert!(!service.disk_low());
    assert!(
        data.join(locker_kiosk::store::reserve::RESERVE_FILE)
            .exists()
    );
    let back = common::in_store(&runtime, &service, |s| {
        s.events().recent(Some("disk_space_back"), 1).unwrap()
    });
    assert_eq!(back.len(), 1);
    drop(kiosk);
    drop(service);
    runtime.shutdown_timeout(Duration::from_secs(2));

    // A fresh data directory on a full disk: said as a full disk.
    let ballast = fill_up(&data, "ballast");
    let fresh = data.join("fresh");
    let error = locker_kiosk::store::Store::open(&fresh).unwrap_err();
    assert!(
        matches!(error, locker_kiosk::store::StoreError::DiskFull { .. })
            || error.to_string().contains("No space left"),
        "{error}"
    );
    assert!(!error.to_string().contains("damaged"), "{error}");
    std::fs::remove_file(&ballast).unwrap();
}
