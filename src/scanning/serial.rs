//! Serial scanners (USB-CDC or UART): each scan is one line of text ending
//! in CR and/or LF. A thread per scanner reads lines and publishes them;
//! a scanner that is unplugged is reported offline and reopened in the
//! background until it is back.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use super::{ScanEvent, ScanSink, ScanSource};

/// Longer lines are noise, not a label.
const MAX_LINE: usize = 512;
const REOPEN_EVERY: Duration = Duration::from_secs(2);

pub struct SerialScanner {
    port: PathBuf,
    online: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SerialScanner {
    pub fn start(port: &Path, baud: u32, sink: ScanSink) -> SerialScanner {
        let online = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (port, online, stop) = (port.to_path_buf(), online.clone(), stop.clone());
            thread::Builder::new()
                .name("serial-scanner".into())
                .spawn(move || run(&port, baud, &sink, &online, &stop))
                .expect("spawning a scanner thread")
        };
        SerialScanner {
            port: port.to_path_buf(),
            online,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> &Path {
        &self.port
    }

    /// Whether the port is open and reading.
    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::Acquire)
    }
}

impl Drop for SerialScanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(port: &Path, baud: u32, sink: &ScanSink, online: &AtomicBool, stop: &AtomicBool) {
    let mut reported_offline = false;
    while !stop.load(Ordering::Acquire) {
        let opened = serialport::new(port.to_string_lossy(), baud)
            .timeout(Duration::from_millis(200))
            .open_native();
        let mut serial = match opened {
            Ok(serial) => serial,
            Err(e) => {
                if !reported_offline {
                    tracing::warn!(port = %port.display(), error = %e, "scanner offline; retrying in the background");
                    reported_offline = true;
                }
                online.store(false, Ordering::Release);
                sleep_unless_stopped(REOPEN_EVERY, stop);
                continue;
            }
        };
        tracing::info!(port = %port.display(), "scanner online");
        reported_offline = false;
        online.store(true, Ordering::Release);
        let mut lines = LineSplitter::default();
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Acquire) {
            match serial.read(&mut buf) {
                Ok(0) => {}
                Ok(n) => {
                    for line in lines.push(&buf[..n]) {
                        sink.publish(ScanEvent::new(line, ScanSource::Serial));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => {
                    tracing::warn!(port = %port.display(), error = %e, "scanner lost; reopening");
                    break;
                }
            }
        }
        online.store(false, Ordering::Release);
    }
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < duration && !stop.load(Ordering::Acquire) {
        thread::sleep(step);
        slept += step;
    }
}

/// Cuts a byte stream into scans at CR or LF; bytes that are not UTF-8 are
/// replaced, over-long lines dropped, blank lines ignored.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    overflowed: bool,
}

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\r' || byte == b'\n' {
                let line = std::mem::take(&mut self.pending);
                let overflowed = std::mem::take(&mut self.overflowed);
                let text = String::from_utf8_lossy(&line).trim().to_string();
                if !overflowed && !text.is_empty() {
                    lines.push(text);
                }
            } else if self.pending.len() < MAX_LINE {
                self.pending.push(byte);
            } else {
                self.overflowed = true;
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_end_in_cr_lf_or_both_and_may_arrive_in_pieces() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"LK1:demo-1:AB").is_empty());
        assert_eq!(s.push(b"C\r\n1Z99"), vec!["LK1:demo-1:ABC"]);
        assert_eq!(s.push(b"9\n\n\n"), vec!["1Z999"]);
    }

    #[test]
    fn garbage_is_harmless() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"\xff\xfeAB\r"), vec!["\u{fffd}\u{fffd}AB"]);
        let long = vec![b'7'; MAX_LINE + 10];
        assert!(s.push(&long).is_empty());
        assert!(s.push(b"\r").is_empty(), "an over-long line is dropped");
        assert_eq!(s.push(b"OK\n"), vec!["OK"]);
    }

    proptest! {
        #[test]
        fn any_bytes_split_without_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut s = LineSplitter::default();
            for chunk in chunks {
                for line in s.push(&chunk) {
                    prop_assert!(!line.is_empty() && line.len() <= MAX_LINE * 3);
                }
            }
        }
    }
}
