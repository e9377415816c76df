//! One serial bus: one transaction at a time, with the timing rules that
//! hold for every protocol, in one place.
//!
//! - an inter-frame gap before each request (at least 3.5 character times);
//! - stale input dropped before each request;
//! - a reply is complete when its codec says so (length or trailer), or,
//!   for a partial frame, after a quiet gap on the line;
//! - garbage is skipped and the search resyncs on the next header;
//! - a frame byte-identical to the request is held as a possible echo:
//!   a different valid frame that follows wins; only if none follows within
//!   a short grace is the identical one taken as the reply (on 8a boards,
//!   "still closed" really is byte-identical to the open request);
//! - queries are retried a bounded number of times; opens never are (see
//!   `doors`, which asks the sensor instead).

use std::io;
use std::time::{Duration, Instant};

use super::link::Link;
use super::protocol::{Codec, Decoded, Expect, Reply, Request, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub reply_timeout: Duration,
    /// Pause between the end of one transaction and the next request.
    pub inter_frame_gap: Duration,
    /// Silence that ends a partial frame.
    pub quiet_gap: Duration,
    /// How long to wait for a real reply after a possible echo.
    pub echo_grace: Duration,
    /// Tries per query (1 = no retry).
    pub query_attempts: u32,
}

impl Timing {
    pub fn for_baud(baud: u32, reply_timeout: Duration) -> Timing {
        let char_time = super::link::char_time(baud);
        Timing {
            reply_timeout,
            inter_frame_gap: (char_time * 7 / 2).max(Duration::from_millis(3)),
            quiet_gap: Duration::from_millis(25).max(char_time * 3),
            echo_grace: Duration::from_millis(150).min(reply_timeout),
            query_attempts: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the board did not answer")]
    NoReply,
    #[error("the board refused the request")]
    Refused,
    #[error("this protocol has no such command")]
    Unsupported,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Counters for the maintenance screen and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusStats {
    pub transactions: u64,
    pub timeouts: u64,
    pub garbage_bytes: u64,
    pub echoes: u64,
}

pub struct Bus {
    link: Box<dyn Link>,
    codec: &'static dyn Codec,
    timing: Timing,
    idle_since: Instant,
    pub stats: BusStats,
}

impl Bus {
    pub fn new(link: Box<dyn Link>, codec: &'static dyn Codec, timing: Timing) -> Bus {
        Bus {
            link,
            codec,
            timing,
            idle_since: Instant::now(),
            stats: BusStats::default(),
        }
    }

    pub fn codec(&self) -> &'static dyn Codec {
        self.codec
    }

    pub fn describe(&self) -> String {
        self.link.describe()
    }

    /// Sends `request` and waits for its reply, once. `Ok(None)`: the
    /// protocol sends no reply to this request (or may not, and did not).
    pub fn transact(
        &mut self,
        target: &Target,
        request: &Request,
    ) -> Result<Option<Reply>, BusError> {
        let bytes = self
            .codec
            .encode(target, request)
            .ok_or(BusError::Unsupported)?;
        sleep_until(self.idle_since + self.timing.inter_frame_gap);
        self.link.discard_input()?;
        self.link.send(&bytes)?;
        self.stats.transactions += 1;
        let result = match self.codec.expect(request) {
            Expect::NoReply => Ok(None),
            Expect::Reply => self.await_reply(target, request, &bytes, self.timing.reply_timeout),
            Expect::MaybeReply => {
                match self.await_reply(target, request, &bytes, self.timing.reply_timeout / 2) {
                    Err(BusError::NoReply) => Ok(None),
                    other => other,
                }
            }
        };
        self.idle_since = Instant::now();
        if matches!(result, Err(BusError::NoReply)) {
            self.stats.timeouts += 1;
        }
        result
    }

    fn await_reply(
        &mut self,
        target: &Target,
        request: &Request,
        sent: &[u8],
        timeout: Duration,
    ) -> Result<Option<Reply>, BusError> {
        let deadline = Instant::now() + timeout;
        let mut buf: Vec<u8> = Vec::with_capacity(64);
        let mut chunk = [0u8; 128];
        let mut last_byte_at = Instant::now();
        let mut echo: Option<(Reply, Instant)> = None;
        loop {
            // Take apart what has arrived.
            loop {
                match self.codec.decode(target, request, &buf) {
                    Decoded::Reply { reply, skip, len } => {
                        let frame_is_request = buf[skip..skip + len] == *sent;
                        buf.drain(..skip + len);
                        self.stats.garbage_bytes += skip as u64;
                        if frame_is_request && echo.is_none() {
                            self.stats.echoes += 1;
                            echo = Some((reply, Instant::now()));
                            continue;
                        }
                        return Ok(Some(reply));
                    }
                    Decoded::Garbage(n) => {
                        let n = n.min(buf.len());
                        buf.drain(..n);
                        self.stats.garbage_bytes += n as u64;
                    }
                    Decoded::NeedMore => break,
                }
            }
            let now = Instant::now();
            if let Some((_, seen)) = &echo
                && buf.is_empty()
                && now >= *seen + self.timing.echo_grace
            {
                break;
            }
            if now >= deadline {
                break;
            }
            if !buf.is_empty() && now >= last_byte_at + self.timing.quiet_gap {
                // A partial frame and then silence: it will never complete.
                buf.remove(0);
                self.stats.garbage_bytes += 1;
                continue;
            }
            let wait = (deadline - now).min(self.timing.quiet_gap);
            let n = self.link.recv(&mut chunk, wait)?;
            if n > 0 {
                buf.extend_from_slice(&chunk[..n]);
                last_byte_at = Instant::now();
            }
        }
        match echo {
            Some((reply, _)) => Ok(Some(reply)),
            None => Err(BusError::NoReply),
        }
    }

    /// A query with bounded retries; the board's own refusal is retried
    /// too (it usually means a garbled request).
    pub fn query(&mut self, target: &Target, request: &Request) -> Result<Reply, BusError> {
        let mut last = BusError::NoReply;
        for _ in 0..self.timing.query_attempts.max(1) {
            match self.transact(target, request) {
                Ok(Some(Reply::Refused)) => last = BusError::Refused,
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => last = BusError::NoReply,
                Err(BusError::NoReply) => last = BusError::NoReply,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}
