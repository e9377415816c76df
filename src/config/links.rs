//! The locker's links to the outside: telling recipients (`[notifications]`:
//! email over SMTP, a webhook for an SMS gateway) and the fleet backend
//! (`[fleet]`: MQTT). Secrets are never in the configuration itself: it
//! names files that hold them, read when a connection is made.

use std::path::PathBuf;

use base64::Engine;
use toml::Spanned;

use super::error::Reporter;
use super::raw::{RawEmail, RawFleet, RawNotifications, RawWebhook};
use super::validate::bounded;

/// How recipients are told when no fleet backend does it. Both may be
/// set: a message then goes out on each channel the recipient can be
/// reached on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notifications {
    pub email: Option<EmailSettings>,
    pub webhook: Option<WebhookSettings>,
}

impl Notifications {
    pub fn any(&self) -> bool {
        self.email.is_some() || self.webhook.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    pub server: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// `Name <address>`: the sender recipients see.
    pub from: String,
    /// A file of two lines: user name, password.
    pub credentials: Option<PathBuf>,
    /// A PEM file of the CA that signed the server's certificate, for a
    /// server the system's roots do not know.
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// http(s) URL the JSON body is POSTed to.
    pub url: String,
    /// A file holding a bearer token sent as `Authorization`.
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    pub broker: String,
    pub port: u16,
    pub tls: bool,
    pub ca: Option<PathBuf>,
    /// Client certificate and key (PEM) for brokers that authenticate
    /// lockers by certificate.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// A file of two lines: user name, password.
    pub credentials: Option<PathBuf>,
    /// Every topic starts with it: `<prefix>/<locker id>/…`.
    pub topic_prefix: String,
    /// Other nodes of a clustered broker (`host:port`), tried in turn when
    /// the one in use fails.
    pub fallbacks: Vec<(String, u16)>,
    /// Ed25519 public keys whose signatures on commands are accepted.
    pub operator_keys: Vec<[u8; 32]>,
    pub heartbeat: std::time::Duration,
    /// The most events the outbox keeps unsent before heartbeats and
    /// door chatter are dropped from it (never parcel records).
    pub outbox_limit: u32,
}

impl FleetSettings {
    /// The broker, then its fallbacks: where the link connects, in turn.
    pub fn endpoints(&self) -> Vec<(String, u16)> {
        std::iter::once((self.broker.clone(), self.port))
            .chain(self.fallbacks.iter().cloned())
            .collect()
    }
}

pub(super) fn notifications(
    raw: Option<&Spanned<RawNotifications>>,
    report: &mut Reporter,
) -> Notifications {
    let Some(raw) = raw else {
        return Notifications::default();
    };
    let n = raw.get_ref();
    Notifications {
        email: n.email.as_ref().and_then(|e| email(e.get_ref(), report)),
        webhook: n
            .webhook
            .as_ref()
            .and_then(|w| webhook(w.get_ref(), report)),
    }
}

fn email(e: &RawEmail, report: &mut Reporter) -> Option<EmailSettings> {
    let security = match e.security.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            let span = e.security.as_ref().map(|s| s.span()).unwrap_or_default();
            report.error(
                span,
                format!("email security `{other}` must be starttls, tls or none"),
            );
            SmtpSecurity::StartTls
        }
    };
    let default_port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    };
    let server = e.server.get_ref().trim();
    if server.is_empty() {
        report.error(e.server.span(), "email server must name a host");
    }
    let from = e.from.get_ref().trim();
    if from.parse::<lettre::message::Mailbox>().is_err() {
        report.error(
            e.from.span(),
            format!("email from `{from}` must be an address, optionally as `Name <address>`"),
        );
        return None;
    }
    Some(EmailSettings {
        server: server.into(),
        port: bounded(&e.port, 1..=65535, default_port, "email port", report) as u16,
        security,
        from: from.into(),
        credentials: absolute(e.credentials.as_ref(), "email credentials", report),
        ca: absolute(e.ca.as_ref(), "email ca", report),
    })
}

fn webhook(w: &RawWebhook, report: &mut Reporter) -> Option<WebhookSettings> {
    let url = w.url.get_ref().trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        report.error(
            w.url.span(),
            "webhook url must start with https:// (or http:// on a trusted network)",
        );
        return None;
    }
    Some(WebhookSettings {
        url: url.into(),
        token_file: absolute(w.token_file.as_ref(), "webhook token_file", report),
    })
}

pub(super) fn fleet(
    raw: Option<&Spanned<RawFleet>>,
    report: &mut Reporter,
) -> Option<FleetSettings> {
    let f = raw?.get_ref();
    let broker = f.broker.get_ref().trim();
    if broker.is_empty() || broker.contains(['/', ' ']) {
        report.error(
            f.broker.span(),
            "fleet broker must be a host name or address (the port goes in `port`)",
        );
        return None;
    }
    let tls = f.tls.unwrap_or(true);
    let default_port = if tls { 8883 } else { 1883 };
    let client_cert =
        match (&f.client_cert, &f.client_key) {
            (Some(cert), Some(key)) => absolute(Some(cert), "fleet client_cert", report)
                .zip(absolute(Some(key), "fleet client_key", report)),
            (None, None) => None,
            (Some(one), None) | (None, Some(one)) => {
                report.error(one.span(), "fleet client_cert and client_key go together");
                None
            }
        };
    let prefix = f
        .topic_prefix
        .as_ref()
        .map_or("locker-kiosk", |p| p.get_ref().trim_matches('/'));
    if prefix.is_empty() || prefix.contains(['+', '#']) {
        let span = f
            .topic_prefix
            .as_ref()
            .map(|p| p.span())
            .unwrap_or_default();
        report.error(
            span,
            "fleet topic_prefix must be a topic without wildcards (+, #)",
        );
    }
    let mut operator_keys = Vec::new();
    for key in &f.operator_keys {
        match base64::engine::general_purpose::STANDARD
            .decode(key.get_ref().trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        {
            Some(bytes) => operator_keys.push(bytes),
            None => report.error(
                key.span(),
                "an operator key must be an Ed25519 public key in base64 (as `locker-kiosk operator keygen` prints it)",
            ),
        }
    }
    let mut fallbacks = Vec::new();
    for node in &f.fallbacks {
        match node
            .get_ref()
            .trim()
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
        {
            Some((host, port)) if !host.is_empty() && port > 0 => fallbacks.push((host, port)),
            _ => report.error(node.span(), "a fleet fallback must be HOST:PORT"),
        }
    }
    Some(FleetSettings {
        broker: broker.into(),
        fallbacks,
        port: bounded(&f.port, 1..=65535, default_port, "fleet port", report) as u16,
        tls,
        ca: absolute(f.ca.as_ref(), "fleet ca", report),
        client_cert,
        credentials: absolute(f.credentials.as_ref(), "fleet credentials", report),
        topic_prefix: prefix.into(),
        operator_keys,
        heartbeat: std::time::Duration::from_secs(u64::from(bounded(
            &f.heartbeat_secs,
            5..=3600,
            60,
            "fleet heartbeat_secs",
            report,
        ))),
        outbox_limit: bounded(
            &f.outbox_limit,
            1000..=10_000_000,
            100_000,
            "fleet outbox_limit",
            report,
        ),
    })
}

/// A file named in the configuration: absolute, so that it does not
/// depend on where the kiosk was started.
fn absolute(raw: Option<&Spanned<String>>, what: &str, report: &mut Reporter) -> Option<PathBuf> {
    let raw = raw?;
    let path = raw.get_ref().trim();
    if !path.starts_with('/') {
        report.error(raw.span(), format!("{what} must be an absolute path"));
        return None;
    }
    Some(PathBuf::from(path))
}
