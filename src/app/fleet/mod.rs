//! The fleet link (`[fleet]`): the outbox published to an MQTT broker
//! with QoS 1, in order, each event marked sent only once the broker has
//! acknowledged it; the locker's state (retained), a heartbeat and a last
//! will; and the fleet's signed commands, carried out at most once and
//! answered. The contract itself (topics, messages, signatures) is the
//! pure `crate::fleet`; this is the connection and the store work.
//!
//! The store is the only queue: each connection starts from the oldest
//! unacknowledged event, so a broker restart, a pulled cable or a crash
//! loses nothing; a repeat carries the same id for the consumer to drop.

mod commands;
mod connection;
mod messages;

pub use commands::handle as handle_command;
pub use connection::{FleetLink, LinkStatus, mqtt_options};
pub use messages::{event_message, state_message};
