//! Board profiles: the facts of each lock-board protocol that decide what a
//! configuration may ask of it. The profiles are the TOML files in the
//! repository's `hardware/profiles/`, compiled in, so that the documentation
//! an installer reads and the limits the kiosk enforces are the same text.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::Deserialize;

/// The serial protocols the kiosk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Protocol {
    #[serde(rename = "8a")]
    EightA,
    #[serde(rename = "kerong-cu16")]
    KerongCu16,
    #[serde(rename = "kerong-cu")]
    KerongCu,
    #[serde(rename = "winnsen")]
    Winnsen,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [
        Protocol::EightA,
        Protocol::KerongCu16,
        Protocol::KerongCu,
        Protocol::Winnsen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::EightA => "8a",
            Protocol::KerongCu16 => "kerong-cu16",
            Protocol::KerongCu => "kerong-cu",
            Protocol::Winnsen => "winnsen",
        }
    }

    pub fn profile(self) -> &'static BoardProfile {
        profiles()
            .iter()
            .find(|p| p.protocol == self)
            .expect("every protocol has a profile (checked by a test)")
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Protocol::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "unknown protocol `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How a door sensor is wired: which reading means "door open".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SensorPolarity {
    /// The switch is closed while the lock is locked (the usual wiring).
    #[default]
    ClosedWhenLocked,
    /// The switch is closed while the door is open.
    ClosedWhenOpen,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardProfile {
    pub protocol: Protocol,
    pub title: String,
    pub default_baud: u32,
    pub address_min: u32,
    pub address_max: u32,
    pub max_channels: u32,
    /// Protocol options a board entry may set.
    pub options: Vec<String>,
}

const PROFILE_SOURCES: [(&str, &str); 4] = [
    ("8a.toml", include_str!("../../hardware/profiles/8a.toml")),
    (
        "kerong-cu16.toml",
        include_str!("../../hardware/profiles/kerong-cu16.toml"),
    ),
    (
        "kerong-cu.toml",
        include_str!("../../hardware/profiles/kerong-cu.toml"),
    ),
    (
        "winnsen.toml",
        include_str!("../../hardware/profiles/winnsen.toml"),
    ),
];

pub fn profiles() -> &'static [BoardProfile] {
    static PROFILES: OnceLock<Vec<BoardProfile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        PROFILE_SOURCES
            .iter()
            .map(|(name, text)| {
                toml::from_str(text)
                    .unwrap_or_else(|e| panic!("hardware/profiles/{name} is invalid: {e}"))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_has_exactly_one_profile() {
        for protocol in Protocol::ALL {
            let count = profiles().iter().filter(|p| p.protocol == protocol).count();
            assert_eq!(count, 1, "{protocol}");
            let profile = protocol.profile();
            assert!(profile.address_min <= profile.address_max);
            assert!(profile.max_channels > 0);
        }
    }

    #[test]
    fn protocol_names_round_trip() {
        for protocol in Protocol::ALL {
            assert_eq!(protocol.name().parse::<Protocol>(), Ok(protocol));
        }
        assert!(
            "8b".parse::<Protocol>()
                .unwrap_err()
                .contains("8a, kerong-cu16")
        );
    }
}
