//! Fair deadlines: time the locker could not hand parcels out is given
//! back. The kiosk down across a parcel's deadline (found by the real
//! service at start), a lock board offline (the simulated board goes
//! offline and comes back), a compartment out of service and back, the
//! whole locker out of service and back (through maintenance in the real
//! UI, and the command line). Each moved deadline is in the audit log
//! with its cause, and the recipient is told the new one.

use std::time::Duration;

use crate::common::{self, in_store};
use locker_kiosk::app::Service;
use locker_kiosk::app::kiosk::records::Settings;
use locker_kiosk::app::system::{self, OsEntropy};
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentState, ParcelStatus, Timestamp};
use locker_kiosk::store::{EventRecord, IssuedCode, Store};

const HOUR: i64 = 3_600_000;

/// Puts a parcel for a new recipient into `compartment` at `at`, waiting
/// 72 hours: its id and code.
fn parcel_at(
    store: &mut Store,
    tracking: &str,
    compartment: u32,
    at: Timestamp,
) -> (i64, IssuedCode) {
    let recipient = store.recipients().add(tracking, None, false, at).unwrap();
    store
        .parcels()
        .deposit(
            &common::deposit(tracking, recipient, compartment),
            &mut OsEntropy,
            at,
        )
        .unwrap()
}

/// Makes the locker's closure have begun at `since` (the tests cannot
/// wait hours): the closure, as it was.
fn closed_since(store: &mut Store, since: Timestamp) -> locker_kiosk::store::Closure {
    let closure = store.staff().closure().unwrap().expect("closed");
    let earlier = serde_json::json!({"reason": closure.reason, "since": since.0, "by": closure.by});
    store
        .connection()
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'out_of_service'",
            [earlier.to_string()],
        )
        .unwrap();
    closure
}

fn events_of(store: &mut Store, kind: &str) -> Vec<EventRecord> {
    store.events().recent(Some(kind), 20).unwrap()
}

#[test]
fn a_kiosk_down_across_a_deadline_gives_the_recipient_the_time_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = system::now();
    // Ana had an hour left when the kiosk went down three hours ago; her
    // deadline passed while it was down. Ben's parcel had expired before.
    let (ana, ana_code) = parcel_at(&mut store, "ANA", 2, Timestamp(now.0 - 74 * HOUR));
    let (ben, _) = parcel_at(&mut store, "BEN", 3, Timestamp(now.0 - 80 * HOUR));
    store
        .parcels()
        .expire_due(Timestamp(now.0 - 7 * HOUR))
        .unwrap();
    store.set_alive_at(Timestamp(now.0 - 3 * HOUR)).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, Config::demo(), runtime.handle());
    let (ana_now, ben_now, moved, told) = in_store(&runtime, &service, move |s| {
        (
            s.parcels().get(ana).unwrap().unwrap(),
            s.parcels().get(ben).unwrap().unwrap(),
            events_of(s, "deadline_credited"),
            events_of(s, "recipient_notification"),
        )
    });
    // Three hours given back: her hour starts again now.
    assert_eq!(ana_now.status, ParcelStatus::Deposited);
    let new_deadline = ana_now.expires_at.unwrap().0;
    assert!(
        (new_deadline - (now.0 + HOUR)).abs() < 60_000,
        "{new_deadline} vs {}",
        now.0 + HOUR
    );
    assert_eq!(
        ben_now.status,
        ParcelStatus::Expired,
        "its time had run out before"
    );
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].parcel, Some(ana));
    assert_eq!(moved[0].detail["cause"], "kiosk_down");
    assert_eq!(moved[0].detail["given_minutes"], 180);
    assert_eq!(moved[0].detail["previous_expires_at"], now.0 - 2 * HOUR);
    let message = told
        .iter()
        .find(|m| m.detail["reason"] == "outage")
        .expect("Ana is told");
    assert_eq!(message.detail["expires_at"], new_deadline);
    assert!(
        message.detail["code"].is_i64(),
        "her code, still unsent, goes with it"
    );
    let lookup = in_store(&runtime, &service, move |s| {
        s.parcels()
            .look_up_code(&CodeInput::Pin(ana_code.pin))
            .unwrap()
    });
    assert!(matches!(lookup, CodeLookup::Valid(_)), "{lookup:?}");
    drop(service);
    drop(runtime);

    // A quick restart gives nothing more.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The old service's store thread lets go of the records as it ends.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let store = loop {
        match Store::open(dir.path()) {
            Ok(store) => break store,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let service = Service::start(store, Config::demo(), runtime.handle());
    let moved = in_store(&runtime, &service, |s| events_of(s, "deadline_credited"));
    assert_eq!(moved.len(), 1);
}

#[test]
fn a_board_offline_gives_its_parcels_the_time_back_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = system::now();
    let mut config = Config::demo();
    // Every outage counts here: the test cannot wait minutes.
    config.policies.outage_credit_min_minutes = 0;
    let board_of = |n: u32| {
        config
            .compartments
            .iter()
            .find(|c| c.number == n)
            .unwrap()
            .board
            .clone()
    };
    let (on_b, on_a) = ((1..=30).find(|n| board_of(*n) == "B").unwrap(), 2);
    assert_eq!(board_of(on_a), "A");
    let (behind_b, _) = parcel_at(&mut store, "BEHIND-B", on_b, now);
    let (behind_a, _) = parcel_at(&mut store, "BEHIND-A", on_a, now);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));

    common::on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    common::until_in_store(&runtime, &service, "board B offline", |s| {
        !events_of(s, "board_offline").is_empty()
    });
    std::thread::sleep(Duration::from_millis(400));
    common::on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });
    common::until_in_store(&runtime, &service, "the time given back", |s| {
        !events_of(s, "deadline_credited").is_empty()
    });
    let (moved, b, a) = in_store(&runtime, &service, move |s| {
        (
            events_of(s, "deadline_credited"),
            s.parcels().get(behind_b).unwrap().unwrap(),
            s.parcels().get(behind_a).unwrap().unwrap(),
        )
    });
    assert_eq!(moved.len(), 1, "only the parcel behind board B");
    assert_eq!(moved[0].parcel, Some(behind_b));
    assert_eq!(moved[0].detail["cause"], "board_offline");
    assert_eq!(moved[0].detail["board"], "B");
    let given = b.expires_at.unwrap().0 - (now.0 + 72 * HOUR);
    assert!((400..10_000).contains(&given), "given back {given} ms");
    assert_eq!(a.expires_at.unwrap().0, now.0 + 72 * HOUR);
}

#[test]
fn a_compartment_back_in_service_gives_the_time_it_was_out_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = system::now();
    let (parcel, _) = parcel_at(&mut store, "STUCK", 5, Timestamp(now.0 - 10 * HOUR));
    let out = CompartmentState::OutOfService {
        reason: "door sticks".into(),
    };
    store
        .compartments()
        .set_state(5, &out, "staff:ines", Timestamp(now.0 - 4 * HOUR))
        .unwrap();
    store
        .compartments()
        .put_back_in_service(5, "staff:ines", now)
        .unwrap();
    let settings = Settings::from(&Config::demo());
    let credited =
        locker_kiosk::app::outages::back_in_service(&mut store, 5, &settings, now).unwrap();
    assert_eq!(credited.len(), 1);
    let record = store.parcels().get(parcel).unwrap().unwrap();
    assert_eq!(record.expires_at.unwrap().0, now.0 + 62 * HOUR + 4 * HOUR);
    let moved = events_of(&mut store, "deadline_credited");
    assert_eq!(moved[0].detail["cause"], "compartment_out_of_service");
    assert_eq!(moved[0].detail["given_minutes"], 240);
    // The same again gives nothing: it was given back once.
    assert!(
        locker_kiosk::app::outages::back_in_service(&mut store, 5, &settings, now)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_locker_out_of_service_turns_everyone_away_and_gives_its_parcels_the_time_back() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    use crate::common::{enter_maintenance, page, press, pump_until};
    use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
    use locker_kiosk::ui::{Kiosk, MaintenanceSettings, Page};
    use slint::ComponentHandle;

    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = system::now();
    let (ana, _) = parcel_at(&mut store, "ANA", 2, Timestamp(now.0 - 10 * HOUR));
    let before = store
        .parcels()
        .get(ana)
        .unwrap()
        .unwrap()
        .expires_at
        .unwrap();
    let (runtime, service, window) = common::staff_kiosk(store, |config| {
        // Every outage counts here: the test cannot wait minutes.
        config.policies.outage_credit_min_minutes = 0;
    });

    // Staff take the locker out of service in maintenance.
    enter_maintenance(&window, DEMO_ADMIN_PIN);
    press(&window, "Settings");
    pump_until(&window, "the locker's state read", 5, |w| {
        !w.global::<MaintenanceSettings>().get_locker_out()
    });
    press(&window, "Take the locker out of service");
    pump_until(&window, "out of service", 5, |w| {
        let settings = w.global::<MaintenanceSettings>();
        settings.get_locker_out() && settings.get_locker_out_reason() == "maintenance at the locker"
    });
    press(&window, "Leave maintenance");
    pump_until(&window, "home says it", 5, |w| {
        w.global::<Kiosk>().get_out_of_service()
    });
    assert_eq!(page(&window), Page::Home);
    assert!(
        window
            .global::<Kiosk>()
            .get_status_text()
            .starts_with("Out of service")
    );
    // Nobody starts a pickup or a delivery.
    window.global::<Kiosk>().invoke_pickup_chosen();
    window.global::<Kiosk>().invoke_deliver_chosen();
    std::thread::sleep(Duration::from_millis(300));
    pump_until(&window, "still home", 5, |w| page(w) == Page::Home);

    // The closure's start is in the records: it is made to have lasted
    // three hours.
    let closed_at = in_store(&runtime, &service, move |s| {
        closed_since(s, Timestamp(now.0 - 3 * HOUR))
    });
    assert_eq!(closed_at.by, "staff:maintenance");

    // Back in service: Ana gets the three hours, and is told.
    enter_maintenance(&window, DEMO_ADMIN_PIN);
    press(&window, "Settings");
    pump_until(&window, "the closure shown", 5, |w| {
        w.global::<MaintenanceSettings>().get_locker_out()
    });
    press(&window, "Put the locker back in service");
    pump_until(&window, "in service", 5, |w| {
        !w.global::<MaintenanceSettings>().get_locker_out()
    });
    press(&window, "Leave maintenance");
    pump_until(&window, "home open again", 5, |w| {
        !w.global::<Kiosk>().get_out_of_service()
    });
    let (record, moved, told, back) = in_store(&runtime, &service, move |s| {
        (
            s.parcels().get(ana).unwrap().unwrap(),
            events_of(s, "deadline_credited"),
            events_of(s, "recipient_notification"),
            events_of(s, "locker_back_in_service"),
        )
    });
    let given = record.expires_at.unwrap().0 - before.0;
    assert!(
        (3 * HOUR..3 * HOUR + 60_000).contains(&given),
        "given back {given} ms"
    );
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].detail["cause"], "locker_out_of_service");
    assert!(told.iter().any(|m| m.detail["reason"] == "outage"));
    assert_eq!(back[0].detail["out_minutes"], 180);
    assert_eq!(back[0].actor, "staff:maintenance");
    window.global::<Kiosk>().invoke_pickup_chosen();
    pump_until(&window, "a pickup starts again", 5, |w| {
        page(w) == Page::PickupCode
    });
}

#[test]
fn the_command_line_takes_the_locker_out_of_service_once_and_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = system::now();
    let (parcel, _) = parcel_at(&mut store, "BEN", 4, Timestamp(now.0 - 5 * HOUR));
    drop(store);
    let data = dir.path();

    let (status, _, err) = common::staff(data, &["locker", "out-of-service", "--reason", " "], "");
    assert_eq!(status, 1);
    assert!(err.contains("say why with --reason"), "{err}");
    let (status, out, err) = common::staff(
        data,
        &["locker", "out-of-service", "--reason", "flooded"],
        "",
    );
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("the locker is out of service: flooded"),
        "{out}"
    );
    let (status, _, err) =
        common::staff(data, &["locker", "out-of-service", "--reason", "again"], "");
    assert_eq!(status, 1);
    assert!(err.contains("out of service already (flooded"), "{err}");

    // The doctor says so (not as a failure: it was meant).
    let doctor = common::binary()
        .args(["--demo", "--data-dir"])
        .arg(data)
        .arg("doctor")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&doctor.stdout);
    let database = said.lines().find(|l| l.contains("database:")).unwrap_or("");
    assert!(database.starts_with("OK"), "{said}");
    assert!(
        database.contains("the whole locker is out of service since")
            && database.contains("(flooded, by cli:"),
        "{said}"
    );

    // Two hours later (the records' clock turned back by hand).
    closed_since(&mut Store::open(data).unwrap(), Timestamp(now.0 - 2 * HOUR));
    let (status, out, err) = common::staff(data, &["locker", "back-in-service"], "");
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("back in service after 120 minutes (flooded)"),
        "{out}"
    );
    assert!(out.contains("parcels given that time back: 1"), "{out}");
    let (status, _, err) = common::staff(data, &["locker", "back-in-service"], "");
    assert_eq!(status, 1);
    assert!(err.contains("in service already"), "{err}");

    let mut store = Store::open(data).unwrap();
    let record = store.parcels().get(parcel).unwrap().unwrap();
    let given = record.expires_at.unwrap().0 - (now.0 - 5 * HOUR + 72 * HOUR);
    assert!((2 * HOUR..2 * HOUR + 60_000).contains(&given), "{given}");
    let closed = events_of(&mut store, "locker_out_of_service");
    assert_eq!(closed.len(), 1, "the second closure changed nothing");
    assert_eq!(closed[0].detail["reason"], "flooded");
    assert!(closed[0].actor.starts_with("cli:"));
}
