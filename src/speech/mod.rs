//! Spoken guidance: text in the session's language to speech, through
//! eSpeak NG's library (`libespeak-ng.so.1`, loaded when speech is first
//! asked for, so that a locker without it runs and says why), then to a
//! WAV for the speaker (`player.rs`). Sans UI: the words come in
//! already translated.

mod player;

use std::sync::{Mutex, OnceLock};

use libloading::{Library, Symbol};

pub use player::Speaker;

/// Sound as eSpeak makes it: mono, 16-bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub samples: Vec<i16>,
    pub rate: u32,
}

impl Pcm {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate.max(1))
    }

    /// Loudness, root mean square of the samples (0 for silence).
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.samples.iter().map(|s| f64::from(*s).powi(2)).sum();
        (sum / self.samples.len() as f64).sqrt()
    }

    /// Scaled to `volume` percent (0 to 100).
    pub fn at_volume(mut self, volume: u8) -> Pcm {
        let factor = f32::from(volume.min(100)) / 100.0;
        for sample in &mut self.samples {
            *sample = (f32::from(*sample) * factor) as i16;
        }
        self
    }

    /// As a WAV file (RIFF, PCM, 16-bit mono).
    pub fn wav(&self) -> Vec<u8> {
        let data = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&self.rate.to_le_bytes());
        out.extend_from_slice(&(self.rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data.to_le_bytes());
        for sample in &self.samples {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeechError {
    #[error("speech needs eSpeak NG (the libespeak-ng1 package), which is not installed here: {0}")]
    NoLibrary(String),
    #[error("eSpeak NG could not start (is espeak-ng-data installed?)")]
    NoStart,
    #[error("eSpeak NG has no voice for `{0}`")]
    NoVoice(String),
    #[error("eSpeak NG could not say it (error {0})")]
    Failed(i32),
}

// The few entry points of speak_lib.h that are used, as C declares them.
type Initialize = unsafe extern "C" fn(
    output: i32,
    buflength: i32,
    path: *const std::ffi::c_char,
    options: i32,
) -> i32;
type SynthCallback = unsafe extern "C" fn(*mut i16, i32, *mut std::ffi::c_void) -> i32;
type SetSynthCallback = unsafe extern "C" fn(callback: SynthCallback);
type SetVoiceByName = unsafe extern "C" fn(name: *const std::ffi::c_char) -> i32;
type SetParameter = unsafe extern "C" fn(parameter: i32, value: i32, relative: i32) -> i32;
type Synth = unsafe extern "C" fn(
    text: *const std::ffi::c_void,
    size: usize,
    position: u32,
    position_type: i32,
    end_position: u32,
    flags: u32,
    unique_identifier: *mut u32,
    user_data: *mut std::ffi::c_void,
) -> i32;

const AUDIO_OUTPUT_SYNCHRONOUS: i32 = 2;
const POS_CHARACTER: i32 = 1;
const CHARS_UTF8: u32 = 1;
const ENDPAUSE: u32 = 0x1000;
const RATE: i32 = 1;
/// A little slower than eSpeak's 175 words a minute: people at a locker
/// listen while they do something else.
const WORDS_PER_MINUTE: i32 = 150;

/// eSpeak NG, loaded once; its state is global, so one synthesis at a
/// time.
struct Engine {
    library: Library,
    rate: u32,
}

/// What the synthesis callback collects (under [`ENGINE`]'s lock).
static SAMPLES: Mutex<Vec<i16>> = Mutex::new(Vec::new());
static ENGINE: OnceLock<Result<Mutex<Engine>, SpeechError>> = OnceLock::new();

unsafe extern "C" fn collect(samples: *mut i16, count: i32, _events: *mut std::ffi::c_void) -> i32 {
    if !samples.is_null() && count > 0 {
        // SAFETY: eSpeak hands `count` samples at `samples` for this call.
        let got = unsafe { std::slice::from_raw_parts(samples, count as usize) };
        SAMPLES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(got);
    }
    0
}

fn engine() -> Result<&'static Mutex<Engine>, SpeechError> {
    ENGINE
        .get_or_init(|| {
            // SAFETY: loading eSpeak NG runs no initialisers with
            // preconditions; its functions are called below with the
            // signatures speak_lib.h declares.
            let library = unsafe { Library::new("libespeak-ng.so.1") }
                .map_err(|e| SpeechError::NoLibrary(e.to_string()))?;
            let rate = unsafe {
                let initialize: Symbol<Initialize> = library
                    .get(b"espeak_Initialize\0")
                    .map_err(|e| SpeechError::NoLibrary(e.to_string()))?;
                let rate = initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), 0);
                if rate <= 0 {
                    return Err(SpeechError::NoStart);
                }
                let set_callback: Symbol<SetSynthCallback> = library
                    .get(b"espeak_SetSynthCallback\0")
                    .map_err(|e| SpeechError::NoLibrary(e.to_string()))?;
                set_callback(collect);
                rate as u32
            };
            Ok(Mutex::new(Engine { library, rate }))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether speech can work here: the library loads and starts.
pub fn available() -> Result<(), SpeechError> {
    engine().map(|_| ())
}

/// `text` spoken in `language` (`en`, `de`, `es`: eSpeak's voice names).
pub fn synthesize(text: &str, language: &str) -> Result<Pcm, SpeechError> {
    let engine = engine()?.lock().unwrap_or_else(|p| p.into_inner());
    let voice =
        std::ffi::CString::new(language).map_err(|_| SpeechError::NoVoice(language.into()))?;
    let text = std::ffi::CString::new(text.replace('\0', " ")).unwrap_or_default();
    SAMPLES.lock().unwrap_or_else(|p| p.into_inner()).clear();
    // SAFETY: the signatures are speak_lib.h's; the strings outlive the
    // calls; the engine's lock keeps the global state to one caller.
    unsafe {
        let library = &engine.library;
        let symbol = |name: &[u8]| SpeechError::NoLibrary(String::from_utf8_lossy(name).into());
        let set_voice: Symbol<SetVoiceByName> = library
            .get(b"espeak_SetVoiceByName\0")
            .map_err(|_| symbol(b"SetVoiceByName"))?;
        if set_voice(voice.as_ptr()) != 0 {
            return Err(SpeechError::NoVoice(language.into()));
        }
        let set_parameter: Symbol<SetParameter> = library
            .get(b"espeak_SetParameter\0")
            .map_err(|_| symbol(b"SetParameter"))?;
        set_parameter(RATE, WORDS_PER_MINUTE, 0);
        let synth: Symbol<Synth> = library
            .get(b"espeak_Synth\0")
            .map_err(|_| symbol(b"Synth"))?;
        let bytes = text.as_bytes_with_nul();
        let result = synth(
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            POS_CHARACTER,
            0,
            CHARS_UTF8 | ENDPAUSE,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if result != 0 {
            return Err(SpeechError::Failed(result));
        }
    }
    let samples = std::mem::take(&mut *SAMPLES.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(Pcm {
        samples,
        rate: engine.rate,
    })
}

#[cfg(test)]
mod tests {
    use crate::speech::Pcm;

    #[test]
    fn a_wav_has_its_header_and_every_sample() {
        let pcm = Pcm {
            samples: vec![0, 1000, -1000],
            rate: 22_050,
        };
        let wav = pcm.wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 22_050);
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 6);
        assert_eq!(wav.len(), 44 + 6);
        assert_eq!(i16::from_le_bytes([wav[46], wav[47]]), 1000);
        assert_eq!(pcm.clone().at_volume(50).samples, vec![0, 500, -500]);
    }
}
