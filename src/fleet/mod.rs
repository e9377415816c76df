//! The fleet link's contract, sans IO: the topics a locker uses, the
//! messages it publishes, and the signed commands it accepts. The MQTT
//! connection that carries them is `app::fleet`; the schemas are in
//! `docs/fleet/` (AsyncAPI plus one JSON Schema per message).

pub mod command;
pub mod topics;
pub mod wire;

pub use command::{Command, CommandError, SignedCommand, sign, verify};
pub use topics::Topics;
