//! The real binary, run as a staff member or an installer would.

use std::path::Path;

pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_locker-kiosk"))
}

/// Runs `locker-kiosk ARGS --data-dir DIR` with `stdin`.
pub fn staff(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = binary()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
