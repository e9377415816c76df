//! The recipient's pickup as a plain state machine.
//!
//! The machine decides; the application service does. Every input is an
//! [`PickupEvent`] (with the time it happened), every output a list of
//! [`PickupEffect`]s to carry out: look a code up, open a door, record the
//! collection. Its invariants:
//! - a parcel counts as collected only once its door was seen open;
//! - a door that did not open is tried once more, then flagged, and the
//!   parcel stays in the locker with its code still valid;
//! - leaving the flow (done, timeout, cancel) never forgets an open door: it
//!   is handed to the door watcher, which resolves it from the sensor.

use super::Timestamp;
use super::codes::{AttemptLimiter, AttemptVerdict, Attempts, LockoutPolicy};
use super::compartment::CompartmentNumber;
// A door fact, used by the flows and the door system alike.
pub use super::compartment::OpenOutcome;

pub type ParcelId = i64;

/// How the code reached the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeInput {
    /// Typed on the keypad (already normalized to digits).
    Pin(String),
    /// The token from a scanned pickup QR.
    QrToken(String),
    /// Any other scanned text: a staff badge, when the directory says
    /// whose it is.
    Badge(String),
}

impl CodeInput {
    /// What a collection through this input is recorded as.
    pub fn collected_with(&self) -> CollectedWith {
        match self {
            CodeInput::Pin(_) | CodeInput::QrToken(_) => CollectedWith::Code,
            CodeInput::Badge(_) => CollectedWith::Badge,
        }
    }
}

/// How a parcel was collected, for the records (an asset register asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CollectedWith {
    /// The recipient's code, typed or scanned.
    #[default]
    Code,
    /// The recipient's staff badge.
    Badge,
    /// A one-time code the recipient made for someone else.
    Delegate,
}

impl CollectedWith {
    pub fn name(self) -> &'static str {
        match self {
            CollectedWith::Code => "code",
            CollectedWith::Badge => "badge",
            CollectedWith::Delegate => "delegate",
        }
    }
}

/// A parcel waiting behind a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingParcel {
    pub parcel: ParcelId,
    pub compartment: CompartmentNumber,
}

/// What the store said about a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeLookup {
    /// Valid: these parcels are waiting (one or more compartments).
    Valid(Vec<WaitingParcel>),
    /// A code the recipient made for someone else: these of their
    /// parcels are waiting for that person.
    Delegated(Vec<WaitingParcel>),
    /// The code exists but its parcels expired: the courier takes them back.
    Expired,
    /// The code was valid once and has been used.
    AlreadyUsed,
    /// No such code at this locker.
    Unknown,
    /// A badge the directory knows, whose holder has nothing waiting.
    NothingWaiting,
    /// A scanned text that is no code and no badge here: not a try.
    NotOurs,
    /// A return code: the person puts this expected parcel in (of this
    /// size, or one they choose).
    Return {
        parcel: ParcelId,
        size: Option<super::compartment::SizeClass>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    Missing,
    Damaged,
    DoorDidNotOpen,
    Dirty,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::Damaged => "damaged",
            ProblemKind::DoorDidNotOpen => "door_did_not_open",
            ProblemKind::Dirty => "dirty",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorProgress {
    /// Not yet asked to open (waits for the previous one, to spare the PSU).
    Waiting,
    /// Open command sent; `attempt` counts from 1.
    Opening {
        attempt: u32,
    },
    Open {
        since: Timestamp,
        reminded: bool,
    },
    Closed,
    /// Could not be opened; flagged and reported.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorTask {
    pub parcel: WaitingParcel,
    pub progress: DoorProgress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupState {
    /// Waiting for a scan or a typed code. `notice` says why we are back here.
    EnterCode {
        notice: Option<Notice>,
    },
    /// A code was submitted and is being looked up.
    Checking,
    LockedOut {
        until: Timestamp,
    },
    /// Opening and emptying compartments.
    Doors {
        doors: Vec<DoorTask>,
    },
    /// All doors dealt with: "Thank you".
    Done {
        failed: usize,
    },
    /// The recipient's code was right and they asked for someone else to
    /// collect: a code for that person is being made; no door opens.
    Delegating {
        parcels: Vec<WaitingParcel>,
    },
    /// The code for someone else is made and shown.
    Delegated,
}

/// Why the code screen is shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    WrongCode {
        attempts_left: u32,
    },
    Expired,
    AlreadyUsed,
    /// A known badge, and nothing waits for its holder.
    NothingWaiting,
    /// Scanned text that opens nothing here (not counted as a try).
    NotACode,
    /// The code for someone else could not be recorded: nothing changed.
    DelegateNotRecorded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupEvent {
    CodeEntered(CodeInput),
    /// "Someone else will collect", on or off, at the code step: a right
    /// code then makes a one-time code for that person instead of
    /// opening doors.
    ForSomeoneElse(bool),
    /// The code for someone else is recorded (or could not be).
    DelegateIssued {
        recorded: bool,
    },
    LookedUp(CodeLookup),
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    DoorClosed {
        compartment: CompartmentNumber,
    },
    ReportProblem {
        compartment: CompartmentNumber,
        kind: ProblemKind,
    },
    /// Time passes: reminders and lockout ends.
    Tick,
    /// Nobody touched the screen for the idle timeout, or they pressed
    /// "back": leave safely.
    Leave,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupEffect {
    LookUp(CodeInput),
    /// Make a one-time code for someone else to collect these parcels.
    IssueDelegate(Vec<WaitingParcel>),
    OpenDoor(CompartmentNumber),
    /// The door is open for the recipient: the parcel is handed over and
    /// the code is spent.
    RecordCollected(WaitingParcel, CollectedWith),
    /// The door did not open after the retry: flag it, alert staff; the
    /// parcel stays and its code stays valid.
    RecordDoorFailure {
        parcel: WaitingParcel,
        outcome: OpenOutcome,
    },
    RecordReport {
        compartment: CompartmentNumber,
        parcel: Option<ParcelId>,
        kind: ProblemKind,
    },
    RemindToClose(CompartmentNumber),
    /// Doors still open when the flow ends: the door watcher resolves them
    /// from the sensor.
    WatchDoors(Vec<CompartmentNumber>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickupPolicy {
    /// Open all of a recipient's doors at once, or one after another when
    /// the power supply cannot pulse several locks together.
    pub open_together: bool,
    /// Open commands per door before it is given up (1 = no retry).
    pub open_attempts: u32,
    /// Remind to close a door left open this long.
    pub close_reminder_secs: u32,
    pub lockout: LockoutPolicy,
}

impl Default for PickupPolicy {
    fn default() -> Self {
        Self {
            open_together: false,
            open_attempts: 2,
            close_reminder_secs: 30,
            lockout: LockoutPolicy::default(),
        }
    }
}

/// One kiosk's pickup flow. The wrong-code limiter outlives each person's
/// session on purpose: walking away does not reset the count.
#[derive(Debug, Clone)]
pub struct PickupFlow {
    policy: PickupPolicy,
    limiter: AttemptLimiter,
    state: PickupState,
    /// How the doors now opening were asked for.
    opened_with: CollectedWith,
    /// "Someone else will collect" is on.
    for_someone_else: bool,
}

impl PickupFlow {
    pub fn new(policy: PickupPolicy) -> Self {
        Self {
            policy,
            limiter: AttemptLimiter::new(policy.lockout),
            state: PickupState::EnterCode { notice: None },
            opened_with: CollectedWith::Code,
            for_someone_else: false,
        }
    }

    pub fn for_someone_else(&self) -> bool {
        self.for_someone_else
    }

    pub fn state(&self) -> &PickupState {
        &self.state
    }

    pub fn attempts(&self) -> Attempts {
        self.limiter.attempts()
    }

    /// Carries on counting from before a restart: a lockout still running
    /// is shown on the code screen.
    pub fn resume_attempts(&mut self, attempts: Attempts, now: Timestamp) {
        self.limiter.resume(attempts);
        if let (Some(until), PickupState::EnterCode { .. }) =
            (self.limiter.locked_until(now), &self.state)
        {
            self.state = PickupState::LockedOut { until };
        }
    }

    /// When the flow next has something to do on [`PickupEvent::Tick`]: a
    /// lockout's end, or the first close reminder due. `None` when time
    /// changes nothing.
    pub fn deadline(&self) -> Option<Timestamp> {
        let reminder = i64::from(self.policy.close_reminder_secs) * 1000;
        match &self.state {
            PickupState::LockedOut { until } => Some(*until),
            PickupState::Doors { doors } => doors
                .iter()
                .filter_map(|d| match d.progress {
                    DoorProgress::Open {
                        since,
                        reminded: false,
                    } => Some(since.plus_millis(reminder)),
                    _ => None,
                })
                .min(),
            _ => None,
        }
    }

    pub fn handle(&mut self, event: PickupEvent, now: Timestamp) -> Vec<PickupEffect> {
        let mut effects = Vec::new();
        let state = std::mem::replace(&mut self.state, PickupState::Checking);
        self.state = self.step(state, event, now, &mut effects);
        effects
    }

    fn step(
        &mut self,
        state: PickupState,
        event: PickupEvent,
        now: Timestamp,
        effects: &mut Vec<PickupEffect>,
    ) -> PickupState {
        use PickupEvent as E;
        use PickupState as S;
        match (state, event) {
            (S::Doors { doors }, E::Leave) => {
                let open = open_doors(&doors);
                if !open.is_empty() {
                    effects.push(PickupEffect::WatchDoors(open));
                }
                S::EnterCode { notice: None }
            }
            (
                state @ (S::EnterCode { .. } | S::Done { .. } | S::LockedOut { .. } | S::Delegated),
                E::ForSomeoneElse(on),
            ) => {
                self.for_someone_else = on;
                let notice = match state {
                    S::EnterCode { notice } => notice_if_code_step(notice),
                    _ => None,
                };
                match self.limiter.locked_until(now) {
                    Some(until) => S::LockedOut { until },
                    None => S::EnterCode { notice },
                }
            }
            (S::Delegating { .. }, E::DelegateIssued { recorded: true }) => {
                self.for_someone_else = false;
                S::Delegated
            }
            (S::Delegating { .. }, E::DelegateIssued { recorded: false }) => S::EnterCode {
                notice: Some(Notice::DelegateNotRecorded),
            },
            (_, E::Leave) => {
                self.for_someone_else = false;
                match self.limiter.locked_until(now) {
                    Some(until) => S::LockedOut { until },
                    None => S::EnterCode { notice: None },
                }
            }
            (
                S::EnterCode { .. } | S::Done { .. } | S::LockedOut { .. } | S::Delegated,
                E::CodeEntered(code),
            ) => match self.limiter.locked_until(now) {
                Some(until) => S::LockedOut { until },
                None => {
                    self.opened_with = code.collected_with();
                    effects.push(PickupEffect::LookUp(code));
                    S::Checking
                }
            },
            (S::LockedOut { until }, E::Tick) if now >= until => S::EnterCode { notice: None },
            (S::Checking, E::LookedUp(lookup)) => self.on_lookup(lookup, now, effects),
            (
                S::Doors { mut doors },
                E::DoorOutcome {
                    compartment,
                    outcome,
                },
            ) => {
                self.on_outcome(&mut doors, compartment, outcome, now, effects);
                self.next_doors(doors, effects)
            }
            (S::Doors { mut doors }, E::DoorClosed { compartment }) => {
                for door in doors
                    .iter_mut()
                    .filter(|d| d.parcel.compartment == compartment)
                {
                    if matches!(door.progress, DoorProgress::Open { .. }) {
                        door.progress = DoorProgress::Closed;
                    }
                }
                self.next_doors(doors, effects)
            }
            (S::Doors { mut doors }, E::Tick) => {
                let reminder = i64::from(self.policy.close_reminder_secs) * 1000;
                for door in &mut doors {
                    if let DoorProgress::Open {
                        since,
                        reminded: false,
                    } = door.progress
                        && now.0 - since.0 >= reminder
                    {
                        door.progress = DoorProgress::Open {
                            since,
                            reminded: true,
                        };
                        effects.push(PickupEffect::RemindToClose(door.parcel.compartment));
                    }
                }
                S::Doors { doors }
            }
            (
                state @ (S::Doors { .. } | S::Done { .. }),
                E::ReportProblem { compartment, kind },
            ) => {
                let parcel = match &state {
                    S::Doors { doors } => doors
                        .iter()
                        .find(|d| d.parcel.compartment == compartment)
                        .map(|d| d.parcel.parcel),
                    _ => None,
                };
                effects.push(PickupEffect::RecordReport {
                    compartment,
                    parcel,
                    kind,
                });
                state
            }
            // Anything else (a stray door event, a second code while doors
            // are open) does not change the flow.
            (state, _) => state,
        }
    }

    fn on_lookup(
        &mut self,
        lookup: CodeLookup,
        now: Timestamp,
        effects: &mut Vec<PickupEffect>,
    ) -> PickupState {
        let lookup = match lookup {
            CodeLookup::Delegated(parcels) => {
                self.opened_with = CollectedWith::Delegate;
                CodeLookup::Valid(parcels)
            }
            other => other,
        };
        match lookup {
            CodeLookup::Valid(parcels)
                if !parcels.is_empty()
                    && self.for_someone_else
                    && self.opened_with != CollectedWith::Delegate =>
            {
                self.limiter.record_success();
                effects.push(PickupEffect::IssueDelegate(parcels.clone()));
                PickupState::Delegating { parcels }
            }
            CodeLookup::Valid(parcels) if !parcels.is_empty() => {
                self.limiter.record_success();
                let doors = parcels
                    .into_iter()
                    .map(|parcel| DoorTask {
                        parcel,
                        progress: DoorProgress::Waiting,
                    })
                    .collect();
                self.next_doors(doors, effects)
            }
            CodeLookup::Expired => PickupState::EnterCode {
                notice: Some(Notice::Expired),
            },
            CodeLookup::AlreadyUsed => PickupState::EnterCode {
                notice: Some(Notice::AlreadyUsed),
            },
            CodeLookup::NothingWaiting => PickupState::EnterCode {
                notice: Some(Notice::NothingWaiting),
            },
            CodeLookup::NotOurs => PickupState::EnterCode {
                notice: Some(Notice::NotACode),
            },
            // A right code, for putting a parcel in: the kiosk's return
            // flow takes the person from here.
            CodeLookup::Return { .. } => {
                self.limiter.record_success();
                PickupState::EnterCode { notice: None }
            }
            CodeLookup::Valid(_) | CodeLookup::Delegated(_) | CodeLookup::Unknown => {
                match self.limiter.record_failure(now) {
                    AttemptVerdict::TryAgain { attempts_left } => PickupState::EnterCode {
                        notice: Some(Notice::WrongCode { attempts_left }),
                    },
                    AttemptVerdict::LockedOut { until } => PickupState::LockedOut { until },
                }
            }
        }
    }

    fn on_outcome(
        &self,
        doors: &mut [DoorTask],
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
        now: Timestamp,
        effects: &mut Vec<PickupEffect>,
    ) {
        for door in doors
            .iter_mut()
            .filter(|d| d.parcel.compartment == compartment)
        {
            let DoorProgress::Opening { attempt } = door.progress else {
                continue;
            };
            if outcome.door_is_open() {
                door.progress = DoorProgress::Open {
                    since: now,
                    reminded: false,
                };
                effects.push(PickupEffect::RecordCollected(door.parcel, self.opened_with));
            } else if outcome == OpenOutcome::NotSent {
                // The records are failing (shown on its own): the door is
                // sound, so it is neither retried nor reported.
                door.progress = DoorProgress::Failed;
            } else if attempt < self.policy.open_attempts {
                door.progress = DoorProgress::Opening {
                    attempt: attempt + 1,
                };
                effects.push(PickupEffect::OpenDoor(compartment));
            } else {
                door.progress = DoorProgress::Failed;
                effects.push(PickupEffect::RecordDoorFailure {
                    parcel: door.parcel,
                    outcome,
                });
            }
        }
    }

    /// Starts the next door(s) and ends the flow when every door is closed
    /// or failed.
    fn next_doors(&self, mut doors: Vec<DoorTask>, effects: &mut Vec<PickupEffect>) -> PickupState {
        let busy = doors
            .iter()
            .any(|d| matches!(d.progress, DoorProgress::Opening { .. }));
        let mut started = Vec::new();
        for door in doors.iter_mut() {
            if door.progress != DoorProgress::Waiting || started.contains(&door.parcel.compartment)
            {
                continue;
            }
            if !self.policy.open_together && (busy || !started.is_empty()) {
                break;
            }
            door.progress = DoorProgress::Opening { attempt: 1 };
            started.push(door.parcel.compartment);
        }
        // Several parcels can share one compartment: open it once.
        for compartment in &started {
            for door in doors.iter_mut() {
                if door.parcel.compartment == *compartment && door.progress == DoorProgress::Waiting
                {
                    door.progress = DoorProgress::Opening { attempt: 1 };
                }
            }
            effects.push(PickupEffect::OpenDoor(*compartment));
        }
        let finished = doors
            .iter()
            .all(|d| matches!(d.progress, DoorProgress::Closed | DoorProgress::Failed));
        if finished {
            PickupState::Done {
                failed: doors
                    .iter()
                    .filter(|d| d.progress == DoorProgress::Failed)
                    .count(),
            }
        } else {
            PickupState::Doors { doors }
        }
    }
}

fn open_doors(doors: &[DoorTask]) -> Vec<CompartmentNumber> {
    let mut open: Vec<_> = doors
        .iter()
        .filter(|d| {
            matches!(
                d.progress,
                DoorProgress::Open { .. } | DoorProgress::Opening { .. }
            )
        })
        .map(|d| d.parcel.compartment)
        .collect();
    open.sort_unstable();
    open.dedup();
    open
}

/// The notice kept when "someone else" is switched at the code step: a
/// wrong code's count stays said, nothing else.
fn notice_if_code_step(notice: Option<Notice>) -> Option<Notice> {
    notice.filter(|n| matches!(n, Notice::WrongCode { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use PickupEffect as F;

    const T0: Timestamp = Timestamp(1_000_000);

    fn parcel(parcel: ParcelId, compartment: CompartmentNumber) -> WaitingParcel {
        WaitingParcel {
            parcel,
            compartment,
        }
    }

    fn flow() -> PickupFlow {
        PickupFlow::new(PickupPolicy::default())
    }

    fn enter(flow: &mut PickupFlow, lookup: CodeLookup) -> Vec<PickupEffect> {
        let effects = flow.handle(
            PickupEvent::CodeEntered(CodeInput::Pin("583920".into())),
            T0,
        );
        assert_eq!(effects, vec![F::LookUp(CodeInput::Pin("583920".into()))]);
        flow.handle(PickupEvent::LookedUp(lookup), T0)
    }

    fn outcome(compartment: CompartmentNumber, outcome: OpenOutcome) -> PickupEvent {
        PickupEvent::DoorOutcome {
            compartment,
            outcome,
        }
    }

    #[test]
    fn a_code_for_someone_else_opens_no_door_and_its_holder_collects_as_a_delegate() {
        let mut f = flow();
        f.handle(PickupEvent::ForSomeoneElse(true), T0);
        let effects = enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        assert_eq!(effects, vec![F::IssueDelegate(vec![parcel(7, 3)])]);
        assert!(matches!(f.state(), PickupState::Delegating { .. }));
        f.handle(PickupEvent::DelegateIssued { recorded: true }, T0);
        assert_eq!(f.state(), &PickupState::Delegated);
        assert!(!f.for_someone_else(), "one code made: the choice is spent");
        // The other person's code: the door opens, recorded as theirs.
        let effects = enter(&mut f, CodeLookup::Delegated(vec![parcel(7, 3)]));
        assert_eq!(effects, vec![F::OpenDoor(3)]);
        let effects = f.handle(outcome(3, OpenOutcome::Opened), T0);
        assert!(effects.contains(&F::RecordCollected(parcel(7, 3), CollectedWith::Delegate)));
        // A code that could not be recorded says so and changes nothing.
        let mut f = flow();
        f.handle(PickupEvent::ForSomeoneElse(true), T0);
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        f.handle(PickupEvent::DelegateIssued { recorded: false }, T0);
        assert_eq!(
            f.state(),
            &PickupState::EnterCode {
                notice: Some(Notice::DelegateNotRecorded)
            }
        );
    }

    #[test]
    fn one_parcel_from_code_to_thank_you() {
        let mut f = flow();
        assert_eq!(
            enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)])),
            vec![F::OpenDoor(3)]
        );
        assert_eq!(
            f.handle(outcome(3, OpenOutcome::Opened), T0),
            vec![F::RecordCollected(parcel(7, 3), CollectedWith::Code)]
        );
        assert!(matches!(f.state(), PickupState::Doors { .. }));
        assert!(
            f.handle(PickupEvent::DoorClosed { compartment: 3 }, T0)
                .is_empty()
        );
        assert_eq!(f.state(), &PickupState::Done { failed: 0 });
    }

    #[test]
    fn several_doors_open_one_after_another() {
        let mut f = flow();
        let parcels = vec![parcel(1, 4), parcel(2, 9), parcel(3, 4)];
        assert_eq!(
            enter(&mut f, CodeLookup::Valid(parcels)),
            vec![F::OpenDoor(4)]
        );
        // Both parcels in compartment 4 are handed over with one opening.
        assert_eq!(
            f.handle(outcome(4, OpenOutcome::Opened), T0),
            vec![
                F::RecordCollected(parcel(1, 4), CollectedWith::Code),
                F::RecordCollected(parcel(3, 4), CollectedWith::Code),
                F::OpenDoor(9)
            ]
        );
        f.handle(outcome(9, OpenOutcome::AlreadyOpen), T0);
        f.handle(PickupEvent::DoorClosed { compartment: 9 }, T0);
        assert!(matches!(f.state(), PickupState::Doors { .. }));
        f.handle(PickupEvent::DoorClosed { compartment: 4 }, T0);
        assert_eq!(f.state(), &PickupState::Done { failed: 0 });
    }

    #[test]
    fn several_doors_open_together_when_allowed() {
        let mut f = PickupFlow::new(PickupPolicy {
            open_together: true,
            ..PickupPolicy::default()
        });
        let effects = enter(&mut f, CodeLookup::Valid(vec![parcel(1, 4), parcel(2, 9)]));
        assert_eq!(effects, vec![F::OpenDoor(4), F::OpenDoor(9)]);
    }

    #[test]
    fn a_jammed_door_is_retried_once_then_reported() {
        let mut f = flow();
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        assert_eq!(
            f.handle(outcome(3, OpenOutcome::Jammed), T0),
            vec![F::OpenDoor(3)]
        );
        assert_eq!(
            f.handle(outcome(3, OpenOutcome::NoReply), T0),
            vec![F::RecordDoorFailure {
                parcel: parcel(7, 3),
                outcome: OpenOutcome::NoReply
            }]
        );
        assert_eq!(f.state(), &PickupState::Done { failed: 1 });
    }

    #[test]
    fn a_door_not_opened_for_want_of_records_is_neither_retried_nor_reported() {
        let mut f = flow();
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        assert_eq!(f.handle(outcome(3, OpenOutcome::NotSent), T0), vec![]);
        assert_eq!(f.state(), &PickupState::Done { failed: 1 });
    }

    #[test]
    fn wrong_codes_count_down_then_lock_out() {
        let mut f = flow();
        for left in (1..5).rev() {
            enter(&mut f, CodeLookup::Unknown);
            assert_eq!(
                f.state(),
                &PickupState::EnterCode {
                    notice: Some(Notice::WrongCode {
                        attempts_left: left
                    })
                }
            );
        }
        enter(&mut f, CodeLookup::Unknown);
        let until = T0.plus_secs(60);
        assert_eq!(f.state(), &PickupState::LockedOut { until });
        // Codes are not even looked up while locked out.
        let effects = f.handle(PickupEvent::CodeEntered(CodeInput::Pin("1".into())), T0);
        assert!(effects.is_empty());
        // Walking away does not reset the lockout.
        f.handle(PickupEvent::Leave, T0);
        assert_eq!(f.state(), &PickupState::LockedOut { until });
        assert_eq!(f.deadline(), Some(until), "the lockout's end is due");
        f.handle(PickupEvent::Tick, until);
        assert_eq!(f.state(), &PickupState::EnterCode { notice: None });
    }

    #[test]
    fn expired_and_used_codes_say_so_without_counting_as_wrong() {
        let mut f = flow();
        for _ in 0..10 {
            enter(&mut f, CodeLookup::Expired);
            assert_eq!(
                f.state(),
                &PickupState::EnterCode {
                    notice: Some(Notice::Expired)
                }
            );
        }
        enter(&mut f, CodeLookup::AlreadyUsed);
        assert_eq!(
            f.state(),
            &PickupState::EnterCode {
                notice: Some(Notice::AlreadyUsed)
            }
        );
    }

    #[test]
    fn door_left_open_gets_one_reminder() {
        let mut f = flow();
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        f.handle(outcome(3, OpenOutcome::Opened), T0);
        assert_eq!(f.deadline(), Some(T0.plus_secs(30)), "the reminder is due");
        assert!(f.handle(PickupEvent::Tick, T0.plus_secs(10)).is_empty());
        assert_eq!(
            f.handle(PickupEvent::Tick, T0.plus_secs(30)),
            vec![F::RemindToClose(3)]
        );
        assert!(f.handle(PickupEvent::Tick, T0.plus_secs(60)).is_empty());
        assert_eq!(f.deadline(), None, "reminded once: nothing more is due");
    }

    #[test]
    fn leaving_hands_open_doors_to_the_watcher() {
        let mut f = flow();
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3), parcel(8, 5)]));
        f.handle(outcome(3, OpenOutcome::Opened), T0);
        // Door 5 has been commanded but its outcome is not known yet.
        assert_eq!(
            f.handle(PickupEvent::Leave, T0),
            vec![F::WatchDoors(vec![3, 5])]
        );
        assert_eq!(f.state(), &PickupState::EnterCode { notice: None });
    }

    #[test]
    fn problems_are_reported_with_the_parcel() {
        let mut f = flow();
        enter(&mut f, CodeLookup::Valid(vec![parcel(7, 3)]));
        f.handle(outcome(3, OpenOutcome::Opened), T0);
        let report = PickupEvent::ReportProblem {
            compartment: 3,
            kind: ProblemKind::Damaged,
        };
        assert_eq!(
            f.handle(report, T0),
            vec![F::RecordReport {
                compartment: 3,
                parcel: Some(7),
                kind: ProblemKind::Damaged
            }]
        );
    }

    #[test]
    fn stray_events_change_nothing() {
        let mut f = flow();
        for event in [
            outcome(3, OpenOutcome::Opened),
            PickupEvent::DoorClosed { compartment: 3 },
            PickupEvent::LookedUp(CodeLookup::Unknown),
            PickupEvent::Tick,
        ] {
            assert!(f.handle(event, T0).is_empty());
            assert_eq!(f.state(), &PickupState::EnterCode { notice: None });
        }
    }
}
