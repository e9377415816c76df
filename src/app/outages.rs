//! Fair deadlines: when the locker could not hand parcels out, their
//! recipients get that time back (`domain::outage`). Four outages are
//! seen: the kiosk not running (the gap since it last said it was alive,
//! found at start), a lock board offline (from its `board_offline` event
//! to its return), a compartment out of service or faulty, and the whole
//! locker out of service (each until staff put it back).

use std::time::Duration;

use super::Service;
use super::kiosk::records::Settings;
use super::system::{self, OsEntropy};
use crate::domain::outage::{Outage, OutageCause};
use crate::domain::{CompartmentNumber, Timestamp};
use crate::store::{Closure, Credited, LogFilter, Result, Store};

/// How often the kiosk writes that it is alive: the resolution of a
/// downtime measured after a crash or power cut.
pub const ALIVE_EVERY: Duration = Duration::from_secs(60);

/// At start: the time since the kiosk was last alive is given back to
/// every parcel waiting through it (none on a first start, nothing for a
/// quick restart).
pub fn settle_downtime(
    store: &mut Store,
    settings: &Settings,
    now: Timestamp,
) -> Result<Vec<Credited>> {
    let credited = match store.alive_at()? {
        Some(from) if from < now => {
            let outage = Outage {
                cause: OutageCause::KioskDown,
                from,
                to: now,
            };
            give_back(store, &outage, None, settings)?
        }
        _ => Vec::new(),
    };
    store.set_alive_at(now)?;
    Ok(credited)
}

/// Writes that the kiosk is alive, every [`ALIVE_EVERY`], for as long as
/// the service runs.
pub async fn keep_alive(service: Service) {
    let mut ticks = tokio::time::interval(ALIVE_EVERY);
    loop {
        ticks.tick().await;
        let now = system::now();
        if let Err(e) = service.call(move |store| store.set_alive_at(now)).await {
            tracing::warn!(error = %e, "could not write that the kiosk is alive");
        }
    }
}

/// Board `board` answers again (its `board_online` just recorded): the
/// time since it went offline is given back to the parcels behind its
/// doors.
pub fn board_back(
    store: &mut Store,
    board: &str,
    compartments: &[CompartmentNumber],
    settings: &Settings,
    now: Timestamp,
) -> Result<Vec<Credited>> {
    let of_board = |kind: &str, store: &mut Store| -> Result<Vec<(i64, Timestamp)>> {
        Ok(store
            .events()
            .recent(Some(kind), 100)?
            .into_iter()
            .filter(|e| e.detail["board"].as_str() == Some(board))
            .map(|e| (e.id, e.at))
            .collect())
    };
    let Some((offline_id, from)) = of_board("board_offline", store)?.first().copied() else {
        return Ok(Vec::new());
    };
    // Back once since then (this time): an outage. Back before: it was
    // given back then.
    let back = of_board("board_online", store)?
        .iter()
        .filter(|(id, _)| *id > offline_id)
        .count();
    if back != 1 {
        return Ok(Vec::new());
    }
    let outage = Outage {
        cause: OutageCause::BoardOffline {
            board: board.to_string(),
        },
        from,
        to: now,
    };
    give_back(store, &outage, Some(compartments), settings)
}

/// Compartment `number` is back in service: the time since it left is
/// given back to the parcels in it.
pub fn back_in_service(
    store: &mut Store,
    number: CompartmentNumber,
    settings: &Settings,
    now: Timestamp,
) -> Result<Vec<Credited>> {
    let since = store
        .events()
        .log_page(LogFilter::Compartment(number), None, 200)?
        .into_iter()
        .filter(|e| e.kind == "compartment_state")
        .find(|e| matches!(e.detail["to"].as_str(), Some("faulty" | "out_of_service")))
        .map(|e| e.at);
    let Some(from) = since else {
        return Ok(Vec::new());
    };
    let outage = Outage {
        cause: OutageCause::CompartmentOutOfService,
        from,
        to: now,
    };
    give_back(store, &outage, Some(&[number]), settings)
}

/// Puts the whole locker back in service: the time it was out is given
/// back to every parcel inside. `None` when it was in service.
pub fn locker_back_in_service(
    store: &mut Store,
    settings: &Settings,
    actor: &str,
    now: Timestamp,
) -> Result<Option<(Closure, Vec<Credited>)>> {
    let Some(closure) = store.staff().closure()? else {
        return Ok(None);
    };
    // Given back first: a crash before the locker is back gives nothing
    // twice (each parcel keeps how far it was credited), and the time
    // is given back again up to the next try.
    let outage = Outage {
        cause: OutageCause::LockerOutOfService,
        from: closure.since,
        to: now,
    };
    let credited = give_back(store, &outage, None, settings)?;
    store.staff().put_back_in_service(actor, now)?;
    Ok(Some((closure, credited)))
}

fn give_back(
    store: &mut Store,
    outage: &Outage,
    compartments: Option<&[CompartmentNumber]>,
    settings: &Settings,
) -> Result<Vec<Credited>> {
    let credited = store.parcels().credit_outage(
        outage,
        compartments,
        settings.outage_credit_min_ms,
        settings.pin_length,
        &mut OsEntropy,
        outage.to,
    )?;
    for parcel in &credited {
        tracing::info!(
            tracking = %parcel.tracking,
            cause = outage.cause.name(),
            minutes = (outage.to.0 - outage.from.0) / 60_000,
            "a parcel's deadline moved for an outage"
        );
    }
    Ok(credited)
}
