//! Random courier visits against a real store: whatever a courier does, in
//! whatever order (doors that jam, parcels that do not fit, undo, walking
//! away mid-deposit), no parcel is lost, no compartment holds two parcels,
//! every deposited parcel has a live code, and no compartment stays held.
//!
//! The flow is the domain's; its effects are carried out by the kiosk's
//! own executor (`app::kiosk::Work`), in order, against a real store on
//! the service's store thread; only the doors are a script: they never
//! answer, their outcomes come from the random sequence.

use crate::common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, mpsc};

use locker_kiosk::app::Service;
use locker_kiosk::app::kiosk::{Answer, CourierAnswer, DoorControl, Effect, Input, Work};
use locker_kiosk::app::system::{Clock, ManualClock};
use locker_kiosk::config::Config;
use locker_kiosk::domain::dropoff::{
    DropoffEffect, DropoffEvent, DropoffFlow, DropoffState, ParcelMatch,
};
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup, OpenOutcome};
use locker_kiosk::domain::{CompartmentNumber, CompartmentState, ParcelStatus, SizeClass};
use locker_kiosk::hardware::protocol::Door;
use locker_kiosk::store::Store;
use proptest::prelude::*;
use tokio::sync::oneshot;

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
    /// At a take-back: the compartment is empty.
    NotThere,
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
        1 => Just(Action::NotThere),
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

/// Doors that take every open command and never answer: the sequence
/// says what they did. Closed and online as far as allocation asks.
#[derive(Default)]
struct ScriptedDoors {
    pending: Mutex<Vec<oneshot::Sender<OpenOutcome>>>,
}

impl DoorControl for ScriptedDoors {
    fn open(&self, _: CompartmentNumber) -> Option<oneshot::Receiver<OpenOutcome>> {
        let (answer, outcome) = oneshot::channel();
        self.pending.lock().unwrap().push(answer);
        Some(outcome)
    }
    fn door(&self, _: &str, _: u16) -> Option<Door> {
        Some(Door::Closed)
    }
    fn board_offline(&self, _: &str) -> bool {
        false
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    service: Service,
    work: Work,
    answers: mpsc::Receiver<Input>,
    clock: Arc<ManualClock>,
    flow: DropoffFlow,
    courier: i64,
    residents: Vec<i64>,
    /// Deposits of visits that have ended (and were reported).
    reported: Vec<(String, u32)>,
}

impl Harness {
    fn new(store: Store) -> Harness {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let service = Service::start(store, Config::demo(), runtime.handle());
        let clock = Arc::new(ManualClock::at(common::NOW));
        let (sender, answers) = mpsc::channel();
        let deliver = Arc::new(move |input| {
            let _ = sender.send(input);
        });
        let work = Work::with_doors(
            service.clone(),
            Arc::new(ScriptedDoors::default()),
            clock.clone(),
            deliver,
        );
        Harness {
            runtime,
            service,
            work,
            answers,
            clock,
            flow: DropoffFlow::new(Default::default()),
            courier: 0,
            residents: (1..=6).collect(),
            reported: Vec::new(),
        }
    }

    /// Runs `f` on the store's thread.
    fn with_store<R: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> R + Send + 'static) -> R {
        self.runtime
            .block_on(self.service.call(move |store| Ok(f(store))))
            .unwrap()
    }

    /// Feeds `event` and carries out every effect through the executor, in
    /// order, answering the store's questions at once; doors answer only
    /// when the sequence says so.
    fn handle(&mut self, event: DropoffEvent) {
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            self.clock.advance(1000);
            for effect in self.flow.handle(event, self.clock.now()) {
                queue.extend(self.carry_out(effect));
            }
        }
    }

    fn carry_out(&mut self, effect: DropoffEffect) -> Vec<DropoffEvent> {
        let effect = match effect {
            DropoffEffect::EndSession(session) => {
                self.reported.extend(
                    session
                        .deposits
                        .iter()
                        .map(|d| (d.parcel.tracking.clone(), d.compartment)),
                );
                Effect::EndVisit {
                    session,
                    courier: None,
                    names: HashMap::new(),
                }
            }
            DropoffEffect::OpenForDeposit {
                compartment,
                parcel,
            } => {
                let state = self
                    .with_store(move |s| s.compartments().get(compartment).unwrap().unwrap().state);
                assert_eq!(
                    state,
                    CompartmentState::Free,
                    "compartment {compartment} offered but not free"
                );
                Effect::Dropoff {
                    effect: DropoffEffect::OpenForDeposit {
                        compartment,
                        parcel,
                    },
                    courier: self.courier,
                }
            }
            effect => Effect::Dropoff {
                effect,
                courier: self.courier,
            },
        };
        self.runtime.block_on(self.work.perform(effect));
        let mut events = Vec::new();
        while let Ok(input) = self.answers.try_recv() {
            let Input::Answer(answer) = input else {
                continue;
            };
            match answer {
                Answer::Courier(CourierAnswer::LoginChecked(courier)) => {
                    events.push(DropoffEvent::LoginChecked(courier.map(|c| {
                        self.courier = c.id;
                        c.id
                    })))
                }
                Answer::Courier(CourierAnswer::ParcelLookedUp(found)) => {
                    events.push(DropoffEvent::ParcelLookedUp(found))
                }
                Answer::Courier(CourierAnswer::CompartmentFound(found)) => {
                    events.push(DropoffEvent::CompartmentFound(found))
                }
                Answer::Courier(CourierAnswer::Retrievable(listed)) => {
                    events.push(DropoffEvent::RetrievableListed(listed))
                }
                Answer::StoreFailed(work) => panic!("the store failed: {work:?}"),
                _ => {}
            }
        }
        events
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
            Action::NotThere => E::ParcelNotThere,
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
        let state = self.flow.state().clone();
        let reported = self.reported.clone();
        self.with_store(move |store| check_store(store, &state, &reported))
    }
}

/// The invariants, on the store's thread: `state` is the flow's.
fn check_store(
    store: &mut Store,
    state: &DropoffState,
    reported: &[(String, u32)],
) -> Result<(), TestCaseError> {
    let parcels = store.parcels().in_locker().unwrap();
    let mut per_compartment: HashMap<u32, usize> = HashMap::new();
    for parcel in &parcels {
        let compartment = parcel.compartment;
        prop_assert!(compartment.is_some(), "{parcel:?} is nowhere");
        *per_compartment.entry(compartment.unwrap()).or_default() += 1;
        if parcel.status == ParcelStatus::Deposited {
            let code = store.parcels().pickup_code_for(parcel.recipient).unwrap();
            prop_assert!(code.is_some(), "{parcel:?} has no live code");
            let lookup = store
                .parcels()
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
    let session = state.session();
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
    let mut known: Vec<(String, u32)> = reported.to_vec();
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
    let held: Vec<u32> = store
        .compartments()
        .all()
        .unwrap()
        .into_iter()
        .filter(|c| c.state == CompartmentState::Reserved)
        .map(|c| c.number)
        .collect();
    let working = match state {
        DropoffState::Opening { compartment, .. } | DropoffState::Filling { compartment, .. } => {
            vec![*compartment]
        }
        _ => vec![],
    };
    for number in &held {
        prop_assert!(
            working.contains(number),
            "compartment {} stays held in {:?}",
            number,
            state
        );
    }
    Ok(())
}

/// The door the flow is working on, if any.
fn current_door_of(state: &DropoffState) -> Option<u32> {
    match state {
        DropoffState::Opening { compartment, .. }
        | DropoffState::Filling { compartment, .. }
        | DropoffState::Undoing { compartment, .. } => Some(*compartment),
        DropoffState::Retrieving { queue, .. } => queue.first().map(|p| p.parcel.compartment),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_courier_visits_never_lose_a_parcel(actions in proptest::collection::vec(action(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut harness = Harness::new(common::seeded_store(dir.path()));
        // Most visits start with a good log-in; some do not.
        harness.act(&Action::Login(true));
        for action in &actions {
            harness.act(action);
            harness.check()?;
        }
        // The announced parcel is either in the locker or still announced.
        let found = harness.with_store(|s| s.parcels().match_tracking(TRACKING[0]).unwrap());
        prop_assert!(
            matches!(found, ParcelMatch::Announced { .. } | ParcelMatch::AlreadyInLocker { .. }),
            "{found:?}"
        );
    }
}
