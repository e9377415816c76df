//! Compartments: their sizes, where they are, and what state they are in.

use std::fmt;
use std::str::FromStr;

/// The number printed on a door, the one people see and type.
pub type CompartmentNumber = u32;

/// Inner dimensions of a compartment or the outer ones of a parcel, in mm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
}

impl Dimensions {
    pub const fn new(width_mm: u32, height_mm: u32, depth_mm: u32) -> Self {
        Self {
            width_mm,
            height_mm,
            depth_mm,
        }
    }

    pub fn volume(&self) -> u64 {
        u64::from(self.width_mm) * u64::from(self.height_mm) * u64::from(self.depth_mm)
    }

    /// Whether something of size `other` goes in, without turning it.
    pub fn holds(&self, other: &Dimensions) -> bool {
        self.width_mm >= other.width_mm
            && self.height_mm >= other.height_mm
            && self.depth_mm >= other.depth_mm
    }
}

/// A compartment's size class. Couriers choose among S, M, L and XL; a
/// custom compartment fits every standard class whose nominal box it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizeClass {
    S,
    M,
    L,
    Xl,
    Custom(Dimensions),
}

impl SizeClass {
    /// The standard classes, smallest first.
    pub const STANDARD: [SizeClass; 4] = [SizeClass::S, SizeClass::M, SizeClass::L, SizeClass::Xl];

    /// Inner box of each class, as in common residential lockers.
    pub fn dimensions(&self) -> Dimensions {
        match self {
            SizeClass::S => Dimensions::new(400, 90, 600),
            SizeClass::M => Dimensions::new(400, 190, 600),
            SizeClass::L => Dimensions::new(400, 390, 600),
            SizeClass::Xl => Dimensions::new(400, 640, 600),
            SizeClass::Custom(d) => *d,
        }
    }

    /// Whether a parcel that needs `wanted` fits in a compartment of this size.
    pub fn fits(&self, wanted: &SizeClass) -> bool {
        self.dimensions().holds(&wanted.dimensions())
    }

    /// The largest standard class this compartment can take, if any.
    pub fn largest_standard_fit(&self) -> Option<SizeClass> {
        SizeClass::STANDARD
            .iter()
            .rev()
            .find(|class| self.fits(class))
            .copied()
    }

    pub fn label(&self) -> String {
        match self {
            SizeClass::S => "S".into(),
            SizeClass::M => "M".into(),
            SizeClass::L => "L".into(),
            SizeClass::Xl => "XL".into(),
            SizeClass::Custom(d) => format!("{}x{}x{}", d.width_mm, d.height_mm, d.depth_mm),
        }
    }
}

impl fmt::Display for SizeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown size `{0}`: expected S, M, L, XL or WxHxD in millimetres")]
pub struct UnknownSize(pub String);

impl FromStr for SizeClass {
    type Err = UnknownSize;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "S" => Ok(SizeClass::S),
            "M" => Ok(SizeClass::M),
            "L" => Ok(SizeClass::L),
            "XL" => Ok(SizeClass::Xl),
            other => {
                let parts: Vec<u32> = other
                    .split('X')
                    .map(|p| p.trim().parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| UnknownSize(s.to_string()))?;
                match parts.as_slice() {
                    [w, h, d] if *w > 0 && *h > 0 && *d > 0 => {
                        Ok(SizeClass::Custom(Dimensions::new(*w, *h, *d)))
                    }
                    _ => Err(UnknownSize(s.to_string())),
                }
            }
        }
    }
}

/// Where a door is on the locker front. `height_mm` is the height of the
/// door's lower edge above the floor: what decides whether someone in a
/// wheelchair can reach in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Position {
    pub column: u32,
    pub row: u32,
    pub height_mm: u32,
}

impl Position {
    /// Doors between about 15 and 48 inches above the floor are reachable
    /// from a wheelchair (ADA reach range).
    pub const ACCESSIBLE_MIN_MM: u32 = 380;
    pub const ACCESSIBLE_MAX_MM: u32 = 1220;

    pub fn is_accessible(&self) -> bool {
        (Self::ACCESSIBLE_MIN_MM..=Self::ACCESSIBLE_MAX_MM).contains(&self.height_mm)
    }
}

/// The administrative state of a compartment, as stored. Whether its board
/// answers and whether its door is open are live facts kept apart from this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompartmentState {
    Free,
    /// Held for a drop-off in progress.
    Reserved,
    Occupied,
    /// Something is wrong with it (door did not open, dirty, ...).
    Faulty {
        reason: String,
    },
    /// Taken out of service by staff.
    OutOfService {
        reason: String,
    },
}

impl CompartmentState {
    pub fn name(&self) -> &'static str {
        match self {
            CompartmentState::Free => "free",
            CompartmentState::Reserved => "reserved",
            CompartmentState::Occupied => "occupied",
            CompartmentState::Faulty { .. } => "faulty",
            CompartmentState::OutOfService { .. } => "out_of_service",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            CompartmentState::Faulty { reason } | CompartmentState::OutOfService { reason } => {
                Some(reason)
            }
            _ => None,
        }
    }

    /// Rebuilds a state from its stored name and reason.
    pub fn from_parts(name: &str, reason: Option<String>) -> Option<Self> {
        let reason = reason.unwrap_or_default();
        Some(match name {
            "free" => CompartmentState::Free,
            "reserved" => CompartmentState::Reserved,
            "occupied" => CompartmentState::Occupied,
            "faulty" => CompartmentState::Faulty { reason },
            "out_of_service" => CompartmentState::OutOfService { reason },
            _ => return None,
        })
    }
}

/// What the door sensor last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DoorState {
    #[default]
    Unknown,
    Closed,
    Open,
}

/// Everything allocation needs to know about one compartment right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentView {
    pub number: CompartmentNumber,
    pub size: SizeClass,
    pub position: Position,
    pub state: CompartmentState,
    pub door: DoorState,
    pub board_online: bool,
}

impl CompartmentView {
    /// Free, closed (or not yet known to be open), and on a board that answers.
    pub fn is_available(&self) -> bool {
        self.state == CompartmentState::Free && self.board_online && self.door != DoorState::Open
    }
}

/// What the lock board and door sensor said after an open command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenOutcome {
    /// The door was closed and opened within the window.
    Opened,
    /// The door was already open before the pulse.
    AlreadyOpen,
    /// Pulsed, but the door stayed closed.
    Jammed,
    /// The board did not answer.
    NoReply,
    /// Never sent: the records could not take its intent, so the door
    /// stayed shut on purpose. Nothing is wrong with the door.
    NotSent,
}

impl OpenOutcome {
    pub fn door_is_open(self) -> bool {
        matches!(self, OpenOutcome::Opened | OpenOutcome::AlreadyOpen)
    }

    pub fn name(self) -> &'static str {
        match self {
            OpenOutcome::Opened => "opened",
            OpenOutcome::AlreadyOpen => "already_open",
            OpenOutcome::Jammed => "jammed",
            OpenOutcome::NoReply => "no_reply",
            OpenOutcome::NotSent => "not_sent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_classes_nest() {
        for (i, small) in SizeClass::STANDARD.iter().enumerate() {
            for (j, big) in SizeClass::STANDARD.iter().enumerate() {
                assert_eq!(big.fits(small), j >= i, "{big} fits {small}?");
            }
        }
    }

    #[test]
    fn custom_size_fits_by_dimensions() {
        let wide_low = SizeClass::Custom(Dimensions::new(800, 100, 600));
        assert!(wide_low.fits(&SizeClass::S));
        assert!(!wide_low.fits(&SizeClass::M));
        assert_eq!(wide_low.largest_standard_fit(), Some(SizeClass::S));
        let tiny = SizeClass::Custom(Dimensions::new(100, 50, 100));
        assert_eq!(tiny.largest_standard_fit(), None);
    }

    #[test]
    fn sizes_parse_and_print() {
        for text in ["S", "m", " L ", "xl", "400x250x600"] {
            let size: SizeClass = text.parse().unwrap();
            assert_eq!(size.label().parse::<SizeClass>().unwrap(), size);
        }
        for bad in ["", "XXL", "10x10", "0x10x10", "axbxc", "1x2x3x4"] {
            assert!(bad.parse::<SizeClass>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn accessible_band_is_inclusive() {
        let at = |h| Position {
            column: 0,
            row: 0,
            height_mm: h,
        };
        assert!(!at(379).is_accessible());
        assert!(at(380).is_accessible());
        assert!(at(1220).is_accessible());
        assert!(!at(1221).is_accessible());
    }

    #[test]
    fn state_round_trips_through_its_parts() {
        for state in [
            CompartmentState::Free,
            CompartmentState::Reserved,
            CompartmentState::Occupied,
            CompartmentState::Faulty {
                reason: "jammed".into(),
            },
            CompartmentState::OutOfService {
                reason: "repair".into(),
            },
        ] {
            let back = CompartmentState::from_parts(state.name(), state.reason().map(String::from));
            assert_eq!(back, Some(state));
        }
        assert_eq!(CompartmentState::from_parts("bogus", None), None);
    }
}
