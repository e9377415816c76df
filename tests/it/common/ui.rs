//! The Slint window under the testing backend: its set-up, waiting for
//! what it shows, and touching it as a screen reader would.

use std::path::Path;

/// Where a UI test's body runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Backend {
    /// Slint's testing backend is set up in this process: run the body.
    Here,
    /// The test ran alone in a child process, which passed: nothing left
    /// to do here.
    PassedInChild,
}

/// Set by the parent for the child that runs one UI test alone.
const CHILD: &str = "LOCKER_KIOSK_UI_TEST_CHILD";

/// Sets up Slint's testing backend for a UI test. The backend can be set
/// up once per process (its event-loop proxy is process-wide): nextest
/// gives every test a process of its own; under plain `cargo test` the
/// test runs itself again, alone, in a child process instead, and fails
/// here with the child's output if the child did not pass.
pub fn init_testing_backend() -> Backend {
    let own_process = std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test")
        || std::env::var_os(CHILD).is_some();
    if own_process {
        i_slint_backend_testing::init_integration_test_with_system_time();
        return Backend::Here;
    }
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let name = thread
        .name()
        .expect("a test thread is named after its test");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("running the UI test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Backend::PassedInChild
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
    // The timer asks the loop to quit once: a second request would be
    // left over and end the next wait before it began.
    let asked = std::rc::Rc::new(std::cell::Cell::new(false));
    let ask = asked.clone();
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(5),
        move || {
            if ask.get() {
                return;
            }
            if weak.upgrade().is_none_or(|w| check(&w)) || Instant::now() > deadline {
                ask.set(true);
                slint::quit_event_loop().unwrap();
            }
        },
    );
    // A request to quit left over from elsewhere ends the loop early: run
    // it again until this wait's own request ends it.
    while !asked.get() {
        slint::run_event_loop_until_quit().unwrap();
    }
    drop(timer);
    assert!(done(window), "timed out waiting for: {what}");
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

/// The page the kiosk shows.
pub fn page(window: &locker_kiosk::ui::AppWindow) -> locker_kiosk::ui::Page {
    use slint::ComponentHandle;
    window.global::<locker_kiosk::ui::Kiosk>().get_page()
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
