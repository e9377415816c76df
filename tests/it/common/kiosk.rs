//! The kiosk as `main` builds it, headless: service, store, simulated
//! boards and the bound UI.

use std::path::Path;

use locker_kiosk::config::Config;
use locker_kiosk::store::Store;

use super::seeded_store;

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

/// Runs `f` on the store's thread and waits for its answer.
pub fn in_store<R: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    service: &locker_kiosk::app::Service,
    f: impl FnOnce(&mut Store) -> R + Send + 'static,
) -> R {
    runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
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

/// Views as the kiosk publishes them, waited on.
pub struct Screen(pub std::sync::mpsc::Receiver<locker_kiosk::app::kiosk::KioskView>);

impl Screen {
    pub fn until(
        &self,
        what: &str,
        done: impl Fn(&locker_kiosk::app::kiosk::KioskView) -> bool,
    ) -> locker_kiosk::app::kiosk::KioskView {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut last = None;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.0.recv_timeout(left) {
                Ok(view) if done(&view) => return view,
                Ok(view) => last = Some((view.page, view.records_problem, view.pickup)),
                Err(_) => panic!("timed out waiting for: {what}; last seen: {last:?}"),
            }
        }
    }
}

/// The kiosk of `service`, headless, and the views it publishes.
pub fn headless(
    service: &locker_kiosk::app::Service,
    runtime: &tokio::runtime::Handle,
) -> (locker_kiosk::app::kiosk::Headless, Screen) {
    let (views, received) = std::sync::mpsc::channel();
    let kiosk = locker_kiosk::app::kiosk::Headless::spawn(service, runtime, move |view| {
        let _ = views.send(view.clone());
    });
    (kiosk, Screen(received))
}

/// Types `text` on the keypad on show, then Enter.
pub fn keys(kiosk: &locker_kiosk::app::kiosk::Headless, text: &str) {
    for key in text.chars() {
        kiosk.send(locker_kiosk::app::kiosk::Input::Key(key.to_string()));
    }
    kiosk.send(locker_kiosk::app::kiosk::Input::Enter);
}

/// Dana logs in, scans Deniz's announced parcel and chooses M: its door
/// is opening.
pub fn courier_to_the_door(kiosk: &locker_kiosk::app::kiosk::Headless, screen: &Screen) {
    kiosk.send(locker_kiosk::app::kiosk::Input::DeliverChosen);
    keys(kiosk, "4711");
    screen.until("logged in", |v| {
        v.page == locker_kiosk::app::kiosk::Page::CourierScan
    });
    keys(kiosk, "9400111899223197428497");
    screen.until("size screen", |v| {
        v.page == locker_kiosk::app::kiosk::Page::CourierSize
    });
    kiosk.send(locker_kiosk::app::kiosk::Input::SizeChosen(
        locker_kiosk::domain::SizeClass::M,
    ));
}
