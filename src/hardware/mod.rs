//! Lock boards, from bytes to doors.
//!
//! What each protocol allows (address range, channels, baud) is part of
//! the configuration (`config::profile`), which checks a layout against it.
//!
//! - `protocol`: each protocol as a pure encoder/decoder, host and board
//!   side, with byte-exact tests;
//! - `link`: the byte pipe (a serial port, or simulated boards);
//! - `bus`: one transaction at a time: gaps, timeouts, echo, resync, retries;
//! - `tracker`: door states, open outcomes and alarms, pure;
//! - `doors`: a thread per bus that polls, opens and publishes events;
//! - `sim`: the board simulator, on a pty or in-process.

pub mod bus;
pub mod doors;
pub mod link;
pub mod protocol;
pub mod sim;
pub mod tracker;

pub use crate::config::profile::{BoardProfile, Protocol, SensorPolarity};
