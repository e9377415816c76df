//! The rest of maintenance, headless through the real UI, service, store
//! and simulated boards: reports (the tab's badge, marking one handled),
//! the hardware page (a board going quiet, a test scan that starts no
//! pickup, the outbox), the audit log (filters, paging back), a new admin
//! PIN (refused when weak, short or typed differently; then the old one
//! stops working), a staff member's own PIN (named in the log, changed
//! only to a PIN nobody else has), and the default language.

use crate::common;

use crate::common::{
    enter_maintenance, in_store, on_sim_board, page, press, pump_until, type_admin_pin,
    until_in_store,
};
use locker_kiosk::app::admin::{self, DEMO_ADMIN_PIN};
use locker_kiosk::domain::maintenance::PinHolder;
use locker_kiosk::domain::pickup::ProblemKind;
use locker_kiosk::scanning::ScanSource;
use locker_kiosk::store::{Event, NewEvent};
use locker_kiosk::ui::{
    AppWindow, Kiosk, LogFilterKind, LogIntegrity, Maintenance, MaintenanceHardware,
    MaintenanceLog, MaintenanceNotice, MaintenanceReports, MaintenanceSettings, Page, PinProblem,
    PinStep, ScanMeaning, ScanReader,
};
use slint::{ComponentHandle, Model};

fn pin_step(window: &AppWindow) -> PinStep {
    window.global::<MaintenanceSettings>().get_pin_step()
}

fn new_pin(window: &AppWindow, pin: &str) {
    for digit in pin.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Enter");
}

fn log_kinds(window: &AppWindow) -> Vec<String> {
    window
        .global::<MaintenanceLog>()
        .get_lines()
        .iter()
        .map(|l| l.kind.to_string())
        .collect()
}

#[test]
fn staff_handle_reports_check_the_hardware_read_the_log_and_set_the_locker_up() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::seeded_store(dir.path());
    let now = locker_kiosk::app::system::now();
    let damaged = store
        .reports()
        .add(ProblemKind::Damaged, Some(16), None, "recipient", now)
        .unwrap();
    store
        .reports()
        .add(ProblemKind::Dirty, Some(9), None, "courier:2", now)
        .unwrap();
    // Enough history for the log to have a second page.
    for _ in 0..60 {
        let closed = Event::DoorClosed {
            board: "A".into(),
            channel: 3,
        };
        let event = NewEvent::new(closed, "kiosk").compartment(3);
        store.events().record(now, &event).unwrap();
    }
    let (runtime, service, window) = common::staff_kiosk(store, |_| {});
    enter_maintenance(&window, DEMO_ADMIN_PIN);

    // Reports: the badge counts the open ones; one is marked handled.
    pump_until(&window, "the badge", 5, |w| {
        w.global::<MaintenanceReports>().get_open_count() == 2
    });
    press(&window, "Reports");
    pump_until(&window, "the reports", 5, |w| {
        w.global::<MaintenanceReports>().get_reports().row_count() == 2
    });
    let first = window
        .global::<MaintenanceReports>()
        .get_reports()
        .row_data(1)
        .unwrap();
    assert_eq!((first.kind.as_str(), first.compartment), ("damaged", 16));
    press(&window, &format!("Mark report {damaged} handled"));
    pump_until(&window, "one left", 5, |w| {
        let reports = w.global::<MaintenanceReports>();
        reports.get_open_count() == 1 && reports.get_reports().row_count() == 1
    });
    let courier = window
        .global::<MaintenanceReports>()
        .get_reports()
        .row_data(0)
        .unwrap();
    assert_eq!(courier.reporter_name, "Sam Swift (Swift Express)");
    press(&window, "Show handled ones");
    pump_until(&window, "the handled one too", 5, |w| {
        let reports = w.global::<MaintenanceReports>().get_reports();
        reports.row_count() == 2 && reports.row_data(1).is_some_and(|r| r.handled)
    });
    let handled_by = in_store(&runtime, &service, move |s| {
        let rows = s.reports().rows(true, 10).unwrap();
        rows.iter()
            .find(|r| r.id == damaged)
            .unwrap()
            .handled
            .clone()
            .unwrap()
            .1
    });
    assert_eq!(handled_by, "staff:maintenance");

    // Hardware: both boards answer; board B goes quiet and the page says so.
    press(&window, "Hardware");
    pump_until(&window, "the boards", 5, |w| {
        let boards = w.global::<MaintenanceHardware>().get_boards();
        boards.row_count() == 2 && boards.iter().all(|b| b.online && b.transactions > 0)
    });
    assert!(window.global::<MaintenanceHardware>().get_outbox_pending() > 0);
    on_sim_board(&service, "B", |sim, address| sim.set_offline(address, true));
    pump_until(&window, "board B quiet", 10, |w| {
        let b = w
            .global::<MaintenanceHardware>()
            .get_boards()
            .row_data(1)
            .unwrap();
        b.id == "B" && b.offline && !b.online && b.timeouts > 0
    });
    on_sim_board(&service, "B", |sim, address| {
        sim.set_offline(address, false)
    });
    pump_until(&window, "board B back", 10, |w| {
        w.global::<MaintenanceHardware>()
            .get_boards()
            .row_data(1)
            .unwrap()
            .online
    });

    // A test scan: a pickup QR shown now is read and explained, and starts
    // no pickup (the screen is staff's).
    service.scanned(
        "LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA".into(),
        ScanSource::Keyboard,
    );
    pump_until(&window, "the test scan", 5, |w| {
        w.global::<MaintenanceHardware>().get_last_scan_meaning() == ScanMeaning::PickupHere
    });
    let hardware = window.global::<MaintenanceHardware>();
    assert_eq!(
        hardware.get_last_scan(),
        "LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"
    );
    assert_eq!(hardware.get_last_scan_reader(), ScanReader::KeyboardScanner);
    service.scanned("1Z999AA10123456784".into(), ScanSource::Serial);
    pump_until(&window, "a tracking number", 5, |w| {
        w.global::<MaintenanceHardware>().get_last_scan_meaning() == ScanMeaning::Tracking
    });
    assert_eq!(page(&window), Page::Maintenance);

    // The log: newest first, a page at a time, filtered.
    press(&window, "Log");
    pump_until(&window, "the log", 5, |w| {
        w.global::<MaintenanceLog>().get_lines().row_count() == 50
    });
    let log = window.global::<MaintenanceLog>();
    assert!(log.get_more());
    assert!(!log.get_paged());
    let newest = log.get_lines().row_data(0).unwrap();
    press(&window, "Older");
    pump_until(&window, "an older page", 5, move |w| {
        let log = w.global::<MaintenanceLog>();
        log.get_paged() && log.get_lines().row_data(0).is_some_and(|l| l != newest)
    });
    press(&window, "Newest");
    pump_until(&window, "the newest page", 5, |w| {
        !w.global::<MaintenanceLog>().get_paged()
    });
    press(&window, "Staff");
    pump_until(&window, "staff only", 5, |w| {
        let log = w.global::<MaintenanceLog>();
        log.get_filter() == LogFilterKind::Staff
            && log.get_lines().row_count() > 0
            && log
                .get_lines()
                .iter()
                .all(|l| l.actor == "staff:maintenance")
    });
    assert!(log_kinds(&window).contains(&"report_handled".to_string()));
    assert!(log_kinds(&window).contains(&"maintenance_entered".to_string()));
    press(&window, "Alarms");
    pump_until(&window, "alarms", 5, |w| {
        let kinds = log_kinds(w);
        kinds.contains(&"board_offline".to_string())
            && kinds.contains(&"report_raised".to_string())
            && !kinds.contains(&"door_closed".to_string())
    });
    assert_eq!(
        window.global::<MaintenanceLog>().get_integrity(),
        LogIntegrity::Intact
    );
    // Someone with the database file rewrites who did something: the tab
    // says where the chain breaks.
    let altered = runtime
        .block_on(service.call(|store| {
            store
                .connection()
                .execute_batch(
                    "DROP TRIGGER events_no_update;
                     UPDATE events SET actor = 'staff:nobody' WHERE id = 3;",
                )
                .map_err(|e| locker_kiosk::store::StoreError::Rule(e.to_string()))
        }))
        .is_ok();
    assert!(altered);
    press(&window, "Settings");
    press(&window, "Log");
    pump_until(&window, "the broken chain said", 5, |w| {
        let log = w.global::<MaintenanceLog>();
        log.get_integrity() == LogIntegrity::Altered && log.get_integrity_entry() == 3
    });

    // A new admin PIN: too easy, too short and mistyped are refused.
    press(&window, "Settings");
    press(&window, "Change the admin PIN");
    assert_eq!(pin_step(&window), PinStep::NewPin);
    new_pin(&window, "123456");
    assert_eq!(pin_step(&window), PinStep::Invalid);
    assert_eq!(
        window.global::<MaintenanceSettings>().get_pin_problem(),
        PinProblem::Weak
    );
    press(&window, "Change the admin PIN");
    new_pin(&window, "4718");
    assert_eq!(
        window.global::<MaintenanceSettings>().get_pin_problem(),
        PinProblem::Length
    );
    press(&window, "Change the admin PIN");
    new_pin(&window, "471809");
    assert_eq!(pin_step(&window), PinStep::Again);
    new_pin(&window, "471800");
    assert_eq!(pin_step(&window), PinStep::Mismatch);
    press(&window, "Change the admin PIN");
    new_pin(&window, "471809");
    new_pin(&window, "471809");
    pump_until(&window, "the PIN saved", 10, |w| {
        pin_step(w) == PinStep::Done
    });

    // The default language: the kiosk returns to it after each person.
    press(&window, "Deutsch");
    pump_until(&window, "German by default", 5, |w| {
        w.global::<Kiosk>().get_default_language() == "de"
    });
    press(&window, "Leave maintenance");
    assert_eq!(window.global::<Kiosk>().get_language(), "de");
    let (language, pin_set) = in_store(&runtime, &service, |s| {
        let pin = &s.events().recent(Some("admin_pin_set"), 1).unwrap()[0];
        (s.staff().default_language().unwrap(), pin.actor.clone())
    });
    assert_eq!(language.as_deref(), Some("de"));
    assert_eq!(pin_set, "staff:maintenance");

    // The demo PIN no longer opens maintenance; the new one does (asked
    // for in English, chosen at home).
    press(&window, "English");
    window.global::<Maintenance>().invoke_requested();
    type_admin_pin(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "the old PIN refused", 10, |w| {
        w.global::<Maintenance>().get_notice() == MaintenanceNotice::WrongPin
    });
    type_admin_pin(&window, "471809");
    pump_until(&window, "the new PIN", 10, |w| page(w) == Page::Maintenance);
    assert_eq!(window.global::<Maintenance>().get_signed_in(), "");
    press(&window, "Leave maintenance");

    // A staff member's own PIN: maintenance knows who came in, what they
    // do is recorded as theirs, and "Change my PIN" changes only theirs
    // (never to someone else's PIN).
    in_store(&runtime, &service, move |s| {
        let sam = PinHolder::Staff("Sam Lee".into());
        admin::set_pin(&mut s.staff(), &sam, "5820417", "cli:installer", now).unwrap()
    });
    press(&window, "English");
    enter_maintenance(&window, "5820417");
    assert_eq!(window.global::<Maintenance>().get_signed_in(), "Sam Lee");
    press(&window, "Settings");
    press(&window, "Change my PIN");
    new_pin(&window, "471809");
    new_pin(&window, "471809");
    pump_until(&window, "the shared PIN refused", 10, |w| {
        pin_step(w) == PinStep::Invalid
    });
    assert_eq!(
        window.global::<MaintenanceSettings>().get_pin_problem(),
        PinProblem::Taken
    );
    press(&window, "Change my PIN");
    new_pin(&window, "6931528");
    new_pin(&window, "6931528");
    pump_until(&window, "Sam's PIN saved", 10, |w| {
        pin_step(w) == PinStep::Done
    });
    press(&window, "Leave maintenance");
    // Leaving is recorded off the UI thread.
    until_in_store(&runtime, &service, "Sam's leaving logged", |s| {
        s.events().recent(Some("maintenance_left"), 1).unwrap()[0].actor == "staff:Sam Lee"
    });
    let (sam_did, opens) = in_store(&runtime, &service, |s| {
        let kinds = ["maintenance_entered", "staff_pin_set", "maintenance_left"];
        let actors: Vec<String> = kinds
            .iter()
            .map(|k| s.events().recent(Some(k), 1).unwrap()[0].actor.clone())
            .collect();
        let config = locker_kiosk::config::Config::demo();
        let opens: Vec<Option<PinHolder>> = ["5820417", "6931528", "471809"]
            .iter()
            .map(|pin| admin::check_pin(&s.staff(), &config, pin).unwrap())
            .collect();
        (actors, opens)
    });
    assert_eq!(sam_did, ["staff:Sam Lee"; 3]);
    assert_eq!(
        opens,
        [
            None,
            Some(PinHolder::Staff("Sam Lee".into())),
            Some(PinHolder::Site)
        ]
    );
}
