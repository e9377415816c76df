//! The PINs that guard maintenance: the site's shared admin PIN, and staff
//! members' own PINs (so that the audit log says who), each stored only as
//! an argon2id hash (PHC string). Until a PIN is set, maintenance cannot be
//! entered, except with [`DEMO_ADMIN_PIN`] on the built-in demo locker.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::config::Config;
use crate::domain::Timestamp;
use crate::domain::codes::{AdminPinError, Entropy, validate_admin_pin};
use crate::domain::maintenance::{PinHolder, staff_name};
use crate::store::{Event, NewEvent, Result, Store, StoreError};

/// Printed in the README; accepted only by the built-in demo locker, and
/// only while no PIN has been set.
pub const DEMO_ADMIN_PIN: &str = "924653";

/// Where the shared admin PIN's hash is kept.
pub const PIN_META_KEY: &str = "admin_pin_hash";

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

/// Sets (or changes) the PIN of `holder`; recorded in the audit log,
/// never the PIN. A PIN that already opens maintenance for someone else is
/// refused: each PIN names one person.
pub fn set_pin(
    store: &mut Store,
    holder: &PinHolder,
    pin: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    validate_admin_pin(pin).map_err(|e: AdminPinError| StoreError::Rule(e.to_string()))?;
    if pin_taken(store, holder, pin)? {
        return Err(StoreError::Rule(
            "this PIN is already someone else's; choose another".into(),
        ));
    }
    let hash = hash_pin(pin);
    match holder {
        PinHolder::Site => {
            let replaced = store.meta(PIN_META_KEY)?.is_some();
            store.set_secret_meta(PIN_META_KEY, &hash)?;
            let event = NewEvent::new(Event::AdminPinSet { replaced }, actor);
            store.record_event(now, &event).map(|_| ())
        }
        PinHolder::Staff(name) => {
            let name = staff_name(name).map_err(|e| StoreError::Rule(e.to_string()))?;
            store.set_staff_pin(&name, &hash, actor, now).map(|_| ())
        }
    }
}

/// Whether `pin` already opens maintenance for someone other than `holder`.
pub fn pin_taken(store: &Store, holder: &PinHolder, pin: &str) -> Result<bool> {
    Ok(holder_of(store, pin)?.is_some_and(|other| &other != holder))
}

/// Takes a staff member's PIN away: it opens nothing from now on.
pub fn remove_staff(store: &mut Store, name: &str, actor: &str, now: Timestamp) -> Result<()> {
    if store.remove_staff_pin(name.trim(), actor, now)? {
        Ok(())
    } else {
        Err(StoreError::Rule(format!(
            "no staff member `{}` has a PIN",
            name.trim()
        )))
    }
}

/// Who `pin` opens maintenance for on this locker, if anyone.
pub fn check_pin(store: &Store, config: &Config, pin: &str) -> Result<Option<PinHolder>> {
    if let Some(holder) = holder_of(store, pin)? {
        return Ok(Some(holder));
    }
    let no_pin_yet = store.meta(PIN_META_KEY)?.is_none() && store.staff_pins()?.is_empty();
    let demo = no_pin_yet && config.is_demo_layout() && pin == DEMO_ADMIN_PIN;
    Ok(demo.then_some(PinHolder::Site))
}

/// Whose stored PIN `pin` is (one argon2id check per PIN stored).
fn holder_of(store: &Store, pin: &str) -> Result<Option<PinHolder>> {
    if store
        .meta(PIN_META_KEY)?
        .is_some_and(|phc| pin_matches(pin, &phc))
    {
        return Ok(Some(PinHolder::Site));
    }
    Ok(store
        .staff_pins()?
        .into_iter()
        .find(|staff| pin_matches(pin, &staff.pin_hash))
        .map(|staff| PinHolder::Staff(staff.name)))
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
