//! Telling recipients without a fleet backend, against a real SMTP server
//! (Python's aiosmtpd, from Debian) and a webhook receiver on a socket:
//! what leaves the locker, what is retried, what staff are told.

use crate::common::{self, headless};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use locker_kiosk::app::Service;
use locker_kiosk::app::kiosk::{CourierAction, DoorStep, Headless, Input, Page};
use locker_kiosk::app::notifier::{Notifier, Round};
use locker_kiosk::config::{Config, EmailSettings, SmtpSecurity, WebhookSettings};
use locker_kiosk::domain::Timestamp;
use locker_kiosk::scanning::decode::{Decoder, Symbology};
use locker_kiosk::scanning::{ScanEvent, ScanSource};
use locker_kiosk::store::event::NotifiedParcel;
use locker_kiosk::store::{Event, NewEvent};

/// A real SMTP server that files every mail it takes into a Maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(dir: &Path, port: u16) -> SmtpServer {
        SmtpServer::start_with(dir, port, &[])
    }

    /// With aiosmtpd's TLS options (`--tlscert`… for STARTTLS,
    /// `--smtpscert`… for TLS from the first byte).
    fn start_with(dir: &Path, port: u16, tls: &[&std::ffi::OsStr]) -> SmtpServer {
        let maildir = dir.join(format!("maildir-{port}"));
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(tls)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd (python3-aiosmtpd) is installed by scripts/test");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// Every mail received so far, raw.
    fn mails(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn email_to(port: u16) -> EmailSettings {
    EmailSettings {
        server: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        from: "Main Street locker <locker@example.org>".into(),
        credentials: None,
        ca: None,
    }
}

/// The seeded demo locker with `email` and `webhook` as its channels;
/// a door closes 300 ms after it opens.
fn kiosk(
    dir: &Path,
    email: Option<EmailSettings>,
    webhook: Option<WebhookSettings>,
) -> (tokio::runtime::Runtime, Service, Notifier) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(300));
    config.notifications.email = email;
    config.notifications.webhook = webhook;
    let service = Service::start(common::seeded_store(dir), config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let notifier = Notifier::new(&service)
        .unwrap()
        .expect("a channel is configured");
    (runtime, service, notifier)
}

/// Rounds of the notifier at the real time until `done`.
fn rounds_until(
    runtime: &tokio::runtime::Runtime,
    notifier: &Notifier,
    what: &str,
    done: impl Fn(&Round) -> bool,
) -> Round {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let round = runtime
            .block_on(notifier.round(locker_kiosk::app::system::now()))
            .unwrap();
        if done(&round) {
            return round;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}; last round {round:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Dana delivers Deniz's announced parcel through the kiosk: the door
/// opens, closes, and Dana finishes; the door it went into.
fn dana_delivers_to_deniz(kiosk: &Headless, screen: &common::Screen) -> u32 {
    common::courier_to_the_door(kiosk, screen);
    let view = screen.until("door open", |v| {
        matches!(v.courier.door, Some((_, DoorStep::Open)))
    });
    let (door, _) = view.courier.door.unwrap();
    screen.until("back to scanning", |v| v.page == Page::CourierScan);
    kiosk.send(Input::Courier(CourierAction::Finish));
    screen.until("the summary", |v| v.page == Page::CourierDone);
    kiosk.send(Input::Leave);
    door
}

const DENIZ: i64 = 4;
const EMMA: i64 = 5;

#[test]
fn a_deposit_reaches_its_recipient_by_email_in_their_language_and_its_qr_opens_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), free_port());
    let (runtime, service, notifier) =
        kiosk(&dir.path().join("data"), Some(email_to(smtp.port)), None);
    common::in_store(&runtime, &service, |s| {
        s.recipients()
            .set_contact(DENIZ, Some("deniz@example.org"), None, Some("de"))
            .unwrap()
    });
    let (kiosk, screen) = headless(&service, runtime.handle());
    let door = dana_delivers_to_deniz(&kiosk, &screen);
    screen.until("home", |v| v.page == Page::Home);

    let round = rounds_until(&runtime, &notifier, "the message delivered", |r| {
        r.delivered == 1
    });
    assert_eq!(round.failed + round.unreachable, 0);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one mail for one visit");
    let mail = mailparse::parse_mail(&mails[0]).unwrap();
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
    };
    assert_eq!(
        header("To").as_deref(),
        Some("\"Deniz Demir\" <deniz@example.org>")
    );
    assert_eq!(
        header("Subject").as_deref(),
        Some("Ihr Paket liegt bereit: Demo Locker")
    );
    let parts: Vec<&mailparse::ParsedMail> = mail.parts().collect();
    let text = parts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap()
        .get_body()
        .unwrap();
    assert!(text.contains("Guten Tag Deniz Demir,"), "{text}");
    assert!(text.contains("9400111899223197428497"), "{text}");
    let pin: String = text
        .lines()
        .find_map(|l| l.strip_prefix("Ihr Abholcode: "))
        .expect("the PIN in the text")
        .trim()
        .into();
    assert_eq!(pin.len(), 6);

    // The QR in the mail, read by the kiosk's own decoder, opens Deniz's
    // door and no other.
    let png = parts
        .iter()
        .find(|p| p.ctype.mimetype == "image/png")
        .expect("the QR inline")
        .get_body_raw()
        .unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let (width, height) = image.dimensions();
    let mut decoder = Decoder::new(&[Symbology::Qr], Duration::from_secs(2));
    let qr = decoder
        .decode(image.as_raw(), width, height)
        .expect("the QR reads")
        .text;
    assert!(qr.starts_with("LK1:demo-1:"), "{qr}");
    kiosk.send(Input::Scanned(ScanEvent::new(
        qr,
        ScanSource::Camera(Symbology::Qr),
    )));
    let view = screen.until("Deniz's door open", |v| v.page == Page::PickupDoors);
    assert_eq!(
        view.pickup.doors.iter().map(|d| d.0).collect::<Vec<_>>(),
        vec![door]
    );

    // The code left the records with the message: only its hashes stay.
    let (notified, sealed) = common::in_store(&runtime, &service, |s| {
        let notified = s.events().recent(Some("recipient_notified"), 5).unwrap();
        let parcel = s
            .parcels()
            .by_tracking("9400111899223197428497")
            .unwrap()
            .unwrap();
        let code = s.parcels().code_of(parcel.id).unwrap().unwrap();
        (notified, s.parcels().undelivered_code(code).unwrap())
    });
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].detail["channel"], "email");
    assert_eq!(sealed, None, "the plain code is gone once delivered");
}

/// A parcel for `recipient` deposited at `at` (into door `door`) and its
/// message recorded, as a courier's visit leaves them.
fn deposited_and_told(
    runtime: &tokio::runtime::Runtime,
    service: &Service,
    recipient: i64,
    tracking: &'static str,
    door: u32,
    at: Timestamp,
) {
    common::in_store(runtime, service, move |s| {
        let mut entropy = locker_kiosk::app::system::OsEntropy;
        s.parcels()
            .deposit(
                &common::deposit(tracking, recipient, door),
                &mut entropy,
                at,
            )
            .unwrap();
        let (code, _) = s.parcels().live_code_for(recipient).unwrap().unwrap();
        let message = Event::RecipientNotification {
            recipient,
            name: None,
            reason: None,
            expires_at: None,
            code: Some(code),
            parcels: vec![NotifiedParcel {
                tracking: tracking.into(),
                compartment: Some(door),
                item: None,
            }],
        };
        s.events()
            .record(at, &NewEvent::new(message, "courier:1"))
            .unwrap();
    });
}

/// Emma, reachable as `contact` (email, phone, language), has a parcel
/// waiting (door 7) and its message recorded, now; when.
fn emma_waits(
    runtime: &tokio::runtime::Runtime,
    service: &Service,
    contact: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    tracking: &'static str,
) -> Timestamp {
    common::in_store(runtime, service, move |s| {
        s.recipients()
            .set_contact(EMMA, contact.0, contact.1, contact.2)
            .unwrap()
    });
    let t0 = locker_kiosk::app::system::now();
    deposited_and_told(runtime, service, EMMA, tracking, 7, t0);
    t0
}

#[test]
fn a_mail_server_that_is_down_gets_the_message_later_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (runtime, service, notifier) = kiosk(&dir.path().join("data"), Some(email_to(port)), None);
    let t0 = emma_waits(
        &runtime,
        &service,
        (Some("emma@example.org"), None, None),
        "EMMA0001",
    );

    // Nothing listens: the try fails, is logged once, and waits 30 s.
    let round = runtime.block_on(notifier.round(t0)).unwrap();
    assert_eq!(
        round,
        Round {
            failed: 1,
            ..Round::default()
        }
    );
    let (failures, state) = common::in_store(&runtime, &service, |s| {
        (
            s.events().recent(Some("notification_failed"), 5).unwrap(),
            s.deliveries().state().unwrap(),
        )
    });
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].detail["channel"], "email");
    assert_eq!(state.waiting, 1);
    assert!(
        state.last_error.unwrap().contains("127.0.0.1"),
        "the error names the server"
    );
    let early = runtime.block_on(notifier.round(t0.plus_secs(20))).unwrap();
    assert_eq!(early, Round::default(), "not again before its time");

    // The server is back: the message goes out once, and no more.
    let smtp = SmtpServer::start(dir.path(), port);
    let round = runtime.block_on(notifier.round(t0.plus_secs(31))).unwrap();
    assert_eq!(
        round,
        Round {
            delivered: 1,
            ..Round::default()
        }
    );
    let again = runtime
        .block_on(notifier.round(t0.plus_secs(3600)))
        .unwrap();
    assert_eq!(again.delivered, 0);
    assert_eq!(smtp.mails().len(), 1);
    let state = common::in_store(&runtime, &service, |s| s.deliveries().state().unwrap());
    assert_eq!((state.waiting, state.last_error), (0, None));
}

#[test]
fn a_recipient_no_channel_reaches_is_an_alarm_for_staff_and_a_spent_code_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), free_port());
    let (runtime, service, notifier) =
        kiosk(&dir.path().join("data"), Some(email_to(smtp.port)), None);
    let t0 = locker_kiosk::app::system::now();
    // Emma has no address on record; Deniz has one, but collects first.
    deposited_and_told(&runtime, &service, EMMA, "EMMA0001", 7, t0);
    common::in_store(&runtime, &service, |s| {
        s.recipients()
            .set_contact(DENIZ, Some("deniz@example.org"), None, None)
            .unwrap()
    });
    deposited_and_told(&runtime, &service, DENIZ, "DENIZ001", 8, t0);
    common::in_store(&runtime, &service, move |s| {
        let parcel = s.parcels().by_tracking("DENIZ001").unwrap().unwrap();
        s.parcels().collect(parcel.id, t0.plus_secs(1)).unwrap();
    });

    let round = runtime.block_on(notifier.round(t0.plus_secs(2))).unwrap();
    assert_eq!(
        round,
        Round {
            unreachable: 1,
            moot: 1,
            ..Round::default()
        }
    );
    assert!(smtp.mails().is_empty(), "nothing to tell Deniz any more");
    let alarms = common::in_store(&runtime, &service, |s| {
        s.events()
            .log_page(locker_kiosk::store::LogFilter::Alarms, None, 10)
            .unwrap()
    });
    let alarm = alarms
        .iter()
        .find(|e| e.kind == "recipient_unreachable")
        .expect("staff see the alarm");
    assert_eq!(alarm.detail["name"], "Emma Evans");
    assert!(
        alarm.detail["why"]
            .as_str()
            .unwrap()
            .contains("no email address and no phone")
    );
    let later = runtime
        .block_on(notifier.round(t0.plus_secs(7200)))
        .unwrap();
    assert_eq!(later, Round::default(), "an alarm once, not every round");
}

#[test]
fn a_reminder_goes_once_before_the_deadline_without_the_code_already_sent() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path(), free_port());
    let (runtime, service, notifier) =
        kiosk(&dir.path().join("data"), Some(email_to(smtp.port)), None);
    let t0 = emma_waits(
        &runtime,
        &service,
        (Some("emma@example.org"), None, Some("en")),
        "EMMA0001",
    );
    let round = runtime.block_on(notifier.round(t0)).unwrap();
    assert_eq!(round.delivered, 1);

    // 72 h of storage, reminded 24 h before: not at 47 h, once at 49 h.
    let hours = |h: i64| t0.plus_secs(h * 3600);
    assert_eq!(
        runtime.block_on(notifier.round(hours(47))).unwrap(),
        Round::default()
    );
    let round = runtime.block_on(notifier.round(hours(49))).unwrap();
    assert_eq!(
        round,
        Round {
            reminders_queued: 1,
            delivered: 1,
            ..Round::default()
        }
    );
    assert_eq!(
        runtime.block_on(notifier.round(hours(50))).unwrap(),
        Round::default()
    );

    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    let reminder = mails
        .iter()
        .map(|m| mailparse::parse_mail(m).unwrap())
        .find(|m| {
            m.headers
                .iter()
                .any(|h| h.get_value().starts_with("Reminder:"))
        })
        .expect("a reminder");
    let text = reminder
        .parts()
        .find(|p| p.ctype.mimetype == "text/plain")
        .unwrap()
        .get_body()
        .unwrap();
    assert!(text.contains("with the code we sent you"), "{text}");
    assert!(
        !reminder.parts().any(|p| p.ctype.mimetype == "image/png"),
        "no QR without a code"
    );
}

/// A webhook receiver: answers each POST with the next of `statuses`
/// and hands its headers and body over.
fn webhook_receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<(String, serde_json::Value)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (requests, received) = mpsc::channel();
    std::thread::spawn(move || {
        for status in statuses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let _ = requests.send((head, serde_json::from_slice(&body).unwrap()));
        }
    });
    (url, received)
}

#[test]
fn the_webhook_gets_the_documented_body_and_a_refusal_is_retried_with_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = webhook_receiver(vec![503, 200]);
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let webhook = WebhookSettings {
        url,
        token_file: Some(token),
    };
    let (runtime, service, notifier) = kiosk(&dir.path().join("data"), None, Some(webhook));
    let t0 = emma_waits(
        &runtime,
        &service,
        (None, Some("+49 170 5550100"), Some("es")),
        "EMMA0001",
    );

    assert_eq!(
        runtime.block_on(notifier.round(t0)).unwrap().failed,
        1,
        "a 503 is not delivered"
    );
    let (_, refused) = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        runtime
            .block_on(notifier.round(t0.plus_secs(31)))
            .unwrap()
            .delivered,
        1
    );
    let (head, body) = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(refused["id"], body["id"], "a retry carries the same id");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("authorization: bearer s3cret"), "{head}");
    assert!(
        head.contains(&format!(
            "idempotency-key: {}",
            body["id"].as_str().unwrap()
        )),
        "{head}"
    );
    assert_eq!(body["schema"], "locker-kiosk/notification/1");
    assert_eq!(body["kind"], "arrived");
    assert_eq!(body["recipient"]["phone"], "+49 170 5550100");
    assert_eq!(body["recipient"]["language"], "es");
    assert_eq!(body["parcels"], serde_json::json!(["EMMA0001"]));
    let pin = body["pin"].as_str().unwrap();
    assert_eq!(pin.len(), 6);
    assert!(body["qr"].as_str().unwrap().starts_with("LK1:demo-1:"));
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains(&format!("Código {pin}")),
        "{body}"
    );
    assert!(body["deadline"].as_str().unwrap().ends_with('Z'));
    common::check_against_schema(&body, "docs/fleet/notification.schema.json");
}

#[test]
fn email_goes_over_starttls_or_tls_to_a_server_with_a_private_ca_and_not_to_one_it_cannot_trust() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = common::private_ca(dir.path());
    let (cert, key) = (cert.as_os_str(), key.as_os_str());
    let starttls = SmtpServer::start_with(
        dir.path(),
        free_port(),
        &["--tlscert".as_ref(), cert, "--tlskey".as_ref(), key],
    );
    let wrapped = SmtpServer::start_with(
        dir.path(),
        free_port(),
        &["--smtpscert".as_ref(), cert, "--smtpskey".as_ref(), key],
    );
    for (server, security) in [
        (&starttls, SmtpSecurity::StartTls),
        (&wrapped, SmtpSecurity::Tls),
    ] {
        let email = EmailSettings {
            security,
            ca: Some(ca.clone()),
            ..email_to(server.port)
        };
        let data = dir.path().join(format!("data-{}", server.port));
        let (runtime, service, notifier) = kiosk(&data, Some(email.clone()), None);
        let t0 = emma_waits(
            &runtime,
            &service,
            (Some("emma@example.org"), None, None),
            "EMMA0001",
        );
        let round = runtime.block_on(notifier.round(t0)).unwrap();
        assert_eq!(round.delivered, 1, "{security:?}: {round:?}");
        assert_eq!(server.mails().len(), 1, "{security:?}");
        drop(notifier);
        drop(service);
        runtime.shutdown_timeout(Duration::from_secs(1));
    }
    // Only the system's roots: the server's certificate is not trusted,
    // nothing is sent, and staff read why.
    let email = EmailSettings {
        security: SmtpSecurity::StartTls,
        ..email_to(starttls.port)
    };
    let (runtime, service, notifier) = kiosk(&dir.path().join("data-untrusted"), Some(email), None);
    let t0 = emma_waits(
        &runtime,
        &service,
        (Some("emma@example.org"), None, None),
        "EMMA0002",
    );
    assert_eq!(runtime.block_on(notifier.round(t0)).unwrap().failed, 1);
    let error = common::in_store(&runtime, &service, |s| {
        s.deliveries().state().unwrap().last_error.unwrap()
    });
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert_eq!(starttls.mails().len(), 1, "nothing more was sent");
}
