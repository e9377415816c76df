//! Checking a configuration file as it grows: a building-sized locker of
//! 16,000 compartments and a campus of 100,000, each on boards of 50
//! channels. The cost should grow with the file, not with its square.
//!
//! `cargo bench -- config` for the figures; the suite's smoke run checks
//! 2,000 compartments once.

use std::time::Instant;

use locker_kiosk::config::{Config, ConfigSource};

/// A valid layout of `compartments` compartments.
pub fn layout(compartments: u32) -> String {
    let per_board = 50;
    let mut text = String::from("[locker]\nid = \"big-1\"\nname = \"Big\"\n\n");
    for board in 0..compartments.div_ceil(per_board) {
        text.push_str(&format!(
            "[[boards]]\nid = \"B{board}\"\nport = \"sim\"\nprotocol = \"8a\"\naddress = {}\nchannels = {per_board}\n\n",
            board % 32 + 1
        ));
    }
    for i in 0..compartments {
        text.push_str(&format!(
            "[[compartments]]\nnumber = {}\nsize = \"M\"\ncolumn = {}\nrow = {}\nheight_mm = {}\nboard = \"B{}\"\nchannel = {}\n\n",
            i + 1,
            i / 8 + 1,
            i % 8 + 1,
            200 + (i % 8) * 250,
            i / per_board,
            i % per_board + 1
        ));
    }
    text
}

/// The whole benchmark when `full`, else its smoke run.
pub fn run(full: bool) {
    let sizes: &[u32] = if full {
        &[1_000, 16_000, 100_000]
    } else {
        &[2_000]
    };
    for &compartments in sizes {
        let text = layout(compartments);
        let started = Instant::now();
        let config = Config::parse(&text, ConfigSource::File("bench.toml".into())).unwrap();
        let took = started.elapsed();
        assert_eq!(config.compartments.len(), compartments as usize);
        println!(
            "{compartments:>7} compartments ({:>5.1} MB): {:>8.1} ms, {:.2} µs each (target: ≤ 2 s at 16,000)",
            text.len() as f64 / 1e6,
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e6 / compartments as f64
        );
    }
}
