//! Random courier visits against a real store: whatever a courier does, in
//! whatever order (doors that jam, parcels that do not fit, undo, walking
//! away mid-deposit), no parcel is lost, no compartment holds two parcels,
//! every deposited parcel has a live code, and no compartment stays held.
//!
//! The flow is the domain's; the store writes are the very functions the
//! kiosk's drop-off task runs (`app::dropoff::records`); door outcomes come
//! from the random sequence.

use crate::common;

use std::collections::{HashMap, VecDeque};

use locker_kiosk::app::dropoff::records::{self, Settings};
use locker_kiosk::domain::dropoff::{
    DropoffEffect, DropoffEvent, DropoffFlow, DropoffState, ParcelMatch,
};
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup, OpenOutcome};
use locker_kiosk::domain::{
    AllocationRequest, CompartmentState, CompartmentView, DoorState, ParcelStatus, SizeClass,
    Timestamp, allocate,
};
use locker_kiosk::store::Store;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Action {
    Login(bool),
    Scan(usize),
    Recipient(usize),
    Size(usize),
    Door(u8),
    Closed,
    OtherDoorClosed,
    DoesNotFit,
    Dirty,
    DoorDidNotOpen,
    /// Undo a deposit; its door then answers with the outcome.
    Undo(usize, u8),
    Retrieve,
    Back,
    Finish,
    Leave,
    /// A whole parcel in one go (each step may still be refused): scan,
    /// recipient, size, the door's outcome, and whether it is closed.
    Deliver {
        tracking: usize,
        recipient: usize,
        size: usize,
        door: u8,
        closed: bool,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => any::<bool>().prop_map(Action::Login),
        4 => (0..6usize).prop_map(Action::Scan),
        3 => (0..6usize).prop_map(Action::Recipient),
        3 => (0..4usize).prop_map(Action::Size),
        5 => (0..4u8).prop_map(Action::Door),
        4 => Just(Action::Closed),
        1 => Just(Action::OtherDoorClosed),
        1 => Just(Action::DoesNotFit),
        1 => Just(Action::Dirty),
        1 => Just(Action::DoorDidNotOpen),
        2 => (0..4usize, 0..4u8).prop_map(|(i, door)| Action::Undo(i, door)),
        1 => Just(Action::Retrieve),
        1 => Just(Action::Back),
        1 => Just(Action::Finish),
        1 => Just(Action::Leave),
        6 => (0..6usize, 0..6usize, 0..4usize, 0..4u8, any::<bool>()).prop_map(
            |(tracking, recipient, size, door, closed)| Action::Deliver {
                tracking,
                recipient,
                size,
                door,
                closed,
            }
        ),
    ]
}

/// Tracking numbers: two from the demo manifest / locker, the rest new.
const TRACKING: [&str; 6] = [
    "9400111899223197428497",
    "1Z999AA10123456784",
    "PROP000001",
    "PROP000002",
    "PROP000003",
    "PROP000004",
];

struct Harness {
    store: Store,
    flow: DropoffFlow,
    courier: i64,
    residents: Vec<i64>,
    now: Timestamp,
    /// Deposits of visits that have ended (and were reported).
    reported: Vec<(String, u32)>,
}

impl Harness {
    fn views(&self) -> Vec<CompartmentView> {
        self.store
            .compartments()
            .unwrap()
            .into_iter()
            .map(|c| CompartmentView {
                number: c.number,
                size: c.size,
                position: c.position,
                state: c.state,
                door: DoorState::Closed,
                board_online: true,
            })
            .collect()
    }

    /// Feeds `event` and carries out every effect, answering the store's
    /// questions at once; doors answer only when the sequence says so.
    fn handle(&mut self, event: DropoffEvent) {
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            self.now = self.now.plus_secs(1);
            for effect in self.flow.handle(event, self.now) {
                if let Some(answer) = self.carry_out(effect) {
                    queue.push_back(answer);
                }
            }
        }
    }

    fn carry_out(&mut self, effect: DropoffEffect) -> Option<DropoffEvent> {
        use DropoffEffect as F;
        let settings = Settings {
            storage_hours: 72,
            pin_length: 6,
        };
        match effect {
            F::CheckLogin(code) => Some(DropoffEvent::LoginChecked(
                self.store.courier_by_credential(&code).unwrap().map(|c| {
                    self.courier = c.id;
                    c.id
                }),
            )),
            F::LookUpParcel(tracking) => Some(DropoffEvent::ParcelLookedUp(
                self.store.match_tracking(&tracking).unwrap(),
            )),
            F::FindCompartment {
                size,
                accessible,
                exclude,
            } => {
                let views = self.views();
                let request = AllocationRequest {
                    size,
                    accessible,
                    exclude: &exclude,
                };
                let found = allocate(&views, &request).map(|n| {
                    let size = views.iter().find(|v| v.number == n).unwrap().size;
                    (n, size)
                });
                Some(DropoffEvent::CompartmentFound(found))
            }
            F::OpenForDeposit(compartment) => {
                assert!(
                    self.store
                        .reserve_compartment(compartment, self.now)
                        .unwrap(),
                    "compartment {compartment} offered but not free"
                );
                None
            }
            F::OpenDoor(_) => None,
            F::ListRetrievable(courier) => Some(DropoffEvent::RetrievableListed(
                self.store.retrievable_for(courier).unwrap(),
            )),
            F::EndSession(session) => {
                self.reported.extend(
                    session
                        .deposits
                        .iter()
                        .map(|d| (d.parcel.tracking.clone(), d.compartment)),
                );
                records::end_session(
                    &mut self.store,
                    "demo-1",
                    None,
                    &session,
                    &HashMap::new(),
                    self.now,
                )
                .unwrap();
                None
            }
            effect => {
                records::write(&mut self.store, &effect, self.courier, &settings, self.now)
                    .unwrap();
                None
            }
        }
    }

    fn act(&mut self, action: &Action) {
        use DropoffEvent as E;
        let current_door = current_door_of(self.flow.state());
        let outcome = |kind: u8| match kind {
            0 | 1 => OpenOutcome::Opened,
            2 => OpenOutcome::Jammed,
            _ => OpenOutcome::NoReply,
        };
        let event = match action {
            Action::Login(right) => E::LoginEntered(if *right { "4711" } else { "1357" }.into()),
            Action::Scan(i) => E::ParcelScanned(TRACKING[*i].into()),
            Action::Recipient(i) => E::RecipientChosen {
                recipient: self.residents[*i % self.residents.len()],
                accessible: *i % 2 == 1,
            },
            Action::Size(i) => E::SizeChosen(SizeClass::STANDARD[*i]),
            Action::Door(kind) => E::DoorOutcome(outcome(*kind)),
            Action::Closed => match current_door {
                Some(compartment) => E::DoorClosed { compartment },
                None => return,
            },
            Action::OtherDoorClosed => E::DoorClosed { compartment: 999 },
            Action::DoesNotFit => E::DoesNotFit,
            Action::Dirty => E::CompartmentDirty,
            Action::DoorDidNotOpen => E::DoorDidNotOpen,
            Action::Undo(i, door) => {
                let deposits = match self.flow.state() {
                    DropoffState::ScanParcel { session, .. } => session.deposits.clone(),
                    _ => return,
                };
                let Some(deposit) = deposits.get(*i % deposits.len().max(1)) else {
                    return;
                };
                self.handle(E::Undo {
                    compartment: deposit.compartment,
                });
                self.check_now();
                E::DoorOutcome(outcome(*door))
            }
            Action::Retrieve => E::StartRetrieval,
            Action::Back => E::BackToScan,
            Action::Finish => E::Finish,
            Action::Leave => E::Leave,
            Action::Deliver {
                tracking,
                recipient,
                size,
                door,
                closed,
            } => {
                for step in [
                    Action::Scan(*tracking),
                    Action::Recipient(*recipient),
                    Action::Size(*size),
                    Action::Door(*door),
                ] {
                    self.act(&step);
                    self.check_now();
                }
                if !closed {
                    return;
                }
                match current_door_of(self.flow.state()) {
                    Some(compartment) => E::DoorClosed { compartment },
                    None => return,
                }
            }
        };
        self.handle(event);
    }

    /// Checks between the two halves of an action (panics on failure).
    fn check_now(&self) {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
    }

    /// The invariants, checked after every action.
    fn check(&self) -> Result<(), TestCaseError> {
        let parcels = self.store.parcels_in_locker().unwrap();
        let mut per_compartment: HashMap<u32, usize> = HashMap::new();
        for parcel in &parcels {
            let compartment = parcel.compartment;
            prop_assert!(compartment.is_some(), "{parcel:?} is nowhere");
            *per_compartment.entry(compartment.unwrap()).or_default() += 1;
            if parcel.status == ParcelStatus::Deposited {
                let code = self.store.pickup_code_for(parcel.recipient).unwrap();
                prop_assert!(code.is_some(), "{parcel:?} has no live code");
                let lookup = self
                    .store
                    .look_up_code(&CodeInput::Pin(code.unwrap().pin))
                    .unwrap();
                let opens_it = matches!(&lookup, CodeLookup::Valid(waiting)
                    if waiting.iter().any(|w| w.parcel == parcel.id));
                prop_assert!(opens_it, "{parcel:?}: its code gives {lookup:?}");
            }
        }
        for (compartment, count) in &per_compartment {
            prop_assert_eq!(
                *count,
                1,
                "compartment {} holds {} parcels",
                compartment,
                count
            );
        }
        // Every deposit of the visit is in the locker where the flow says.
        let session = match self.flow.state() {
            DropoffState::ScanParcel { session, .. }
            | DropoffState::ChooseSize { session, .. }
            | DropoffState::ChooseRecipient { session, .. }
            | DropoffState::Allocating { session, .. }
            | DropoffState::Opening { session, .. }
            | DropoffState::Filling { session, .. }
            | DropoffState::Undoing { session, .. }
            | DropoffState::Retrieving { session, .. }
            | DropoffState::Finished { session } => Some(session),
            _ => None,
        };
        for deposit in session.map(|s| s.deposits.as_slice()).unwrap_or_default() {
            prop_assert!(
                parcels.iter().any(|p| p.tracking == deposit.parcel.tracking
                    && p.compartment == Some(deposit.compartment)),
                "deposit {:?} is not in the store",
                deposit
            );
        }
        // Every parcel this run put in the locker belongs to the visit in
        // hand or to one that was reported: none is in the locker unknown.
        let mut known: Vec<(String, u32)> = self.reported.clone();
        if let Some(session) = session {
            known.extend(
                session
                    .deposits
                    .iter()
                    .map(|d| (d.parcel.tracking.clone(), d.compartment)),
            );
        }
        for parcel in &parcels {
            let ours = parcel.tracking == TRACKING[0] || parcel.tracking.starts_with("PROP");
            if ours && parcel.status == ParcelStatus::Deposited {
                let entry = (
                    parcel.tracking.clone(),
                    parcel.compartment.unwrap_or_default(),
                );
                prop_assert!(known.contains(&entry), "{parcel:?} is in no visit");
            }
        }
        // A compartment is held only while its door is being worked on.
        let held: Vec<u32> = self
            .store
            .compartments()
            .unwrap()
            .into_iter()
            .filter(|c| c.state == CompartmentState::Reserved)
            .map(|c| c.number)
            .collect();
        let working = match self.flow.state() {
            DropoffState::Opening { compartment, .. }
            | DropoffState::Filling { compartment, .. } => {
                vec![*compartment]
            }
            _ => vec![],
        };
        for number in &held {
            prop_assert!(
                working.contains(number),
                "compartment {} stays held in {:?}",
                number,
                self.flow.state()
            );
        }
        Ok(())
    }
}

/// The door the flow is working on, if any.
fn current_door_of(state: &DropoffState) -> Option<u32> {
    match state {
        DropoffState::Opening { compartment, .. }
        | DropoffState::Filling { compartment, .. }
        | DropoffState::Undoing { compartment, .. } => Some(*compartment),
        DropoffState::Retrieving { queue, .. } => queue.first().map(|p| p.compartment),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_courier_visits_never_lose_a_parcel(actions in proptest::collection::vec(action(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let store = common::seeded_store(dir.path());
        let residents = (1..=6).collect();
        let mut harness = Harness {
            store,
            flow: DropoffFlow::new(Default::default()),
            courier: 0,
            residents,
            now: common::NOW,
            reported: Vec::new(),
        };
        // Most visits start with a good log-in; some do not.
        harness.act(&Action::Login(true));
        for action in &actions {
            harness.act(action);
            harness.check()?;
        }
        // The announced parcel is either in the locker or still announced.
        let found = harness.store.match_tracking(TRACKING[0]).unwrap();
        prop_assert!(
            matches!(found, ParcelMatch::Announced { .. } | ParcelMatch::AlreadyInLocker { .. }),
            "{found:?}"
        );
    }
}
