//! What staff set for the locker: the admin PIN and the language the
//! kiosk starts in and goes back to after each person.

use crate::app::service::ServiceError;
use crate::app::{Service, admin, system};
use crate::domain::maintenance::PinHolder;
// The PIN rules, checked on screen before anything is saved.
pub use crate::domain::codes::{AdminPinError, validate_admin_pin};

/// Sets a new PIN (6 to 12 digits, not weak) for whoever came in with
/// theirs: the shared admin PIN, or a staff member's own; the old one
/// stops working at once. The error says what is wrong with the PIN.
pub async fn change_pin(
    service: &Service,
    by: &PinHolder,
    pin: String,
) -> Result<PinChange, ServiceError> {
    let (holder, actor) = (by.clone(), by.actor());
    let now = system::now();
    service
        .staff(move |staff| {
            if admin::pin_taken(staff, &holder, &pin)? {
                return Ok(PinChange::Taken);
            }
            admin::set_pin(staff, &holder, &pin, &actor, now).map(|()| PinChange::Changed)
        })
        .await
}

/// What came of a new PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinChange {
    Changed,
    /// It is someone else's PIN already: each PIN names one person.
    Taken,
}

/// Makes `language` (one the kiosk ships) the default from now on.
pub async fn set_default_language(
    service: &Service,
    by: &PinHolder,
    language: String,
) -> Result<(), ServiceError> {
    let actor = by.actor();
    if !service.config().languages.available.contains(&language) {
        return Err(crate::store::StoreError::Rule(format!(
            "the kiosk does not offer the language `{language}`"
        ))
        .into());
    }
    let now = system::now();
    service
        .staff(move |staff| staff.set_default_language(&language, &actor, now))
        .await
}
