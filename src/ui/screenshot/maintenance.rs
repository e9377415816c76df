//! The maintenance screens with the demo locker's data, as staff would see
//! them mid-work.

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use crate::ui::{
    AppWindow, BoardLine, CameraState, DoorFailure, DoorKind, Kiosk, LoadLine, LoadStep,
    LogFilterKind, LogLine, Maintenance, MaintenanceDoor, MaintenanceHardware, MaintenanceLoading,
    MaintenanceLog, MaintenanceParcels, MaintenanceReports, MaintenanceSettings, MaintenanceTab,
    OpenAllState, OpenResult, Page, ParcelLine, ParcelNotice, PinStep, ReportLine, ReporterKind,
    ScanMeaning, ScanReader, ScannerLine,
};

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn line(at: &str, kind: &str, actor: &str, compartment: i32, detail: &str) -> LogLine {
    LogLine {
        at: at.into(),
        kind: kind.into(),
        actor: actor.into(),
        compartment,
        detail: detail.into(),
    }
}

/// Staff opened door 7 for an inspection, newest first.
fn door_7_opened() -> Vec<LogLine> {
    vec![
        line(
            "2026-12-01 09:41",
            "door_opened",
            "kiosk",
            7,
            "board: A · channel: 7",
        ),
        line(
            "2026-12-01 09:41",
            "maintenance_open",
            "staff:maintenance",
            7,
            "outcome: opened · reason: inspection",
        ),
    ]
}

/// Shows maintenance's `screen` (`maintenance`, `maintenance-parcels`, …).
pub(super) fn stage(app: &AppWindow, screen: &str) {
    let maintenance = app.global::<Maintenance>();
    let tab = match screen {
        "maintenance-parcels" => MaintenanceTab::Parcels,
        "maintenance-loading" => MaintenanceTab::Loading,
        "maintenance-reports" => MaintenanceTab::Reports,
        "maintenance-hardware" => MaintenanceTab::Hardware,
        "maintenance-log" => MaintenanceTab::Log,
        "maintenance-settings" | "maintenance-locker-out" => MaintenanceTab::Settings,
        _ => MaintenanceTab::Doors,
    };
    doors(app, screen == "maintenance-open-all");
    app.global::<MaintenanceReports>().set_open_count(2);
    match tab {
        MaintenanceTab::Parcels => parcels(app),
        MaintenanceTab::Loading => loading(app),
        MaintenanceTab::Reports => reports(app),
        MaintenanceTab::Hardware => hardware(app),
        MaintenanceTab::Log => log(app),
        MaintenanceTab::Settings => settings(app, screen == "maintenance-locker-out"),
        MaintenanceTab::Doors => {}
    }
    maintenance.set_tab(tab);
    app.global::<Kiosk>().set_page(Page::Maintenance);
}

/// An office's hand-out half done: door 3 open for Anna's laptop, three
/// items left after it.
fn loading(app: &AppWindow) {
    let item = |parcel: i32, door: i32, person: &str, item: &str, tag: &str| LoadLine {
        parcel,
        door,
        person: person.into(),
        item: item.into(),
        asset_tag: tag.into(),
    };
    let tab = app.global::<MaintenanceLoading>();
    tab.set_items(model(vec![
        item(41, 3, "Anna Weber", "Laptop", "IT-4711"),
        item(42, 5, "Bo Lindqvist", "Laptop", "IT-4712"),
        item(43, 11, "Chiara Rossi", "Headset", ""),
        item(44, 14, "Deniz Yılmaz", "Holiday gift", ""),
    ]));
    tab.set_step(LoadStep::Open);
    tab.set_door(3);
    tab.set_item("Laptop".into());
    tab.set_person("Anna Weber".into());
    tab.set_loaded_count(6);
}

/// Door 7 just opened for an inspection; or every door opened, one jammed.
fn doors(app: &AppWindow, all_open: bool) {
    let kinds = [
        (2, DoorKind::Occupied),
        (10, DoorKind::Occupied),
        (16, DoorKind::Occupied),
        (20, DoorKind::Expired),
        (7, DoorKind::Open),
        (9, DoorKind::OutOfService),
        (13, DoorKind::Faulty),
    ];
    let doors: Vec<MaintenanceDoor> = app
        .global::<Kiosk>()
        .get_door_grid()
        .iter()
        .map(|d| MaintenanceDoor {
            compartment: d.compartment,
            column: d.column,
            top: d.top,
            height: d.height,
            kind: match kinds.iter().find(|(c, _)| *c == d.compartment) {
                _ if all_open && d.compartment != 13 => DoorKind::Open,
                Some((_, kind)) => *kind,
                None => DoorKind::Free,
            },
            selected: !all_open && d.compartment == 7,
        })
        .collect();
    let maintenance = app.global::<Maintenance>();
    maintenance.set_doors(model(doors));
    if all_open {
        maintenance.set_open_all_state(OpenAllState::Done);
        maintenance.set_open_all_opened(22);
        maintenance.set_open_all_already_open(1);
        maintenance.set_open_all_jammed("13".into());
        return;
    }
    maintenance.set_selected(7);
    maintenance.set_selected_kind(DoorKind::Open);
    maintenance.set_selected_size("L".into());
    maintenance.set_last_open(OpenResult::Opened);
    let mut history = door_7_opened();
    history.extend([
        line(
            "2026-11-30 17:02",
            "door_closed",
            "kiosk",
            7,
            "board: A · channel: 7",
        ),
        line("2026-11-30 17:01", "parcel_collected", "recipient", 7, ""),
    ]);
    maintenance.set_selected_history(model(history));
}

fn parcel(
    id: i32,
    compartment: i32,
    tracking: &str,
    recipient: &str,
    deadline: &str,
    expired: bool,
) -> ParcelLine {
    ParcelLine {
        id,
        tracking: tracking.into(),
        compartment,
        size: "M".into(),
        recipient: recipient.into(),
        expired,
        deadline: deadline.into(),
        deposited: "2026-11-27 10:15".into(),
        unconfirmed: false,
        return_requested: false,
    }
}

/// The expired parcel in door 20, just given three more days.
fn parcels(app: &AppWindow) {
    let list = vec![
        parcel(
            1,
            2,
            "1Z999AA10123456784",
            "Alice Adams (1A)",
            "2026-12-04 07:30",
            false,
        ),
        parcel(
            2,
            10,
            "00340123450000000017",
            "Bob Brown (2B)",
            "2026-12-04 04:30",
            false,
        ),
        parcel(
            3,
            16,
            "TBA123456789000",
            "Bob Brown (2B)",
            "2026-12-04 04:30",
            false,
        ),
        parcel(
            4,
            20,
            "JD014600006281234567",
            "Carla Cruz (3C)",
            "2026-12-04 09:45",
            false,
        ),
    ];
    let parcels = app.global::<MaintenanceParcels>();
    parcels.set_selected(list[3].clone());
    parcels.set_parcels(model(list));
    parcels.set_move_targets(model(vec![5, 6, 11, 12, 15]));
    parcels.set_notice(ParcelNotice::Extended);
    parcels.set_notice_deadline("2026-12-04 09:45".into());
    parcels.set_door_failure(DoorFailure::Jammed);
    parcels.set_history(model(vec![
        line(
            "2026-12-01 09:45",
            "parcel_extended",
            "staff:maintenance",
            20,
            "expires_at: 2026-12-04 09:45 · hours: 72 · new_code: false · previous_expires_at: 2026-11-30 10:15",
        ),
        line("2026-12-01 08:00", "parcel_expired", "kiosk", 20, ""),
        line(
            "2026-11-27 10:15",
            "parcel_deposited",
            "courier:1",
            20,
            "confirmed: true · recipient: 3 · tracking: JD014600006281234567",
        ),
    ]));
}

fn report(
    id: i32,
    kind: &str,
    compartment: i32,
    reporter: ReporterKind,
    name: &str,
    handled: bool,
) -> ReportLine {
    ReportLine {
        id,
        kind: kind.into(),
        compartment,
        tracking: if compartment == 16 {
            "TBA123456789000".into()
        } else {
            SharedString::new()
        },
        reporter,
        reporter_name: name.into(),
        at: "2026-12-01 08:12".into(),
        handled,
        handled_at: if handled {
            "2026-12-01 09:30".into()
        } else {
            SharedString::new()
        },
    }
}

fn reports(app: &AppWindow) {
    let reports = app.global::<MaintenanceReports>();
    reports.set_show_handled(true);
    reports.set_reports(model(vec![
        report(3, "damaged", 16, ReporterKind::Recipient, "", false),
        report(
            2,
            "door_did_not_open",
            13,
            ReporterKind::Courier,
            "Dana Driver (Demo Parcel Co)",
            false,
        ),
        report(
            1,
            "dirty",
            9,
            ReporterKind::Courier,
            "Sam Swift (Swift Express)",
            true,
        ),
    ]));
}

fn board(id: &str, protocol: &str, online: bool, last: i32, transactions: i32) -> BoardLine {
    BoardLine {
        id: id.into(),
        protocol: protocol.into(),
        port: SharedString::new(),
        simulated: true,
        online,
        offline: !online,
        last_reply_secs: last,
        port_error: SharedString::new(),
        transactions,
        timeouts: if online { 0 } else { 41 },
        garbage_bytes: 0,
    }
}

/// Board B went quiet a minute ago; a test scan of a pickup QR.
fn hardware(app: &AppWindow) {
    let kiosk = app.global::<Kiosk>();
    kiosk.set_camera(CameraState::Online);
    kiosk.set_camera_preview(super::preview_with_qr());
    let hardware = app.global::<MaintenanceHardware>();
    hardware.set_boards(model(vec![
        board("A", "8a", true, 0, 18_342),
        board("B", "kerong-cu", false, 63, 17_950),
    ]));
    hardware.set_scanners(model(vec![ScannerLine {
        port: "/dev/ttyACM0".into(),
        online: true,
    }]));
    hardware.set_keyboard_scanner(true);
    hardware.set_last_scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA".into());
    hardware.set_last_scan_reader(ScanReader::Camera);
    hardware.set_last_scan_symbology("QR Code".into());
    hardware.set_last_scan_meaning(ScanMeaning::PickupHere);
    hardware.set_outbox_pending(137);
    hardware.set_outbox_oldest("2026-11-28 10:15".into());
    hardware.set_messages_configured(true);
    hardware.set_messages_waiting(2);
    hardware.set_messages_oldest("2026-12-01 09:40".into());
    hardware.set_messages_last_error(
        "the mail server smtp.example.org did not take it: connection refused".into(),
    );
    hardware.set_messages_unreachable(1);
    hardware.set_messages_last_sent("2026-12-01 09:12".into());
}

fn log(app: &AppWindow) {
    let log = app.global::<MaintenanceLog>();
    log.set_filter(LogFilterKind::All);
    log.set_more(true);
    let mut lines = vec![
        line(
            "2026-12-01 09:46",
            "maintenance_entered",
            "staff:maintenance",
            0,
            "",
        ),
        line("2026-12-01 09:44", "board_offline", "kiosk", 0, "board: B"),
    ];
    lines.extend(door_7_opened());
    lines.extend([
        line(
            "2026-12-01 08:12",
            "report_raised",
            "recipient",
            16,
            "kind: damaged · report: 3",
        ),
        line("2026-12-01 08:00", "parcel_expired", "kiosk", 20, ""),
        line("2026-11-30 17:01", "parcel_collected", "recipient", 7, ""),
        line(
            "2026-11-30 16:20",
            "compartment_state",
            "courier:2",
            9,
            "from: free · reason: not empty or dirty (reported by a courier) · to: out_of_service",
        ),
    ]);
    log.set_lines(model(lines));
}

/// A staff member, in with their own PIN, halfway through a new one.
/// A new PIN half typed, or (`locker_out`) the whole locker out of
/// service since the morning.
fn settings(app: &AppWindow, locker_out: bool) {
    app.global::<Maintenance>().set_signed_in("Sam Lee".into());
    let settings = app.global::<MaintenanceSettings>();
    settings.set_default_language("en".into());
    if locker_out {
        settings.set_pin_step(PinStep::Idle);
        settings.set_locker_out(true);
        settings.set_locker_out_since("2026-12-03 07:40".into());
        settings.set_locker_out_reason("water in the lobby".into());
    } else {
        settings.set_pin_step(PinStep::Again);
        settings.set_pin_typed("•••••••".into());
    }
}
