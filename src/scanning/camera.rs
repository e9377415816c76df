//! Frames in, scans out: a frame source (the V4L2 camera, or the replay of
//! a folder of images) feeding a decoder thread that always works on the
//! newest frame, drops stale ones, and reports each code once while it
//! stays in view (debounce).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{Decoder, ScanEvent, ScanSink, ScanSource, Symbology};

/// One 8-bit luma frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub luma: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The newest frame, waiting for the decoder. A new frame replaces one
/// not yet taken: decoding never falls behind the camera.
#[derive(Default)]
struct Slot {
    frame: Mutex<(Option<Frame>, bool)>,
    ready: Condvar,
}

/// Reports a code once, then not again while it stays in view; after
/// `hold_off` without it, it counts as new again. Remembers every code
/// recently seen, so that two codes in view taking turns in the decoder's
/// output are not reported again and again.
pub struct Debounce {
    hold_off: Duration,
    seen: HashMap<String, Instant>,
}

impl Debounce {
    pub fn new(hold_off: Duration) -> Debounce {
        Debounce {
            hold_off,
            seen: HashMap::new(),
        }
    }

    /// Whether `text`, seen at `now`, is a new scan.
    pub fn is_new(&mut self, text: &str, now: Instant) -> bool {
        let hold_off = self.hold_off;
        self.seen
            .retain(|_, last| now.duration_since(*last) <= hold_off);
        self.seen.insert(text.to_string(), now).is_none()
    }

    /// Forgets `text`: the next sight of it is new (it was not delivered).
    pub fn forget(&mut self, text: &str) {
        self.seen.remove(text);
    }
}

/// A small copy of the newest frame for the screen, mirrored so that it
/// looks like a mirror to the person in front of the camera.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub luma: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Counts frames, so that the screen redraws only new ones.
    pub serial: u64,
}

impl Preview {
    pub const WIDTH: u32 = 160;

    /// Nearest-neighbour downscale to `WIDTH` pixels wide, mirrored.
    pub fn of(frame: &Frame, serial: u64) -> Preview {
        if frame.width == 0 || frame.height == 0 {
            return Preview::default();
        }
        let width = Preview::WIDTH.min(frame.width);
        let height = (frame.height * width / frame.width).max(1);
        let mut luma = Vec::with_capacity((width * height) as usize);
        for y in 0..height {
            let source_row = (y * frame.height / height) as usize * frame.width as usize;
            for x in 0..width {
                let source_x = (frame.width - 1 - x * frame.width / width) as usize;
                luma.push(frame.luma.get(source_row + source_x).copied().unwrap_or(0));
            }
        }
        Preview {
            luma,
            width,
            height,
            serial,
        }
    }
}

pub struct Scanner {
    slot: Arc<Slot>,
    preview: Arc<Mutex<Preview>>,
    threads: Vec<thread::JoinHandle<()>>,
    status: tokio::sync::watch::Sender<CameraStatus>,
}

/// What the kiosk can say about its camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraStatus {
    Starting,
    Online,
    /// Configured but not delivering frames (unplugged, broken, busy).
    Offline,
}

impl Scanner {
    /// Starts the decoder thread; what it reads goes to `sink`.
    pub fn start(hold_off: Duration, sink: ScanSink) -> Scanner {
        let slot = Arc::new(Slot::default());
        let preview = Arc::new(Mutex::new(Preview::default()));
        let decoder_thread = {
            let (slot, preview) = (slot.clone(), preview.clone());
            thread::Builder::new()
                .name("decoder".into())
                .spawn(move || decode_loop(&slot, &sink, hold_off, &preview))
                .expect("spawning the decoder thread")
        };
        Scanner {
            slot,
            preview,
            threads: vec![decoder_thread],
            status: tokio::sync::watch::channel(CameraStatus::Starting).0,
        }
    }

    /// The latest small, mirrored picture of what the camera sees.
    pub fn preview(&self) -> Preview {
        self.preview.lock().unwrap().clone()
    }

    /// The camera's status, and its changes.
    pub fn status(&self) -> tokio::sync::watch::Receiver<CameraStatus> {
        self.status.subscribe()
    }

    /// Captures from a V4L2 camera (`/dev/videoN`, or a udev link to one)
    /// at about `width` x `height` and `fps`, reopening it when it is lost.
    pub fn camera(&mut self, device: &Path, width: u32, height: u32, fps: u32) {
        let (slot, status, device) = (self.slot.clone(), self.status.clone(), device.to_path_buf());
        let thread = thread::Builder::new()
            .name("camera".into())
            .spawn(move || {
                super::v4l2::capture(
                    device,
                    (width, height, fps),
                    |frame| push(&slot, frame),
                    |event| {
                        status.send_replace(match event {
                            super::v4l2::CameraEvent::Online { .. } => CameraStatus::Online,
                            super::v4l2::CameraEvent::Offline => CameraStatus::Offline,
                        });
                    },
                    || Scanner::stopping(&slot),
                )
            })
            .expect("spawning the camera thread");
        self.threads.push(thread);
    }

    /// Whether the scanner has been asked to stop (for frame sources).
    fn stopping(slot: &Slot) -> bool {
        slot.frame.lock().unwrap().1
    }

    /// Hands a frame to the decoder, replacing any it has not taken yet.
    pub fn push(&self, frame: Frame) {
        push(&self.slot, frame);
    }

    /// Plays the images in `dir` (PNG or JPEG, in name order, looping) as
    /// frames at `fps`: for demos, tests and field debugging.
    pub fn replay(&mut self, dir: &Path, fps: u32) -> Result<usize, String> {
        let frames = load_frames(dir)?;
        let count = frames.len();
        self.status.send_replace(CameraStatus::Online);
        let slot = self.slot.clone();
        let interval = Duration::from_secs(1) / fps.max(1);
        let thread = thread::Builder::new()
            .name("replay".into())
            .spawn(move || {
                for frame in frames.iter().cycle() {
                    if Scanner::stopping(&slot) {
                        break;
                    }
                    push(&slot, frame.clone());
                    thread::sleep(interval);
                }
            })
            .expect("spawning the replay thread");
        self.threads.push(thread);
        Ok(count)
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.slot.frame.lock().unwrap().1 = true;
        self.slot.ready.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A 1D read from one frame is a claim that a second frame must back
/// before it counts: a single frame's 1D read can be a misread (part of
/// an EAN-13 read as an EAN-8, a smudge as a bar), and two frames agreeing
/// on it rarely are. 2D codes (QR, Data Matrix, PDF417) carry their own
/// error correction and count at first sight. A camera sees a held label
/// many times a second, so this costs one frame.
pub struct Confirmation {
    window: Duration,
    /// The last 1D text read and when.
    last: Option<(String, Instant)>,
}

impl Confirmation {
    pub fn new(window: Duration) -> Confirmation {
        Confirmation { window, last: None }
    }

    /// Whether `code`, read in a frame at `now`, counts now.
    pub fn counts(&mut self, text: &str, symbology: Symbology, now: Instant) -> bool {
        if symbology.is_two_dimensional() {
            return true;
        }
        let backed = self
            .last
            .as_ref()
            .is_some_and(|(last, at)| last == text && now.duration_since(*at) <= self.window);
        self.last = Some((text.to_string(), now));
        backed
    }
}

/// How long apart two frames may be and still back each other's 1D read.
const CONFIRM_WITHIN: Duration = Duration::from_millis(1500);

fn push(slot: &Slot, frame: Frame) {
    slot.frame.lock().unwrap().0 = Some(frame);
    slot.ready.notify_one();
}

/// On a scene with nothing in it, the harder pass runs on one frame in
/// this many: a few times a second at camera rates, not on every frame.
const HARD_PASS_EVERY: u32 = 4;

fn decode_loop(slot: &Slot, sink: &ScanSink, hold_off: Duration, preview: &Mutex<Preview>) {
    let mut decoder = Decoder::default();
    let mut debounce = Debounce::new(hold_off);
    let mut confirmation = Confirmation::new(CONFIRM_WITHIN);
    let mut empty_frames = 0u32;
    let mut frames_seen = 0u64;
    loop {
        let frame = {
            let mut guard = slot.frame.lock().unwrap();
            loop {
                if guard.1 {
                    return;
                }
                if let Some(frame) = guard.0.take() {
                    break frame;
                }
                guard = slot.ready.wait(guard).unwrap();
            }
        };
        frames_seen += 1;
        let small = Preview::of(&frame, frames_seen);
        *preview.lock().unwrap() = small;
        let harder = empty_frames % HARD_PASS_EVERY == HARD_PASS_EVERY - 1;
        match decoder.decode_frame(&frame.luma, frame.width, frame.height, harder) {
            Some(code) => {
                empty_frames = 0;
                let now = Instant::now();
                if confirmation.counts(&code.text, code.symbology, now)
                    && debounce.is_new(&code.text, now)
                {
                    let source = ScanSource::Camera(code.symbology);
                    let text = code.text.clone();
                    if !sink.publish(ScanEvent::new(code.text, source)) {
                        debounce.forget(&text);
                    }
                }
            }
            None => empty_frames = empty_frames.wrapping_add(1),
        }
    }
}

fn load_frames(dir: &Path) -> Result<Vec<Frame>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["png", "jpg", "jpeg"].contains(&e.to_string_lossy().to_lowercase().as_str())
            })
        })
        .collect();
    paths.sort();
    let frames: Vec<Frame> = paths
        .iter()
        .filter_map(|path| match image::open(path) {
            Ok(image) => {
                let luma = image.to_luma8();
                Some(Frame {
                    width: luma.width(),
                    height: luma.height(),
                    luma: luma.into_raw(),
                })
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "skipping an image that cannot be read");
                None
            }
        })
        .collect();
    if frames.is_empty() {
        return Err(format!("{} holds no readable images", dir.display()));
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_code_in_consecutive_frames_is_one_scan() {
        let mut debounce = Debounce::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        assert!(debounce.is_new("A", t0));
        assert!(!debounce.is_new("A", t0 + Duration::from_millis(66)));
        assert!(!debounce.is_new("A", t0 + Duration::from_millis(1400)));
        // Held in view: each sighting extends the hold-off.
        assert!(!debounce.is_new("A", t0 + Duration::from_millis(2800)));
        // Two codes in view, taking turns: each is reported once.
        assert!(debounce.is_new("B", t0 + Duration::from_millis(2900)));
        assert!(!debounce.is_new("A", t0 + Duration::from_millis(3000)));
        assert!(!debounce.is_new("B", t0 + Duration::from_millis(3100)));
        // Gone for longer than the hold-off: new again.
        assert!(debounce.is_new("A", t0 + Duration::from_millis(6000)));
    }

    #[test]
    fn a_1d_read_counts_once_a_second_frame_backs_it_and_a_qr_at_once() {
        let mut confirmation = Confirmation::new(CONFIRM_WITHIN);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(confirmation.counts("LK1:x", Symbology::Qr, t0));
        // One frame's EAN-8 (a piece of an EAN-13, say) is not a scan...
        assert!(!confirmation.counts("40123455", Symbology::Ean8, at(0)));
        // ...nor is a different read in the next frame...
        assert!(!confirmation.counts("4012345678901", Symbology::Ean13, at(66)));
        // ...but the same read again is.
        assert!(confirmation.counts("4012345678901", Symbology::Ean13, at(133)));
        // Frames too far apart back nothing.
        assert!(!confirmation.counts("JD0146", Symbology::Code128, at(1000)));
        assert!(!confirmation.counts("JD0146", Symbology::Code128, at(3000)));
    }
}

#[cfg(test)]
mod camera_tests {
    use super::*;

    #[test]
    fn the_preview_is_small_and_mirrored() {
        let frame = Frame {
            luma: (0..640 * 480)
                .map(|i| if i % 640 < 320 { 0 } else { 255 })
                .collect(),
            width: 640,
            height: 480,
        };
        let preview = Preview::of(&frame, 7);
        assert_eq!(
            (preview.width, preview.height, preview.serial),
            (160, 120, 7)
        );
        // Dark on the left of the frame is on the right of the mirror.
        assert_eq!(preview.luma[0], 255);
        assert_eq!(preview.luma[159], 0);
    }

    /// A plain QR code on a white 320x240 frame.
    fn qr_frame(text: &str) -> Frame {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let (width, height, scale) = (320u32, 240u32, 4u32);
        let modules = code.width() as u32;
        let colors = code.to_colors();
        let (left, top) = (
            (width - modules * scale) / 2,
            (height - modules * scale) / 2,
        );
        let luma = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let inside = (left..left + modules * scale).contains(&x)
                    && (top..top + modules * scale).contains(&y);
                let module = || ((y - top) / scale * modules + (x - left) / scale) as usize;
                if inside && colors[module()] == qrcode::Color::Dark {
                    20
                } else {
                    230
                }
            })
            .collect();
        Frame {
            luma,
            width,
            height,
        }
    }

    #[test]
    fn a_code_in_view_before_anyone_listens_is_delivered_once_they_do() {
        let sink = ScanSink::shut();
        let mut scans = sink.subscribe();
        let scanner = Scanner::start(Duration::from_secs(60), sink.clone());
        let frame = qr_frame("LK1:demo-1:ABCDEF");
        // Shows the code until `frames` more frames were taken in.
        let show = |frames: u64| {
            let until = scanner.preview().serial + frames;
            let deadline = Instant::now() + Duration::from_secs(10);
            while scanner.preview().serial < until && Instant::now() < deadline {
                scanner.push(frame.clone());
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        show(5);
        assert!(scans.try_recv().is_err(), "a shut sink delivered a scan");
        sink.open();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.is_empty() && Instant::now() < deadline {
            show(1);
            got.extend(std::iter::from_fn(|| scans.try_recv().ok()));
        }
        // Still in view: not again.
        show(5);
        got.extend(std::iter::from_fn(|| scans.try_recv().ok()));
        let texts: Vec<String> = got.into_iter().map(|s| s.text).collect();
        assert_eq!(texts, ["LK1:demo-1:ABCDEF"]);
    }

    #[test]
    fn a_missing_camera_is_reported_offline_and_nothing_panics() {
        let mut scanner = Scanner::start(Duration::from_millis(100), ScanSink::default());
        let mut status = scanner.status();
        scanner.camera(Path::new("/dev/video97"), 640, 480, 15);
        let deadline = Instant::now() + Duration::from_secs(5);
        while *status.borrow_and_update() != CameraStatus::Offline {
            assert!(Instant::now() < deadline, "no offline report");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Dropping stops the retries promptly.
        let dropped = Instant::now();
        drop(scanner);
        assert!(dropped.elapsed() < Duration::from_secs(1));
    }
}
