//! What staff screens ask of the store, on a locker with years of
//! history: 200,000 events (all still in the outbox, as on a locker with no
//! fleet link), a third of them about parcels, two hundred of them alarms,
//! and the demo's parcels.
//!
//! - the audit log's first page, unfiltered and by each filter;
//! - one compartment's history (the doors tab's details);
//! - the outbox state (asked every second on the hardware tab);
//! - the parcel list and a search (asked at every key typed).
//!
//! `cargo bench -- maintenance` for the figures; the suite's smoke run
//! uses a small store, one round.

use std::time::{Duration, Instant};

use locker_kiosk::config::Config;
use locker_kiosk::domain::Timestamp;
use locker_kiosk::store::{LogFilter, Store};

/// The whole benchmark when `full`, else its smoke run.
pub fn run(full: bool) {
    let (events, rounds) = if full { (200_000, 50) } else { (2_000, 1) };
    if !full {
        println!("smoke run: a small store, figures not comparable to the targets");
    }
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp(1_780_000_000_000);
    let mut store = Store::open(dir.path()).unwrap();
    let config = Config::demo();
    store.compartments().sync_layout(&config, now).unwrap();
    locker_kiosk::app::demo::seed(&mut store, &config, now).unwrap();
    fill_history(&store, events, now);
    println!("{events} events in the log, all waiting in the outbox (target ≤ 50 ms each)");

    let measure = |what: &str, f: &mut dyn FnMut() -> usize| {
        let mut found = f();
        let mut times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                found = f();
                started.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{what:<34} median {:>7.2} ms  p95 {:>7.2} ms  ({found} rows)",
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 95).div_ceil(100) - 1])
        );
    };
    for (name, filter) in [
        ("log page: everything", LogFilter::All),
        ("log page: staff", LogFilter::Staff),
        ("log page: doors", LogFilter::Doors),
        ("log page: parcels", LogFilter::Parcels),
        ("log page: alarms", LogFilter::Alarms),
        ("a compartment's history", LogFilter::Compartment(7)),
    ] {
        measure(name, &mut || {
            store.events().log_page(filter, None, 50).unwrap().len()
        });
    }
    measure("outbox state", &mut || {
        store.events().outbox_state().unwrap().pending as usize
    });
    measure("parcel list", &mut || {
        store.parcels().rows("", false).unwrap().len()
    });
    measure("parcel search \"BO\"", &mut || {
        store.parcels().rows("BO", false).unwrap().len()
    });
}

/// Parcels delivered and collected, doors opened and closed, a staff
/// action now and then, an alarm rarely: what a busy locker writes over
/// years.
fn fill_history(store: &Store, events: usize, now: Timestamp) {
    let conn = store.connection();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut event = conn
            .prepare(
                "INSERT INTO events (at, kind, actor, compartment, parcel_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut outbox = conn
            .prepare("INSERT INTO outbox (event_id) VALUES (?1)")
            .unwrap();
        for i in 0..events {
            let (kind, actor, detail) = match i % 1000 {
                0 => ("left_open", "kiosk", r#"{"open_secs":130}"#),
                1 => (
                    "maintenance_open",
                    "staff:maintenance",
                    r#"{"reason":"inspection","outcome":"opened"}"#,
                ),
                n if n % 10 < 3 => (
                    "parcel_deposited",
                    "courier:1",
                    r#"{"tracking":"1Z999AA10123456784"}"#,
                ),
                n if n % 10 < 6 => (
                    "door_open_outcome",
                    "kiosk",
                    r#"{"board":"A","channel":3,"outcome":"opened"}"#,
                ),
                n if n % 2 == 0 => ("door_opened", "kiosk", r#"{"board":"A","channel":3}"#),
                _ => ("door_closed", "kiosk", r#"{"board":"A","channel":3}"#),
            };
            let compartment = (i % 24) as i64 + 1;
            let parcel = (kind == "parcel_deposited").then_some(i as i64);
            event
                .execute(rusqlite::params![
                    now.0 - (events - i) as i64 * 60_000,
                    kind,
                    actor,
                    compartment,
                    parcel,
                    detail
                ])
                .unwrap();
            outbox.execute([conn.last_insert_rowid()]).unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}
