//! What staff set for the locker: the admin PIN, the language the kiosk
//! starts in and goes back to after each person, and whether the whole
//! locker is in service.

use crate::app::service::ServiceError;
use crate::app::{Service, admin, system};
use crate::domain::maintenance::PinHolder;
pub use crate::store::Closure;
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

/// Whether the whole locker is out of service, since when and why.
pub async fn locker_closure(service: &Service) -> Result<Option<Closure>, ServiceError> {
    service.staff(|staff| staff.closure()).await
}

/// What staff at the locker record as the reason for closing it.
pub const CLOSED_AT_THE_LOCKER: &str = "maintenance at the locker";

/// Takes the whole locker out of service, or puts it back (its parcels
/// get the time back): the closure as it now stands. The screen at home
/// reads it again at once.
pub async fn set_locker_in_service(
    service: &Service,
    by: &PinHolder,
    in_service: bool,
) -> Result<Option<Closure>, ServiceError> {
    let actor = by.actor();
    let now = system::now();
    let settings = crate::app::kiosk::records::Settings::from(service.config());
    let closure = service
        .call(move |store| {
            if in_service {
                crate::app::outages::locker_back_in_service(store, &settings, &actor, now)?;
            } else {
                store
                    .staff()
                    .take_out_of_service(CLOSED_AT_THE_LOCKER, &actor, now)?;
            }
            store.staff().closure()
        })
        .await?;
    service.records_changed_elsewhere();
    Ok(closure)
}
