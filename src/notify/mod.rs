//! Telling recipients, without a fleet backend: what a message says (in
//! the recipient's language), and the two ways it leaves the locker,
//! email over SMTP and a webhook (for an SMS gateway). Sans store: the
//! notifier in `app` hands a [`Notice`] in and gets a [`Sent`] back; what
//! is due and what was delivered is the store's business.

mod email;
mod text;
mod webhook;

use std::time::Duration;

pub use email::{Mailer, qr_png};
pub use webhook::{Webhook, body as webhook_body};

/// Why a recipient is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Their parcels were deposited.
    Arrived,
    /// The deadline is near.
    Reminder,
    /// Staff gave them more time.
    DeadlineExtended,
    /// The locker could not hand their parcel out for a while: they get
    /// that time back.
    OutageCredited,
}

impl NoticeKind {
    /// From a `recipient_notification`'s `reason`.
    pub fn from_reason(reason: Option<&str>) -> NoticeKind {
        match reason {
            Some("reminder") => NoticeKind::Reminder,
            Some("deadline_extended") => NoticeKind::DeadlineExtended,
            Some("outage") => NoticeKind::OutageCredited,
            _ => NoticeKind::Arrived,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::Arrived => "arrived",
            NoticeKind::Reminder => "reminder",
            NoticeKind::DeadlineExtended => "deadline_extended",
            NoticeKind::OutageCredited => "outage",
        }
    }
}

/// One message to one recipient, everything it says already decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The message's id (its event's): a consumer drops a repeat by it.
    pub message: i64,
    pub kind: NoticeKind,
    pub locker_id: String,
    pub locker_name: String,
    pub address: Option<String>,
    pub support: Option<String>,
    pub recipient_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// One of the languages this locker speaks.
    pub language: String,
    /// The PIN and the QR's text, when this message carries the code.
    pub code: Option<Code>,
    /// Milliseconds since the epoch, and as the locker's local time.
    pub deadline: Option<(i64, String)>,
    pub trackings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub pin: String,
    pub qr: String,
}

/// The channels, by the names the records use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    /// Whether this channel can reach the recipient of `notice`: email
    /// needs an address; the webhook (an SMS gateway) a phone number or an
    /// address.
    pub fn reaches(self, notice: &Notice) -> bool {
        match self {
            Channel::Email => notice.email.is_some(),
            Channel::Webhook => notice.phone.is_some() || notice.email.is_some(),
        }
    }
}

/// A message that did not go out, in words for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// How long to wait before trying a failed message again: 30 s, doubling
/// with each failure, at most an hour; a message is never given up while
/// its code can still be used.
pub fn retry_delay(attempts: u32) -> Duration {
    let doubled = 30u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(10));
    Duration::from_secs(doubled.min(3600))
}

/// Reads a secret file of two lines: user name, password.
pub fn read_credentials(path: &std::path::Path) -> Result<(String, String), SendError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SendError(format!(
            "cannot read the credentials in {}: {e}",
            path.display()
        ))
    })?;
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(user), Some(password)) if !user.trim().is_empty() => {
            Ok((user.trim().to_owned(), password.to_owned()))
        }
        _ => Err(SendError(format!(
            "{} must hold two lines: the user name, then the password",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_half_a_minute_to_an_hour() {
        let delays: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(u32::MAX).as_secs(), 3600);
    }

    #[test]
    fn credentials_are_two_lines() {
        let dir = std::env::temp_dir().join(format!("lk-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good");
        std::fs::write(&good, "locker\ns3cret word\n").unwrap();
        assert_eq!(
            read_credentials(&good).unwrap(),
            ("locker".into(), "s3cret word".into())
        );
        let bad = dir.join("bad");
        std::fs::write(&bad, "only-a-user").unwrap();
        assert!(read_credentials(&bad).unwrap_err().0.contains("two lines"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
