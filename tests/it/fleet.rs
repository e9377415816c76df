//! The fleet link against a real MQTT broker (Mosquitto, from Debian) and
//! a real subscriber: every event arrives, in order by id, across a broker
//! restart; commands are carried out once, forged and replayed ones are
//! refused and answered; every message fits its schema in docs/fleet/.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use locker_kiosk::app::Service;
use locker_kiosk::app::fleet::FleetLink;
use locker_kiosk::config::{Config, FleetSettings};
use locker_kiosk::fleet::command::{CommandBody, Resident};
use locker_kiosk::fleet::{Command as FleetCommand, sign};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

/// Mosquitto on loopback, persistent, so that a subscriber's session and
/// its queued messages survive a restart. `user root`: started by root,
/// Mosquitto would otherwise become its own user and could not read the
/// test's private directory (ignored when not root).
struct Broker {
    child: Option<Child>,
    port: u16,
    config: PathBuf,
}

impl Broker {
    fn start(dir: &Path) -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "user root\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 100000\n",
                dir.display()
            ),
        )
        .unwrap();
        let mut broker = Broker {
            child: None,
            port,
            config,
        };
        broker.resume();
        broker
    }

    fn resume(&mut self) {
        let child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed by scripts/test");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes it, then kills it: what it read but never answered is
    /// lost, as in a crash or a cut cable. Its sessions are as last saved.
    fn freeze_and_kill(&mut self, frozen_for: Duration, meanwhile: impl FnOnce()) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc::kill(child.id() as i32, libc::SIGSTOP) };
            meanwhile();
            std::thread::sleep(frozen_for);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it as an operator would (SIGTERM: it saves its sessions).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A subscriber with a persistent session: every message on `topics`,
/// with its topic, as it arrives.
fn subscriber(
    port: u16,
    name: &str,
    topics: &[String],
) -> mpsc::Receiver<(String, serde_json::Value)> {
    let mut options = MqttOptions::new(name, "127.0.0.1", port);
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut connection) = Client::new(options, 100);
    let (sender, received) = mpsc::channel();
    let topics = topics.to_vec();
    let (ready, subscribed) = mpsc::channel();
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    for topic in &topics {
                        client.subscribe(topic, QoS::AtLeastOnce).unwrap();
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let value =
                        serde_json::from_slice(&p.payload).unwrap_or(serde_json::Value::Null);
                    if sender.send((p.topic.clone(), value)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    subscribed
        .recv_timeout(Duration::from_secs(10))
        .expect("subscribed");
    received
}

fn fleet_settings(port: u16, operator_keys: Vec<[u8; 32]>) -> FleetSettings {
    FleetSettings {
        broker: "127.0.0.1".into(),
        port,
        tls: false,
        ca: None,
        client_cert: None,
        credentials: None,
        topic_prefix: "lockers".into(),
        fallbacks: Vec::new(),
        operator_keys,
        heartbeat: Duration::from_secs(1),
        outbox_limit: 100_000,
    }
}

fn kiosk(dir: &Path, fleet: FleetSettings) -> (tokio::runtime::Runtime, Service) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(300));
    config.fleet = Some(fleet);
    let service = Service::start(common::seeded_store(dir), config, runtime.handle());
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    let link = FleetLink::new(&service).unwrap();
    {
        let _entered = runtime.enter();
        link.spawn();
    }
    (runtime, service)
}

fn pending(runtime: &tokio::runtime::Runtime, service: &Service) -> u64 {
    common::in_store(runtime, service, |s| s.events().outbox_pending().unwrap())
}

#[test]
fn every_event_reaches_a_subscriber_in_order_across_a_broker_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(dir.path());
    let received = subscriber(broker.port, "backend-1", &["lockers/demo-1/#".to_string()]);
    let (runtime, service) = kiosk(
        &dir.path().join("data"),
        fleet_settings(broker.port, vec![]),
    );

    // A steady stream of records: 300 parcels announced, one every 5 ms,
    // with the broker stopped for 1.5 s in the middle, then frozen and killed.
    let announce = |from: usize, to: usize| {
        for n in from..to {
            common::in_store(&runtime, &service, move |s| {
                s.parcels()
                    .announce(
                        &format!("FLEET{n:04}"),
                        Some("DHL"),
                        1,
                        None,
                        locker_kiosk::app::system::now(),
                    )
                    .unwrap()
            });
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    announce(0, 150);
    let acknowledged_before = service.fleet_status().acknowledged;
    assert!(
        acknowledged_before > 0,
        "the broker took events before it stopped"
    );
    broker.stop();
    announce(150, 200);
    let link = service.fleet_status();
    assert!(
        !link.connected && link.last_error.is_some(),
        "the link knows it is down: {link:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    broker.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !service.fleet_status().connected {
        assert!(Instant::now() < deadline, "the link never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
    announce(200, 250);
    // A broker that hangs and dies: what it took into its socket but never
    // acknowledged must be sent again, not counted as sent.
    broker.freeze_and_kill(Duration::from_millis(300), || announce(250, 300));
    broker.resume();

    // Everything acknowledged, and the subscriber has every event.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending(&runtime, &service) > 0 {
        assert!(
            Instant::now() < deadline,
            "{} events never acknowledged",
            pending(&runtime, &service)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let newest = common::in_store(&runtime, &service, |s| {
        s.events().recent(None, 1).unwrap()[0].id
    });
    let mut first_seen: Vec<i64> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut by_topic: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut repeats = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < newest as usize {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((topic, message)) = received.recv_timeout(left) else {
            let missing: Vec<i64> = (1..=newest)
                .filter(|id| !seen.contains(id))
                .take(10)
                .collect();
            panic!("the subscriber never got events {missing:?} (of {newest})");
        };
        if topic.ends_with("/events") {
            common::check_against_schema(&message, "docs/fleet/event.schema.json");
            let id = message["id"].as_i64().unwrap();
            if seen.insert(id) {
                first_seen.push(id);
            } else {
                repeats += 1;
            }
        }
        by_topic.insert(topic, message);
    }
    assert!(
        first_seen.windows(2).all(|w| w[0] < w[1]),
        "events arrived out of order: {:?}",
        first_seen.windows(2).find(|w| w[0] > w[1])
    );
    assert_eq!(first_seen.len() as i64, newest, "none lost");
    eprintln!("{newest} events, {repeats} repeats after the restart (the same ids)");

    // The locker's state and status, retained, and its heartbeat.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !["state", "status", "heartbeat"]
        .iter()
        .all(|t| by_topic.contains_key(&format!("lockers/demo-1/{t}")))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let (topic, message) = received
            .recv_timeout(left)
            .expect("state, status and heartbeat");
        by_topic.insert(topic, message);
    }
    let state = &by_topic["lockers/demo-1/state"];
    common::check_against_schema(state, "docs/fleet/state.schema.json");
    assert!(state["compartments"]["S"]["free"].as_u64().is_some());
    assert!(state["chain_head"]["id"].as_i64().unwrap() > 0);
    common::check_against_schema(
        &by_topic["lockers/demo-1/status"],
        "docs/fleet/status.schema.json",
    );
    assert_eq!(by_topic["lockers/demo-1/status"]["online"], true);
    common::check_against_schema(
        &by_topic["lockers/demo-1/heartbeat"],
        "docs/fleet/heartbeat.schema.json",
    );
}

/// Publishes `payload` on the locker's command topic.
fn publish_command(port: u16, payload: Vec<u8>) {
    let options = MqttOptions::new(format!("operator-{}", rand_suffix()), "127.0.0.1", port);
    let (client, mut connection) = Client::new(options, 10);
    client
        .publish("lockers/demo-1/commands", QoS::AtLeastOnce, false, payload)
        .unwrap();
    for event in connection.iter() {
        if let Ok(Event::Incoming(Packet::PubAck(_))) = event {
            break;
        }
    }
    let _ = client.disconnect();
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn body(id: &str, command: FleetCommand, now: i64) -> CommandBody {
    CommandBody {
        id: id.into(),
        locker: "demo-1".into(),
        issued_at: now,
        expires_at: now + 60_000,
        command,
    }
}

/// The next response on the subscriber, to command `id`.
fn response_to(
    received: &mpsc::Receiver<(String, serde_json::Value)>,
    id: Option<&str>,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (topic, message) = received.recv_timeout(left).expect("a response");
        if topic == "lockers/demo-1/responses" && message["command"].as_str() == id {
            common::check_against_schema(&message, "docs/fleet/response.schema.json");
            return message;
        }
    }
}

#[test]
fn signed_commands_are_carried_out_once_and_forged_replayed_or_expired_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let operator = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let settings = fleet_settings(broker.port, vec![operator.verifying_key().to_bytes()]);
    let received = subscriber(
        broker.port,
        "backend-2",
        &["lockers/demo-1/responses".to_string()],
    );
    let (runtime, service) = kiosk(&dir.path().join("data"), settings);
    while !service.fleet_status().connected {
        std::thread::sleep(Duration::from_millis(20));
    }
    let now = locker_kiosk::app::system::now().0;
    let send = |body: &CommandBody| {
        let envelope = sign(body, &operator);
        common::check_against_schema(
            &serde_json::to_value(&envelope).unwrap(),
            "docs/fleet/command.schema.json",
        );
        let bytes = serde_json::to_vec(&envelope).unwrap();
        publish_command(broker.port, bytes.clone());
        bytes
    };

    // A parcel announced for a new resident, with their contact.
    let resident = Resident {
        external_id: Some("r-77".into()),
        name: "Greta Gomez".into(),
        unit: Some("7G".into()),
        email: Some("greta@example.org".into()),
        phone: None,
        language: Some("es".into()),
        needs_accessible: false,
        badge: Some("STAFF-0077".into()),
    };
    let announce = body(
        "cmd-1",
        FleetCommand::AnnounceParcel {
            tracking: "FLEETANNOUNCED1".into(),
            carrier: Some("UPS".into()),
            resident,
            size: Some("M".into()),
        },
        now,
    );
    send(&announce);
    let answer = response_to(&received, Some("cmd-1"));
    assert_eq!(answer["outcome"], "applied", "{answer}");
    let parcel = common::in_store(&runtime, &service, |s| {
        s.parcels().by_tracking("FLEETANNOUNCED1").unwrap()
    })
    .expect("the parcel is announced");
    assert_eq!(parcel.status, locker_kiosk::domain::ParcelStatus::Announced);
    // Her badge is hers in the directory (its hash only); another resident
    // given the same badge is refused, and not added either.
    let impostor = Resident {
        external_id: Some("r-78".into()),
        name: "Ivo Imposter".into(),
        unit: Some("7H".into()),
        email: None,
        phone: None,
        language: None,
        needs_accessible: false,
        badge: Some("STAFF-0077".into()),
    };
    send(&body(
        "cmd-1b",
        FleetCommand::UpsertResident { resident: impostor },
        now,
    ));
    let answer = response_to(&received, Some("cmd-1b"));
    assert_eq!(answer["outcome"], "refused", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("someone else's"),
        "{answer}"
    );
    let (holder, ivo, stored) = common::in_store(&runtime, &service, |s| {
        let conn = s.connection();
        let holder: String = conn
            .query_row(
                "SELECT name FROM recipients WHERE badge_hash = code_hash('STAFF-0077')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let ivo: i64 = conn
            .query_row(
                "SELECT count(*) FROM recipients WHERE name = 'Ivo Imposter'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let stored: i64 = conn
            .query_row(
                "SELECT count(*) FROM recipients WHERE badge_hash LIKE '%STAFF-0077%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (holder, ivo, stored)
    });
    assert_eq!(holder, "Greta Gomez");
    assert_eq!(ivo, 0, "a refused resident is not added");
    assert_eq!(stored, 0, "the badge itself is not kept");

    // A remote open: the door opens, once, even when the same signed
    // command is delivered again.
    let opens = || -> usize {
        common::in_store(&runtime, &service, |s| {
            s.events()
                .recent(Some("maintenance_open"), 50)
                .unwrap()
                .len()
        })
    };
    let before = opens();
    let open = body(
        "cmd-2",
        FleetCommand::OpenDoor {
            door: 5,
            reason: "courier reports a jammed parcel".into(),
        },
        now,
    );
    let bytes = send(&open);
    let answer = response_to(&received, Some("cmd-2"));
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(opens(), before + 1);
    publish_command(broker.port, bytes);
    let replay = response_to(&received, Some("cmd-2"));
    assert_eq!(replay["outcome"], "duplicate");
    assert_eq!(
        replay["message"], answer["message"],
        "a repeat gets the first answer"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        opens(),
        before + 1,
        "a replayed command opened a door again"
    );

    // Forged (changed after signing), unsigned, signed by a stranger,
    // expired: refused, answered, audited; no door opens.
    let mut forged = sign(
        &body(
            "cmd-3",
            FleetCommand::OpenDoor {
                door: 5,
                reason: "x".into(),
            },
            now,
        ),
        &operator,
    );
    forged.body = forged.body.replace("\"door\":5", "\"door\":6");
    publish_command(broker.port, serde_json::to_vec(&forged).unwrap());
    let answer = response_to(&received, Some("cmd-3"));
    assert_eq!(answer["outcome"], "refused");
    assert!(
        answer["message"].as_str().unwrap().contains("signature"),
        "{answer}"
    );

    publish_command(broker.port, b"{\"type\":\"open_door\",\"door\":5}".to_vec());
    let answer = response_to(&received, None);
    assert_eq!(answer["outcome"], "refused");

    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let foreign = sign(
        &body(
            "cmd-4",
            FleetCommand::OpenDoor {
                door: 5,
                reason: "x".into(),
            },
            now,
        ),
        &stranger,
    );
    publish_command(broker.port, serde_json::to_vec(&foreign).unwrap());
    assert_eq!(response_to(&received, Some("cmd-4"))["outcome"], "refused");

    let mut old = body(
        "cmd-5",
        FleetCommand::OpenDoor {
            door: 5,
            reason: "x".into(),
        },
        now - 3_600_000,
    );
    old.expires_at = now - 60_000;
    send(&old);
    let answer = response_to(&received, Some("cmd-5"));
    assert_eq!(answer["outcome"], "refused");
    assert!(
        answer["message"].as_str().unwrap().contains("expired"),
        "{answer}"
    );
    assert_eq!(opens(), before + 1, "a refused command opened a door");

    // The audit log has each, the refusals by what they were.
    let audited = common::in_store(&runtime, &service, |s| {
        s.events().recent(Some("fleet_command"), 20).unwrap()
    });
    assert_eq!(audited.len(), 7, "two applied, five refused: {audited:?}");
    assert_eq!(
        audited
            .iter()
            .filter(|e| e.detail["outcome"] == "refused")
            .count(),
        5
    );
}

#[test]
fn the_operator_command_line_makes_a_key_sends_a_signed_command_and_watches() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let key_file = dir.path().join("operator.key");
    let keygen = common::binary()
        .args(["operator", "keygen", "--out"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let public = String::from_utf8(keygen.stdout).unwrap();
    use base64::Engine;
    let public: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(public.trim())
        .unwrap()
        .try_into()
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut watch = common::binary()
        .args([
            "operator", "watch", "--no-tls", "--prefix", "lockers", "--broker",
        ])
        .arg(format!("127.0.0.1:{}", broker.port))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (runtime, service) = kiosk(
        &dir.path().join("data"),
        fleet_settings(broker.port, vec![public]),
    );
    while !service.fleet_status().connected {
        std::thread::sleep(Duration::from_millis(20));
    }
    let send = |command: &str| {
        common::binary()
            .args([
                "operator", "send", "demo-1", command, "--no-tls", "--prefix", "lockers",
                "--broker",
            ])
            .arg(format!("127.0.0.1:{}", broker.port))
            .arg("--key")
            .arg(&key_file)
            .output()
            .unwrap()
    };
    let sent = send(r#"{"type":"out_of_service","door":3,"reason":"door bent"}"#);
    let answer = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{answer} {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(answer.contains("\"applied\""), "{answer}");
    let state = common::in_store(&runtime, &service, |s| common::compartment_state(s, 3));
    assert!(
        matches!(
            state,
            locker_kiosk::domain::CompartmentState::OutOfService { .. }
        ),
        "{state:?}"
    );
    // The whole locker, out of service and back.
    let closed = send(r#"{"type":"locker_out_of_service","reason":"flooded"}"#);
    assert!(closed.status.success(), "{closed:?}");
    let closure = common::in_store(&runtime, &service, |s| s.staff().closure().unwrap());
    assert_eq!(closure.map(|c| c.reason).as_deref(), Some("flooded"));
    let again = send(r#"{"type":"locker_out_of_service","reason":"twice"}"#);
    assert_eq!(again.status.code(), Some(1), "out of service already");
    let back = send(r#"{"type":"locker_back_in_service"}"#);
    assert!(back.status.success(), "{back:?}");
    assert!(String::from_utf8_lossy(&back.stdout).contains("back in service after 0 minutes"));
    let closure = common::in_store(&runtime, &service, |s| s.staff().closure().unwrap());
    assert_eq!(closure, None);
    // The locker says no: exit status 1, the reason printed.
    let refused = send(r#"{"type":"open_door","door":99,"reason":"test"}"#);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("no door 99"));

    // `watch` saw the locker's state and the answers.
    std::thread::sleep(Duration::from_millis(1500));
    watch.kill().unwrap();
    watch.wait().unwrap();
    let mut seen = String::new();
    use std::io::Read;
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut seen)
        .unwrap();
    assert!(
        seen.contains("\"topic\":\"lockers/demo-1/state\""),
        "{seen}"
    );
    assert!(
        seen.contains("\"topic\":\"lockers/demo-1/responses\""),
        "{seen}"
    );
}

#[test]
fn fleet_sim_runs_locker_cores_against_the_broker_and_reports_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let run = common::binary()
        .args([
            "fleet-sim",
            "--lockers",
            "3",
            "--rate",
            "6",
            "--seconds",
            "2",
            "--broker",
        ])
        .arg(format!("127.0.0.1:{}", broker.port))
        .arg("--dir")
        .arg(dir.path().join("lockers"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(report["drained"], true, "{out}");
    assert_eq!(report["lockers"], 3);
    // Each deposit: deposited, the message, the message's handover to
    // the fleet, collected; and every event written arrived. A locker's
    // own events (a board's first answer, late on a loaded machine) may
    // fall in the window too.
    let written = report["events_written"].as_u64().unwrap();
    assert!((12 * 4..=12 * 4 + 6).contains(&written), "{out}");
    assert_eq!(report["events_delivered"], report["events_written"]);
    assert!(
        report["latency_p99_ms"].as_i64().unwrap() >= report["latency_p50_ms"].as_i64().unwrap()
    );
}

#[test]
fn the_link_speaks_tls_to_a_broker_with_a_private_ca_and_refuses_one_it_cannot_trust() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = common::private_ca(dir.path());
    let plain = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tls = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("tls.conf");
    std::fs::write(
        &config,
        format!(
            "user root\nper_listener_settings true\nlistener {plain} 127.0.0.1\nallow_anonymous true\nlistener {tls} 127.0.0.1\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n",
            ca.display(),
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let mut broker = Command::new("/usr/sbin/mosquitto")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", tls)).is_err() {
        assert!(Instant::now() < deadline, "mosquitto did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let received = subscriber(plain, "backend-tls", &["lockers/demo-1/status".to_string()]);

    // Trusting the private CA: connected over TLS, online.
    let mut settings = fleet_settings(tls, vec![]);
    settings.tls = true;
    settings.ca = Some(ca.clone());
    let (runtime, service) = kiosk(&dir.path().join("data"), settings.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !service.fleet_status().connected {
        assert!(
            Instant::now() < deadline,
            "no TLS connection: {:?}",
            service.fleet_status()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, status) = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(status["online"], true);
    // Gone without a word (its process stopped): the broker publishes its
    // last will.
    drop(service);
    runtime.shutdown_timeout(Duration::from_secs(1));
    let (_, status) = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the last will");
    assert_eq!(status["online"], false);
    common::check_against_schema(&status, "docs/fleet/status.schema.json");

    // Trusting only the system's roots: refused, and said why.
    settings.ca = None;
    let (_runtime, service) = kiosk(&dir.path().join("data-2"), settings);
    let deadline = Instant::now() + Duration::from_secs(10);
    let error = loop {
        if let Some(error) = service.fleet_status().last_error {
            break error;
        }
        assert!(Instant::now() < deadline, "no error said");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!service.fleet_status().connected);
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    let _ = broker.kill();
    let _ = broker.wait();
}

/// A 3-node NATS cluster with JetStream and its MQTT listener, on
/// loopback: the MQTT port of each node.
struct NatsCluster {
    nodes: Vec<Option<Child>>,
    mqtt: Vec<u16>,
}

impl NatsCluster {
    fn start(dir: &Path) -> NatsCluster {
        let port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (clients, routes, mqtt): (Vec<u16>, Vec<u16>, Vec<u16>) = (
            (0..3).map(|_| port()).collect(),
            (0..3).map(|_| port()).collect(),
            (0..3).map(|_| port()).collect(),
        );
        let mut nodes = Vec::new();
        for i in 0..3 {
            let others: Vec<String> = (0..3)
                .filter(|j| *j != i)
                .map(|j| format!("nats-route://127.0.0.1:{}", routes[j]))
                .collect();
            let config = dir.join(format!("n{i}.conf"));
            std::fs::write(
                &config,
                format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{}\njetstream {{ store_dir: \"{}/n{i}\" }}\ncluster {{ name: lockers\n listen: 127.0.0.1:{}\n routes: [{}] }}\nmqtt {{ listen: 127.0.0.1:{}\n stream_replicas: 3\n consumer_replicas: 3 }}\n",
                    clients[i],
                    dir.display(),
                    routes[i],
                    others.join(", "),
                    mqtt[i]
                ),
            )
            .unwrap();
            let child = Command::new("/usr/sbin/nats-server")
                .arg("-c")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join(format!("n{i}.log"))).unwrap())
                .spawn()
                .expect("nats-server is installed by scripts/test");
            nodes.push(Some(child));
        }
        NatsCluster { nodes, mqtt }
    }

    fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}

#[test]
fn on_a_nats_cluster_every_locker_survives_a_node_killed_mid_run_and_every_event_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = NatsCluster::start(dir.path());
    // JetStream elects its leaders first: subscribing works once it has
    // (within 10 s here; a minute and more once, on a disk kept busy by
    // another process).
    let deadline = Instant::now() + Duration::from_secs(90);
    let received = loop {
        let attempt = std::panic::catch_unwind(|| {
            subscriber(
                cluster.mqtt[2],
                "backend-cluster",
                &["lockers/+/events".to_string()],
            )
        });
        if let Ok(received) = attempt {
            break received;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never took a subscription: see {}",
            dir.path().display()
        );
        std::thread::sleep(Duration::from_millis(500));
    };

    // Six lockers, on nodes 0 and 1, each with the other nodes as its
    // fallbacks.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut lockers = Vec::new();
    for k in 0..6usize {
        let primary = k % 2;
        let mut settings = fleet_settings(cluster.mqtt[primary], vec![]);
        settings.fallbacks = (0..3)
            .filter(|n| *n != primary)
            .map(|n| ("127.0.0.1".to_string(), cluster.mqtt[n]))
            .collect();
        let mut config = Config::demo();
        config.locker.id = format!("cluster-{k}");
        config.fleet = Some(settings);
        let data = dir.path().join(format!("locker-{k}"));
        let mut store = locker_kiosk::store::Store::open(&data).unwrap();
        store
            .compartments()
            .sync_layout(&config, common::NOW)
            .unwrap();
        let service = Service::start(store, config, runtime.handle());
        let _entered = runtime.enter();
        FleetLink::new(&service).unwrap().spawn();
        lockers.push(service);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while lockers.iter().any(|l| !l.fleet_status().connected) {
        assert!(Instant::now() < deadline, "not every locker connected");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Records on every locker, with node 0 killed half-way.
    for round in 0..40 {
        if round == 20 {
            cluster.kill(0);
        }
        for service in &lockers {
            common::in_store(&runtime, service, move |s| {
                s.events()
                    .record(
                        locker_kiosk::app::system::now(),
                        &locker_kiosk::store::NewEvent::new(
                            locker_kiosk::store::Event::DefaultLanguageSet {
                                from: None,
                                to: format!("r{round}"),
                            },
                            "cli:test",
                        ),
                    )
                    .unwrap()
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while lockers.iter().map(|l| pending(&runtime, l)).sum::<u64>() > 0
        || lockers.iter().any(|l| !l.fleet_status().connected)
    {
        if Instant::now() > deadline {
            let states: Vec<String> = lockers
                .iter()
                .map(|l| format!("{:?} pending {}", l.fleet_status(), pending(&runtime, l)))
                .collect();
            let logs: Vec<String> = (1..3)
                .map(|n| {
                    std::fs::read_to_string(dir.path().join(format!("n{n}.log")))
                        .unwrap_or_default()
                })
                .map(|log| log.lines().rev().take(15).collect::<Vec<_>>().join("\n"))
                .collect();
            panic!(
                "not every locker reconnected and caught up:\n{}\nnodes 1 and 2 said (newest first):\n{}",
                states.join("\n"),
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut expected: BTreeSet<(String, i64)> = BTreeSet::new();
    for (k, service) in lockers.iter().enumerate() {
        let newest = common::in_store(&runtime, service, |s| s.events().newest_id().unwrap());
        expected.extend((1..=newest).map(|id| (format!("cluster-{k}"), id)));
    }
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !expected.is_subset(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((_, message)) = received.recv_timeout(left) else {
            let missing: Vec<_> = expected.difference(&seen).take(10).collect();
            panic!(
                "never arrived: {missing:?} ({} of {})",
                seen.len(),
                expected.len()
            );
        };
        seen.insert((
            message["locker"].as_str().unwrap().to_owned(),
            message["id"].as_i64().unwrap(),
        ));
    }
    // The lockers that were on node 0 moved to another node. (The others
    // may be dropped too, while the cluster moves its stream leaders off
    // the dead node; they are back, and nothing of theirs was lost.)
    for (k, service) in lockers.iter().enumerate().filter(|(k, _)| k % 2 == 0) {
        let status = service.fleet_status();
        let node0 = format!("127.0.0.1:{}", cluster.mqtt[0]);
        assert!(
            status.connections >= 2,
            "locker {k} never reconnected: {status:?}"
        );
        assert_ne!(status.broker.as_deref(), Some(node0.as_str()));
    }
}

#[test]
fn a_recipient_message_goes_to_the_fleet_with_its_code_which_the_locker_then_forgets() {
    use locker_kiosk::store::event::NotifiedParcel;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let received = subscriber(
        broker.port,
        "backend-3",
        &["lockers/demo-1/events".to_string()],
    );
    let (runtime, service) = kiosk(
        &dir.path().join("data"),
        fleet_settings(broker.port, vec![]),
    );
    let (code, pin) = common::in_store(&runtime, &service, |s| {
        s.recipients()
            .set_contact(
                5,
                Some("emma@example.org"),
                Some("+44 20 7946 0000"),
                Some("en"),
            )
            .unwrap();
        let now = locker_kiosk::app::system::now();
        let (_, issued) = s
            .parcels()
            .deposit(
                &common::deposit("EMMA0001", 5, 7),
                &mut locker_kiosk::app::system::OsEntropy,
                now,
            )
            .unwrap();
        let (code, _) = s.parcels().live_code_for(5).unwrap().unwrap();
        let message = locker_kiosk::store::Event::RecipientNotification {
            recipient: 5,
            name: Some("Emma Evans".into()),
            reason: None,
            expires_at: None,
            code: Some(code),
            parcels: vec![NotifiedParcel {
                tracking: "EMMA0001".into(),
                compartment: Some(7),
                item: None,
            }],
        };
        s.events()
            .record(
                now,
                &locker_kiosk::store::NewEvent::new(message, "courier:1"),
            )
            .unwrap();
        (code, issued.pin)
    });
    let message = loop {
        let (_, message) = received
            .recv_timeout(Duration::from_secs(10))
            .expect("the message");
        if message["kind"] == "recipient_notification" {
            break message;
        }
    };
    common::check_against_schema(&message, "docs/fleet/event.schema.json");
    let delivery = &message["delivery"];
    assert_eq!(delivery["pin"], pin.as_str());
    assert_eq!(delivery["email"], "emma@example.org");
    assert_eq!(delivery["phone"], "+44 20 7946 0000");
    assert!(delivery["qr"].as_str().unwrap().starts_with("LK1:demo-1:"));
    assert!(delivery["deadline"].as_str().unwrap().ends_with('Z'));
    // Acknowledged by the broker: the locker keeps only the code's hashes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::in_store(&runtime, &service, move |s| {
        s.parcels().undelivered_code(code).unwrap().is_some()
    }) {
        assert!(Instant::now() < deadline, "the code was never forgotten");
        std::thread::sleep(Duration::from_millis(20));
    }
    let notified = common::in_store(&runtime, &service, |s| {
        s.events().recent(Some("recipient_notified"), 5).unwrap()
    });
    assert_eq!(notified[0].detail["channel"], "fleet");
}

#[test]
fn the_fleets_state_names_a_locker_out_of_service_among_its_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    store
        .staff()
        .take_out_of_service("flooded", "fleet:cmd-9", common::NOW)
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, Config::demo(), runtime.handle());
    let now = locker_kiosk::app::system::now();
    let state = runtime
        .block_on(locker_kiosk::app::fleet::state_message(&service, now))
        .unwrap();
    let state = serde_json::to_value(&state).unwrap();
    common::check_against_schema(&state, "docs/fleet/state.schema.json");
    assert_eq!(
        state["alarms"],
        serde_json::json!(["locker out of service: flooded"])
    );
}
