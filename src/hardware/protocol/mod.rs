//! The lock-board protocols as pure encoders and decoders ("sans-IO").
//!
//! Nothing here reads a port or a clock. [`Codec::encode`] turns a
//! [`Request`] into bytes; [`Codec::decode`] looks at whatever bytes have
//! arrived and says whether the reply to that request is complete, needs
//! more bytes, or is preceded by garbage to skip. Timing, retries, echo
//! handling and the serial port live once, in the bus.
//!
//! Every decoder checks the header, the board address, the channel and the
//! checksum of a frame before it believes it: a reply for another board or
//! another channel is skipped like any other garbage.

mod eight_a;
mod kerong_cu;
mod kerong_cu16;
mod winnsen;

use super::SensorPolarity;
use crate::config::{BoardConfig, StatusOrder};
use crate::hardware::Protocol;

/// What a board is asked to do. Channels are 1-based as on the labels;
/// each codec converts to its own numbering. There is deliberately no way
/// to address channel 0: "all" exists only as [`Request::OpenAll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    Open { channel: u16 },
    OpenAll,
    QueryOne { channel: u16 },
    QueryAll,
}

/// What one door sensor says, after the board's wiring polarity is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    Open,
    Closed,
}

/// A board's decoded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The board acknowledged an open. `accepted` is false when it said it
    /// failed; `door` is the sensor reading it sent along, if any. Neither
    /// proves the door moved: only a later sensor reading does.
    OpenAck { accepted: bool, door: Option<Door> },
    /// Door states, channel 1 first, for as many channels as the board has.
    Doors(Vec<Door>),
    /// One channel's door.
    Door(Door),
    /// The board answered but refused (bad checksum, unknown command).
    Refused,
}

/// The result of looking for a reply in received bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Not enough bytes yet for a verdict.
    NeedMore,
    /// A valid reply in `buf[skip..skip + len]`; bytes before it were garbage.
    Reply {
        reply: Reply,
        skip: usize,
        len: usize,
    },
    /// Bytes that can never begin the reply: drop them and look again.
    Garbage(usize),
}

/// Per-board facts the codecs need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub address: u8,
    pub channels: u16,
    pub polarity: SensorPolarity,
    pub status_order: StatusOrder,
    pub pulse_secs: Option<u8>,
}

impl Target {
    pub fn of(board: &BoardConfig) -> Target {
        Target {
            address: board.address,
            channels: board.channels,
            polarity: board.polarity,
            status_order: board.options.status_order,
            pulse_secs: board.options.pulse_secs,
        }
    }

    /// Turns a raw sensor bit into a door state. `active_means_closed` is
    /// the protocol's meaning of a set bit under the usual wiring.
    fn door(&self, active: bool, active_means_closed: bool) -> Door {
        let closed = active == active_means_closed;
        let closed = match self.polarity {
            SensorPolarity::ClosedWhenLocked => closed,
            SensorPolarity::ClosedWhenOpen => !closed,
        };
        if closed { Door::Closed } else { Door::Open }
    }

    /// The inverse of [`Target::door`], for the simulated board.
    fn raw_bit(&self, open: bool, active_means_closed: bool) -> bool {
        let closed = match self.polarity {
            SensorPolarity::ClosedWhenLocked => !open,
            SensorPolarity::ClosedWhenOpen => open,
        };
        closed == active_means_closed
    }

    /// Door states of all channels from raw bits.
    fn doors(&self, bits: impl Iterator<Item = bool>, active_means_closed: bool) -> Vec<Door> {
        bits.take(usize::from(self.channels))
            .map(|bit| self.door(bit, active_means_closed))
            .collect()
    }
}

/// Whether a request is answered, per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A reply comes and is needed.
    Reply,
    /// Some firmware answers, some does not: wait briefly, do not insist.
    MaybeReply,
    /// No reply is documented: do not wait for one.
    NoReply,
}

pub trait Codec: Send + Sync {
    /// The bytes to send, or `None` when the protocol has no such command
    /// (the bus then does it another way, e.g. open-all as single opens).
    fn encode(&self, target: &Target, request: &Request) -> Option<Vec<u8>>;

    fn expect(&self, request: &Request) -> Expect;

    /// Looks for the reply to `request` at the start of `buf`.
    fn decode(&self, target: &Target, request: &Request, buf: &[u8]) -> Decoded;

    // The board's side, used by the simulator, so that it answers with
    // exactly the bytes the host side is tested against.

    /// Finds a request addressed to any board at the start of `buf`.
    fn parse_request(&self, buf: &[u8]) -> Parsed;

    /// The reply a real board sends to `request`, given which of its doors
    /// are open (index 0 = channel 1) and whether it could pulse the lock.
    /// `None` when such a board sends nothing.
    fn encode_reply(
        &self,
        target: &Target,
        request: &Request,
        open: &[bool],
        pulsed: bool,
    ) -> Option<Vec<u8>>;
}

/// A request found by a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    NeedMore,
    Garbage(usize),
    /// A request for the board at `address`, `len` bytes long.
    Request {
        address: u8,
        request: Request,
        len: usize,
    },
    /// A well-formed frame the simulated board does not act on.
    Ignored(usize),
}

/// The codec for a protocol.
pub fn codec(protocol: Protocol) -> &'static dyn Codec {
    match protocol {
        Protocol::EightA => &eight_a::EightA,
        Protocol::KerongCu16 => &kerong_cu16::KerongCu16,
        Protocol::KerongCu => &kerong_cu::KerongCu,
        Protocol::Winnsen => &winnsen::Winnsen,
    }
}

/// XOR of all bytes (8a checksum).
fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Low byte of the sum of all bytes (Kerong checksums).
fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// Finds the first position at which a frame may start; everything before
/// it is garbage. `Garbage(0)` never happens: an empty skip is `None`.
fn resync(buf: &[u8], header: u8) -> Option<Decoded> {
    match buf.iter().position(|b| *b == header) {
        Some(0) => None,
        Some(n) => Some(Decoded::Garbage(n)),
        None if buf.is_empty() => Some(Decoded::NeedMore),
        None => Some(Decoded::Garbage(buf.len())),
    }
}

/// Reads bits least significant first from `bytes` in order (bit 0 of
/// byte 0 is channel 1).
fn bits_lsb_first(bytes: &[u8]) -> impl Iterator<Item = bool> + '_ {
    (0..bytes.len() * 8).map(move |i| bytes[i / 8] & (1 << (i % 8)) != 0)
}

/// Packs bits (channel 1 first) into `len` bytes, least significant first.
fn pack_lsb_first(bits: impl Iterator<Item = bool>, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    for (i, bit) in bits.enumerate().take(len * 8) {
        if bit {
            bytes[i / 8] |= 1 << (i % 8);
        }
    }
    bytes
}

/// The raw sensor bits a simulated board reports for its doors.
fn raw_bits<'a>(
    target: &'a Target,
    open: &'a [bool],
    active_means_closed: bool,
) -> impl Iterator<Item = bool> + 'a {
    open.iter()
        .map(move |o| target.raw_bit(*o, active_means_closed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(super) fn target(address: u8, channels: u16) -> Target {
        Target {
            address,
            channels,
            polarity: SensorPolarity::ClosedWhenLocked,
            status_order: StatusOrder::LastByteFirst,
            pulse_secs: None,
        }
    }

    fn requests(channels: u16) -> Vec<Request> {
        let mut all = vec![Request::OpenAll, Request::QueryAll];
        for channel in 1..=channels {
            all.push(Request::Open { channel });
            all.push(Request::QueryOne { channel });
        }
        all
    }

    #[test]
    fn no_codec_ever_encodes_channel_zero_except_open_all() {
        for protocol in Protocol::ALL {
            let codec = codec(protocol);
            let t = target(1, 8);
            let open_all = codec.encode(&t, &Request::OpenAll);
            for channel in 1..=8 {
                let open = codec.encode(&t, &Request::Open { channel }).unwrap();
                assert_ne!(
                    Some(&open),
                    open_all.as_ref(),
                    "{protocol}: open {channel} looks like open-all"
                );
            }
        }
    }

    proptest! {
        /// Arbitrary bytes never panic a decoder, never claim more bytes
        /// than there are, and always make progress.
        #[test]
        fn decoders_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..64), address in 0u8..4, channels in 1u16..24) {
            for protocol in Protocol::ALL {
                let codec = codec(protocol);
                let t = target(address, channels.min(protocol.profile().max_channels as u16));
                for request in requests(t.channels.min(3)) {
                    match codec.decode(&t, &request, &bytes) {
                        Decoded::NeedMore => {}
                        Decoded::Garbage(n) => prop_assert!(n > 0 && n <= bytes.len()),
                        Decoded::Reply { skip, len, reply } => {
                            prop_assert!(len > 0 && skip + len <= bytes.len());
                            if let Reply::Doors(doors) = reply {
                                prop_assert_eq!(doors.len(), usize::from(t.channels));
                            }
                        }
                    }
                }
            }
        }

        /// A valid reply for one board or channel is never taken as the
        /// reply for another.
        #[test]
        fn replies_for_other_boards_or_channels_are_refused(address in 0u8..8, other in 0u8..8, channel in 1u16..8, other_channel in 1u16..8) {
            prop_assume!(address != other || channel != other_channel);
            for protocol in Protocol::ALL {
                let codec = codec(protocol);
                let ours = target(address, 8);
                let theirs = target(other, 8);
                let request = Request::QueryOne { channel };
                let their_request = Request::QueryOne { channel: other_channel };
                let Some(frame) = sim_reply(protocol, &theirs, &their_request) else { continue };
                if let Decoded::Reply { .. } = codec.decode(&ours, &request, &frame) {
                    // Only acceptable when the reply carries no channel and
                    // comes from our own board (a whole-board status).
                    prop_assert_eq!(address, other, "{}: took board {}'s reply", protocol, other);
                }
            }
        }
    }

    /// A well-formed reply as a board would send it (closed doors).
    fn sim_reply(protocol: Protocol, t: &Target, request: &Request) -> Option<Vec<u8>> {
        codec(protocol).encode_reply(t, request, &vec![false; usize::from(t.channels)], true)
    }

    /// Every request a host encodes is parsed back by the board side, and
    /// every reply the board side encodes is decoded by the host side.
    #[test]
    fn host_and_board_sides_agree() {
        for protocol in Protocol::ALL {
            let codec = codec(protocol);
            let profile = protocol.profile();
            let channels = profile.max_channels.min(24) as u16;
            let t = target(profile.address_min.max(1) as u8, channels);
            for request in requests(channels) {
                let Some(bytes) = codec.encode(&t, &request) else {
                    continue;
                };
                let parsed = codec.parse_request(&bytes);
                let Parsed::Request {
                    address,
                    request: seen,
                    len,
                } = parsed
                else {
                    panic!("{protocol}: board cannot parse {request:?}: {parsed:?}");
                };
                assert_eq!(
                    (address, len),
                    (t.address, bytes.len()),
                    "{protocol} {request:?}"
                );
                let mut open = vec![false; usize::from(channels)];
                open[1] = true;
                let Some(reply) = codec.encode_reply(&t, &seen, &open, true) else {
                    continue;
                };
                match codec.decode(&t, &request, &reply) {
                    Decoded::Reply {
                        reply: decoded,
                        skip: 0,
                        len,
                    } => {
                        assert_eq!(len, reply.len(), "{protocol} {request:?}");
                        match (request, decoded) {
                            (Request::QueryAll, Reply::Doors(doors)) => {
                                assert_eq!(doors.len(), usize::from(channels));
                                assert_eq!(doors[1], Door::Open, "{protocol}");
                                assert!(
                                    doors
                                        .iter()
                                        .enumerate()
                                        .all(|(i, d)| i == 1 || *d == Door::Closed),
                                    "{protocol}"
                                );
                            }
                            (Request::QueryOne { channel }, Reply::Door(door)) => {
                                let expected = if channel == 2 {
                                    Door::Open
                                } else {
                                    Door::Closed
                                };
                                assert_eq!(door, expected, "{protocol} channel {channel}");
                            }
                            (
                                Request::Open { .. } | Request::OpenAll,
                                Reply::OpenAck { accepted, .. },
                            ) => assert!(accepted),
                            (request, reply) => {
                                panic!("{protocol}: {request:?} answered by {reply:?}")
                            }
                        }
                    }
                    other => {
                        panic!("{protocol}: host cannot decode reply to {request:?}: {other:?}")
                    }
                }
            }
        }
    }
}
