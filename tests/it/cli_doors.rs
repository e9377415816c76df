//! `locker-kiosk sim`, `doors` and `doctor` as an installer uses them, as
//! separate processes talking over a real pty.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::common::binary;

struct Sim {
    child: Child,
    stdin: ChildStdin,
}

impl Sim {
    fn start(args: &[&str], link: &Path) -> Sim {
        let mut child = binary()
            .arg("sim")
            .args(args)
            .arg("--link")
            .arg(link)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(
            first.trim().starts_with("/dev/pts/"),
            "sim printed {first:?}"
        );
        assert_eq!(std::fs::read_link(link).unwrap(), Path::new(first.trim()));
        let stdin = child.stdin.take().unwrap();
        Sim { child, stdin }
    }

    fn say(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn bare(cmd: &mut Command, link: &Path, protocol: &str, board: &str) {
    cmd.arg("--port").arg(link).args([
        "--protocol",
        protocol,
        "--board",
        board,
        "--channels",
        "12",
    ]);
}

#[test]
fn a_bare_board_can_be_checked_and_opened_without_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyLOCK");
    let mut sim = Sim::start(
        &[
            "--protocol",
            "kerong-cu",
            "--channels",
            "12",
            "--first-address",
            "3",
            "--jam",
            "3:9",
        ],
        &link,
    );

    let mut status = binary();
    status.args(["doors", "status"]);
    bare(&mut status, &link, "kerong-cu", "3");
    let (code, out) = run(&mut status);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("online"), "{out}");
    assert!(out.contains("channel  5  closed"), "{out}");

    let mut open = binary();
    open.args(["doors", "open", "5"]);
    bare(&mut open, &link, "kerong-cu", "3");
    let (code, out) = run(&mut open);
    assert_eq!((code, out.lines().next()), (0, Some("opened")), "{out}");

    let (code, out) = run(&mut open);
    assert_eq!(
        (code, out.lines().next()),
        (0, Some("already_open")),
        "{out}"
    );

    let mut jammed = binary();
    jammed.args(["doors", "open", "9"]);
    bare(&mut jammed, &link, "kerong-cu", "3");
    let (code, out) = run(&mut jammed);
    assert_eq!((code, out.lines().next()), (1, Some("jammed")), "{out}");

    // The wrong address: nobody answers.
    let mut wrong = binary();
    wrong.args(["doors", "open", "1"]);
    bare(&mut wrong, &link, "kerong-cu", "4");
    let (code, out) = run(&mut wrong);
    assert_eq!((code, out.lines().next()), (1, Some("no_reply")), "{out}");

    sim.say("offline 3");
    let (code, out) = run(&mut status);
    assert_ne!(code, 0);
    assert!(out.contains("NO REPLY"), "{out}");
}

#[test]
fn doctor_queries_every_configured_board() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyLOCK");
    let _sim = Sim::start(
        &["--protocol", "8a", "--channels", "12", "--boards", "1"],
        &link,
    );
    let layout = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/hardware/layouts/tower-12-8a.toml"
    ))
    .unwrap()
    .replace("/dev/ttyUSB0", &link.display().to_string());
    let config = dir.path().join("locker.toml");
    std::fs::write(&config, &layout).unwrap();
    let data = dir.path().join("data");
    let doctor = || {
        run(binary()
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .arg("doctor"))
    };
    let (code, out) = doctor();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OK    lock board main: 8a at address 1, 12 channels on"),
        "{out}"
    );

    // The same locker with its board's address switches set wrong.
    std::fs::write(&config, layout.replace("address = 1", "address = 2")).unwrap();
    let (code, out) = doctor();
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("FAIL  lock board main: 8a at address 2"),
        "{out}"
    );
    assert!(out.contains("does not answer"), "{out}");
}

#[test]
fn doors_status_lists_every_compartment_of_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(binary()
        .args(["--demo", "--data-dir"])
        .arg(dir.path())
        .args(["doors", "status"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.trim_end().ends_with("closed"))
            .count(),
        24,
        "{out}"
    );
    let (code, out) = run(binary()
        .args(["--demo", "--data-dir"])
        .arg(dir.path())
        .args(["doors", "open", "7"]));
    assert_eq!((code, out.lines().next()), (0, Some("opened")), "{out}");
}
