//! Scanning: decoding barcodes from frames, and recognising what was
//! scanned (our pickup QR, a courier badge, a parcel's tracking number).
//!
//! - `decode`: rxing on luma buffers: a fast pass on every frame, a harder
//!   pass only when the fast one finds nothing, a decoder panic contained;
//! - `payload`: what a scanned text means, with check digits verified.
//!
//! - `camera`: frames in (a camera or a replayed folder), one decoder
//!   thread on the newest frame, debounce;
//! - `v4l2`: the camera through nokhwa, luma straight from the buffer;
//! - `serial`: USB-CDC and UART scanners, one line per scan;
//! - `wedge`: telling a keyboard-wedge scanner's burst from a person typing.
//!
//! Every source publishes the same [`ScanEvent`] into one [`ScanSink`].

pub mod camera;
pub mod decode;
pub mod payload;
pub mod serial;
pub mod v4l2;
pub mod wedge;

use tokio::sync::broadcast;

pub use decode::{Decoded, Decoder, Symbology};
pub use payload::{Payload, TrackingNumber, TrackingProblem, check_tracking, recognise};

/// What read a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanSource {
    Camera(Symbology),
    /// A serial (USB-CDC or UART) scanner: it does not say the symbology.
    Serial,
    /// A keyboard-wedge scanner.
    Keyboard,
}

/// Something scanned: the text read and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEvent {
    pub text: String,
    pub source: ScanSource,
    pub payload: Payload,
}

impl ScanEvent {
    pub fn new(text: String, source: ScanSource) -> ScanEvent {
        let payload = recognise(&text);
        ScanEvent {
            text,
            source,
            payload,
        }
    }
}

/// Where every scan goes, whatever read it: the flows subscribe here.
#[derive(Clone)]
pub struct ScanSink {
    events: broadcast::Sender<ScanEvent>,
}

impl Default for ScanSink {
    fn default() -> Self {
        ScanSink {
            events: broadcast::channel(64).0,
        }
    }
}

impl ScanSink {
    pub fn publish(&self, event: ScanEvent) {
        tracing::debug!(source = ?event.source, kind = event.payload.kind(), "scanned");
        let _ = self.events.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ScanEvent> {
        self.events.subscribe()
    }
}
