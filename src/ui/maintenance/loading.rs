//! The "Load items" tab: the imported items door by door, one door open
//! at a time; the tab's badge counts what is left.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::Staff;
use crate::app::Service;
use crate::app::maintenance::loading::{self, ItemToLoad, LoadResult};
use crate::ui::{AppWindow, LoadLine, LoadStep, MaintenanceLoading, OpenResult};

pub(super) fn bind(window: &AppWindow, staff: &Rc<Staff>) {
    let loading = window.global::<MaintenanceLoading>();
    loading.on_load(staff.action_with(window, |window, staff, parcel: i32| {
        let tab = window.global::<MaintenanceLoading>();
        if matches!(tab.get_step(), LoadStep::Opening | LoadStep::Open) {
            return; // One door at a time.
        }
        let Some(item) = item_of(&tab, parcel) else {
            return;
        };
        tab.set_step(LoadStep::Opening);
        tab.set_door(item.compartment as i32);
        tab.set_item(item.item.clone().into());
        tab.set_person(item.person.clone().into());
        let (weak, service, who) = (window.as_weak(), staff.service().clone(), staff.who());
        staff.spawn(async move {
            let opened = weak.clone();
            let result = loading::load(&service, &who, &item, move || {
                let _ = opened.upgrade_in_event_loop(|window| {
                    window
                        .global::<MaintenanceLoading>()
                        .set_step(LoadStep::Open);
                });
            })
            .await;
            let _ = weak.upgrade_in_event_loop(move |window| {
                let tab = window.global::<MaintenanceLoading>();
                match result {
                    LoadResult::Loaded(_) => {
                        tab.set_step(LoadStep::Loaded);
                        tab.set_loaded_count(tab.get_loaded_count() + 1);
                    }
                    LoadResult::DidNotOpen(outcome) => {
                        tab.set_open_result(super::doors::open_result(outcome));
                        tab.set_step(LoadStep::DidNotOpen);
                    }
                    LoadResult::NotRecorded(_) => tab.set_step(LoadStep::NotRecorded),
                }
            });
            refresh(weak, &service).await;
        });
    }));
    loading.on_cancel(staff.action_with(window, |window, staff, parcel: i32| {
        let (weak, service, who) = (window.as_weak(), staff.service().clone(), staff.who());
        staff.spawn(async move {
            if let Err(e) = loading::cancel(&service, &who, i64::from(parcel)).await {
                tracing::error!(error = %e, "taking an item off the list failed");
            }
            refresh(weak, &service).await;
        });
    }));
}

/// The line of `parcel` as an item to load.
fn item_of(tab: &MaintenanceLoading<'_>, parcel: i32) -> Option<ItemToLoad> {
    use slint::Model;
    tab.get_items()
        .iter()
        .find(|line| line.parcel == parcel)
        .map(|line| ItemToLoad {
            parcel: i64::from(line.parcel),
            compartment: line.door as u32,
            person: line.person.to_string(),
            item: line.item.to_string(),
            asset_tag: Some(line.asset_tag.to_string()).filter(|t| !t.is_empty()),
        })
}

/// Entering maintenance: nothing under way, nothing loaded yet.
pub(super) fn reset(window: &AppWindow) {
    let tab = window.global::<MaintenanceLoading>();
    tab.set_step(LoadStep::Idle);
    tab.set_open_result(OpenResult::None);
    tab.set_loaded_count(0);
}

pub(super) fn show(window: &AppWindow, staff: &Staff) {
    let (weak, service) = (window.as_weak(), staff.service().clone());
    staff.spawn(async move { refresh(weak, &service).await });
}

/// Reads the items left off the UI thread and shows them.
async fn refresh(weak: slint::Weak<AppWindow>, service: &Service) {
    let items = match loading::to_load(service).await {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "reading the items to load failed");
            return;
        }
    };
    let _ = weak.upgrade_in_event_loop(move |window| {
        let lines: Vec<LoadLine> = items
            .iter()
            .map(|item| LoadLine {
                parcel: item.parcel as i32,
                door: item.compartment as i32,
                person: item.person.clone().into(),
                item: item.item.clone().into(),
                asset_tag: item.asset_tag.clone().unwrap_or_default().into(),
            })
            .collect();
        window
            .global::<MaintenanceLoading>()
            .set_items(ModelRc::new(VecModel::from(lines)));
    });
}
