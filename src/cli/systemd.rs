//! The kiosk as a systemd service (`Type=notify` in
//! packaging/locker-kiosk.service): READY once the first frame is drawn,
//! STOPPING when asked to stop, and the watchdog's heartbeats from the
//! UI's event loop, so that a frozen screen is killed and started again.
//! Outside systemd (no `NOTIFY_SOCKET`) each of these does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

/// The kiosk shows its first frame: systemd counts the start as done.
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A stop was asked for: the visit on screen is being ended.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(state: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "cannot reach systemd's notification socket");
    }
}

/// Starts the watchdog's heartbeats when systemd asks for them
/// (`WatchdogSec=`): a timer on the UI's event loop, at half the
/// watchdog's interval, so that they stop when the loop stops turning.
/// Keep the timer for as long as the kiosk runs.
pub fn start_watchdog() -> Option<slint::Timer> {
    let mut limit_us = 0;
    if !sd_notify::watchdog_enabled(false, &mut limit_us) {
        return None;
    }
    let interval = Duration::from_micros(limit_us) / 2;
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, interval, || {
        notify(&[NotifyState::Watchdog]);
    });
    tracing::info!(
        every_ms = interval.as_millis() as u64,
        "systemd's watchdog is fed from the screen's event loop"
    );
    Some(timer)
}
