//! locker-kiosk: touchscreen software for smart parcel lockers.
//!
//! The folders are the architecture (see ARCHITECTURE.md):
//! - [`domain`]: the pure core (compartments, parcels, codes, flows);
//! - [`config`]: the TOML configuration, checked at start-up;
//! - [`store`]: the local SQLite database;
//! - [`hardware`]: lock boards;
//! - [`scanning`]: cameras, scanners and barcode decoding;
//! - [`notify`]: telling recipients by email and webhook;
//! - [`fleet`]: the fleet link's contract (topics, messages, signed commands);
//! - [`app`]: the application service that ties them together;
//! - [`ui`]: the adapters between the Slint UI in `ui/` and the service;
//! - [`cli`]: the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod hardware;
pub mod notify;
pub mod scanning;
pub mod speech;
pub mod store;
pub mod ui;
