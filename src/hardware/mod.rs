//! Lock-board drivers.
//!
//! Today this holds the board profiles (what each protocol allows: address
//! range, channel count, default baud) used to validate the configuration.
//! The sans-IO protocol codecs, the serial bus task, the door-state tracker
//! and the board simulator come with the lock-board work (issue 3).

pub mod profile;

pub use profile::{BoardProfile, Protocol, SensorPolarity};
