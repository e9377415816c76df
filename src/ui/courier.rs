//! The courier's screens: keypad and keyboard handling on the UI thread
//! (instant), the visit itself in the drop-off task.

use std::cell::RefCell;

use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use super::{
    AppWindow, Courier, CourierNotice, DepositLine, Kiosk, Page, ResidentChoice, SizeChoice,
    TrackingProblem, UiContext,
};
use crate::app::dropoff::{
    CourierNotice as Notice, CourierScreen, DoorStep, DropoffDriver, DropoffInput, DropoffView,
};
use crate::domain::SizeClass;
use crate::domain::dropoff::TrackingProblem as Problem;

/// The longest courier code, and the longest text the keyboard takes.
const MAX_CODE: usize = 8;
const MAX_TYPED: usize = 40;

const COURIER_PAGES: [Page; 7] = [
    Page::CourierLogin,
    Page::CourierScan,
    Page::CourierRecipient,
    Page::CourierSize,
    Page::CourierDoor,
    Page::CourierRetrieve,
    Page::CourierDone,
];

thread_local! {
    // What was typed, kept on the UI thread: the screen shows the login
    // code masked, so the real digits live here.
    static TYPED: RefCell<String> = const { RefCell::new(String::new()) };
    // The receipt whose QR is on screen, so it is drawn once.
    static RECEIPT: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(super) fn bind_courier(window: &AppWindow, context: &UiContext) {
    let weak = window.as_weak();
    let driver = DropoffDriver::spawn(context.service.clone(), &context.runtime, move |view| {
        let _ = weak.upgrade_in_event_loop(move |window| {
            let was_here = COURIER_PAGES.contains(&window.global::<Kiosk>().get_page());
            show_dropoff(&window, &view);
            if was_here && window.global::<Kiosk>().get_page() == Page::Home {
                super::end_session(&window);
            }
        });
    });
    let kiosk = window.global::<Kiosk>();
    let courier = window.global::<Courier>();

    let (d, w) = (driver.clone(), window.as_weak());
    kiosk.on_deliver_chosen(move || {
        if let Some(window) = w.upgrade() {
            window.global::<Kiosk>().set_page(Page::CourierLogin);
            set_typed(&window, String::new());
        }
        d.send(DropoffInput::Start);
    });

    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_login_key(move |digit| {
        edit(&w, |typed| {
            if typed.len() < MAX_CODE {
                typed.push_str(&digit);
            }
        });
        d.send(DropoffInput::Touch);
    });
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_login_erase(move || {
        edit(&w, |typed| {
            typed.pop();
        });
        d.send(DropoffInput::Touch);
    });
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_login_ok(move || {
        let code = take_typed(&w);
        if !code.is_empty() {
            d.send(DropoffInput::LoginTyped(code));
        }
    });

    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_keyboard_key(move |key| {
        let typed = edit(&w, |typed| {
            if typed.chars().count() < MAX_TYPED && !(typed.is_empty() && key == " ") {
                typed.push_str(&key);
            }
        });
        d.send(keyboard_input(&w, typed));
    });
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_keyboard_erase(move || {
        let typed = edit(&w, |typed| {
            typed.pop();
        });
        d.send(keyboard_input(&w, typed));
    });
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_keyboard_clear(move || {
        let typed = edit(&w, String::clear);
        d.send(keyboard_input(&w, typed));
    });
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_keyboard_enter(move || {
        let on_scan_page = w
            .upgrade()
            .is_some_and(|w| w.global::<Kiosk>().get_page() == Page::CourierScan);
        if on_scan_page {
            let text = take_typed(&w);
            if !text.trim().is_empty() {
                d.send(DropoffInput::TrackingTyped(text));
            }
        } else {
            let typed = TYPED.with(|t| t.borrow().clone());
            d.send(DropoffInput::Search(typed));
        }
    });

    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_resident_chosen(move |id| {
        take_typed(&w);
        d.send(DropoffInput::RecipientChosen(i64::from(id)));
    });
    let d = driver.clone();
    courier.on_size_chosen(move |label| match label.parse::<SizeClass>() {
        Ok(size) => d.send(DropoffInput::SizeChosen(size)),
        Err(e) => tracing::error!(error = %e, "the size screen sent an unknown size"),
    });
    let d = driver.clone();
    courier.on_doesnt_fit(move || d.send(DropoffInput::DoesNotFit));
    let d = driver.clone();
    courier.on_door_didnt_open(move || d.send(DropoffInput::DoorDidNotOpen));
    let d = driver.clone();
    courier.on_dirty(move || d.send(DropoffInput::Dirty));
    let d = driver.clone();
    courier.on_undo(move |compartment| d.send(DropoffInput::Undo(compartment.max(0) as u32)));
    let d = driver.clone();
    courier.on_take_back(move || d.send(DropoffInput::StartRetrieval));
    let d = driver.clone();
    courier.on_finish(move || d.send(DropoffInput::Finish));
    let (d, w) = (driver.clone(), window.as_weak());
    courier.on_back_to_scan(move || {
        take_typed(&w);
        d.send(DropoffInput::BackToScan);
    });
    let (d, w) = (driver, window.as_weak());
    courier.on_leave(move || {
        take_typed(&w);
        if let Some(window) = w.upgrade() {
            window.global::<Kiosk>().set_page(Page::Home);
            super::end_session(&window);
        }
        d.send(DropoffInput::Leave);
    });
}

/// On the recipient page every key searches; elsewhere it only keeps the
/// idle timeout away.
fn keyboard_input(window: &slint::Weak<AppWindow>, typed: String) -> DropoffInput {
    let searching = window
        .upgrade()
        .is_some_and(|w| w.global::<Kiosk>().get_page() == Page::CourierRecipient);
    if searching {
        DropoffInput::Search(typed)
    } else {
        DropoffInput::Touch
    }
}

/// Changes what was typed and shows it; returns the new text.
fn edit(window: &slint::Weak<AppWindow>, change: impl FnOnce(&mut String)) -> String {
    let typed = TYPED.with(|t| {
        let mut typed = t.borrow_mut();
        change(&mut typed);
        typed.clone()
    });
    if let Some(window) = window.upgrade() {
        set_typed(&window, typed.clone());
    }
    typed
}

fn take_typed(window: &slint::Weak<AppWindow>) -> String {
    let typed = TYPED.with(|t| std::mem::take(&mut *t.borrow_mut()));
    if let Some(window) = window.upgrade() {
        set_typed(&window, String::new());
    }
    typed
}

/// Shows what was typed; a login code only as dots.
fn set_typed(window: &AppWindow, typed: String) {
    TYPED.with(|t| *t.borrow_mut() = typed.clone());
    let shown = if window.global::<Kiosk>().get_page() == Page::CourierLogin {
        "•".repeat(typed.chars().count())
    } else {
        typed
    };
    window.global::<Courier>().set_typed(shown.into());
}

fn page_for(screen: CourierScreen, current: Page) -> Page {
    match screen {
        CourierScreen::Home if COURIER_PAGES.contains(&current) => Page::Home,
        CourierScreen::Home => current,
        CourierScreen::Login => Page::CourierLogin,
        CourierScreen::Scan => Page::CourierScan,
        CourierScreen::Recipient => Page::CourierRecipient,
        CourierScreen::Size => Page::CourierSize,
        CourierScreen::Door => Page::CourierDoor,
        CourierScreen::Retrieve => Page::CourierRetrieve,
        CourierScreen::Summary => Page::CourierDone,
    }
}

pub(super) fn show_dropoff(window: &AppWindow, view: &DropoffView) {
    let kiosk = window.global::<Kiosk>();
    let courier = window.global::<Courier>();
    let current = kiosk.get_page();
    let page = page_for(view.screen, current);
    if page != current {
        // Each screen starts with an empty field.
        TYPED.with(|t| t.borrow_mut().clear());
        courier.set_typed("".into());
    }
    let (notice, number, size, problem) = notice_facts(view.notice);
    courier.set_notice(notice);
    courier.set_notice_number(number);
    courier.set_notice_size(size.into());
    if let Some(problem) = problem {
        courier.set_tracking_problem(problem);
    }
    courier.set_courier_name(view.courier.clone().into());
    courier.set_tracking(view.tracking.clone().into());
    courier.set_recipient(view.recipient.clone().into());
    courier.set_search_from(crate::app::dropoff::SEARCH_FROM_CHARS as i32);
    let sizes: Vec<SizeChoice> = view
        .sizes
        .iter()
        .map(|s| SizeChoice {
            size: s.size.label().into(),
            free: s.free as i32,
            enabled: s.enabled,
            preselected: view.preselected == Some(s.size),
        })
        .collect();
    courier.set_sizes(ModelRc::new(VecModel::from(sizes)));
    let residents: Vec<ResidentChoice> = view
        .recipients
        .iter()
        .map(|r| ResidentChoice {
            id: r.id as i32,
            name: r.name.clone().into(),
            unit: r.unit.clone().unwrap_or_default().into(),
        })
        .collect();
    courier.set_residents(ModelRc::new(VecModel::from(residents)));
    let deposits: Vec<DepositLine> = view
        .deposits
        .iter()
        .map(|d| DepositLine {
            compartment: d.compartment as i32,
            tracking: d.tracking.clone().into(),
            recipient: d.recipient.clone().into(),
        })
        .collect();
    courier.set_deposits(ModelRc::new(VecModel::from(deposits)));
    let (door, open) = match view.door {
        Some((door, step)) => (door as i32, step == DoorStep::Open),
        None => (0, false),
    };
    courier.set_door(door);
    courier.set_door_open(open);
    if COURIER_PAGES.contains(&page) {
        let doors: Vec<i32> = view.door.iter().map(|(c, _)| *c as i32).collect();
        super::highlight_doors(window, &doors);
    }
    courier.set_retrieval_left(view.retrieval_left as i32);
    match &view.summary {
        Some(summary) => {
            courier.set_summary_parcels(summary.parcels as i32);
            courier.set_summary_recipients(summary.recipients as i32);
            courier.set_summary_retrieved(summary.retrieved as i32);
            let doors: Vec<String> = summary.doors.iter().map(u32::to_string).collect();
            courier.set_summary_doors(doors.join(", ").into());
            show_receipt(window, &summary.receipt);
        }
        None => show_receipt(window, ""),
    }
    kiosk.set_page(page);
}

fn notice_facts(notice: Notice) -> (CourierNotice, i32, String, Option<TrackingProblem>) {
    let n = |v: u32| v as i32;
    match notice {
        Notice::None => (CourierNotice::None, 0, String::new(), None),
        Notice::Checking => (CourierNotice::Checking, 0, String::new(), None),
        Notice::WrongCode { attempts_left } => (
            CourierNotice::WrongCode,
            n(attempts_left),
            String::new(),
            None,
        ),
        Notice::LockedOut { seconds } => (
            CourierNotice::LockedOut,
            seconds.min(i32::MAX as u64) as i32,
            String::new(),
            None,
        ),
        Notice::AlreadyInLocker { compartment } => (
            CourierNotice::AlreadyInLocker,
            n(compartment),
            String::new(),
            None,
        ),
        Notice::InvalidTracking(problem) => (
            CourierNotice::InvalidTracking,
            0,
            String::new(),
            Some(match problem {
                Problem::TooShort => TrackingProblem::TooShort,
                Problem::TooLong => TrackingProblem::TooLong,
                Problem::BadCharacters => TrackingProblem::BadCharacters,
                Problem::BadCheckDigit => TrackingProblem::BadCheckDigit,
                Problem::NotAParcel => TrackingProblem::NotAParcel,
            }),
        ),
        Notice::NoRoom { size } => (CourierNotice::NoRoom, 0, size.label(), None),
        Notice::NothingBigger => (CourierNotice::NothingBigger, 0, String::new(), None),
        Notice::NothingToRetrieve => (CourierNotice::NothingToRetrieve, 0, String::new(), None),
        Notice::LockerFull => (CourierNotice::LockerFull, 0, String::new(), None),
        Notice::DoorFailed { compartment } => (
            CourierNotice::DoorFailed,
            n(compartment),
            String::new(),
            None,
        ),
        Notice::Undone { compartment } => {
            (CourierNotice::Undone, n(compartment), String::new(), None)
        }
        Notice::UndoFailed { compartment } => (
            CourierNotice::UndoFailed,
            n(compartment),
            String::new(),
            None,
        ),
        Notice::NotForCouriers => (CourierNotice::NotForCouriers, 0, String::new(), None),
    }
}

/// Draws the proof-of-delivery QR (once per receipt).
fn show_receipt(window: &AppWindow, text: &str) {
    let unchanged = RECEIPT.with(|r| *r.borrow() == text);
    if unchanged {
        return;
    }
    RECEIPT.with(|r| *r.borrow_mut() = text.to_string());
    let courier = window.global::<Courier>();
    courier.set_receipt_ready(!text.is_empty());
    courier.set_receipt_qr(if text.is_empty() {
        Image::default()
    } else {
        qr_image(text)
    });
}

/// A QR code as an image, one pixel per module with the quiet zone; the
/// page scales it up without smoothing.
pub fn qr_image(text: &str) -> Image {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        tracing::error!("the proof of delivery does not fit in a QR code");
        return Image::default();
    };
    const QUIET: usize = 4;
    let width = code.width();
    let side = width + 2 * QUIET;
    let colors = code.to_colors();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let pixels = buffer.make_mut_slice();
    for (i, pixel) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side, i / side);
        let dark = x >= QUIET
            && y >= QUIET
            && x < QUIET + width
            && y < QUIET + width
            && colors[(y - QUIET) * width + (x - QUIET)] == qrcode::Color::Dark;
        let v = if dark { 0 } else { 255 };
        *pixel = Rgb8Pixel { r: v, g: v, b: v };
    }
    Image::from_rgb8(buffer)
}
