//! `run --measure SECONDS`: the kiosk measures itself on the machine it
//! runs on: time from start to the first frame on screen, then resident
//! memory and CPU use over SECONDS of being left alone. Prints one line
//! and exits.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// The earliest moment `main` sees (the loader's few milliseconds before
/// it are not counted).
pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

static FIRST_FRAME: OnceLock<Duration> = OnceLock::new();

/// The first frame has been drawn (`ui::on_first_frame`).
pub fn first_frame_drawn() {
    let start = *PROCESS_START.get_or_init(Instant::now);
    FIRST_FRAME.get_or_init(|| start.elapsed());
}

/// Keeps the measurement's timers alive.
pub struct Measuring {
    _timer: slint::Timer,
}

/// Call right before the event loop starts, after the window is shown.
pub fn start(idle: Duration) -> Measuring {
    // Settle for two seconds after start, then measure the idle period.
    let timer = slint::Timer::default();
    let cpu_before = std::cell::Cell::new(None::<(Duration, Instant)>);
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_secs(2),
        move || match cpu_before.get() {
            None => cpu_before.set(Some((cpu_time(), Instant::now()))),
            Some((cpu, at)) if at.elapsed() >= idle => {
                let used = cpu_time().saturating_sub(cpu).as_secs_f64();
                let percent = 100.0 * used / at.elapsed().as_secs_f64();
                let first = FIRST_FRAME
                    .get()
                    .map_or("not seen".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3));
                println!(
                    "first frame: {first}; resident memory: {:.1} MB; CPU over {} s left alone: {percent:.2} % of one core",
                    rss_bytes() as f64 / 1e6,
                    idle.as_secs()
                );
                let _ = slint::quit_event_loop();
            }
            Some(_) => {}
        },
    );
    Measuring { _timer: timer }
}

/// User plus system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or(Vec::new(), |(_, rest)| rest.split(' ').collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 here.
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
