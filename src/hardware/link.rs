//! The byte pipe under a bus: a serial port, or simulated boards.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, SerialPort, StopBits};

use crate::config::Parity;

/// The time one byte takes on the wire at `baud` with 8N1 framing
/// (10 bits: start, 8 data, stop).
pub fn char_time(baud: u32) -> Duration {
    Duration::from_nanos(10_000_000_000 / u64::from(baud.max(1)))
}

pub trait Link: Send {
    /// Writes all bytes and waits until they are handed to the line.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Whatever arrives within `timeout`; `Ok(0)` when nothing did.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;

    /// Drops bytes received but not yet read (stale replies, line noise).
    fn discard_input(&mut self) -> io::Result<()>;

    /// For messages: the port's path.
    fn describe(&self) -> String;
}

/// A serial port in raw mode: 8 data bits, 1 stop bit, no flow control of
/// any kind (XON/XOFF would swallow 0x11 and 0x13, which occur in frames).
pub struct SerialLink {
    port: Box<dyn SerialPort>,
    name: String,
}

impl SerialLink {
    pub fn open(path: &Path, baud: u32, parity: Parity) -> io::Result<SerialLink> {
        let name = path.display().to_string();
        let port = serialport::new(name.clone(), baud)
            .data_bits(DataBits::Eight)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .parity(match parity {
                Parity::None => serialport::Parity::None,
                Parity::Even => serialport::Parity::Even,
                Parity::Odd => serialport::Parity::Odd,
            })
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| {
                let text = e.description.to_lowercase();
                let hint = if text.contains("lock") || text.contains("busy") {
                    ": another program (a running kiosk?) has it open"
                } else if !path.exists() {
                    ": no such device; is the adapter plugged in?"
                } else if matches!(
                    e.kind(),
                    serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied)
                ) {
                    ": permission denied; add the kiosk's user to the dialout group"
                } else {
                    ""
                };
                io::Error::other(format!("cannot open {name}: {}{hint}", e.description))
            })?;
        Ok(SerialLink { port, name })
    }
}

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(io::Error::other)?;
        match self.port.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn discard_input(&mut self) -> io::Result<()> {
        self.port
            .clear(ClearBuffer::Input)
            .map_err(io::Error::other)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
