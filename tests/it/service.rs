//! The application service with the demo's simulated boards: what the
//! doors do ends up in the store's event log.

use crate::common;

use std::time::{Duration, Instant};

use locker_kiosk::app::Service;
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::OpenOutcome;

#[test]
fn door_outcomes_and_alarms_are_written_to_the_event_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, Config::demo(), runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));

    let outcome = service.doors().open(7).unwrap().blocking_recv().unwrap();
    assert_eq!(outcome, OpenOutcome::Opened);
    // Someone forces compartment 13 (board B, channel 1).
    let (board, channel) = service.doors().place_of(13).unwrap();
    assert_eq!((board.as_str(), channel), ("B", 1));
    service.doors().simulators()[1]
        .lock()
        .unwrap()
        .force_open(0, 1);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = runtime
            .block_on(service.call(|store| store.events().recent(None, 200)))
            .unwrap();
        let has = |kind: &str, compartment: u32| {
            events
                .iter()
                .any(|e| e.kind == kind && e.compartment == Some(compartment))
        };
        let outcome_recorded = events.iter().any(|e| {
            e.kind == "door_open_outcome"
                && e.compartment == Some(7)
                && e.detail["outcome"] == "opened"
        });
        if outcome_recorded && has("door_opened", 7) && has("uncommanded_open", 13) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events missing: {:?}",
            events.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_kiosk_starts_in_the_default_language_staff_chose_if_it_offers_it() {
    // "fr" was saved once, but the kiosk no longer ships it.
    for (saved, starts_in) in [("es", "es"), ("fr", "en")] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = common::seeded_store(dir.path());
        store
            .staff()
            .set_default_language(saved, "staff:maintenance", common::NOW)
            .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let service = Service::start(store, Config::demo(), runtime.handle());
        assert_eq!(
            service.config().languages.default,
            starts_in,
            "saved {saved}"
        );
    }
}
