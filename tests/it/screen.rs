//! The kiosk on a real X server (Xvfb) with no window manager, as on a panel
//! that runs a bare X session.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::binary;

/// Kills the child when the test ends, passed or failed.
pub(crate) struct Reaped(pub(crate) Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a display number it picks itself; returns it and `:N`.
pub(crate) fn bare_x_server(width: u32, height: u32) -> (Reaped, String) {
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
        .arg(format!("{width}x{height}x24"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is missing: scripts/test installs the xvfb package");
    let mut number = String::new();
    std::io::BufReader::new(xvfb.stdout.take().unwrap())
        .read_line(&mut number)
        .unwrap();
    assert!(!number.trim().is_empty(), "Xvfb named no display");
    (Reaped(xvfb), format!(":{}", number.trim()))
}

/// The geometry (`WxH+X+Y`) of the top-level window titled `title`.
pub(crate) fn window_geometry(display: &str, title: &str) -> Option<String> {
    let out = Command::new("xwininfo")
        .args(["-root", "-children", "-display", display])
        .output()
        .expect("xwininfo is missing: scripts/test installs x11-utils");
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = listing
        .lines()
        .find(|line| line.contains(&format!("\"{title}\"")))?;
    line.split_whitespace()
        .find(|word| word.contains('x') && word.contains('+') && !word.starts_with("0x"))
        .map(str::to_owned)
}

/// The demo kiosk on `display`, with `args`; its log goes to `data/log`.
fn kiosk_on(display: &str, data: &std::path::Path, args: &[&str]) -> Reaped {
    kiosk_with(binary(), display, data, args)
}

/// The same, started by `command` (the binary, or a shell that becomes it).
fn kiosk_with(
    mut command: Command,
    display: &str,
    data: &std::path::Path,
    args: &[&str],
) -> Reaped {
    let log = std::fs::File::create(data.join("log")).unwrap();
    let kiosk = command
        .arg("--demo")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("SLINT_BACKEND")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Reaped(kiosk)
}

#[test]
fn the_kiosk_fills_the_screen_without_a_window_manager() {
    let (_x, display) = bare_x_server(1024, 600);
    let dir = tempfile::tempdir().unwrap();
    let _kiosk = kiosk_on(&display, dir.path(), &[]);
    let started = Instant::now();
    let mut seen = None;
    while started.elapsed() < Duration::from_secs(60) {
        seen = window_geometry(&display, "locker-kiosk");
        if seen.as_deref() == Some("1024x600+0+0") {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the kiosk's window is {seen:?}, not the whole 1024x600 screen");
}

#[test]
fn windowed_keeps_a_window_for_development() {
    let (_x, display) = bare_x_server(1024, 600);
    let dir = tempfile::tempdir().unwrap();
    let _kiosk = kiosk_on(&display, dir.path(), &["--windowed"]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(geometry) = window_geometry(&display, "locker-kiosk") {
            // Give a wrong full-screen request the time to arrive.
            std::thread::sleep(Duration::from_millis(500));
            let geometry = window_geometry(&display, "locker-kiosk").unwrap_or(geometry);
            assert!(!geometry.starts_with("1024x600"), "{geometry}");
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the kiosk showed no window");
}

#[test]
fn sigterm_stops_the_kiosk_cleanly() {
    let (_x, display) = bare_x_server(1024, 600);
    let dir = tempfile::tempdir().unwrap();
    let mut kiosk = kiosk_on(&display, dir.path(), &[]);
    let started = Instant::now();
    while window_geometry(&display, "locker-kiosk").is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "no window");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(kiosk.0.id() as i32, libc::SIGTERM) };
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = kiosk.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("stopping: the visit on screen ends with its records"),
        "{log}"
    );
}

/// What the kiosk tells systemd (`Type=notify`), heard on a socket of the
/// test's own in systemd's place: READY once the window is drawn, the
/// watchdog's heartbeats from the UI's event loop (they stop while only
/// that thread is frozen, and come back after), STOPPING on SIGTERM.
/// tests/it/package.rs shows a real systemd restarting a frozen kiosk.
#[test]
fn systemd_hears_ready_after_the_first_frame_and_heartbeats_from_the_screen() {
    use std::os::unix::net::UnixDatagram;
    let (_x, display) = bare_x_server(1024, 600);
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let next = |within: Duration| -> Option<String> {
        let started = Instant::now();
        let mut buffer = [0u8; 4096];
        while started.elapsed() < within {
            if let Ok(n) = socket.recv(&mut buffer) {
                return Some(String::from_utf8_lossy(&buffer[..n]).into_owned());
            }
        }
        None
    };
    let data = dir.path();
    // As systemd does: WATCHDOG_PID names the kiosk's process (the shell
    // becomes it).
    let mut command = Command::new("sh");
    command
        .args(["-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_locker-kiosk"))
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000");
    let mut kiosk = kiosk_with(command, &display, data, &[]);
    let log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();

    let first = next(Duration::from_secs(60)).unwrap_or_else(|| panic!("no READY\n{}", log()));
    assert!(first.contains("READY=1"), "{first}");
    assert!(first.contains("STATUS=showing locker demo-1"), "{first}");
    assert!(
        window_geometry(&display, "locker-kiosk").is_some(),
        "READY before the window was there"
    );
    let beats = |over: Duration| {
        let started = Instant::now();
        let mut count = 0;
        while started.elapsed() < over {
            if next(Duration::from_millis(50)).is_some_and(|m| m.contains("WATCHDOG=1")) {
                count += 1;
            }
        }
        count
    };
    // Every 200 ms (half of WATCHDOG_USEC).
    let running = beats(Duration::from_millis(1500));
    assert!(running >= 3, "{running} heartbeats in 1.5 s\n{}", log());

    // Only the UI's thread (the main thread) stops: the service's threads
    // go on, and answer a staff command on the control socket.
    let frozen = crate::common::FrozenThread::freeze(kiosk.0.id() as i32);
    while next(Duration::from_millis(100)).is_some() {}
    let (code, out, err) = crate::common::staff(data, &["parcels", "list"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Alice"), "{out}");
    assert_eq!(
        beats(Duration::from_millis(1200)),
        0,
        "heartbeats from a frozen screen"
    );
    drop(frozen);
    assert!(
        beats(Duration::from_millis(1200)) >= 2,
        "no heartbeats after the thaw"
    );

    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(kiosk.0.id() as i32, libc::SIGTERM) };
    let mut stopping = false;
    while let Some(message) = next(Duration::from_secs(10)) {
        if message.contains("STOPPING=1") {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING after SIGTERM\n{}", log());
    let status = kiosk.0.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", log());
}
