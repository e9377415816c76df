//! The kiosk driver on the UI's event loop. Every input is handled at
//! once, on this thread (the driver is pure and quick: it does no I/O),
//! and its view is shown before the next frame; the effects run on the
//! service's runtime and their answers come back through the event loop.
//! Inputs that arrive while a view is being shown wait their turn.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use slint::ComponentHandle;

use super::{AppWindow, UiContext};
use crate::app::kiosk::{Driver, Input, KioskView};
use crate::app::system::SystemClock;

struct Host {
    driver: Driver,
    window: slint::Weak<AppWindow>,
    timer: slint::Timer,
    shown: Option<KioskView>,
    queue: VecDeque<Input>,
    busy: bool,
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// Starts the kiosk driver for `window`; call once every callback is
/// bound (the scans start flowing here).
pub(super) fn start(window: &AppWindow, context: &UiContext) {
    let weak = window.as_weak();
    let deliver = Arc::new(move |input: Input| {
        let _ = weak.upgrade_in_event_loop(move |_| self::input(input));
    });
    let driver = Driver::start(
        &context.service,
        Arc::new(SystemClock),
        &context.runtime,
        deliver,
    );
    let first = driver.current();
    HOST.with(|host| {
        *host.borrow_mut() = Some(Host {
            driver,
            window: window.as_weak(),
            timer: slint::Timer::default(),
            shown: None,
            queue: VecDeque::new(),
            busy: false,
        })
    });
    super::show(window, &first.view, None);
    HOST.with(|host| {
        if let Some(host) = host.borrow_mut().as_mut() {
            host.shown = Some(first.view);
        }
    });
}

/// Ends the visit on screen with its records written, then `then` on the
/// event loop: at most `patience` later, so that a stuck store cannot
/// hold a stop up for ever.
pub(super) fn stop(
    runtime: &tokio::runtime::Handle,
    patience: std::time::Duration,
    then: impl FnOnce() + Send + 'static,
) {
    let drained = HOST.with(|host| host.borrow_mut().as_mut().map(|h| h.driver.stop()));
    runtime.spawn(async move {
        if let Some(drained) = drained
            && tokio::time::timeout(patience, drained).await.is_err()
        {
            tracing::warn!("stopping without the last records: the store did not answer");
        }
        let _ = slint::invoke_from_event_loop(then);
    });
}

/// Hands `input` to the kiosk and shows what it decided.
pub(super) fn input(input: Input) {
    let first = HOST.with(|host| {
        let mut host = host.borrow_mut();
        let Some(host) = host.as_mut() else {
            return false;
        };
        host.queue.push_back(input);
        !std::mem::replace(&mut host.busy, true)
    });
    if !first {
        return;
    }
    loop {
        let next = HOST.with(|host| {
            let mut host = host.borrow_mut();
            let host = host.as_mut()?;
            let Some(input) = host.queue.pop_front() else {
                host.busy = false;
                return None;
            };
            let step = host.driver.handle(input);
            match step.wake_in {
                Some(wait) => host.timer.start(slint::TimerMode::SingleShot, wait, || {
                    self::input(Input::Tick)
                }),
                None => host.timer.stop(),
            }
            Some((step.view, host.shown.take(), host.window.clone()))
        });
        let Some((view, before, window)) = next else {
            break;
        };
        // Shown outside the borrow: a property change may call back.
        if let Some(window) = window.upgrade() {
            super::show(&window, &view, before.as_ref());
        }
        HOST.with(|host| {
            if let Some(host) = host.borrow_mut().as_mut() {
                host.shown = Some(view);
            }
        });
    }
}
