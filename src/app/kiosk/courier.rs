//! A courier's visit as a sub-flow of the kiosk: the domain's
//! [`DropoffFlow`] plus what the screens need around it (who logged in,
//! the recipients' names, the resident search, the free sizes, the proof
//! of delivery). Pure: the kiosk hands it the time and carries out its
//! effects.

use std::collections::HashMap;

use super::{CourierAnswer, Effect};
use crate::domain::codes::{Attempts, LockoutPolicy};
use crate::domain::dropoff::{
    DropoffEffect, DropoffEvent, DropoffFlow, DropoffNotice, DropoffState, ParcelMatch,
    RetrievalDoor, TrackingProblem,
};
use crate::domain::{CompartmentNumber, SizeClass, Timestamp};
use crate::scanning::{Payload, ScanEvent, check_tracking, payload};
use crate::store::{Courier, Recipient};

/// Typed names are searched from this many characters on.
pub const SEARCH_FROM_CHARS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourierScreen {
    /// Not in a courier's visit.
    Home,
    Login,
    Scan,
    Recipient,
    Size,
    Door,
    Retrieve,
    Summary,
}

/// What the courier screens say, as facts: the drop-off flow's own
/// notices, and the few the visit adds around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourierNotice {
    None,
    Flow(DropoffNotice),
    Checking,
    LockedOut {
        seconds: u64,
    },
    /// A pickup QR or another locker's badge on the courier's screens.
    NotForCouriers,
}

/// One size on the size screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeOption {
    pub size: SizeClass,
    /// Free compartments of exactly this size.
    pub free: usize,
    /// Some compartment (this size or bigger) would take it.
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorStep {
    Opening,
    Open,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositLine {
    pub compartment: CompartmentNumber,
    pub tracking: String,
    pub recipient: String,
}

/// The end of a visit: what is on the summary screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub parcels: usize,
    pub doors: Vec<CompartmentNumber>,
    pub recipients: usize,
    pub retrieved: usize,
    /// The signed proof of delivery (QR text); empty if it could not be made.
    pub receipt: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropoffView {
    pub notice: CourierNotice,
    pub courier: String,
    pub tracking: String,
    pub recipient: String,
    pub sizes: Vec<SizeOption>,
    pub preselected: Option<SizeClass>,
    pub recipients: Vec<Resident>,
    pub door: Option<(CompartmentNumber, DoorStep)>,
    pub deposits: Vec<DepositLine>,
    /// Doors opened for a parcel that went elsewhere: the courier takes
    /// it back out and closes them.
    pub to_close: Vec<CompartmentNumber>,
    /// Doors still to open for retrieval, including the current one.
    pub retrieval_left: usize,
    pub summary: Option<Summary>,
}

/// A resident found by the courier's search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub id: i64,
    pub name: String,
    pub unit: Option<String>,
}

/// A touch of the courier's that the flow acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourierAction {
    DoesNotFit,
    DoorDidNotOpen,
    Dirty,
    /// At a take-back: the compartment is empty.
    ParcelNotThere,
    Undo(CompartmentNumber),
    TakeBack,
    Finish,
    BackToScan,
}

/// One kiosk's courier visits; the flow's wrong-code limiter outlives
/// each visit.
#[derive(Debug, Clone)]
pub struct CourierVisit {
    flow: DropoffFlow,
    screen: CourierScreen,
    courier: Option<Courier>,
    /// Recipients' names seen in this visit, for the list of deposits.
    names: HashMap<i64, String>,
    search: String,
    found: Vec<Recipient>,
    sizes: Vec<SizeOption>,
    /// A door that failed while finding a compartment, said on the next screen.
    last_failed: Option<CompartmentNumber>,
    /// Said when a code that is not for couriers was scanned.
    scan_notice: bool,
    summary: Option<Summary>,
}

impl CourierVisit {
    pub fn new(lockout: LockoutPolicy) -> CourierVisit {
        CourierVisit {
            flow: DropoffFlow::new(lockout),
            screen: CourierScreen::Home,
            courier: None,
            names: HashMap::new(),
            search: String::new(),
            found: Vec::new(),
            sizes: Vec::new(),
            last_failed: None,
            scan_notice: false,
            summary: None,
        }
    }

    pub fn screen(&self) -> CourierScreen {
        self.screen
    }

    /// "Deliver parcels" was pressed (or a badge shown at home).
    pub fn attempts(&self) -> Attempts {
        self.flow.attempts()
    }

    pub fn resume_attempts(&mut self, attempts: Attempts, now: Timestamp) {
        self.flow.resume_attempts(attempts, now);
    }

    pub fn start(&mut self, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.screen = CourierScreen::Login;
        self.summary = None;
        self.scan_notice = false;
        if matches!(self.flow.state(), DropoffState::Finished { .. }) {
            self.step(DropoffEvent::Leave, now, &mut effects);
        }
        self.follow_state(&mut effects);
        effects
    }

    /// A code seen by a scanner while the visit may take it; `None` when
    /// it changed nothing.
    pub fn scanned(&mut self, event: ScanEvent, here: &str, now: Timestamp) -> Option<Vec<Effect>> {
        let mut effects = Vec::new();
        match (event.payload, self.screen) {
            (
                Payload::CourierBadge { locker, badge },
                CourierScreen::Home | CourierScreen::Login,
            ) => {
                if self.screen == CourierScreen::Home {
                    effects = self.start(now);
                }
                if locker != here {
                    self.scan_notice = true;
                    return Some(effects);
                }
                self.scan_notice = false;
                // Badges are stored as the whole text printed on them.
                let text = format!("{}:{locker}:{badge}", payload::COURIER_BADGE_PREFIX);
                self.step(DropoffEvent::LoginEntered(text), now, &mut effects);
            }
            // A parcel label (another carrier's too): judged as if typed,
            // so that a scanned and a typed copy are kept alike.
            (Payload::Tracking { .. } | Payload::Unknown, CourierScreen::Scan) => {
                effects = self.tracking_typed(event.text, now);
                return Some(effects);
            }
            // The courier's own badge still in view: nothing to do.
            (Payload::CourierBadge { locker, .. }, _) if locker == here => return None,
            (Payload::Pickup { .. } | Payload::CourierBadge { .. }, CourierScreen::Scan) => {
                self.scan_notice = true;
            }
            _ => return None,
        }
        self.follow_state(&mut effects);
        Some(effects)
    }

    /// A courier code typed on the keypad.
    pub fn login_typed(&mut self, code: String, now: Timestamp) -> Vec<Effect> {
        self.scan_notice = false;
        self.event(DropoffEvent::LoginEntered(code), now)
    }

    /// A tracking number typed on the on-screen keyboard (or scanned).
    pub fn tracking_typed(&mut self, text: String, now: Timestamp) -> Vec<Effect> {
        self.scan_notice = false;
        let event = match check_tracking(&text) {
            Ok(tracking) => DropoffEvent::ParcelScanned(tracking.number),
            Err(problem) => DropoffEvent::TrackingRefused(tracking_problem(problem)),
        };
        self.event(event, now)
    }

    /// The last tracking number was refused (said on the scan screen).
    pub fn tracking_refused(&self) -> bool {
        matches!(
            self.flow.state(),
            DropoffState::ScanParcel {
                notice: Some(DropoffNotice::InvalidTracking(_)),
                ..
            }
        )
    }

    /// The recipient search field changed.
    pub fn search(&mut self, text: String) -> Vec<Effect> {
        self.scan_notice = false;
        self.search = text.clone();
        if text.trim().chars().count() < SEARCH_FROM_CHARS {
            self.found.clear();
            return Vec::new();
        }
        vec![Effect::SearchRecipients(text)]
    }

    pub fn recipient_chosen(&mut self, id: i64, now: Timestamp) -> Vec<Effect> {
        self.scan_notice = false;
        let accessible = self
            .found
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.needs_accessible);
        match accessible {
            Some(accessible) => self.event(
                DropoffEvent::RecipientChosen {
                    recipient: id,
                    accessible,
                },
                now,
            ),
            None => Vec::new(),
        }
    }

    pub fn size_chosen(&mut self, size: SizeClass, now: Timestamp) -> Vec<Effect> {
        self.scan_notice = false;
        self.last_failed = None;
        self.event(DropoffEvent::SizeChosen(size), now)
    }

    pub fn act(&mut self, action: CourierAction, now: Timestamp) -> Vec<Effect> {
        self.scan_notice = false;
        let event = match action {
            CourierAction::DoesNotFit => DropoffEvent::DoesNotFit,
            CourierAction::DoorDidNotOpen => DropoffEvent::DoorDidNotOpen,
            CourierAction::Dirty => DropoffEvent::CompartmentDirty,
            CourierAction::ParcelNotThere => DropoffEvent::ParcelNotThere,
            CourierAction::Undo(compartment) => DropoffEvent::Undo { compartment },
            CourierAction::TakeBack => DropoffEvent::StartRetrieval,
            CourierAction::Finish => DropoffEvent::Finish,
            CourierAction::BackToScan => DropoffEvent::BackToScan,
        };
        self.event(event, now)
    }

    /// "Log out", "Done", "Back" on the log-in screen, or the idle timeout.
    pub fn leave(&mut self, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.step(DropoffEvent::Leave, now, &mut effects);
        self.screen = CourierScreen::Home;
        self.courier = None;
        self.names.clear();
        self.found.clear();
        self.search.clear();
        self.summary = None;
        self.scan_notice = false;
        self.last_failed = None;
        effects
    }

    pub fn door_closed(&mut self, compartment: CompartmentNumber, now: Timestamp) -> Vec<Effect> {
        if self.screen == CourierScreen::Home {
            return Vec::new();
        }
        self.scan_notice = false;
        self.event(DropoffEvent::DoorClosed { compartment }, now)
    }

    pub fn answer(&mut self, answer: CourierAnswer, now: Timestamp) -> Vec<Effect> {
        use CourierAnswer as A;
        let mut effects = Vec::new();
        match answer {
            A::LoginChecked(courier) => {
                let id = courier.as_ref().map(|c| c.id);
                if courier.is_some() {
                    self.courier = courier;
                }
                self.step(DropoffEvent::LoginChecked(id), now, &mut effects);
            }
            A::ParcelLookedUp(found) => {
                if let ParcelMatch::Announced { recipient, .. } = found {
                    effects.push(Effect::NameRecipient(recipient));
                }
                self.step(DropoffEvent::ParcelLookedUp(found), now, &mut effects);
            }
            A::RecipientNamed(recipient) => {
                self.names.insert(recipient.id, recipient.name);
            }
            A::SearchResults { query, found } => {
                if query == self.search {
                    for r in &found {
                        self.names.insert(r.id, r.name.clone());
                    }
                    self.found = found;
                }
            }
            A::Capacity(sizes) => {
                let full = !sizes.iter().any(|s| s.enabled);
                self.sizes = sizes;
                if full {
                    self.step(DropoffEvent::LockerFull, now, &mut effects);
                }
            }
            A::CompartmentFound(found) => {
                self.step(DropoffEvent::CompartmentFound(found), now, &mut effects)
            }
            A::DoorOutcome {
                compartment,
                outcome,
            } => {
                if !outcome.door_is_open() {
                    self.last_failed = Some(compartment);
                }
                self.step(DropoffEvent::DoorOutcome(outcome), now, &mut effects);
            }
            A::Retrievable(parcels) => {
                self.step(DropoffEvent::RetrievableListed(parcels), now, &mut effects)
            }
            A::VisitEnded(summary) => self.summary = Some(summary),
        }
        self.follow_state(&mut effects);
        effects
    }

    /// When something is due: what the flow itself waits for (a lockout's
    /// end), and each second of the lockout's countdown on screen.
    pub fn deadline(&self, now: Timestamp) -> Option<Timestamp> {
        if self.screen == CourierScreen::Home {
            return None;
        }
        let countdown = match self.flow.state() {
            DropoffState::LockedOut { until } => Some(super::next_second(now, *until)),
            _ => None,
        };
        [self.flow.deadline(), countdown]
            .into_iter()
            .flatten()
            .min()
    }

    /// Time passed: a lockout that ended gives the login back.
    pub fn on_time(&mut self, now: Timestamp) -> Vec<Effect> {
        self.event(DropoffEvent::Tick, now)
    }

    /// Whether the courier is at the recipient step (every key searches).
    pub fn searching(&self) -> bool {
        self.screen == CourierScreen::Recipient
    }

    fn event(&mut self, event: DropoffEvent, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.step(event, now, &mut effects);
        self.follow_state(&mut effects);
        effects
    }

    fn step(&mut self, event: DropoffEvent, now: Timestamp, effects: &mut Vec<Effect>) {
        let courier = self.courier.as_ref().map_or(0, |c| c.id);
        for effect in self.flow.handle(event, now) {
            effects.push(match effect {
                DropoffEffect::EndSession(session) => Effect::EndVisit {
                    session,
                    courier: self.courier.clone(),
                    names: self.names.clone(),
                },
                effect => Effect::Dropoff { effect, courier },
            });
        }
    }

    /// The screen follows the flow; entering the recipient or size step
    /// asks how much room there is.
    fn follow_state(&mut self, effects: &mut Vec<Effect>) {
        if self.screen == CourierScreen::Home {
            return;
        }
        let before = self.screen;
        self.screen = screen_for_state(self.flow.state());
        if matches!(self.flow.state(), DropoffState::ScanParcel { .. }) {
            self.last_failed = None;
        }
        let counting = matches!(self.screen, CourierScreen::Recipient | CourierScreen::Size);
        if counting && self.screen != before {
            effects.push(Effect::CountFree);
        }
    }

    pub fn view(&self, now: Timestamp) -> DropoffView {
        use DropoffState as S;
        let state = self.flow.state();
        let flow_notice = match state {
            S::Login { notice } | S::ScanParcel { notice, .. } | S::ChooseSize { notice, .. } => {
                notice.clone()
            }
            _ => None,
        };
        let mut notice = flow_notice.map_or(CourierNotice::None, CourierNotice::Flow);
        match state {
            S::CheckingLogin => notice = CourierNotice::Checking,
            S::LockedOut { until } => {
                notice = CourierNotice::LockedOut {
                    seconds: (now.millis_until(*until) as u64).div_ceil(1000),
                }
            }
            S::Allocating { .. } | S::Opening { .. } | S::Filling { .. } => {
                if let Some(compartment) = self.last_failed {
                    notice = CourierNotice::Flow(DropoffNotice::DoorFailed { compartment });
                }
            }
            _ => {}
        }
        if self.scan_notice {
            notice = CourierNotice::NotForCouriers;
        }
        let (tracking, recipient, preselected) = match state {
            S::LookingUp { tracking, .. } | S::ChooseRecipient { tracking, .. } => {
                (tracking.clone(), String::new(), None)
            }
            S::ChooseSize { parcel, .. } => (
                parcel.tracking.clone(),
                self.name_of(parcel.recipient),
                parcel.size_hint,
            ),
            S::Allocating { job, .. } | S::Opening { job, .. } | S::Filling { job, .. } => (
                job.parcel.tracking.clone(),
                self.name_of(job.parcel.recipient),
                None,
            ),
            S::Retrieving { queue, .. } => (
                queue.first().map_or(String::new(), |p| p.tracking.clone()),
                String::new(),
                None,
            ),
            _ => (String::new(), String::new(), None),
        };
        let door = match state {
            S::Opening { compartment, .. } => Some((*compartment, DoorStep::Opening)),
            S::Filling { compartment, .. } => Some((*compartment, DoorStep::Open)),
            S::Undoing { compartment, .. } => Some((*compartment, DoorStep::Opening)),
            S::Retrieving { queue, door, .. } => queue.first().map(|p| {
                (
                    p.parcel.compartment,
                    match door {
                        RetrievalDoor::Opening => DoorStep::Opening,
                        RetrievalDoor::Open => DoorStep::Open,
                    },
                )
            }),
            _ => None,
        };
        let deposits = state
            .session()
            .map(|s| {
                s.deposits
                    .iter()
                    .map(|d| DepositLine {
                        compartment: d.compartment,
                        tracking: d.parcel.tracking.clone(),
                        recipient: self.name_of(d.parcel.recipient),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let to_close = state
            .session()
            .map(|s| s.to_close.clone())
            .unwrap_or_default();
        DropoffView {
            to_close,
            notice,
            courier: self
                .courier
                .as_ref()
                .map_or(String::new(), |c| format!("{} · {}", c.name, c.company)),
            tracking,
            recipient,
            sizes: self.sizes.clone(),
            preselected,
            recipients: if self.search.trim().chars().count() >= SEARCH_FROM_CHARS {
                self.found
                    .iter()
                    .map(|r| Resident {
                        id: r.id,
                        name: r.name.clone(),
                        unit: r.unit.clone(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            door,
            deposits,
            retrieval_left: match state {
                S::Retrieving { queue, .. } => queue.len(),
                _ => 0,
            },
            summary: self.summary.clone(),
        }
    }

    fn name_of(&self, recipient: i64) -> String {
        self.names.get(&recipient).cloned().unwrap_or_default()
    }
}

fn screen_for_state(state: &DropoffState) -> CourierScreen {
    match state {
        DropoffState::Login { .. }
        | DropoffState::CheckingLogin
        | DropoffState::LockedOut { .. } => CourierScreen::Login,
        DropoffState::ScanParcel { .. }
        | DropoffState::LookingUp { .. }
        | DropoffState::Undoing { .. } => CourierScreen::Scan,
        DropoffState::ChooseRecipient { .. } => CourierScreen::Recipient,
        DropoffState::ChooseSize { .. } => CourierScreen::Size,
        DropoffState::Allocating { .. }
        | DropoffState::Opening { .. }
        | DropoffState::Filling { .. } => CourierScreen::Door,
        DropoffState::Retrieving { .. } => CourierScreen::Retrieve,
        DropoffState::Finished { .. } => CourierScreen::Summary,
    }
}

fn tracking_problem(problem: payload::TrackingProblem) -> TrackingProblem {
    use payload::TrackingProblem as P;
    match problem {
        P::TooShort => TrackingProblem::TooShort,
        P::TooLong => TrackingProblem::TooLong,
        P::BadCharacters => TrackingProblem::BadCharacters,
        P::BadCheckDigit(_) => TrackingProblem::BadCheckDigit,
        P::NotAParcel => TrackingProblem::NotAParcel,
    }
}
