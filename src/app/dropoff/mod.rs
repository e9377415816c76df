//! Runs a courier's visit: the domain's [`DropoffFlow`] fed by the UI, the
//! scanners, the store and the doors; its effects carried out; what the
//! screen should show published after every step.
//!
//! Same shape as [`super::pickup`]: one task owns the flow, anything slow
//! runs in a task of its own and comes back as an input. The store writes
//! live in [`records`] as plain functions, so that the property test drives
//! the flow against a real store through exactly the same code.

pub mod records;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc};

use super::wait::{next_door_closed, next_scan, sleep_until};
use super::{ScreenOwner, Service, system};
use crate::domain::allocation::{AllocationRequest, allocate};
use crate::domain::dropoff::{
    DropoffEffect, DropoffEvent, DropoffFlow, DropoffNotice, DropoffState, ParcelMatch,
    RetrievalDoor, TrackingProblem,
};
use crate::domain::pickup::{OpenOutcome, WaitingParcel};
use crate::domain::{CompartmentNumber, CompartmentView, DoorState, SizeClass};
use crate::hardware::doors::DoorEvent;
use crate::hardware::protocol::Door;
use crate::scanning::ScanEvent;
use crate::scanning::{Payload, check_tracking, payload};
use crate::store::{Courier, Recipient};

/// Residents shown for one search.
const SEARCH_LIMIT: u32 = 8;
/// Typed names are searched from this many characters on.
pub const SEARCH_FROM_CHARS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub enum DropoffInput {
    /// "Deliver parcels" was pressed.
    Start,
    /// Any touch: keeps the idle timeout away.
    Touch,
    /// A courier code typed on the keypad.
    LoginTyped(String),
    /// A tracking number typed on the on-screen keyboard.
    TrackingTyped(String),
    /// The recipient search field changed.
    Search(String),
    RecipientChosen(i64),
    SizeChosen(SizeClass),
    DoesNotFit,
    DoorDidNotOpen,
    Dirty,
    Undo(CompartmentNumber),
    StartRetrieval,
    Finish,
    /// "Back" on the recipient or size screen: the parcel stays with the courier.
    BackToScan,
    /// "Log out", "Done", or "Back" on the log-in screen.
    Leave,
    // Answers from the store and the doors.
    LoginChecked(Option<Courier>),
    LookedUp(ParcelMatch),
    RecipientNamed(Recipient),
    SearchResults {
        query: String,
        found: Vec<Recipient>,
    },
    Capacity(Vec<SizeOption>),
    Found(Option<(CompartmentNumber, SizeClass)>),
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    DoorClosed(CompartmentNumber),
    Listed(Vec<WaitingParcel>),
    ReceiptReady(Summary),
}

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

/// What the courier screens say, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourierNotice {
    None,
    Checking,
    WrongCode {
        attempts_left: u32,
    },
    LockedOut {
        seconds: u64,
    },
    AlreadyInLocker {
        compartment: CompartmentNumber,
    },
    InvalidTracking(TrackingProblem),
    NoRoom {
        size: SizeClass,
    },
    NothingBigger,
    NothingToRetrieve,
    LockerFull,
    DoorFailed {
        compartment: CompartmentNumber,
    },
    Undone {
        compartment: CompartmentNumber,
    },
    UndoFailed {
        compartment: CompartmentNumber,
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
    pub screen: CourierScreen,
    pub notice: CourierNotice,
    pub courier: String,
    pub tracking: String,
    pub recipient: String,
    pub sizes: Vec<SizeOption>,
    pub preselected: Option<SizeClass>,
    pub recipients: Vec<Recipient>,
    pub door: Option<(CompartmentNumber, DoorStep)>,
    pub deposits: Vec<DepositLine>,
    /// Doors still to open for retrieval, including the current one.
    pub retrieval_left: usize,
    pub summary: Option<Summary>,
}

/// The handle the UI holds.
#[derive(Clone)]
pub struct DropoffDriver {
    inputs: mpsc::UnboundedSender<DropoffInput>,
}

impl DropoffDriver {
    /// Starts the drop-off task on `runtime`; `publish` gets every new view.
    pub fn spawn(
        service: Service,
        runtime: &tokio::runtime::Handle,
        publish: impl Fn(DropoffView) + Send + 'static,
    ) -> DropoffDriver {
        let (inputs, receiver) = mpsc::unbounded_channel();
        let doors = service.doors().subscribe();
        let scans = service.scans();
        let task = DropoffTask {
            flow: DropoffFlow::new(service.config().policies.lockout),
            idle_timeout: Duration::from_secs(u64::from(
                service.config().policies.idle_timeout_secs,
            )),
            service,
            inputs: inputs.clone(),
            screen: CourierScreen::Home,
            last_activity: Instant::now(),
            courier: None,
            names: HashMap::new(),
            search: String::new(),
            found: Vec::new(),
            sizes: Vec::new(),
            last_failed: None,
            scan_notice: None,
            summary: None,
        };
        runtime.spawn(task.run(receiver, doors, scans, publish));
        DropoffDriver { inputs }
    }

    pub fn send(&self, input: DropoffInput) {
        let _ = self.inputs.send(input);
    }
}

struct DropoffTask {
    flow: DropoffFlow,
    service: Service,
    inputs: mpsc::UnboundedSender<DropoffInput>,
    idle_timeout: Duration,
    screen: CourierScreen,
    last_activity: Instant,
    courier: Option<Courier>,
    /// Recipients' names seen in this visit, for the list of deposits.
    names: HashMap<i64, String>,
    search: String,
    found: Vec<Recipient>,
    sizes: Vec<SizeOption>,
    /// A door that failed while finding a compartment, said on the next screen.
    last_failed: Option<CompartmentNumber>,
    /// A notice of the driver's own (a code that is not for couriers).
    scan_notice: Option<CourierNotice>,
    summary: Option<Summary>,
}

impl DropoffTask {
    async fn run(
        mut self,
        mut inputs: mpsc::UnboundedReceiver<DropoffInput>,
        mut doors: broadcast::Receiver<DoorEvent>,
        mut scans: Option<broadcast::Receiver<ScanEvent>>,
        publish: impl Fn(DropoffView),
    ) {
        loop {
            let wake = self.next_wake();
            tokio::select! {
                scan = next_scan(&mut scans) => match scan {
                    Some(event) => {
                        if !self.on_scan(event) {
                            continue;
                        }
                    }
                    None => {
                        scans = None;
                        continue;
                    }
                },
                input = inputs.recv() => match input {
                    Some(input) => self.on_input(input),
                    None => break,
                },
                closed = next_door_closed(&mut doors) => match closed {
                    Some(compartment) if self.screen != CourierScreen::Home => {
                        self.on_input(DropoffInput::DoorClosed(compartment));
                    }
                    Some(_) => continue,
                    None => break,
                },
                _ = sleep_until(wake), if wake.is_some() => self.on_time(),
            }
            if self.screen == CourierScreen::Home {
                self.service.release_screen(ScreenOwner::Courier);
            }
            publish(self.view());
        }
    }

    /// The idle timeout, and once a second during a lockout countdown.
    /// Nothing is due at home.
    fn next_wake(&self) -> Option<Instant> {
        if self.screen == CourierScreen::Home {
            return None;
        }
        let mut wake = self.last_activity + self.idle_timeout;
        if matches!(self.flow.state(), DropoffState::LockedOut { .. }) {
            wake = wake.min(Instant::now() + Duration::from_secs(1));
        }
        Some(wake)
    }

    fn on_time(&mut self) {
        if Instant::now() >= self.last_activity + self.idle_timeout {
            tracing::info!("courier idle: leaving safely");
            self.leave();
        }
    }

    /// A code seen by a scanner. True when it changed something.
    fn on_scan(&mut self, event: ScanEvent) -> bool {
        let here = self.service.config().locker.id.clone();
        match (event.payload, self.screen) {
            (
                Payload::CourierBadge { locker, badge },
                CourierScreen::Home | CourierScreen::Login,
            ) => {
                if !self.service.claim_screen(ScreenOwner::Courier) {
                    return false;
                }
                if self.screen == CourierScreen::Home {
                    self.on_input(DropoffInput::Start);
                }
                self.touch();
                if locker != here {
                    self.scan_notice = Some(CourierNotice::NotForCouriers);
                    return true;
                }
                self.scan_notice = None;
                // Badges are stored as the whole text printed on them.
                let text = format!("{}:{locker}:{badge}", payload::COURIER_BADGE_PREFIX);
                self.step(DropoffEvent::LoginEntered(text));
                true
            }
            // A parcel label (another carrier's too): judged as if typed,
            // so that a scanned and a typed copy are kept alike.
            (Payload::Tracking { .. } | Payload::Unknown, CourierScreen::Scan) => {
                self.on_input(DropoffInput::TrackingTyped(event.text));
                true
            }
            // The courier's own badge still in view: nothing to do.
            (Payload::CourierBadge { locker, .. }, _) if locker == here => false,
            (Payload::Pickup { .. } | Payload::CourierBadge { .. }, CourierScreen::Scan) => {
                self.touch();
                self.scan_notice = Some(CourierNotice::NotForCouriers);
                true
            }
            _ => false,
        }
    }

    fn on_input(&mut self, input: DropoffInput) {
        use DropoffInput as I;
        let before = std::mem::discriminant(self.flow.state());
        match input {
            I::Start => {
                self.service.claim_screen(ScreenOwner::Courier);
                self.touch();
                self.screen = CourierScreen::Login;
                self.summary = None;
                self.scan_notice = None;
                if matches!(self.flow.state(), DropoffState::Finished { .. }) {
                    self.step(DropoffEvent::Leave);
                }
            }
            I::Touch => self.touch(),
            I::LoginTyped(code) => {
                self.touch();
                self.scan_notice = None;
                self.step(DropoffEvent::LoginEntered(code));
            }
            I::TrackingTyped(text) => {
                self.touch();
                self.scan_notice = None;
                match check_tracking(&text) {
                    Ok(tracking) => self.step(DropoffEvent::ParcelScanned(tracking.number)),
                    Err(problem) => {
                        self.step(DropoffEvent::TrackingRefused(tracking_problem(problem)))
                    }
                }
            }
            I::Search(text) => {
                self.touch();
                self.search_recipients(text);
            }
            I::RecipientChosen(id) => {
                self.touch();
                let accessible = self
                    .found
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| r.needs_accessible);
                if let Some(accessible) = accessible {
                    self.step(DropoffEvent::RecipientChosen {
                        recipient: id,
                        accessible,
                    });
                }
            }
            I::SizeChosen(size) => {
                self.touch();
                self.last_failed = None;
                self.step(DropoffEvent::SizeChosen(size));
            }
            I::DoesNotFit => self.touched(DropoffEvent::DoesNotFit),
            I::DoorDidNotOpen => self.touched(DropoffEvent::DoorDidNotOpen),
            I::Dirty => self.touched(DropoffEvent::CompartmentDirty),
            I::Undo(compartment) => self.touched(DropoffEvent::Undo { compartment }),
            I::StartRetrieval => self.touched(DropoffEvent::StartRetrieval),
            I::Finish => self.touched(DropoffEvent::Finish),
            I::BackToScan => self.touched(DropoffEvent::BackToScan),
            I::Leave => self.leave(),
            I::LoginChecked(courier) => {
                let id = courier.as_ref().map(|c| c.id);
                if courier.is_some() {
                    self.courier = courier;
                }
                self.step(DropoffEvent::LoginChecked(id));
            }
            I::LookedUp(found) => {
                if let ParcelMatch::Announced { recipient, .. } = found {
                    self.name_recipient(recipient);
                }
                self.step(DropoffEvent::ParcelLookedUp(found));
            }
            I::RecipientNamed(recipient) => {
                self.names.insert(recipient.id, recipient.name);
            }
            I::SearchResults { query, found } => {
                if query == self.search {
                    for r in &found {
                        self.names.insert(r.id, r.name.clone());
                    }
                    self.found = found;
                }
            }
            I::Capacity(sizes) => {
                let full = !sizes.iter().any(|s| s.enabled);
                self.sizes = sizes;
                if full {
                    self.step(DropoffEvent::LockerFull);
                }
            }
            I::Found(found) => self.step(DropoffEvent::CompartmentFound(found)),
            I::DoorOutcome {
                compartment,
                outcome,
            } => {
                self.touch();
                if !outcome.door_is_open() {
                    self.last_failed = Some(compartment);
                }
                self.step(DropoffEvent::DoorOutcome(outcome));
            }
            I::DoorClosed(compartment) => {
                self.touch();
                self.step(DropoffEvent::DoorClosed { compartment });
            }
            I::Listed(parcels) => self.step(DropoffEvent::RetrievableListed(parcels)),
            I::ReceiptReady(summary) => self.summary = Some(summary),
        }
        if self.screen != CourierScreen::Home {
            self.screen = self.screen_for_state();
        }
        if matches!(self.flow.state(), DropoffState::ScanParcel { .. }) {
            self.last_failed = None;
        }
        // Entering the recipient or size step: how much room is there?
        let now = std::mem::discriminant(self.flow.state());
        if now != before
            && matches!(
                self.flow.state(),
                DropoffState::ChooseRecipient { .. } | DropoffState::ChooseSize { .. }
            )
        {
            self.count_free();
        }
    }

    fn touched(&mut self, event: DropoffEvent) {
        self.touch();
        self.step(event);
    }

    fn touch(&mut self) {
        self.last_activity = Instant::now();
    }

    fn leave(&mut self) {
        self.step(DropoffEvent::Leave);
        self.screen = CourierScreen::Home;
        self.courier = None;
        self.names.clear();
        self.found.clear();
        self.search.clear();
        self.summary = None;
        self.scan_notice = None;
        self.last_failed = None;
    }

    fn screen_for_state(&self) -> CourierScreen {
        match self.flow.state() {
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

    fn step(&mut self, event: DropoffEvent) {
        let effects = self.flow.handle(event, system::now());
        for effect in effects {
            self.carry_out(effect);
        }
    }

    fn courier_id(&self) -> i64 {
        self.courier.as_ref().map_or(0, |c| c.id)
    }

    fn search_recipients(&mut self, text: String) {
        self.search = text.clone();
        if text.trim().chars().count() < SEARCH_FROM_CHARS {
            self.found.clear();
            return;
        }
        let (service, inputs) = (self.service.clone(), self.inputs.clone());
        tokio::spawn(async move {
            let query = text.clone();
            let found = service
                .call(move |store| store.search_recipients(&query, SEARCH_LIMIT))
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "searching residents failed");
                    Vec::new()
                });
            let _ = inputs.send(DropoffInput::SearchResults { query: text, found });
        });
    }

    fn name_recipient(&self, id: i64) {
        let (service, inputs) = (self.service.clone(), self.inputs.clone());
        tokio::spawn(async move {
            if let Ok(Some(recipient)) = service.call(move |store| store.recipient(id)).await {
                let _ = inputs.send(DropoffInput::RecipientNamed(recipient));
            }
        });
    }

    fn count_free(&self) {
        let (service, inputs) = (self.service.clone(), self.inputs.clone());
        tokio::spawn(async move {
            match compartment_views(&service).await {
                Ok(views) => {
                    let _ = inputs.send(DropoffInput::Capacity(size_options(&views)));
                }
                Err(e) => tracing::error!(error = %e, "counting free compartments failed"),
            }
        });
    }

    /// Carries out one effect, in a task of its own when it takes time.
    fn carry_out(&self, effect: DropoffEffect) {
        use DropoffEffect as F;
        let service = self.service.clone();
        let inputs = self.inputs.clone();
        let courier = self.courier_id();
        match effect {
            F::CheckLogin(code) => {
                tokio::spawn(async move {
                    let found = service
                        .call(move |store| store.courier_by_credential(&code))
                        .await
                        .unwrap_or_else(|e| {
                            tracing::error!(error = %e, "checking a courier code failed");
                            None
                        });
                    let _ = inputs.send(DropoffInput::LoginChecked(found));
                });
            }
            F::LookUpParcel(tracking) => {
                tokio::spawn(async move {
                    let found = service
                        .call(move |store| store.match_tracking(&tracking))
                        .await
                        .unwrap_or_else(|e| {
                            tracing::error!(error = %e, "looking up a tracking number failed");
                            ParcelMatch::Unknown
                        });
                    let _ = inputs.send(DropoffInput::LookedUp(found));
                });
            }
            F::FindCompartment {
                size,
                accessible,
                exclude,
            } => {
                tokio::spawn(async move {
                    let found = match compartment_views(&service).await {
                        Ok(views) => {
                            let request = AllocationRequest {
                                size,
                                accessible,
                                exclude: &exclude,
                            };
                            allocate(&views, &request).and_then(|number| {
                                views
                                    .iter()
                                    .find(|v| v.number == number)
                                    .map(|v| (number, v.size))
                            })
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "finding a compartment failed");
                            None
                        }
                    };
                    let _ = inputs.send(DropoffInput::Found(found));
                });
            }
            F::OpenForDeposit(compartment) => {
                tokio::spawn(async move {
                    let now = system::now();
                    match service
                        .call(move |store| store.reserve_compartment(compartment, now))
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(compartment, "compartment was no longer free"),
                        Err(e) => tracing::error!(error = %e, "reserving a compartment failed"),
                    }
                    let outcome = service.open_door(compartment).await;
                    let _ = inputs.send(DropoffInput::DoorOutcome {
                        compartment,
                        outcome,
                    });
                });
            }
            F::OpenDoor(compartment) => {
                tokio::spawn(async move {
                    let outcome = service.open_door(compartment).await;
                    let _ = inputs.send(DropoffInput::DoorOutcome {
                        compartment,
                        outcome,
                    });
                });
            }
            F::ListRetrievable(courier) => {
                tokio::spawn(async move {
                    let listed = service
                        .call(move |store| store.retrievable_for(courier))
                        .await
                        .unwrap_or_else(|e| {
                            tracing::error!(error = %e, "listing parcels to take back failed");
                            Vec::new()
                        });
                    let _ = inputs.send(DropoffInput::Listed(listed));
                });
            }
            F::EndSession(session) => {
                let courier = self.courier.clone();
                let names = self.names.clone();
                tokio::spawn(async move {
                    let locker = service.config().locker.id.clone();
                    let now = system::now();
                    let summary = service
                        .call(move |store| {
                            records::end_session(
                                store,
                                &locker,
                                courier.as_ref(),
                                &session,
                                &names,
                                now,
                            )
                        })
                        .await
                        .unwrap_or_else(|e| {
                            tracing::error!(error = %e, "closing a courier's visit failed");
                            Summary::default()
                        });
                    let _ = inputs.send(DropoffInput::ReceiptReady(summary));
                });
            }
            effect => {
                // Plain store writes, in the background; failures are
                // logged loudly (the event log and sensors hold the truth).
                let settings = records::Settings::from(service.config());
                tokio::spawn(async move {
                    let now = system::now();
                    let result = service
                        .call(move |store| records::write(store, &effect, courier, &settings, now))
                        .await;
                    if let Err(e) = result {
                        tracing::error!(error = %e, "recording a courier's step failed");
                    }
                });
            }
        }
    }

    fn view(&self) -> DropoffView {
        use DropoffState as S;
        let state = self.flow.state();
        let flow_notice = match state {
            S::Login { notice } | S::ScanParcel { notice, .. } | S::ChooseSize { notice, .. } => {
                notice.clone()
            }
            _ => None,
        };
        let mut notice = match flow_notice {
            None => CourierNotice::None,
            Some(DropoffNotice::WrongCode { attempts_left }) => {
                CourierNotice::WrongCode { attempts_left }
            }
            Some(DropoffNotice::AlreadyInLocker { compartment }) => {
                CourierNotice::AlreadyInLocker { compartment }
            }
            Some(DropoffNotice::NoRoom { size }) => CourierNotice::NoRoom { size },
            Some(DropoffNotice::NothingBigger) => CourierNotice::NothingBigger,
            Some(DropoffNotice::NothingToRetrieve) => CourierNotice::NothingToRetrieve,
            Some(DropoffNotice::InvalidTracking(problem)) => {
                CourierNotice::InvalidTracking(problem)
            }
            Some(DropoffNotice::LockerFull) => CourierNotice::LockerFull,
            Some(DropoffNotice::DoorFailed { compartment }) => {
                CourierNotice::DoorFailed { compartment }
            }
            Some(DropoffNotice::Undone { compartment }) => CourierNotice::Undone { compartment },
            Some(DropoffNotice::UndoFailed { compartment }) => {
                CourierNotice::UndoFailed { compartment }
            }
        };
        match state {
            S::CheckingLogin => notice = CourierNotice::Checking,
            S::LockedOut { until } => {
                notice = CourierNotice::LockedOut {
                    seconds: (system::now().millis_until(*until) as u64).div_ceil(1000),
                }
            }
            S::Allocating { .. } | S::Opening { .. } | S::Filling { .. } => {
                if let Some(compartment) = self.last_failed {
                    notice = CourierNotice::DoorFailed { compartment };
                }
            }
            _ => {}
        }
        if let Some(own) = self.scan_notice {
            notice = own;
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
            _ => (String::new(), String::new(), None),
        };
        let door = match state {
            S::Opening { compartment, .. } => Some((*compartment, DoorStep::Opening)),
            S::Filling { compartment, .. } => Some((*compartment, DoorStep::Open)),
            S::Undoing { compartment, .. } => Some((*compartment, DoorStep::Opening)),
            S::Retrieving { queue, door, .. } => queue.first().map(|p| {
                (
                    p.compartment,
                    match door {
                        RetrievalDoor::Opening => DoorStep::Opening,
                        RetrievalDoor::Open => DoorStep::Open,
                    },
                )
            }),
            _ => None,
        };
        let session = match state {
            S::ScanParcel { session, .. }
            | S::LookingUp { session, .. }
            | S::ChooseRecipient { session, .. }
            | S::ChooseSize { session, .. }
            | S::Undoing { session, .. }
            | S::Allocating { session, .. }
            | S::Opening { session, .. }
            | S::Filling { session, .. }
            | S::Retrieving { session, .. }
            | S::Finished { session } => Some(session),
            _ => None,
        };
        let deposits = session
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
        DropoffView {
            screen: self.screen,
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
                self.found.clone()
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

/// Every compartment as allocation sees it right now: the stored state,
/// the door sensor, and whether its board answers.
pub async fn compartment_views(
    service: &Service,
) -> Result<Vec<CompartmentView>, super::service::ServiceError> {
    let stored = service.call(|store| store.compartments()).await?;
    let doors = service.doors();
    Ok(stored
        .into_iter()
        .map(|c| {
            let door = match doors.door(&c.board, c.channel) {
                Some(Door::Open) => DoorState::Open,
                Some(Door::Closed) => DoorState::Closed,
                None => DoorState::Unknown,
            };
            CompartmentView {
                number: c.number,
                size: c.size,
                position: c.position,
                state: c.state,
                door,
                board_online: !doors.board_offline(&c.board),
            }
        })
        .collect())
}

/// The size screen's choices: every standard size, how many of exactly
/// that size are free, and whether any compartment would take it.
pub fn size_options(views: &[CompartmentView]) -> Vec<SizeOption> {
    let choosable = crate::domain::allocation::available_sizes(views);
    SizeClass::STANDARD
        .iter()
        .map(|size| SizeOption {
            size: *size,
            free: views
                .iter()
                .filter(|v| v.is_available() && v.size.largest_standard_fit() == Some(*size))
                .count(),
            enabled: choosable.contains(size),
        })
        .collect()
}
