//! The courier's screens: their touches and keys go to the kiosk driver,
//! the visit's view comes back as properties.

use std::cell::RefCell;

use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use super::{
    AppWindow, Courier, CourierNotice, DepositLine, ParcelSize, ResidentChoice, SizeChoice,
    TrackingProblem, host,
};
use crate::app::kiosk::{
    CourierAction, CourierNotice as Notice, DoorStep, DropoffView, Input, SEARCH_FROM_CHARS,
};
use crate::app::kiosk::{DropoffNotice as Said, SizeClass, TrackingProblem as Problem};

thread_local! {
    // The receipt whose QR is on screen, so it is drawn once.
    static RECEIPT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The courier's touches and keys go to the kiosk driver.
pub(super) fn bind_courier(window: &AppWindow) {
    let courier = window.global::<Courier>();
    courier.on_login_key(|digit| host::input(Input::Key(digit.into())));
    courier.on_login_erase(|| host::input(Input::Erase));
    courier.on_login_ok(|| host::input(Input::Enter));
    courier.on_keyboard_key(|key| host::input(Input::Key(key.into())));
    courier.on_keyboard_erase(|| host::input(Input::Erase));
    courier.on_keyboard_clear(|| host::input(Input::ClearTyped));
    courier.on_keyboard_enter(|| host::input(Input::Enter));
    courier.on_resident_chosen(|id| host::input(Input::RecipientChosen(i64::from(id))));
    courier.on_size_chosen(|size| {
        let size = match size {
            ParcelSize::S => SizeClass::S,
            ParcelSize::M => SizeClass::M,
            ParcelSize::L => SizeClass::L,
            ParcelSize::Xl => SizeClass::Xl,
        };
        host::input(Input::SizeChosen(size))
    });
    let act = |action| move || host::input(Input::Courier(action));
    courier.on_doesnt_fit(act(CourierAction::DoesNotFit));
    courier.on_door_didnt_open(act(CourierAction::DoorDidNotOpen));
    courier.on_parcel_not_there(act(CourierAction::ParcelNotThere));
    courier.on_dirty(act(CourierAction::Dirty));
    courier.on_undo(|compartment| {
        host::input(Input::Courier(CourierAction::Undo(
            compartment.max(0) as u32
        )))
    });
    courier.on_take_back(act(CourierAction::TakeBack));
    courier.on_finish(act(CourierAction::Finish));
    courier.on_back_to_scan(act(CourierAction::BackToScan));
    courier.on_leave(|| host::input(Input::Leave));
}

/// The courier's screens; `typed` is the field as shown.
pub(super) fn show_dropoff(window: &AppWindow, view: &DropoffView, typed: &str) {
    let courier = window.global::<Courier>();
    courier.set_typed(typed.into());
    let (notice, number, size, problem) = notice_facts(&view.notice);
    courier.set_notice(notice);
    courier.set_notice_number(number);
    courier.set_notice_size(size);
    if let Some(problem) = problem {
        courier.set_tracking_problem(problem);
    }
    courier.set_courier_name(view.courier.clone().into());
    courier.set_tracking(view.tracking.clone().into());
    courier.set_recipient(view.recipient.clone().into());
    courier.set_search_from(SEARCH_FROM_CHARS as i32);
    let tallest = view
        .sizes
        .iter()
        .map(|s| s.size.dimensions().height_mm)
        .max()
        .unwrap_or(1)
        .max(1);
    let sizes: Vec<SizeChoice> = view
        .sizes
        .iter()
        .map(|s| {
            let inside = s.size.dimensions();
            let cm = |mm: u32| mm.div_ceil(10) as i32;
            SizeChoice {
                size: parcel_size(s.size),
                free: s.free as i32,
                enabled: s.enabled,
                preselected: view.preselected == Some(s.size),
                width_cm: cm(inside.width_mm),
                height_cm: cm(inside.height_mm),
                depth_cm: cm(inside.depth_mm),
                height_share: (inside.height_mm * 1000 / tallest) as i32,
            }
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
    let to_close: Vec<String> = view.to_close.iter().map(u32::to_string).collect();
    courier.set_to_close_doors(to_close.join(", ").into());
    courier.set_to_close_count(to_close.len() as i32);
    courier.set_door_open(open);
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
}

/// A size class as the screen knows it: the standard one it fits in.
pub(super) fn parcel_size(size: SizeClass) -> ParcelSize {
    match size.largest_standard_fit() {
        Some(SizeClass::S) => ParcelSize::S,
        Some(SizeClass::M) => ParcelSize::M,
        Some(SizeClass::L) => ParcelSize::L,
        _ => ParcelSize::Xl,
    }
}

/// A notice as the screen's enum and its number, size or problem.
fn notice_facts(notice: &Notice) -> (CourierNotice, i32, ParcelSize, Option<TrackingProblem>) {
    let plain = |kind| (kind, 0, ParcelSize::S, None);
    let numbered = |kind, number: u32| (kind, number as i32, ParcelSize::S, None);
    match notice {
        Notice::None => plain(CourierNotice::None),
        Notice::Checking => plain(CourierNotice::Checking),
        Notice::LockedOut { seconds } => numbered(
            CourierNotice::LockedOut,
            (*seconds).min(u64::from(u32::MAX)) as u32,
        ),
        Notice::NotForCouriers => plain(CourierNotice::NotForCouriers),
        Notice::Flow(flow) => match flow {
            Said::WrongCode { attempts_left } => numbered(CourierNotice::WrongCode, *attempts_left),
            Said::AlreadyInLocker { compartment } => {
                numbered(CourierNotice::AlreadyInLocker, *compartment)
            }
            Said::InvalidTracking(problem) => (
                CourierNotice::InvalidTracking,
                0,
                ParcelSize::S,
                Some(match problem {
                    Problem::TooShort => TrackingProblem::TooShort,
                    Problem::TooLong => TrackingProblem::TooLong,
                    Problem::BadCharacters => TrackingProblem::BadCharacters,
                    Problem::BadCheckDigit => TrackingProblem::BadCheckDigit,
                    Problem::NotAParcel => TrackingProblem::NotAParcel,
                }),
            ),
            Said::NoRoom { size } => (CourierNotice::NoRoom, 0, parcel_size(*size), None),
            Said::NothingBigger => plain(CourierNotice::NothingBigger),
            Said::NothingToRetrieve => plain(CourierNotice::NothingToRetrieve),
            Said::TakenBack { count } => numbered(CourierNotice::TakenBack, *count as u32),
            Said::LockerFull => plain(CourierNotice::LockerFull),
            Said::DoorFailed { compartment } => numbered(CourierNotice::DoorFailed, *compartment),
            Said::Undone { compartment } => numbered(CourierNotice::Undone, *compartment),
            Said::UndoFailed { compartment } => numbered(CourierNotice::UndoFailed, *compartment),
            Said::NotRecorded => plain(CourierNotice::NotRecorded),
        },
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
