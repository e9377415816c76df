//! Choosing a compartment for a parcel.
//!
//! Rules, in order: only available compartments (free, on an answering
//! board, door not open); only those the parcel fits in; the smallest such
//! compartment, so big ones stay free for big parcels. For a recipient who
//! asked for an accessible compartment, reachable doors come first and low
//! before high. For everyone else, among equal sizes, doors outside the
//! reachable band come first so that the reachable ones stay free for those
//! who need them.

use super::compartment::{CompartmentNumber, CompartmentView, SizeClass};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest<'a> {
    /// The smallest size the parcel needs.
    pub size: SizeClass,
    /// The recipient asked for a compartment they can reach.
    pub accessible: bool,
    /// Compartments not to offer again (the courier just reported them).
    pub exclude: &'a [CompartmentNumber],
}

impl<'a> AllocationRequest<'a> {
    pub fn new(size: SizeClass) -> Self {
        Self {
            size,
            accessible: false,
            exclude: &[],
        }
    }
}

/// The compartment to use, or `None` when nothing fits (the locker is full
/// for this size).
pub fn allocate(
    compartments: &[CompartmentView],
    request: &AllocationRequest<'_>,
) -> Option<CompartmentNumber> {
    compartments
        .iter()
        .filter(|c| c.is_available())
        .filter(|c| !request.exclude.contains(&c.number))
        .filter(|c| c.size.fits(&request.size))
        .min_by_key(|c| {
            let volume = c.size.dimensions().volume();
            let reachable = c.position.is_accessible();
            if request.accessible {
                (!reachable, volume, c.position.height_mm, c.number)
            } else {
                (reachable, volume, 0, c.number)
            }
        })
        .map(|c| c.number)
}

/// The standard sizes for which at least one compartment is available: the
/// only sizes a courier may choose.
pub fn available_sizes(compartments: &[CompartmentView]) -> Vec<SizeClass> {
    SizeClass::STANDARD
        .iter()
        .filter(|size| allocate(compartments, &AllocationRequest::new(**size)).is_some())
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::compartment::{CompartmentState, DoorState, Position};
    use proptest::prelude::*;

    fn view(number: u32, size: SizeClass, height_mm: u32) -> CompartmentView {
        CompartmentView {
            number,
            size,
            position: Position {
                column: 0,
                row: number,
                height_mm,
            },
            state: CompartmentState::Free,
            door: DoorState::Closed,
            board_online: true,
        }
    }

    #[test]
    fn picks_smallest_that_fits() {
        let all = [
            view(1, SizeClass::Xl, 100),
            view(2, SizeClass::M, 1500),
            view(3, SizeClass::L, 1500),
        ];
        assert_eq!(
            allocate(&all, &AllocationRequest::new(SizeClass::S)),
            Some(2)
        );
        assert_eq!(
            allocate(&all, &AllocationRequest::new(SizeClass::L)),
            Some(3)
        );
        assert_eq!(
            allocate(&all, &AllocationRequest::new(SizeClass::Xl)),
            Some(1)
        );
    }

    #[test]
    fn never_offers_unavailable_compartments() {
        let mut faulty = view(1, SizeClass::S, 500);
        faulty.state = CompartmentState::Faulty {
            reason: "jammed".into(),
        };
        let mut out = view(2, SizeClass::S, 500);
        out.state = CompartmentState::OutOfService {
            reason: "repair".into(),
        };
        let mut offline = view(3, SizeClass::S, 500);
        offline.board_online = false;
        let mut open = view(4, SizeClass::S, 500);
        open.door = DoorState::Open;
        let mut occupied = view(5, SizeClass::S, 500);
        occupied.state = CompartmentState::Occupied;
        let mut reserved = view(6, SizeClass::S, 500);
        reserved.state = CompartmentState::Reserved;
        let all = [faulty, out, offline, open, occupied, reserved];
        assert_eq!(allocate(&all, &AllocationRequest::new(SizeClass::S)), None);
        assert!(available_sizes(&all).is_empty());
    }

    #[test]
    fn accessible_request_prefers_low_reachable_doors() {
        let all = [
            view(1, SizeClass::S, 1700),
            view(2, SizeClass::M, 900),
            view(3, SizeClass::M, 450),
            view(4, SizeClass::S, 100),
        ];
        let request = AllocationRequest {
            accessible: true,
            ..AllocationRequest::new(SizeClass::S)
        };
        assert_eq!(allocate(&all, &request), Some(3));
        // Everyone else keeps the reachable ones free.
        assert_eq!(
            allocate(&all, &AllocationRequest::new(SizeClass::S)),
            Some(1)
        );
    }

    #[test]
    fn accessible_request_falls_back_to_any_fit() {
        let all = [view(1, SizeClass::S, 1700)];
        let request = AllocationRequest {
            accessible: true,
            ..AllocationRequest::new(SizeClass::S)
        };
        assert_eq!(allocate(&all, &request), Some(1));
    }

    #[test]
    fn excluded_compartments_are_skipped() {
        let all = [view(1, SizeClass::S, 1700), view(2, SizeClass::S, 1700)];
        let request = AllocationRequest {
            exclude: &[1],
            ..AllocationRequest::new(SizeClass::S)
        };
        assert_eq!(allocate(&all, &request), Some(2));
    }

    #[test]
    fn available_sizes_lists_only_sizes_with_room() {
        let all = [view(1, SizeClass::M, 1700)];
        assert_eq!(available_sizes(&all), vec![SizeClass::S, SizeClass::M]);
    }

    fn arb_size() -> impl Strategy<Value = SizeClass> {
        prop_oneof![
            Just(SizeClass::S),
            Just(SizeClass::M),
            Just(SizeClass::L),
            Just(SizeClass::Xl),
            (50u32..900, 50u32..900, 50u32..900)
                .prop_map(|(w, h, d)| SizeClass::Custom(crate::domain::Dimensions::new(w, h, d))),
        ]
    }

    fn arb_view() -> impl Strategy<Value = CompartmentView> {
        (
            1u32..60,
            arb_size(),
            0u32..2000,
            0u8..6,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(number, size, height, state, online, open)| {
                let mut v = view(number, size, height);
                v.state = match state {
                    0..=2 => CompartmentState::Free,
                    3 => CompartmentState::Occupied,
                    4 => CompartmentState::Faulty { reason: "x".into() },
                    _ => CompartmentState::OutOfService { reason: "x".into() },
                };
                v.board_online = online;
                v.door = if open {
                    DoorState::Open
                } else {
                    DoorState::Closed
                };
                v
            })
    }

    proptest! {
        #[test]
        fn allocation_is_sound_and_minimal(
            mut all in proptest::collection::vec(arb_view(), 0..30),
            size in arb_size(),
            accessible in any::<bool>(),
        ) {
            // Compartment numbers are unique in a locker.
            for (i, c) in all.iter_mut().enumerate() {
                c.number = i as u32 + 1;
            }
            let request = AllocationRequest { accessible, ..AllocationRequest::new(size) };
            let fitting: Vec<_> = all.iter().filter(|c| c.is_available() && c.size.fits(&size)).collect();
            match allocate(&all, &request) {
                None => prop_assert!(fitting.is_empty()),
                Some(number) => {
                    let chosen = fitting.iter().find(|c| c.number == number);
                    prop_assert!(chosen.is_some(), "chose an unavailable or too small compartment");
                    let chosen = chosen.unwrap();
                    // The preferred reachability group is used whenever it has
                    // a fit, and nothing in it is smaller.
                    let group = |c: &CompartmentView| c.position.is_accessible();
                    let preferred_group = if accessible {
                        fitting.iter().any(|c| group(c))
                    } else {
                        fitting.iter().all(|c| group(c))
                    };
                    prop_assert_eq!(group(chosen), preferred_group);
                    let smallest = fitting.iter()
                        .filter(|c| group(c) == preferred_group)
                        .map(|c| c.size.dimensions().volume())
                        .min()
                        .unwrap();
                    prop_assert_eq!(chosen.size.dimensions().volume(), smallest);
                }
            }
        }
    }
}
