//! Commands from the fleet, signed by an operator's Ed25519 key so that a
//! broker alone (compromised, or misconfigured) cannot open a door or
//! replay an old command.
//!
//! On the wire a command is `{"body": "<JSON text>", "key": "<base64
//! public key>", "signature": "<base64>"}`: the signature is over the
//! body's exact bytes, so no canonical JSON is needed. The body names the
//! command's id, the locker it is for, when it was issued and until when
//! it may be carried out (at most a day later). Whether an id was seen
//! before is the store's to say: this module is pure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The longest a command may live: a day. An operator's command for a
/// locker that is offline longer is sent again, not queued forever.
pub const MAX_LIFETIME_MS: i64 = 24 * 3_600_000;

/// Clocks differ: a command issued up to five minutes "in the future" is
/// taken.
pub const CLOCK_SKEW_MS: i64 = 5 * 60_000;

/// The envelope as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCommand {
    pub body: String,
    pub key: String,
    pub signature: String,
}

/// The signed body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandBody {
    /// Unique per command: it is carried out at most once.
    pub id: String,
    pub locker: String,
    /// Milliseconds since the epoch.
    pub issued_at: i64,
    pub expires_at: i64,
    pub command: Command,
}

/// What the fleet can ask of a locker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A parcel is on its way: a courier's scan of it finds its recipient
    /// (added to the directory, by `resident`, when new).
    AnnounceParcel {
        tracking: String,
        #[serde(default)]
        carrier: Option<String>,
        resident: Resident,
        /// `S`, `M`, `L` or `XL`.
        #[serde(default)]
        size: Option<String>,
    },
    CancelAnnouncement {
        tracking: String,
    },
    /// Adds a resident to the directory or updates one (found by
    /// `external_id`, else by name and unit).
    UpsertResident {
        resident: Resident,
    },
    AddCourier {
        name: String,
        company: String,
        #[serde(default)]
        login_code: Option<String>,
        #[serde(default)]
        badge: Option<String>,
    },
    RevokeCourier {
        courier: i64,
    },
    ExtendDeadline {
        tracking: String,
        hours: u32,
    },
    MarkForReturn {
        tracking: String,
        reason: String,
    },
    /// A one-time code for someone else to collect a parcel; the
    /// response carries it, for the backend to send to that person.
    DelegatePickup {
        tracking: String,
        #[serde(default)]
        name: Option<String>,
    },
    RevokeDelegate {
        tracking: String,
    },
    /// Items for named people, as `parcels import` takes them (the CSV's
    /// text): all of them reserved, or none.
    ImportItems {
        csv: String,
    },
    /// A person will return or send a parcel from the locker; the
    /// response carries their return code, for the backend to send them.
    ExpectReturn {
        person: String,
        #[serde(default)]
        contact: Option<String>,
        carrier: String,
        /// `S`, `M`, `L`, `XL` or `WxHxD`; chosen at the screen when not
        /// given.
        #[serde(default)]
        size: Option<String>,
        #[serde(default)]
        reference: Option<String>,
    },
    /// Opens a door from afar; refused while a person is mid-flow at the
    /// screen.
    OpenDoor {
        door: u32,
        reason: String,
    },
    OutOfService {
        door: u32,
        reason: String,
    },
    BackInService {
        door: u32,
    },
    /// The whole locker: the screen says so and nobody collects or
    /// delivers until `locker_back_in_service`.
    LockerOutOfService {
        reason: String,
    },
    /// The whole locker back; the time it was out is added to the
    /// deadlines of the parcels inside, and their recipients are told.
    LockerBackInService {},
    /// A setting staff could change in maintenance: `default_language`.
    SetSetting {
        key: String,
        value: String,
    },
}

impl Command {
    /// The command's `type`, for the log and the response.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AnnounceParcel { .. } => "announce_parcel",
            Command::CancelAnnouncement { .. } => "cancel_announcement",
            Command::UpsertResident { .. } => "upsert_resident",
            Command::AddCourier { .. } => "add_courier",
            Command::RevokeCourier { .. } => "revoke_courier",
            Command::ExtendDeadline { .. } => "extend_deadline",
            Command::MarkForReturn { .. } => "mark_for_return",
            Command::DelegatePickup { .. } => "delegate_pickup",
            Command::RevokeDelegate { .. } => "revoke_delegate",
            Command::ExpectReturn { .. } => "expect_return",
            Command::ImportItems { .. } => "import_items",
            Command::OpenDoor { .. } => "open_door",
            Command::OutOfService { .. } => "out_of_service",
            Command::BackInService { .. } => "back_in_service",
            Command::LockerOutOfService { .. } => "locker_out_of_service",
            Command::LockerBackInService {} => "locker_back_in_service",
            Command::SetSetting { .. } => "set_setting",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resident {
    /// The backend's own id for this person, if it has one.
    #[serde(default)]
    pub external_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// Needs compartments within reach of a wheelchair.
    #[serde(default)]
    pub needs_accessible: bool,
    /// The text of their staff badge's QR code: they may collect with it
    /// (the locker keeps only its hash).
    #[serde(default)]
    pub badge: Option<String>,
}

/// Why a command is refused before anything is done. The id is known
/// when the body could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("not a signed command: {0}")]
    Malformed(String),
    #[error("signed by a key this locker does not accept")]
    UnknownKey { id: Option<String> },
    #[error("the signature does not match the command")]
    BadSignature { id: Option<String> },
    #[error("for locker `{locker}`, not this one")]
    OtherLocker { id: String, locker: String },
    #[error("expired (it was to be carried out by {expires_at})")]
    Expired { id: String, expires_at: String },
    #[error("its lifetime is longer than a day or its times are out of order")]
    BadLifetime { id: String },
}

impl CommandError {
    /// The command's id, when it could be read.
    pub fn id(&self) -> Option<&str> {
        match self {
            CommandError::Malformed(_) => None,
            CommandError::UnknownKey { id } | CommandError::BadSignature { id } => id.as_deref(),
            CommandError::OtherLocker { id, .. }
            | CommandError::Expired { id, .. }
            | CommandError::BadLifetime { id } => Some(id),
        }
    }
}

/// Signs `body` with `key`: the envelope to publish.
pub fn sign(body: &CommandBody, key: &SigningKey) -> SignedCommand {
    let text = serde_json::to_string(body).expect("a command serialises");
    let signature = key.sign(text.as_bytes());
    SignedCommand {
        body: text,
        key: B64.encode(key.verifying_key().as_bytes()),
        signature: B64.encode(signature.to_bytes()),
    }
}

/// Checks a published command for this locker at `now` against the
/// accepted operator keys: the body, once its signature, addressee and
/// lifetime are right.
pub fn verify(
    payload: &[u8],
    accepted: &[[u8; 32]],
    locker: &str,
    now: i64,
) -> Result<CommandBody, CommandError> {
    let envelope: SignedCommand =
        serde_json::from_slice(payload).map_err(|e| CommandError::Malformed(e.to_string()))?;
    // The id, read unchecked, only to answer a refusal by it.
    let claimed_id = serde_json::from_str::<serde_json::Value>(&envelope.body)
        .ok()
        .and_then(|v| v.get("id")?.as_str().map(str::to_owned));
    let key_bytes = B64
        .decode(envelope.key.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .filter(|k| accepted.contains(k))
        .ok_or_else(|| CommandError::UnknownKey {
            id: claimed_id.clone(),
        })?;
    let bad_signature = || CommandError::BadSignature {
        id: claimed_id.clone(),
    };
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| bad_signature())?;
    let signature = B64
        .decode(envelope.signature.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or_else(bad_signature)?;
    key.verify_strict(envelope.body.as_bytes(), &signature)
        .map_err(|_| bad_signature())?;
    let body: CommandBody = serde_json::from_str(&envelope.body)
        .map_err(|e| CommandError::Malformed(format!("signed, but {e}")))?;
    if body.locker != locker {
        return Err(CommandError::OtherLocker {
            id: body.id,
            locker: body.locker,
        });
    }
    if body.expires_at < body.issued_at
        || body.expires_at - body.issued_at > MAX_LIFETIME_MS
        || body.issued_at > now + CLOCK_SKEW_MS
    {
        return Err(CommandError::BadLifetime { id: body.id });
    }
    if now > body.expires_at {
        return Err(CommandError::Expired {
            id: body.id,
            expires_at: crate::domain::rfc3339(body.expires_at),
        });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn body(id: &str) -> CommandBody {
        CommandBody {
            id: id.into(),
            locker: "demo-1".into(),
            issued_at: NOW,
            expires_at: NOW + 600_000,
            command: Command::OpenDoor {
                door: 3,
                reason: "stuck parcel".into(),
            },
        }
    }

    fn bytes(envelope: &SignedCommand) -> Vec<u8> {
        serde_json::to_vec(envelope).unwrap()
    }

    #[test]
    fn a_command_signed_by_an_accepted_key_is_taken() {
        let operator = key(1);
        let accepted = [operator.verifying_key().to_bytes()];
        let signed = sign(&body("c-1"), &operator);
        let taken = verify(&bytes(&signed), &accepted, "demo-1", NOW + 1000).unwrap();
        assert_eq!(taken, body("c-1"));
    }

    #[test]
    fn forged_foreign_expired_and_malformed_commands_are_refused() {
        let operator = key(1);
        let accepted = [operator.verifying_key().to_bytes()];
        let check = |payload: &[u8], now| verify(payload, &accepted, "demo-1", now);

        // Signed by a key the locker does not know.
        let stranger = sign(&body("c-2"), &key(2));
        assert_eq!(
            check(&bytes(&stranger), NOW),
            Err(CommandError::UnknownKey {
                id: Some("c-2".into())
            })
        );
        // The operator's key named, the body changed after signing.
        let mut forged = sign(&body("c-3"), &operator);
        forged.body = forged.body.replace("\"door\":3", "\"door\":4");
        assert_eq!(
            check(&bytes(&forged), NOW),
            Err(CommandError::BadSignature {
                id: Some("c-3".into())
            })
        );
        // Another locker's command.
        let mut other = body("c-4");
        other.locker = "elsewhere-9".into();
        assert!(matches!(
            check(&bytes(&sign(&other, &operator)), NOW),
            Err(CommandError::OtherLocker { .. })
        ));
        // Too late; and an eternal command.
        let late = sign(&body("c-5"), &operator);
        assert!(matches!(
            check(&bytes(&late), NOW + 600_001),
            Err(CommandError::Expired { .. })
        ));
        let mut eternal = body("c-6");
        eternal.expires_at = NOW + MAX_LIFETIME_MS + 1;
        assert_eq!(
            check(&bytes(&sign(&eternal, &operator)), NOW),
            Err(CommandError::BadLifetime { id: "c-6".into() })
        );
        // Not even JSON; unsigned JSON.
        assert!(matches!(
            check(b"open door 3", NOW),
            Err(CommandError::Malformed(_))
        ));
        let unsigned = serde_json::to_vec(&body("c-7")).unwrap();
        assert!(matches!(
            check(&unsigned, NOW),
            Err(CommandError::Malformed(_))
        ));
    }

    #[test]
    fn the_wire_names_of_commands_are_their_types() {
        let text = serde_json::to_value(&body("c-1").command).unwrap();
        assert_eq!(text["type"], "open_door");
        assert_eq!(body("c-1").command.name(), "open_door");
    }
}
