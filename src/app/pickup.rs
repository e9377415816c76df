//! Runs the recipient's pickup: the domain's [`PickupFlow`] fed by the UI,
//! the store and the doors, its effects carried out, and what the screen
//! should show published after every step.
//!
//! One task owns the flow. Everything slow (a store lookup, a door that
//! takes a second to open) runs in its own task and comes back as an input,
//! so the flow never waits and the UI never blocks.

use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc};

use super::wait::{next_door_closed, next_scan, sleep_until};
use super::{ScreenOwner, Service, system};
use crate::domain::CompartmentNumber;
use crate::domain::Timestamp;
use crate::domain::codes::normalize_typed_pin;
use crate::domain::pickup::{
    CodeInput, CodeLookup, DoorProgress, Notice, OpenOutcome, PickupEffect, PickupEvent,
    PickupFlow, PickupState, ProblemKind,
};
use crate::hardware::doors::DoorEvent;
use crate::scanning::Payload;
use crate::scanning::ScanEvent;

/// How long "Thank you" stays before the home screen returns.
const THANK_YOU_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupInput {
    /// "Pick up a parcel" was pressed.
    Start,
    /// Any touch: keeps the idle timeout away.
    Touch,
    /// A code typed on the keypad (as typed).
    Typed(String),
    /// A pickup QR token from the camera or a scanner.
    Scanned(String),
    Report {
        compartment: CompartmentNumber,
        kind: ProblemKind,
    },
    /// "Back" or "Done".
    Leave,
    /// The person asked for low compartments: remembered in their profile
    /// once their code shows who they are.
    PreferLow(bool),
    /// Their profile now says so.
    PreferLowSaved,
    LookedUp(CodeLookup),
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    DoorClosed(CompartmentNumber),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Code,
    Doors,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeNotice {
    None,
    Checking,
    WrongCode {
        attempts_left: u32,
    },
    LockedOut {
        seconds: u64,
    },
    Expired,
    AlreadyUsed,
    /// A pickup QR of another locker was shown.
    OtherLocker,
    /// A code that is not a pickup code (a parcel label, a web link).
    NotAPickupCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorView {
    Waiting,
    Opening,
    Open { reminder: bool },
    Closed,
    Failed,
}

/// What the pickup screens show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupView {
    pub screen: Screen,
    pub notice: CodeNotice,
    pub doors: Vec<(CompartmentNumber, DoorView)>,
    pub failed: usize,
    pub report_recorded: bool,
    pub prefer_low_saved: bool,
}

/// The handle the UI holds.
#[derive(Clone)]
pub struct PickupDriver {
    inputs: mpsc::UnboundedSender<PickupInput>,
}

impl PickupDriver {
    /// Starts the pickup task on `runtime`; `publish` is called with every
    /// new view (from that task: it must hand over to the UI thread).
    pub fn spawn(
        service: Service,
        runtime: &tokio::runtime::Handle,
        publish: impl Fn(PickupView) + Send + 'static,
    ) -> PickupDriver {
        let (inputs, receiver) = mpsc::unbounded_channel();
        let doors = service.doors().subscribe();
        let scans = service.scans();
        let task = PickupTask {
            flow: PickupFlow::new(service.config().policies.pickup_policy()),
            pin_length: service.config().policies.pin_length as usize,
            idle_timeout: Duration::from_secs(u64::from(
                service.config().policies.idle_timeout_secs,
            )),
            service,
            inputs: inputs.clone(),
            screen: Screen::Home,
            last_activity: Instant::now(),
            done_at: None,
            report_recorded: false,
            scan_notice: None,
            prefer_low: false,
            prefer_low_saved: false,
        };
        runtime.spawn(task.run(receiver, doors, scans, publish));
        PickupDriver { inputs }
    }

    pub fn send(&self, input: PickupInput) {
        let _ = self.inputs.send(input);
    }
}

struct PickupTask {
    flow: PickupFlow,
    service: Service,
    inputs: mpsc::UnboundedSender<PickupInput>,
    pin_length: usize,
    idle_timeout: Duration,
    screen: Screen,
    last_activity: Instant,
    done_at: Option<Instant>,
    report_recorded: bool,
    /// What the last scanned code was, when it opened nothing.
    scan_notice: Option<CodeNotice>,
    prefer_low: bool,
    prefer_low_saved: bool,
}

impl PickupTask {
    async fn run(
        mut self,
        mut inputs: mpsc::UnboundedReceiver<PickupInput>,
        mut doors: broadcast::Receiver<DoorEvent>,
        mut scans: Option<broadcast::Receiver<ScanEvent>>,
        publish: impl Fn(PickupView),
    ) {
        loop {
            let wake = self.next_wake();
            tokio::select! {
                scan = next_scan(&mut scans) => match scan.map(|event| event.payload) {
                    Some(Payload::Pickup { locker, token }) if locker == self.service.config().locker.id => {
                        if !self.service.claim_screen(ScreenOwner::Pickup) {
                            tracing::info!("a pickup code was shown during a courier's session");
                            continue;
                        }
                        self.on_input(PickupInput::Scanned(token));
                    }
                    Some(Payload::Pickup { locker, .. }) => {
                        tracing::info!(%locker, "a pickup code for another locker was shown");
                        if !self.say_about_scan(CodeNotice::OtherLocker) {
                            continue;
                        }
                    }
                    // A badge is the courier flow's; anything else is not a
                    // pickup code, which the person is told.
                    Some(Payload::CourierBadge { .. }) => continue,
                    Some(Payload::Tracking { .. } | Payload::Unknown) => {
                        if !self.say_about_scan(CodeNotice::NotAPickupCode) {
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
                    Some(compartment) => self.on_input(PickupInput::DoorClosed(compartment)),
                    None => break,
                },
                _ = sleep_until(wake), if wake.is_some() => self.on_time(),
            }
            if self.screen == Screen::Home {
                self.service.release_screen(ScreenOwner::Pickup);
            }
            publish(self.view());
        }
    }

    /// When something is due: the idle timeout, the end of "Thank you", and
    /// once a second while a countdown or an open door is on screen. At
    /// home nothing is due, so an idle kiosk does not wake up.
    fn next_wake(&self) -> Option<Instant> {
        if self.screen == Screen::Home {
            return None;
        }
        let mut wake = self.last_activity + self.idle_timeout;
        if let Some(done) = self.done_at {
            wake = wake.min(done + THANK_YOU_FOR);
        }
        if matches!(
            self.flow.state(),
            PickupState::LockedOut { .. } | PickupState::Doors { .. }
        ) {
            wake = wake.min(Instant::now() + Duration::from_secs(1));
        }
        Some(wake)
    }

    fn on_time(&mut self) {
        let now = Instant::now();
        if self.done_at.is_some_and(|done| now >= done + THANK_YOU_FOR) {
            self.done_at = None;
            self.screen = Screen::Home;
            return;
        }
        if now >= self.last_activity + self.idle_timeout {
            tracing::info!("pickup idle: back to the home screen");
            self.step(PickupEvent::Leave);
            self.screen = Screen::Home;
            return;
        }
        self.step(PickupEvent::Tick);
    }

    fn on_input(&mut self, input: PickupInput) {
        if !matches!(input, PickupInput::Touch) {
            self.scan_notice = None;
        }
        match input {
            PickupInput::Start => {
                self.service.claim_screen(ScreenOwner::Pickup);
                self.touch();
                self.report_recorded = false;
                self.screen = Screen::Code;
                // A finished pickup's state is left behind.
                if matches!(self.flow.state(), PickupState::Done { .. }) {
                    self.step(PickupEvent::Leave);
                }
            }
            PickupInput::Touch => self.touch(),
            PickupInput::Typed(text) => {
                self.touch();
                // Spaces and dashes are forgiven; a code of the wrong
                // length is simply a wrong code.
                let pin = normalize_typed_pin(&text, self.pin_length).unwrap_or(text);
                self.screen = Screen::Code;
                self.step(PickupEvent::CodeEntered(CodeInput::Pin(pin)));
            }
            PickupInput::Scanned(token) => {
                self.touch();
                self.report_recorded = false;
                self.screen = Screen::Code;
                if matches!(self.flow.state(), PickupState::Done { .. }) {
                    self.step(PickupEvent::Leave);
                }
                self.step(PickupEvent::CodeEntered(CodeInput::QrToken(token)));
            }
            PickupInput::Report { compartment, kind } => {
                self.touch();
                self.step(PickupEvent::ReportProblem { compartment, kind });
                self.report_recorded = true;
            }
            PickupInput::Leave => {
                self.step(PickupEvent::Leave);
                self.screen = Screen::Home;
                self.done_at = None;
                self.prefer_low = false;
                self.prefer_low_saved = false;
            }
            PickupInput::LookedUp(lookup) => {
                if self.prefer_low
                    && let CodeLookup::Valid(parcels) = &lookup
                    && let Some(first) = parcels.first()
                {
                    self.remember_prefers_low(first.parcel);
                }
                self.step(PickupEvent::LookedUp(lookup))
            }
            PickupInput::PreferLow(on) => self.prefer_low = on,
            PickupInput::PreferLowSaved => self.prefer_low_saved = true,
            PickupInput::DoorOutcome {
                compartment,
                outcome,
            } => {
                self.touch();
                self.step(PickupEvent::DoorOutcome {
                    compartment,
                    outcome,
                });
            }
            PickupInput::DoorClosed(compartment) => {
                self.touch();
                self.step(PickupEvent::DoorClosed { compartment });
            }
        }
        match self.flow.state() {
            PickupState::Doors { .. } if self.screen != Screen::Home => self.screen = Screen::Doors,
            PickupState::Done { .. } if self.screen == Screen::Doors => {
                self.screen = Screen::Done;
                self.done_at = Some(Instant::now());
            }
            _ => {}
        }
    }

    fn touch(&mut self) {
        self.last_activity = Instant::now();
    }

    /// Writes "low compartments" into the profile of the recipient of
    /// `parcel`, for their future deliveries.
    fn remember_prefers_low(&self, parcel: i64) {
        let (service, inputs) = (self.service.clone(), self.inputs.clone());
        tokio::spawn(async move {
            let now = system::now();
            match service
                .call(move |store| store.prefer_low_compartments(parcel, "recipient", now))
                .await
            {
                Ok(()) => {
                    let _ = inputs.send(PickupInput::PreferLowSaved);
                }
                Err(e) => tracing::error!(error = %e, "saving a low-compartment preference failed"),
            }
        });
    }

    /// A code that opens nothing was shown to a reader: say so on the code
    /// screen, unless someone else's session has the screen or a pickup is
    /// past the code step. True when the screen changed.
    fn say_about_scan(&mut self, notice: CodeNotice) -> bool {
        let at_code_step = matches!(
            self.flow.state(),
            PickupState::EnterCode { .. }
                | PickupState::LockedOut { .. }
                | PickupState::Done { .. }
        );
        if !at_code_step || !self.service.claim_screen(ScreenOwner::Pickup) {
            return false;
        }
        if matches!(self.flow.state(), PickupState::Done { .. }) {
            self.step(PickupEvent::Leave);
            self.done_at = None;
        }
        self.touch();
        self.screen = Screen::Code;
        self.scan_notice = Some(notice);
        true
    }

    fn step(&mut self, event: PickupEvent) {
        let effects = self.flow.handle(event, system::now());
        for effect in effects {
            self.carry_out(effect);
        }
    }

    /// Carries out one effect, in a task of its own when it takes time.
    fn carry_out(&self, effect: PickupEffect) {
        let service = self.service.clone();
        let inputs = self.inputs.clone();
        match effect {
            PickupEffect::LookUp(code) => {
                tokio::spawn(async move {
                    let lookup = service.call(move |store| store.look_up_code(&code)).await;
                    let lookup = lookup.unwrap_or_else(|e| {
                        tracing::error!(error = %e, "looking up a pickup code failed");
                        CodeLookup::Unknown
                    });
                    let _ = inputs.send(PickupInput::LookedUp(lookup));
                });
            }
            PickupEffect::OpenDoor(compartment) => {
                tokio::spawn(async move {
                    let outcome = service.open_door(compartment).await;
                    let _ = inputs.send(PickupInput::DoorOutcome {
                        compartment,
                        outcome,
                    });
                });
            }
            PickupEffect::RecordCollected(parcel) => {
                record(service, "recording a collection", move |store, now| {
                    store.collect(parcel.parcel, now)
                })
            }
            PickupEffect::RecordDoorFailure { parcel, outcome } => record(
                service,
                "recording a door that did not open",
                move |store, now| {
                    let reason = format!("door did not open at pickup ({})", outcome.name());
                    store.record_door_failure(&parcel, &reason, "kiosk", now)
                },
            ),
            PickupEffect::RecordReport {
                compartment,
                parcel,
                kind,
            } => record(service, "recording a report", move |store, now| {
                store
                    .add_report(kind, Some(compartment), parcel, "recipient", now)
                    .map(|_| ())
            }),
            // Shown by the view from the flow's state.
            PickupEffect::RemindToClose(_) => {}
            PickupEffect::WatchDoors(compartments) => {
                // The door system keeps watching every door (left-open
                // alarm, closing seen by the sensor); note the hand-over.
                record(
                    service,
                    "recording open doors at the end of a pickup",
                    move |store, now| {
                        let event = crate::store::NewEvent::new("pickup_left_doors_open", "kiosk")
                            .detail(serde_json::json!({ "compartments": compartments }));
                        store.record_event(now, &event).map(|_| ())
                    },
                )
            }
        }
    }

    fn view(&self) -> PickupView {
        let notice = match self.flow.state() {
            PickupState::EnterCode { notice } => match notice {
                None => CodeNotice::None,
                Some(Notice::WrongCode { attempts_left }) => CodeNotice::WrongCode {
                    attempts_left: *attempts_left,
                },
                Some(Notice::Expired) => CodeNotice::Expired,
                Some(Notice::AlreadyUsed) => CodeNotice::AlreadyUsed,
            },
            PickupState::Checking => CodeNotice::Checking,
            PickupState::LockedOut { until } => CodeNotice::LockedOut {
                seconds: (system::now().millis_until(*until) as u64).div_ceil(1000),
            },
            _ => CodeNotice::None,
        };
        let notice = match (self.scan_notice, notice) {
            // A lockout's countdown stays; otherwise the latest scan speaks.
            (Some(scanned), notice) if !matches!(notice, CodeNotice::LockedOut { .. }) => scanned,
            _ => notice,
        };
        let mut doors: Vec<(CompartmentNumber, DoorView)> = Vec::new();
        if let PickupState::Doors { doors: tasks } = self.flow.state() {
            for task in tasks {
                if doors.iter().any(|(c, _)| *c == task.parcel.compartment) {
                    continue;
                }
                let view = match task.progress {
                    DoorProgress::Waiting => DoorView::Waiting,
                    DoorProgress::Opening { .. } => DoorView::Opening,
                    DoorProgress::Open { reminded, .. } => DoorView::Open { reminder: reminded },
                    DoorProgress::Closed => DoorView::Closed,
                    DoorProgress::Failed => DoorView::Failed,
                };
                doors.push((task.parcel.compartment, view));
            }
        }
        PickupView {
            screen: self.screen,
            notice,
            doors,
            failed: match self.flow.state() {
                PickupState::Done { failed } => *failed,
                _ => 0,
            },
            report_recorded: self.report_recorded,
            prefer_low_saved: self.prefer_low_saved,
        }
    }
}

/// Writes to the store in the background; failures are logged loudly (the
/// event log and the door sensors still hold the truth).
fn record(
    service: Service,
    what: &'static str,
    write: impl FnOnce(&mut crate::store::Store, Timestamp) -> crate::store::Result<()> + Send + 'static,
) {
    tokio::spawn(async move {
        let now = system::now();
        if let Err(e) = service.call(move |store| write(store, now)).await {
            tracing::error!(error = %e, "{what} failed");
        }
    });
}
