//! The reports tab: what recipients and couriers reported, and marking a
//! report handled. The tab's badge counts the open ones.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::Staff;
use crate::app::maintenance::{ReportEntry, Reporter, reports};
use crate::app::system;
use crate::ui::{AppWindow, MaintenanceReports, ReportLine, ReporterKind};

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let reports = window.global::<MaintenanceReports>();
    reports.on_show_handled_toggled(staff.action(window, |window, staff| {
        let reports = window.global::<MaintenanceReports>();
        reports.set_show_handled(!reports.get_show_handled());
        show(window, staff);
    }));
    reports.on_mark_handled(staff.action_with(window, |window, staff, report: i32| {
        let (weak, service) = (window.as_weak(), staff.service().clone());
        let include_handled = window.global::<MaintenanceReports>().get_show_handled();
        let who = staff.who();
        staff.spawn(async move {
            if let Err(e) = reports::mark_handled(&service, &who, i64::from(report)).await {
                tracing::error!(error = %e, "marking a report handled failed");
            }
            load(weak, &service, include_handled).await;
        });
    }));
}

/// Loads the list, and the open reports' count for the tab's badge.
pub(super) fn show(window: &AppWindow, staff: &Staff) {
    let include_handled = window.global::<MaintenanceReports>().get_show_handled();
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move { load(weak, &service, include_handled).await });
}

async fn load(weak: slint::Weak<AppWindow>, service: &crate::app::Service, include_handled: bool) {
    let rows = match reports::list(service, include_handled).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "reading the reports failed");
            return;
        }
    };
    let _ = weak.upgrade_in_event_loop(move |window| {
        let open = rows.iter().filter(|r| r.handled_at.is_none()).count();
        let lines: Vec<ReportLine> = rows.iter().map(line_of).collect();
        let reports = window.global::<MaintenanceReports>();
        reports.set_open_count(open as i32);
        reports.set_reports(ModelRc::new(VecModel::from(lines)));
    });
}

fn line_of(entry: &ReportEntry) -> ReportLine {
    ReportLine {
        id: entry.id as i32,
        kind: entry.kind.clone().into(),
        compartment: entry.compartment.map_or(0, |c| c as i32),
        tracking: entry.tracking.clone().unwrap_or_default().into(),
        reporter: match entry.reporter {
            Reporter::Recipient => ReporterKind::Recipient,
            Reporter::Courier => ReporterKind::Courier,
            Reporter::Staff => ReporterKind::Staff,
            Reporter::Kiosk => ReporterKind::Kiosk,
        },
        reporter_name: entry.reporter_name.clone().unwrap_or_default().into(),
        at: system::local_time(entry.created_at).into(),
        handled: entry.handled_at.is_some(),
        handled_at: entry
            .handled_at
            .map(system::local_time)
            .unwrap_or_default()
            .into(),
    }
}
