//! Proof of delivery: what a courier left in (and took from) the locker,
//! signed with the locker's Ed25519 key, as one line of text for a QR code
//! that the courier's handheld scans.
//!
//! Format: `LKR1.<payload>.<signature>`, both parts base64url without
//! padding; the payload is the receipt as JSON and the signature covers
//! the payload's bytes exactly as sent. Anyone with the locker's public key
//! (`locker-kiosk verify-receipt --show-key`) can check one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

pub const RECEIPT_PREFIX: &str = "LKR1";

/// Field names are one letter on the wire: the QR code of a visit with a
/// dozen parcels has to stay easy to scan from a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    #[serde(rename = "l")]
    pub locker: String,
    #[serde(rename = "c")]
    pub courier: String,
    #[serde(rename = "o")]
    pub company: String,
    /// Seconds since the Unix epoch.
    #[serde(rename = "t")]
    pub issued_at: i64,
    #[serde(rename = "i")]
    pub deposited: Vec<ReceiptLine>,
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub retrieved: Vec<ReceiptLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    #[serde(rename = "n")]
    pub tracking: String,
    #[serde(rename = "d")]
    pub door: u32,
    /// Seconds since the Unix epoch.
    #[serde(rename = "t")]
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("this is not a locker receipt (it should start with {RECEIPT_PREFIX}.)")]
    NotAReceipt,
    #[error("the receipt is damaged: {0}")]
    Damaged(String),
    #[error("the signature does not match: the receipt was changed or comes from another locker")]
    BadSignature,
    #[error("the public key is not valid: {0}")]
    BadKey(String),
}

/// The public key that checks receipts signed with `secret`.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

/// The receipt as QR text, signed with the locker's secret key.
pub fn sign(receipt: &Receipt, secret: &[u8; 32]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(receipt).expect("a receipt is JSON"));
    let signature = SigningKey::from_bytes(secret).sign(payload.as_bytes());
    format!(
        "{RECEIPT_PREFIX}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// Checks a receipt against the locker's public key and returns what it says.
pub fn verify(text: &str, public: &[u8; 32]) -> Result<Receipt, ReceiptError> {
    let key = VerifyingKey::from_bytes(public).map_err(|e| ReceiptError::BadKey(e.to_string()))?;
    let mut parts = text.trim().split('.');
    if parts.next() != Some(RECEIPT_PREFIX) {
        return Err(ReceiptError::NotAReceipt);
    }
    let (Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ReceiptError::Damaged("it does not have three parts".into()));
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .ok_or_else(|| ReceiptError::Damaged("the signature is not 64 bytes".into()))?;
    key.verify(payload.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| ReceiptError::BadSignature)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| ReceiptError::Damaged(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| ReceiptError::Damaged(e.to_string()))
}

/// Lower-case hex, as the public key is printed.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn key_from_hex(hex: &str) -> Result<[u8; 32], ReceiptError> {
    let hex = hex.trim();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    bytes
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ReceiptError::BadKey("expected 64 hex digits".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: [u8; 32] = [7; 32];

    fn receipt() -> Receipt {
        Receipt {
            locker: "demo-1".into(),
            courier: "Dana Driver".into(),
            company: "Demo Parcel Co".into(),
            issued_at: 1_780_000_000,
            deposited: vec![ReceiptLine {
                tracking: "1Z999AA10123456784".into(),
                door: 14,
                at: 1_780_000_000,
            }],
            retrieved: vec![],
        }
    }

    #[test]
    fn a_signed_receipt_verifies_with_the_public_key() {
        let text = sign(&receipt(), &SECRET);
        assert!(text.starts_with("LKR1."));
        assert_eq!(verify(&text, &public_key(&SECRET)), Ok(receipt()));
        let hex = to_hex(&public_key(&SECRET));
        assert_eq!(key_from_hex(&hex), Ok(public_key(&SECRET)));
    }

    #[test]
    fn another_lockers_key_or_a_changed_receipt_is_refused() {
        let text = sign(&receipt(), &SECRET);
        assert_eq!(
            verify(&text, &public_key(&[8; 32])),
            Err(ReceiptError::BadSignature)
        );
        let mut forged = receipt();
        forged.deposited[0].door = 15;
        let forged_payload = sign(&forged, &[9; 32]);
        let spliced = format!(
            "{}.{}",
            forged_payload.rsplit_once('.').unwrap().0,
            text.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            verify(&spliced, &public_key(&SECRET)),
            Err(ReceiptError::BadSignature)
        );
        assert_eq!(
            verify("hello", &public_key(&SECRET)),
            Err(ReceiptError::NotAReceipt)
        );
        assert!(matches!(
            verify("LKR1.abc", &public_key(&SECRET)),
            Err(ReceiptError::Damaged(_))
        ));
    }

    proptest! {
        #[test]
        fn any_text_gets_an_answer(text in ".*") {
            let _ = verify(&text, &public_key(&SECRET));
            let _ = verify(&format!("LKR1.{text}"), &public_key(&SECRET));
        }
    }
}
