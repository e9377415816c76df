//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use locker_kiosk::config::Config;
use locker_kiosk::domain::Timestamp;
use locker_kiosk::store::Store;

pub const NOW: Timestamp = Timestamp(1_780_000_000_000);

/// A store in `dir` bound to the demo locker, without demo data.
pub fn demo_store(dir: &Path) -> Store {
    let mut store = Store::open(dir).expect("opening the store");
    store
        .sync_layout(&Config::demo(), NOW)
        .expect("syncing the layout");
    store
}

/// A store in `dir` with the demo locker and its demo data.
pub fn seeded_store(dir: &Path) -> Store {
    let mut store = demo_store(dir);
    locker_kiosk::app::demo::seed(&mut store, &Config::demo(), NOW).expect("seeding");
    store
}

/// A size-S parcel for `recipient` into `compartment`, from no courier,
/// confirmed, with a new random code.
pub fn deposit(
    tracking: &str,
    recipient: i64,
    compartment: u32,
) -> locker_kiosk::store::NewDeposit<'_> {
    locker_kiosk::store::NewDeposit {
        tracking,
        carrier: None,
        recipient,
        announced: None,
        compartment,
        size: locker_kiosk::domain::SizeClass::S,
        courier: None,
        confirmed: true,
        storage_hours: 72,
        pin_length: 6,
        preset_code: None,
    }
}

pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_locker-kiosk"))
}

/// Runs `locker-kiosk ARGS --data-dir DIR` with `stdin`.
pub fn staff(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = binary()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs the Slint event loop until `done` holds; fails after `secs`.
/// For the UI tests, under the testing backend with an event loop.
pub fn pump_until<W: slint::ComponentHandle + 'static>(
    window: &W,
    what: &str,
    secs: u64,
    done: impl Fn(&W) -> bool + 'static,
) {
    use std::time::{Duration, Instant};
    let done = std::rc::Rc::new(done);
    let check = done.clone();
    let weak = window.as_weak();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(5),
        move || {
            if weak.upgrade().is_none_or(|w| check(&w)) || Instant::now() > deadline {
                slint::quit_event_loop().unwrap();
            }
        },
    );
    slint::run_event_loop_until_quit().unwrap();
    assert!(done(window), "timed out waiting for: {what}");
}

/// The kiosk as `main` builds it, headless: the service on `runtime`, the
/// real UI at 1280x800, bound. Call after setting up the testing backend.
pub fn start_kiosk(
    store: Store,
    config: locker_kiosk::config::Config,
    runtime: &tokio::runtime::Runtime,
) -> (locker_kiosk::app::Service, locker_kiosk::ui::AppWindow) {
    use slint::ComponentHandle;
    let service = locker_kiosk::app::Service::start(store, config, runtime.handle());
    let context = locker_kiosk::ui::UiContext {
        service: service.clone(),
        runtime: runtime.handle().clone(),
    };
    let window = locker_kiosk::ui::AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(1280, 800));
    window.show().unwrap();
    locker_kiosk::ui::bind(&window, &context);
    (service, window)
}

/// The demo kiosk on `store`, headless, as staff find it: a pulsed door
/// stays open until closed by hand, a jammed one is known within 0.6 s;
/// `tweak` changes the configuration further. The boards have answered
/// once.
pub fn staff_kiosk(
    store: Store,
    tweak: impl FnOnce(&mut Config),
) -> (
    tokio::runtime::Runtime,
    locker_kiosk::app::Service,
    locker_kiosk::ui::AppWindow,
) {
    use std::time::Duration;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = None;
    config.doors.open_window = Duration::from_millis(600);
    tweak(&mut config);
    let (service, window) = start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    (runtime, service, window)
}

/// Does `change` to the simulated board that drives `board` (by its
/// configured id), with the board's address.
pub fn on_sim_board(
    service: &locker_kiosk::app::Service,
    board: &str,
    change: impl Fn(&mut locker_kiosk::hardware::sim::SimBoards, u8),
) {
    let address = service
        .config()
        .boards
        .iter()
        .find(|b| b.id == board)
        .expect("a configured board")
        .address;
    for sim in service.doors().simulators() {
        let mut sim = sim.lock().unwrap();
        if sim.is_open(address, 1).is_some() {
            change(&mut sim, address);
        }
    }
}

/// Presses the one button, tab or toggle labelled `label` (as a screen
/// reader would).
pub fn press<W: slint::ComponentHandle>(window: &W, label: &str) {
    use i_slint_backend_testing::{AccessibleRole, ElementHandle};
    let buttons: Vec<_> = ElementHandle::find_by_accessible_label(window, label)
        .filter(|e| {
            matches!(
                e.accessible_role(),
                Some(AccessibleRole::Button | AccessibleRole::Tab | AccessibleRole::Checkbox)
            )
        })
        .collect();
    assert_eq!(
        buttons.len(),
        1,
        "expected one button `{label}`, found {}",
        buttons.len()
    );
    buttons[0].invoke_accessible_default_action();
}

/// A QR code as a camera-like 640x480 frame: the code small in a large
/// grey picture, as a phone held up to the kiosk looks.
pub fn save_qr_frame(text: &str, path: &Path) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width() as i64;
    let colors = code.to_colors();
    let scale = 5;
    let image = image::GrayImage::from_fn(640, 480, |x, y| {
        let (col, row) = (
            (x as i64 - 200).div_euclid(scale),
            (y as i64 - 120).div_euclid(scale),
        );
        let inside = (0..modules).contains(&col) && (0..modules).contains(&row);
        if inside && colors[(row * modules + col) as usize] == qrcode::Color::Dark {
            image::Luma([25])
        } else {
            image::Luma([190])
        }
    });
    image.save(path).unwrap();
}

/// The page the kiosk shows.
pub fn page(window: &locker_kiosk::ui::AppWindow) -> locker_kiosk::ui::Page {
    use slint::ComponentHandle;
    window.global::<locker_kiosk::ui::Kiosk>().get_page()
}

/// The seeded demo kiosk, headless, whose simulated person closes each door
/// 1.5 s after it opens; the boards have answered once.
pub fn demo_kiosk_with_closing_doors(
    dir: &Path,
) -> (
    tokio::runtime::Runtime,
    locker_kiosk::app::Service,
    locker_kiosk::ui::AppWindow,
) {
    use std::time::Duration;
    let store = seeded_store(dir);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(1500));
    config.doors.open_window = Duration::from_millis(800);
    let (service, window) = start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    (runtime, service, window)
}

/// Types `pin` on the maintenance PIN keypad and presses Enter.
pub fn type_admin_pin(window: &locker_kiosk::ui::AppWindow, pin: &str) {
    for digit in pin.chars() {
        press(window, &digit.to_string());
    }
    press(window, "Enter");
}

/// The hidden entry (a long press on the locker's name), then `pin`:
/// maintenance is on screen.
pub fn enter_maintenance(window: &locker_kiosk::ui::AppWindow, pin: &str) {
    use slint::ComponentHandle;
    window
        .global::<locker_kiosk::ui::Maintenance>()
        .invoke_requested();
    assert_eq!(page(window), locker_kiosk::ui::Page::MaintenancePin);
    type_admin_pin(window, pin);
    pump_until(window, "maintenance", 5, |w| {
        page(w) == locker_kiosk::ui::Page::Maintenance
    });
}

/// Waits until `f` (run on the store's thread) holds, for records that
/// are written just after the screen changed; fails after 5 s.
pub fn until_in_store(
    runtime: &tokio::runtime::Runtime,
    service: &locker_kiosk::app::Service,
    what: &str,
    f: impl Fn(&mut Store) -> bool + Send + Sync + Clone + 'static,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !in_store(runtime, service, f.clone()) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `f` on the store's thread and waits for its answer.
pub fn in_store<R: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    service: &locker_kiosk::app::Service,
    f: impl FnOnce(&mut Store) -> R + Send + 'static,
) -> R {
    runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
}
