//! `locker-kiosk fleet-sim`: N headless locker cores in one process, each
//! with its own real store, simulated boards and the real fleet link,
//! depositing and collecting at a rate, against a broker; a subscriber in
//! the same process times each event from written to received. Prints
//! events delivered per second, end-to-end latency p50/p99, memory per
//! locker core, and whether the run kept up.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use crate::app::Service;
use crate::app::fleet::FleetLink;
use crate::app::system;
use crate::config::{Config, FleetSettings};
use crate::domain::{SizeClass, parse_rfc3339};
use crate::store::event::NotifiedParcel;
use crate::store::{Event as Record, NewDeposit, NewEvent, Store};

#[derive(Debug, Args)]
pub struct FleetSimArgs {
    /// Locker cores to run
    #[arg(long, default_value_t = 10)]
    lockers: usize,
    /// The broker, HOST:PORT (plain MQTT)
    #[arg(long, default_value = "127.0.0.1:1883")]
    broker: String,
    /// Deposits per second across the fleet; each is collected 2 s later
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// How long to deposit and collect
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Where the lockers' data directories go (each holds an 8 MiB disk reserve) [default: a temporary directory, removed after]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What the subscriber measured.
#[derive(Default)]
struct Received {
    seen: HashSet<(String, i64)>,
    latencies_ms: Vec<i64>,
    repeats: u64,
}

pub fn fleet_sim(args: &FleetSimArgs) -> ExitCode {
    // Each locker core holds its disk reserve (8 MiB): a temporary fleet
    // is removed however the run ends.
    let root = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("fleet-sim-{}", std::process::id())));
    let result = run(args, &root);
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("locker-kiosk fleet-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &FleetSimArgs, root: &std::path::Path) -> Result<(), String> {
    raise_open_files_limit();
    let (host, port) = args
        .broker
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or("--broker must be HOST:PORT")?;
    std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let prefix = format!("fleet-sim-{}", std::process::id());
    let received = Arc::new(Mutex::new(Received::default()));
    subscribe(&runtime, &host, port, &prefix, received.clone())?;

    let rss_before = rss_kib();
    let started = Instant::now();
    let mut lockers = Vec::with_capacity(args.lockers);
    for index in 0..args.lockers {
        let settings = FleetSettings {
            broker: host.clone(),
            port,
            tls: false,
            ca: None,
            client_cert: None,
            credentials: None,
            topic_prefix: prefix.clone(),
            fallbacks: Vec::new(),
            operator_keys: Vec::new(),
            heartbeat: Duration::from_secs(60),
            outbox_limit: 100_000,
        };
        lockers.push(start_locker(
            &runtime,
            &root.join(format!("{index:05}")),
            index,
            settings,
        )?);
    }
    let deadline = Instant::now() + Duration::from_secs(60 + args.lockers as u64 / 10);
    while lockers.iter().any(|l| !l.fleet_status().connected) {
        if Instant::now() > deadline {
            let up = lockers
                .iter()
                .filter(|l| l.fleet_status().connected)
                .count();
            return Err(format!("only {up} of {} lockers connected", args.lockers));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rss_running = rss_kib();
    eprintln!(
        "{} lockers up and connected in {:.1} s",
        args.lockers,
        started.elapsed().as_secs_f64()
    );
    let written_before = written(&runtime, &lockers);
    received.lock().unwrap().latencies_ms.clear();

    // The load: deposits spread over the lockers, each collected later.
    let load_started = Instant::now();
    let every = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut next = Instant::now();
    let mut made = 0usize;
    while load_started.elapsed() < Duration::from_secs(args.seconds) {
        let service = lockers[made % lockers.len()].clone();
        let tracking = format!("SIM{made:09}");
        runtime.spawn(async move {
            let parcel = deposit(&service, tracking).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            if let Some(parcel) = parcel {
                let now = system::now();
                let _ = service.parcels(move |p| p.collect(parcel, now)).await;
            }
        });
        made += 1;
        next += every;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let load_took = load_started.elapsed();
    std::thread::sleep(Duration::from_secs(3)); // the last collections
    let written_total = written(&runtime, &lockers) - written_before;

    // Drained: everything written has reached the subscriber.
    let drain_started = Instant::now();
    let drained = loop {
        let pending: u64 = lockers.iter().map(|l| pending(&runtime, l)).sum();
        let got = received.lock().unwrap().latencies_ms.len() as u64;
        if pending == 0 && got >= written_total {
            break true;
        }
        if drain_started.elapsed() > Duration::from_secs(120) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let all_took = load_started.elapsed();
    let rss_after = rss_kib();
    let mut got = received.lock().unwrap();
    got.latencies_ms.sort_unstable();
    let percentile = |p: f64| -> i64 {
        let n = got.latencies_ms.len();
        if n == 0 {
            return -1;
        }
        got.latencies_ms[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]
    };
    let delivered = got.latencies_ms.len();
    let per_locker_kib = rss_running.saturating_sub(rss_before) / args.lockers.max(1) as u64;
    println!(
        "lockers {} · deposits {made} in {:.1} s ({:.1}/s asked) · events written {written_total} · delivered {delivered} ({} repeats) in {:.1} s: {:.0} events/s · latency p50 {} ms, p99 {} ms · memory {} KiB per locker core (RSS {} MiB idle, {} MiB after) · {}",
        args.lockers,
        load_took.as_secs_f64(),
        args.rate,
        got.repeats,
        all_took.as_secs_f64(),
        delivered as f64 / all_took.as_secs_f64(),
        percentile(0.5),
        percentile(0.99),
        per_locker_kib,
        rss_running / 1024,
        rss_after / 1024,
        if drained {
            "kept up"
        } else {
            "DID NOT DRAIN within 120 s: saturated"
        },
    );
    println!(
        "{}",
        serde_json::json!({
            "lockers": args.lockers, "rate": args.rate, "seconds": args.seconds,
            "events_written": written_total, "events_delivered": delivered,
            "events_per_second": delivered as f64 / all_took.as_secs_f64(),
            "latency_p50_ms": percentile(0.5), "latency_p99_ms": percentile(0.99),
            "kib_per_locker": per_locker_kib, "drained": drained,
        })
    );
    drop(got);
    drop(lockers);
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// One locker core: the demo layout as locker `sim-NNNNN`, its store with
/// one resident, simulated boards polled every 5 s, its fleet link.
fn start_locker(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    index: usize,
    fleet: FleetSettings,
) -> Result<Service, String> {
    let mut config = Config::demo();
    config.locker.id = format!("sim-{index:05}");
    // A real locker polls its own boards on its own panel; here a thousand
    // share two cores, so their door polling is kept slow.
    config.doors.poll_interval = Duration::from_secs(5);
    config.doors.simulated_close_after = Some(Duration::from_millis(500));
    config.fleet = Some(fleet);
    let mut store = Store::open(dir).map_err(|e| e.to_string())?;
    let now = system::now();
    store
        .compartments()
        .sync_layout(&config, now)
        .map_err(|e| e.to_string())?;
    if store
        .recipients()
        .get(1)
        .map_err(|e| e.to_string())?
        .is_none()
    {
        store
            .recipients()
            .add("Sim Resident", Some("1A"), false, now)
            .map_err(|e| e.to_string())?;
    }
    let service = Service::start(store, config, runtime.handle());
    let link = FleetLink::new(&service).ok_or("no fleet settings")?;
    let _entered = runtime.enter();
    link.spawn();
    Ok(service)
}

/// A deposit as a courier's visit records it: the parcel in the first
/// free compartment and the recipient's message; its id.
async fn deposit(service: &Service, tracking: String) -> Option<i64> {
    let now = system::now();
    service
        .call(move |store| {
            let Some(free) = store
                .compartments()
                .all()?
                .into_iter()
                .find(|c| c.state == crate::domain::CompartmentState::Free)
            else {
                return Ok(None);
            };
            let deposit = NewDeposit {
                tracking: &tracking,
                carrier: None,
                recipient: 1,
                announced: None,
                compartment: free.number,
                size: SizeClass::S,
                courier: None,
                confirmed: true,
                storage_hours: 72,
                pin_length: 6,
                preset_code: None,
            };
            let (parcel, _) = store
                .parcels()
                .deposit(&deposit, &mut system::OsEntropy, now)?;
            let code = store.parcels().live_code_for(1)?.map(|(id, _)| id);
            let message = Record::RecipientNotification {
                recipient: 1,
                name: None,
                reason: None,
                expires_at: None,
                code,
                parcels: vec![NotifiedParcel {
                    tracking: tracking.clone(),
                    compartment: Some(free.number),
                    item: None,
                }],
            };
            store
                .events()
                .record(now, &NewEvent::new(message, "courier:1"))?;
            Ok(Some(parcel))
        })
        .await
        .ok()
        .flatten()
}

fn written(runtime: &tokio::runtime::Runtime, lockers: &[Service]) -> u64 {
    lockers
        .iter()
        .map(|l| {
            runtime
                .block_on(l.events(|e| e.newest_id()))
                .unwrap_or_default() as u64
        })
        .sum()
}

fn pending(runtime: &tokio::runtime::Runtime, service: &Service) -> u64 {
    runtime
        .block_on(service.events(|e| e.outbox_pending()))
        .unwrap_or_default()
}

/// Every locker's events, timed from their `at` to now.
fn subscribe(
    runtime: &tokio::runtime::Runtime,
    host: &str,
    port: u16,
    prefix: &str,
    received: Arc<Mutex<Received>>,
) -> Result<(), String> {
    let mut options = MqttOptions::new(format!("{prefix}-subscriber"), host, port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    let topic = format!("{prefix}/+/events");
    let (ready, subscribed) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.subscribe(&topic, QoS::AtLeastOnce).await;
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let now = system::now().0;
                    let Ok(message) = serde_json::from_slice::<serde_json::Value>(&p.payload)
                    else {
                        continue;
                    };
                    let (Some(id), Some(at)) = (
                        message["id"].as_i64(),
                        message["at"].as_str().and_then(parse_rfc3339),
                    ) else {
                        continue;
                    };
                    let locker = message["locker"].as_str().unwrap_or_default().to_owned();
                    let mut got = received.lock().unwrap();
                    if got.seen.insert((locker, id)) {
                        got.latencies_ms.push(now - at);
                    } else {
                        got.repeats += 1;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    subscribed
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| format!("cannot subscribe on {host}:{port}"))
}

/// The process's resident memory, KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Every locker holds a database, its journal, a lock file and a socket.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write and read only the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
