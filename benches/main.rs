//! The benchmarks: one binary, one module each, each printing its figures
//! against its target (the README quotes them).
//!
//! `cargo bench` runs them all; `cargo bench -- NAME...` the named ones
//! (`bus`, `config`, `decode`, `maintenance`, `render`, `scan`); `cargo bench --
//! decode DIR` decodes another corpus. The test suite runs each once in a
//! small smoke form (`tests/it/bench_smoke.rs`), so that none rots.

use std::path::PathBuf;

mod bus;
mod config;
mod decode;
mod maintenance;
mod render;
mod scan;

const NAMES: [&str; 6] = ["bus", "config", "decode", "maintenance", "render", "scan"];

fn main() {
    // cargo passes `--bench` to a bench target; anything else that is not
    // a flag is a benchmark's name, or decode's corpus folder.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let full = std::env::args().any(|a| a == "--bench");
    let (mut chosen, rest): (Vec<&str>, Vec<&str>) = args
        .iter()
        .map(String::as_str)
        .partition(|a| NAMES.contains(a));
    // Only decode takes an argument, its corpus folder.
    let corpus_allowed = chosen.contains(&"decode") && rest.len() <= 1;
    if let (Some(unknown), false) = (rest.first(), corpus_allowed) {
        eprintln!(
            "unknown benchmark `{unknown}`; the benchmarks are {}",
            NAMES.join(", ")
        );
        std::process::exit(2);
    }
    if chosen.is_empty() {
        chosen = NAMES.to_vec();
    }
    for name in chosen {
        println!("== {name}");
        match name {
            "bus" => bus::run(full),
            "config" => config::run(full),
            "decode" => decode::run(full, rest.first().map(PathBuf::from)),
            "maintenance" => maintenance::run(full),
            "render" => render::run(full),
            "scan" => scan::run(full),
            _ => unreachable!("one of NAMES"),
        }
    }
}
