//! A person returns (or sends) a parcel from the locker: their return
//! code found, a compartment of the expected size opens, they put the
//! parcel in, and the door closing accepts it; they get a signed receipt.
//! A door that does not open is flagged and another one tried; a locker
//! with no room of that size says so. Pure: the kiosk hands it answers
//! and the time, the executor carries out its effects.

use super::Effect;
use crate::domain::pickup::{OpenOutcome, ParcelId};
use crate::domain::{CompartmentNumber, SizeClass};

/// What a return needs done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnEffect {
    /// Choose a compartment for `size` (not one of `exclude`), hold it,
    /// write the intent and open it.
    Place {
        parcel: ParcelId,
        size: SizeClass,
        exclude: Vec<CompartmentNumber>,
    },
    /// Its door did not open: flag it for staff.
    DoorFailed {
        parcel: ParcelId,
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    /// In, and the door closed: accept it and sign the receipt.
    Record {
        parcel: ParcelId,
        compartment: CompartmentNumber,
    },
}

/// What came of a [`ReturnEffect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnAnswer {
    DoorOutcome {
        compartment: CompartmentNumber,
        outcome: OpenOutcome,
    },
    /// No free compartment of the size.
    NoRoom,
    /// Accepted, with the receipt's text (`None`: the records refused).
    Recorded(Option<String>),
}

/// What the return screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnView {
    /// The person says how big the parcel is (the return was expected
    /// without a size).
    ChooseSize,
    Opening,
    Open {
        compartment: CompartmentNumber,
    },
    Done {
        compartment: CompartmentNumber,
        receipt: String,
    },
    NoRoom,
    NotRecorded {
        compartment: CompartmentNumber,
    },
}

/// Doors tried before the person is told the locker has no room.
const DOORS_TRIED: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct Return {
    parcel: Option<(ParcelId, SizeClass)>,
    failed: Vec<CompartmentNumber>,
    view: Option<ReturnView>,
    /// The person is still at the screen (a door left open is watched
    /// after they leave, off the screen).
    shown: bool,
    /// The parcel whose size the person is to choose.
    size_unknown_for: Option<ParcelId>,
}

impl Return {
    /// A return code was right: a door opens for its parcel, once its
    /// size is known.
    pub fn begin(&mut self, parcel: ParcelId, size: Option<SizeClass>) -> Vec<Effect> {
        self.failed.clear();
        self.shown = true;
        self.size_unknown_for = Some(parcel);
        match size {
            Some(size) => self.size_chosen(size),
            None => {
                self.view = Some(ReturnView::ChooseSize);
                Vec::new()
            }
        }
    }

    /// The person chose the parcel's size.
    pub fn size_chosen(&mut self, size: SizeClass) -> Vec<Effect> {
        let Some(parcel) = self.size_unknown_for.take() else {
            return Vec::new();
        };
        self.parcel = Some((parcel, size));
        self.view = Some(ReturnView::Opening);
        vec![Effect::Return(ReturnEffect::Place {
            parcel,
            size,
            exclude: Vec::new(),
        })]
    }

    /// Whether the screen waits for the person to choose a size.
    pub fn choosing_size(&self) -> bool {
        self.shown && self.size_unknown_for.is_some()
    }

    /// Whether the return screen is what the person sees.
    pub fn on_screen(&self) -> bool {
        self.shown && self.view.is_some()
    }

    /// What the return screen shows, while it is on screen.
    pub fn view(&self) -> Option<&ReturnView> {
        self.view.as_ref().filter(|_| self.shown)
    }

    pub fn answer(&mut self, answer: ReturnAnswer) -> Vec<Effect> {
        let Some((parcel, size)) = self.parcel else {
            return Vec::new();
        };
        match answer {
            ReturnAnswer::DoorOutcome {
                compartment,
                outcome: OpenOutcome::Opened | OpenOutcome::AlreadyOpen,
            } => {
                self.view = Some(ReturnView::Open { compartment });
                Vec::new()
            }
            ReturnAnswer::DoorOutcome {
                compartment,
                outcome,
            } => {
                let mut effects = Vec::new();
                // Not sent: the door is sound, the records are not.
                if outcome != OpenOutcome::NotSent {
                    effects.push(Effect::Return(ReturnEffect::DoorFailed {
                        parcel,
                        compartment,
                        outcome,
                    }));
                }
                self.failed.push(compartment);
                if self.failed.len() >= DOORS_TRIED || outcome == OpenOutcome::NotSent {
                    self.view = Some(ReturnView::NoRoom);
                } else {
                    effects.push(Effect::Return(ReturnEffect::Place {
                        parcel,
                        size,
                        exclude: self.failed.clone(),
                    }));
                }
                effects
            }
            ReturnAnswer::NoRoom => {
                self.view = Some(ReturnView::NoRoom);
                Vec::new()
            }
            ReturnAnswer::Recorded(receipt) => {
                let compartment = match self.view {
                    Some(ReturnView::Open { compartment })
                    | Some(ReturnView::NotRecorded { compartment }) => compartment,
                    _ => return Vec::new(),
                };
                self.view = Some(match receipt {
                    Some(receipt) => ReturnView::Done {
                        compartment,
                        receipt,
                    },
                    None => ReturnView::NotRecorded { compartment },
                });
                // Closed after the person left: nothing more to show.
                if !self.shown {
                    self.parcel = None;
                    self.view = None;
                }
                Vec::new()
            }
        }
    }

    /// A door closed: if it is the return's open door, the parcel is in.
    pub fn door_closed(&mut self, closed: CompartmentNumber) -> Vec<Effect> {
        match (self.parcel, &self.view) {
            (Some((parcel, _)), Some(ReturnView::Open { compartment }))
                if *compartment == closed =>
            {
                vec![Effect::Return(ReturnEffect::Record {
                    parcel,
                    compartment: closed,
                })]
            }
            _ => Vec::new(),
        }
    }

    /// The person leaves. A door still open stays watched: closing it
    /// later accepts the parcel, as the restart would.
    pub fn leave(&mut self) {
        self.shown = false;
        self.size_unknown_for = None;
        if !matches!(self.view, Some(ReturnView::Open { .. })) {
            self.parcel = None;
            self.view = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_opens_a_door_and_the_door_closing_accepts_it() {
        let mut r = Return::default();
        let effects = r.begin(7, Some(SizeClass::M));
        assert_eq!(
            effects,
            vec![Effect::Return(ReturnEffect::Place {
                parcel: 7,
                size: SizeClass::M,
                exclude: vec![]
            })]
        );
        r.answer(ReturnAnswer::DoorOutcome {
            compartment: 4,
            outcome: OpenOutcome::Opened,
        });
        assert_eq!(r.view(), Some(&ReturnView::Open { compartment: 4 }));
        assert!(r.door_closed(5).is_empty(), "another door");
        assert_eq!(
            r.door_closed(4),
            vec![Effect::Return(ReturnEffect::Record {
                parcel: 7,
                compartment: 4
            })]
        );
        r.answer(ReturnAnswer::Recorded(Some("LKR1.x.y".into())));
        assert!(matches!(
            r.view(),
            Some(ReturnView::Done { compartment: 4, .. })
        ));
    }

    #[test]
    fn a_jammed_door_is_flagged_and_another_tried_until_none_is_left() {
        let mut r = Return::default();
        r.begin(7, Some(SizeClass::L));
        let effects = r.answer(ReturnAnswer::DoorOutcome {
            compartment: 9,
            outcome: OpenOutcome::Jammed,
        });
        assert_eq!(
            effects,
            vec![
                Effect::Return(ReturnEffect::DoorFailed {
                    parcel: 7,
                    compartment: 9,
                    outcome: OpenOutcome::Jammed
                }),
                Effect::Return(ReturnEffect::Place {
                    parcel: 7,
                    size: SizeClass::L,
                    exclude: vec![9]
                })
            ]
        );
        r.answer(ReturnAnswer::NoRoom);
        assert_eq!(r.view(), Some(&ReturnView::NoRoom));
        r.leave();
        assert!(!r.on_screen());
    }

    #[test]
    fn a_return_without_a_size_asks_for_one_first() {
        let mut r = Return::default();
        assert!(r.begin(7, None).is_empty());
        assert_eq!(r.view(), Some(&ReturnView::ChooseSize));
        assert!(r.choosing_size());
        let effects = r.size_chosen(SizeClass::L);
        assert_eq!(
            effects,
            vec![Effect::Return(ReturnEffect::Place {
                parcel: 7,
                size: SizeClass::L,
                exclude: vec![]
            })]
        );
        assert!(!r.choosing_size());
        assert!(r.size_chosen(SizeClass::S).is_empty(), "chosen once");
    }

    #[test]
    fn a_door_left_open_is_accepted_when_it_closes_after_the_person_left() {
        let mut r = Return::default();
        r.begin(7, Some(SizeClass::S));
        r.answer(ReturnAnswer::DoorOutcome {
            compartment: 2,
            outcome: OpenOutcome::Opened,
        });
        r.leave();
        assert!(!r.on_screen(), "the next person does not see it");
        assert_eq!(r.view(), None);
        assert_eq!(
            r.door_closed(2),
            vec![Effect::Return(ReturnEffect::Record {
                parcel: 7,
                compartment: 2
            })]
        );
    }
}
