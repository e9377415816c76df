//! Reports raised by recipients and couriers (missing, damaged, door did
//! not open, dirty), and marking them handled.

use super::ReportEntry;
use crate::app::service::ServiceError;
use crate::app::{Service, system};
use crate::domain::maintenance::PinHolder;

/// How many reports the list shows.
const SHOWN: u32 = 100;

/// Open reports newest first, then (with `include_handled`) handled ones.
/// A courier is named (`courier:3` becomes their name and company).
pub async fn list(
    service: &Service,
    include_handled: bool,
) -> Result<Vec<ReportEntry>, ServiceError> {
    service
        .call(move |store| {
            let rows = store.reports().rows(include_handled, SHOWN)?;
            rows.into_iter()
                .map(|row| {
                    let courier = match row.reported_by.strip_prefix("courier:") {
                        Some(id) => id
                            .parse()
                            .ok()
                            .map(|id| store.couriers().get(id))
                            .transpose()?
                            .flatten()
                            .map(|c| format!("{} ({})", c.name, c.company)),
                        None => None,
                    };
                    Ok(ReportEntry::of(row, courier))
                })
                .collect()
        })
        .await
}

pub async fn mark_handled(
    service: &Service,
    by: &PinHolder,
    report: i64,
) -> Result<(), ServiceError> {
    let actor = by.actor();
    let now = system::now();
    service
        .reports(move |reports| reports.mark_handled(report, &actor, now))
        .await
}
