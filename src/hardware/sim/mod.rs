//! A simulator of lock boards: it answers byte-exactly as real boards do
//! (through the board side of the same codecs), keeps door states, and
//! injects faults. It runs behind a pseudo-terminal (`locker-kiosk sim`,
//! see [`pty`]) or in-process as the demo's boards (see [`SimLink`]).
//!
//! The model is sans-IO like the codecs: bytes and the time go in, bytes
//! come out; the pty server or the in-process link moves them.

pub mod pty;

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::link::Link;
use super::protocol::{Codec, Parsed, Request, Target, codec};
use super::{Protocol, SensorPolarity};
use crate::config::StatusOrder;

/// Faults to inject, for tests and field demos.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Fraction of requests left unanswered (0.0 to 1.0).
    pub drop: f64,
    /// Fraction of replies sent with a broken checksum (or trailer).
    pub corrupt: f64,
    /// Extra delay before every reply.
    pub latency: Duration,
    /// Echo every request back before the reply, like some RS-485 adapters.
    pub echo: bool,
    /// Fraction of replies preceded by stray bytes (`FA FD 99 99`).
    pub stray: f64,
    /// Channels whose lock is pulsed but whose door stays closed, as
    /// `(board address, channel)`.
    pub jammed: HashSet<(u8, u16)>,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub protocol: Protocol,
    /// One entry per simulated board.
    pub boards: Vec<Target>,
    /// A pulsed door swings open and closes again after this long (a
    /// person taking the parcel); `None`: it stays open until told.
    pub close_after: Option<Duration>,
    pub faults: Faults,
    pub seed: u64,
}

impl SimConfig {
    /// `count` boards of `channels` channels each, at consecutive
    /// addresses from the protocol's lowest usable one.
    pub fn uniform(protocol: Protocol, count: u8, channels: u16) -> SimConfig {
        let first = protocol.profile().address_min.max(1) as u8;
        SimConfig {
            protocol,
            boards: (0..count)
                .map(|i| Target {
                    address: first + i,
                    channels,
                    polarity: SensorPolarity::ClosedWhenLocked,
                    status_order: StatusOrder::LastByteFirst,
                    pulse_secs: None,
                })
                .collect(),
            close_after: None,
            faults: Faults::default(),
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct SimDoor {
    open: bool,
    close_at: Option<Instant>,
}

/// Bytes for the line, and how long to wait before sending them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub delay: Duration,
    pub bytes: Vec<u8>,
}

pub struct SimBoards {
    config: SimConfig,
    codec: &'static dyn Codec,
    doors: HashMap<u8, Vec<SimDoor>>,
    offline: HashSet<u8>,
    input: Vec<u8>,
    rng: u64,
    /// Requests seen, for tests and the status command.
    pub requests_seen: u64,
    /// When the last open request's last byte arrived (for latency benches).
    pub last_open_at: Option<Instant>,
}

impl SimBoards {
    pub fn new(config: SimConfig) -> SimBoards {
        let doors = config
            .boards
            .iter()
            .map(|b| (b.address, vec![SimDoor::default(); usize::from(b.channels)]))
            .collect();
        SimBoards {
            codec: codec(config.protocol),
            rng: config.seed.max(1),
            config,
            doors,
            offline: HashSet::new(),
            input: Vec::new(),
            requests_seen: 0,
            last_open_at: None,
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    fn chance(&mut self, fraction: f64) -> bool {
        if fraction <= 0.0 {
            return false;
        }
        // xorshift64: deterministic for a seed, good enough for faults.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64 <= fraction
    }

    /// Feeds bytes from the line; returns what the boards send back.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) -> Vec<Output> {
        self.tick(now);
        self.input.extend_from_slice(bytes);
        let mut outputs = Vec::new();
        loop {
            match self.codec.parse_request(&self.input) {
                Parsed::NeedMore => break,
                Parsed::Garbage(n) | Parsed::Ignored(n) => {
                    self.input.drain(..n.min(self.input.len()));
                }
                Parsed::Request {
                    address,
                    request,
                    len,
                } => {
                    let frame: Vec<u8> = self.input.drain(..len).collect();
                    self.requests_seen += 1;
                    if matches!(request, Request::Open { .. } | Request::OpenAll) {
                        self.last_open_at = Some(now);
                    }
                    if let Some(output) = self.answer(address, &request, &frame, now) {
                        outputs.push(output);
                    }
                }
            }
        }
        outputs
    }

    fn answer(
        &mut self,
        address: u8,
        request: &Request,
        frame: &[u8],
        now: Instant,
    ) -> Option<Output> {
        let target = *self.config.boards.iter().find(|b| b.address == address)?;
        if self.offline.contains(&address) {
            return None;
        }
        let pulsed = self.act(&target, request, now);
        let open: Vec<bool> = self.doors[&address].iter().map(|d| d.open).collect();
        let reply = self.codec.encode_reply(&target, request, &open, pulsed);
        if self.chance(self.config.faults.drop) {
            return None;
        }
        let mut bytes = Vec::new();
        if self.config.faults.echo {
            bytes.extend_from_slice(frame);
        }
        if let Some(mut reply) = reply {
            if self.chance(self.config.faults.stray) {
                bytes.extend_from_slice(&[0xFA, 0xFD, 0x99, 0x99]);
            }
            if self.chance(self.config.faults.corrupt) {
                let checksum_at = match self.config.protocol {
                    // Kerong CU's checksum sits before the data.
                    Protocol::KerongCu => 7,
                    _ => reply.len() - 1,
                };
                reply[checksum_at] ^= 0x5A;
            }
            bytes.extend(reply);
        }
        (!bytes.is_empty()).then_some(Output {
            delay: self.config.faults.latency,
            bytes,
        })
    }

    /// Carries out an open; returns whether the lock was pulsed.
    fn act(&mut self, target: &Target, request: &Request, now: Instant) -> bool {
        let channels: Vec<u16> = match *request {
            Request::Open { channel } if channel >= 1 && channel <= target.channels => {
                vec![channel]
            }
            // Kerong CU: LOCK = channel count means all.
            Request::Open { channel } if channel == target.channels + 1 => {
                (1..=target.channels).collect()
            }
            Request::Open { .. } => return false,
            Request::OpenAll => (1..=target.channels).collect(),
            _ => return true,
        };
        for channel in channels {
            if self
                .config
                .faults
                .jammed
                .contains(&(target.address, channel))
            {
                continue;
            }
            let close_at = self.config.close_after.map(|after| now + after);
            if let Some(door) = self.door_mut(target.address, channel) {
                door.open = true;
                door.close_at = close_at;
            }
        }
        true
    }

    fn door_mut(&mut self, address: u8, channel: u16) -> Option<&mut SimDoor> {
        self.doors
            .get_mut(&address)?
            .get_mut(usize::from(channel).checked_sub(1)?)
    }

    /// Closes doors whose person has walked away.
    pub fn tick(&mut self, now: Instant) {
        for doors in self.doors.values_mut() {
            for door in doors.iter_mut() {
                if door.close_at.is_some_and(|at| now >= at) {
                    door.open = false;
                    door.close_at = None;
                }
            }
        }
    }

    /// Someone forces a door, or a latch gives: an uncommanded open.
    pub fn force_open(&mut self, address: u8, channel: u16) -> bool {
        self.set_door(address, channel, true)
    }

    /// Someone closes a door.
    pub fn close(&mut self, address: u8, channel: u16) -> bool {
        self.set_door(address, channel, false)
    }

    fn set_door(&mut self, address: u8, channel: u16, open: bool) -> bool {
        match self.door_mut(address, channel) {
            Some(door) => {
                door.open = open;
                door.close_at = None;
                true
            }
            None => false,
        }
    }

    pub fn set_jammed(&mut self, address: u8, channel: u16, jammed: bool) {
        if jammed {
            self.config.faults.jammed.insert((address, channel));
        } else {
            self.config.faults.jammed.remove(&(address, channel));
        }
    }

    /// A board that stops answering (pulled cable, power fault).
    pub fn set_offline(&mut self, address: u8, offline: bool) {
        if offline {
            self.offline.insert(address);
        } else {
            self.offline.remove(&address);
        }
    }

    pub fn is_open(&self, address: u8, channel: u16) -> Option<bool> {
        self.doors
            .get(&address)?
            .get(usize::from(channel).checked_sub(1)?)
            .map(|d| d.open)
    }

    pub fn open_doors(&self) -> Vec<(u8, u16)> {
        let mut open: Vec<_> = self
            .doors
            .iter()
            .flat_map(|(address, doors)| {
                doors
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.open)
                    .map(|(i, _)| (*address, i as u16 + 1))
            })
            .collect();
        open.sort_unstable();
        open
    }
}

/// Simulated boards shared between a link and whoever plays the people
/// at the locker (the demo, the tests).
pub type SharedSim = Arc<Mutex<SimBoards>>;

/// An in-process link to simulated boards: what the demo's buses use
/// instead of a serial port. Replies are available at once (the latency
/// fault still applies).
pub struct SimLink {
    sim: SharedSim,
    pending: Vec<u8>,
    ready_at: Instant,
}

impl SimLink {
    pub fn new(sim: SharedSim) -> SimLink {
        SimLink {
            sim,
            pending: Vec::new(),
            ready_at: Instant::now(),
        }
    }
}

impl Link for SimLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let now = Instant::now();
        let outputs = self
            .sim
            .lock()
            .map_err(|_| io::Error::other("simulator poisoned"))?
            .receive(bytes, now);
        for output in outputs {
            self.ready_at = now + output.delay;
            self.pending.extend(output.bytes);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let now = Instant::now();
        if self.pending.is_empty() || self.ready_at > now + timeout {
            std::thread::sleep(timeout.min(Duration::from_millis(20)));
            if let Ok(mut sim) = self.sim.lock() {
                sim.tick(Instant::now());
            }
            return Ok(0);
        }
        if self.ready_at > now {
            std::thread::sleep(self.ready_at - now);
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }

    fn discard_input(&mut self) -> io::Result<()> {
        self.pending.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        "simulated boards".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(protocol: Protocol) -> SimBoards {
        SimBoards::new(SimConfig::uniform(protocol, 2, 8))
    }

    fn request(protocol: Protocol, address: u8, request: Request) -> Vec<u8> {
        let target = SimConfig::uniform(protocol, 1, 8).boards[0];
        codec(protocol)
            .encode(&Target { address, ..target }, &request)
            .unwrap()
    }

    #[test]
    fn a_pulsed_door_opens_and_closes_after_the_delay() {
        let mut config = SimConfig::uniform(Protocol::EightA, 1, 8);
        config.close_after = Some(Duration::from_secs(2));
        let mut sim = SimBoards::new(config);
        let t0 = Instant::now();
        let out = sim.receive(
            &request(Protocol::EightA, 1, Request::Open { channel: 3 }),
            t0,
        );
        assert_eq!(out[0].bytes, [0x8A, 0x01, 0x03, 0x00, 0x88]);
        assert_eq!(sim.is_open(1, 3), Some(true));
        sim.tick(t0 + Duration::from_secs(1));
        assert_eq!(sim.is_open(1, 3), Some(true));
        sim.tick(t0 + Duration::from_secs(2));
        assert_eq!(sim.is_open(1, 3), Some(false));
    }

    #[test]
    fn jammed_doors_stay_closed_and_other_boards_ignore_the_request() {
        let mut sim = sim(Protocol::EightA);
        sim.set_jammed(1, 2, true);
        let out = sim.receive(
            &request(Protocol::EightA, 1, Request::Open { channel: 2 }),
            Instant::now(),
        );
        // The board answers "still closed": the request's own bytes.
        assert_eq!(
            out[0].bytes,
            request(Protocol::EightA, 1, Request::Open { channel: 2 })
        );
        assert_eq!(sim.open_doors(), vec![]);
        // A request for board 9 (not simulated) gets no answer.
        assert!(
            sim.receive(
                &request(Protocol::EightA, 9, Request::QueryAll),
                Instant::now()
            )
            .is_empty()
        );
    }

    #[test]
    fn faults_echo_stray_and_drop() {
        let mut config = SimConfig::uniform(Protocol::KerongCu, 1, 12);
        config.faults.echo = true;
        config.faults.stray = 1.0;
        let mut sim = SimBoards::new(config);
        let query = request(Protocol::KerongCu, 1, Request::QueryAll);
        let out = sim.receive(&query, Instant::now());
        assert!(out[0].bytes.starts_with(&query));
        assert_eq!(
            &out[0].bytes[query.len()..query.len() + 4],
            [0xFA, 0xFD, 0x99, 0x99]
        );
        let mut config = SimConfig::uniform(Protocol::KerongCu, 1, 12);
        config.faults.drop = 1.0;
        let mut sim = SimBoards::new(config);
        assert!(sim.receive(&query, Instant::now()).is_empty());
    }

    #[test]
    fn requests_split_across_reads_and_garbage_between_them() {
        let mut sim = sim(Protocol::Winnsen);
        let open = request(Protocol::Winnsen, 1, Request::Open { channel: 4 });
        assert!(sim.receive(&[0x00, 0x42], Instant::now()).is_empty());
        assert!(sim.receive(&open[..3], Instant::now()).is_empty());
        let out = sim.receive(&open[3..], Instant::now());
        assert_eq!(out.len(), 1);
        assert_eq!(sim.open_doors(), vec![(1, 4)]);
    }

    #[test]
    fn offline_boards_say_nothing() {
        let mut sim = sim(Protocol::KerongCu16);
        sim.set_offline(1, true);
        assert!(
            sim.receive(
                &request(Protocol::KerongCu16, 1, Request::QueryAll),
                Instant::now()
            )
            .is_empty()
        );
        sim.set_offline(1, false);
        assert_eq!(
            sim.receive(
                &request(Protocol::KerongCu16, 1, Request::QueryAll),
                Instant::now()
            )
            .len(),
            1
        );
    }
}
