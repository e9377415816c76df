//! The hardware tab: lock boards, camera (its view comes through the home
//! screen's preview), scanners with a test scan, and the sync state.
//! Refreshed once a second while shown.

use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::Staff;
use crate::app::Service;
use crate::app::maintenance::status::{self, HardwareStatus, Meaning, Reader, TestScan};
use crate::app::system;
use crate::ui::{
    AppWindow, BoardLine, MaintenanceHardware, MaintenanceTab, ScanMeaning, ScanReader, ScannerLine,
};

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    // Test scans: whatever any scanner reads while the tab is shown.
    let Some(mut scans) = staff.service().scans() else {
        return;
    };
    let (weak, on_screen) = (window.as_weak(), staff.on_screen.clone());
    let locker = staff.service().config().locker.id.clone();
    staff.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match scans.recv().await {
                Ok(scan) if on_screen.showing(MaintenanceTab::Hardware) => {
                    let scan = TestScan::of(&scan, &locker);
                    let _ = weak.upgrade_in_event_loop(move |window| show_scan(&window, scan));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn show_scan(window: &AppWindow, scan: TestScan) {
    let hardware = window.global::<MaintenanceHardware>();
    hardware.set_last_scan(scan.text.into());
    hardware.set_last_scan_reader(match scan.reader {
        Reader::Camera => ScanReader::Camera,
        Reader::Serial => ScanReader::SerialScanner,
        Reader::Keyboard => ScanReader::KeyboardScanner,
    });
    hardware.set_last_scan_symbology(scan.symbology.into());
    hardware.set_last_scan_meaning(match scan.meaning {
        Meaning::PickupHere => ScanMeaning::PickupHere,
        Meaning::PickupElsewhere => ScanMeaning::PickupElsewhere,
        Meaning::CourierBadge => ScanMeaning::CourierBadge,
        Meaning::Tracking => ScanMeaning::Tracking,
        Meaning::Other => ScanMeaning::Other,
    });
}

pub(super) fn show(window: &AppWindow, staff: &Rc<Staff>) {
    let hardware = window.global::<MaintenanceHardware>();
    hardware.set_last_scan("".into());
    hardware.set_last_scan_meaning(ScanMeaning::None);
    let refresh_now = {
        let (weak, service) = (window.as_weak(), staff.service().clone());
        let runtime = staff.runtime.clone();
        move || {
            let (weak, service) = (weak.clone(), service.clone());
            runtime.spawn(async move { refresh(weak, &service).await });
        }
    };
    refresh_now();
    staff.ticker.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(1),
        refresh_now,
    );
}

pub(super) async fn refresh(weak: slint::Weak<AppWindow>, service: &Service) {
    match status::read(service).await {
        Ok(status) => {
            let _ = weak.upgrade_in_event_loop(move |window| show_status(&window, &status));
        }
        Err(e) => tracing::error!(error = %e, "reading the hardware status failed"),
    }
}

fn show_status(window: &AppWindow, status: &HardwareStatus) {
    let hardware = window.global::<MaintenanceHardware>();
    let boards: Vec<BoardLine> = status
        .boards
        .iter()
        .map(|b| BoardLine {
            id: b.id.clone().into(),
            protocol: b.protocol.clone().into(),
            port: b.port.clone().into(),
            simulated: b.simulated,
            online: b.online,
            offline: b.offline,
            last_reply_secs: b
                .last_reply_secs
                .map_or(-1, |s| s.min(i32::MAX as u64) as i32),
            port_error: b.port_error.clone().unwrap_or_default().into(),
            transactions: b.transactions.min(i32::MAX as u64) as i32,
            timeouts: b.timeouts.min(i32::MAX as u64) as i32,
            garbage_bytes: b.garbage_bytes.min(i32::MAX as u64) as i32,
        })
        .collect();
    hardware.set_boards(ModelRc::new(VecModel::from(boards)));
    let scanners: Vec<ScannerLine> = status
        .serial_scanners
        .iter()
        .map(|s| ScannerLine {
            port: s.port.clone().into(),
            online: s.online,
        })
        .collect();
    hardware.set_scanners(ModelRc::new(VecModel::from(scanners)));
    hardware.set_keyboard_scanner(status.keyboard_scanner);
    let sync = &status.sync;
    hardware.set_outbox_pending(sync.pending.min(i32::MAX as u64) as i32);
    hardware.set_outbox_oldest(
        sync.oldest_pending
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
    );
    hardware.set_last_contact(
        sync.last_contact
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
    );
    hardware.set_fleet_configured(sync.configured);
    hardware.set_fleet_connected(sync.connected);
    hardware.set_fleet_error(sync.link_error.clone().unwrap_or_default().into());
    let messages = status.messages.clone();
    hardware.set_messages_configured(messages.is_some());
    let messages = messages.unwrap_or_default();
    hardware.set_messages_waiting(messages.waiting.min(i32::MAX as u64) as i32);
    hardware.set_messages_oldest(
        messages
            .oldest_waiting
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
    );
    hardware.set_messages_last_error(messages.last_error.unwrap_or_default().into());
    hardware.set_messages_unreachable(messages.unreachable.min(i32::MAX as u64) as i32);
    hardware.set_messages_last_sent(
        messages
            .last_delivered
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
    );
}
