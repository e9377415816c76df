//! Holding a pickup QR up to the camera, with nothing touched: the frames
//! come from a replay folder (there is no camera here), everything else is
//! real: decoder thread, pickup task, store, simulated boards, Slint UI.

use crate::common;

use std::time::Duration;

use crate::common::{pump_until, save_qr_frame};
use locker_kiosk::config::{CameraDevice, Config};
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::ui::{CameraState, DoorProgress, Kiosk, Page};
use slint::{ComponentHandle, Model};

#[test]
fn a_qr_held_up_to_the_camera_opens_the_door_without_a_touch() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    // A QR for another locker first, then Alice's.
    save_qr_frame(
        "LK1:elsewhere:DEMOALICEAAAAAAAAAAAAAAAAA",
        &frames.join("1.png"),
    );
    save_qr_frame(
        "LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA",
        &frames.join("2.png"),
    );

    let store = common::seeded_store(&dir.path().join("data"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.camera.device = CameraDevice::Replay(frames);
    config.doors.simulated_close_after = Some(Duration::from_millis(1500));
    let (service, window) = common::start_kiosk(store, config, &runtime);

    pump_until(&window, "compartment 2 open", 10, |w| {
        w.global::<Kiosk>()
            .get_pickup_doors()
            .iter()
            .any(|d| d.compartment == 2 && d.progress == DoorProgress::Open)
    });
    assert_eq!(window.global::<Kiosk>().get_page(), Page::PickupDoors);
    pump_until(&window, "thank you", 8, |w| {
        w.global::<Kiosk>().get_page() == Page::PickupDone
    });
    let lookup = runtime
        .block_on(service.call(|s| s.parcels().look_up_code(&CodeInput::Pin("583920".into()))))
        .unwrap();
    assert_eq!(lookup, CodeLookup::AlreadyUsed);
    // The code stays in view: it is not scanned again (no "already used").
    pump_until(&window, "back home", 10, |w| {
        w.global::<Kiosk>().get_page() == Page::Home
    });
    // At home the camera's view is shown, small, for aiming.
    pump_until(&window, "camera preview", 3, |w| {
        w.global::<Kiosk>().get_camera_preview().size().width == 160
    });
    assert_eq!(window.global::<Kiosk>().get_camera(), CameraState::Online);

    // In maintenance the view is shown again on the hardware tab (for a
    // test scan), and nowhere else.
    common::enter_maintenance(&window, locker_kiosk::app::admin::DEMO_ADMIN_PIN);
    window
        .global::<Kiosk>()
        .set_camera_preview(slint::Image::default());
    let shown = |w: &locker_kiosk::ui::AppWindow| {
        w.global::<Kiosk>().get_camera_preview().size().width == 160
    };
    let timer_ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let ran = timer_ran.clone();
    let wait = slint::Timer::default();
    wait.start(
        slint::TimerMode::SingleShot,
        Duration::from_millis(600),
        move || ran.set(true),
    );
    pump_until(&window, "600 ms on the doors tab", 3, move |_| {
        timer_ran.get()
    });
    assert!(!shown(&window), "no camera view on the doors tab");
    common::press(&window, "Hardware");
    pump_until(&window, "the camera's view on the hardware tab", 3, shown);
}
