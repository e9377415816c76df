//! Barcode decoding with rxing, on 8-bit luma buffers (a camera's Y plane
//! or a grey image), never through RGB.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rxing::common::HybridBinarizer;
use rxing::datamatrix::DataMatrixReader;
use rxing::oned::MultiFormatOneDReader;
use rxing::pdf417::PDF417Reader;
use rxing::qrcode::QRCodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8LuminanceSource, RXingResult, Reader,
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

    /// The symbology's usual written name ("QR Code", "Code 128"), for
    /// staff screens.
    pub fn label(self) -> &'static str {
        match self {
            Symbology::Qr => "QR Code",
            Symbology::DataMatrix => "Data Matrix",
            Symbology::Code128 => "Code 128",
            Symbology::Ean13 => "EAN-13",
            Symbology::Ean8 => "EAN-8",
            Symbology::UpcA => "UPC-A",
            Symbology::UpcE => "UPC-E",
            Symbology::Code39 => "Code 39",
            Symbology::Itf => "ITF",
            Symbology::Pdf417 => "PDF417",
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

    fn is_one_d(self) -> bool {
        !matches!(
            self,
            Symbology::Qr | Symbology::DataMatrix | Symbology::Pdf417
        )
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
///
/// The readers run in a fixed order, QR first: a pickup QR held up to the
/// camera is the common case, and rxing's own multi-format reader tries
/// the formats in hash-set order, which made QR times vary from run to run.
///
/// The fast pass keeps to what is cheap on a frame with nothing in it (the
/// camera's common case): one QR detector, the 1D row scan, DataMatrix.
/// The harder pass adds TryHarder, rxing's second QR detector and PDF417
/// (whose detector alone costs more than the whole fast pass).
pub struct Decoder {
    fast: DecodeHints,
    hard: DecodeHints,
    formats: HashSet<BarcodeFormat>,
    one_d_fast: Option<MultiFormatOneDReader>,
    one_d_hard: Option<MultiFormatOneDReader>,
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
        let one_d = symbologies.iter().any(|s| s.is_one_d());
        Decoder {
            one_d_fast: one_d.then(|| MultiFormatOneDReader::new(&fast)),
            one_d_hard: one_d.then(|| MultiFormatOneDReader::new(&hard)),
            fast,
            hard,
            formats: symbologies.iter().map(|s| s.format()).collect(),
            budget,
        }
    }

    /// The readers in order, on one binarized bitmap (its black matrix is
    /// computed once and shared).
    fn read<B: Binarizer>(
        &mut self,
        bitmap: &mut BinaryBitmap<B>,
        hard: bool,
    ) -> Option<RXingResult> {
        let (hints, one_d) = if hard {
            (&self.hard, &mut self.one_d_hard)
        } else {
            (&self.fast, &mut self.one_d_fast)
        };
        let wants = |format| self.formats.contains(&format);
        if wants(BarcodeFormat::QR_CODE) {
            if let Ok(found) = QrReader.decode_with_hints(bitmap, hints) {
                return Some(found);
            }
            if hard && let Ok(found) = QRCodeReader.decode_with_hints(bitmap, hints) {
                return Some(found);
            }
        }
        if let Some(reader) = one_d
            && let Ok(found) = reader.decode_with_hints(bitmap, hints)
        {
            return Some(found);
        }
        if wants(BarcodeFormat::DATA_MATRIX)
            && let Ok(found) = DataMatrixReader.decode_with_hints(bitmap, hints)
        {
            return Some(found);
        }
        if hard && wants(BarcodeFormat::PDF_417) {
            return PDF417Reader.decode_with_hints(bitmap, hints).ok();
        }
        None
    }

    /// The first code in an 8-bit luma frame, or `None`. A decoder panic on
    /// a strange image is contained and counts as "nothing found".
    pub fn decode(&mut self, luma: &[u8], width: u32, height: u32) -> Option<Decoded> {
        self.decode_frame(luma, width, height, true)
    }

    /// Like [`Decoder::decode`]; `harder` allows the harder pass when the
    /// fast one finds nothing (a camera stream allows it on some frames
    /// only, to keep the CPU idle while nobody is there).
    pub fn decode_frame(
        &mut self,
        luma: &[u8],
        width: u32,
        height: u32,
        harder: bool,
    ) -> Option<Decoded> {
        if width == 0 || height == 0 || luma.len() < (width as usize) * (height as usize) {
            return None;
        }
        let started = Instant::now();
        if let Some(found) = self.pass(luma, width, height, false) {
            return Some(found);
        }
        if !harder || started.elapsed() >= self.budget {
            return None;
        }
        self.pass(luma, width, height, true)
    }

    fn pass(&mut self, luma: &[u8], width: u32, height: u32, hard: bool) -> Option<Decoded> {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let source = Luma8LuminanceSource::new(luma.to_vec(), width, height).ok()?;
            let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
            self.read(&mut bitmap, hard)
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
