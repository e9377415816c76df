//! The locker's secret: 32 random bytes in a file of their own beside the
//! database (`locker.secret`, 0600), never inside it. Pickup and courier
//! codes are stored only as HMAC-SHA256 under a key derived from it, and
//! what must be kept readable until it is used (a code not yet delivered
//! to its recipient, the receipt-signing key) is sealed with
//! XChaCha20-Poly1305 under another. So a copy of the database alone,
//! taken off the panel or out of a backup, opens no door and signs no
//! receipt.
//!
//! The store reaches both through SQL functions registered on its
//! connection: `code_hash(text)`, `seal(text)` and `unseal(text)`, so that
//! migrations stay plain SQL and no query handles a key.
//!
//! The database remembers which secret its codes were made with (a check
//! value in `meta`, which reveals nothing about the secret): a store whose
//! secret file is missing or another locker's refuses to start, rather than
//! start with every code silently dead.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use sha2::Sha256;

use super::{Result, StoreError};

pub const SECRET_FILE: &str = "locker.secret";
/// The `meta` key of the check value.
pub const SECRET_CHECK: &str = "secret_check";

const SECRET_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// Sealed texts start with this, so that a future format can be told apart.
const SEALED_PREFIX: &str = "s1:";

/// The secret and the keys derived from it.
pub struct LockerSecret {
    hash_key: [u8; 32],
    seal_key: [u8; 32],
    check: String,
}

impl std::fmt::Debug for LockerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockerSecret")
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"locker-kiosk ");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl LockerSecret {
    pub fn from_bytes(secret: &[u8; SECRET_LEN]) -> Self {
        LockerSecret {
            hash_key: derive(secret, "code hash"),
            seal_key: derive(secret, "seal"),
            check: hex(&derive(secret, "check")[..16]),
        }
    }

    /// Reads the secret file in `data_dir`, or creates it (0600) when it
    /// is not there. `created` says which.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool)> {
        let path = data_dir.join(SECRET_FILE);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::File::open(&path) {
            Ok(mut file) => {
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).map_err(io)?;
                let secret: [u8; SECRET_LEN] = bytes
                    .try_into()
                    .map_err(|_| StoreError::SecretDamaged { path: path.clone() })?;
                Ok((LockerSecret::from_bytes(&secret), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; SECRET_LEN];
                getrandom::fill(&mut secret)
                    .map_err(|e| io(std::io::Error::other(e.to_string())))?;
                write_new(&path, &secret).map_err(io)?;
                Ok((LockerSecret::from_bytes(&secret), true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A value that tells secrets apart and says nothing about them.
    pub fn check(&self) -> &str {
        &self.check
    }

    /// The keyed hash a code is stored as.
    pub fn code_hash(&self, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hash_key)
            .expect("HMAC takes any key length");
        mac.update(code.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// `text`, encrypted and authenticated, as text.
    pub fn seal(&self, text: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.seal_key).into());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), text.as_bytes())
            .expect("encrypting in memory cannot fail");
        format!("{SEALED_PREFIX}{}{}", hex(&nonce), hex(&sealed))
    }

    /// The text sealed by [`LockerSecret::seal`]; `None` when it was sealed
    /// under another secret or changed since.
    pub fn unseal(&self, sealed: &str) -> Option<String> {
        let bytes = from_hex(sealed.strip_prefix(SEALED_PREFIX)?)?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.seal_key).into());
        let plain = cipher.decrypt(XNonce::from_slice(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }

    /// Registers `code_hash`, `seal` and `unseal` on a connection.
    pub fn register(self: &Arc<Self>, conn: &Connection) -> rusqlite::Result<()> {
        let deterministic = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
        let secret = Arc::clone(self);
        conn.create_scalar_function("code_hash", 1, deterministic, move |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|code| secret.code_hash(&code)))
        })?;
        let secret = Arc::clone(self);
        conn.create_scalar_function("seal", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
            Ok(ctx.get::<Option<String>>(0)?.map(|text| secret.seal(&text)))
        })?;
        let secret = Arc::clone(self);
        conn.create_scalar_function("unseal", 1, deterministic, move |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .and_then(|sealed| secret.unseal(&sealed)))
        })?;
        Ok(())
    }
}

/// Writes a new file durably, readable by its owner only.
fn write_new(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_opens_only_under_its_own_secret_and_unchanged() {
        let secret = LockerSecret::from_bytes(&[7; 32]);
        let other = LockerSecret::from_bytes(&[8; 32]);
        let sealed = secret.seal("583920 TOKEN");
        assert!(!sealed.contains("583920"));
        assert_eq!(secret.unseal(&sealed).as_deref(), Some("583920 TOKEN"));
        assert_eq!(other.unseal(&sealed), None);
        let mut flipped = sealed.into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(secret.unseal(&String::from_utf8(flipped).unwrap()), None);
        assert_eq!(secret.unseal("583920"), None);
    }

    #[test]
    fn code_hashes_are_keyed_and_stable() {
        let secret = LockerSecret::from_bytes(&[7; 32]);
        let other = LockerSecret::from_bytes(&[8; 32]);
        assert_eq!(secret.code_hash("583920"), secret.code_hash("583920"));
        assert_ne!(secret.code_hash("583920"), secret.code_hash("583921"));
        assert_ne!(secret.code_hash("583920"), other.code_hash("583920"));
        assert_eq!(secret.code_hash("583920").len(), 64);
        assert_ne!(secret.check(), other.check());
    }
}
