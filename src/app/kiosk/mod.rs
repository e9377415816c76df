//! The kiosk driver: one state machine that owns the screen. It decides
//! who has the screen (nobody, a recipient, a courier, staff), which page
//! shows, what was typed and when a person's visit ends; the pickup, the
//! courier's visit and maintenance are its sub-flows.
//!
//! Sans-IO, like the domain below it: [`Kiosk::handle`] takes an [`Input`]
//! and the time and returns [`Effect`]s; [`Kiosk::poll_timeout`] says when
//! it next wants [`Input::Tick`]; [`Kiosk::view`] is what the screen shows.
//! [`Executor`] carries the effects out, one after another, and their
//! answers come back as inputs; [`Driver`] ties the two to a clock for
//! whichever event loop hosts it (the UI's, or a tokio task headless).

mod courier;
mod driver;
mod executor;
mod feeds;
mod front;
mod pickup;
pub mod records;
pub mod returns;
mod staff;
mod typed;

#[cfg(test)]
mod tests;

pub use courier::{
    CourierAction, CourierNotice, CourierScreen, DepositLine, DoorStep, DropoffView, Resident,
    SEARCH_FROM_CHARS, SizeOption, Summary,
};
pub use driver::{Driver, Headless, Step};
pub use executor::{Deliver, DoorControl, Executor, Work, compartment_views, size_options};
pub use front::{DoorCell, locker_front};
pub use pickup::{CodeNotice, DoorView, PickupScreen, PickupView};
pub use staff::{PinNotice, StaffEntry, StaffView};

// Facts the kiosk's inputs and views are made of, as the domain names them.
pub use crate::domain::SizeClass;
pub use crate::domain::dropoff::{DropoffNotice, TrackingProblem};
pub use crate::domain::maintenance::PinHolder;
pub use crate::domain::pickup::Notice as PickupNotice;
pub use crate::domain::pickup::ProblemKind;

use std::collections::HashMap;

use crate::app::Overview;
use crate::config::Config;
use crate::domain::codes::Attempts;
use crate::domain::dropoff::{DropoffEffect, ParcelMatch, Retrievable, Session};
use crate::domain::pickup::{CodeInput, CodeLookup, OpenOutcome, PickupEffect};
use crate::domain::{CompartmentNumber, Timestamp};
use crate::scanning::payload::may_be_badge;
use crate::scanning::{Payload, ScanEvent};
use crate::store::DisplayPreferences;
use crate::store::{Courier, Recipient};
use courier::CourierVisit;
use pickup::Pickup;

/// The text of a pickup QR, for the screens that draw one.
pub use crate::domain::codes::pickup_qr_payload;
use staff::StaffSession;
use typed::Typed;

/// The screen on show; `api.slint`'s `Page` mirrors it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    PickupCode,
    PickupDoors,
    PickupDone,
    /// The one-time code the recipient made for someone else, shown.
    PickupDelegate,
    /// A person puts a parcel in to return or send it.
    Return,
    CourierLogin,
    CourierScan,
    CourierRecipient,
    CourierSize,
    CourierDoor,
    CourierRetrieve,
    CourierDone,
    MaintenancePin,
    Maintenance,
}

/// Who has the screen. A code shown to the camera belongs to the person
/// at the screen: a pickup QR seen during a courier's visit (or a badge
/// during a pickup, or anything while staff are in maintenance) never
/// takes the screen over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Nobody,
    Recipient,
    Courier,
    /// Maintenance, from the admin PIN screen on.
    Staff,
}

/// Everything that happens to the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Any touch: keeps the idle timeout away.
    Touch,
    LanguageChosen(String),
    /// Staff chose another language for the kiosk to start each visit in.
    DefaultLanguageChanged(String),
    /// A display choice from home (larger text, high contrast, low
    /// compartments), toggled for the rest of the visit.
    DisplayToggled(DisplayChoice),
    /// "Pick up a parcel".
    PickupChosen,
    /// "Someone else will collect", on the pickup code screen.
    ForSomeoneElse,
    DeliverChosen,
    /// The hidden entry to maintenance.
    MaintenanceRequested,
    /// A key of the page's keypad or keyboard.
    Key(String),
    Erase,
    ClearTyped,
    /// "Open", "OK", "Enter", "Continue": what was typed is submitted.
    Enter,
    Report {
        compartment: CompartmentNumber,
        kind: ProblemKind,
    },
    RecipientChosen(i64),
    SizeChosen(SizeClass),
    Courier(CourierAction),
    /// "Back", "Done", "Log out", "Leave": whoever has the screen leaves.
    Leave,
    /// Something a camera or scanner read.
    Scanned(ScanEvent),
    /// A compartment door seen closing by its sensor.
    DoorClosed(CompartmentNumber),
    /// A lock board went offline or came back.
    BoardsChanged,
    /// Staff changed the records from outside the kiosk's flows.
    RecordsChanged,
    /// The answer to an effect.
    Answer(Answer),
    /// The time [`Kiosk::poll_timeout`] asked for has come.
    Tick,
}

/// What an effect found out, for the sub-flow that asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Pickup(PickupAnswer),
    Return(returns::ReturnAnswer),
    Courier(CourierAnswer),
    Staff(StaffAnswer),
    Overview(Overview),
    /// A write (or a read) of the store failed: the person is told, staff
    /// see it on the status strip.
    StoreFailed(StoreWork),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickupAnswer {
    LookedUp(CodeLookup),
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    PreferLowSaved,
    /// The collection of a parcel whose door opened could not be recorded:
    /// it is retried until it is; meanwhile its code opens it no more.
    CollectionNotRecorded(crate::domain::pickup::ParcelId),
    /// ... and now it is.
    CollectionRecorded(crate::domain::pickup::ParcelId),
    /// The one-time code for someone else, as made (`None`: the records
    /// did not take it).
    DelegateIssued(Option<crate::store::IssuedCode>),
    /// The display the recipient at the screen chose on earlier visits.
    RememberedDisplay(DisplayPreferences),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourierAnswer {
    LoginChecked(Option<Courier>),
    ParcelLookedUp(ParcelMatch),
    RecipientNamed(Recipient),
    SearchResults {
        query: String,
        found: Vec<Recipient>,
    },
    Capacity(Vec<SizeOption>),
    CompartmentFound(Option<(CompartmentNumber, SizeClass)>),
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    Retrievable(Vec<Retrievable>),
    VisitEnded(Summary),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAnswer {
    PinChecked(Option<PinHolder>),
}

/// Which piece of store work failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreWork {
    PickupLookup,
    Collection,
    Delegation,
    DoorFailure,
    Report,
    Preference,
    OpenDoorsHandOver,
    CourierStep,
    VisitEnd,
    Reservation,
    StaffPin,
    StaffEntry,
    Overview,
    Attempts,
    OpenIntent,
}

impl StoreWork {
    /// As recorded in the event log.
    pub fn name(self) -> &'static str {
        match self {
            StoreWork::PickupLookup => "pickup_lookup",
            StoreWork::Collection => "collection",
            StoreWork::Delegation => "delegation",
            StoreWork::DoorFailure => "door_failure",
            StoreWork::Report => "report",
            StoreWork::Preference => "preference",
            StoreWork::OpenDoorsHandOver => "open_doors_hand_over",
            StoreWork::CourierStep => "courier_step",
            StoreWork::VisitEnd => "visit_end",
            StoreWork::Reservation => "reservation",
            StoreWork::StaffPin => "staff_pin",
            StoreWork::StaffEntry => "staff_entry",
            StoreWork::Overview => "overview",
            StoreWork::Attempts => "attempts",
            StoreWork::OpenIntent => "open_intent",
        }
    }
}

/// What the kiosk asks of the world; [`Executor`] carries these out in
/// the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The pickup flow's own effects (look a code up, open, record).
    Pickup(PickupEffect),
    /// A person's return, placed, failed or accepted.
    Return(returns::ReturnEffect),
    /// Write "low compartments" into the profile of this parcel's recipient.
    SavePreferLow {
        parcel: i64,
    },
    /// The recipient of this parcel is at the screen: remember the display
    /// they chose now, and answer with what they chose before.
    RememberDisplay {
        parcel: i64,
        large_text: Option<bool>,
        high_contrast: Option<bool>,
    },
    /// The drop-off flow's own effects, for the courier logged in.
    Dropoff {
        effect: DropoffEffect,
        courier: i64,
    },
    /// The end of a visit: notifications, the record, the proof of delivery.
    EndVisit {
        session: Session,
        courier: Option<Courier>,
        names: HashMap<i64, String>,
    },
    SearchRecipients(String),
    NameRecipient(i64),
    /// How much room there is, by size.
    CountFree,
    CheckStaffPin(String),
    RecordStaff {
        who: PinHolder,
        entry: StaffEntry,
    },
    /// Read the locker's state for the status strip.
    RefreshOverview,
    /// A keypad's count changed: keep it, and put a refused code in the
    /// audit log.
    SaveAttempts {
        keypad: Keypad,
        attempts: Attempts,
        refused: bool,
    },
}

/// The three keypads whose wrong codes are counted, each on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keypad {
    Pickup,
    Courier,
    Maintenance,
}

impl Keypad {
    pub const ALL: [Keypad; 3] = [Keypad::Pickup, Keypad::Courier, Keypad::Maintenance];

    pub fn from_name(name: &str) -> Option<Keypad> {
        Keypad::ALL.into_iter().find(|k| k.name() == name)
    }

    /// As kept in the records.
    pub fn name(self) -> &'static str {
        match self {
            Keypad::Pickup => "pickup",
            Keypad::Courier => "courier",
            Keypad::Maintenance => "maintenance",
        }
    }
}

/// What a person chose for how the kiosk meets them. Made at home, it
/// lasts their whole visit, whichever flow they take, and no longer: the
/// next person starts from the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Display {
    pub large_text: bool,
    pub high_contrast: bool,
    /// Compartments reachable from a wheelchair (saved in the recipient's
    /// profile at pickup).
    pub prefer_low: bool,
    /// Larger text and high contrast were chosen (or unchosen) this
    /// visit: remembered for the recipient once their code is known, and
    /// not overridden by what they chose before.
    pub large_text_chosen: bool,
    pub high_contrast_chosen: bool,
    /// Spoken guidance: each screen's prompt and each outcome said aloud.
    pub speech: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayChoice {
    LargeText,
    HighContrast,
    PreferLow,
    Speech,
}

impl Display {
    fn toggle(&mut self, choice: DisplayChoice) {
        let flag = match choice {
            DisplayChoice::LargeText => {
                self.large_text_chosen = true;
                &mut self.large_text
            }
            DisplayChoice::HighContrast => {
                self.high_contrast_chosen = true;
                &mut self.high_contrast
            }
            DisplayChoice::PreferLow => &mut self.prefer_low,
            DisplayChoice::Speech => &mut self.speech,
        };
        *flag = !*flag;
    }

    /// What the recipient chose this visit, to remember (`None`: not
    /// touched).
    fn chosen(&self) -> (Option<bool>, Option<bool>) {
        (
            self.large_text_chosen.then_some(self.large_text),
            self.high_contrast_chosen.then_some(self.high_contrast),
        )
    }

    /// What they chose on an earlier visit, where this one has not.
    fn apply_remembered(&mut self, remembered: DisplayPreferences) {
        if !self.large_text_chosen {
            self.large_text = remembered.large_text;
        }
        if !self.high_contrast_chosen {
            self.high_contrast = remembered.high_contrast;
        }
    }
}

/// Everything the screen shows, published after every step.
#[derive(Debug, Clone, PartialEq)]
pub struct KioskView {
    pub page: Page,
    /// What was typed, as shown (secrets as dots).
    pub typed: String,
    pub language: String,
    pub display: Display,
    /// Counts the visits that ended.
    pub visits_ended: u64,
    pub overview: Option<Overview>,
    /// "Still there?": the seconds left before the visit ends for want of
    /// a touch, in its last [`IDLE_WARNING_MS`].
    pub idle_warning: Option<u64>,
    /// A store read or write failed since the last overview was read.
    pub records_problem: bool,
    pub pickup: PickupView,
    /// A return from the locker, while it is on screen.
    pub returning: Option<returns::ReturnView>,
    pub courier: DropoffView,
    pub staff: StaffView,
}

/// How long before an idle visit ends the person is asked whether they
/// are still there (a quarter of a shorter idle timeout).
pub const IDLE_WARNING_MS: i64 = 15_000;

fn warning_ms(idle_for: i64) -> i64 {
    IDLE_WARNING_MS.min(idle_for / 4)
}

/// Idle limits, from the configuration.
#[derive(Debug, Clone, Copy)]
struct IdleLimits {
    visit_ms: i64,
    maintenance_ms: i64,
}

/// The kiosk's state machine. See the module documentation.
#[derive(Debug, Clone)]
pub struct Kiosk {
    locker_id: String,
    owner: Owner,
    page: Page,
    typed: Typed,
    language: String,
    default_language: String,
    display: Display,
    visits_ended: u64,
    last_activity: Timestamp,
    idle: IdleLimits,
    overview: Option<Overview>,
    records_problem: bool,
    pickup: Pickup,
    /// A person's return from the locker, while it lasts.
    returning: returns::Return,
    courier: CourierVisit,
    staff: StaffSession,
}

impl Kiosk {
    pub fn new(config: &Config) -> Kiosk {
        let policies = &config.policies;
        Kiosk {
            locker_id: config.locker.id.clone(),
            owner: Owner::Nobody,
            page: Page::Home,
            typed: Typed::default(),
            language: config.languages.default.clone(),
            default_language: config.languages.default.clone(),
            display: Display::default(),
            visits_ended: 0,
            last_activity: Timestamp(0),
            idle: IdleLimits {
                visit_ms: i64::from(policies.idle_timeout_secs) * 1000,
                maintenance_ms: i64::from(policies.maintenance_idle_timeout_secs) * 1000,
            },
            overview: None,
            records_problem: false,
            pickup: Pickup::new(policies.pickup_policy(), policies.pin_length as usize),
            returning: returns::Return::default(),
            courier: CourierVisit::new(policies.lockout),
            staff: StaffSession::new(policies.lockout),
        }
    }

    /// What the kiosk does first: read the locker's state.
    pub fn start(&mut self) -> Vec<Effect> {
        vec![Effect::RefreshOverview]
    }

    /// Carries on what the keypads had counted before a restart (read
    /// with the records, before the first touch), so that restarting
    /// gives a locked keypad no free try.
    pub fn resume_attempts(&mut self, kept: &[(String, Attempts)], now: Timestamp) {
        for (name, attempts) in kept {
            match Keypad::from_name(name) {
                Some(Keypad::Pickup) => self.pickup.resume_attempts(*attempts, now),
                Some(Keypad::Courier) => self.courier.resume_attempts(*attempts, now),
                Some(Keypad::Maintenance) => self.staff.resume_attempts(*attempts, now),
                None => tracing::warn!(keypad = %name, "a kept count of an unknown keypad"),
            }
        }
    }

    fn attempts(&self, keypad: Keypad) -> Attempts {
        match keypad {
            Keypad::Pickup => self.pickup.attempts(),
            Keypad::Courier => self.courier.attempts(),
            Keypad::Maintenance => self.staff.attempts(),
        }
    }

    pub fn owner(&self) -> Owner {
        self.owner
    }

    pub fn page(&self) -> Page {
        self.page
    }

    /// One step: `input` at `now`, and the effects to carry out, in order.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Vec<Effect> {
        if is_activity(&input) {
            self.last_activity = now;
        }
        let was_owner = self.owner;
        let counted = Keypad::ALL.map(|keypad| self.attempts(keypad));
        let mut effects = self.dispatch(input, now);
        self.settle(was_owner, &mut effects);
        for (keypad, before) in Keypad::ALL.into_iter().zip(counted) {
            let attempts = self.attempts(keypad);
            if attempts != before {
                effects.push(Effect::SaveAttempts {
                    keypad,
                    attempts,
                    refused: attempts.refused_since(&before),
                });
            }
        }
        effects
    }

    /// When the kiosk next wants [`Input::Tick`]: the idle timeout of
    /// whoever has the screen, or a sub-flow's own deadline. Nothing at
    /// home: an idle kiosk does not wake up.
    pub fn poll_timeout(&self, now: Timestamp) -> Option<Timestamp> {
        let own = match self.owner {
            Owner::Nobody => None,
            Owner::Recipient => self.pickup.deadline(now),
            Owner::Courier => self.courier.deadline(now),
            Owner::Staff => self.staff.deadline(now),
        };
        let idle_for = self.idle_for();
        let idle_at = idle_for.map(|ms| self.last_activity.plus_millis(ms));
        // The warning before a visit ends, then each second of it.
        let warning = match (self.owner, idle_for, idle_at) {
            (Owner::Nobody, ..) | (_, None, _) | (_, _, None) => None,
            (_, Some(idle_for), Some(end)) => {
                let from = end.plus_millis(-warning_ms(idle_for));
                Some(if now < from {
                    from
                } else {
                    next_second(now, end)
                })
            }
        };
        [idle_at, own, warning].into_iter().flatten().min()
    }

    /// How long whoever has the screen may leave it untouched; at home,
    /// only while choices made there wait for the person who made them.
    fn idle_for(&self) -> Option<i64> {
        match self.owner {
            Owner::Nobody if self.choices_made() => Some(self.idle.visit_ms),
            Owner::Nobody => None,
            Owner::Recipient | Owner::Courier => Some(self.idle.visit_ms),
            Owner::Staff => Some(self.idle.maintenance_ms),
        }
    }

    /// The seconds left of a visit nobody touches, once it is about to end.
    fn idle_warning(&self, now: Timestamp) -> Option<u64> {
        let idle_for = self.idle_for().filter(|_| self.owner != Owner::Nobody)?;
        let left = self.last_activity.0 + idle_for - now.0;
        (left > 0 && left <= warning_ms(idle_for)).then(|| (left as u64).div_ceil(1000))
    }

    pub fn view(&self, now: Timestamp) -> KioskView {
        KioskView {
            page: self.page,
            typed: self.typed.shown(self.page),
            language: self.language.clone(),
            display: self.display,
            visits_ended: self.visits_ended,
            overview: self.overview.clone(),
            idle_warning: self.idle_warning(now),
            records_problem: self.records_problem,
            pickup: self.pickup.view(now, &self.locker_id),
            returning: self.returning.view().cloned(),
            courier: self.courier.view(now),
            staff: self.staff.view(now),
        }
    }

    /// The whole locker is out of service (staff, the command line or the
    /// fleet said so): nobody starts a pickup, a delivery or a return.
    /// Staff still come in; a visit under way when it closed goes on.
    pub fn out_of_service(&self) -> bool {
        self.overview.as_ref().is_some_and(|o| o.closed.is_some())
    }

    fn dispatch(&mut self, input: Input, now: Timestamp) -> Vec<Effect> {
        let starts_a_visit = matches!(
            input,
            Input::PickupChosen | Input::DeliverChosen | Input::Scanned(_)
        );
        if starts_a_visit && self.owner == Owner::Nobody && self.out_of_service() {
            return Vec::new();
        }
        match input {
            Input::Touch => Vec::new(),
            Input::DisplayToggled(choice) => {
                self.display.toggle(choice);
                Vec::new()
            }
            Input::LanguageChosen(language) => {
                self.language = language;
                Vec::new()
            }
            Input::DefaultLanguageChanged(language) => {
                if self.owner == Owner::Nobody && self.language == self.default_language {
                    self.language = language.clone();
                }
                self.default_language = language;
                Vec::new()
            }
            Input::PickupChosen => match self.owner {
                Owner::Nobody | Owner::Recipient => {
                    self.owner = Owner::Recipient;
                    self.pickup.start(self.display.prefer_low, now)
                }
                _ => Vec::new(),
            },
            Input::ForSomeoneElse => match self.owner {
                Owner::Recipient => self.pickup.toggle_for_someone_else(now),
                _ => Vec::new(),
            },
            Input::DeliverChosen => match self.owner {
                Owner::Nobody | Owner::Courier => {
                    self.owner = Owner::Courier;
                    self.courier.start(now)
                }
                _ => Vec::new(),
            },
            Input::MaintenanceRequested => {
                if self.owner == Owner::Nobody {
                    self.owner = Owner::Staff;
                    self.staff.begin();
                }
                Vec::new()
            }
            Input::Key(key) => {
                self.typed.push(&key, self.page);
                if self.page == Page::PickupCode {
                    self.pickup.typing_resumed();
                }
                self.typed_changed()
            }
            Input::Erase => {
                self.typed.erase();
                self.typed_changed()
            }
            Input::ClearTyped => {
                self.typed.clear();
                self.typed_changed()
            }
            Input::Enter => self.enter(now),
            Input::Report { compartment, kind } if self.owner == Owner::Recipient => {
                self.pickup.report(compartment, kind, now)
            }
            Input::RecipientChosen(id) if self.owner == Owner::Courier => {
                self.typed.clear();
                self.courier.recipient_chosen(id, now)
            }
            Input::SizeChosen(size)
                if self.owner == Owner::Recipient && self.returning.choosing_size() =>
            {
                self.returning.size_chosen(size)
            }
            Input::SizeChosen(size) if self.owner == Owner::Courier => {
                self.courier.size_chosen(size, now)
            }
            Input::Courier(action) if self.owner == Owner::Courier => {
                if action == CourierAction::BackToScan {
                    self.typed.clear();
                }
                self.courier.act(action, now)
            }
            Input::Report { .. }
            | Input::RecipientChosen(_)
            | Input::SizeChosen(_)
            | Input::Courier(_) => Vec::new(),
            Input::Leave => self.leave(now),
            Input::Scanned(scan) => self.scanned(scan, now),
            Input::DoorClosed(compartment) => {
                // Closing a door is the person at work, not idle.
                if matches!(self.owner, Owner::Recipient | Owner::Courier) {
                    self.last_activity = now;
                }
                // Both flows hear every door: a door left open by one
                // person may close during the next one's visit.
                let mut effects = self.pickup.door_closed(compartment, now);
                effects.extend(self.courier.door_closed(compartment, now));
                effects.extend(self.returning.door_closed(compartment));
                effects
            }
            Input::BoardsChanged | Input::RecordsChanged => vec![Effect::RefreshOverview],
            Input::Answer(answer) => self.answer(answer, now),
            Input::Tick => self.tick(now),
        }
    }

    /// "Enter" submits the page's field to the flow on screen.
    fn enter(&mut self, now: Timestamp) -> Vec<Effect> {
        match self.page {
            Page::PickupCode => {
                // A short code stays in the field, to be finished.
                if self.typed.as_str().is_empty()
                    || self.pickup.refuse_if_short(self.typed.as_str())
                {
                    return Vec::new();
                }
                let code = self.typed.take();
                self.pickup.typed(code, now)
            }
            Page::CourierLogin => {
                let code = self.typed.take();
                if code.is_empty() {
                    return Vec::new();
                }
                self.courier.login_typed(code, now)
            }
            Page::CourierScan => {
                let text = self.typed.as_str().to_string();
                if text.trim().is_empty() {
                    return Vec::new();
                }
                let effects = self.courier.tracking_typed(text, now);
                // A refused number stays in the field, to be corrected.
                if !self.courier.tracking_refused() {
                    self.typed.clear();
                }
                effects
            }
            Page::CourierRecipient => self.courier.search(self.typed.as_str().to_string()),
            Page::MaintenancePin => {
                let pin = self.typed.take();
                self.staff.pin_entered(pin, now)
            }
            _ => Vec::new(),
        }
    }

    /// On the recipient page every key searches.
    fn typed_changed(&mut self) -> Vec<Effect> {
        if self.owner == Owner::Courier && self.courier.searching() {
            return self.courier.search(self.typed.as_str().to_string());
        }
        Vec::new()
    }

    fn leave(&mut self, now: Timestamp) -> Vec<Effect> {
        self.typed.clear();
        match self.owner {
            Owner::Nobody => Vec::new(),
            Owner::Recipient => {
                self.returning.leave();
                self.pickup.leave(now)
            }
            Owner::Courier => self.courier.leave(now),
            Owner::Staff => self.staff.leave(),
        }
    }

    /// A code read by a camera or scanner goes to the person at the
    /// screen, or starts a visit when nobody has it.
    fn scanned(&mut self, scan: ScanEvent, now: Timestamp) -> Vec<Effect> {
        let here = self.locker_id.clone();
        let for_recipient = matches!(self.owner, Owner::Nobody | Owner::Recipient);
        match (&scan.payload, self.owner) {
            // Staff test the readers on the hardware tab: no flow takes them.
            (_, Owner::Staff) => Vec::new(),
            (Payload::Pickup { locker, token }, _) if for_recipient && *locker == here => {
                self.owner = Owner::Recipient;
                let token = token.clone();
                self.pickup.scanned(CodeInput::QrToken(token), now)
            }
            (Payload::Pickup { locker, .. }, _) if for_recipient => {
                tracing::info!(%locker, "a pickup code for another locker was shown");
                self.say_about_scan(CodeNotice::OtherLocker, now)
            }
            // Any other text may be a staff badge the directory knows:
            // the store says (a text no one holds is no try).
            (Payload::Tracking { .. } | Payload::Unknown, _)
                if for_recipient && self.pickup.at_code_step() && may_be_badge(&scan.text) =>
            {
                self.owner = Owner::Recipient;
                self.last_activity = now;
                self.pickup
                    .scanned(CodeInput::Badge(scan.text.trim().to_string()), now)
            }
            (Payload::Tracking { .. } | Payload::Unknown, _) if for_recipient => {
                self.say_about_scan(CodeNotice::NotAPickupCode, now)
            }
            (Payload::CourierBadge { .. }, Owner::Recipient) => Vec::new(),
            (_, Owner::Nobody | Owner::Courier) => {
                let Some(effects) = self.courier.scanned(scan, &here, now) else {
                    return Vec::new();
                };
                self.owner = Owner::Courier;
                self.last_activity = now;
                effects
            }
            (_, Owner::Recipient) => Vec::new(),
        }
    }

    fn say_about_scan(&mut self, notice: CodeNotice, now: Timestamp) -> Vec<Effect> {
        let (shown, effects) = self.pickup.say_about_scan(notice, now);
        if shown {
            self.owner = Owner::Recipient;
            self.last_activity = now;
        }
        effects
    }

    fn answer(&mut self, answer: Answer, now: Timestamp) -> Vec<Effect> {
        match answer {
            Answer::Pickup(PickupAnswer::RememberedDisplay(remembered)) => {
                if self.owner == Owner::Recipient {
                    self.display.apply_remembered(remembered);
                }
                Vec::new()
            }
            Answer::Pickup(answer) => {
                if matches!(answer, PickupAnswer::DoorOutcome { .. }) {
                    self.last_activity = now;
                }
                // Their own code or badge (not a delegate's): the person
                // at the screen is this recipient.
                let mut effects = Vec::new();
                if let PickupAnswer::LookedUp(CodeLookup::Return { parcel, size }) = &answer {
                    effects.extend(self.returning.begin(*parcel, *size));
                }
                if let PickupAnswer::LookedUp(CodeLookup::Valid(parcels)) = &answer
                    && let Some(first) = parcels.first()
                {
                    let (large_text, high_contrast) = self.display.chosen();
                    effects.push(Effect::RememberDisplay {
                        parcel: first.parcel,
                        large_text,
                        high_contrast,
                    });
                }
                if matches!(answer, PickupAnswer::CollectionRecorded(_)) {
                    // The records take writes again.
                    self.records_problem = false;
                }
                effects.extend(self.pickup.answer(answer, now));
                effects
            }
            Answer::Return(answer) => {
                self.last_activity = now;
                self.returning.answer(answer)
            }
            Answer::Courier(answer) => {
                if matches!(answer, CourierAnswer::DoorOutcome { .. }) {
                    self.last_activity = now;
                }
                self.courier.answer(answer, now)
            }
            Answer::Staff(answer) => self.staff.answer(answer, now),
            Answer::Overview(overview) => {
                self.overview = Some(overview);
                self.records_problem = false;
                Vec::new()
            }
            Answer::StoreFailed(work) => {
                tracing::error!(?work, "the kiosk's records could not be read or written");
                self.records_problem = true;
                Vec::new()
            }
        }
    }

    fn tick(&mut self, now: Timestamp) -> Vec<Effect> {
        let idle = self
            .idle_for()
            .is_some_and(|ms| now >= self.last_activity.plus_millis(ms));
        if idle && self.owner == Owner::Nobody {
            self.forget_choices();
            return Vec::new();
        }
        if idle {
            tracing::info!(owner = ?self.owner, "idle: leaving safely");
            return self.leave(now);
        }
        match self.owner {
            Owner::Recipient => self.pickup.on_time(now),
            Owner::Courier => self.courier.on_time(now),
            Owner::Staff => {
                self.staff.on_time(now);
                Vec::new()
            }
            Owner::Nobody => Vec::new(),
        }
    }

    /// After every step: does the person still have the screen, and which
    /// page shows? A visit that ended drops its display choices and reads
    /// the locker's state again (a parcel went in or out).
    fn settle(&mut self, was_owner: Owner, effects: &mut Vec<Effect>) {
        let over = match self.owner {
            Owner::Nobody => false,
            Owner::Recipient => self.pickup.screen() == PickupScreen::Home,
            Owner::Courier => self.courier.screen() == CourierScreen::Home,
            Owner::Staff => !self.staff.active(),
        };
        if over {
            self.owner = Owner::Nobody;
        }
        if was_owner != Owner::Nobody && self.owner == Owner::Nobody {
            self.visits_ended += 1;
            self.forget_choices();
            effects.push(Effect::RefreshOverview);
        }
        let page = self.page_now();
        if page != self.page {
            self.typed.clear();
            self.page = page;
        }
    }

    /// Back to the locker's language and display for the next person.
    fn forget_choices(&mut self) {
        self.language = self.default_language.clone();
        self.display = Display::default();
    }

    /// Whether someone at home chose a language or a display, not yet
    /// taking a flow: forgotten once they are idle.
    fn choices_made(&self) -> bool {
        self.language != self.default_language || self.display != Display::default()
    }

    fn page_now(&self) -> Page {
        match self.owner {
            Owner::Nobody => Page::Home,
            Owner::Recipient if self.returning.on_screen() => Page::Return,
            Owner::Recipient => match self.pickup.screen() {
                PickupScreen::Home => Page::Home,
                PickupScreen::Code => Page::PickupCode,
                PickupScreen::Doors => Page::PickupDoors,
                PickupScreen::Done => Page::PickupDone,
                PickupScreen::Delegate => Page::PickupDelegate,
            },
            Owner::Courier => match self.courier.screen() {
                CourierScreen::Home => Page::Home,
                CourierScreen::Login => Page::CourierLogin,
                CourierScreen::Scan => Page::CourierScan,
                CourierScreen::Recipient => Page::CourierRecipient,
                CourierScreen::Size => Page::CourierSize,
                CourierScreen::Door => Page::CourierDoor,
                CourierScreen::Retrieve => Page::CourierRetrieve,
                CourierScreen::Summary => Page::CourierDone,
            },
            Owner::Staff if self.staff.signed_in().is_some() => Page::Maintenance,
            Owner::Staff => Page::MaintenancePin,
        }
    }
}

/// What counts as the person doing something (keeps the idle timeout
/// away); answers, door events and time do not.
fn is_activity(input: &Input) -> bool {
    !matches!(
        input,
        Input::Answer(_)
            | Input::Tick
            | Input::BoardsChanged
            | Input::RecordsChanged
            | Input::DefaultLanguageChanged(_)
            | Input::Scanned(_)
            | Input::DoorClosed(_)
    )
}

/// When a countdown to `until` next shows another whole second.
fn next_second(now: Timestamp, until: Timestamp) -> Timestamp {
    let part = now.millis_until(until) % 1000;
    now.plus_millis(if part == 0 { 1000 } else { part })
}
