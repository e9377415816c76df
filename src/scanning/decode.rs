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

    /// QR, Data Matrix and PDF417: codes with error correction of their
    /// own, unlike the 1D barcodes' single check digit (if any).
    pub fn is_two_dimensional(self) -> bool {
        matches!(
            self,
            Symbology::Qr | Symbology::DataMatrix | Symbology::Pdf417
        )
    }

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
            Ok(Some(found)) => {
                let symbology = Symbology::of(found.getBarcodeFormat())?;
                let text = found.getText().to_string();
                if !quiet_zones_clear(luma, width, height, symbology, &text, found.getPoints()) {
                    tracing::debug!(symbology = symbology.name(), %text, "a 1D read without its quiet zones: not trusted");
                    return None;
                }
                Some(Decoded {
                    symbology,
                    text,
                    hard_pass: hard,
                })
            }
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

/// How far, in modules, the outer bars must reach beyond the scan line on
/// both sides. Real bars are 20 to 70 modules tall.
const BAR_REACH_MODULES: f32 = 1.5;

/// Light modules a 1D read must show on each side of its bars. The
/// standards ask for 7 (EAN-8) to 11 (EAN-13's left), 10 for ITF; 5 keeps
/// tightly framed codes while a code read inside a longer one's bars (an
/// EAN-8 in an EAN-13, a short ITF in a long one) has bars there.
const QUIET_MODULES: f32 = 5.0;

/// Whether a 1D read has clear quiet zones on both sides along its scan
/// line, inside the frame: rxing's own checks allow as little as one
/// guard's width, which lets part of a longer code read as a valid
/// shorter one. QR, DataMatrix and PDF417 carry error correction and are
/// not checked here; nor are Code 128 and Code 39, whose readers check
/// their quiet zones themselves.
fn quiet_zones_clear(
    luma: &[u8],
    width: u32,
    height: u32,
    symbology: Symbology,
    text: &str,
    points: &[rxing::Point],
) -> bool {
    // Modules between the two points rxing gives, and from each point out
    // to the bars' outer edge (see its readers: guard centres for EAN and
    // UPC, the inner ends of start and stop for ITF).
    let (span, before, after) = match symbology {
        Symbology::Ean13 | Symbology::UpcA => (92.0, 1.5, 1.5),
        Symbology::Ean8 => (64.0, 1.5, 1.5),
        Symbology::UpcE => (46.5, 1.5, 3.0),
        Symbology::Itf => (9.0 * text.len() as f32, 4.0, 5.0),
        _ => return true,
    };
    let [first, .., last] = points else {
        return true;
    };
    let (dx, dy) = (last.x - first.x, last.y - first.y);
    // Along a row or a column (a rotated pass); anything else is not ours
    // to judge.
    let along_row = dy.abs() <= 1.0;
    if !along_row && dx.abs() > 1.0 {
        return true;
    }
    let length = if along_row { dx.abs() } else { dy.abs() };
    if length < 1.0 {
        return false;
    }
    let module = length / span;
    let (w, h) = (width as i64, height as i64);
    // Samples along the scan line, 3 lines thick; out of the frame is None.
    let pixel = |at: f32, across: i64| -> Option<u8> {
        let (x, y) = if along_row {
            (at.floor() as i64, first.y.round() as i64 + across)
        } else {
            (first.x.round() as i64 + across, at.floor() as i64)
        };
        (x >= 0 && y >= 0 && x < w && y < h).then(|| luma[(y * w + x) as usize])
    };
    let (start, end) = if along_row {
        (first.x.min(last.x), first.x.max(last.x))
    } else {
        (first.y.min(last.y), first.y.max(last.y))
    };
    // Light and dark as this code's own bars and spaces have them.
    let (mut darkest, mut lightest) = (u8::MAX, u8::MIN);
    let mut at = start;
    while at <= end {
        if let Some(v) = pixel(at, 0) {
            darkest = darkest.min(v);
            lightest = lightest.max(v);
        }
        at += 1.0;
    }
    let threshold = (u16::from(darkest) + u16::from(lightest)) / 2;
    // Light enough: 85 % of the samples (a speck of dirt is allowed).
    // A photo framed tightly may put the last modules of a zone out of
    // the frame: up to two modules' worth count as light, more do not
    // (a code cut by the frame's edge is not to be trusted).
    let zone_clear = |from: f32, to: f32| -> bool {
        let (mut light, mut all, mut outside) = (0u32, 0u32, 0u32);
        let mut at = from;
        while at < to {
            for across in -1..=1 {
                all += 1;
                match pixel(at, across) {
                    Some(v) if u16::from(v) > threshold => light += 1,
                    Some(_) => {}
                    None => outside += 1,
                }
            }
            at += 1.0;
        }
        // None for ITF: without a check digit, a code cut by the frame
        // reads as a shorter valid one.
        let allowed_outside = if symbology == Symbology::Itf {
            0
        } else {
            (2.0 * module * 3.0) as u32
        };
        all == 0 || (outside <= allowed_outside && (light + outside) * 20 >= all * 17)
    };
    let left_edge = start - before * module;
    let right_edge = end + after * module;
    // The first and last bars go on across the scan line both ways: a
    // line that leaves a tilted code through its top or bottom reads part
    // of it, and there its bars end.
    let dark = |from: f32, to: f32, across: i64| -> bool {
        let mut at = from;
        while at <= to {
            // Thin bars blur grey: darker than halfway to the paper counts.
            if pixel(at, across)
                .is_some_and(|v| u16::from(v) < (threshold + u16::from(lightest)) / 2)
            {
                return true;
            }
            at += 1.0;
        }
        false
    };
    let reach = (BAR_REACH_MODULES * module).round().max(2.0) as i64;
    // Only for the codes that part of a longer one can pass for: ITF (no
    // check digit) and the short EAN-8 and UPC-E. A full-length EAN-13 or
    // UPC-A read from part of a code fails its check digit or the quiet
    // zones, and photos with short bars keep their reads.
    let bars_go_on = !matches!(
        symbology,
        Symbology::Itf | Symbology::Ean8 | Symbology::UpcE
    ) || [-reach, reach].into_iter().all(|across| {
        dark(left_edge - 2.0 * module, left_edge + 3.0 * module, across)
            && dark(right_edge - 3.0 * module, right_edge + 2.0 * module, across)
    });
    // The module next to the bars is left out: blur smears the bar into it.
    bars_go_on
        && zone_clear(left_edge - QUIET_MODULES * module, left_edge - module)
        && zone_clear(right_edge + module, right_edge + QUIET_MODULES * module)
}
