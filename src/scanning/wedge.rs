//! Keyboard-wedge (USB HID) scanners type what they read, then Enter, as a
//! burst far faster than anyone types. This tells such a burst from a
//! person at a keyboard, so that a scan is recognised even with no text
//! field on screen (the kiosk has none: its keypads are on screen).
//!
//! A scan: at least `min_len` characters, each within `max_gap` of the one
//! before, ended by Enter within `max_gap` of the last. People type 80 ms
//! or more apart; two keys can come closer by chance, four in a row and an
//! Enter do not.

use std::time::{Duration, Instant};

pub struct WedgeDetector {
    max_gap: Duration,
    min_len: usize,
    max_len: usize,
    burst: String,
    last: Option<Instant>,
}

impl Default for WedgeDetector {
    fn default() -> Self {
        WedgeDetector {
            max_gap: Duration::from_millis(35),
            min_len: 4,
            max_len: 512,
            burst: String::new(),
            last: None,
        }
    }
}

impl WedgeDetector {
    /// One key's text at `at`; the scanned text when it completes a scan.
    pub fn key(&mut self, text: &str, at: Instant) -> Option<String> {
        let enter = matches!(text, "\n" | "\r" | "\r\n");
        let printable = !text.is_empty()
            && text
                .chars()
                .all(|c| !c.is_control() && !('\u{f700}'..='\u{f8ff}').contains(&c));
        if !enter && !printable {
            // Shift (scanners press it for capitals) and other special keys:
            // neither part of a scan nor a break in one.
            return None;
        }
        let in_burst = self
            .last
            .is_some_and(|last| at.saturating_duration_since(last) <= self.max_gap);
        self.last = Some(at);
        if enter {
            let burst = std::mem::take(&mut self.burst);
            self.last = None;
            return (in_burst && burst.chars().count() >= self.min_len).then_some(burst);
        }
        if !in_burst || self.burst.len() >= self.max_len {
            self.burst.clear();
        }
        self.burst.push_str(text);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed(detector: &mut WedgeDetector, keys: &str, gap_ms: u64, t0: Instant) -> Option<String> {
        let mut found = None;
        for (i, c) in keys.chars().enumerate() {
            let text = if c == '⏎' {
                "\n".to_string()
            } else {
                c.to_string()
            };
            found = detector.key(&text, t0 + Duration::from_millis(gap_ms * i as u64));
        }
        found
    }

    #[test]
    fn a_scanners_burst_is_a_scan() {
        let mut d = WedgeDetector::default();
        let t0 = Instant::now();
        assert_eq!(
            feed(&mut d, "1Z999AA10123456784⏎", 4, t0),
            Some("1Z999AA10123456784".into())
        );
    }

    #[test]
    fn shift_between_capitals_does_not_break_a_burst() {
        let mut d = WedgeDetector::default();
        let t0 = Instant::now();
        let mut at = t0;
        for c in "DEMO1".chars() {
            d.key("\u{10}", at);
            at += Duration::from_millis(2);
            d.key(&c.to_string(), at);
            at += Duration::from_millis(2);
        }
        assert_eq!(d.key("\n", at), Some("DEMO1".into()));
    }

    #[test]
    fn a_person_typing_is_not() {
        let mut d = WedgeDetector::default();
        let t0 = Instant::now();
        assert_eq!(feed(&mut d, "583920⏎", 120, t0), None);
        // Fast, but too short to be a label.
        assert_eq!(feed(&mut d, "12⏎", 5, t0 + Duration::from_secs(5)), None);
    }

    #[test]
    fn a_pause_before_enter_or_in_the_middle_breaks_the_burst() {
        let mut d = WedgeDetector::default();
        let t0 = Instant::now();
        for (i, c) in "ABCDEF".chars().enumerate() {
            d.key(&c.to_string(), t0 + Duration::from_millis(3 * i as u64));
        }
        assert_eq!(d.key("\n", t0 + Duration::from_millis(300)), None);
        // Typed slowly, then a burst: only the burst counts.
        let t1 = t0 + Duration::from_secs(2);
        d.key("X", t1);
        d.key("Y", t1 + Duration::from_millis(200));
        assert_eq!(
            feed(
                &mut d,
                "LKC1:demo-1:DANA⏎",
                3,
                t1 + Duration::from_millis(400)
            ),
            Some("LKC1:demo-1:DANA".into())
        );
    }

    proptest! {
        #[test]
        fn keys_at_human_speed_never_make_a_scan(
            keys in proptest::collection::vec("[a-zA-Z0-9\\n]", 0..40),
            gaps in proptest::collection::vec(60u64..2000, 40),
        ) {
            let mut d = WedgeDetector::default();
            let mut at = Instant::now();
            for (key, gap) in keys.iter().zip(&gaps) {
                at += Duration::from_millis(*gap);
                prop_assert_eq!(d.key(key, at), None);
            }
        }
    }
}
