//! Demo data for the built-in demo locker: couriers, residents and parcels
//! with known codes, so that anyone can try every flow. README.md prints
//! the same codes (a test keeps the two in step).

use crate::config::Config;
use crate::domain::codes::Entropy;
use crate::domain::receipt::{self, Receipt, ReceiptLine};
use crate::domain::{SizeClass, Timestamp};
use crate::store::{IssuedCode, NewDeposit, Result, Store};

pub struct DemoCourier {
    pub name: &'static str,
    pub company: &'static str,
    pub login_code: &'static str,
    pub badge: &'static str,
}

pub const COURIERS: [DemoCourier; 2] = [
    DemoCourier {
        name: "Dana Driver",
        company: "Demo Parcel Co",
        login_code: "4711",
        badge: "LKC1:demo-1:DANA",
    },
    DemoCourier {
        name: "Sam Swift",
        company: "Swift Express",
        login_code: "2580",
        badge: "LKC1:demo-1:SAM",
    },
];

pub struct DemoResident {
    pub name: &'static str,
    pub unit: &'static str,
    pub needs_accessible: bool,
}

pub const RESIDENTS: [DemoResident; 6] = [
    DemoResident {
        name: "Alice Adams",
        unit: "1A",
        needs_accessible: false,
    },
    DemoResident {
        name: "Bob Brown",
        unit: "2B",
        needs_accessible: true,
    },
    DemoResident {
        name: "Carla Cruz",
        unit: "3C",
        needs_accessible: false,
    },
    DemoResident {
        name: "Deniz Demir",
        unit: "4A",
        needs_accessible: false,
    },
    DemoResident {
        name: "Emma Evans",
        unit: "5B",
        needs_accessible: false,
    },
    DemoResident {
        name: "Farid Fahmy",
        unit: "6C",
        needs_accessible: true,
    },
];

/// A parcel waiting in the demo locker.
pub struct DemoParcel {
    pub resident: usize,
    pub tracking: &'static str,
    pub compartment: u32,
    pub pin: &'static str,
    pub qr_token: &'static str,
    /// Deposited this many hours ago (past the storage period = expired).
    pub hours_ago: u32,
}

pub const PARCELS: [DemoParcel; 4] = [
    DemoParcel {
        resident: 0,
        tracking: "1Z999AA10123456784",
        compartment: 2,
        pin: "583920",
        qr_token: "DEMOALICEAAAAAAAAAAAAAAAAA",
        hours_ago: 2,
    },
    DemoParcel {
        resident: 1,
        tracking: "00340123450000000017",
        compartment: 10,
        pin: "246813",
        qr_token: "DEMOBOBBBBBBBBBBBBBBBBBBBB",
        hours_ago: 5,
    },
    DemoParcel {
        resident: 1,
        tracking: "TBA123456789000",
        compartment: 16,
        pin: "246813",
        qr_token: "DEMOBOBBBBBBBBBBBBBBBBBBBB",
        hours_ago: 5,
    },
    DemoParcel {
        resident: 2,
        tracking: "JD014600006281234567",
        compartment: 20,
        pin: "907531",
        qr_token: "DEMOCARLACCCCCCCCCCCCCCCCC",
        hours_ago: 100,
    },
];

/// Announced by a carrier's manifest (resident, tracking, size), for
/// trying a drop-off.
pub const ANNOUNCED: [(usize, &str, SizeClass); 1] = [(3, "9400111899223197428497", SizeClass::M)];

/// Fills a new demo database. Deterministic: the same codes every time.
pub fn seed(store: &mut Store, config: &Config, now: Timestamp) -> Result<()> {
    for courier in &COURIERS {
        store.couriers().add(
            courier.name,
            courier.company,
            Some(courier.login_code),
            Some(courier.badge),
            now,
        )?;
    }
    let mut residents = Vec::new();
    for resident in &RESIDENTS {
        residents.push(store.recipients().add(
            resident.name,
            Some(resident.unit),
            resident.needs_accessible,
            now,
        )?);
    }
    for parcel in &PARCELS {
        let size = config
            .compartment(parcel.compartment)
            .map_or(SizeClass::S, |c| c.size);
        let code = IssuedCode {
            pin: parcel.pin.into(),
            qr_token: parcel.qr_token.into(),
        };
        let deposit = NewDeposit {
            tracking: parcel.tracking,
            carrier: None,
            recipient: residents[parcel.resident],
            announced: None,
            compartment: parcel.compartment,
            size,
            courier: Some(1),
            confirmed: true,
            storage_hours: config.policies.storage_hours,
            pin_length: config.policies.pin_length,
            preset_code: Some(&code),
        };
        let deposited_at = now.plus_secs(-i64::from(parcel.hours_ago) * 3600);
        store
            .parcels()
            .deposit(&deposit, &mut NoEntropy, deposited_at)?;
    }
    store.parcels().expire_due(now)?;
    for (resident, tracking, size) in ANNOUNCED {
        store
            .parcels()
            .announce(tracking, Some("USPS"), residents[resident], Some(size), now)?;
    }
    Ok(())
}

/// The demo never draws random codes: every code is preset.
struct NoEntropy;

impl Entropy for NoEntropy {
    fn fill(&mut self, _buf: &mut [u8]) {
        unreachable!("demo deposits carry preset codes")
    }
}

/// The demo locker's configuration.
pub fn locker() -> Config {
    Config::demo()
}

/// A proof of delivery as a courier's summary screen shows it: Dana left
/// two parcels (signed with a fixed demo key, for screenshots).
pub fn sample_receipt() -> String {
    let line = |tracking: &str, door| ReceiptLine {
        tracking: tracking.into(),
        door,
        at: 1_780_000_000,
    };
    let proof = Receipt {
        locker: "demo-1".into(),
        courier: "Dana Driver".into(),
        company: "Demo Parcel Co".into(),
        issued_at: 1_780_000_000,
        deposited: vec![
            line("9400111899223197428497", 14),
            line("JD014600006299", 3),
        ],
        retrieved: vec![],
    };
    receipt::sign(&proof, &[7; 32])
}
