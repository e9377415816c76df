//! The recipient's pickup as a sub-flow of the kiosk: the domain's
//! [`PickupFlow`] plus what the screens need around it (the scanned code
//! that opened nothing, "Thank you" for a few seconds, the low-compartment
//! wish). Pure: the kiosk hands it the time and carries out its effects.

use super::{Effect, PickupAnswer};
use crate::domain::codes::{Attempts, normalize_typed_pin};
use crate::domain::pickup::{
    CodeInput, CodeLookup, DoorProgress, Notice, PickupEvent, PickupFlow, PickupPolicy,
    PickupState, ProblemKind,
};
use crate::domain::{CompartmentNumber, Timestamp};

/// How long "Thank you" stays before the home screen returns.
const THANK_YOU_FOR_MS: i64 = 5_000;

/// The pickup's screen; `Home` when no pickup is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupScreen {
    Home,
    Code,
    Doors,
    Done,
    /// The code made for someone else.
    Delegate,
}

/// What the code screen says, as facts: the pickup flow's own notices,
/// and the few the kiosk adds around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeNotice {
    None,
    Flow(Notice),
    Checking,
    LockedOut {
        seconds: u64,
    },
    /// A pickup QR of another locker was shown.
    OtherLocker,
    /// A code that is not a pickup code (a parcel label, a web link).
    NotAPickupCode,
    /// Fewer digits than a code has: not a try, the rest can be typed.
    TooShort {
        length: usize,
    },
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
    pub notice: CodeNotice,
    /// "Someone else will collect" is on.
    pub for_someone_else: bool,
    /// The code made for someone else: its PIN and its QR's text.
    pub delegate_code: Option<(String, String)>,
    pub doors: Vec<(CompartmentNumber, DoorView)>,
    pub failed: usize,
    pub report_recorded: bool,
    pub prefer_low_saved: bool,
}

/// One kiosk's pickups. The domain flow (and its wrong-code limiter)
/// outlives each person on purpose: walking away does not reset the count.
#[derive(Debug, Clone)]
pub struct Pickup {
    flow: PickupFlow,
    pin_length: usize,
    screen: PickupScreen,
    done_at: Option<Timestamp>,
    report_recorded: bool,
    /// What the last scanned code was, when it opened nothing.
    scan_notice: Option<CodeNotice>,
    /// Typing resumed after a wrong code: its notice is no longer shown.
    typing: bool,
    prefer_low: bool,
    prefer_low_saved: bool,
    /// Parcels handed over whose collection the records have not taken
    /// yet (the executor retries): their code must not open them again.
    unrecorded: std::collections::BTreeSet<crate::domain::pickup::ParcelId>,
    /// The code made for someone else, while it is shown.
    delegate_code: Option<crate::store::IssuedCode>,
}

impl Pickup {
    pub fn new(policy: PickupPolicy, pin_length: usize) -> Pickup {
        Pickup {
            flow: PickupFlow::new(policy),
            pin_length,
            screen: PickupScreen::Home,
            done_at: None,
            report_recorded: false,
            scan_notice: None,
            typing: false,
            prefer_low: false,
            prefer_low_saved: false,
            unrecorded: Default::default(),
            delegate_code: None,
        }
    }

    pub fn screen(&self) -> PickupScreen {
        self.screen
    }

    pub fn attempts(&self) -> Attempts {
        self.flow.attempts()
    }

    pub fn resume_attempts(&mut self, attempts: Attempts, now: Timestamp) {
        self.flow.resume_attempts(attempts, now);
    }

    /// "Pick up a parcel" was pressed.
    pub fn start(&mut self, prefer_low: bool, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.prefer_low = prefer_low;
        self.begin(now, &mut effects);
        effects
    }

    /// A fresh code screen; a finished pickup's state is left behind.
    fn begin(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        self.scan_notice = None;
        self.delegate_code = None;
        self.report_recorded = false;
        self.done_at = None;
        self.screen = PickupScreen::Code;
        if matches!(self.flow.state(), PickupState::Done { .. }) {
            self.step(PickupEvent::Leave, now, effects);
        }
    }

    /// A code typed on the keypad, as typed.
    pub fn typed(&mut self, text: String, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.scan_notice = None;
        // Spaces and dashes are forgiven; a code of the wrong length is
        // simply a wrong code.
        let pin = normalize_typed_pin(&text, self.pin_length).unwrap_or(text);
        self.screen = PickupScreen::Code;
        self.step(
            PickupEvent::CodeEntered(CodeInput::Pin(pin)),
            now,
            &mut effects,
        );
        self.follow_state(now);
        effects
    }

    /// Whether `text` has fewer digits than a code; if so the screen says
    /// how many a code has, and it costs no try.
    pub fn refuse_if_short(&mut self, text: &str) -> bool {
        let digits = text.chars().filter(char::is_ascii_digit).count();
        let short = digits < self.pin_length;
        if short {
            self.scan_notice = Some(CodeNotice::TooShort {
                length: self.pin_length,
            });
        }
        short
    }

    /// A key on the code screen: the last code's notice goes (a
    /// lockout's countdown stays).
    pub fn typing_resumed(&mut self) {
        self.scan_notice = None;
        self.typing = true;
    }

    /// A pickup QR token of this locker, or a badge, from the camera or
    /// a scanner.
    pub fn scanned(&mut self, input: CodeInput, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.begin(now, &mut effects);
        self.step(PickupEvent::CodeEntered(input), now, &mut effects);
        self.follow_state(now);
        effects
    }

    /// "Someone else will collect", switched on or off at the code step.
    pub fn toggle_for_someone_else(&mut self, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.screen != PickupScreen::Code || !self.at_code_step() {
            return effects;
        }
        let on = !self.flow.for_someone_else();
        self.scan_notice = None;
        self.step(PickupEvent::ForSomeoneElse(on), now, &mut effects);
        effects
    }

    /// Whether a code may be taken now: no door is opening or open.
    pub fn at_code_step(&self) -> bool {
        matches!(
            self.flow.state(),
            PickupState::EnterCode { .. }
                | PickupState::LockedOut { .. }
                | PickupState::Done { .. }
        )
    }

    /// A code that opens nothing was shown to a reader: said on the code
    /// screen, unless a pickup is past the code step. False when it is.
    pub fn say_about_scan(&mut self, notice: CodeNotice, now: Timestamp) -> (bool, Vec<Effect>) {
        let mut effects = Vec::new();
        if !self.at_code_step() {
            return (false, effects);
        }
        if matches!(self.flow.state(), PickupState::Done { .. }) {
            self.step(PickupEvent::Leave, now, &mut effects);
            self.done_at = None;
        }
        self.screen = PickupScreen::Code;
        self.scan_notice = Some(notice);
        (true, effects)
    }

    pub fn report(
        &mut self,
        compartment: CompartmentNumber,
        kind: ProblemKind,
        now: Timestamp,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.scan_notice = None;
        self.step(
            PickupEvent::ReportProblem { compartment, kind },
            now,
            &mut effects,
        );
        self.report_recorded = true;
        effects
    }

    /// "Back", "Done", or the idle timeout: leave safely.
    pub fn leave(&mut self, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.step(PickupEvent::Leave, now, &mut effects);
        self.screen = PickupScreen::Home;
        self.done_at = None;
        self.scan_notice = None;
        self.prefer_low = false;
        self.prefer_low_saved = false;
        effects
    }

    pub fn door_closed(&mut self, compartment: CompartmentNumber, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.scan_notice = None;
        self.step(PickupEvent::DoorClosed { compartment }, now, &mut effects);
        self.follow_state(now);
        effects
    }

    /// A code's parcels, less those already handed over but not yet
    /// recorded: a code whose parcels all went is spent.
    fn without_unrecorded(&self, lookup: CodeLookup) -> CodeLookup {
        match lookup {
            CodeLookup::Valid(parcels) if !self.unrecorded.is_empty() => {
                let waiting: Vec<_> = parcels
                    .into_iter()
                    .filter(|p| !self.unrecorded.contains(&p.parcel))
                    .collect();
                if waiting.is_empty() {
                    CodeLookup::AlreadyUsed
                } else {
                    CodeLookup::Valid(waiting)
                }
            }
            other => other,
        }
    }

    pub fn answer(&mut self, answer: PickupAnswer, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        match answer {
            PickupAnswer::LookedUp(lookup) => {
                let lookup = self.without_unrecorded(lookup);
                self.scan_notice = None;
                if self.prefer_low
                    && let CodeLookup::Valid(parcels) = &lookup
                    && let Some(first) = parcels.first()
                {
                    effects.push(Effect::SavePreferLow {
                        parcel: first.parcel,
                    });
                }
                self.step(PickupEvent::LookedUp(lookup), now, &mut effects);
            }
            PickupAnswer::DoorOutcome {
                compartment,
                outcome,
            } => {
                self.scan_notice = None;
                self.step(
                    PickupEvent::DoorOutcome {
                        compartment,
                        outcome,
                    },
                    now,
                    &mut effects,
                );
            }
            PickupAnswer::PreferLowSaved => self.prefer_low_saved = true,
            PickupAnswer::CollectionNotRecorded(parcel) => {
                self.unrecorded.insert(parcel);
            }
            PickupAnswer::CollectionRecorded(parcel) => {
                self.unrecorded.remove(&parcel);
            }
            // The kiosk's own: the display is the visit's.
            PickupAnswer::RememberedDisplay(_) => {}
            PickupAnswer::DelegateIssued(code) => {
                let recorded = code.is_some();
                self.delegate_code = code;
                self.step(PickupEvent::DelegateIssued { recorded }, now, &mut effects);
            }
        }
        self.follow_state(now);
        effects
    }

    /// When something is due: the end of "Thank you", what the flow
    /// itself waits for (a lockout's end, a close reminder), and each
    /// second of a lockout's countdown on screen.
    pub fn deadline(&self, now: Timestamp) -> Option<Timestamp> {
        if self.screen == PickupScreen::Home {
            return None;
        }
        let thank_you = self.done_at.map(|done| done.plus_millis(THANK_YOU_FOR_MS));
        let countdown = match self.flow.state() {
            PickupState::LockedOut { until } => Some(super::next_second(now, *until)),
            _ => None,
        };
        [thank_you, self.flow.deadline(), countdown]
            .into_iter()
            .flatten()
            .min()
    }

    /// Time passed: "Thank you" ends, reminders and lockouts move on.
    pub fn on_time(&mut self, now: Timestamp) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self
            .done_at
            .is_some_and(|done| now.0 >= done.0 + THANK_YOU_FOR_MS)
        {
            self.done_at = None;
            self.screen = PickupScreen::Home;
            self.prefer_low = false;
            self.prefer_low_saved = false;
            return effects;
        }
        self.step(PickupEvent::Tick, now, &mut effects);
        effects
    }

    fn step(&mut self, event: PickupEvent, now: Timestamp, effects: &mut Vec<Effect>) {
        self.typing = false;
        effects.extend(self.flow.handle(event, now).into_iter().map(Effect::Pickup));
    }

    /// The screen follows the flow: doors while they are worked, "Thank
    /// you" once they are all done.
    fn follow_state(&mut self, now: Timestamp) {
        match self.flow.state() {
            PickupState::Doors { .. } if self.screen != PickupScreen::Home => {
                self.screen = PickupScreen::Doors
            }
            PickupState::Done { .. } if self.screen == PickupScreen::Doors => {
                self.screen = PickupScreen::Done;
                self.done_at = Some(now);
            }
            PickupState::Delegated if self.screen != PickupScreen::Home => {
                self.screen = PickupScreen::Delegate;
            }
            _ => {}
        }
    }

    pub fn view(&self, now: Timestamp, locker_id: &str) -> PickupView {
        let notice = match self.flow.state() {
            PickupState::EnterCode { .. } if self.typing => CodeNotice::None,
            PickupState::EnterCode { notice } => {
                notice.clone().map_or(CodeNotice::None, CodeNotice::Flow)
            }
            PickupState::Checking => CodeNotice::Checking,
            PickupState::LockedOut { until } => CodeNotice::LockedOut {
                seconds: (now.millis_until(*until) as u64).div_ceil(1000),
            },
            _ => CodeNotice::None,
        };
        let notice = match (&self.scan_notice, notice) {
            // A lockout's countdown stays; otherwise the latest scan speaks.
            (Some(scanned), notice) if !matches!(notice, CodeNotice::LockedOut { .. }) => {
                scanned.clone()
            }
            (_, notice) => notice,
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
            notice,
            for_someone_else: self.flow.for_someone_else(),
            delegate_code: self
                .delegate_code
                .as_ref()
                .filter(|_| matches!(self.flow.state(), PickupState::Delegated))
                .map(|code| {
                    (
                        code.pin.clone(),
                        crate::domain::codes::pickup_qr_payload(locker_id, &code.qr_token),
                    )
                }),
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
