//! A full frame drawn by Slint's software renderer (what the panel uses),
//! for the busiest screens at 1280x800: every pixel, as after a page
//! change. `cargo bench -- render`; the suite's smoke run draws one round.

use std::time::{Duration, Instant};

use locker_kiosk::ui::screenshot::Staged;

/// The whole benchmark when `full`, else its smoke run.
pub fn run(full: bool) {
    let rounds = if full { 60 } else { 1 };
    if !full {
        println!("smoke run: one round, figures not comparable to the targets");
    }
    let (width, height) = (1280, 800);
    let mut staged = Staged::new(width, height).expect("headless rendering");
    println!("full frames at {width}x{height}, software renderer (target ≤ 16 ms)");
    for screen in [
        "home",
        "pickup-code",
        "pickup-doors",
        "courier-scan-typing",
        "courier-door",
        "courier-done",
        "maintenance",
        "maintenance-parcels",
        "maintenance-hardware",
        "maintenance-log",
    ] {
        staged.show(screen, "en").unwrap();
        staged.draw(); // first draw loads fonts and images
        let mut times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                staged.draw();
                started.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{screen:<22} median {:>6.2} ms  p95 {:>6.2} ms",
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 95).div_ceil(100) - 1])
        );
    }
}
