//! The adapters between the Slint UI (`ui/`, the `locker-kiosk-ui` crate) and the
//! kiosk driver (`app::kiosk`). `main` and the UI tests both go through
//! [`bind`], so the tests drive exactly what the kiosk runs.
//!
//! Touches become the driver's inputs; its view becomes `api.slint`'s
//! properties ([`show`]). What shows, and which page, is the driver's
//! decision alone. Rule: nothing here blocks; the maintenance tabs send
//! their work to the service and answers come back through
//! `upgrade_in_event_loop` on a weak handle.

pub use locker_kiosk_ui::*;

mod courier;
mod host;
mod maintenance;
pub mod screenshot;

pub use courier::qr_image;

use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use crate::app::CameraStatus;
use crate::app::kiosk::ProblemKind;
use crate::app::kiosk::{
    self, CodeNotice, DoorView, Input, KioskView, PickupNotice as Said, PickupView,
};
use crate::app::{Overview, Service};

/// Everything the UI needs from the outside world.
pub struct UiContext {
    pub service: Service,
    /// Where the service's async work runs.
    pub runtime: tokio::runtime::Handle,
}

/// Stops the kiosk on its event loop: the visit on screen ends with its
/// records and notifications written (waiting at most 5 s for the store),
/// then the event loop quits. Call from any thread.
pub fn stop_gracefully(runtime: tokio::runtime::Handle) {
    let _ = slint::invoke_from_event_loop(move || {
        host::stop(&runtime, std::time::Duration::from_secs(5), || {
            let _ = slint::quit_event_loop();
        });
    });
}

/// Calls `drawn` once, on the event loop, right after the window's first
/// frame has been drawn (systemd's READY, the measured first frame).
pub fn on_first_frame(window: &AppWindow, drawn: impl FnOnce() + 'static) {
    let drawn = std::cell::Cell::new(Some(drawn));
    window.global::<Kiosk>().on_drawing(move || {
        if let Some(drawn) = drawn.take() {
            // Asked while the frame is being drawn: the loop's next turn
            // comes after it.
            slint::Timer::single_shot(std::time::Duration::ZERO, drawn);
        }
        slint::Color::from_argb_u8(0, 0, 0, 0)
    });
}

/// Wires a window to the kiosk: sets the static properties, installs the
/// callbacks, and starts the driver, which fills in the rest.
pub fn bind(window: &AppWindow, context: &UiContext) {
    let kiosk = window.global::<Kiosk>();
    kiosk.set_locker_name(context.service.config().locker.name.clone().into());
    let support = context.service.config().locker.support.clone();
    kiosk.set_support(support.unwrap_or_default().into());
    let languages = &context.service.config().languages;
    let available: Vec<slint::SharedString> =
        languages.available.iter().map(|l| l.into()).collect();
    kiosk.set_languages(ModelRc::new(VecModel::from(available)));
    kiosk.set_default_language(languages.default.clone().into());
    set_language(window, &languages.default);
    kiosk.on_language_chosen(|language| host::input(Input::LanguageChosen(language.into())));
    bind_pickup(window, context);
    bind_speech(window, context);
    courier::bind_courier(window);
    bind_scanners(window, context);
    maintenance::bind_maintenance(window, context);
    // Every callback is bound and every adapter listens: the kiosk starts.
    host::start(window, context);
}

/// Spoken guidance: the words come translated from the screens
/// (`ui/guidance.slint`); a speaker thread says them. It is offered only
/// where eSpeak NG loads and the volume is not 0 (checked off the UI
/// thread: loading the library takes a moment).
fn bind_speech(window: &AppWindow, context: &UiContext) {
    let settings = context.service.config().speech.clone();
    let kiosk = window.global::<Kiosk>();
    kiosk.set_speech_available(false);
    if settings.volume == 0 {
        return;
    }
    let speaker = crate::app::speech::Speaker::start(settings.volume, settings.player);
    let weak = window.as_weak();
    kiosk.on_say(move |text| {
        if let Some(window) = weak.upgrade() {
            let language = window.global::<Kiosk>().get_language();
            speaker.say(&text, &language);
        }
    });
    let weak = window.as_weak();
    std::thread::spawn(move || match crate::app::speech::available() {
        Ok(()) => {
            let _ = weak.upgrade_in_event_loop(|window| {
                window.global::<Kiosk>().set_speech_available(true);
            });
        }
        Err(e) => tracing::warn!(error = %e, "spoken guidance is not offered"),
    });
}

/// Shows the kiosk driver's view: the page, what was typed, the person's
/// language, the status strip, and each flow's screens. `before` is the
/// view shown until now (none at start).
fn show(window: &AppWindow, view: &KioskView, before: Option<&KioskView>) {
    let kiosk = window.global::<Kiosk>();
    if kiosk.get_language() != view.language.as_str() {
        set_language(window, &view.language);
    }
    let theme = window.global::<Theme>();
    theme.set_large_text(view.display.large_text);
    theme.set_high_contrast(view.display.high_contrast);
    kiosk.set_prefer_low(view.display.prefer_low);
    kiosk.set_speech(view.display.speech);
    if let Some(returning) = &view.returning {
        show_return(window, returning);
    }
    if let Some(overview) = &view.overview {
        show_overview(window, overview);
    }
    kiosk.set_records_problem(view.records_problem);
    kiosk.set_idle_seconds_left(
        view.idle_warning
            .map_or(0, |s| s.min(i32::MAX as u64) as i32),
    );
    let typed_here = |page| {
        if view.page == page {
            view.typed.clone()
        } else {
            String::new()
        }
    };
    kiosk.set_code_typed(typed_here(kiosk::Page::PickupCode).into());
    show_pickup(window, &view.pickup);
    let courier_typed = matches!(
        view.page,
        kiosk::Page::CourierLogin | kiosk::Page::CourierScan | kiosk::Page::CourierRecipient
    );
    courier::show_dropoff(
        window,
        &view.courier,
        if courier_typed { &view.typed } else { "" },
    );
    maintenance::show_staff(window, view, before.map(|b| b.page));
    let to_close: Vec<i32> = view.courier.to_close.iter().map(|c| *c as i32).collect();
    highlight_doors(window, &person_doors(view), &to_close);
    kiosk.set_page(page_of(view.page));
}

/// The doors of the person at the screen, for the drawing of the locker.
fn person_doors(view: &KioskView) -> Vec<i32> {
    use kiosk::Page as P;
    match view.page {
        P::PickupCode | P::PickupDoors | P::PickupDone => {
            view.pickup.doors.iter().map(|(c, _)| *c as i32).collect()
        }
        P::CourierLogin
        | P::CourierScan
        | P::CourierRecipient
        | P::CourierSize
        | P::CourierDoor
        | P::CourierRetrieve
        | P::CourierDone => view.courier.door.iter().map(|(c, _)| *c as i32).collect(),
        _ => Vec::new(),
    }
}

/// The code made for someone else: its digits and its QR, drawn only
/// when it changes; nothing once it is no longer shown.
fn show_delegate_code(kiosk: &Kiosk<'_>, code: Option<&(String, String)>) {
    let pin = code.map_or(String::new(), |(pin, _)| pin.clone());
    if kiosk.get_delegate_pin() == pin.as_str() {
        return;
    }
    kiosk.set_delegate_qr(match code {
        Some((_, qr)) => courier::qr_image(qr),
        None => slint::Image::default(),
    });
    kiosk.set_delegate_pin(pin.into());
}

/// A return from the locker: its step, its door and where it is, and the
/// receipt's QR (drawn once).
pub(crate) fn show_return(window: &AppWindow, view: &kiosk::returns::ReturnView) {
    use kiosk::returns::ReturnView as V;
    let kiosk = window.global::<Kiosk>();
    let (step, door) = match view {
        V::ChooseSize => (ReturnStep::ChooseSize, 0),
        V::Opening => (ReturnStep::Opening, 0),
        V::Open { compartment } => (ReturnStep::Open, *compartment),
        V::Done { compartment, .. } => (ReturnStep::Done, *compartment),
        V::NoRoom => (ReturnStep::NoRoom, 0),
        V::NotRecorded { compartment } => (ReturnStep::NotRecorded, *compartment),
    };
    if let V::Done { receipt, .. } = view
        && kiosk.get_return_step() != ReturnStep::Done
    {
        kiosk.set_return_receipt_qr(courier::qr_image(receipt));
    }
    let grid: Vec<GridDoor> = kiosk.get_door_grid().iter().collect();
    kiosk.set_return_place(door_place(&grid, door as i32));
    kiosk.set_return_door(door as i32);
    kiosk.set_return_step(step);
}

/// Where `compartment` is on the locker's front, in thirds across and
/// down, for spoken guidance.
fn door_place(grid: &[GridDoor], compartment: i32) -> DoorPlace {
    let columns = grid.iter().map(|d| d.column).max().unwrap_or(0) + 1;
    let Some(door) = grid.iter().find(|d| d.compartment == compartment) else {
        return DoorPlace::Middle;
    };
    let across = (door.column * 3 / columns.max(1)).clamp(0, 2);
    let middle = door.top + door.height / 2;
    let down = (middle * 3 / 1000).clamp(0, 2);
    use DoorPlace as P;
    match (down, across) {
        (0, 0) => P::TopLeft,
        (0, 1) => P::TopMiddle,
        (0, _) => P::TopRight,
        (1, 0) => P::MiddleLeft,
        (1, 1) => P::Middle,
        (1, _) => P::MiddleRight,
        (_, 0) => P::BottomLeft,
        (_, 1) => P::BottomMiddle,
        _ => P::BottomRight,
    }
}

fn page_of(page: kiosk::Page) -> Page {
    use kiosk::Page as P;
    match page {
        P::Home => Page::Home,
        P::PickupCode => Page::PickupCode,
        P::PickupDoors => Page::PickupDoors,
        P::PickupDone => Page::PickupDone,
        P::PickupDelegate => Page::PickupDelegate,
        P::Return => Page::ReturnParcel,
        P::CourierLogin => Page::CourierLogin,
        P::CourierScan => Page::CourierScan,
        P::CourierRecipient => Page::CourierRecipient,
        P::CourierSize => Page::CourierSize,
        P::CourierDoor => Page::CourierDoor,
        P::CourierRetrieve => Page::CourierRetrieve,
        P::CourierDone => Page::CourierDone,
        P::MaintenancePin => Page::MaintenancePin,
        P::Maintenance => Page::Maintenance,
    }
}

/// Keyboard-wedge scanners type into the window: their bursts become scans.
/// The camera's state goes to the status strip and the home screen.
fn bind_scanners(window: &AppWindow, context: &UiContext) {
    let kiosk = window.global::<Kiosk>();
    let service = context.service.clone();
    kiosk.on_key_typed(move |text| service.key_typed(&text));
    kiosk.set_scanner_ready(scanner_ready(&context.service));
    let Some(mut status) = context.service.camera_status() else {
        kiosk.set_camera(CameraState::None);
        return;
    };
    show_camera_preview(window, context.service.clone());
    let weak = window.as_weak();
    context.runtime.spawn(async move {
        loop {
            let state = match *status.borrow_and_update() {
                CameraStatus::Starting => CameraState::Starting,
                CameraStatus::Online => CameraState::Online,
                CameraStatus::Offline => CameraState::Offline,
            };
            let _ = weak.upgrade_in_event_loop(move |w| w.global::<Kiosk>().set_camera(state));
            if status.changed().await.is_err() {
                break;
            }
        }
    });
}

/// Whether a handheld scanner works now: a keyboard-wedge one (a keyboard
/// always types), or a serial one whose port is open.
fn scanner_ready(service: &Service) -> bool {
    service.keyboard_scanner() || service.serial_scanners().iter().any(|s| s.is_online())
}

thread_local! {
    static PREVIEW_TIMER: slint::Timer = slint::Timer::default();
}

/// Five times a second, while the home screen (or the hardware tab of
/// maintenance) shows a working camera, the newest small frame goes on
/// screen (only when it is new).
fn show_camera_preview(window: &AppWindow, service: Service) {
    let weak = window.as_weak();
    let shown = std::cell::Cell::new(0u64);
    PREVIEW_TIMER.with(|timer| {
        timer.start(
            slint::TimerMode::Repeated,
            std::time::Duration::from_millis(200),
            move || {
                let Some(window) = weak.upgrade() else { return };
                let kiosk = window.global::<Kiosk>();
                let testing = kiosk.get_page() == Page::Maintenance
                    && window.global::<Maintenance>().get_tab() == MaintenanceTab::Hardware;
                if !(kiosk.get_page() == Page::Home || testing)
                    || kiosk.get_camera() != CameraState::Online
                {
                    return;
                }
                let Some(preview) = service.camera_preview() else {
                    return;
                };
                if preview.serial == shown.get() || preview.luma.is_empty() {
                    return;
                }
                shown.set(preview.serial);
                let mut buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(
                    preview.width,
                    preview.height,
                );
                for (pixel, luma) in buffer.make_mut_slice().iter_mut().zip(&preview.luma) {
                    *pixel = slint::Rgb8Pixel {
                        r: *luma,
                        g: *luma,
                        b: *luma,
                    };
                }
                kiosk.set_camera_preview(slint::Image::from_rgb8(buffer));
            },
        );
    });
}

/// The pickup screens: the keypad's keys and the pickup's touches go to
/// the kiosk driver.
fn bind_pickup(window: &AppWindow, context: &UiContext) {
    let config = context.service.config();
    let kiosk = window.global::<Kiosk>();
    kiosk.set_code_length(config.policies.pin_length as i32);
    let grid = Rc::new(grid_of(kiosk::locker_front(config)));
    show_locker_front(&kiosk, &grid);

    // A serial scanner's port may have come or gone since: the prompts
    // follow it when a visit starts.
    let (service, w) = (context.service.clone(), window.as_weak());
    kiosk.on_pickup_chosen(move || {
        if let Some(w) = w.upgrade() {
            w.global::<Kiosk>()
                .set_scanner_ready(scanner_ready(&service));
        }
        host::input(Input::PickupChosen)
    });
    kiosk.on_still_here(|| host::input(Input::Touch));
    kiosk.on_for_someone_else_toggled(|| host::input(Input::ForSomeoneElse));
    kiosk.on_return_size_chosen(|size| {
        host::input(Input::SizeChosen(match size {
            ParcelSize::S => kiosk::SizeClass::S,
            ParcelSize::M => kiosk::SizeClass::M,
            ParcelSize::L => kiosk::SizeClass::L,
            ParcelSize::Xl => kiosk::SizeClass::Xl,
        }))
    });
    kiosk.on_display_toggled(|choice| {
        host::input(Input::DisplayToggled(match choice {
            DisplayChoice::LargeText => kiosk::DisplayChoice::LargeText,
            DisplayChoice::HighContrast => kiosk::DisplayChoice::HighContrast,
            DisplayChoice::PreferLow => kiosk::DisplayChoice::PreferLow,
            DisplayChoice::Speech => kiosk::DisplayChoice::Speech,
        }))
    });
    let (service, w) = (context.service.clone(), window.as_weak());
    kiosk.on_deliver_chosen(move || {
        if let Some(w) = w.upgrade() {
            w.global::<Kiosk>()
                .set_scanner_ready(scanner_ready(&service));
        }
        host::input(Input::DeliverChosen)
    });
    kiosk.on_keypad_digit(|digit| host::input(Input::Key(digit.into())));
    kiosk.on_keypad_erase(|| host::input(Input::Erase));
    kiosk.on_keypad_ok(|| host::input(Input::Enter));
    kiosk.on_pickup_report(|compartment, kind| {
        let kind = match kind {
            ReportKind::Missing => ProblemKind::Missing,
            ReportKind::Damaged => ProblemKind::Damaged,
        };
        host::input(Input::Report {
            compartment: compartment.max(0) as u32,
            kind,
        });
    });
    kiosk.on_leave(|| host::input(Input::Leave));
}

/// Switches every visible word to `language` (a bundled translation).
pub fn set_language(window: &AppWindow, language: &str) {
    match slint::select_bundled_translation(language) {
        Ok(()) => window.global::<Kiosk>().set_language(language.into()),
        Err(e) => tracing::warn!(%language, error = %e, "no such translation"),
    }
}

/// The locker's front as the drawing's doors.
/// The drawing of the locker's front, with its columns and its smallest
/// door (maintenance sizes its touch targets by that).
fn show_locker_front(kiosk: &Kiosk<'_>, grid: &[GridDoor]) {
    kiosk.set_grid_columns(grid.iter().map(|d| d.column).max().unwrap_or(1));
    kiosk.set_smallest_door(grid.iter().map(|d| d.height).min().unwrap_or(1000));
    kiosk.set_door_grid(ModelRc::new(VecModel::from(grid.to_vec())));
}

fn grid_of(front: Vec<kiosk::DoorCell>) -> Vec<GridDoor> {
    front
        .into_iter()
        .map(|d| GridDoor {
            compartment: d.compartment as i32,
            column: d.column as i32,
            top: d.top as i32,
            height: d.height as i32,
            highlighted: false,
            to_close: false,
        })
        .collect()
}

fn show_pickup(window: &AppWindow, view: &PickupView) {
    let kiosk = window.global::<Kiosk>();
    let (notice, attempts, seconds) = match view.notice.clone() {
        CodeNotice::None => (PickupNotice::None, 0, 0),
        CodeNotice::Checking => (PickupNotice::Checking, 0, 0),
        CodeNotice::Flow(Said::WrongCode { attempts_left }) => {
            (PickupNotice::WrongCode, attempts_left as i32, 0)
        }
        CodeNotice::LockedOut { seconds } => (PickupNotice::LockedOut, 0, seconds as i32),
        CodeNotice::Flow(Said::Expired) => (PickupNotice::Expired, 0, 0),
        CodeNotice::Flow(Said::AlreadyUsed) => (PickupNotice::AlreadyUsed, 0, 0),
        CodeNotice::OtherLocker => (PickupNotice::OtherLocker, 0, 0),
        CodeNotice::NotAPickupCode | CodeNotice::Flow(Said::NotACode) => {
            (PickupNotice::NotAPickupCode, 0, 0)
        }
        CodeNotice::Flow(Said::NothingWaiting) => (PickupNotice::NothingWaiting, 0, 0),
        CodeNotice::Flow(Said::DelegateNotRecorded) => (PickupNotice::DelegateNotRecorded, 0, 0),
        CodeNotice::TooShort { .. } => (PickupNotice::TooShort, 0, 0),
    };
    kiosk.set_pickup_notice(notice);
    kiosk.set_attempts_left(attempts);
    kiosk.set_lockout_seconds(seconds);
    let grid: Vec<GridDoor> = kiosk.get_door_grid().iter().collect();
    let doors: Vec<PickupDoor> = view
        .doors
        .iter()
        .map(|(compartment, door)| PickupDoor {
            compartment: *compartment as i32,
            progress: match door {
                DoorView::Waiting => DoorProgress::Waiting,
                DoorView::Opening => DoorProgress::Opening,
                DoorView::Open { .. } => DoorProgress::Open,
                DoorView::Closed => DoorProgress::Closed,
                DoorView::Failed => DoorProgress::Failed,
            },
            reminder: matches!(door, DoorView::Open { reminder: true }),
            place: door_place(&grid, *compartment as i32),
        })
        .collect();
    // The door spoken guidance talks about: the first that needs the
    // person (its door opening, open, or failed).
    let guided = doors.iter().find(|d| {
        matches!(
            d.progress,
            DoorProgress::Opening | DoorProgress::Open | DoorProgress::Failed
        )
    });
    kiosk.set_has_guided_door(guided.is_some());
    if let Some(door) = guided {
        kiosk.set_guided_door(door.clone());
    }
    kiosk.set_pickup_doors(ModelRc::new(VecModel::from(doors)));
    kiosk.set_failed_doors(view.failed as i32);
    kiosk.set_report_recorded(view.report_recorded);
    kiosk.set_prefer_low_saved(view.prefer_low_saved);
    kiosk.set_for_someone_else(view.for_someone_else);
    show_delegate_code(&kiosk, view.delegate_code.as_ref());
}

/// The person's doors stand out on the drawing of the locker (the model
/// is replaced only when that changes).
fn highlight_doors(window: &AppWindow, compartments: &[i32], to_close: &[i32]) {
    let kiosk = window.global::<Kiosk>();
    let unchanged = kiosk.get_door_grid().iter().all(|d| {
        d.highlighted == compartments.contains(&d.compartment)
            && d.to_close == to_close.contains(&d.compartment)
    });
    if unchanged {
        return;
    }
    let grid: Vec<GridDoor> = kiosk
        .get_door_grid()
        .iter()
        .map(|mut d| {
            d.highlighted = compartments.contains(&d.compartment);
            d.to_close = to_close.contains(&d.compartment);
            d
        })
        .collect();
    kiosk.set_door_grid(ModelRc::new(VecModel::from(grid)));
}

/// The locker's state for the status strip (which words it in `api.slint`).
pub fn show_overview(window: &AppWindow, overview: &Overview) {
    let kiosk = window.global::<Kiosk>();
    kiosk.set_records_problem(false);
    kiosk.set_free_compartments(overview.free as i32);
    kiosk.set_total_compartments(overview.compartments as i32);
    kiosk.set_broken_compartments((overview.faulty + overview.out_of_service) as i32);
    kiosk.set_offline_boards(overview.boards_offline.len() as i32);
    kiosk.set_out_of_service(overview.closed.is_some());
}
