//! The kiosk's voice: one thread that speaks the newest thing asked, off
//! the UI thread. A new prompt cuts the one playing short (the screen has
//! moved on); the sound goes to ALSA's `aplay`, at the configured volume.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use super::synthesize;

/// Speaks on a thread of its own; cheap to clone.
#[derive(Clone)]
pub struct Speaker {
    asked: mpsc::Sender<(String, String)>,
}

impl Speaker {
    /// A speaker at `volume` percent (0 to 100), playing through
    /// `player` (`aplay` and its arguments; a WAV comes on its stdin).
    pub fn start(volume: u8, player: Vec<String>) -> Speaker {
        let (asked, queue) = mpsc::channel::<(String, String)>();
        std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || speak_all(&queue, volume, &player))
            .expect("spawning the speech thread");
        Speaker { asked }
    }

    /// Says `text` in `language` soon, cutting short what is playing.
    pub fn say(&self, text: &str, language: &str) {
        let _ = self.asked.send((text.to_string(), language.to_string()));
    }
}

fn speak_all(queue: &mpsc::Receiver<(String, String)>, volume: u8, player: &[String]) {
    let mut playing: Option<Child> = None;
    let mut warned = false;
    while let Ok(mut next) = queue.recv() {
        // Only the newest matters: the screen has moved on past the rest.
        while let Ok(newer) = queue.try_recv() {
            next = newer;
        }
        let (text, language) = next;
        let pcm = match synthesize(&text, &language) {
            Ok(pcm) => pcm.at_volume(volume),
            Err(e) => {
                if !warned {
                    tracing::error!(error = %e, "spoken guidance cannot speak");
                    warned = true;
                }
                continue;
            }
        };
        if let Some(mut old) = playing.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let Some((program, args)) = player.split_first() else {
            continue;
        };
        match Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                if let Some(mut stdin) = child.stdin.take() {
                    let wav = pcm.wav();
                    // Written from a helper thread: a long prompt must
                    // not hold up the next one while the pipe is full.
                    std::thread::spawn(move || {
                        let _ = stdin.write_all(&wav);
                    });
                }
                playing = Some(child);
            }
            Err(e) => {
                if !warned {
                    tracing::error!(error = %e, program, "spoken guidance has no player");
                    warned = true;
                }
            }
        }
    }
    if let Some(mut old) = playing {
        let _ = old.wait();
    }
}
