//! Pickup codes, courier codes and the rules for guessing them.
//!
//! A pickup has two equivalent secrets: a numeric PIN that people type
//! (short, so it is rate-limited by [`AttemptLimiter`]) and a QR token of
//! 128 random bits that is shown as `LK1:<locker-id>:<token>`. Randomness
//! comes in from outside through [`Entropy`] so that this stays pure.

use super::Timestamp;

/// A source of random bytes. The application passes the OS generator;
/// tests pass a fixed sequence.
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);
}

pub const MIN_PIN_LENGTH: usize = 4;
pub const MAX_PIN_LENGTH: usize = 10;

/// Tokens carry this many random bytes (128 bits).
pub const TOKEN_BYTES: usize = 16;

/// The version tag of our pickup QR payload.
pub const PICKUP_QR_PREFIX: &str = "LK1";

/// PINs that people guess first: one digit repeated (000000), a straight
/// run up or down (123456, 987654, 890123) and two digits alternating
/// (121212).
pub fn is_weak(pin: &str) -> bool {
    let digits: Vec<i32> = pin
        .bytes()
        .map(|b| i32::from(b) - i32::from(b'0'))
        .collect();
    if digits.len() < 2 {
        return true;
    }
    let steps: Vec<i32> = digits
        .windows(2)
        .map(|w| (w[1] - w[0]).rem_euclid(10))
        .collect();
    let straight = steps.iter().all(|s| *s == steps[0]) && matches!(steps[0], 0 | 1 | 9);
    let alternating = digits.iter().enumerate().all(|(i, d)| *d == digits[i % 2]);
    straight || alternating
}

/// Makes a new PIN of `length` digits that is not weak and not `taken`.
pub fn generate_pin(
    length: usize,
    entropy: &mut dyn Entropy,
    taken: &dyn Fn(&str) -> bool,
) -> String {
    assert!(
        (MIN_PIN_LENGTH..=MAX_PIN_LENGTH).contains(&length),
        "PIN length is validated by the config"
    );
    loop {
        let mut pin = String::with_capacity(length);
        while pin.len() < length {
            let mut byte = [0u8];
            entropy.fill(&mut byte);
            // 250 is the largest multiple of 10 that fits: no modulo bias.
            if byte[0] < 250 {
                pin.push(char::from(b'0' + byte[0] % 10));
            }
        }
        if !is_weak(&pin) && !taken(&pin) {
            return pin;
        }
    }
}

/// A new QR token: 128 random bits in unpadded RFC 4648 base32, which QR
/// codes store compactly in alphanumeric mode.
pub fn generate_token(entropy: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    entropy.fill(&mut bytes);
    base32(&bytes)
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The QR payload for a pickup at `locker_id`.
pub fn pickup_qr_payload(locker_id: &str, token: &str) -> String {
    format!("{PICKUP_QR_PREFIX}:{locker_id}:{token}")
}

/// What a person typed on the keypad, reduced to digits; `None` when it
/// cannot be a PIN of this length (letters, too short, too long).
pub fn normalize_typed_pin(input: &str, length: usize) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == length && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierCodeError {
    #[error("a courier code has 4 to 8 digits")]
    Length,
    #[error("a courier code has only digits")]
    NotDigits,
    #[error("this courier code is too easy to guess; choose one without repeats or runs")]
    Weak,
}

/// Courier login codes: 4 to 8 digits, not weak.
pub fn validate_courier_code(code: &str) -> Result<(), CourierCodeError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CourierCodeError::NotDigits);
    }
    if !(4..=8).contains(&code.len()) {
        return Err(CourierCodeError::Length);
    }
    if is_weak(code) {
        return Err(CourierCodeError::Weak);
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminPinError {
    #[error("the admin PIN has 6 to 12 digits")]
    Length,
    #[error("the admin PIN has only digits (the panel has a numeric keypad)")]
    NotDigits,
    #[error("this admin PIN is too easy to guess; choose one without repeats or runs")]
    Weak,
}

/// The admin PIN for maintenance: 6 to 12 digits, not weak.
pub fn validate_admin_pin(pin: &str) -> Result<(), AdminPinError> {
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdminPinError::NotDigits);
    }
    if !(6..=12).contains(&pin.len()) {
        return Err(AdminPinError::Length);
    }
    if is_weak(pin) {
        return Err(AdminPinError::Weak);
    }
    Ok(())
}

/// How wrong codes are rate-limited at one kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong codes allowed before a lockout.
    pub max_attempts: u32,
    /// The first lockout; each further one doubles, up to `max_lockout_secs`.
    pub lockout_secs: u32,
    pub max_lockout_secs: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            lockout_secs: 60,
            max_lockout_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Wrong, but the person may try again this many times.
    TryAgain { attempts_left: u32 },
    /// Too many wrong codes: no more tries until then.
    LockedOut { until: Timestamp },
}

/// What an [`AttemptLimiter`] has counted. Kept in the records, so that
/// restarting the kiosk does not clear a lockout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    pub failures: u32,
    pub lockouts: u32,
    pub locked_until: Option<Timestamp>,
}

impl Attempts {
    /// Whether `self` counts a wrong code more than `before` did.
    pub fn refused_since(&self, before: &Attempts) -> bool {
        self.failures > before.failures || self.lockouts > before.lockouts
    }
}

/// Counts wrong codes and locks the keypad after too many. Lockouts double
/// each time, so that guessing a 6-digit PIN takes years, not hours. A
/// right code resets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLimiter {
    policy: LockoutPolicy,
    failures: u32,
    lockouts: u32,
    locked_until: Option<Timestamp>,
}

impl AttemptLimiter {
    pub fn new(policy: LockoutPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            lockouts: 0,
            locked_until: None,
        }
    }

    pub fn attempts(&self) -> Attempts {
        Attempts {
            failures: self.failures,
            lockouts: self.lockouts,
            locked_until: self.locked_until,
        }
    }

    /// Carries on from what was counted before a restart.
    pub fn resume(&mut self, attempts: Attempts) {
        self.failures = attempts.failures;
        self.lockouts = attempts.lockouts;
        self.locked_until = attempts.locked_until;
    }

    /// `Some(until)` while locked out.
    pub fn locked_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| now < *until)
    }

    pub fn record_failure(&mut self, now: Timestamp) -> AttemptVerdict {
        if let Some(until) = self.locked_until(now) {
            return AttemptVerdict::LockedOut { until };
        }
        self.failures += 1;
        if self.failures < self.policy.max_attempts {
            return AttemptVerdict::TryAgain {
                attempts_left: self.policy.max_attempts - self.failures,
            };
        }
        let secs = u64::from(self.policy.lockout_secs)
            .saturating_mul(1u64 << self.lockouts.min(20))
            .min(u64::from(self.policy.max_lockout_secs));
        self.lockouts += 1;
        self.failures = 0;
        let until = now.plus_secs(secs as i64);
        self.locked_until = Some(until);
        AttemptVerdict::LockedOut { until }
    }

    pub fn record_success(&mut self) {
        self.failures = 0;
        self.lockouts = 0;
        self.locked_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deterministic bytes for tests (xorshift64).
    pub struct Counter(pub u64);

    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                let mut x = self.0 | 1;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.0 = x;
                *b = (x >> 24) as u8;
            }
        }
    }

    #[test]
    fn weak_pins() {
        for weak in [
            "000000", "111111", "123456", "654321", "890123", "121212", "1234", "9876",
        ] {
            assert!(is_weak(weak), "{weak} should be weak");
        }
        for fine in ["583920", "102938", "7391", "112233"] {
            assert!(!is_weak(fine), "{fine} should be fine");
        }
    }

    #[test]
    fn generated_pins_avoid_taken_ones() {
        let mut first = Counter(3);
        let pin = generate_pin(6, &mut first, &|_| false);
        let mut again = Counter(3);
        let other = generate_pin(6, &mut again, &|p| p == pin);
        assert_ne!(pin, other);
        assert_eq!(other.len(), 6);
    }

    #[test]
    fn tokens_are_128_bits_of_base32() {
        let token = generate_token(&mut Counter(1));
        assert_eq!(token.len(), 26); // ceil(128 / 5)
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(pickup_qr_payload("L1", &token), format!("LK1:L1:{token}"));
    }

    #[test]
    fn typed_pins_are_normalized() {
        assert_eq!(normalize_typed_pin(" 583 920", 6), Some("583920".into()));
        assert_eq!(normalize_typed_pin("583-920", 6), Some("583920".into()));
        assert_eq!(normalize_typed_pin("58392", 6), None);
        assert_eq!(normalize_typed_pin("58392a", 6), None);
        assert_eq!(normalize_typed_pin("５８３９２０", 6), None);
    }

    #[test]
    fn courier_codes() {
        assert_eq!(validate_courier_code("4711"), Ok(()));
        assert_eq!(validate_courier_code("47110815"), Ok(()));
        assert_eq!(validate_courier_code("123"), Err(CourierCodeError::Length));
        assert_eq!(
            validate_courier_code("123456789"),
            Err(CourierCodeError::Length)
        );
        assert_eq!(
            validate_courier_code("12a4"),
            Err(CourierCodeError::NotDigits)
        );
        assert_eq!(validate_courier_code("2222"), Err(CourierCodeError::Weak));
        assert_eq!(validate_admin_pin("4718093"), Ok(()));
        assert_eq!(validate_admin_pin("47180"), Err(AdminPinError::Length));
        assert_eq!(validate_admin_pin("123456"), Err(AdminPinError::Weak));
        assert_eq!(validate_admin_pin("4718o93"), Err(AdminPinError::NotDigits));
    }

    #[test]
    fn lockout_escalates_and_expires() {
        let policy = LockoutPolicy {
            max_attempts: 3,
            lockout_secs: 60,
            max_lockout_secs: 200,
        };
        let mut limiter = AttemptLimiter::new(policy);
        let t0 = Timestamp(0);
        assert_eq!(
            limiter.record_failure(t0),
            AttemptVerdict::TryAgain { attempts_left: 2 }
        );
        assert_eq!(
            limiter.record_failure(t0),
            AttemptVerdict::TryAgain { attempts_left: 1 }
        );
        assert_eq!(
            limiter.record_failure(t0),
            AttemptVerdict::LockedOut {
                until: t0.plus_secs(60)
            }
        );
        // Tries during the lockout do not extend it.
        assert_eq!(
            limiter.record_failure(t0.plus_secs(30)),
            AttemptVerdict::LockedOut {
                until: t0.plus_secs(60)
            }
        );
        let t1 = t0.plus_secs(60);
        assert_eq!(limiter.locked_until(t1), None);
        limiter.record_failure(t1);
        limiter.record_failure(t1);
        assert_eq!(
            limiter.record_failure(t1),
            AttemptVerdict::LockedOut {
                until: t1.plus_secs(120)
            }
        );
        let t2 = t1.plus_secs(120);
        for _ in 0..2 {
            limiter.record_failure(t2);
        }
        // Capped at the maximum.
        assert_eq!(
            limiter.record_failure(t2),
            AttemptVerdict::LockedOut {
                until: t2.plus_secs(200)
            }
        );
        limiter.record_success();
        assert_eq!(limiter.locked_until(t2), None);
    }

    proptest! {
        #[test]
        fn generated_pins_are_valid(seed in any::<u64>(), length in MIN_PIN_LENGTH..=MAX_PIN_LENGTH) {
            let pin = generate_pin(length, &mut Counter(seed), &|_| false);
            prop_assert_eq!(pin.len(), length);
            prop_assert!(pin.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!is_weak(&pin));
        }

        #[test]
        fn normalize_never_panics(input in ".*", length in 0usize..12) {
            if let Some(pin) = normalize_typed_pin(&input, length) {
                prop_assert_eq!(pin.len(), length);
            }
        }
    }
}
