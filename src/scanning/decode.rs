//! Barcode decoding with rxing, on 8-bit luma buffers (a camera's Y plane
//! or a grey image), never through RGB.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rxing::common::HybridBinarizer;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader, Reader,
};

/// The symbologies a parcel locker meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    Qr,
    DataMatrix,
    Code128,
    Ean13,
    Ean8,
    UpcA,
    UpcE,
    Code39,
    Itf,
    Pdf417,
}

impl Symbology {
    pub const ALL: [Symbology; 10] = [
        Symbology::Qr,
        Symbology::DataMatrix,
        Symbology::Code128,
        Symbology::Ean13,
        Symbology::Ean8,
        Symbology::UpcA,
        Symbology::UpcE,
        Symbology::Code39,
        Symbology::Itf,
        Symbology::Pdf417,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Symbology::Qr => "qr",
            Symbology::DataMatrix => "datamatrix",
            Symbology::Code128 => "code128",
            Symbology::Ean13 => "ean13",
            Symbology::Ean8 => "ean8",
            Symbology::UpcA => "upca",
            Symbology::UpcE => "upce",
            Symbology::Code39 => "code39",
            Symbology::Itf => "itf",
            Symbology::Pdf417 => "pdf417",
        }
    }

    fn format(self) -> BarcodeFormat {
        match self {
            Symbology::Qr => BarcodeFormat::QR_CODE,
            Symbology::DataMatrix => BarcodeFormat::DATA_MATRIX,
            Symbology::Code128 => BarcodeFormat::CODE_128,
            Symbology::Ean13 => BarcodeFormat::EAN_13,
            Symbology::Ean8 => BarcodeFormat::EAN_8,
            Symbology::UpcA => BarcodeFormat::UPC_A,
            Symbology::UpcE => BarcodeFormat::UPC_E,
            Symbology::Code39 => BarcodeFormat::CODE_39,
            Symbology::Itf => BarcodeFormat::ITF,
            Symbology::Pdf417 => BarcodeFormat::PDF_417,
        }
    }

    fn of(format: &BarcodeFormat) -> Option<Symbology> {
        Symbology::ALL.into_iter().find(|s| s.format() == *format)
    }
}

/// A code found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub symbology: Symbology,
    pub text: String,
    /// Whether it took the harder pass.
    pub hard_pass: bool,
}

/// Decodes frames. Keeps its rxing readers between frames.
pub struct Decoder {
    fast: DecodeHints,
    hard: DecodeHints,
    reader: MultiFormatReader,
    /// The harder pass runs only if the fast one left this much of the
    /// frame's budget.
    budget: Duration,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(&Symbology::ALL, Duration::from_millis(40))
    }
}

impl Decoder {
    pub fn new(symbologies: &[Symbology], budget: Duration) -> Decoder {
        let formats: HashSet<BarcodeFormat> = symbologies.iter().map(|s| s.format()).collect();
        let fast = DecodeHints {
            PossibleFormats: Some(formats),
            TryHarder: Some(false),
            ..DecodeHints::default()
        };
        let hard = DecodeHints {
            TryHarder: Some(true),
            ..fast.clone()
        };
        Decoder {
            fast,
            hard,
            reader: MultiFormatReader::default(),
            budget,
        }
    }

    /// The first code in an 8-bit luma frame, or `None`. A decoder panic on
    /// a strange image is contained and counts as "nothing found".
    pub fn decode(&mut self, luma: &[u8], width: u32, height: u32) -> Option<Decoded> {
        if width == 0 || height == 0 || luma.len() < (width as usize) * (height as usize) {
            return None;
        }
        let started = Instant::now();
        if let Some(found) = self.pass(luma, width, height, false) {
            return Some(found);
        }
        if started.elapsed() >= self.budget {
            return None;
        }
        self.pass(luma, width, height, true)
    }

    fn pass(&mut self, luma: &[u8], width: u32, height: u32, hard: bool) -> Option<Decoded> {
        let hints = if hard { &self.hard } else { &self.fast };
        let reader = &mut self.reader;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let source = Luma8LuminanceSource::new(luma.to_vec(), width, height).ok()?;
            let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
            reader.decode_with_hints(&mut bitmap, hints).ok()
        }));
        match result {
            Ok(Some(found)) => Some(Decoded {
                symbology: Symbology::of(found.getBarcodeFormat())?,
                text: found.getText().to_string(),
                hard_pass: hard,
            }),
            Ok(None) => None,
            Err(_) => {
                tracing::warn!(
                    width,
                    height,
                    hard,
                    "the barcode decoder panicked on a frame; skipped"
                );
                None
            }
        }
    }
}
