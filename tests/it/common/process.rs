//! The real binary, run as a staff member or an installer would.

use std::path::Path;

pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_locker-kiosk"))
}

/// The PIN a staff command printed ("… with the code 123456 …").
pub fn printed_code(out: &str) -> String {
    out.split("with the code ")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in: {out}"))
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
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

/// One thread of another process stopped through ptrace (SEIZE, then
/// INTERRUPT): the process's other threads go on. Dropping it lets the
/// thread go on, unless its process died meanwhile. Needs root (or
/// CAP_SYS_PTRACE); every call is made from the thread that froze it, as
/// ptrace requires.
pub struct FrozenThread {
    tid: i32,
    gone: bool,
}

impl FrozenThread {
    pub fn freeze(tid: i32) -> FrozenThread {
        let os_error = || std::io::Error::last_os_error();
        // SAFETY: ptrace and waitpid on a thread id, with no pointers in.
        unsafe {
            let seized = libc::ptrace(libc::PTRACE_SEIZE, tid, 0, 0);
            assert_eq!(seized, 0, "PTRACE_SEIZE {tid}: {}", os_error());
            let interrupted = libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0);
            assert_eq!(interrupted, 0, "PTRACE_INTERRUPT {tid}: {}", os_error());
            let mut status = 0;
            let waited = libc::waitpid(tid, &mut status, libc::__WALL);
            assert_eq!(waited, tid, "waiting for {tid} to stop: {}", os_error());
        }
        FrozenThread { tid, gone: false }
    }

    /// Waits up to `limit` for the thread's process to be killed (a
    /// signal that ends it is let through; any other is held back), and
    /// hands its end on to its parent. True if it ended.
    pub fn wait_until_killed(&mut self, limit: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            let mut status = 0;
            // SAFETY: as in `freeze`.
            let waited =
                unsafe { libc::waitpid(self.tid, &mut status, libc::__WALL | libc::WNOHANG) };
            if waited == self.tid {
                if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                    self.gone = true;
                    return true;
                }
                if libc::WIFSTOPPED(status) {
                    let signal = libc::WSTOPSIG(status);
                    if [libc::SIGABRT, libc::SIGKILL, libc::SIGSEGV].contains(&signal) {
                        // SAFETY: as in `freeze`.
                        unsafe { libc::ptrace(libc::PTRACE_CONT, self.tid, 0, signal) };
                    }
                }
            } else if waited < 0 {
                // Not ours to wait for any more: it has gone.
                self.gone = true;
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for FrozenThread {
    fn drop(&mut self) {
        if !self.gone {
            // SAFETY: as in `freeze`; the thread goes on.
            unsafe { libc::ptrace(libc::PTRACE_DETACH, self.tid, 0, 0) };
        }
    }
}
