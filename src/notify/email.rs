//! Email over SMTP: a plain-text and an HTML part, the QR as an inline
//! image the HTML shows, and a Message-ID made from the locker and the
//! message, so that a repeat after a crash is recognisably the same mail.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{Notice, SendError, read_credentials, text};
use crate::config::{EmailSettings, SmtpSecurity};

/// Sends email through one SMTP server. Blocking: the notifier calls it
/// off the async workers.
pub struct Mailer {
    settings: EmailSettings,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &EmailSettings) -> Result<Mailer, SendError> {
        let from = settings
            .from
            .parse()
            .map_err(|e| SendError(format!("email from `{}`: {e}", settings.from)))?;
        Ok(Mailer {
            settings: settings.clone(),
            from,
        })
    }

    /// The connection is made per batch, with the credentials and CA read
    /// afresh, so that a rotated password needs no restart.
    fn transport(&self) -> Result<SmtpTransport, SendError> {
        let s = &self.settings;
        let tls = || -> Result<TlsParameters, SendError> {
            let mut builder = TlsParameters::builder(s.server.clone());
            if let Some(ca) = &s.ca {
                let pem = std::fs::read(ca).map_err(|e| {
                    SendError(format!("cannot read the email CA {}: {e}", ca.display()))
                })?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| SendError(format!("the email CA {}: {e}", ca.display())))?;
                builder = builder.add_root_certificate(cert);
            }
            builder
                .build_rustls()
                .map_err(|e| SendError(format!("TLS for {}: {e}", s.server)))
        };
        let mut builder = SmtpTransport::builder_dangerous(&s.server)
            .port(s.port)
            .timeout(Some(Duration::from_secs(20)));
        builder = match s.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some(path) = &s.credentials {
            let (user, password) = read_credentials(path)?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(builder.build())
    }

    /// Sends one message; the server's refusal or the network's failure
    /// in words.
    pub fn send(&self, notice: &Notice) -> Result<(), SendError> {
        let message = compose(notice, &self.from)?;
        self.transport()?.send(&message).map(drop).map_err(|e| {
            SendError(format!(
                "the mail server {} did not take it: {e}",
                self.settings.server
            ))
        })
    }
}

/// The email for `notice`, from `from`.
pub fn compose(notice: &Notice, from: &Mailbox) -> Result<Message, SendError> {
    let to_address = notice
        .email
        .as_deref()
        .ok_or_else(|| SendError("the recipient has no email address".into()))?;
    let to = Mailbox::new(
        Some(notice.recipient_name.clone()),
        to_address
            .parse()
            .map_err(|e| SendError(format!("the recipient's address `{to_address}`: {e}")))?,
    );
    let paragraphs = text::body(notice);
    let plain = paragraphs.join("\n\n");
    let mut html = String::from("<html><body style=\"font-family:sans-serif\">");
    for (i, paragraph) in paragraphs.iter().enumerate() {
        html.push_str("<p>");
        html.push_str(&escape(paragraph).replace('\n', "<br>"));
        html.push_str("</p>");
        // The QR right under the sentence that asks to show it.
        if i == 3 && notice.code.is_some() {
            html.push_str(
                "<p><img src=\"cid:pickup-qr\" alt=\"QR\" width=\"240\" height=\"240\"></p>",
            );
        }
    }
    html.push_str("</body></html>");
    let mut related = MultiPart::related().singlepart(SinglePart::html(html));
    if let Some(code) = &notice.code {
        let png = qr_png(&code.qr, 8);
        related = related.singlepart(
            Attachment::new_inline("pickup-qr".into())
                .body(png, ContentType::parse("image/png").expect("a MIME type")),
        );
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(plain))
        .multipart(related);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(text::subject(notice))
        .message_id(Some(format!(
            "<{}.{}@{}.locker-kiosk>",
            notice.kind.name(),
            notice.message,
            notice.locker_id
        )))
        .multipart(body)
        .map_err(|e| SendError(format!("the email could not be made: {e}")))
}

/// `text` as a QR code in a PNG: `scale` pixels a module, with the four
/// modules of quiet zone a reader needs.
pub fn qr_png(text: &str, scale: u32) -> Vec<u8> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .expect("a pickup QR's text fits a QR code");
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 8) * scale;
    let image = image::GrayImage::from_fn(side, side, |x, y| {
        let (col, row) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
        let inside = (0..modules as i64).contains(&col) && (0..modules as i64).contains(&row);
        let dark =
            inside && colors[(row as u32 * modules + col as u32) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG is written to memory");
    png
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Code, NoticeKind};

    #[test]
    fn an_email_has_text_html_and_the_qr_inline_and_a_stable_id() {
        let notice = Notice {
            message: 42,
            kind: NoticeKind::Arrived,
            locker_id: "main-1".into(),
            locker_name: "Main <Street> 1".into(),
            address: None,
            support: Some("Call 0800 555 0100".into()),
            recipient_name: "Alice Adams".into(),
            email: Some("alice@example.org".into()),
            phone: None,
            language: "en".into(),
            code: Some(Code {
                pin: "583920".into(),
                qr: "LK1:main-1:DEMOALICEAAAAAAAAAAAAAAAAA".into(),
            }),
            deadline: None,
            trackings: vec![],
        };
        let from: Mailbox = "Locker <locker@example.org>".parse().unwrap();
        let mail = String::from_utf8(compose(&notice, &from).unwrap().formatted()).unwrap();
        assert!(
            mail.contains("Message-ID: <arrived.42@main-1.locker-kiosk>"),
            "{mail}"
        );
        assert!(
            mail.contains("To: \"Alice Adams\" <alice@example.org>"),
            "{mail}"
        );
        assert!(mail.contains("multipart/alternative") && mail.contains("multipart/related"));
        assert!(mail.contains("Content-ID: <pickup-qr>"), "{mail}");
        assert!(
            mail.contains("Main &lt;Street&gt; 1"),
            "the HTML escapes names"
        );
        let no_address = Notice {
            email: None,
            ..notice
        };
        assert!(
            compose(&no_address, &from)
                .unwrap_err()
                .0
                .contains("no email address")
        );
    }
}
