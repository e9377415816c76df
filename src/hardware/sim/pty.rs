//! Serves simulated boards on a pseudo-terminal, so that the kiosk's real
//! serial code talks to them exactly as to a USB/RS-485 adapter.
//!
//! A pty has no baud rate, so the server paces like a line would: it waits
//! the request's own wire time before answering, and sends the reply one
//! character time per byte (10 bits a byte at 8N1).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

use super::SharedSim;
use crate::hardware::link::char_time;

pub struct PtyServer {
    master: TTYPort,
    // Kept open so that the master never sees a hang-up between clients.
    _slave: TTYPort,
    path: PathBuf,
    link: Option<PathBuf>,
}

impl PtyServer {
    /// Creates the pty; with `link`, also a symlink to it at that path.
    pub fn create(link: Option<&Path>) -> io::Result<PtyServer> {
        // No locks on either end: the client takes its own exclusive lock.
        let (master, slave) = TTYPort::pair().map_err(io::Error::other)?;
        let path = PathBuf::from(
            slave
                .name()
                .ok_or_else(|| io::Error::other("the pty has no name"))?,
        );
        if let Some(link) = link {
            if link.symlink_metadata().is_ok() {
                std::fs::remove_file(link)?;
            }
            std::os::unix::fs::symlink(&path, link)?;
        }
        Ok(PtyServer {
            master,
            _slave: slave,
            path,
            link: link.map(Path::to_path_buf),
        })
    }

    /// The device path clients open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Answers requests until `stop` is set.
    pub fn serve(mut self, sim: SharedSim, baud: u32, stop: Arc<AtomicBool>) -> io::Result<()> {
        let byte_time = char_time(baud);
        let mut buf = [0u8; 256];
        self.master
            .set_timeout(Duration::from_millis(5))
            .map_err(io::Error::other)?;
        while !stop.load(Ordering::Relaxed) {
            let n = match self.master.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => return Err(e),
            };
            let received = Instant::now();
            let outputs = {
                let mut sim = sim
                    .lock()
                    .map_err(|_| io::Error::other("simulator poisoned"))?;
                if n == 0 {
                    sim.tick(received);
                    continue;
                }
                sim.receive(&buf[..n], received)
            };
            // The request's last byte would reach a real board only after
            // its wire time.
            let mut at = received + byte_time * n as u32;
            for output in outputs {
                at += output.delay;
                for byte in output.bytes {
                    sleep_until(at);
                    self.master.write_all(&[byte])?;
                    at += byte_time;
                }
            }
            sleep_until(at);
        }
        Ok(())
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}
