//! Tells recipients when no fleet backend does: every few seconds the
//! messages due are taken from the store and sent on each configured
//! channel that reaches their recipient (`notify`), off the async
//! workers. A message is delivered once every such channel took it; a
//! failed one is tried again with backoff for as long as its code can be
//! used; a recipient no channel reaches is an alarm for staff. Reminders
//! are queued here too, `reminder_hours_before_expiry` before a deadline.

use std::sync::Arc;
use std::time::Duration;

use super::Service;
use super::service::ServiceError;
use crate::config::Config;
use crate::domain::Timestamp;
use crate::domain::codes::pickup_qr_payload;
use crate::notify::{Channel, Code, Mailer, Notice, NoticeKind, SendError, Webhook, retry_delay};
use crate::store::DueMessage;

/// How often the queue is looked at: a new message leaves within this.
pub const POLL: Duration = Duration::from_secs(2);

/// Messages handled in one round: a long backlog goes out in batches,
/// oldest first, without holding the store.
const BATCH: u32 = 20;

/// The channels and what a message needs to say.
#[derive(Clone)]
pub struct Notifier {
    service: Service,
    mailer: Option<Arc<Mailer>>,
    webhook: Option<Arc<Webhook>>,
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub reminders_queued: usize,
    pub delivered: usize,
    pub failed: usize,
    pub unreachable: usize,
    /// Messages whose code opens nothing any more: not sent.
    pub moot: usize,
}

impl Notifier {
    /// `None` when no channel is configured (the messages wait in the
    /// outbox for a fleet backend).
    pub fn new(service: &Service) -> Result<Option<Notifier>, SendError> {
        let settings = &service.config().notifications;
        if !settings.any() {
            return Ok(None);
        }
        let mailer = match &settings.email {
            Some(email) => Some(Arc::new(Mailer::new(email)?)),
            None => None,
        };
        Ok(Some(Notifier {
            service: service.clone(),
            mailer,
            webhook: settings.webhook.as_ref().map(|w| Arc::new(Webhook::new(w))),
        }))
    }

    /// Runs for as long as the kiosk runs.
    pub fn spawn(self) {
        tokio::spawn(async move {
            loop {
                match self.round(super::system::now()).await {
                    Ok(round) if round != Round::default() => {
                        tracing::info!(?round, "messages to recipients")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "the messages queue could not be read"),
                }
                tokio::time::sleep(POLL).await;
            }
        });
    }

    /// One pass at `now`: reminders queued, then every due message tried.
    pub async fn round(&self, now: Timestamp) -> Result<Round, ServiceError> {
        let mut round = Round::default();
        let reminder_hours = self.service.config().policies.reminder_hours_before_expiry;
        // No reminder to come while nobody can: the deadlines move when
        // the locker is back, and the reminders with them.
        let closed = self.service.staff(|s| s.closure()).await?.is_some();
        if !closed {
            round.reminders_queued = self
                .service
                .deliveries(move |d| d.queue_reminders(now, reminder_hours))
                .await?;
        }
        let due = self.service.deliveries(move |d| d.due(now, BATCH)).await?;
        for message in due {
            let id = message.message;
            if message.moot {
                self.service
                    .deliveries(move |d| d.finished(id, now))
                    .await?;
                round.moot += 1;
                continue;
            }
            let notice = notice(self.service.config(), &message);
            let channels = self.channels(&notice);
            if channels.is_empty() {
                let why = self.unreachable_because(&notice);
                self.service
                    .deliveries(move |d| d.unreachable(&message, &why, now))
                    .await?;
                round.unreachable += 1;
                continue;
            }
            let mut first_error: Option<(Channel, SendError)> = None;
            for channel in channels {
                if message.channels_done.iter().any(|c| c == channel.name()) {
                    continue;
                }
                match self.send(channel, notice.clone()).await {
                    Ok(()) => {
                        self.service
                            .deliveries(move |d| d.took(id, channel.name(), now))
                            .await?;
                    }
                    Err(error) => {
                        tracing::warn!(message = id, channel = channel.name(), %error, "a message did not go out");
                        first_error.get_or_insert((channel, error));
                    }
                }
            }
            match first_error {
                None => {
                    self.service
                        .deliveries(move |d| d.finished(id, now))
                        .await?;
                    round.delivered += 1;
                }
                Some((channel, error)) => {
                    let retry_at =
                        now.plus_millis(retry_delay(message.attempts + 1).as_millis() as i64);
                    self.service
                        .deliveries(move |d| d.failed(id, channel.name(), &error.0, retry_at, now))
                        .await?;
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    /// The configured channels that reach this recipient.
    fn channels(&self, notice: &Notice) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.mailer.is_some() && Channel::Email.reaches(notice) {
            channels.push(Channel::Email);
        }
        if self.webhook.is_some() && Channel::Webhook.reaches(notice) {
            channels.push(Channel::Webhook);
        }
        channels
    }

    fn unreachable_because(&self, notice: &Notice) -> String {
        if notice.email.is_none() && notice.phone.is_none() {
            "the recipient has no email address and no phone number".into()
        } else {
            "the recipient has no email address, and only email is configured".into()
        }
    }

    /// One channel, on a blocking worker: SMTP and HTTP wait on the network.
    async fn send(&self, channel: Channel, notice: Notice) -> Result<(), SendError> {
        let (mailer, webhook) = (self.mailer.clone(), self.webhook.clone());
        tokio::task::spawn_blocking(move || match channel {
            Channel::Email => mailer.map_or(Ok(()), |m| m.send(&notice)),
            Channel::Webhook => webhook.map_or(Ok(()), |w| w.send(&notice)),
        })
        .await
        .unwrap_or_else(|e| Err(SendError(format!("the sender stopped: {e}"))))
    }
}

/// What the message says, from its record and the locker's configuration.
pub fn notice(config: &Config, message: &DueMessage) -> Notice {
    let language = message
        .recipient
        .language
        .clone()
        .filter(|l| config.languages.available.contains(l))
        .unwrap_or_else(|| config.languages.default.clone());
    Notice {
        message: message.message,
        kind: NoticeKind::from_reason(message.reason.as_deref()),
        locker_id: config.locker.id.clone(),
        locker_name: config.locker.name.clone(),
        address: config.locker.address.clone(),
        support: config.locker.support.clone(),
        recipient_name: message.recipient.name.clone(),
        email: message.recipient.email.clone(),
        phone: message.recipient.phone.clone(),
        language,
        code: message.code.as_ref().map(|code| Code {
            pin: code.pin.clone(),
            qr: pickup_qr_payload(&config.locker.id, &code.qr_token),
        }),
        deadline: message
            .expires_at
            .map(|at| (at.0, super::system::local_time(at))),
        // An item handed out is named, its tag or number beside it.
        trackings: message
            .parcels
            .iter()
            .map(|p| match &p.item {
                Some(item) => format!("{item} ({})", p.tracking),
                None => p.tracking.clone(),
            })
            .collect(),
    }
}
