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
use crate::app::kiosk::{CourierAction, Headless, Input, KioskView, Page};
use crate::domain::SizeClass;
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
    config.doors.simulated_close_after = Some(Duration::from_millis(150));
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
            (Scenario::DropOff, 5, Page::Home) | (Scenario::Pickup, 2, Page::Home) => true,
            _ => return None,
        };
        step.set(step.get() + 1);
        println!("step {}", step.get());
        Some(done)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let view = seen
            .recv_timeout(left)
            .map_err(|_| format!("the visit stalled at step {}", step.get()))?;
        if next(&view) == Some(true) {
            break;
        }
    }
    let _ = runtime.block_on(kiosk.stop());
    Ok(())
}
