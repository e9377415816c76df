//! Where the database lives.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

pub const SERVICE_DATA_DIR: &str = "/var/lib/locker-kiosk";

/// `--data-dir` if given; else systemd's `$STATE_DIRECTORY` (set by the
/// service's `StateDirectory=`); else `/var/lib/locker-kiosk` for root and
/// for its owner (the kiosk's user, running a staff command); else the
/// user's data directory. The demo gets a folder of its own inside, so
/// that trying the demo never touches a real locker's data.
pub fn resolve(explicit: Option<PathBuf>, demo: bool) -> PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    let base = std::env::var_os("STATE_DIRECTORY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            (running_as_root() || owns_service_data_dir()).then(|| PathBuf::from(SERVICE_DATA_DIR))
        })
        .or_else(|| dirs::data_dir().map(|d| d.join("locker-kiosk")))
        .unwrap_or_else(|| PathBuf::from("locker-kiosk-data"));
    if demo { base.join("demo") } else { base }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn owns_service_data_dir() -> bool {
    let me = std::fs::metadata("/proc/self").map(|m| m.uid());
    let owner = std::fs::metadata(SERVICE_DATA_DIR).map(|m| m.uid());
    matches!((me, owner), (Ok(me), Ok(owner)) if me == owner)
}

/// The public half of the locker's receipt key, beside the database, so
/// that `verify-receipt` works while the kiosk holds the database.
pub const RECEIPT_PUBLIC_KEY_FILE: &str = "receipt-key.pub";

/// Makes sure the locker has a receipt key and that its public half is
/// published in `data_dir`. Returns the public key in hex.
pub fn publish_receipt_key(
    store: &mut crate::store::Store,
    data_dir: &std::path::Path,
) -> Result<String, String> {
    use crate::domain::receipt;
    let secret = store
        .couriers()
        .receipt_key(&mut super::system::OsEntropy)
        .map_err(|e| e.to_string())?;
    let public = receipt::to_hex(&receipt::public_key(&secret));
    let path = data_dir.join(RECEIPT_PUBLIC_KEY_FILE);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.trim() != public {
        std::fs::write(&path, format!("{public}\n"))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(public)
}
