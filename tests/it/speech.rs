//! Spoken guidance's voice: eSpeak NG's library synthesises a screen's
//! outcome in each language the kiosk speaks, to a WAV of speech of a
//! sensible length (not silence), and the speaker hands that WAV to its
//! player off the caller's thread.

use std::time::{Duration, Instant};

use locker_kiosk::speech::{Speaker, synthesize};

const SAID: [(&str, &str); 3] = [
    ("en", "Door 12 is open, at the bottom left."),
    ("de", "Fach 12 ist offen, unten links."),
    ("es", "La puerta 12 está abierta, abajo a la izquierda."),
];

#[test]
fn each_language_is_spoken_as_speech_of_a_sensible_length() {
    let mut lengths = Vec::new();
    for (language, text) in SAID {
        let pcm = synthesize(text, language).unwrap_or_else(|e| panic!("{language}: {e}"));
        let seconds = pcm.seconds();
        // Six or seven words at 150 a minute, with a pause at the end.
        assert!((1.0..6.0).contains(&seconds), "{language}: {seconds:.2} s");
        assert!(pcm.rms() > 500.0, "{language}: silence ({:.0})", pcm.rms());
        // A quarter of it at least is voiced, not pauses.
        let loud = pcm
            .samples
            .iter()
            .filter(|s| s.unsigned_abs() > 1000)
            .count();
        assert!(
            loud * 4 > pcm.samples.len() / 4,
            "{language}: {loud} loud samples"
        );
        lengths.push((language, seconds, pcm.samples.clone()));
    }
    assert_ne!(lengths[0].2, lengths[1].2, "German is not English");
    // A longer prompt takes longer to say.
    let long = synthesize(
        "Door 12 is open, at the bottom left. Take your parcel and close the door, please.",
        "en",
    )
    .unwrap();
    assert!(
        long.seconds() > lengths[0].1 + 1.0,
        "{:.2} s",
        long.seconds()
    );
    // Volume scales it; zero is silence.
    let quiet = synthesize(SAID[0].1, "en").unwrap().at_volume(0);
    assert_eq!(quiet.rms(), 0.0);
    assert!(synthesize("x", "no-such-voice").is_err());
}

#[test]
fn the_speaker_plays_the_newest_prompt_as_a_wav_off_the_callers_thread() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("played.wav");
    let player = vec![
        "sh".to_string(),
        "-c".to_string(),
        format!("cat > {}", out.display()),
    ];
    let speaker = Speaker::start(80, player);
    let asked = Instant::now();
    speaker.say(SAID[1].1, "de");
    assert!(
        asked.elapsed() < Duration::from_millis(50),
        "say() does not wait"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let wav = loop {
        let wav = std::fs::read(&out).unwrap_or_default();
        if wav.len() > 44
            && wav.len() as u32 == 8 + u32::from_le_bytes(wav[4..8].try_into().unwrap())
        {
            break wav;
        }
        assert!(Instant::now() < deadline, "nothing played");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..12], b"WAVE");
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
    let seconds = (wav.len() - 44) as f64 / 2.0 / f64::from(rate);
    assert!((1.0..6.0).contains(&seconds), "{seconds:.2} s");
}

/// The WAVs the kiosk's test player wrote, oldest first.
fn played(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .filter(|wav| {
            wav.len() > 44
                && wav.len() as u32 == 8 + u32::from_le_bytes(wav[4..8].try_into().unwrap())
        })
        .collect()
}

fn seconds(wav: &[u8]) -> f64 {
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
    (wav.len() - 44) as f64 / 2.0 / f64::from(rate)
}

#[test]
fn spoken_guidance_is_turned_on_by_a_long_press_and_says_where_the_door_is() {
    use crate::common::{self, page, press, pump_until};
    use locker_kiosk::ui::{Guidance, Kiosk, Page};
    use slint::ComponentHandle;
    use slint::platform::{PointerEventButton, WindowEvent};
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let said = dir.path().join("said");
    std::fs::create_dir(&said).unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = locker_kiosk::config::Config::demo();
    config.doors.simulated_close_after = Some(Duration::from_millis(1500));
    config.speech.player = vec![
        "sh".into(),
        "-c".into(),
        format!("cat > {}/$(date +%s%N).wav", said.display()),
    ];
    let (service, window) = common::start_kiosk(store, config, &runtime);
    assert!(service.doors().wait_first_poll(Duration::from_secs(5)));
    pump_until(&window, "speech offered", 5, |w| {
        w.global::<Kiosk>().get_speech_available()
    });
    assert!(!window.global::<Kiosk>().get_speech(), "off by default");

    // A long press where no control is: spoken guidance starts, and the
    // home screen's prompt is said.
    let at = slint::LogicalPosition::new(3.0, 3.0);
    window.window().dispatch_event(WindowEvent::PointerPressed {
        position: at,
        button: PointerEventButton::Left,
    });
    let pressed = Instant::now();
    pump_until(&window, "held a second and a half", 5, move |_| {
        pressed.elapsed() > Duration::from_millis(1700)
    });
    window
        .window()
        .dispatch_event(WindowEvent::PointerReleased {
            position: at,
            button: PointerEventButton::Left,
        });
    pump_until(&window, "speech on", 5, |w| {
        w.global::<Kiosk>().get_speech()
    });
    let saidir = said.clone();
    pump_until(&window, "the home prompt said", 10, move |_| {
        !played(&saidir).is_empty()
    });
    assert!(seconds(&played(&said)[0]) > 3.0, "a whole sentence");

    // Alice's code: the prompt says which door opened and where.
    press(&window, "Pick up a parcel");
    for digit in "583920".chars() {
        press(&window, &digit.to_string());
    }
    press(&window, "Open");
    pump_until(&window, "her door open", 10, |w| {
        w.global::<Guidance>()
            .get_prompt()
            .starts_with("Door 2 is open, ")
    });
    let prompt = window.global::<Guidance>().get_prompt().to_string();
    assert!(
        prompt.contains(" at the ") || prompt.contains(" in the "),
        "{prompt}"
    );
    // The door's sentence, whole (shorter prompts before it may have been
    // cut short by the next).
    let count = played(&said).len();
    let saidir = said.clone();
    pump_until(&window, "the door's prompt said", 10, move |_| {
        played(&saidir)[count..]
            .iter()
            .any(|wav| seconds(wav) > 2.5)
    });
    pump_until(&window, "thank you", 10, |w| page(w) == Page::PickupDone);
    // The button at home turns it off again; the next person starts without.
    press(&window, "Back to the start");
    pump_until(&window, "home", 5, |w| page(w) == Page::Home);
    assert!(!window.global::<Kiosk>().get_speech());
    // A courier's screens have their prompts too.
    press(&window, "Deliver parcels");
    assert_eq!(
        window.global::<Guidance>().get_prompt(),
        "Type your courier code, or hold your badge up to the camera."
    );
    // And staff's: the PIN screen, the tab, the door just opened.
    press(&window, "Back");
    window
        .global::<locker_kiosk::ui::Maintenance>()
        .invoke_requested();
    assert_eq!(
        window.global::<Guidance>().get_prompt(),
        "Maintenance is for the building's staff. Type the admin PIN."
    );
    common::type_admin_pin(&window, locker_kiosk::app::admin::DEMO_ADMIN_PIN);
    pump_until(&window, "maintenance", 10, |w| page(w) == Page::Maintenance);
    assert_eq!(window.global::<Guidance>().get_prompt(), "Doors");
    press(&window, "Settings");
    assert_eq!(window.global::<Guidance>().get_prompt(), "Settings");
}
