//! `locker-kiosk operator …`: the fleet's side of the contract, so that
//! it can be used before a backend exists. `keygen` makes an operator
//! key; `send` signs a command, publishes it to one locker and waits for
//! its answer; `watch` prints what every locker on the broker publishes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use rumqttc::{Client, Event, Packet, QoS};

use crate::app::fleet::mqtt_options;
use crate::config::FleetSettings;
use crate::fleet::command::CommandBody;
use crate::fleet::{Command, Topics, sign};

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Make an operator key: the private key into FILE (0600), the public key printed for the lockers' `[fleet] operator_keys`
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign COMMAND (JSON, e.g. '{"type":"open_door","door":5,"reason":"jammed"}'), send it to LOCKER, print the answer; exit 0 only if it was applied
    Send {
        locker: String,
        command: String,
        #[command(flatten)]
        broker: BrokerArgs,
        /// The operator's private key (from `operator keygen`)
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// How long the command stays valid, in seconds (at most a day)
        #[arg(long, default_value_t = 600)]
        valid_for: u32,
        /// How long to wait for the answer, in seconds
        #[arg(long, default_value_t = 30)]
        wait: u32,
    },
    /// Print every locker's events, state, status, heartbeats and answers as they arrive (one JSON line each)
    Watch {
        #[command(flatten)]
        broker: BrokerArgs,
    },
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// The broker, HOST or HOST:PORT
    #[arg(long, default_value = "127.0.0.1")]
    broker: String,
    /// Without TLS (port 1883 unless given)
    #[arg(long)]
    no_tls: bool,
    /// The CA of the broker's certificate (PEM), else the system's roots
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// A file of two lines: user name, password
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// The lockers' topic prefix
    #[arg(long, default_value = "locker-kiosk")]
    prefix: String,
}

impl BrokerArgs {
    fn settings(&self) -> Result<FleetSettings, String> {
        let tls = !self.no_tls;
        let (host, port) = match self.broker.rsplit_once(':') {
            Some((host, port)) => (
                host.to_owned(),
                port.parse()
                    .map_err(|_| format!("`{port}` is not a port"))?,
            ),
            None => (self.broker.clone(), if tls { 8883 } else { 1883 }),
        };
        Ok(FleetSettings {
            broker: host,
            port,
            tls,
            ca: self.ca.clone(),
            client_cert: None,
            credentials: self.credentials.clone(),
            topic_prefix: self.prefix.clone(),
            fallbacks: Vec::new(),
            operator_keys: Vec::new(),
            heartbeat: Duration::from_secs(60),
            outbox_limit: 100_000,
        })
    }
}

pub fn operator(command: &OperatorCommand) -> ExitCode {
    let result = match command {
        OperatorCommand::Keygen { out } => keygen(out),
        OperatorCommand::Send {
            locker,
            command,
            broker,
            key,
            valid_for,
            wait,
        } => send(locker, command, broker, key, *valid_for, *wait),
        OperatorCommand::Watch { broker } => watch(broker),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("locker-kiosk operator: {message}");
            ExitCode::FAILURE
        }
    }
}

fn keygen(out: &Path) -> Result<ExitCode, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    writeln!(file, "{}", B64.encode(seed)).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{}", B64.encode(key.verifying_key().as_bytes()));
    eprintln!(
        "private key in {} (keep it there); the line above is its public key: put it in each locker's [fleet] operator_keys",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_key(path: &Path) -> Result<SigningKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let seed = B64
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            format!(
                "{} is not an operator key (from `operator keygen`)",
                path.display()
            )
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn send(
    locker: &str,
    command: &str,
    broker: &BrokerArgs,
    key: &Path,
    valid_for: u32,
    wait: u32,
) -> Result<ExitCode, String> {
    let command: Command =
        serde_json::from_str(command).map_err(|e| format!("the command: {e}"))?;
    let key = read_key(key)?;
    let settings = broker.settings()?;
    let now = crate::app::system::now().0;
    let mut id_bytes = [0u8; 8];
    getrandom::fill(&mut id_bytes).map_err(|e| format!("no randomness: {e}"))?;
    let body = CommandBody {
        id: format!("op-{now}-{:016x}", u64::from_le_bytes(id_bytes)),
        locker: locker.into(),
        issued_at: now,
        expires_at: now + i64::from(valid_for.min(24 * 3600)) * 1000,
        command,
    };
    let envelope = serde_json::to_vec(&sign(&body, &key)).expect("a command serialises");
    let topics = Topics::new(&settings.topic_prefix, locker);
    let options = mqtt_options(
        &settings,
        (&settings.broker, settings.port),
        &format!("operator-{}", body.id),
        None,
    )?;
    let (client, mut connection) = Client::new(options, 10);
    let deadline = std::time::Instant::now() + Duration::from_secs(u64::from(wait));
    let mut published = false;
    for event in connection.iter() {
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "no answer from {locker} within {wait} s (is it online?)"
            ));
        }
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                client
                    .subscribe(topics.responses(), QoS::AtLeastOnce)
                    .map_err(|e| e.to_string())?;
            }
            Ok(Event::Incoming(Packet::SubAck(_))) if !published => {
                client
                    .publish(topics.commands(), QoS::AtLeastOnce, false, envelope.clone())
                    .map_err(|e| e.to_string())?;
                published = true;
                eprintln!("sent {} to {locker}; waiting for its answer", body.id);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let answer: serde_json::Value =
                    serde_json::from_slice(&p.payload).unwrap_or_default();
                if answer["command"].as_str() == Some(body.id.as_str()) {
                    println!("{answer}");
                    let _ = client.disconnect();
                    return Ok(if answer["outcome"] == "applied" {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    });
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "the broker {}:{}: {e}",
                    settings.broker, settings.port
                ));
            }
        }
    }
    Err("the connection ended before an answer came".into())
}

fn watch(broker: &BrokerArgs) -> Result<ExitCode, String> {
    let settings = broker.settings()?;
    let options = mqtt_options(
        &settings,
        (&settings.broker, settings.port),
        &format!("operator-watch-{}", std::process::id()),
        None,
    )?;
    let (client, mut connection) = Client::new(options, 100);
    for event in connection.iter() {
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                for topic in Topics::all_lockers(&settings.topic_prefix) {
                    client
                        .subscribe(topic, QoS::AtLeastOnce)
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let message: serde_json::Value =
                    serde_json::from_slice(&p.payload).unwrap_or_else(|_| {
                        serde_json::Value::String(String::from_utf8_lossy(&p.payload).into())
                    });
                println!(
                    "{}",
                    serde_json::json!({ "topic": p.topic, "message": message })
                );
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("locker-kiosk operator: the broker: {e}; connecting again");
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
