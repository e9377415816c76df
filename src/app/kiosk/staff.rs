//! Maintenance as a sub-flow of the kiosk: the admin PIN (checked on the
//! store's thread, wrong ones locked out like codes) and who came in. The
//! tabs behind it are staff tools of their own (`app::maintenance`); what
//! the kiosk keeps is the session: who is in, and when it ends.

use super::{Effect, StaffAnswer};
use crate::domain::Timestamp;
use crate::domain::codes::{AttemptLimiter, AttemptVerdict, Attempts, LockoutPolicy};
use crate::domain::maintenance::PinHolder;
use crate::store::Event;

/// What the PIN screen says, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinNotice {
    None,
    Checking,
    WrongPin { attempts_left: u32 },
    LockedOut { seconds: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffView {
    pub notice: PinNotice,
    /// Whose PIN opened maintenance, once one did.
    pub signed_in: Option<PinHolder>,
}

/// Entering and leaving maintenance are in the audit log too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEntry {
    Entered,
    Left,
}

impl StaffEntry {
    pub fn event(self) -> Event {
        match self {
            StaffEntry::Entered => Event::MaintenanceEntered {},
            StaffEntry::Left => Event::MaintenanceLeft {},
        }
    }
}

/// One kiosk's maintenance sessions; the PIN limiter outlives each.
#[derive(Debug, Clone)]
pub struct StaffSession {
    limiter: AttemptLimiter,
    active: bool,
    signed_in: Option<PinHolder>,
    checking: bool,
    wrong: Option<u32>,
    locked_until: Option<Timestamp>,
}

impl StaffSession {
    pub fn new(lockout: LockoutPolicy) -> StaffSession {
        StaffSession {
            limiter: AttemptLimiter::new(lockout),
            active: false,
            signed_in: None,
            checking: false,
            wrong: None,
            locked_until: None,
        }
    }

    pub fn active(&self) -> bool {
        self.active
    }

    pub fn attempts(&self) -> Attempts {
        self.limiter.attempts()
    }

    pub fn resume_attempts(&mut self, attempts: Attempts, now: Timestamp) {
        self.limiter.resume(attempts);
        self.locked_until = self.limiter.locked_until(now);
    }

    pub fn signed_in(&self) -> Option<&PinHolder> {
        self.signed_in.as_ref()
    }

    /// The hidden entry: the PIN screen.
    pub fn begin(&mut self) {
        self.active = true;
        self.signed_in = None;
        self.checking = false;
        self.wrong = None;
    }

    /// "Enter" on the PIN keypad with what was typed.
    pub fn pin_entered(&mut self, pin: String, now: Timestamp) -> Vec<Effect> {
        let locked = self.limiter.locked_until(now).is_some();
        if pin.is_empty() || locked || self.checking || self.signed_in.is_some() {
            return Vec::new();
        }
        self.checking = true;
        self.wrong = None;
        vec![Effect::CheckStaffPin(pin)]
    }

    pub fn answer(&mut self, answer: StaffAnswer, now: Timestamp) -> Vec<Effect> {
        let StaffAnswer::PinChecked(opens) = answer;
        self.checking = false;
        if !self.active {
            return Vec::new();
        }
        match opens {
            Some(who) => {
                self.limiter.record_success();
                self.signed_in = Some(who.clone());
                vec![Effect::RecordStaff {
                    who,
                    entry: StaffEntry::Entered,
                }]
            }
            None => {
                match self.limiter.record_failure(now) {
                    AttemptVerdict::TryAgain { attempts_left } => self.wrong = Some(attempts_left),
                    AttemptVerdict::LockedOut { until } => self.locked_until = Some(until),
                }
                Vec::new()
            }
        }
    }

    /// "Leave", or the maintenance idle timeout.
    pub fn leave(&mut self) -> Vec<Effect> {
        self.active = false;
        self.checking = false;
        self.wrong = None;
        match self.signed_in.take() {
            Some(who) => vec![Effect::RecordStaff {
                who,
                entry: StaffEntry::Left,
            }],
            None => Vec::new(),
        }
    }

    /// Once a second while a lockout counts down on the PIN screen.
    pub fn deadline(&self, now: Timestamp) -> Option<Timestamp> {
        let until = self.locked_until?;
        (self.active && now < until).then(|| Timestamp(now.0 + 1000).min(until))
    }

    pub fn on_time(&mut self, now: Timestamp) {
        if self.locked_until.is_some_and(|until| now >= until) {
            self.locked_until = None;
        }
    }

    pub fn view(&self, now: Timestamp) -> StaffView {
        let notice = match (self.locked_until, self.checking, self.wrong) {
            (Some(until), _, _) if now < until => PinNotice::LockedOut {
                seconds: (now.millis_until(until) as u64).div_ceil(1000),
            },
            (_, true, _) => PinNotice::Checking,
            (_, _, Some(attempts_left)) => PinNotice::WrongPin { attempts_left },
            _ => PinNotice::None,
        };
        StaffView {
            notice,
            signed_in: self.signed_in.clone(),
        }
    }
}
