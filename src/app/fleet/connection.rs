//! One MQTT connection at a time to the configured broker, made again
//! (1 s, doubling to 30 s) whenever it drops. Each connection publishes
//! the outbox from its oldest unacknowledged event, a window at a time,
//! and records the broker's acknowledgements in the store.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, QoS, Transport,
};
use tokio::sync::{mpsc, watch};

use super::messages::{event_message, state_message};
use crate::app::{Service, system};
use crate::config::FleetSettings;
use crate::domain::Timestamp;
use crate::fleet::Topics;
use crate::fleet::wire::{HEARTBEAT_SCHEMA, HeartbeatMessage, ResponseMessage, StatusMessage};

/// Events published but not yet acknowledged, at most.
const WINDOW: usize = 100;

/// How the link stands, for the maintenance sync tab and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStatus {
    pub connected: bool,
    /// Why the last connection failed or dropped, in words.
    pub last_error: Option<String>,
    /// When the broker last acknowledged something.
    pub last_contact: Option<Timestamp>,
    /// Events the broker acknowledged since the kiosk started.
    pub acknowledged: u64,
    /// Connections made since the kiosk started (more than one: it
    /// reconnected).
    pub connections: u64,
    /// The broker connected to now or last, `host:port`.
    pub broker: Option<String>,
}

#[derive(Clone)]
pub struct FleetLink {
    service: Service,
    settings: FleetSettings,
    topics: Topics,
    status: Arc<watch::Sender<LinkStatus>>,
    started: Instant,
}

impl FleetLink {
    /// `None` when `[fleet]` is not configured.
    pub fn new(service: &Service) -> Option<FleetLink> {
        let settings = service.config().fleet.clone()?;
        let topics = Topics::new(&settings.topic_prefix, &service.config().locker.id);
        Some(FleetLink {
            service: service.clone(),
            settings,
            topics,
            status: service.fleet_status_sender(),
            started: Instant::now(),
        })
    }

    /// Runs for as long as the kiosk runs (on the current runtime).
    pub fn spawn(&self) {
        let link = self.clone();
        tokio::spawn(async move { link.run().await });
        let link = self.clone();
        tokio::spawn(async move { link.compact_forever().await });
    }

    async fn run(&self) {
        let endpoints = self.settings.endpoints();
        let mut backoff = Duration::from_secs(1);
        let mut next = 0usize;
        loop {
            let (host, port) = endpoints[next % endpoints.len()].clone();
            let began = Instant::now();
            let ended = self.session(&host, port).await;
            self.status.send_modify(|s| {
                s.connected = false;
                s.last_error = Some(ended.clone());
            });
            tracing::warn!(error = %ended, "the fleet link dropped; trying again");
            // A connection that lasted resets the wait; a cluster's other
            // nodes are tried at once, the wait grows once all failed.
            if began.elapsed() > Duration::from_secs(60) {
                backoff = Duration::from_secs(1);
            }
            next += 1;
            if next.is_multiple_of(endpoints.len()) {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// The outbox kept within its bound, also while offline.
    async fn compact_forever(&self) {
        let limit = u64::from(self.settings.outbox_limit);
        loop {
            match self.service.events(move |e| e.compact_outbox(limit)).await {
                Ok(0) => {}
                Ok(dropped) => tracing::warn!(
                    dropped,
                    "the outbox is full: door events were dropped from it (they stay in the log)"
                ),
                Err(e) => tracing::error!(error = %e, "compacting the outbox failed"),
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }

    fn options(&self, host: &str, port: u16) -> Result<MqttOptions, String> {
        let locker = &self.service.config().locker.id;
        let offline =
            serde_json::to_vec(&StatusMessage::new(locker, false)).expect("a status serialises");
        let will = LastWill::new(self.topics.status(), offline, QoS::AtLeastOnce, true);
        let mut options = mqtt_options(
            &self.settings,
            (host, port),
            &format!("locker-kiosk-{locker}"),
            Some(will),
        )?;
        options.set_inflight(WINDOW as u16 + 10);
        Ok(options)
    }

    /// One connection, until it drops: why, in words.
    async fn session(&self, host: &str, port: u16) -> String {
        let options = match self.options(host, port) {
            Ok(options) => options,
            Err(e) => return e,
        };
        let (client, mut eventloop) = AsyncClient::new(options, 4 * WINDOW);
        if let Err(e) = connected(&mut eventloop).await {
            return e;
        }
        tracing::info!(broker = %host, port, "the fleet link is up");
        self.status.send_modify(|s| {
            s.connected = true;
            s.last_error = None;
            s.connections += 1;
            s.broker = Some(format!("{host}:{port}"));
        });
        let mut session = Session::new(client);
        let (responses, mut answered) = mpsc::channel::<ResponseMessage>(32);
        let locker = self.service.config().locker.id.clone();
        if let Err(e) = session
            .client
            .try_subscribe(self.topics.commands(), QoS::AtLeastOnce)
        {
            return e.to_string();
        }
        session.publish(
            &self.topics.status(),
            &StatusMessage::new(&locker, true),
            QoS::AtLeastOnce,
            true,
        );
        let mut newest = self.service.newest_event();
        // Nothing new is only certain while nothing is on the wire: then
        // the link sleeps until an event is recorded (or five seconds pass).
        let mut idle = tokio::time::interval(Duration::from_secs(5));
        let mut busy_tick = tokio::time::interval(Duration::from_millis(20));
        busy_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heartbeat = tokio::time::interval(self.settings.heartbeat);
        loop {
            let busy = !session.acked.is_empty() || session.outstanding() > 0;
            tokio::select! {
                polled = eventloop.poll() => match polled {
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => session.sent(pkid),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => session.acknowledged(ack.pkid),
                    Ok(Event::Incoming(Packet::Publish(publish))) if publish.topic == self.topics.commands() => {
                        let (service, keys, responses) =
                            (self.service.clone(), self.settings.operator_keys.clone(), responses.clone());
                        tokio::spawn(async move {
                            let response = super::commands::handle(&service, &keys, &publish.payload, system::now()).await;
                            let _ = responses.send(response).await;
                        });
                    }
                    Ok(_) => {}
                    Err(e) => return format!("the broker {host}:{port}: {e}"),
                },
                _ = busy_tick.tick(), if busy => {
                    if let Err(e) = self.flush(&mut session).await {
                        return e;
                    }
                }
                _ = newest.changed(), if !busy => {
                    if let Err(e) = self.flush(&mut session).await {
                        return e;
                    }
                }
                _ = idle.tick() => {
                    if let Err(e) = self.flush(&mut session).await {
                        return e;
                    }
                }
                _ = heartbeat.tick() => {
                    let now = system::now();
                    let pending = self.service.events(|e| e.outbox_pending()).await.unwrap_or_default();
                    let beat = HeartbeatMessage {
                        schema: HEARTBEAT_SCHEMA.into(),
                        locker: locker.clone(),
                        at: crate::domain::rfc3339(now.0),
                        uptime_secs: self.started.elapsed().as_secs(),
                        outbox_pending: pending,
                    };
                    session.publish(&self.topics.heartbeat(), &beat, QoS::AtMostOnce, false);
                    match state_message(&self.service, now).await {
                        Ok(state) => session.publish(&self.topics.state(), &state, QoS::AtLeastOnce, true),
                        Err(e) => tracing::error!(error = %e, "the state message could not be made"),
                    }
                }
                Some(response) = answered.recv() => {
                    session.publish(&self.topics.responses(), &response, QoS::AtLeastOnce, false);
                }
            }
        }
    }

    /// Records what the broker acknowledged, then tops the window up from
    /// the outbox.
    async fn flush(&self, session: &mut Session) -> Result<(), String> {
        if !session.acked.is_empty() {
            let acked = std::mem::take(&mut session.acked);
            let count = acked.len() as u64;
            let now = system::now();
            self.service
                .events(move |e| e.outbox_sent(&acked, now))
                .await
                .map_err(|e| e.to_string())?;
            self.status.send_modify(|s| {
                s.last_contact = Some(now);
                s.acknowledged += count;
            });
        }
        let room = WINDOW.saturating_sub(session.outstanding());
        if room == 0 {
            return Ok(());
        }
        let after = session.last_queued;
        let batch = self
            .service
            .call(move |store| {
                let events = store.events().outbox_after(after, room as u32)?;
                let mut out = Vec::with_capacity(events.len());
                for (event, chain) in events {
                    let delivery = if event.kind == "recipient_notification" {
                        store.deliveries().undelivered(event.id)?
                    } else {
                        None
                    };
                    out.push((event, chain, delivery));
                }
                Ok(out)
            })
            .await
            .map_err(|e| e.to_string())?;
        let locker = &self.service.config().locker.id;
        for (event, chain, delivery) in batch {
            let message = event_message(locker, &event, &chain, delivery.as_ref());
            if !session.publish_event(&self.topics.events(), event.id, &message) {
                break;
            }
        }
        Ok(())
    }
}

/// How to reach `endpoint` (one of `settings`' brokers) as `client_id`:
/// keep-alive, packet size, credentials and TLS. Shared with `operator`.
pub fn mqtt_options(
    settings: &FleetSettings,
    endpoint: (&str, u16),
    client_id: &str,
    will: Option<LastWill>,
) -> Result<MqttOptions, String> {
    let mut options = MqttOptions::new(client_id, endpoint.0, endpoint.1);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_max_packet_size(1 << 20, 1 << 20);
    if let Some(will) = will {
        options.set_last_will(will);
    }
    if let Some(path) = &settings.credentials {
        let (user, password) = crate::notify::read_credentials(path).map_err(|e| e.to_string())?;
        options.set_credentials(user, password);
    }
    if settings.tls {
        options.set_transport(Transport::tls_with_config(tls_config(settings)?.into()));
    }
    Ok(options)
}

/// Polls until the broker accepts the connection.
async fn connected(eventloop: &mut EventLoop) -> Result<(), String> {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack)))
                if ack.code == rumqttc::ConnectReturnCode::Success =>
            {
                return Ok(());
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                return Err(format!("the broker refused the connection: {:?}", ack.code));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("cannot connect to the broker: {e}")),
        }
    }
}

/// What one connection has published and what came back.
struct Session {
    client: AsyncClient,
    /// Every publish handed to the client, in order: the outbox event it
    /// carries, if any. The client reports each as sent, in the same
    /// order, with its packet id.
    handed: VecDeque<Option<i64>>,
    /// Outbox events on the wire, by packet id.
    in_flight: HashMap<u16, i64>,
    /// Acknowledged, not yet recorded.
    acked: Vec<i64>,
    /// The newest outbox event handed to the client.
    last_queued: i64,
}

impl Session {
    fn new(client: AsyncClient) -> Session {
        Session {
            client,
            handed: VecDeque::new(),
            in_flight: HashMap::new(),
            acked: Vec::new(),
            last_queued: 0,
        }
    }

    fn outstanding(&self) -> usize {
        self.handed.iter().filter(|h| h.is_some()).count() + self.in_flight.len()
    }

    fn sent(&mut self, pkid: u16) {
        if let Some(Some(event)) = self.handed.pop_front()
            && pkid != 0
        {
            self.in_flight.insert(pkid, event);
        }
    }

    fn acknowledged(&mut self, pkid: u16) {
        if let Some(event) = self.in_flight.remove(&pkid) {
            self.acked.push(event);
        }
    }

    fn publish<T: serde::Serialize>(&mut self, topic: &str, message: &T, qos: QoS, retain: bool) {
        let payload = serde_json::to_vec(message).expect("a message serialises");
        match self.client.try_publish(topic, qos, retain, payload) {
            Ok(()) => self.handed.push_back(None),
            Err(e) => tracing::warn!(topic, error = %e, "a fleet message was not sent"),
        }
    }

    /// Hands one outbox event to the client; false when it has no room.
    fn publish_event<T: serde::Serialize>(&mut self, topic: &str, id: i64, message: &T) -> bool {
        let payload = serde_json::to_vec(message).expect("a message serialises");
        match self
            .client
            .try_publish(topic, QoS::AtLeastOnce, false, payload)
        {
            Ok(()) => {
                self.handed.push_back(Some(id));
                self.last_queued = id;
                true
            }
            Err(_) => false,
        }
    }
}

/// TLS for the broker through rustls with ring: the configured CA, else
/// the system's roots; a client certificate where the broker wants one.
fn tls_config(settings: &FleetSettings) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    match &settings.ca {
        Some(ca) => {
            for cert in CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("the fleet CA {}: {e}", ca.display()))?
            {
                let cert = cert.map_err(|e| format!("the fleet CA {}: {e}", ca.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the fleet CA {}: {e}", ca.display()))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match &settings.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect())
                .map_err(|e| format!("the fleet client certificate {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("the fleet client key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the fleet client certificate: {e}"))
        }
    }
}
