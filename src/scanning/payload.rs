//! What a scanned text means. Total: any bytes give an answer, never a
//! panic; anything not recognised is `Unknown`, which the kiosk answers
//! with "this code is not for this locker" and nothing else.
//!
//! Our own formats:
//! - pickup QR `LK1:<locker-id>:<token>`, the token 128 random bits in
//!   base32 (26 characters), also accepted inside an https URL as
//!   `https://<host>/p/<locker-id>/<token>`;
//! - courier badge `LKC1:<locker-id>:<badge>`.

use crate::domain::codes::PICKUP_QR_PREFIX;

pub const COURIER_BADGE_PREFIX: &str = "LKC1";

/// Whether scanned text could be a staff badge the directory knows: a
/// readable line of 3 to 128 characters (not a misread: no control
/// characters, no bytes that were not text).
pub fn may_be_badge(text: &str) -> bool {
    let text = text.trim();
    (3..=128).contains(&text.chars().count())
        && !text
            .chars()
            .any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Pickup { locker: String, token: String },
    CourierBadge { locker: String, badge: String },
    Tracking { carrier: Carrier, number: String },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// GS1-128 Serial Shipping Container Code, application identifier 00.
    Sscc,
    Ups,
    FedEx,
    Usps,
    Dhl,
    Amazon,
}

impl Carrier {
    pub fn name(self) -> &'static str {
        match self {
            Carrier::Sscc => "sscc",
            Carrier::Ups => "ups",
            Carrier::FedEx => "fedex",
            Carrier::Usps => "usps",
            Carrier::Dhl => "dhl",
            Carrier::Amazon => "amazon",
        }
    }
}

impl Payload {
    /// `pickup`, `courier`, `tracking` or `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Pickup { .. } => "pickup",
            Payload::CourierBadge { .. } => "courier",
            Payload::Tracking { .. } => "tracking",
            Payload::Unknown => "unknown",
        }
    }
}

/// Recognises a scanned text.
pub fn recognise(text: &str) -> Payload {
    let text = text.trim();
    if let Some(found) = pickup(text) {
        return found;
    }
    if let Some((locker, badge)) = prefixed(text, COURIER_BADGE_PREFIX)
        && valid_locker_id(locker)
        && !badge.is_empty()
        && badge.len() <= 64
    {
        return Payload::CourierBadge {
            locker: locker.into(),
            badge: badge.into(),
        };
    }
    tracking(text).unwrap_or(Payload::Unknown)
}

fn prefixed<'a>(text: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = text.strip_prefix(prefix)?.strip_prefix(':')?;
    rest.split_once(':')
}

fn valid_locker_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_token(token: &str) -> bool {
    token.len() == 26
        && token
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

fn pickup(text: &str) -> Option<Payload> {
    let (locker, token) = if let Some(found) = prefixed(text, PICKUP_QR_PREFIX) {
        found
    } else {
        let path = text.strip_prefix("https://")?.split_once('/')?.1;
        let path = path.split(['?', '#']).next()?;
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let token = parts.next()?;
        let locker = parts.next()?;
        (parts.next()? == "p").then_some((locker, token))?
    };
    (valid_locker_id(locker) && valid_token(token)).then(|| Payload::Pickup {
        locker: locker.into(),
        token: token.into(),
    })
}

fn digits(text: &str) -> Option<Vec<u32>> {
    text.chars().map(|c| c.to_digit(10)).collect()
}

/// GS1 / USPS mod 10: from the right (check digit excluded), weights 3, 1.
fn gs1_check(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10
}

fn tracking(text: &str) -> Option<Payload> {
    let found = |carrier, number: &str| {
        Some(Payload::Tracking {
            carrier,
            number: number.to_string(),
        })
    };
    // GS1-128 may arrive with a symbology identifier, parentheses or FNC1.
    let gs1: String = text
        .trim_start_matches("]C1")
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '\u{1d}'))
        .collect();
    if gs1.len() == 20
        && gs1.starts_with("00")
        && let Some(d) = digits(&gs1[2..])
        && gs1_check(&d[..17]) == d[17]
    {
        return found(Carrier::Sscc, &gs1[2..]);
    }
    let upper = text.to_ascii_uppercase();
    if upper.len() == 18
        && upper.starts_with("1Z")
        && upper.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        let values: Vec<u32> = upper[2..17]
            .bytes()
            .map(|b| match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                letter => (u32::from(letter) - 3) % 10,
            })
            .collect();
        let (even, odd) = values.iter().enumerate().fold((0, 0), |(e, o), (i, v)| {
            if i % 2 == 0 { (e + v, o) } else { (e, o + v) }
        });
        let check = (10 - (odd * 2 + even) % 10) % 10;
        if upper.as_bytes()[17].is_ascii_digit() && u32::from(upper.as_bytes()[17] - b'0') == check
        {
            return found(Carrier::Ups, &upper);
        }
    }
    if let Some(number) = upper.strip_prefix("TBA")
        && (12..=14).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        return found(Carrier::Amazon, &upper);
    }
    let d = digits(text)?;
    match d.len() {
        // USPS Intelligent Mail package barcode (and the 20-digit form).
        20 | 22 if gs1_check(&d[..d.len() - 1]) == d[d.len() - 1] && matches!(d[0], 9) => {
            found(Carrier::Usps, text)
        }
        12 => {
            let sum: u32 = d[..11]
                .iter()
                .rev()
                .zip([1, 3, 7].iter().cycle())
                .map(|(d, w)| d * w)
                .sum();
            (sum % 11 % 10 == d[11]).then(|| Payload::Tracking {
                carrier: Carrier::FedEx,
                number: text.into(),
            })
        }
        10 => {
            let body: u64 = text[..9].parse().ok()?;
            (body % 7 == u64::from(d[9])).then(|| Payload::Tracking {
                carrier: Carrier::Dhl,
                number: text.into(),
            })
        }
        _ => None,
    }
}

/// Why a courier's tracking number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingProblem {
    TooShort,
    TooLong,
    /// Letters and digits only (spaces and dashes are forgiven).
    BadCharacters,
    /// It has the shape of this carrier's numbers, but its check digit is wrong:
    /// almost always a typing or scanning slip.
    BadCheckDigit(Carrier),
    /// A pickup code or courier badge, not a parcel label.
    NotAParcel,
}

/// A tracking number as the locker keeps it: the carrier, when its format
/// is known, and the number in one canonical form, so that a typed and a
/// scanned copy of the same label compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingNumber {
    pub carrier: Option<Carrier>,
    pub number: String,
}

/// Checks a typed or scanned tracking number. Numbers of a known carrier
/// must pass its check digit; other carriers' numbers are accepted when
/// they are plausible (6 to 40 letters and digits).
pub fn check_tracking(text: &str) -> Result<TrackingNumber, TrackingProblem> {
    match recognise(text) {
        Payload::Tracking { carrier, number } => {
            let number = match carrier {
                // Kept with its application identifier, as printed.
                Carrier::Sscc => format!("00{number}"),
                _ => number,
            };
            return Ok(TrackingNumber {
                carrier: Some(carrier),
                number,
            });
        }
        Payload::Pickup { .. } | Payload::CourierBadge { .. } => {
            return Err(TrackingProblem::NotAParcel);
        }
        Payload::Unknown => {}
    }
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect::<String>()
        .to_ascii_uppercase();
    if !cleaned.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(TrackingProblem::BadCharacters);
    }
    if cleaned != text.trim() {
        // Typed with spaces or dashes: judge the number itself.
        if let Ok(found) = check_tracking(&cleaned) {
            return Ok(found);
        }
    }
    let all_digits = cleaned.bytes().all(|b| b.is_ascii_digit());
    let shaped_like = if cleaned.len() == 18 && cleaned.starts_with("1Z") {
        Some(Carrier::Ups)
    } else if all_digits && cleaned.len() == 20 && cleaned.starts_with("00") {
        Some(Carrier::Sscc)
    } else if all_digits && matches!(cleaned.len(), 20 | 22) && cleaned.starts_with('9') {
        Some(Carrier::Usps)
    } else {
        None
    };
    if let Some(carrier) = shaped_like {
        return Err(TrackingProblem::BadCheckDigit(carrier));
    }
    match cleaned.len() {
        0..6 => Err(TrackingProblem::TooShort),
        41.. => Err(TrackingProblem::TooLong),
        _ => Ok(TrackingNumber {
            carrier: None,
            number: cleaned,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "DEMOALICEAAAAAAAAAAAAAAAAA";

    #[test]
    fn pickup_codes_plain_and_in_urls() {
        let expected = Payload::Pickup {
            locker: "demo-1".into(),
            token: TOKEN.into(),
        };
        assert_eq!(recognise(&format!("LK1:demo-1:{TOKEN}")), expected);
        assert_eq!(
            recognise(&format!("https://lockers.example.org/p/demo-1/{TOKEN}")),
            expected
        );
        assert_eq!(
            recognise(&format!("https://x.example/app/p/demo-1/{TOKEN}/?utm=mail")),
            expected
        );
        // Wrong version, short token, lowercase, plain http, wrong path.
        for bad in [
            format!("LK2:demo-1:{TOKEN}"),
            "LK1:demo-1:SHORT".to_string(),
            format!("LK1:demo-1:{}", TOKEN.to_lowercase()),
            format!("http://x.example/p/demo-1/{TOKEN}"),
            format!("https://x.example/q/demo-1/{TOKEN}"),
            format!("LK1:bad:id:{TOKEN}"),
        ] {
            assert_eq!(recognise(&bad), Payload::Unknown, "{bad}");
        }
    }

    #[test]
    fn courier_badges() {
        assert_eq!(
            recognise("LKC1:demo-1:DANA"),
            Payload::CourierBadge {
                locker: "demo-1".into(),
                badge: "DANA".into()
            }
        );
        assert_eq!(recognise("LKC1:demo-1:"), Payload::Unknown);
    }

    #[test]
    fn tracking_numbers_typed_by_a_courier() {
        let ok = |text: &str| check_tracking(text).map(|t| (t.carrier, t.number));
        assert_eq!(
            ok("1z999aa1 0123 456784"),
            Ok((Some(Carrier::Ups), "1Z999AA10123456784".into()))
        );
        assert_eq!(
            ok("(00)340123450000000017"),
            Ok((Some(Carrier::Sscc), "00340123450000000017".into()))
        );
        assert_eq!(
            ok("00340123450000000017"),
            Ok((Some(Carrier::Sscc), "00340123450000000017".into()))
        );
        assert_eq!(ok("JD0146-0000-6281"), Ok((None, "JD014600006281".into())));
        assert_eq!(
            ok("1Z999AA10123456785"),
            Err(TrackingProblem::BadCheckDigit(Carrier::Ups))
        );
        assert_eq!(
            ok("00340123450000000018"),
            Err(TrackingProblem::BadCheckDigit(Carrier::Sscc))
        );
        assert_eq!(
            ok("9400111899223197428490"),
            Err(TrackingProblem::BadCheckDigit(Carrier::Usps))
        );
        assert_eq!(ok("AB12"), Err(TrackingProblem::TooShort));
        assert_eq!(ok(&"7".repeat(41)), Err(TrackingProblem::TooLong));
        assert_eq!(ok("ABC/12345"), Err(TrackingProblem::BadCharacters));
        assert_eq!(ok("LKC1:demo-1:DANA"), Err(TrackingProblem::NotAParcel));
    }

    #[test]
    fn tracking_numbers_with_their_check_digits() {
        let carrier = |text: &str| match recognise(text) {
            Payload::Tracking { carrier, .. } => Some(carrier),
            _ => None,
        };
        assert_eq!(carrier("1Z999AA10123456784"), Some(Carrier::Ups));
        assert_eq!(carrier("1Z999AA10123456785"), None, "bad UPS check digit");
        assert_eq!(carrier("00340123450000000017"), Some(Carrier::Sscc));
        assert_eq!(carrier("(00)340123450000000017"), Some(Carrier::Sscc));
        assert_eq!(carrier("]C100340123450000000017"), Some(Carrier::Sscc));
        assert_eq!(
            carrier("00340123450000000018"),
            None,
            "bad SSCC check digit"
        );
        assert_eq!(carrier("9400111899223197428497"), Some(Carrier::Usps));
        assert_eq!(carrier("9400111899223197428490"), None);
        assert_eq!(carrier("TBA123456789000"), Some(Carrier::Amazon));
        assert_eq!(carrier("1234567891"), Some(Carrier::Dhl)); // 123456789 % 7 = 1
        assert_eq!(carrier("1234567894"), None);
        assert_eq!(carrier("797806677146"), Some(Carrier::FedEx));
        assert_eq!(carrier("797806677145"), None);
        assert_eq!(carrier("hello"), None);
    }

    proptest! {
        #[test]
        fn any_text_gets_an_answer(text in ".*") {
            let _ = recognise(&text);
            if let Ok(found) = check_tracking(&text) {
                // The canonical form is stable.
                prop_assert_eq!(check_tracking(&found.number), Ok(found.clone()));
            }
        }

        #[test]
        fn any_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = recognise(&String::from_utf8_lossy(&bytes));
        }
    }
}

#[cfg(test)]
mod badge_tests {
    use super::may_be_badge;

    #[test]
    fn a_badge_is_a_readable_line_and_a_misread_is_not() {
        for badge in ["EMP-0042", "  4711-ACME  ", "Zoë Ärger 7"] {
            assert!(may_be_badge(badge), "{badge}");
        }
        for not in [
            "",
            "ab",
            "\u{fffd}\u{fffd} garbage",
            "EMP\u{7}42",
            &"x".repeat(129),
        ] {
            assert!(!may_be_badge(not), "{not:?}");
        }
    }
}
