//! Renders a screen to a PNG with Slint's software renderer and no display
//! at all, with demo data: for the README, reviews, and checking layouts
//! at every panel size.

mod maintenance;

use std::path::Path;
use std::rc::Rc;

use slint::Rgb8Pixel;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, PlatformError};

use super::courier::show_dropoff;
use super::{AppWindow, Kiosk, Page, grid_of, show_locker_front, show_overview, show_pickup};
use crate::app::Overview;
use crate::app::demo;
use crate::app::kiosk::{
    CodeNotice, CourierNotice, DepositLine, DoorStep, DoorView, DropoffNotice, DropoffView,
    PickupNotice as Said, PickupView, SizeOption, Summary,
};
use crate::app::kiosk::{Resident, SizeClass};

/// The screens `screenshot` can render.
pub const SCREENS: [&str; 33] = [
    "home",
    "home-camera",
    "home-out-of-service",
    "pickup-code",
    "pickup-wrong-code",
    "pickup-locked-out",
    "pickup-doors",
    "pickup-done",
    "pickup-delegate",
    "return-size",
    "return-open",
    "return-done",
    "courier-login",
    "courier-scan",
    "courier-scan-typing",
    "courier-recipient",
    "courier-size",
    "courier-door",
    "courier-door-failed",
    "courier-door-to-close",
    "courier-locker-full",
    "courier-retrieve",
    "courier-done",
    "maintenance-pin",
    "maintenance",
    "maintenance-open-all",
    "maintenance-parcels",
    "maintenance-loading",
    "maintenance-reports",
    "maintenance-hardware",
    "maintenance-log",
    "maintenance-settings",
    "maintenance-locker-out",
];

struct Headless {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
}

/// Renders `screen` at `width` x `height` into `out` (PNG).
pub fn render(
    screen: &str,
    width: u32,
    height: u32,
    language: &str,
    high_contrast: bool,
    out: &Path,
) -> Result<(), String> {
    let mut staged = Staged::new(width, height)?;
    staged
        .app
        .global::<super::Theme>()
        .set_high_contrast(high_contrast);
    staged.show(screen, language)?;
    let pixels = staged.draw();
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    write_png(out, width, height, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))
}

/// The UI on the headless software renderer, for screenshots and for the
/// render-time benchmark. One per process (the platform is set once).
pub struct Staged {
    window: Rc<MinimalSoftwareWindow>,
    app: AppWindow,
    width: u32,
    height: u32,
}

impl Staged {
    pub fn new(width: u32, height: u32) -> Result<Staged, String> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(Headless {
            window: window.clone(),
        }))
        .map_err(|e| format!("cannot set up headless rendering: {e}"))?;
        let app = AppWindow::new().map_err(|e| e.to_string())?;
        window.set_size(PhysicalSize::new(width, height));
        Ok(Staged {
            window,
            app,
            width,
            height,
        })
    }

    /// Shows `screen` with the demo data in `language`.
    pub fn show(&mut self, screen: &str, language: &str) -> Result<(), String> {
        if !SCREENS.contains(&screen) {
            return Err(format!(
                "unknown screen `{screen}`; try one of: {}",
                SCREENS.join(", ")
            ));
        }
        stage(&self.app, screen);
        slint::select_bundled_translation(language)
            .map_err(|e| format!("language `{language}`: {e}"))?;
        self.app.global::<Kiosk>().set_language(language.into());
        self.app.show().map_err(|e| e.to_string())?;
        slint::platform::update_timers_and_animations();
        Ok(())
    }

    /// Draws one full frame (every pixel) and returns it.
    pub fn draw(&mut self) -> Vec<Rgb8Pixel> {
        let mut pixels = vec![Rgb8Pixel::default(); (self.width * self.height) as usize];
        self.window.request_redraw();
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, self.width as usize);
        });
        pixels
    }
}

/// Fills the UI with the demo locker's data as the screen would show it.
fn stage(app: &AppWindow, screen: &str) {
    let config = demo::locker();
    let kiosk = app.global::<Kiosk>();
    kiosk.set_locker_name(config.locker.name.clone().into());
    kiosk.set_support(config.locker.support.clone().unwrap_or_default().into());
    let overview = Overview {
        compartments: 24,
        free: 20,
        occupied: 4,
        ..Overview::default()
    };
    show_overview(app, &overview);
    // A locker with eSpeak NG installed offers spoken guidance at home.
    kiosk.set_speech_available(true);
    // A locker with its camera working, as most are (the home screens show
    // both cases: `home` without a camera, `home-camera` with one).
    if !screen.starts_with("home") {
        kiosk.set_camera(super::CameraState::Online);
    }
    show_locker_front(&kiosk, &grid_of(crate::app::kiosk::locker_front(&config)));
    let view = |page: Page, notice: CodeNotice, doors: Vec<(u32, DoorView)>| {
        kiosk.set_page(page);
        PickupView {
            notice,
            for_someone_else: false,
            delegate_code: None,
            doors,
            failed: 0,
            report_recorded: false,
            prefer_low_saved: false,
        }
    };
    match screen {
        "pickup-code" => {
            show_pickup(app, &view(Page::PickupCode, CodeNotice::None, vec![]));
            kiosk.set_code_typed("5839".into());
        }
        "pickup-wrong-code" => show_pickup(
            app,
            &view(
                Page::PickupCode,
                CodeNotice::Flow(Said::WrongCode { attempts_left: 4 }),
                vec![],
            ),
        ),
        "pickup-locked-out" => show_pickup(
            app,
            &view(
                Page::PickupCode,
                CodeNotice::LockedOut { seconds: 60 },
                vec![],
            ),
        ),
        "pickup-doors" => {
            show_pickup(
                app,
                &view(
                    Page::PickupDoors,
                    CodeNotice::None,
                    vec![
                        (10, DoorView::Open { reminder: false }),
                        (16, DoorView::Opening),
                    ],
                ),
            );
            super::highlight_doors(app, &[10, 16], &[]);
        }
        "pickup-done" => show_pickup(app, &view(Page::PickupDone, CodeNotice::None, vec![])),
        "return-size" | "return-open" | "return-done" => {
            kiosk.set_page(super::Page::ReturnParcel);
            let view = if screen == "return-size" {
                crate::app::kiosk::returns::ReturnView::ChooseSize
            } else if screen == "return-open" {
                crate::app::kiosk::returns::ReturnView::Open { compartment: 14 }
            } else {
                crate::app::kiosk::returns::ReturnView::Done {
                    compartment: 14,
                    receipt: demo::sample_receipt(),
                }
            };
            super::show_return(app, &view);
        }
        "pickup-delegate" => {
            let mut shown = view(Page::PickupDelegate, CodeNotice::None, vec![]);
            shown.delegate_code = Some((
                "408317".into(),
                crate::app::kiosk::pickup_qr_payload(
                    &config.locker.id,
                    "DELEGATEQQQQQQQQQQQQQQQQQQ",
                ),
            ));
            show_pickup(app, &shown);
        }
        "home-out-of-service" => {
            kiosk.set_page(Page::Home);
            kiosk.set_out_of_service(true);
        }
        "home-camera" => {
            kiosk.set_page(Page::Home);
            kiosk.set_camera(super::CameraState::Online);
            kiosk.set_camera_preview(preview_with_qr());
        }
        courier if courier.starts_with("courier-") => stage_courier(app, courier),
        "maintenance-pin" => {
            kiosk.set_page(Page::MaintenancePin);
            app.global::<super::Maintenance>()
                .set_pin_typed("••••".into());
        }
        staff if staff.starts_with("maintenance") => maintenance::stage(app, staff),
        _ => kiosk.set_page(Page::Home),
    }
}

/// A camera view of someone holding up a phone with a QR code.
pub(super) fn preview_with_qr() -> slint::Image {
    let code = qrcode::QrCode::new(b"LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA").unwrap();
    let (modules, colors) = (code.width() as u32, code.to_colors());
    let (width, height) = (160u32, 120u32);
    let mut buffer = slint::SharedPixelBuffer::<Rgb8Pixel>::new(width, height);
    for (i, pixel) in buffer.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = (i as u32 % width, i as u32 / width);
        let (col, row) = ((x as i64 - 50) / 2, (y as i64 - 28) / 2);
        let phone = (40..120).contains(&x) && (18..102).contains(&y);
        let inside = (0..modules as i64).contains(&col) && (0..modules as i64).contains(&row);
        let v = if inside {
            if colors[(row as u32 * modules + col as u32) as usize] == qrcode::Color::Dark {
                20
            } else {
                235
            }
        } else if phone {
            225
        } else {
            70 + (y / 3) as u8
        };
        *pixel = Rgb8Pixel { r: v, g: v, b: v };
    }
    slint::Image::from_rgb8(buffer)
}

/// The courier's screens mid-visit: Dana has delivered two parcels.
fn stage_courier(app: &AppWindow, screen: &str) {
    let deposits = vec![
        DepositLine {
            compartment: 14,
            tracking: "9400111899223197428497".into(),
            recipient: "Deniz Demir".into(),
        },
        DepositLine {
            compartment: 3,
            tracking: "JD014600006299".into(),
            recipient: "Emma Evans".into(),
        },
    ];
    let mut page = Page::CourierScan;
    let mut view = DropoffView {
        notice: CourierNotice::None,
        courier: "Dana Driver · Demo Parcel Co".into(),
        tracking: "1Z999AA10123456784".into(),
        recipient: "Alice Adams".into(),
        sizes: [
            (SizeClass::S, 6, true),
            (SizeClass::M, 5, true),
            (SizeClass::L, 0, true),
            (SizeClass::Xl, 0, false),
        ]
        .into_iter()
        .map(|(size, free, enabled)| SizeOption {
            size,
            free,
            enabled,
        })
        .collect(),
        preselected: Some(SizeClass::M),
        recipients: Vec::new(),
        door: None,
        deposits,
        to_close: Vec::new(),
        retrieval_left: 0,
        summary: None,
    };
    match screen {
        "courier-login" => page = Page::CourierLogin,
        "courier-scan-typing" => {}
        "courier-recipient" => {
            page = Page::CourierRecipient;
            view.recipients = ["Emma Evans", "Emmanuel Ekwueme"]
                .iter()
                .zip(["5B", "7A"])
                .enumerate()
                .map(|(i, (name, unit))| Resident {
                    id: i as i64 + 1,
                    name: name.to_string(),
                    unit: Some(unit.into()),
                })
                .collect();
        }
        "courier-size" => page = Page::CourierSize,
        "courier-door" | "courier-door-failed" | "courier-door-to-close" => {
            page = Page::CourierDoor;
            view.door = Some((14, DoorStep::Open));
            if screen == "courier-door-failed" {
                view.notice = CourierNotice::Flow(DropoffNotice::DoorFailed { compartment: 13 });
            }
            if screen == "courier-door-to-close" {
                // The parcel did not fit door 9: it went on to door 14.
                view.to_close = vec![9];
            }
        }
        "courier-locker-full" => view.notice = CourierNotice::Flow(DropoffNotice::LockerFull),
        "courier-retrieve" => {
            page = Page::CourierRetrieve;
            view.door = Some((20, DoorStep::Open));
            view.tracking = "JD014600006281234567".into();
            view.retrieval_left = 2;
        }
        "courier-done" => {
            page = Page::CourierDone;
            view.summary = Some(Summary {
                parcels: 2,
                doors: vec![14, 3],
                recipients: 2,
                retrieved: 0,
                receipt: demo::sample_receipt(),
            });
        }
        _ => {}
    }
    let typed = match screen {
        "courier-login" => "••••",
        "courier-scan-typing" => "1Z999AA1",
        "courier-recipient" => "EM",
        _ => "",
    };
    show_dropoff(app, &view, typed);
    // The courier's door, and any to close, on the drawing.
    let door: Vec<i32> = view.door.iter().map(|(c, _)| *c as i32).collect();
    let to_close: Vec<i32> = view.to_close.iter().map(|c| *c as i32).collect();
    super::highlight_doors(app, &door, &to_close);
    app.global::<Kiosk>().set_page(page);
}

fn write_png(out: &Path, width: u32, height: u32, rgb: &[u8]) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(rgb)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}
