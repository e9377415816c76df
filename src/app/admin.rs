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
use crate::store::{Result, Staff, StoreError};

/// Printed in the README; accepted only by the built-in demo locker, and
/// only while no PIN has been set.
pub const DEMO_ADMIN_PIN: &str = "924653";

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
    staff: &mut Staff<'_>,
    holder: &PinHolder,
    pin: &str,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    validate_admin_pin(pin).map_err(|e: AdminPinError| StoreError::Rule(e.to_string()))?;
    if pin_taken(staff, holder, pin)? {
        return Err(StoreError::Rule(
            "this PIN is already someone else's; choose another".into(),
        ));
    }
    let hash = hash_pin(pin);
    match holder {
        PinHolder::Site => staff.set_site_pin(&hash, actor, now),
        PinHolder::Staff(name) => {
            let name = staff_name(name).map_err(|e| StoreError::Rule(e.to_string()))?;
            staff.set_pin(&name, &hash, actor, now).map(|_| ())
        }
    }
}

/// Whether `pin` already opens maintenance for someone other than `holder`.
pub fn pin_taken(staff: &Staff<'_>, holder: &PinHolder, pin: &str) -> Result<bool> {
    Ok(holder_of(staff, pin)?.is_some_and(|other| &other != holder))
}

/// Takes a staff member's PIN away: it opens nothing from now on.
pub fn remove_staff(staff: &mut Staff<'_>, name: &str, actor: &str, now: Timestamp) -> Result<()> {
    if staff.remove_pin(name.trim(), actor, now)? {
        Ok(())
    } else {
        Err(StoreError::Rule(format!(
            "no staff member `{}` has a PIN",
            name.trim()
        )))
    }
}

/// Who `pin` opens maintenance for on this locker, if anyone.
pub fn check_pin(staff: &Staff<'_>, config: &Config, pin: &str) -> Result<Option<PinHolder>> {
    if let Some(holder) = holder_of(staff, pin)? {
        return Ok(Some(holder));
    }
    let no_pin_yet = staff.site_pin_hash()?.is_none() && staff.pins()?.is_empty();
    let demo = no_pin_yet && config.is_demo_layout() && pin == DEMO_ADMIN_PIN;
    Ok(demo.then_some(PinHolder::Site))
}

/// Whose stored PIN `pin` is (one argon2id check per PIN stored).
fn holder_of(staff: &Staff<'_>, pin: &str) -> Result<Option<PinHolder>> {
    if staff
        .site_pin_hash()?
        .is_some_and(|phc| pin_matches(pin, &phc))
    {
        return Ok(Some(PinHolder::Site));
    }
    Ok(staff
        .pins()?
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
