//! Scanners and the camera, headless through the real UI, service, store
//! and simulated boards: a serial scanner on a real pseudo-terminal, a
//! keyboard-wedge scanner typing into the window (told apart from a person
//! typing), and a configured camera that is not there.

use crate::common;

use std::io::Write;
use std::time::Duration;

use crate::common::{page, pump_until};
use locker_kiosk::config::{CameraDevice, Config, ScannerConfig};
use locker_kiosk::ui::{AppWindow, CameraState, DoorProgress, Kiosk, Page, PickupNotice};
use serialport::SerialPort as _;
use slint::platform::WindowEvent;
use slint::{ComponentHandle, Model};

fn open_doors(window: &AppWindow) -> Vec<i32> {
    window
        .global::<Kiosk>()
        .get_pickup_doors()
        .iter()
        .filter(|d| d.progress == DoorProgress::Open)
        .map(|d| d.compartment)
        .collect()
}

/// Types `text` then Enter on the physical keyboard, `gap` between keys.
fn type_keys(window: &AppWindow, text: &str, gap: Duration) {
    for c in text.chars().chain(['\n']) {
        window.window().dispatch_event(WindowEvent::KeyPressed {
            text: c.to_string().into(),
        });
        window.window().dispatch_event(WindowEvent::KeyReleased {
            text: c.to_string().into(),
        });
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
}

#[test]
fn scans_from_a_serial_scanner_and_a_keyboard_wedge_open_doors() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The pair's slave end is kept open (so that the master never sees a
    // hang-up) but unlocked: the kiosk takes its own exclusive lock.
    let (mut scanner_end, kiosk_end) = serialport::TTYPort::pair().unwrap();
    let port = kiosk_end.name().unwrap();

    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(1500));
    config.doors.open_window = Duration::from_millis(800);
    config.scanners = vec![
        ScannerConfig::Serial {
            port: port.into(),
            baud: 9600,
        },
        ScannerConfig::KeyboardWedge,
    ];
    // A camera is configured but not plugged in.
    config.camera.device = CameraDevice::Device("/dev/video97".into());
    let (service, window) = common::start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));

    // The missing camera is said in plain words; typed codes still work.
    pump_until(&window, "camera offline", 5, |w| {
        w.global::<Kiosk>().get_camera() == CameraState::Offline
    });
    assert!(
        window
            .global::<Kiosk>()
            .get_status_text()
            .contains("The camera is not working: please type your code."),
        "{}",
        window.global::<Kiosk>().get_status_text()
    );

    let watcher = service.clone();
    pump_until(&window, "scanner port open", 5, move |_| {
        watcher.serial_scanners()[0].is_online()
    });

    // Another locker's pickup QR, then a parcel label: each is answered in
    // plain words on the code screen, and nothing opens.
    scanner_end
        .write_all(b"LK1:elsewhere:DEMOALICEAAAAAAAAAAAAAAAAA\r\n")
        .unwrap();
    pump_until(&window, "told it is another locker's code", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::OtherLocker
    });
    assert_eq!(page(&window), Page::PickupCode);
    scanner_end.write_all(b"1Z999AA10123456784\n").unwrap();
    pump_until(&window, "told it is not a pickup code", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::NotAPickupCode
    });
    assert!(open_doors(&window).is_empty());
    common::press(&window, "Back");

    // A serial scanner reads Bob's QR: his doors open, no touch needed.
    scanner_end
        .write_all(b"\xff\xfe garbage\r\nLK1:demo-1:DEMOBOBBBBBBBBBBBBBBBBBBBB\r\n")
        .unwrap();
    pump_until(&window, "Bob's doors open", 10, |w| {
        open_doors(w) == vec![10, 16]
    });
    pump_until(&window, "thank you", 10, |w| page(w) == Page::PickupDone);
    common::press(&window, "Back to the start");

    // Someone typing Alice's PIN on a keyboard at human speed: no scan.
    type_keys(&window, "583920", Duration::from_millis(90));
    let typed = std::time::Instant::now();
    pump_until(&window, "half a second", 2, move |_| {
        typed.elapsed() > Duration::from_millis(500)
    });
    assert_eq!(page(&window), Page::Home);

    // A keyboard-wedge scanner's burst with Alice's QR: her door opens.
    type_keys(
        &window,
        "LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA",
        Duration::ZERO,
    );
    pump_until(&window, "Alice's door open", 10, |w| {
        open_doors(w) == vec![2]
    });
}

/// The pickup code screen of a demo kiosk without a camera and with
/// `scanners`: whether it says `text`, and whether a scanner is ready.
fn pickup_prompt_says(scanners: Vec<ScannerConfig>, text: &str) -> (bool, bool) {
    use i_slint_backend_testing::ElementHandle;
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.camera.device = CameraDevice::None;
    config.scanners = scanners;
    let (_service, window) =
        common::start_kiosk(common::seeded_store(dir.path()), config, &runtime);
    common::press(&window, "Pick up a parcel");
    let said = ElementHandle::find_by_accessible_label(&window, text)
        .next()
        .is_some();
    (said, window.global::<Kiosk>().get_scanner_ready())
}

#[test]
fn without_camera_or_scanner_only_typing_is_offered() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    assert_eq!(
        pickup_prompt_says(Vec::new(), "Type the code from your message."),
        (true, false)
    );
}

#[test]
fn with_a_keyboard_scanner_the_scanner_is_offered_not_the_camera() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    assert_eq!(
        pickup_prompt_says(
            vec![ScannerConfig::KeyboardWedge],
            "Hold your QR code to the scanner, or type the code from your message."
        ),
        (true, true)
    );
}
