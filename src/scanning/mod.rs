//! Scanning: decoding barcodes from frames, and recognising what was
//! scanned (our pickup QR, a courier badge, a parcel's tracking number).
//!
//! - `decode`: rxing on luma buffers: a fast pass on every frame, a harder
//!   pass only when the fast one finds nothing, a decoder panic contained;
//! - `payload`: what a scanned text means, with check digits verified.
//!
//! Camera and scanner frame sources come with the rest of the scanning work.

pub mod camera;
pub mod decode;
pub mod payload;

pub use decode::{Decoded, Decoder, Symbology};
pub use payload::{Payload, TrackingNumber, TrackingProblem, check_tracking, recognise};
