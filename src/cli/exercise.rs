//! `locker-kiosk exercise SCENARIO` (hidden): one scripted visit through
//! the real kiosk driver, service, store and simulated boards, headless.
//! The crash harness (tests/it/crash.rs) runs it as a process of its own
//! and kills it with SIGKILL at every step of the visit.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use super::GlobalArgs;
use crate::app::Service;
use crate::app::kiosk::{CourierAction, CourierNotice, Headless, Input, KioskView, Page};
use crate::domain::SizeClass;
use crate::domain::dropoff::DropoffNotice;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ExerciseArgs {
    pub scenario: Scenario,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// Dana logs in, deposits Deniz's announced parcel, finishes.
    DropOff,
    /// Alice collects her parcel with her PIN.
    Pickup,
    /// Dana takes back Carla's expired parcel.
    TakeBack,
    /// Staff move Alice's parcel from door 2 to door 5 (maintenance's
    /// code, as its screen runs it).
    Move,
    /// Staff take Bob's parcel out of door 10, damaged.
    Remove,
}

pub fn run(global: &GlobalArgs, args: &ExerciseArgs) -> ExitCode {
    match exercise(global, args.scenario) {
        Ok(()) => {
            println!("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("locker-kiosk exercise: {e}");
            ExitCode::FAILURE
        }
    }
}

fn keys(kiosk: &Headless, text: &str) {
    for key in text.chars() {
        kiosk.send(Input::Key(key.to_string()));
    }
    kiosk.send(Input::Enter);
}

fn exercise(global: &GlobalArgs, scenario: Scenario) -> Result<(), String> {
    let mut config = global
        .load_config()
        .map_err(|errors| format!("the configuration has errors:\n{errors}"))?;
    // Doors shut soon after opening, as a quick hand would; door 20 of the
    // take-back is on the demo's second bus, polled less often, so it
    // stays open long enough for its sensor to be read.
    let close_after = match scenario {
        Scenario::TakeBack => 500,
        _ => 150,
    };
    config.doors.simulated_close_after = Some(Duration::from_millis(close_after));
    let mut store = Store::open(&global.data_dir()).map_err(|e| e.to_string())?;
    let now = crate::app::system::now();
    store
        .compartments()
        .sync_layout(&config, now)
        .map_err(|e| e.to_string())?;
    if global.demo && store.is_blank().map_err(|e| e.to_string())? {
        crate::app::demo::seed(&mut store, &config, now).map_err(|e| e.to_string())?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let service = Service::start(store, config, runtime.handle());
    service.doors().wait_first_poll(Duration::from_secs(5));
    if let Some(done) = staff_action(&service, &runtime, scenario) {
        return done;
    }
    let (views, seen) = mpsc::channel::<KioskView>();
    let kiosk = Headless::spawn(&service, runtime.handle(), move |view| {
        let _ = views.send(view.clone());
    });
    let step = std::cell::Cell::new(0);
    let next = |view: &KioskView| -> Option<bool> {
        // Each arm: the view that allows the next input, and that input.
        let done = match (scenario, step.get(), view.page) {
            (Scenario::DropOff, 0, Page::Home) => {
                kiosk.send(Input::DeliverChosen);
                keys(&kiosk, "4711");
                false
            }
            (Scenario::DropOff, 1, Page::CourierScan) => {
                keys(&kiosk, "9400111899223197428497");
                false
            }
            (Scenario::DropOff, 2, Page::CourierSize) => {
                kiosk.send(Input::SizeChosen(SizeClass::M));
                false
            }
            (Scenario::DropOff, 3, Page::CourierScan) if view.courier.deposits.len() == 1 => {
                kiosk.send(Input::Courier(CourierAction::Finish));
                false
            }
            (Scenario::DropOff, 4, Page::CourierDone) => {
                kiosk.send(Input::Leave);
                false
            }
            (Scenario::Pickup, 0, Page::Home) => {
                kiosk.send(Input::PickupChosen);
                keys(&kiosk, "583920");
                false
            }
            (Scenario::Pickup, 1, Page::PickupDone) => {
                kiosk.send(Input::Leave);
                false
            }
            (Scenario::TakeBack, 0, Page::Home) => {
                kiosk.send(Input::DeliverChosen);
                keys(&kiosk, "4711");
                false
            }
            (Scenario::TakeBack, 1, Page::CourierScan) => {
                kiosk.send(Input::Courier(CourierAction::TakeBack));
                false
            }
            (Scenario::TakeBack, 2, Page::CourierScan)
                if view.courier.notice
                    == CourierNotice::Flow(DropoffNotice::TakenBack { count: 1 }) =>
            {
                kiosk.send(Input::Courier(CourierAction::Finish));
                false
            }
            (Scenario::TakeBack, 3, Page::CourierDone) => {
                kiosk.send(Input::Leave);
                false
            }
            (Scenario::DropOff, 5, Page::Home)
            | (Scenario::Pickup, 2, Page::Home)
            | (Scenario::TakeBack, 4, Page::Home) => true,
            _ => return None,
        };
        step.set(step.get() + 1);
        println!("step {}", step.get());
        Some(done)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(view) = seen.recv_timeout(left) else {
            let shown = last.map(|v: KioskView| (v.page, v.courier.notice));
            return Err(format!(
                "the visit stalled at step {} (last shown: {shown:?})",
                step.get()
            ));
        };
        if next(&view) == Some(true) {
            break;
        }
        last = Some(view);
    }
    let _ = runtime.block_on(kiosk.stop());
    Ok(())
}

/// The staff scenarios: maintenance's own functions, as its screen calls
/// them; `None` for a scenario of the kiosk's flows.
fn staff_action(
    service: &Service,
    runtime: &tokio::runtime::Runtime,
    scenario: Scenario,
) -> Option<Result<(), String>> {
    use crate::app::maintenance::parcels::{ParcelActionResult, move_parcel, remove};
    use crate::domain::maintenance::{PinHolder, RemovalReason};
    let by = PinHolder::Staff("alex".into());
    let result = match scenario {
        Scenario::Move => runtime.block_on(move_parcel(service, &by, 1, 5)),
        Scenario::Remove => {
            runtime.block_on(remove(service, &by, 2, RemovalReason::Damaged, false))
        }
        _ => return None,
    };
    println!("step 1");
    Some(match result {
        ParcelActionResult::Moved { .. } | ParcelActionResult::Removed => Ok(()),
        other => Err(format!("staff's action failed: {other:?}")),
    })
}
