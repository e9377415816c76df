//! The webhook: one JSON POST per message, for an SMS gateway or a
//! building's own system. The body is documented in
//! `docs/fleet/notification.schema.json`; `id` is the same for a repeat,
//! so the receiver can drop it. Any 2xx answer means delivered.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Notice, SendError, text};
use crate::config::WebhookSettings;

pub struct Webhook {
    settings: WebhookSettings,
    agent: ureq::Agent,
}

/// The body's version: a receiver checks it before reading the rest.
pub const SCHEMA: &str = "locker-kiosk/notification/1";

impl Webhook {
    pub fn new(settings: &WebhookSettings) -> Webhook {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            // A 4xx or 5xx is an answer we read, not a transport error.
            .http_status_as_error(false)
            .build()
            .new_agent();
        Webhook {
            settings: settings.clone(),
            agent,
        }
    }

    pub fn send(&self, notice: &Notice) -> Result<(), SendError> {
        let mut request = self
            .agent
            .post(&self.settings.url)
            .header("Content-Type", "application/json")
            .header(
                "Idempotency-Key",
                &format!("{}-{}", notice.locker_id, notice.message),
            );
        if let Some(path) = &self.settings.token_file {
            let token = std::fs::read_to_string(path).map_err(|e| {
                SendError(format!(
                    "cannot read the webhook token in {}: {e}",
                    path.display()
                ))
            })?;
            request = request.header("Authorization", &format!("Bearer {}", token.trim()));
        }
        let body = body(notice).to_string();
        let response = request.send(body.as_bytes()).map_err(|e| {
            SendError(format!(
                "the webhook {} could not be reached: {e}",
                self.settings.url
            ))
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError(format!(
                "the webhook {} answered {status}",
                self.settings.url
            )))
        }
    }
}

/// The JSON body for `notice`.
pub fn body(notice: &Notice) -> Value {
    let mut body = json!({
        "schema": SCHEMA,
        "id": format!("{}-{}", notice.locker_id, notice.message),
        "kind": notice.kind.name(),
        "locker": {
            "id": notice.locker_id,
            "name": notice.locker_name,
            "address": notice.address,
        },
        "recipient": {
            "name": notice.recipient_name,
            "email": notice.email,
            "phone": notice.phone,
            "language": notice.language,
        },
        "parcels": notice.trackings,
        "text": text::short(notice),
    });
    if let Some(code) = &notice.code {
        body["pin"] = json!(code.pin);
        body["qr"] = json!(code.qr);
    }
    if let Some((at, _)) = &notice.deadline {
        body["deadline"] = json!(crate::domain::rfc3339(*at));
    }
    body
}
