//! What staff set for the locker: the admin PIN and the language the
//! kiosk starts in and goes back to after each person.

use super::ACTOR;
use crate::app::service::ServiceError;
use crate::app::{Service, admin, system};

/// Sets a new admin PIN (6 to 12 digits, not weak); the old one stops
/// working at once. The error says what is wrong with the PIN.
pub async fn change_pin(service: &Service, pin: String) -> Result<(), ServiceError> {
    let now = system::now();
    service
        .call(move |store| admin::set_pin(store, &pin, ACTOR, now))
        .await
}

/// Makes `language` (one the kiosk ships) the default from now on.
pub async fn set_default_language(service: &Service, language: String) -> Result<(), ServiceError> {
    if !service.config().languages.available.contains(&language) {
        return Err(crate::store::StoreError::Rule(format!(
            "the kiosk does not offer the language `{language}`"
        ))
        .into());
    }
    let now = system::now();
    service
        .call(move |store| store.set_default_language(&language, ACTOR, now))
        .await
}
