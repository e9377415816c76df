//! Knowing whether a door really opened: the last known state of every
//! door, the outcome of each open command, and the alarms. Pure: sensor
//! readings and the time go in, events come out.
//!
//! A board's "ok" to an open means the lock was pulsed, not that the door
//! moved. So an open is decided by the sensor:
//! - `already_open`: the door was open before the pulse;
//! - `opened`: closed before, seen open within the window;
//! - `jammed`: still closed when the window runs out;
//! - `no_reply`: the board did not answer (the open and the query after it).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::protocol::Door;
use crate::domain::OpenOutcome;

/// A door: the index of its board on the bus, and its channel.
pub type DoorKey = (usize, u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerSettings {
    /// How long a pulsed door has to open.
    pub open_window: Duration,
    /// A door open this long raises `left_open`.
    pub left_open_after: Duration,
    /// Consecutive unanswered requests before a board is offline.
    pub offline_after: u32,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        Self {
            open_window: Duration::from_secs(3),
            left_open_after: Duration::from_secs(120),
            offline_after: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerEvent {
    /// `initial`: the first reading since start, not a movement.
    DoorChanged {
        key: DoorKey,
        door: Door,
        initial: bool,
    },
    OpenResolved {
        key: DoorKey,
        outcome: OpenOutcome,
    },
    /// A door opened with no open command behind it.
    UncommandedOpen {
        key: DoorKey,
    },
    LeftOpen {
        key: DoorKey,
        open_for: Duration,
    },
    BoardOffline {
        board: usize,
    },
    BoardOnline {
        board: usize,
    },
}

#[derive(Debug, Clone, Copy)]
struct DoorInfo {
    door: Door,
    since: Instant,
    left_open_raised: bool,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, Default)]
struct BoardHealth {
    online: bool,
    failures: u32,
    /// Whether it has ever answered (no "came back" event for a first reply).
    seen: bool,
}

pub struct DoorTracker {
    settings: TrackerSettings,
    doors: HashMap<DoorKey, DoorInfo>,
    pending: HashMap<DoorKey, Pending>,
    /// Doors commanded open whose opening has not been seen yet, with the
    /// time until which an opening counts as commanded.
    commanded: HashMap<DoorKey, Instant>,
    boards: Vec<BoardHealth>,
}

impl DoorTracker {
    pub fn new(boards: usize, settings: TrackerSettings) -> DoorTracker {
        DoorTracker {
            settings,
            doors: HashMap::new(),
            pending: HashMap::new(),
            commanded: HashMap::new(),
            boards: vec![BoardHealth::default(); boards],
        }
    }

    pub fn door(&self, key: DoorKey) -> Option<Door> {
        self.doors.get(&key).map(|d| d.door)
    }

    pub fn board_online(&self, board: usize) -> bool {
        self.boards.get(board).is_some_and(|b| b.online)
    }

    pub fn has_pending(&self, board: usize) -> bool {
        self.pending.keys().any(|(b, _)| *b == board)
    }

    /// An open command is being sent. Resolves at once when the door is
    /// known to be open already.
    pub fn open_sent(&mut self, key: DoorKey, now: Instant) -> Vec<TrackerEvent> {
        self.commanded.insert(key, now + self.settings.open_window);
        if self.door(key) == Some(Door::Open) {
            return vec![TrackerEvent::OpenResolved {
                key,
                outcome: OpenOutcome::AlreadyOpen,
            }];
        }
        self.pending.insert(
            key,
            Pending {
                deadline: now + self.settings.open_window,
            },
        );
        Vec::new()
    }

    /// Neither the open nor the query after it was answered. The door may
    /// still have opened: seen open within the window, it is no alarm.
    pub fn open_unanswered(&mut self, key: DoorKey) -> Vec<TrackerEvent> {
        match self.pending.remove(&key) {
            Some(_) => vec![TrackerEvent::OpenResolved {
                key,
                outcome: OpenOutcome::NoReply,
            }],
            None => Vec::new(),
        }
    }

    /// A board answered with the states of its doors (channel 1 first).
    pub fn doors_seen(&mut self, board: usize, doors: &[Door], now: Instant) -> Vec<TrackerEvent> {
        let mut events = self.board_answered(board);
        for (i, door) in doors.iter().enumerate() {
            events.extend(self.door_seen((board, i as u16 + 1), *door, now));
        }
        events
    }

    /// One door's state, from a query or an open's reply.
    pub fn door_seen(&mut self, key: DoorKey, door: Door, now: Instant) -> Vec<TrackerEvent> {
        let mut events = Vec::new();
        let previous = self.doors.get(&key).map(|d| d.door);
        if previous != Some(door) {
            self.doors.insert(
                key,
                DoorInfo {
                    door,
                    since: now,
                    left_open_raised: false,
                },
            );
            events.push(TrackerEvent::DoorChanged {
                key,
                door,
                initial: previous.is_none(),
            });
        }
        if door == Door::Open && previous != Some(Door::Open) {
            let commanded = self
                .commanded
                .remove(&key)
                .is_some_and(|until| now <= until);
            if self.pending.remove(&key).is_some() {
                events.push(TrackerEvent::OpenResolved {
                    key,
                    outcome: OpenOutcome::Opened,
                });
            } else if previous == Some(Door::Closed) && !commanded {
                events.push(TrackerEvent::UncommandedOpen { key });
            }
        }
        events
    }

    /// The board answered a request (any reply counts): it is online, and
    /// a pending open on it is decided by its sensors again.
    pub fn board_answered(&mut self, board: usize) -> Vec<TrackerEvent> {
        let Some(health) = self.boards.get_mut(board) else {
            return Vec::new();
        };
        let came_back = health.seen && !health.online;
        *health = BoardHealth {
            online: true,
            failures: 0,
            seen: true,
        };
        if came_back {
            vec![TrackerEvent::BoardOnline { board }]
        } else {
            Vec::new()
        }
    }

    /// A request to `board` went unanswered.
    pub fn board_silent(&mut self, board: usize) -> Vec<TrackerEvent> {
        let Some(health) = self.boards.get_mut(board) else {
            return Vec::new();
        };
        health.failures += 1;
        let was_online = health.online || !health.seen;
        if health.failures >= self.settings.offline_after && was_online {
            health.online = false;
            health.seen = true;
            return vec![TrackerEvent::BoardOffline { board }];
        }
        Vec::new()
    }

    /// Time passes: open windows run out, doors stay open too long.
    pub fn tick(&mut self, now: Instant) -> Vec<TrackerEvent> {
        let mut events = Vec::new();
        let expired: Vec<DoorKey> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.deadline)
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            self.pending.remove(&key);
            let outcome = if self.board_online(key.0) {
                OpenOutcome::Jammed
            } else {
                OpenOutcome::NoReply
            };
            events.push(TrackerEvent::OpenResolved { key, outcome });
        }
        self.commanded.retain(|_, until| now <= *until);
        for (key, info) in self.doors.iter_mut() {
            let open_for = now.saturating_duration_since(info.since);
            if info.door == Door::Open
                && !info.left_open_raised
                && open_for >= self.settings.left_open_after
            {
                info.left_open_raised = true;
                events.push(TrackerEvent::LeftOpen {
                    key: *key,
                    open_for,
                });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: DoorKey = (0, 3);

    fn tracker() -> (DoorTracker, Instant) {
        let mut t = DoorTracker::new(2, TrackerSettings::default());
        let now = Instant::now();
        t.doors_seen(0, &[Door::Closed; 8], now);
        (t, now)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_readings_are_changes_but_never_alarms() {
        let mut t = DoorTracker::new(1, TrackerSettings::default());
        let events = t.doors_seen(0, &[Door::Open, Door::Closed], Instant::now());
        assert_eq!(
            events,
            vec![
                TrackerEvent::DoorChanged {
                    key: (0, 1),
                    door: Door::Open,
                    initial: true
                },
                TrackerEvent::DoorChanged {
                    key: (0, 2),
                    door: Door::Closed,
                    initial: true
                }
            ]
        );
        assert!(t.board_online(0));
    }

    #[test]
    fn a_door_seen_open_within_the_window_opened() {
        let (mut t, now) = tracker();
        assert!(t.open_sent(KEY, now).is_empty());
        assert!(t.tick(now + ms(500)).is_empty());
        let events = t.door_seen(KEY, Door::Open, now + ms(600));
        assert!(events.contains(&TrackerEvent::OpenResolved {
            key: KEY,
            outcome: OpenOutcome::Opened
        }));
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrackerEvent::UncommandedOpen { .. }))
        );
    }

    #[test]
    fn a_door_still_closed_after_the_window_is_jammed() {
        let (mut t, now) = tracker();
        t.open_sent(KEY, now);
        t.doors_seen(0, &[Door::Closed; 8], now + ms(1000));
        assert!(t.tick(now + ms(2999)).is_empty());
        assert_eq!(
            t.tick(now + ms(3000)),
            vec![TrackerEvent::OpenResolved {
                key: KEY,
                outcome: OpenOutcome::Jammed
            }]
        );
        // Resolved once only.
        assert!(t.tick(now + ms(4000)).is_empty());
    }

    #[test]
    fn a_door_open_before_the_pulse_was_already_open() {
        let (mut t, now) = tracker();
        t.door_seen(KEY, Door::Open, now);
        assert_eq!(
            t.open_sent(KEY, now),
            vec![TrackerEvent::OpenResolved {
                key: KEY,
                outcome: OpenOutcome::AlreadyOpen
            }]
        );
    }

    #[test]
    fn an_unanswered_open_is_no_reply_and_a_silent_board_goes_offline_and_comes_back() {
        let (mut t, now) = tracker();
        t.open_sent(KEY, now);
        assert_eq!(
            t.open_unanswered(KEY),
            vec![TrackerEvent::OpenResolved {
                key: KEY,
                outcome: OpenOutcome::NoReply
            }]
        );
        assert!(t.board_silent(0).is_empty());
        assert!(t.board_silent(0).is_empty());
        assert_eq!(
            t.board_silent(0),
            vec![TrackerEvent::BoardOffline { board: 0 }]
        );
        assert!(t.board_silent(0).is_empty(), "offline is reported once");
        assert!(!t.board_online(0));
        let events = t.doors_seen(0, &[Door::Closed; 8], now);
        assert_eq!(events, vec![TrackerEvent::BoardOnline { board: 0 }]);
    }

    #[test]
    fn a_door_seen_open_after_an_unanswered_open_is_no_alarm() {
        let (mut t, now) = tracker();
        t.open_sent(KEY, now);
        t.open_unanswered(KEY);
        let events = t.door_seen(KEY, Door::Open, now + ms(500));
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, TrackerEvent::UncommandedOpen { .. })),
            "{events:?}"
        );
    }

    #[test]
    fn a_window_that_runs_out_on_an_offline_board_is_no_reply() {
        let (mut t, now) = tracker();
        t.open_sent(KEY, now);
        for _ in 0..3 {
            t.board_silent(0);
        }
        assert_eq!(
            t.tick(now + ms(3000)),
            vec![TrackerEvent::OpenResolved {
                key: KEY,
                outcome: OpenOutcome::NoReply
            }]
        );
    }

    #[test]
    fn an_offline_board_that_acknowledges_an_open_is_online_again() {
        // Kerong CU boards acknowledge an open without saying how the door
        // is: the sensor must still decide, not the offline verdict.
        let (mut t, now) = tracker();
        for _ in 0..3 {
            t.board_silent(0);
        }
        assert!(!t.board_online(0));
        t.open_sent(KEY, now);
        assert_eq!(
            t.board_answered(0),
            vec![TrackerEvent::BoardOnline { board: 0 }]
        );
        assert!(t.board_online(0) && t.has_pending(0));
        let events = t.door_seen(KEY, Door::Open, now + ms(200));
        assert!(
            events.contains(&TrackerEvent::OpenResolved {
                key: KEY,
                outcome: OpenOutcome::Opened
            }),
            "{events:?}"
        );
    }

    #[test]
    fn opening_without_a_command_raises_an_alarm() {
        let (mut t, now) = tracker();
        let events = t.door_seen(KEY, Door::Open, now + ms(10));
        assert!(events.contains(&TrackerEvent::UncommandedOpen { key: KEY }));
        // A commanded door that opens late (after its window) is also suspicious.
        let other = (0, 4);
        t.open_sent(other, now);
        t.tick(now + ms(3000));
        let late = t.door_seen(other, Door::Open, now + ms(5000));
        assert!(late.contains(&TrackerEvent::UncommandedOpen { key: other }));
    }

    #[test]
    fn a_door_left_open_raises_one_alarm() {
        let (mut t, now) = tracker();
        t.open_sent(KEY, now);
        t.door_seen(KEY, Door::Open, now);
        assert!(t.tick(now + Duration::from_secs(119)).is_empty());
        assert!(matches!(
            t.tick(now + Duration::from_secs(120))[..],
            [TrackerEvent::LeftOpen { key: KEY, .. }]
        ));
        assert!(t.tick(now + Duration::from_secs(200)).is_empty());
        // Closing and opening again starts afresh.
        t.door_seen(KEY, Door::Closed, now + Duration::from_secs(201));
        assert_eq!(t.door(KEY), Some(Door::Closed));
    }
}
