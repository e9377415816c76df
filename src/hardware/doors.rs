//! The door system: one thread per serial bus, each owning its port, its
//! boards and their [`DoorTracker`]. It polls the door sensors (one
//! query-all per board per cycle), carries out open commands, decides their
//! outcomes from the sensors, and publishes what changed.
//!
//! Threads rather than async tasks: serial I/O here is blocking with short
//! timeouts, and a bus does one thing at a time anyway. Callers reach a bus
//! by message and get answers on oneshot channels, so nothing waits on a
//! serial port except that bus's own thread.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{broadcast, oneshot};

use super::bus::{Bus, BusError, BusStats, Timing};
use super::link::{Link, SerialLink};
use super::protocol::{Door, Reply, Request, Target, codec};
use super::sim::{SharedSim, SimBoards, SimConfig, SimLink};
use super::tracker::{DoorKey, DoorTracker, TrackerEvent, TrackerSettings};
use crate::config::{BoardConfig, BoardPort, CompartmentConfig, DoorSettings};
use crate::domain::CompartmentNumber;
use crate::domain::OpenOutcome;

/// What the door system tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorEvent {
    /// `initial`: the first reading since start, not a movement.
    DoorChanged {
        place: DoorPlace,
        door: Door,
        initial: bool,
    },
    OpenOutcome {
        place: DoorPlace,
        outcome: OpenOutcome,
    },
    UncommandedOpen {
        place: DoorPlace,
    },
    LeftOpen {
        place: DoorPlace,
        open_for: Duration,
    },
    BoardOffline {
        board: String,
    },
    BoardOnline {
        board: String,
    },
}

/// Where a door is: its board and channel, and the compartment wired to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DoorPlace {
    pub board: String,
    pub channel: u16,
    pub compartment: Option<CompartmentNumber>,
}

/// A board's health, for status screens and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardStatus {
    /// It answered its last request.
    pub online: bool,
    /// It stopped answering (declared after several silent requests);
    /// false while its state is still unknown at start-up.
    pub offline: bool,
    pub last_reply: Option<SystemTime>,
    pub port: String,
    /// Why the port is unusable, while it is.
    pub port_error: Option<String>,
    pub stats: BusStats,
}

#[derive(Debug, Default)]
struct LiveState {
    doors: HashMap<(String, u16), Door>,
    boards: HashMap<String, BoardStatus>,
    /// Completed poll cycles per bus, to know when a first picture exists.
    cycles: Vec<u64>,
}

enum BusCommand {
    Open {
        board: usize,
        channel: u16,
        reply: oneshot::Sender<OpenOutcome>,
    },
    OpenAll {
        board: usize,
        replies: Vec<(u16, oneshot::Sender<OpenOutcome>)>,
    },
    Stop,
}

#[derive(Debug, thiserror::Error)]
pub enum DoorError {
    #[error("there is no compartment {0}")]
    UnknownCompartment(CompartmentNumber),
    #[error("there is no lock board `{0}`")]
    UnknownBoard(String),
    #[error("board `{board}` has no channel {channel}")]
    UnknownChannel { board: String, channel: u16 },
    #[error("the door system has stopped")]
    Stopped,
}

pub struct DoorSystem {
    buses: Vec<(mpsc::Sender<BusCommand>, Option<JoinHandle<()>>)>,
    /// Board id -> (bus, index on the bus, channel count).
    boards: HashMap<String, (usize, usize, u16)>,
    compartments: HashMap<CompartmentNumber, (String, u16)>,
    state: Arc<Mutex<LiveState>>,
    events: broadcast::Sender<DoorEvent>,
    simulators: Vec<SharedSim>,
}

impl DoorSystem {
    /// Starts a thread per bus. Boards sharing a serial port share a bus;
    /// simulated boards of one protocol share a simulated bus. A port that
    /// cannot be opened does not stop the start: its boards are offline and
    /// the port is retried in the background.
    pub fn start(
        boards: &[BoardConfig],
        compartments: &[CompartmentConfig],
        settings: &DoorSettings,
    ) -> DoorSystem {
        let (events, _) = broadcast::channel(1024);
        let state = Arc::new(Mutex::new(LiveState::default()));
        let mut groups: Vec<(String, Vec<&BoardConfig>)> = Vec::new();
        for board in boards {
            let key = match &board.port {
                BoardPort::Serial(path) => path.display().to_string(),
                BoardPort::Simulated => format!("simulated {} bus", board.protocol),
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(board),
                None => groups.push((key, vec![board])),
            }
        }
        let mut system = DoorSystem {
            buses: Vec::new(),
            boards: HashMap::new(),
            compartments: compartments
                .iter()
                .map(|c| (c.number, (c.board.clone(), c.channel)))
                .collect(),
            state: state.clone(),
            events: events.clone(),
            simulators: Vec::new(),
        };
        state.lock().unwrap().cycles = vec![0; groups.len()];
        for (bus_index, (port, members)) in groups.into_iter().enumerate() {
            let first = members[0];
            let targets: Vec<Target> = members.iter().map(|b| Target::of(b)).collect();
            let opener: Opener = match &first.port {
                BoardPort::Serial(path) => {
                    let (path, baud, parity) = (path.clone(), first.baud, first.parity);
                    Box::new(move || {
                        SerialLink::open(&path, baud, parity).map(|l| Box::new(l) as Box<dyn Link>)
                    })
                }
                BoardPort::Simulated => {
                    let sim = Arc::new(Mutex::new(SimBoards::new(SimConfig {
                        protocol: first.protocol,
                        boards: targets.clone(),
                        close_after: settings.simulated_close_after,
                        faults: Default::default(),
                        seed: 7 + bus_index as u64,
                    })));
                    system.simulators.push(sim.clone());
                    Box::new(move || Ok(Box::new(SimLink::new(sim.clone())) as Box<dyn Link>))
                }
            };
            let mut places = Vec::new();
            for (index, board) in members.iter().enumerate() {
                system
                    .boards
                    .insert(board.id.clone(), (bus_index, index, board.channels));
                places.push(board.id.clone());
                state.lock().unwrap().boards.insert(
                    board.id.clone(),
                    BoardStatus {
                        online: false,
                        offline: false,
                        last_reply: None,
                        port: port.clone(),
                        port_error: None,
                        stats: BusStats::default(),
                    },
                );
            }
            let worker = BusWorker {
                index: bus_index,
                bus: None,
                opener,
                next_open_attempt: Instant::now(),
                timing: Timing::for_baud(first.baud, settings.reply_timeout),
                protocol_codec: codec(first.protocol),
                targets,
                board_ids: places,
                compartments: system.compartments.clone(),
                tracker: DoorTracker::new(
                    members.len(),
                    TrackerSettings {
                        open_window: settings.open_window,
                        left_open_after: settings.left_open_after,
                        offline_after: 3,
                    },
                ),
                waiters: HashMap::new(),
                last_probe: vec![None; members.len()],
                settings: settings.clone(),
                state: state.clone(),
                events: events.clone(),
            };
            let (commands, inbox) = mpsc::channel();
            let thread = thread::Builder::new()
                .name(format!("bus-{bus_index}"))
                .spawn(move || worker.run(inbox))
                .expect("spawning a bus thread");
            system.buses.push((commands, Some(thread)));
        }
        system
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DoorEvent> {
        self.events.subscribe()
    }

    /// The simulated boards, when some boards are simulated (the demo).
    pub fn simulators(&self) -> &[SharedSim] {
        &self.simulators
    }

    pub fn place_of(&self, compartment: CompartmentNumber) -> Option<(String, u16)> {
        self.compartments.get(&compartment).cloned()
    }

    /// Opens a compartment's door and resolves to the detected outcome.
    pub fn open(
        &self,
        compartment: CompartmentNumber,
    ) -> Result<oneshot::Receiver<OpenOutcome>, DoorError> {
        let (board, channel) = self
            .compartments
            .get(&compartment)
            .cloned()
            .ok_or(DoorError::UnknownCompartment(compartment))?;
        self.open_channel(&board, channel)
    }

    /// Opens one channel of a board, by board id.
    pub fn open_channel(
        &self,
        board: &str,
        channel: u16,
    ) -> Result<oneshot::Receiver<OpenOutcome>, DoorError> {
        let (bus, index, channels) = *self
            .boards
            .get(board)
            .ok_or_else(|| DoorError::UnknownBoard(board.into()))?;
        if channel == 0 || channel > channels {
            return Err(DoorError::UnknownChannel {
                board: board.into(),
                channel,
            });
        }
        let (reply, answer) = oneshot::channel();
        self.buses[bus]
            .0
            .send(BusCommand::Open {
                board: index,
                channel,
                reply,
            })
            .map_err(|_| DoorError::Stopped)?;
        Ok(answer)
    }

    /// Opens every door of a board (the board's own open-all where it has
    /// one, else one after another); one outcome per channel.
    pub fn open_all(
        &self,
        board: &str,
    ) -> Result<Vec<(u16, oneshot::Receiver<OpenOutcome>)>, DoorError> {
        let (bus, index, channels) = *self
            .boards
            .get(board)
            .ok_or_else(|| DoorError::UnknownBoard(board.into()))?;
        let mut replies = Vec::new();
        let mut answers = Vec::new();
        for channel in 1..=channels {
            let (reply, answer) = oneshot::channel();
            replies.push((channel, reply));
            answers.push((channel, answer));
        }
        self.buses[bus]
            .0
            .send(BusCommand::OpenAll {
                board: index,
                replies,
            })
            .map_err(|_| DoorError::Stopped)?;
        Ok(answers)
    }

    /// The last known state of a door, `None` until first read.
    pub fn door(&self, board: &str, channel: u16) -> Option<Door> {
        self.state
            .lock()
            .unwrap()
            .doors
            .get(&(board.to_string(), channel))
            .copied()
    }

    pub fn compartment_door(&self, compartment: CompartmentNumber) -> Option<Door> {
        let (board, channel) = self.compartments.get(&compartment)?;
        self.door(board, *channel)
    }

    pub fn board_status(&self, board: &str) -> Option<BoardStatus> {
        self.state.lock().unwrap().boards.get(board).cloned()
    }

    pub fn board_online(&self, board: &str) -> bool {
        self.board_status(board).is_some_and(|b| b.online)
    }

    /// Declared offline: it stopped answering (not merely not yet heard).
    pub fn board_offline(&self, board: &str) -> bool {
        self.board_status(board).is_some_and(|b| b.offline)
    }

    /// Waits (blocking) until every bus has polled once, or `timeout`.
    pub fn wait_first_poll(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.state.lock().unwrap().cycles.iter().all(|c| *c > 0) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for DoorSystem {
    fn drop(&mut self) {
        for (commands, _) in &self.buses {
            let _ = commands.send(BusCommand::Stop);
        }
        for (_, thread) in &mut self.buses {
            if let Some(thread) = thread.take() {
                let _ = thread.join();
            }
        }
    }
}

type Opener = Box<dyn FnMut() -> std::io::Result<Box<dyn Link>> + Send>;

/// How often an offline board is probed, and a lost port reopened.
const PROBE_INTERVAL: Duration = Duration::from_secs(2);
/// Poll period while an open waits for its door.
const FAST_POLL: Duration = Duration::from_millis(40);
/// Kerong legacy boards do not answer an open: read the status this soon after.
const QUERY_AFTER_OPEN: Duration = Duration::from_millis(25);

struct BusWorker {
    index: usize,
    bus: Option<Bus>,
    opener: Opener,
    next_open_attempt: Instant,
    timing: Timing,
    protocol_codec: &'static dyn super::protocol::Codec,
    targets: Vec<Target>,
    board_ids: Vec<String>,
    compartments: HashMap<CompartmentNumber, (String, u16)>,
    tracker: DoorTracker,
    waiters: HashMap<DoorKey, Vec<oneshot::Sender<OpenOutcome>>>,
    last_probe: Vec<Option<Instant>>,
    settings: DoorSettings,
    state: Arc<Mutex<LiveState>>,
    events: broadcast::Sender<DoorEvent>,
}

impl BusWorker {
    fn run(mut self, inbox: mpsc::Receiver<BusCommand>) {
        let mut next_cycle = Instant::now();
        loop {
            let wait = next_cycle.saturating_duration_since(Instant::now());
            match inbox.recv_timeout(wait) {
                Ok(BusCommand::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(BusCommand::Open {
                    board,
                    channel,
                    reply,
                }) => {
                    self.waiters
                        .entry((board, channel))
                        .or_default()
                        .push(reply);
                    self.open(board, channel);
                }
                Ok(BusCommand::OpenAll { board, replies }) => self.open_all(board, replies),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= next_cycle {
                self.poll_cycle();
                let fast = (0..self.targets.len()).any(|b| self.tracker.has_pending(b));
                next_cycle = Instant::now()
                    + if fast {
                        FAST_POLL
                    } else {
                        self.settings.poll_interval
                    };
            }
            let events = self.tracker.tick(Instant::now());
            self.emit(events);
        }
    }

    /// The bus, reopening the port if it was lost (at most every few seconds).
    fn bus(&mut self) -> Option<&mut Bus> {
        if self.bus.is_none() && Instant::now() >= self.next_open_attempt {
            self.next_open_attempt = Instant::now() + PROBE_INTERVAL;
            match (self.opener)() {
                Ok(link) => {
                    tracing::info!(port = %link.describe(), "lock-board port open");
                    self.bus = Some(Bus::new(link, self.protocol_codec, self.timing));
                    self.set_port_error(None);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lock-board port unavailable; retrying");
                    self.set_port_error(Some(e.to_string()));
                }
            }
        }
        self.bus.as_mut()
    }

    fn set_port_error(&self, error: Option<String>) {
        let mut state = self.state.lock().unwrap();
        for id in &self.board_ids {
            if let Some(status) = state.boards.get_mut(id) {
                status.port_error = error.clone();
            }
        }
    }

    fn lose_port(&mut self, error: &std::io::Error) {
        tracing::warn!(error = %error, "lock-board port failed; reopening in the background");
        self.set_port_error(Some(error.to_string()));
        self.bus = None;
        for board in 0..self.targets.len() {
            for _ in 0..3 {
                let events = self.tracker.board_silent(board);
                self.emit(events);
            }
        }
    }

    fn query_board(&mut self, board: usize, attempts_with_retry: bool) -> Result<(), BusError> {
        let target = self.targets[board];
        let Some(bus) = self.bus() else {
            let events = self.tracker.board_silent(board);
            self.emit(events);
            return Err(BusError::NoReply);
        };
        let result = if attempts_with_retry {
            bus.query(&target, &Request::QueryAll)
        } else {
            bus.transact(&target, &Request::QueryAll)
                .and_then(|r| r.ok_or(BusError::NoReply))
        };
        let now = Instant::now();
        match result {
            Ok(Reply::Doors(doors)) => {
                self.note_reply(board);
                let events = self.tracker.doors_seen(board, &doors, now);
                self.emit(events);
                Ok(())
            }
            Ok(_)
            | Err(BusError::NoReply)
            | Err(BusError::Refused)
            | Err(BusError::Unsupported) => {
                let events = self.tracker.board_silent(board);
                self.emit(events);
                Err(BusError::NoReply)
            }
            Err(BusError::Io(e)) => {
                self.lose_port(&e);
                Err(BusError::Io(e))
            }
        }
    }

    fn poll_cycle(&mut self) {
        let now = Instant::now();
        for board in 0..self.targets.len() {
            // Offline boards are probed now and then, not every cycle.
            if !self.tracker.board_online(board)
                && self.last_probe[board].is_some_and(|at| now < at + PROBE_INTERVAL)
            {
                continue;
            }
            self.last_probe[board] = Some(now);
            let _ = self.query_board(board, false);
        }
        let mut state = self.state.lock().unwrap();
        state.cycles[self.index] += 1;
        if let Some(bus) = &self.bus {
            for id in &self.board_ids {
                if let Some(status) = state.boards.get_mut(id) {
                    status.stats = bus.stats;
                }
            }
        }
    }

    fn note_reply(&mut self, board: usize) {
        let mut state = self.state.lock().unwrap();
        if let Some(status) = state.boards.get_mut(&self.board_ids[board]) {
            status.online = true;
            status.offline = false;
            status.last_reply = Some(SystemTime::now());
        }
    }

    fn open(&mut self, board: usize, channel: u16) {
        let key = (board, channel);
        let events = self.tracker.open_sent(key, Instant::now());
        self.emit(events);
        let target = self.targets[board];
        let Some(bus) = self.bus() else {
            let events = self.tracker.open_unanswered(key);
            self.emit(events);
            return;
        };
        let needs_status =
            bus.codec().expect(&Request::Open { channel }) == super::protocol::Expect::NoReply;
        match bus.transact(&target, &Request::Open { channel }) {
            Ok(Some(reply)) => {
                // A board thought offline that answers is back: its
                // sensors decide the open (it is polled fast again).
                self.note_reply(board);
                let mut events = self.tracker.board_answered(board);
                if let Reply::OpenAck {
                    door: Some(door), ..
                } = reply
                {
                    events.extend(self.tracker.door_seen(key, door, Instant::now()));
                }
                self.emit(events);
            }
            Ok(None) => {
                if needs_status {
                    thread::sleep(QUERY_AFTER_OPEN);
                    if self.query_board(board, true).is_err() {
                        let events = self.tracker.open_unanswered(key);
                        self.emit(events);
                    }
                }
            }
            // Never pulse again blindly: the lock may have opened. Ask the sensor.
            Err(BusError::NoReply | BusError::Refused | BusError::Unsupported) => {
                if self.query_board(board, true).is_err() {
                    let events = self.tracker.open_unanswered(key);
                    self.emit(events);
                }
            }
            Err(BusError::Io(e)) => {
                self.lose_port(&e);
                let events = self.tracker.open_unanswered(key);
                self.emit(events);
            }
        }
    }

    fn open_all(&mut self, board: usize, replies: Vec<(u16, oneshot::Sender<OpenOutcome>)>) {
        let target = self.targets[board];
        let native = self
            .protocol_codec
            .encode(&target, &Request::OpenAll)
            .is_some();
        for (channel, reply) in replies {
            self.waiters
                .entry((board, channel))
                .or_default()
                .push(reply);
        }
        if !native {
            // One after another, spaced to spare the power supply.
            for channel in 1..=target.channels {
                self.open(board, channel);
                thread::sleep(self.settings.open_spacing);
            }
            return;
        }
        let now = Instant::now();
        for channel in 1..=target.channels {
            let events = self.tracker.open_sent((board, channel), now);
            self.emit(events);
        }
        let result = match self.bus() {
            Some(bus) => bus.transact(&target, &Request::OpenAll),
            None => Err(BusError::NoReply),
        };
        match &result {
            Ok(Some(_)) => {
                self.note_reply(board);
                let events = self.tracker.board_answered(board);
                self.emit(events);
            }
            Err(BusError::Io(e)) => {
                let e = std::io::Error::new(e.kind(), e.to_string());
                self.lose_port(&e);
            }
            _ => {}
        }
        // Whatever the board said, the sensors decide (fast polling follows).
    }

    fn place(&self, key: DoorKey) -> DoorPlace {
        let board = self.board_ids[key.0].clone();
        let compartment = self
            .compartments
            .iter()
            .find(|(_, (b, c))| *b == board && *c == key.1)
            .map(|(n, _)| *n);
        DoorPlace {
            board,
            channel: key.1,
            compartment,
        }
    }

    fn emit(&mut self, events: Vec<TrackerEvent>) {
        for event in events {
            let out = match event {
                TrackerEvent::DoorChanged { key, door, initial } => {
                    let place = self.place(key);
                    self.state
                        .lock()
                        .unwrap()
                        .doors
                        .insert((place.board.clone(), place.channel), door);
                    DoorEvent::DoorChanged {
                        place,
                        door,
                        initial,
                    }
                }
                TrackerEvent::OpenResolved { key, outcome } => {
                    for waiter in self.waiters.remove(&key).unwrap_or_default() {
                        let _ = waiter.send(outcome);
                    }
                    DoorEvent::OpenOutcome {
                        place: self.place(key),
                        outcome,
                    }
                }
                TrackerEvent::UncommandedOpen { key } => {
                    let place = self.place(key);
                    tracing::warn!(board = %place.board, channel = place.channel, compartment = ?place.compartment, "door opened with no open command");
                    DoorEvent::UncommandedOpen { place }
                }
                TrackerEvent::LeftOpen { key, open_for } => DoorEvent::LeftOpen {
                    place: self.place(key),
                    open_for,
                },
                TrackerEvent::BoardOffline { board } => {
                    let id = self.board_ids[board].clone();
                    tracing::warn!(board = %id, "lock board stopped answering");
                    if let Some(status) = self.state.lock().unwrap().boards.get_mut(&id) {
                        status.online = false;
                        status.offline = true;
                    }
                    DoorEvent::BoardOffline { board: id }
                }
                TrackerEvent::BoardOnline { board } => {
                    let id = self.board_ids[board].clone();
                    tracing::info!(board = %id, "lock board answers again");
                    DoorEvent::BoardOnline { board: id }
                }
            };
            let _ = self.events.send(out);
        }
    }
}
