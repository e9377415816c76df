//! The demo data does what README.md says it does.

use crate::common;

use locker_kiosk::app::demo::{ANNOUNCED, COURIERS, PARCELS};
use locker_kiosk::domain::dropoff::ParcelMatch;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};

#[test]
fn demo_codes_open_what_the_readme_promises() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::seeded_store(dir.path());
    let mut lookup = |pin: &str| {
        store
            .parcels()
            .look_up_code(&CodeInput::Pin(pin.into()))
            .unwrap()
    };
    let compartments = |lookup: CodeLookup| match lookup {
        CodeLookup::Valid(parcels) => parcels.iter().map(|p| p.compartment).collect::<Vec<_>>(),
        other => panic!("expected a valid code, got {other:?}"),
    };
    assert_eq!(compartments(lookup("583920")), vec![2]);
    assert_eq!(compartments(lookup("246813")), vec![10, 16]);
    assert_eq!(lookup("907531"), CodeLookup::Expired);
    let qr = store
        .parcels()
        .look_up_code(&CodeInput::QrToken(PARCELS[0].qr_token.into()))
        .unwrap();
    assert_eq!(compartments(qr), vec![2]);
    for courier in &COURIERS {
        assert!(
            store
                .couriers()
                .by_credential(courier.login_code)
                .unwrap()
                .is_some()
        );
    }
    assert!(matches!(
        store.parcels().match_tracking(ANNOUNCED[0].1).unwrap(),
        ParcelMatch::Announced { .. }
    ));
}

#[test]
fn the_readme_lists_every_demo_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for parcel in &PARCELS {
        assert!(
            readme.contains(parcel.pin),
            "README lacks PIN {}",
            parcel.pin
        );
        assert!(
            readme.contains(parcel.qr_token),
            "README lacks QR token {}",
            parcel.qr_token
        );
    }
    for courier in &COURIERS {
        assert!(
            readme.contains(courier.login_code),
            "README lacks courier code {}",
            courier.login_code
        );
    }
    for (_, tracking, _) in ANNOUNCED {
        assert!(readme.contains(tracking), "README lacks {tracking}");
    }
}

#[test]
fn the_demo_tracking_numbers_are_recognised() {
    for parcel in PARCELS.iter().filter(|p| !p.tracking.starts_with("JD")) {
        assert_ne!(
            locker_kiosk::scanning::recognise(parcel.tracking).kind(),
            "unknown",
            "{}",
            parcel.tracking
        );
    }
}
