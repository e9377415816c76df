//! `locker-kiosk doors`: door states and single opens for staff and
//! installers, from the configuration or against a bare board.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::config::{
    BoardConfig, BoardOptions, BoardPort, CompartmentConfig, DoorSettings, Parity,
};
use crate::hardware::doors::DoorSystem;
use crate::hardware::protocol::Door;
use crate::hardware::{Protocol, SensorPolarity};

#[derive(Debug, Subcommand)]
pub enum DoorsCommand {
    /// Every compartment with its board, channel and door state
    Status(BareBoard),
    /// Open one door and print what the sensor saw: opened, already_open, jammed or no_reply
    Open {
        /// Compartment number; with --port, the board's channel
        number: u16,
        #[command(flatten)]
        bare: BareBoard,
    },
}

/// Talk to one board without any configuration, for wiring checks.
#[derive(Debug, Args, Clone)]
pub struct BareBoard {
    /// Serial port of a bare board (ignores the configuration)
    #[arg(long, value_name = "DEV")]
    pub port: Option<PathBuf>,
    /// The bare board's protocol
    #[arg(long, default_value = "8a")]
    pub protocol: Protocol,
    /// The bare board's address (DIP switches)
    #[arg(long = "board", default_value_t = 1)]
    pub address: u8,
    /// The bare board's channel count [default: the protocol's maximum, at most 24]
    #[arg(long)]
    pub channels: Option<u16>,
    /// Baud rate [default: the protocol's]
    #[arg(long)]
    pub baud: Option<u32>,
    /// Sensors wired closed-when-open
    #[arg(long)]
    pub closed_when_open: bool,
}

impl BareBoard {
    fn board(&self, port: PathBuf) -> BoardConfig {
        let profile = self.protocol.profile();
        BoardConfig {
            id: format!("{}@{}", self.protocol, self.address),
            port: BoardPort::Serial(port),
            protocol: self.protocol,
            baud: self.baud.unwrap_or(profile.default_baud),
            parity: Parity::None,
            address: self.address,
            channels: self.channels.unwrap_or(profile.max_channels.min(24) as u16),
            polarity: if self.closed_when_open {
                SensorPolarity::ClosedWhenOpen
            } else {
                SensorPolarity::ClosedWhenLocked
            },
            options: BoardOptions::default(),
        }
    }
}

/// The boards and compartments to talk to, from `--port` or the config.
fn setup(
    global: &GlobalArgs,
    bare: &BareBoard,
) -> Result<(Vec<BoardConfig>, Vec<CompartmentConfig>, DoorSettings), String> {
    if let Some(port) = &bare.port {
        let settings = DoorSettings {
            simulated_close_after: None,
            ..DoorSettings::default()
        };
        return Ok((vec![bare.board(port.clone())], Vec::new(), settings));
    }
    let config = global
        .load_config()
        .map_err(|errors| format!("the configuration has errors:\n{errors}"))?;
    Ok((config.boards, config.compartments, config.doors))
}

pub fn doors(global: &GlobalArgs, command: &DoorsCommand) -> ExitCode {
    let bare = match command {
        DoorsCommand::Status(bare) | DoorsCommand::Open { bare, .. } => bare,
    };
    let (boards, compartments, settings) = match setup(global, bare) {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("locker-kiosk: {message}");
            return ExitCode::from(2);
        }
    };
    let system = DoorSystem::start(&boards, &compartments, &settings);
    system.wait_first_poll(settings.reply_timeout * 4 + Duration::from_secs(1));
    match command {
        DoorsCommand::Status(_) => status(&system, &boards, &compartments),
        DoorsCommand::Open { number, bare } => {
            let answer = match &bare.port {
                Some(_) => system.open_channel(&boards[0].id, *number),
                None => system.open(u32::from(*number)),
            };
            let outcome = answer.map_err(|e| e.to_string()).and_then(|rx| {
                rx.blocking_recv()
                    .map_err(|_| "the door system stopped".to_string())
            });
            match outcome {
                Ok(outcome) => {
                    println!("{}", outcome.name());
                    if outcome.door_is_open() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(message) => {
                    eprintln!("locker-kiosk: {message}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn door_word(door: Option<Door>) -> &'static str {
    match door {
        Some(Door::Open) => "open",
        Some(Door::Closed) => "closed",
        None => "unknown",
    }
}

fn status(
    system: &DoorSystem,
    boards: &[BoardConfig],
    compartments: &[CompartmentConfig],
) -> ExitCode {
    let mut all_online = true;
    for board in boards {
        let status = system.board_status(&board.id);
        let online = status.as_ref().is_some_and(|s| s.online);
        all_online &= online;
        let port = status.map(|s| s.port).unwrap_or_default();
        println!(
            "board {:<10} {:<12} address {:<3} on {port}: {}",
            board.id,
            board.protocol.name(),
            board.address,
            if online { "online" } else { "NO REPLY" }
        );
    }
    if compartments.is_empty() {
        for board in boards {
            for channel in 1..=board.channels {
                println!(
                    "  channel {channel:>2}  {}",
                    door_word(system.door(&board.id, channel))
                );
            }
        }
    } else {
        println!(
            "{:>11}  {:<10} {:>7}  door",
            "compartment", "board", "channel"
        );
        for c in compartments {
            println!(
                "{:>11}  {:<10} {:>7}  {}",
                c.number,
                c.board,
                c.channel,
                door_word(system.door(&c.board, c.channel))
            );
        }
    }
    if all_online {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
