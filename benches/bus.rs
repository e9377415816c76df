//! Lock-board bus timing over a real pty, with the simulator pacing its
//! side of the line at 9600 baud (8a boards, 3 boards x 24 channels):
//!
//! - open: from the open request to its last byte written, i.e. the
//!   software overhead before the line (the wire time of the 5 bytes
//!   themselves, 5.2 ms, follows on a real line);
//! - poll: one full status poll of the 3 boards, against its wire-time
//!   lower bound (request and reply bytes at 1.04 ms a byte).
//!
//! `cargo bench -- bus` for the figures; the suite's smoke run does a few
//! rounds.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use locker_kiosk::config::Parity;
use locker_kiosk::hardware::Protocol;
use locker_kiosk::hardware::bus::{Bus, Timing};
use locker_kiosk::hardware::link::{Link, SerialLink, char_time};
use locker_kiosk::hardware::protocol::{Reply, Request, codec};
use locker_kiosk::hardware::sim::pty::PtyServer;
use locker_kiosk::hardware::sim::{SimBoards, SimConfig};

const BAUD: u32 = 9600;

/// Notes when the last send finished.
struct TimedLink {
    inner: SerialLink,
    sent_at: Arc<Mutex<Option<Instant>>>,
}

impl Link for TimedLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.send(bytes)?;
        *self.sent_at.lock().unwrap() = Some(Instant::now());
        Ok(())
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.inner.recv(buf, timeout)
    }
    fn discard_input(&mut self) -> io::Result<()> {
        self.inner.discard_input()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The whole benchmark when `full`, else its smoke run.
pub fn run(full: bool) {
    let rounds = if full { 300 } else { 5 };

    let dir = std::env::temp_dir().join(format!("locker-kiosk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link_path = dir.join("boards");
    let config = SimConfig::uniform(Protocol::EightA, 3, 24);
    let targets = config.boards.clone();
    let server = PtyServer::create(Some(&link_path)).unwrap();
    let sim = Arc::new(Mutex::new(SimBoards::new(config)));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (sim, stop) = (sim.clone(), stop.clone());
        std::thread::spawn(move || server.serve(sim, BAUD, stop));
    }
    let sent_at = Arc::new(Mutex::new(None));
    let link = TimedLink {
        inner: SerialLink::open(&link_path, BAUD, Parity::None).unwrap(),
        sent_at: sent_at.clone(),
    };
    let codec = codec(Protocol::EightA);
    let timing = Timing::for_baud(BAUD, Duration::from_millis(500));
    let mut bus = Bus::new(Box::new(link), codec, timing);

    // Open: request to last byte written.
    let mut open_times = Vec::new();
    for i in 0..rounds {
        let channel = (i % 24) as u16 + 1;
        std::thread::sleep(timing.inter_frame_gap * 2);
        let start = Instant::now();
        let reply = bus
            .transact(&targets[0], &Request::Open { channel })
            .unwrap();
        assert!(matches!(reply, Some(Reply::OpenAck { .. })));
        open_times.push(sent_at.lock().unwrap().unwrap() - start);
    }
    open_times.sort();

    // A full poll of 3 boards, back to back.
    let mut poll_times = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        for target in &targets {
            let reply = bus.transact(target, &Request::QueryAll).unwrap();
            assert!(matches!(reply, Some(Reply::Doors(ref d)) if d.len() == 24));
        }
        poll_times.push(start.elapsed());
    }
    poll_times.sort();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = std::fs::remove_dir_all(&dir);

    let byte = char_time(BAUD);
    let request_len = codec.encode(&targets[0], &Request::QueryAll).unwrap().len();
    let reply_len = codec
        .encode_reply(&targets[0], &Request::QueryAll, &[false; 24], true)
        .unwrap()
        .len();
    let wire = byte * ((request_len + reply_len) * targets.len()) as u32;
    let median_poll = percentile(&poll_times, 0.5);
    println!(
        "lock-board bus over a pty, simulator paced at {BAUD} baud, 8a, 3 boards x 24 channels, {rounds} rounds"
    );
    println!(
        "open: request to last byte written: median {:.3} ms, p95 {:.3} ms (target < 1 ms of software overhead)",
        ms(percentile(&open_times, 0.5)),
        ms(percentile(&open_times, 0.95))
    );
    println!(
        "poll of 3 boards: median {:.1} ms, p95 {:.1} ms; wire time {:.1} ms ({} bytes); ratio {:.2} (target <= 2.0)",
        ms(median_poll),
        ms(percentile(&poll_times, 0.95)),
        ms(wire),
        (request_len + reply_len) * targets.len(),
        median_poll.as_secs_f64() / wire.as_secs_f64()
    );
}
