//! `locker-kiosk sim`: lock boards on a pseudo-terminal, for tests, demos
//! and wiring practice without hardware.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use crate::hardware::sim::pty::PtyServer;
use crate::hardware::sim::{SimBoards, SimConfig};
use crate::hardware::{Protocol, SensorPolarity};

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Protocol the boards speak: 8a, kerong-cu16, kerong-cu, winnsen
    #[arg(long, default_value = "8a")]
    pub protocol: Protocol,
    /// Number of boards on the line
    #[arg(long, default_value_t = 1)]
    pub boards: u8,
    /// Channels per board
    #[arg(long, default_value_t = 24)]
    pub channels: u16,
    /// Address of the first board (the others follow) [default: the protocol's lowest, at least 1]
    #[arg(long)]
    pub first_address: Option<u8>,
    /// Also make PATH a symlink to the pty
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Pace replies as at this baud rate [default: the protocol's]
    #[arg(long)]
    pub baud: Option<u32>,
    /// A pulsed door closes again after this long (default: it stays open)
    #[arg(long, value_name = "MS")]
    pub close_after_ms: Option<u64>,
    /// Door sensors wired closed-when-open instead of closed-when-locked
    #[arg(long)]
    pub closed_when_open: bool,
    /// Fraction of requests left unanswered (0 to 1)
    #[arg(long, default_value_t = 0.0)]
    pub drop: f64,
    /// Fraction of replies with a broken checksum
    #[arg(long, default_value_t = 0.0)]
    pub corrupt: f64,
    /// Fraction of replies preceded by stray bytes
    #[arg(long, default_value_t = 0.0)]
    pub stray: f64,
    /// Extra delay before each reply
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Echo each request before the reply, like some RS-485 adapters
    #[arg(long)]
    pub echo: bool,
    /// Jam a channel: pulsed but the door stays closed (repeatable)
    #[arg(long = "jam", value_name = "BOARD:CHANNEL", value_parser = parse_door)]
    pub jam: Vec<(u8, u16)>,
    /// Seed for the fault dice
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_door(text: &str) -> Result<(u8, u16), String> {
    let (board, channel) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not BOARD:CHANNEL"))?;
    Ok((
        board
            .parse()
            .map_err(|_| format!("bad board address in `{text}`"))?,
        channel
            .parse()
            .map_err(|_| format!("bad channel in `{text}`"))?,
    ))
}

pub fn sim(args: &SimArgs) -> ExitCode {
    let mut config = SimConfig::uniform(args.protocol, args.boards, args.channels);
    if let Some(first) = args.first_address {
        for (i, board) in config.boards.iter_mut().enumerate() {
            board.address = first + i as u8;
        }
    }
    if args.closed_when_open {
        for board in &mut config.boards {
            board.polarity = SensorPolarity::ClosedWhenOpen;
        }
    }
    config.close_after = args.close_after_ms.map(Duration::from_millis);
    config.seed = args.seed;
    config.faults.drop = args.drop;
    config.faults.corrupt = args.corrupt;
    config.faults.stray = args.stray;
    config.faults.echo = args.echo;
    config.faults.latency = Duration::from_millis(args.latency_ms);
    config.faults.jammed = args.jam.iter().copied().collect();
    let baud = args.baud.unwrap_or(args.protocol.profile().default_baud);
    let server = match PtyServer::create(args.link.as_deref()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("locker-kiosk sim: cannot create a pseudo-terminal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addresses: Vec<u8> = config.boards.iter().map(|b| b.address).collect();
    println!("{}", server.path().display());
    let _ = std::io::stdout().flush();
    eprintln!(
        "simulating {} {} board(s) at address(es) {:?}, {} channels each, paced at {baud} baud",
        args.boards, args.protocol, addresses, args.channels
    );
    eprintln!(
        "commands on stdin: open B C | close B C | jam B C | unjam B C | offline B | online B | status | quit"
    );
    let sim = Arc::new(Mutex::new(SimBoards::new(config)));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (sim, stop) = (sim.clone(), stop.clone());
        std::thread::spawn(move || control(sim, stop));
    }
    match server.serve(sim, baud, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("locker-kiosk sim: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Plays the people and faults at the locker, from stdin.
fn control(sim: Arc<Mutex<SimBoards>>, stop: Arc<AtomicBool>) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<u16>().ok());
        let mut sim = sim.lock().unwrap();
        let answer = match (words.first().copied(), num(1), num(2)) {
            (Some("open"), Some(b), Some(c)) => {
                format!("forced open: {}", sim.force_open(b as u8, c))
            }
            (Some("close"), Some(b), Some(c)) => format!("closed: {}", sim.close(b as u8, c)),
            (Some("jam"), Some(b), Some(c)) => {
                sim.set_jammed(b as u8, c, true);
                "jammed".into()
            }
            (Some("unjam"), Some(b), Some(c)) => {
                sim.set_jammed(b as u8, c, false);
                "unjammed".into()
            }
            (Some("offline"), Some(b), _) => {
                sim.set_offline(b as u8, true);
                "offline".into()
            }
            (Some("online"), Some(b), _) => {
                sim.set_offline(b as u8, false);
                "online".into()
            }
            (Some("status"), _, _) => format!(
                "open doors: {:?}, requests: {}",
                sim.open_doors(),
                sim.requests_seen
            ),
            (Some("quit"), _, _) => {
                stop.store(true, Ordering::Relaxed);
                break;
            }
            _ => format!("? {line}"),
        };
        eprintln!("{answer}");
    }
}
