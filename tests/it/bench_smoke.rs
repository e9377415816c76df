//! Every benchmark of `benches/` once, in its small smoke form, so that
//! none rots between `cargo bench` runs; the figures printed here are not
//! comparable to the targets. The bench modules are compiled into this
//! crate, so the suite builds no bench binary of its own.

#[path = "../../benches/bus.rs"]
mod bus;
#[path = "../../benches/config.rs"]
mod config;
#[path = "../../benches/decode.rs"]
mod decode;
#[path = "../../benches/maintenance.rs"]
mod maintenance;
#[path = "../../benches/render.rs"]
mod render;
#[path = "../../benches/scan.rs"]
mod scan;

#[test]
fn bus_timing_over_a_pty() {
    bus::run(false);
}

#[test]
fn checking_a_large_configuration() {
    config::run(false);
}

#[test]
fn decoding_the_corpus() {
    decode::run(false, None);
}

#[test]
fn staff_screens_store_reads() {
    maintenance::run(false);
}

#[test]
fn full_frames_in_the_software_renderer() {
    render::run(false);
}

#[test]
fn camera_path_latency() {
    scan::run(false);
}
