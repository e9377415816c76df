//! The admin PIN that guards maintenance: stored only as an argon2id hash
//! (PHC string) in the store. Until one is set, maintenance cannot be
//! entered, except with [`DEMO_ADMIN_PIN`] on the built-in demo locker.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::config::Config;
use crate::domain::Timestamp;
use crate::domain::codes::{AdminPinError, Entropy, validate_admin_pin};
use crate::store::{NewEvent, Result, Store, StoreError};

/// Printed in the README; accepted only by the built-in demo locker, and
/// only while no PIN has been set.
pub const DEMO_ADMIN_PIN: &str = "924653";

const META_KEY: &str = "admin_pin_hash";

/// The argon2id hash of `pin`, with a fresh random salt.
pub fn hash_pin(pin: &str) -> String {
    let mut bytes = [0u8; 16];
    super::system::OsEntropy.fill(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("argon2id with default parameters hashes any input")
        .to_string()
}

/// Whether `pin` matches the stored hash.
pub fn pin_matches(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &hash)
            .is_ok()
    })
}

/// Sets (or changes) the admin PIN; recorded in the audit log, never the PIN.
pub fn set_pin(store: &mut Store, pin: &str, actor: &str, now: Timestamp) -> Result<()> {
    validate_admin_pin(pin).map_err(|e: AdminPinError| StoreError::Rule(e.to_string()))?;
    let replaced = store.meta(META_KEY)?.is_some();
    store.set_secret_meta(META_KEY, &hash_pin(pin))?;
    let event =
        NewEvent::new("admin_pin_set", actor).detail(serde_json::json!({ "replaced": replaced }));
    store.record_event(now, &event).map(|_| ())
}

/// Whether `pin` opens maintenance on this locker.
pub fn check_pin(store: &Store, config: &Config, pin: &str) -> Result<bool> {
    Ok(match store.meta(META_KEY)? {
        Some(phc) => pin_matches(pin, &phc),
        None => config.is_demo_layout() && pin == DEMO_ADMIN_PIN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_stored_as_argon2id_hashes() {
        let phc = hash_pin("4718093");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("4718093"));
        assert!(pin_matches("4718093", &phc));
        assert!(!pin_matches("4718094", &phc));
        assert!(!pin_matches("4718093", "not a hash"));
        assert_ne!(hash_pin("4718093"), phc, "salted");
    }
}
