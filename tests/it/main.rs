//! The integration tests: one crate, linked once, one module per area.
//! Shared helpers are in `common/`. A new test goes into the module of its
//! area; a new area is a new module here.
//!
//! Run by `scripts/test` under cargo-nextest, which gives every test a
//! process of its own and a time limit (`.config/nextest.toml`); plain
//! `cargo test --test it` works too.

mod common;

mod audit;
mod backup;
mod bench_smoke;

mod cli;
mod cli_control;
mod cli_doors;
mod config;
mod crash;
mod decode;
mod decode_misreads;
mod delegation;
mod demo;
mod dropoff_property;
mod fair_deadlines;
mod fleet;
mod fuzz_replay;
mod handout;
mod kiosk_driver;
mod layering;
mod lock_boards;
mod notify;
mod package;
mod power_cut;
mod reconcile;
mod returns;
mod screen;
mod service;
mod speech;
mod store;
mod store_secrets;
mod store_staff;
mod translations;
mod ui;
mod ui_courier;
mod ui_courier_faults;
mod ui_layout;
mod ui_maintenance;
mod ui_maintenance_admin;
mod ui_maintenance_parcels;
mod ui_pickup;
mod ui_pickup_faults;
mod ui_qr;
mod ui_scanners;
