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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
///
/// A sink can be held shut until every flow listens: the kiosk's sources
/// start with the service, its flows a moment later, and a code already in
/// front of the camera must reach all of them, not only the first.
#[derive(Clone)]
pub struct ScanSink {
    events: broadcast::Sender<ScanEvent>,
    open: Arc<AtomicBool>,
}

impl Default for ScanSink {
    /// An open sink: every scan goes to whoever subscribed.
    fn default() -> Self {
        let sink = ScanSink::shut();
        sink.open();
        sink
    }
}

impl ScanSink {
    /// A sink that delivers nothing until [`ScanSink::open`].
    pub fn shut() -> ScanSink {
        ScanSink {
            events: broadcast::channel(64).0,
            open: Arc::new(AtomicBool::new(false)),
        }
    }

    /// From now on scans are delivered.
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
    }

    /// Hands `event` to every subscriber; whether anyone got it (the
    /// camera offers a code that nobody got again on its next frame).
    pub fn publish(&self, event: ScanEvent) -> bool {
        tracing::debug!(source = ?event.source, kind = event.payload.kind(), "scanned");
        if !self.open.load(Ordering::Acquire) {
            tracing::debug!("scan before the kiosk listens: not delivered");
            return false;
        }
        self.events.send(event).is_ok()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ScanEvent> {
        self.events.subscribe()
    }
}
