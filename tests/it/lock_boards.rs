//! The real serial code (serialport on a pty) against the board simulator,
//! for every protocol and every fault the simulator can inject.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use locker_kiosk::config::{
    BoardConfig, BoardOptions, BoardPort, CompartmentConfig, DoorSettings, Parity,
};
use locker_kiosk::domain::pickup::OpenOutcome;
use locker_kiosk::domain::{Position, SizeClass};
use locker_kiosk::hardware::doors::{DoorEvent, DoorSystem};
use locker_kiosk::hardware::protocol::Door;
use locker_kiosk::hardware::sim::pty::PtyServer;
use locker_kiosk::hardware::sim::{Faults, SharedSim, SimBoards, SimConfig};
use locker_kiosk::hardware::{Protocol, SensorPolarity};
use tokio::sync::broadcast;

const CHANNELS: u16 = 8;

struct Simulator {
    sim: SharedSim,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    fn start(config: SimConfig, link: &std::path::Path) -> Simulator {
        let baud = config.protocol.profile().default_baud;
        let server = PtyServer::create(Some(link)).unwrap();
        let sim = Arc::new(Mutex::new(SimBoards::new(config)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (sim, stop) = (sim.clone(), stop.clone());
            std::thread::spawn(move || {
                let _ = server.serve(sim, baud, stop);
            })
        };
        Simulator {
            sim,
            stop,
            thread: Some(thread),
        }
    }

    /// Pulls the cable: the pty goes away.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    link: PathBuf,
    simulator: Simulator,
    system: DoorSystem,
    events: broadcast::Receiver<DoorEvent>,
    config: SimConfig,
}

fn settings() -> DoorSettings {
    DoorSettings {
        open_window: Duration::from_millis(800),
        left_open_after: Duration::from_millis(700),
        poll_interval: Duration::from_millis(50),
        reply_timeout: Duration::from_millis(250),
        open_spacing: Duration::from_millis(20),
        simulated_close_after: None,
    }
}

fn rig_with(protocol: Protocol, faults: Faults, polarity: SensorPolarity) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("boards");
    let mut config = SimConfig::uniform(protocol, 1, CHANNELS);
    config.boards[0].polarity = polarity;
    config.faults = faults;
    let simulator = Simulator::start(config.clone(), &link);
    let board = BoardConfig {
        id: "A".into(),
        port: BoardPort::Serial(link.clone()),
        protocol,
        baud: protocol.profile().default_baud,
        parity: Parity::None,
        address: config.boards[0].address,
        channels: CHANNELS,
        polarity,
        options: BoardOptions::default(),
    };
    let compartments: Vec<CompartmentConfig> = (1..=CHANNELS)
        .map(|channel| CompartmentConfig {
            number: u32::from(channel) + 100,
            size: SizeClass::M,
            position: Position::default(),
            board: "A".into(),
            channel,
        })
        .collect();
    let system = DoorSystem::start(&[board], &compartments, &settings());
    let events = system.subscribe();
    assert!(system.wait_first_poll(Duration::from_secs(5)));
    Rig {
        _dir: dir,
        link,
        simulator,
        system,
        events,
        config,
    }
}

fn rig(protocol: Protocol) -> Rig {
    rig_with(
        protocol,
        Faults::default(),
        SensorPolarity::ClosedWhenLocked,
    )
}

impl Rig {
    fn address(&self) -> u8 {
        self.config.boards[0].address
    }

    fn open(&self, channel: u16) -> OpenOutcome {
        self.system
            .open(u32::from(channel) + 100)
            .unwrap()
            .blocking_recv()
            .unwrap()
    }

    /// Waits for an event that `matches`; fails the test after `secs`.
    fn expect_event(
        &mut self,
        what: &str,
        secs: u64,
        matches: impl Fn(&DoorEvent) -> bool,
    ) -> DoorEvent {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match self.events.try_recv() {
                Ok(event) if matches(&event) => return event,
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => {
                    assert!(Instant::now() < deadline, "no {what} event");
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }

    fn wait_until(&self, what: &str, secs: u64, condition: impl Fn(&DoorSystem) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !condition(&self.system) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn each_protocol(test: impl Fn(Protocol) + Sync) {
    std::thread::scope(|scope| {
        for protocol in Protocol::ALL {
            let test = &test;
            scope.spawn(move || test(protocol));
        }
    });
}

#[test]
fn status_and_a_successful_open_on_every_protocol() {
    each_protocol(|protocol| {
        let mut rig = rig(protocol);
        assert!(rig.system.board_online("A"), "{protocol}: board offline");
        for channel in 1..=CHANNELS {
            assert_eq!(
                rig.system.door("A", channel),
                Some(Door::Closed),
                "{protocol} {channel}"
            );
        }
        assert_eq!(rig.open(3), OpenOutcome::Opened, "{protocol}");
        assert_eq!(
            rig.simulator.sim.lock().unwrap().open_doors(),
            vec![(rig.address(), 3)],
            "{protocol}"
        );
        rig.expect_event("outcome", 2, |e| {
            matches!(e, DoorEvent::OpenOutcome { place, outcome: OpenOutcome::Opened } if place.compartment == Some(103))
        });
        // Opening it again while it stands open.
        assert_eq!(rig.open(3), OpenOutcome::AlreadyOpen, "{protocol}");
    });
}

#[test]
fn the_other_sensor_polarity_reads_the_same_doors() {
    each_protocol(|protocol| {
        let rig = rig_with(protocol, Faults::default(), SensorPolarity::ClosedWhenOpen);
        assert_eq!(rig.system.door("A", 1), Some(Door::Closed), "{protocol}");
        assert_eq!(rig.open(2), OpenOutcome::Opened, "{protocol}");
        rig.wait_until("door 2 open", 2, |s| s.door("A", 2) == Some(Door::Open));
    });
}

#[test]
fn a_jammed_door_is_reported_as_jammed() {
    each_protocol(|protocol| {
        let mut faults = Faults::default();
        let address = SimConfig::uniform(protocol, 1, CHANNELS).boards[0].address;
        faults.jammed.insert((address, 5));
        let rig = rig_with(protocol, faults, SensorPolarity::ClosedWhenLocked);
        assert_eq!(rig.open(5), OpenOutcome::Jammed, "{protocol}");
        assert_eq!(rig.system.door("A", 5), Some(Door::Closed));
    });
}

#[test]
fn a_silent_board_is_no_reply_then_offline_then_back_by_itself() {
    each_protocol(|protocol| {
        let mut rig = rig(protocol);
        let address = rig.address();
        rig.simulator.sim.lock().unwrap().set_offline(address, true);
        assert_eq!(rig.open(1), OpenOutcome::NoReply, "{protocol}");
        assert!(rig.simulator.sim.lock().unwrap().open_doors().is_empty());
        rig.expect_event(
            "offline",
            5,
            |e| matches!(e, DoorEvent::BoardOffline { board } if board == "A"),
        );
        assert!(!rig.system.board_online("A"));
        rig.simulator
            .sim
            .lock()
            .unwrap()
            .set_offline(address, false);
        rig.expect_event(
            "online",
            6,
            |e| matches!(e, DoorEvent::BoardOnline { board } if board == "A"),
        );
        assert_eq!(rig.open(1), OpenOutcome::Opened, "{protocol}");
    });
}

#[test]
fn a_pulled_cable_takes_the_board_offline_and_replugging_brings_it_back() {
    let mut rig = rig(Protocol::EightA);
    rig.simulator.stop();
    rig.expect_event("offline", 5, |e| {
        matches!(e, DoorEvent::BoardOffline { .. })
    });
    assert_eq!(rig.open(2), OpenOutcome::NoReply);
    // Plugged back in (a new pty behind the same stable name).
    let _again = Simulator::start(rig.config.clone(), &rig.link);
    rig.expect_event("online", 8, |e| matches!(e, DoorEvent::BoardOnline { .. }));
    assert_eq!(rig.open(2), OpenOutcome::Opened);
}

#[test]
fn an_uncommanded_open_raises_an_alarm_and_a_door_left_open_too() {
    each_protocol(|protocol| {
        let mut rig = rig(protocol);
        let address = rig.address();
        rig.simulator.sim.lock().unwrap().force_open(address, 6);
        let alarm = rig.expect_event("uncommanded open", 3, |e| {
            matches!(e, DoorEvent::UncommandedOpen { .. })
        });
        let DoorEvent::UncommandedOpen { place } = alarm else {
            unreachable!()
        };
        assert_eq!(
            (place.channel, place.compartment),
            (6, Some(106)),
            "{protocol}"
        );
        rig.expect_event(
            "left open",
            3,
            |e| matches!(e, DoorEvent::LeftOpen { place, .. } if place.channel == 6),
        );
        // A commanded open raises no alarm.
        assert_eq!(rig.open(7), OpenOutcome::Opened);
        std::thread::sleep(Duration::from_millis(200));
        while let Ok(event) = rig.events.try_recv() {
            assert!(
                !matches!(event, DoorEvent::UncommandedOpen { .. }),
                "{protocol}: {event:?}"
            );
        }
    });
}

/// Every line fault at once, heavily: the kiosk still reads every door
/// right and opens the right one.
#[test]
fn garbage_echoes_stray_bytes_corruption_drops_and_latency_are_survived() {
    each_protocol(|protocol| {
        // Rates that a real bus would call broken, yet low enough that three
        // query attempts in a row all failing stays rare (under 1 %).
        let faults = Faults {
            drop: 0.1,
            corrupt: 0.1,
            latency: Duration::from_millis(30),
            echo: true,
            stray: 0.5,
            jammed: Default::default(),
        };
        let rig = rig_with(protocol, faults, SensorPolarity::ClosedWhenLocked);
        for channel in [2, 8] {
            let outcome = rig.open(channel);
            assert!(
                outcome == OpenOutcome::Opened || outcome == OpenOutcome::AlreadyOpen,
                "{protocol} channel {channel}: {outcome:?}"
            );
        }
        rig.wait_until("doors 2 and 8 seen open", 5, |s| {
            s.door("A", 2) == Some(Door::Open) && s.door("A", 8) == Some(Door::Open)
        });
        let open = rig.simulator.sim.lock().unwrap().open_doors();
        assert_eq!(
            open,
            vec![(rig.address(), 2), (rig.address(), 8)],
            "{protocol}: a wrong door opened"
        );
        for channel in [1, 3, 4, 5, 6, 7] {
            assert_eq!(
                rig.system.door("A", channel),
                Some(Door::Closed),
                "{protocol} {channel}"
            );
        }
    });
}

#[test]
fn open_all_opens_every_door_of_the_board_and_only_on_request() {
    each_protocol(|protocol| {
        let rig = rig(protocol);
        let outcomes: Vec<OpenOutcome> = rig
            .system
            .open_all("A")
            .unwrap()
            .into_iter()
            .map(|(_, rx)| rx.blocking_recv().unwrap())
            .collect();
        assert_eq!(
            outcomes,
            vec![OpenOutcome::Opened; usize::from(CHANNELS)],
            "{protocol}"
        );
        assert_eq!(
            rig.simulator.sim.lock().unwrap().open_doors().len(),
            usize::from(CHANNELS)
        );
    });
}

#[test]
fn unknown_compartments_and_channels_are_refused_before_the_bus() {
    let rig = rig(Protocol::Winnsen);
    assert!(rig.system.open(999).is_err());
    assert!(rig.system.open_channel("A", 0).is_err());
    assert!(rig.system.open_channel("A", CHANNELS + 1).is_err());
    assert!(rig.system.open_channel("Z", 1).is_err());
    assert!(rig.simulator.sim.lock().unwrap().open_doors().is_empty());
}
