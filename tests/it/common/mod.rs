//! Helpers shared by the integration tests: stores here, the binary in
//! `process`, the headless kiosk in `kiosk`, the Slint window in `ui`.
#![allow(dead_code)]

mod kiosk;
mod process;
mod ui;

pub use kiosk::*;
pub use process::*;
pub use ui::*;

use std::path::{Path, PathBuf};

use locker_kiosk::config::Config;
use locker_kiosk::domain::Timestamp;
use locker_kiosk::store::Store;

pub const NOW: Timestamp = Timestamp(1_780_000_000_000);

/// A store in `dir` bound to the demo locker, without demo data.
pub fn demo_store(dir: &Path) -> Store {
    let mut store = Store::open(dir).expect("opening the store");
    store
        .compartments()
        .sync_layout(&Config::demo(), NOW)
        .expect("syncing the layout");
    store
}

/// A store in `dir` with the demo locker and its demo data.
pub fn seeded_store(dir: &Path) -> Store {
    let mut store = demo_store(dir);
    locker_kiosk::app::demo::seed(&mut store, &Config::demo(), NOW).expect("seeding");
    store
}

/// A size-S parcel for `recipient` into `compartment`, from no courier,
/// confirmed, with a new random code.
pub fn deposit(
    tracking: &str,
    recipient: i64,
    compartment: u32,
) -> locker_kiosk::store::NewDeposit<'_> {
    locker_kiosk::store::NewDeposit {
        tracking,
        carrier: None,
        recipient,
        announced: None,
        compartment,
        size: locker_kiosk::domain::SizeClass::S,
        courier: None,
        confirmed: true,
        storage_hours: 72,
        pin_length: 6,
        preset_code: None,
    }
}

/// A compartment's state in the records.
pub fn compartment_state(
    store: &mut Store,
    compartment: u32,
) -> locker_kiosk::domain::CompartmentState {
    store
        .compartments()
        .get(compartment)
        .unwrap()
        .unwrap()
        .state
}

/// Fails unless `value` is valid against the JSON Schema in `schema` (a
/// path from the repository's root), naming every violation.
pub fn check_against_schema(value: &serde_json::Value, schema: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(schema);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{schema}: {e}"));
    let schema_value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema_value)
        .unwrap_or_else(|e| panic!("{schema} is not a valid schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{value}\ndoes not fit {schema}:\n{}",
        errors.join("\n")
    );
}

/// A private CA and a certificate for 127.0.0.1 signed by it, made with
/// the openssl command line: `(ca.pem, server.pem, server.key)`.
pub fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=locker-kiosk test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}
