//! The staff commands while the kiosk runs: the real binary talks to a
//! running kiosk (the service with its store and simulated boards, in
//! this process) through the control socket, and the kiosk carries the
//! command out on its own store. Garbage on the socket is answered and
//! changes nothing; a stale socket of a kiosk that is gone is no kiosk.

use crate::common;

use std::io::{BufRead, BufReader, Write};

use crate::common::staff;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};

use locker_kiosk::app::{Service, admin, control};
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::ProblemKind;
use locker_kiosk::domain::{CompartmentState, ParcelStatus};

#[test]
fn staff_commands_reach_the_running_kiosk_through_its_control_socket() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::seeded_store(dir.path());
    let report = store
        .reports()
        .add(
            ProblemKind::Missing,
            Some(2),
            None,
            "recipient",
            common::NOW,
        )
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(store, Config::demo(), runtime.handle());
    control::serve(service.clone(), dir.path(), runtime.handle()).unwrap();
    let socket = control::socket_path(dir.path());
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only the kiosk's user may connect");
    let in_store = |f: fn(&mut locker_kiosk::store::Store) -> String| -> String {
        runtime.block_on(service.call(move |s| Ok(f(s)))).unwrap()
    };
    let dir = dir.path();

    // The kiosk holds the database: the command goes through the socket.
    let (code, out, err) = staff(
        dir,
        &["compartments", "disable", "9", "--reason", "hinge"],
        "",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "compartment 9 is out of service: hinge"),
        "{err}"
    );
    let changed = in_store(|s| {
        let state = s.compartments().get(9).unwrap().unwrap().state;
        let event = &s.events().recent(Some("compartment_state"), 1).unwrap()[0];
        format!("{state:?} {}", event.actor)
    });
    let expected = CompartmentState::OutOfService {
        reason: "hinge".into(),
    };
    assert!(
        changed.starts_with(&format!("{expected:?} cli:")),
        "{changed}"
    );
    let (code, _, err) = staff(dir, &["compartments", "disable", "99", "--reason", "x"], "");
    assert_eq!(code, 1);
    assert!(err.contains("there is no compartment 99"), "{err}");

    // Parcels: listed, the expired one given two days, one marked for return.
    let (code, out, _) = staff(dir, &["parcels", "list"], "");
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 5, "a header and four parcels: {out}");
    let (_, out, _) = staff(dir, &["parcels", "list", "--expired"], "");
    assert!(
        out.contains("JD014600006281234567") && out.lines().count() == 2,
        "{out}"
    );
    let (code, out, err) = staff(
        dir,
        &["parcels", "extend", "JD014600006281234567", "--hours", "48"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("waits until") && out.contains("new deadline"),
        "{out}"
    );
    let status = in_store(|s| {
        let p = s
            .parcels()
            .by_tracking("JD014600006281234567")
            .unwrap()
            .unwrap();
        p.status.to_string()
    });
    assert_eq!(status, ParcelStatus::Deposited.to_string());
    let (code, _, err) = staff(
        dir,
        &["parcels", "extend", "JD014600006281234567", "--hours", "0"],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("1 to"), "{err}");
    let (code, _, err) = staff(
        dir,
        &[
            "parcels",
            "return",
            "1Z999AA10123456784",
            "--reason",
            "refused by the recipient",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let returning = in_store(|s| format!("{:?}", s.parcels().retrievable_for(1).unwrap()));
    assert!(returning.contains("compartment: 2"), "{returning}");

    // Reports: listed, handled, gone from the open ones.
    let (_, out, _) = staff(dir, &["reports", "list"], "");
    assert!(
        out.lines()
            .any(|l| l.contains("missing") && l.contains("recipient")),
        "{out}"
    );
    let (code, out, _) = staff(dir, &["reports", "handle", &report.to_string()], "");
    assert_eq!(
        (code, out.trim().to_string()),
        (0, format!("report {report} is handled"))
    );
    let (_, out, _) = staff(dir, &["reports", "list"], "");
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
    let (_, out, _) = staff(dir, &["reports", "list", "--all"], "");
    assert!(out.contains(" by cli:"), "{out}");

    // The admin PIN, typed twice on stdin, reaches the kiosk's store.
    let (code, out, err) = staff(dir, &["admin", "set-pin"], "4718093\n4718093\n");
    assert_eq!((code, out.trim()), (0, "admin PIN set"), "{err}");
    let opens = in_store(|s| {
        let holder = admin::check_pin(&s.staff(), &Config::demo(), "4718093").unwrap();
        format!("{holder:?}")
    });
    assert_eq!(opens, "Some(Site)");

    // The whole locker out of service and back: the running kiosk's own
    // overview (what its home screen shows) has it, and its screen is
    // told the records changed.
    let mut changes = service.watch_records();
    changes.mark_unchanged();
    let (code, out, err) = staff(
        dir,
        &["locker", "out-of-service", "--reason", "lift repairs"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("the locker is out of service: lift repairs"),
        "{out}"
    );
    assert!(changes.has_changed().unwrap(), "the screen is told");
    let overview = runtime.block_on(service.overview()).unwrap();
    let closed = overview.closed.expect("closed in the running kiosk");
    assert_eq!(closed.reason, "lift repairs");
    assert!(closed.by.starts_with("cli:"), "{}", closed.by);
    let (code, out, err) = staff(dir, &["locker", "back-in-service"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("back in service after 0 minutes (lift repairs)"),
        "{out}"
    );
    let overview = runtime.block_on(service.overview()).unwrap();
    assert_eq!(overview.closed, None);

    // Garbage on the socket is answered, and the kiosk goes on serving.
    let mut raw = UnixStream::connect(&socket).unwrap();
    raw.write_all(b"\x8a\x01\x00\x11 not json\n").unwrap();
    let mut answer = String::new();
    BufReader::new(raw).read_line(&mut answer).unwrap();
    assert!(
        answer.contains("\"error\"") && answer.contains("did not understand"),
        "{answer}"
    );
    let (code, _, _) = staff(dir, &["compartments", "enable", "9"], "");
    assert_eq!(code, 0);
}

#[test]
fn a_stale_socket_of_a_kiosk_that_is_gone_is_no_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::seeded_store(dir.path()));
    // A kiosk that died left its socket file behind.
    drop(UnixListener::bind(control::socket_path(dir.path())).unwrap());
    assert!(control::socket_path(dir.path()).exists());
    let (code, out, err) = staff(
        dir.path(),
        &["compartments", "disable", "3", "--reason", "dirty"],
        "",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "compartment 3 is out of service: dirty"),
        "{err}"
    );
}

/// The demo kiosk on `dir`, listening on its control socket.
fn serving_demo_kiosk(
    dir: &std::path::Path,
) -> (tokio::runtime::Runtime, Service, std::path::PathBuf) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let service = Service::start(common::seeded_store(dir), Config::demo(), runtime.handle());
    control::serve(service.clone(), dir, runtime.handle()).unwrap();
    (runtime, service, control::socket_path(dir))
}

#[test]
fn the_socket_names_who_connected_not_who_the_client_claims_and_idle_clients_hold_up_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, socket) = serving_demo_kiosk(dir.path());

    // Three clients connect and say nothing.
    let idle: Vec<UnixStream> = (0..3)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();

    // A forged actor, sent by hand: the kiosk names the connection's user.
    let mut forged = UnixStream::connect(&socket).unwrap();
    // Well within the kiosk's own patience with a silent client (10 s).
    forged
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let request = serde_json::json!({
        "actor": "staff:alice",
        "request": { "command": "disable-compartment", "number": 9, "reason": "hinge" },
    });
    forged.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(&forged)
        .read_line(&mut answer)
        .expect("answered while three clients sit idle");
    assert!(answer.contains("\"ok\""), "{answer}");
    let actor = runtime
        .block_on(service.call(|s| {
            Ok(s.events().recent(Some("compartment_state"), 1).unwrap()[0]
                .actor
                .clone())
        }))
        .unwrap();
    let me = locker_kiosk::app::system::account_of(unsafe { libc::getuid() }).unwrap();
    assert_eq!(actor, format!("cli:{me}"), "not staff:alice");
    drop(idle);
}

#[test]
fn three_hundred_garbled_requests_are_each_answered_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, service, socket) = serving_demo_kiosk(dir.path());
    let events = |service: &Service| {
        runtime
            .block_on(service.call(|s| Ok(s.events().recent(None, 100_000).unwrap().len())))
            .unwrap()
    };
    let before = events(&service);
    // Fixed-seed bytes (xorshift64): random bytes, and valid JSON of the
    // wrong shape, cut at a random place.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let shapes = [
        r#"{"actor":"cli:x","request":{"command":"disable-compartment","number":"nine"}}"#,
        r#"{"actor":"cli:x","request":{"command":"set-admin-pin"}}"#,
        r#"{"actor":7,"request":null}"#,
        r#"{"actor":"cli:x","request":{"command":"extend-parcel","parcel":"","hours":-3}}"#,
    ];
    for i in 0..300 {
        let mut line: Vec<u8> = if i % 2 == 0 {
            (0..(next() % 200)).map(|_| (next() % 256) as u8).collect()
        } else {
            let shape = shapes[(next() % shapes.len() as u64) as usize].as_bytes();
            shape[..(next() as usize % (shape.len() + 1))].to_vec()
        };
        line.retain(|b| *b != b'\n');
        line.push(b'\n');
        let mut raw = UnixStream::connect(&socket).unwrap();
        raw.write_all(&line).unwrap();
        let mut answer = String::new();
        BufReader::new(raw).read_line(&mut answer).unwrap();
        assert!(answer.contains("\"error\""), "request {i}: {answer}");
    }
    assert_eq!(
        events(&service),
        before,
        "nothing recorded, nothing changed"
    );
    let (code, _, err) = staff(dir.path(), &["compartments", "list"], "");
    assert_eq!(code, 0, "still serving: {err}");
}
