//! The courier's drop-off (and take-back of expired parcels) as a plain
//! state machine, in the same style as [`super::pickup`].
//!
//! Invariants:
//! - a deposit is recorded only for a compartment whose door was seen open;
//! - a compartment that failed (door did not open, dirty) is flagged and
//!   never offered again in this session; the courier gets another one
//!   straight away;
//! - leaving mid-deposit never loses the parcel: an opened compartment is
//!   recorded as an unconfirmed deposit for staff to check, and the door is
//!   handed to the watcher.

mod leave;

use super::Timestamp;
use super::allocation::AllocationRequest;
use super::codes::{AttemptLimiter, AttemptVerdict, Attempts, LockoutPolicy};
use super::compartment::{CompartmentNumber, SizeClass};
use super::pickup::{OpenOutcome, ParcelId, ProblemKind, WaitingParcel};
use leave::leave;

pub type CourierId = i64;
pub type RecipientId = i64;

/// A parcel being dropped off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelDraft {
    pub tracking: String,
    pub recipient: RecipientId,
    /// The recipient asked for a compartment they can reach.
    pub accessible: bool,
    /// The announced record, when the carrier's manifest had it.
    pub announced: Option<ParcelId>,
    /// The size the manifest gave, preselected on the size screen.
    pub size_hint: Option<SizeClass>,
}

/// What the store knows of a scanned tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParcelMatch {
    Announced {
        parcel: ParcelId,
        recipient: RecipientId,
        accessible: bool,
        size: Option<SizeClass>,
    },
    /// Not in any manifest: the courier picks the recipient.
    Unknown,
    /// Already in the locker: scanned twice.
    AlreadyInLocker { compartment: CompartmentNumber },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    pub parcel: ParcelDraft,
    pub compartment: CompartmentNumber,
    /// When the door was seen closed on it (or the courier left).
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropoffNotice {
    WrongCode {
        attempts_left: u32,
    },
    AlreadyInLocker {
        compartment: CompartmentNumber,
    },
    /// No compartment of this size (or bigger) is free.
    NoRoom {
        size: SizeClass,
    },
    /// The parcel did not fit the biggest compartment there is.
    NothingBigger,
    NothingToRetrieve,
    /// The take-back is over: this many parcels are now with the courier.
    TakenBack {
        count: usize,
    },
    /// The scanned text is not a usable tracking number.
    InvalidTracking(TrackingProblem),
    /// No compartment of any size is free: the parcel stays with the courier.
    LockerFull,
    /// A door did not open; the parcel goes to another compartment.
    DoorFailed {
        compartment: CompartmentNumber,
    },
    /// A deposit was taken back: its door is open for the parcel.
    Undone {
        compartment: CompartmentNumber,
    },
    /// The door of a deposit to undo did not open; the parcel stays in.
    UndoFailed {
        compartment: CompartmentNumber,
    },
    /// The locker could not write down the deposit, so no door opened:
    /// the parcel stays with the courier.
    NotRecorded,
}

/// Why a courier's tracking number was refused (decided by the scanning
/// layer, which knows the carriers' formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingProblem {
    TooShort,
    TooLong,
    BadCharacters,
    BadCheckDigit,
    NotAParcel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropoffState {
    Login {
        notice: Option<DropoffNotice>,
    },
    CheckingLogin,
    LockedOut {
        until: Timestamp,
    },
    ScanParcel {
        session: Session,
        notice: Option<DropoffNotice>,
    },
    LookingUp {
        session: Session,
        tracking: String,
    },
    ChooseRecipient {
        session: Session,
        tracking: String,
    },
    ChooseSize {
        session: Session,
        parcel: ParcelDraft,
        notice: Option<DropoffNotice>,
    },
    /// Opening the door of a deposit the courier takes back.
    Undoing {
        session: Session,
        compartment: CompartmentNumber,
    },
    Allocating {
        session: Session,
        job: Job,
    },
    Opening {
        session: Session,
        job: Job,
        compartment: CompartmentNumber,
        size: SizeClass,
    },
    /// Door open: put the parcel in and close the door.
    Filling {
        session: Session,
        job: Job,
        compartment: CompartmentNumber,
        size: SizeClass,
    },
    /// Taking back expired parcels, door by door.
    Retrieving {
        session: Session,
        queue: Vec<Retrievable>,
        door: RetrievalDoor,
    },
    Finished {
        session: Session,
    },
}

/// The session of every state that has one, by reference or by mutable
/// reference: one list of the states of a visit.
macro_rules! session_of {
    ($state:expr) => {
        match $state {
            DropoffState::ScanParcel { session, .. }
            | DropoffState::LookingUp { session, .. }
            | DropoffState::ChooseRecipient { session, .. }
            | DropoffState::ChooseSize { session, .. }
            | DropoffState::Undoing { session, .. }
            | DropoffState::Allocating { session, .. }
            | DropoffState::Opening { session, .. }
            | DropoffState::Filling { session, .. }
            | DropoffState::Retrieving { session, .. }
            | DropoffState::Finished { session } => Some(session),
            DropoffState::Login { .. }
            | DropoffState::CheckingLogin
            | DropoffState::LockedOut { .. } => None,
        }
    };
}

impl DropoffState {
    /// The visit in hand, from log-in to its end.
    pub fn session(&self) -> Option<&Session> {
        session_of!(self)
    }

    fn session_mut(&mut self) -> Option<&mut Session> {
        session_of!(self)
    }
}

/// One courier's visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub courier: CourierId,
    pub deposits: Vec<Deposit>,
    pub retrieved: Vec<WaitingParcel>,
    /// Doors opened for a parcel that then went elsewhere (it did not
    /// fit, the compartment was dirty, the courier said the door stayed
    /// shut though its sensor saw it open): the courier takes the parcel
    /// out and closes them. Watched when the visit ends with one open.
    pub to_close: Vec<CompartmentNumber>,
}

/// A parcel looking for a compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub parcel: ParcelDraft,
    pub size: SizeClass,
    /// Compartments already tried for this parcel.
    pub tried: Vec<CompartmentNumber>,
}

/// A parcel for the courier to take back, with the tracking number on its
/// label (what the courier checks before taking it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrievable {
    pub parcel: WaitingParcel,
    pub tracking: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrievalDoor {
    Opening,
    Open,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropoffEvent {
    /// The result of checking a typed code or a scanned badge.
    LoginChecked(Option<CourierId>),
    LoginEntered(String),
    ParcelScanned(String),
    ParcelLookedUp(ParcelMatch),
    RecipientChosen {
        recipient: RecipientId,
        accessible: bool,
    },
    SizeChosen(SizeClass),
    /// The answer to [`DropoffEffect::FindCompartment`].
    CompartmentFound(Option<(CompartmentNumber, SizeClass)>),
    DoorOutcome(OpenOutcome),
    DoorClosed {
        compartment: CompartmentNumber,
    },
    DoesNotFit,
    CompartmentDirty,
    /// The courier says the door of the offered compartment did not open.
    DoorDidNotOpen,
    /// The courier found the compartment of a parcel to take back empty.
    ParcelNotThere,
    /// The tracking number was refused before any lookup.
    TrackingRefused(TrackingProblem),
    /// No compartment of any size is free.
    LockerFull,
    /// "Back" while choosing the recipient or size: the parcel stays with
    /// the courier.
    BackToScan,
    /// Take back a deposit made in error in this session.
    Undo {
        compartment: CompartmentNumber,
    },
    StartRetrieval,
    /// The answer to [`DropoffEffect::ListRetrievable`].
    RetrievableListed(Vec<Retrievable>),
    Finish,
    /// Idle timeout or "back" on the first screen.
    Leave,
    /// The time [`DropoffFlow::deadline`] named has come.
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropoffEffect {
    CheckLogin(String),
    LookUpParcel(String),
    FindCompartment {
        size: SizeClass,
        accessible: bool,
        exclude: Vec<CompartmentNumber>,
    },
    /// Reserve the compartment and open its door for `parcel` (named so
    /// that the intent written before the open says what goes in).
    OpenForDeposit {
        compartment: CompartmentNumber,
        parcel: ParcelDraft,
    },
    /// Give a reserved compartment back (its door is closed or watched).
    Release(CompartmentNumber),
    Flag {
        compartment: CompartmentNumber,
        problem: ProblemKind,
    },
    RecordDeposit {
        deposit: Deposit,
        courier: CourierId,
        confirmed: bool,
    },
    ListRetrievable(CourierId),
    /// Record that a parcel could not be placed: the locker is full.
    RecordLockerFull {
        tracking: String,
        courier: CourierId,
    },
    /// The door of an undone deposit is open: cancel the deposit and its code.
    CancelDeposit {
        deposit: Deposit,
        courier: CourierId,
    },
    /// Open a door of this visit's deposits again, to take it back out.
    OpenForUndo(CompartmentNumber),
    /// Open the door of a parcel the courier takes back.
    OpenForTakeBack(WaitingParcel),
    RecordRetrieved {
        parcel: WaitingParcel,
        courier: CourierId,
    },
    RecordDoorFailure {
        parcel: WaitingParcel,
        outcome: OpenOutcome,
    },
    /// A parcel to take back was not in its compartment: reported for
    /// staff, and recorded as missing.
    RecordMissing {
        parcel: WaitingParcel,
        courier: CourierId,
    },
    WatchDoors(Vec<CompartmentNumber>),
    /// The courier said a door did not open that its sensor saw open:
    /// for staff to look at; the compartment keeps its state.
    RecordSensorDisagreement {
        compartment: CompartmentNumber,
    },
    /// Proof of delivery for the carrier, notifications for recipients.
    EndSession(Session),
}

impl Job {
    /// The allocation this job asks for.
    pub fn request(&self) -> AllocationRequest<'_> {
        AllocationRequest {
            size: self.size,
            accessible: self.parcel.accessible,
            exclude: &self.tried,
        }
    }

    fn find(&self) -> DropoffEffect {
        DropoffEffect::FindCompartment {
            size: self.size,
            accessible: self.parcel.accessible,
            exclude: self.tried.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DropoffFlow {
    limiter: AttemptLimiter,
    state: DropoffState,
}

impl DropoffFlow {
    pub fn new(lockout: LockoutPolicy) -> Self {
        Self {
            limiter: AttemptLimiter::new(lockout),
            state: DropoffState::Login { notice: None },
        }
    }

    pub fn state(&self) -> &DropoffState {
        &self.state
    }

    pub fn attempts(&self) -> Attempts {
        self.limiter.attempts()
    }

    /// Carries on counting from before a restart: a lockout still running
    /// is shown on the log-in screen.
    pub fn resume_attempts(&mut self, attempts: Attempts, now: Timestamp) {
        self.limiter.resume(attempts);
        if let (Some(until), DropoffState::Login { .. }) =
            (self.limiter.locked_until(now), &self.state)
        {
            self.state = DropoffState::LockedOut { until };
        }
    }

    /// When the flow next has something to do by itself: a lockout's end.
    pub fn deadline(&self) -> Option<Timestamp> {
        match &self.state {
            DropoffState::LockedOut { until } => Some(*until),
            _ => None,
        }
    }

    pub fn handle(&mut self, event: DropoffEvent, now: Timestamp) -> Vec<DropoffEffect> {
        if let (DropoffEvent::DoorClosed { compartment }, Some(session)) =
            (&event, self.state.session_mut())
        {
            session.to_close.retain(|c| c != compartment);
        }
        let mut effects = Vec::new();
        let state = std::mem::replace(&mut self.state, DropoffState::CheckingLogin);
        self.state = self.step(state, event, now, &mut effects);
        effects
    }

    fn step(
        &mut self,
        state: DropoffState,
        event: DropoffEvent,
        now: Timestamp,
        effects: &mut Vec<DropoffEffect>,
    ) -> DropoffState {
        use DropoffEffect as F;
        use DropoffEvent as E;
        use DropoffState as S;
        match (state, event) {
            (state, E::Leave) => {
                leave(state, now, effects);
                match self.limiter.locked_until(now) {
                    Some(until) => S::LockedOut { until },
                    None => S::Login { notice: None },
                }
            }
            (S::LockedOut { until }, E::Tick) if now >= until => S::Login { notice: None },
            (S::Login { .. } | S::LockedOut { .. }, E::LoginEntered(code)) => {
                match self.limiter.locked_until(now) {
                    Some(until) => S::LockedOut { until },
                    None => {
                        effects.push(F::CheckLogin(code));
                        S::CheckingLogin
                    }
                }
            }
            (S::CheckingLogin, E::LoginChecked(Some(courier))) => {
                self.limiter.record_success();
                S::ScanParcel {
                    session: Session {
                        courier,
                        deposits: Vec::new(),
                        retrieved: Vec::new(),
                        to_close: Vec::new(),
                    },
                    notice: None,
                }
            }
            (S::CheckingLogin, E::LoginChecked(None)) => match self.limiter.record_failure(now) {
                AttemptVerdict::TryAgain { attempts_left } => S::Login {
                    notice: Some(DropoffNotice::WrongCode { attempts_left }),
                },
                AttemptVerdict::LockedOut { until } => S::LockedOut { until },
            },
            (S::ScanParcel { session, .. }, E::ParcelScanned(tracking)) => {
                effects.push(F::LookUpParcel(tracking.clone()));
                S::LookingUp { session, tracking }
            }
            (S::LookingUp { session, tracking }, E::ParcelLookedUp(found)) => match found {
                ParcelMatch::Announced {
                    parcel,
                    recipient,
                    accessible,
                    size,
                } => S::ChooseSize {
                    session,
                    parcel: ParcelDraft {
                        tracking,
                        recipient,
                        accessible,
                        announced: Some(parcel),
                        size_hint: size,
                    },
                    notice: None,
                },
                ParcelMatch::Unknown => S::ChooseRecipient { session, tracking },
                ParcelMatch::AlreadyInLocker { compartment } => S::ScanParcel {
                    session,
                    notice: Some(DropoffNotice::AlreadyInLocker { compartment }),
                },
            },
            (
                S::ChooseRecipient { session, tracking },
                E::RecipientChosen {
                    recipient,
                    accessible,
                },
            ) => S::ChooseSize {
                session,
                parcel: ParcelDraft {
                    tracking,
                    recipient,
                    accessible,
                    announced: None,
                    size_hint: None,
                },
                notice: None,
            },
            (
                S::ChooseSize {
                    session, parcel, ..
                },
                E::SizeChosen(size),
            ) => {
                let job = Job {
                    parcel,
                    size,
                    tried: Vec::new(),
                };
                effects.push(job.find());
                S::Allocating { session, job }
            }
            (S::Allocating { session, job }, E::CompartmentFound(found)) => match found {
                Some((compartment, size)) => {
                    effects.push(F::OpenForDeposit {
                        compartment,
                        parcel: job.parcel.clone(),
                    });
                    S::Opening {
                        session,
                        job,
                        compartment,
                        size,
                    }
                }
                None => S::ChooseSize {
                    session,
                    notice: Some(DropoffNotice::NoRoom { size: job.size }),
                    parcel: job.parcel,
                },
            },
            (
                S::Opening {
                    session,
                    mut job,
                    compartment,
                    size,
                },
                E::DoorOutcome(outcome),
            ) => {
                if outcome.door_is_open() {
                    S::Filling {
                        session,
                        job,
                        compartment,
                        size,
                    }
                } else if outcome == OpenOutcome::NotSent {
                    // The records could not take the deposit's intent: the
                    // parcel stays with the courier, the door is sound.
                    effects.push(F::Release(compartment));
                    S::ScanParcel {
                        session,
                        notice: Some(DropoffNotice::NotRecorded),
                    }
                } else {
                    effects.push(F::Flag {
                        compartment,
                        problem: ProblemKind::DoorDidNotOpen,
                    });
                    job.tried.push(compartment);
                    effects.push(job.find());
                    S::Allocating { session, job }
                }
            }
            (
                S::Filling {
                    mut session,
                    job,
                    compartment,
                    ..
                },
                E::DoorClosed {
                    compartment: closed,
                },
            ) if closed == compartment => {
                let deposit = Deposit {
                    parcel: job.parcel,
                    compartment,
                    at: now,
                };
                effects.push(F::RecordDeposit {
                    deposit: deposit.clone(),
                    courier: session.courier,
                    confirmed: true,
                });
                session.deposits.push(deposit);
                S::ScanParcel {
                    session,
                    notice: None,
                }
            }
            (
                S::Filling {
                    session,
                    mut job,
                    compartment,
                    size,
                },
                E::DoesNotFit,
            ) => {
                let mut session = session;
                effects.push(F::Release(compartment));
                session.to_close.push(compartment);
                job.tried.push(compartment);
                match next_bigger(size) {
                    Some(bigger) => {
                        job.size = bigger;
                        effects.push(job.find());
                        S::Allocating { session, job }
                    }
                    None => S::ChooseSize {
                        session,
                        parcel: job.parcel,
                        notice: Some(DropoffNotice::NothingBigger),
                    },
                }
            }
            (
                S::Filling {
                    session,
                    mut job,
                    compartment,
                    ..
                },
                E::CompartmentDirty,
            ) => {
                let mut session = session;
                effects.push(F::Flag {
                    compartment,
                    problem: ProblemKind::Dirty,
                });
                session.to_close.push(compartment);
                job.tried.push(compartment);
                effects.push(job.find());
                S::Allocating { session, job }
            }
            (
                S::Filling {
                    session,
                    mut job,
                    compartment,
                    ..
                },
                E::DoorDidNotOpen,
            ) => {
                // Its sensor saw it open: not faulty on the courier's word.
                // Staff are told of the disagreement and look.
                let mut session = session;
                effects.push(F::Release(compartment));
                effects.push(F::RecordSensorDisagreement { compartment });
                session.to_close.push(compartment);
                job.tried.push(compartment);
                effects.push(job.find());
                S::Allocating { session, job }
            }
            (S::ScanParcel { session, .. }, E::TrackingRefused(problem)) => S::ScanParcel {
                session,
                notice: Some(DropoffNotice::InvalidTracking(problem)),
            },
            (S::ChooseRecipient { session, tracking }, E::LockerFull) => {
                effects.push(F::RecordLockerFull {
                    tracking,
                    courier: session.courier,
                });
                S::ScanParcel {
                    session,
                    notice: Some(DropoffNotice::LockerFull),
                }
            }
            (
                S::ChooseSize {
                    session, parcel, ..
                },
                E::LockerFull,
            ) => {
                effects.push(F::RecordLockerFull {
                    tracking: parcel.tracking,
                    courier: session.courier,
                });
                S::ScanParcel {
                    session,
                    notice: Some(DropoffNotice::LockerFull),
                }
            }
            (
                S::LookingUp { session, .. }
                | S::ChooseRecipient { session, .. }
                | S::ChooseSize { session, .. },
                E::BackToScan,
            ) => S::ScanParcel {
                session,
                notice: None,
            },
            (S::ScanParcel { session, notice }, E::Undo { compartment }) => {
                if session
                    .deposits
                    .iter()
                    .any(|d| d.compartment == compartment)
                {
                    effects.push(F::OpenForUndo(compartment));
                    S::Undoing {
                        session,
                        compartment,
                    }
                } else {
                    S::ScanParcel { session, notice }
                }
            }
            (
                S::Undoing {
                    mut session,
                    compartment,
                },
                E::DoorOutcome(outcome),
            ) => {
                if outcome.door_is_open() {
                    let (undone, kept) = std::mem::take(&mut session.deposits)
                        .into_iter()
                        .partition(|d| d.compartment == compartment);
                    session.deposits = kept;
                    for deposit in undone {
                        effects.push(F::CancelDeposit {
                            deposit,
                            courier: session.courier,
                        });
                    }
                    S::ScanParcel {
                        session,
                        notice: Some(DropoffNotice::Undone { compartment }),
                    }
                } else {
                    S::ScanParcel {
                        session,
                        notice: Some(DropoffNotice::UndoFailed { compartment }),
                    }
                }
            }
            (S::ScanParcel { session, .. }, E::StartRetrieval) => {
                effects.push(F::ListRetrievable(session.courier));
                S::Retrieving {
                    session,
                    queue: Vec::new(),
                    door: RetrievalDoor::Opening,
                }
            }
            (S::Retrieving { session, .. }, E::RetrievableListed(queue)) => {
                next_retrieval(session, queue, effects)
            }
            (
                S::Retrieving {
                    session,
                    mut queue,
                    door: RetrievalDoor::Opening,
                },
                E::DoorOutcome(outcome),
            ) if !queue.is_empty() => {
                if outcome.door_is_open() {
                    S::Retrieving {
                        session,
                        queue,
                        door: RetrievalDoor::Open,
                    }
                } else {
                    let parcel = queue.remove(0).parcel;
                    // Not sent: the records are failing, not the door.
                    if outcome != OpenOutcome::NotSent {
                        effects.push(F::RecordDoorFailure { parcel, outcome });
                    }
                    next_retrieval(session, queue, effects)
                }
            }
            // The door step of a take-back, as of a deposit: the door closed
            // is the parcel taken.
            (
                S::Retrieving {
                    mut session,
                    mut queue,
                    door: RetrievalDoor::Open,
                },
                E::DoorClosed { compartment },
            ) if queue.first().map(|p| p.parcel.compartment) == Some(compartment) => {
                let parcel = queue.remove(0).parcel;
                effects.push(F::RecordRetrieved {
                    parcel,
                    courier: session.courier,
                });
                session.retrieved.push(parcel);
                next_retrieval(session, queue, effects)
            }
            (
                S::Retrieving {
                    mut session,
                    mut queue,
                    door: RetrievalDoor::Open,
                },
                E::ParcelNotThere,
            ) if !queue.is_empty() => {
                let parcel = queue.remove(0).parcel;
                effects.push(F::RecordMissing {
                    parcel,
                    courier: session.courier,
                });
                session.to_close.push(parcel.compartment);
                next_retrieval(session, queue, effects)
            }
            (
                S::Retrieving {
                    mut session,
                    mut queue,
                    door: RetrievalDoor::Open,
                },
                E::DoorDidNotOpen,
            ) if !queue.is_empty() => {
                // As at a deposit: its sensor saw it open, so staff are told
                // of the disagreement; the parcel stays for the next visit.
                let compartment = queue.remove(0).parcel.compartment;
                effects.push(F::RecordSensorDisagreement { compartment });
                session.to_close.push(compartment);
                next_retrieval(session, queue, effects)
            }
            (S::ScanParcel { session, .. }, E::Finish) => {
                if !session.to_close.is_empty() {
                    effects.push(F::WatchDoors(session.to_close.clone()));
                }
                effects.push(F::EndSession(session.clone()));
                S::Finished { session }
            }
            (state, _) => state,
        }
    }
}

fn next_retrieval(
    session: Session,
    queue: Vec<Retrievable>,
    effects: &mut Vec<DropoffEffect>,
) -> DropoffState {
    match queue.first() {
        Some(first) => {
            effects.push(DropoffEffect::OpenForTakeBack(first.parcel));
            DropoffState::Retrieving {
                session,
                queue,
                door: RetrievalDoor::Opening,
            }
        }
        None => DropoffState::ScanParcel {
            notice: Some(match session.retrieved.len() {
                0 => DropoffNotice::NothingToRetrieve,
                count => DropoffNotice::TakenBack { count },
            }),
            session,
        },
    }
}

/// The next standard size above what a compartment of `size` takes.
fn next_bigger(size: SizeClass) -> Option<SizeClass> {
    let current = size.largest_standard_fit();
    SizeClass::STANDARD
        .iter()
        .find(|class| Some(**class) != current && !size.fits(class))
        .copied()
}

#[cfg(test)]
mod tests;
