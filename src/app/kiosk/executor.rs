//! Carries out the kiosk's effects: one queue, one task, each effect in
//! the order it was given and each store write awaited before the next
//! begins, so that two effects of one step can never reach the store the
//! other way round. A door's open command is sent in order too; what its
//! sensor then saw arrives later, as an answer of its own, so that doors
//! meant to open together do. A store write that fails is an answer as
//! well ([`Answer::StoreFailed`]): the kiosk shows it.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::records::{self, Settings};
use super::returns::{ReturnAnswer, ReturnEffect};
use super::{
    Answer, CourierAnswer, Effect, Input, PickupAnswer, SizeOption, StaffAnswer, StoreWork,
};
use crate::app::service::ServiceError;
use crate::app::system::Clock;
use crate::app::{Service, admin};
use crate::domain::allocation::{AllocationRequest, allocate};
use crate::domain::dropoff::{DropoffEffect, ParcelMatch};
use crate::domain::pickup::{CodeLookup, OpenOutcome, PickupEffect};
use crate::domain::{CompartmentNumber, CompartmentView, DoorState, SizeClass, Timestamp};
use crate::hardware::doors::DoorSystem;
use crate::hardware::protocol::Door;
use crate::store::{Event, NewEvent, Store, StoreError};

/// Residents shown for one search.
const SEARCH_LIMIT: u32 = 8;

/// Where answers go: back into the kiosk, on whatever hosts it.
pub type Deliver = Arc<dyn Fn(Input) + Send + Sync>;

/// Opening doors and reading their sensors: the door system in the kiosk,
/// a script in the property test.
pub trait DoorControl: Send + Sync {
    /// Sends the open command; resolves to what the sensor saw.
    fn open(&self, compartment: CompartmentNumber) -> Option<oneshot::Receiver<OpenOutcome>>;
    fn door(&self, board: &str, channel: u16) -> Option<Door>;
    fn board_offline(&self, board: &str) -> bool;
}

impl DoorControl for DoorSystem {
    fn open(&self, compartment: CompartmentNumber) -> Option<oneshot::Receiver<OpenOutcome>> {
        match DoorSystem::open(self, compartment) {
            Ok(answer) => Some(answer),
            Err(e) => {
                tracing::error!(error = %e, "cannot open compartment {compartment}");
                None
            }
        }
    }
    fn door(&self, board: &str, channel: u16) -> Option<Door> {
        DoorSystem::door(self, board, channel)
    }
    fn board_offline(&self, board: &str) -> bool {
        DoorSystem::board_offline(self, board)
    }
}

/// What an open is for, written down before it is sent.
struct Intent {
    /// `pickup`, `deposit`, `take_back` or `undo`.
    purpose: &'static str,
    actor: String,
    /// The parcel going in, for a deposit.
    parcel: Option<crate::domain::dropoff::ParcelDraft>,
    /// The parcel coming out, for a take-back.
    taken: Option<crate::domain::pickup::ParcelId>,
}

/// The queue into the executor's task.
#[derive(Clone)]
pub struct Executor {
    queue: mpsc::UnboundedSender<Job>,
}

/// An effect to carry out, or a word that everything before it is done.
enum Job {
    Effect(Effect),
    Done(tokio::sync::oneshot::Sender<()>),
}

impl Executor {
    /// Starts the executor's task on `runtime`.
    pub fn start(work: Work, runtime: &tokio::runtime::Handle) -> Executor {
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        runtime.spawn(async move {
            while let Some(job) = jobs.recv().await {
                let effect = match job {
                    Job::Effect(effect) => effect,
                    Job::Done(done) => {
                        let _ = done.send(());
                        continue;
                    }
                };
                // Each in a task of its own, awaited: a bug that panics in
                // one effect loses that effect, not every one after it.
                let work = work.clone();
                if let Err(e) = tokio::spawn(async move { work.perform(effect).await }).await {
                    tracing::error!(error = %e, "carrying out an effect failed");
                }
            }
        });
        Executor { queue }
    }

    /// Queues `effects`, to be carried out in this order.
    pub fn run(&self, effects: Vec<Effect>) {
        for effect in effects {
            if self.queue.send(Job::Effect(effect)).is_err() {
                tracing::error!("the kiosk's executor has stopped");
            }
        }
    }

    /// Resolves once every effect queued so far has been carried out.
    pub fn drained(&self) -> tokio::sync::oneshot::Receiver<()> {
        let (done, drained) = tokio::sync::oneshot::channel();
        if self.queue.send(Job::Done(done)).is_err() {
            tracing::error!("the kiosk's executor has stopped");
        }
        drained
    }
}

/// What carrying out an effect needs.
#[derive(Clone)]
pub struct Work {
    service: Service,
    doors: Arc<dyn DoorControl>,
    clock: Arc<dyn Clock>,
    deliver: Deliver,
}

impl Work {
    pub fn new(service: Service, clock: Arc<dyn Clock>, deliver: Deliver) -> Work {
        let doors = service.door_system();
        Work::with_doors(service, doors, clock, deliver)
    }

    /// The same with other doors (the property test's script).
    pub fn with_doors(
        service: Service,
        doors: Arc<dyn DoorControl>,
        clock: Arc<dyn Clock>,
        deliver: Deliver,
    ) -> Work {
        Work {
            service,
            doors,
            clock,
            deliver,
        }
    }

    fn answer(&self, answer: Answer) {
        (self.deliver)(Input::Answer(answer));
    }

    /// Runs `f` on the store's thread.
    async fn store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store, Timestamp) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, ServiceError> {
        let now = self.clock.now();
        self.service.call(move |store| f(store, now)).await
    }

    /// A write: awaited, and its failure answered.
    async fn write(
        &self,
        work: StoreWork,
        f: impl FnOnce(&mut Store, Timestamp) -> Result<(), StoreError> + Send + 'static,
    ) -> bool {
        match self.store(f).await {
            Ok(()) => true,
            Err(e) => {
                self.failed(work, e).await;
                false
            }
        }
    }

    /// A read or write failed: the kiosk is told (it shows it), and the
    /// failure is recorded for staff where the records still take it.
    async fn failed(&self, work: StoreWork, error: ServiceError) {
        tracing::error!(%error, ?work, "the kiosk's records failed");
        self.answer(Answer::StoreFailed(work));
        let failure = Event::RecordsFailed {
            work: work.name().into(),
            error: error.to_string(),
        };
        let recorded = self
            .store(move |store, now| store.events().record(now, &NewEvent::new(failure, "kiosk")))
            .await;
        if let Err(e) = recorded {
            // Nothing more to do: the disk or database is failing.
            tracing::error!(error = %e, "recording the failure failed too");
        }
    }

    /// A read whose failure falls back to `fallback`, answered as failed.
    async fn read<R: Send + 'static>(
        &self,
        work: StoreWork,
        fallback: R,
        f: impl FnOnce(&mut Store, Timestamp) -> Result<R, StoreError> + Send + 'static,
    ) -> R {
        match self.store(f).await {
            Ok(found) => found,
            Err(e) => {
                self.failed(work, e).await;
                fallback
            }
        }
    }

    /// Writes down that the door is to open, then sends the open command;
    /// the outcome is answered when the sensor has spoken (no reply if the
    /// command could not be sent). A door whose intent cannot be written
    /// is not opened: that is answered as not sent, and the records'
    /// failure is shown.
    async fn open(
        &self,
        compartment: CompartmentNumber,
        intent: Intent,
        answer: fn(CompartmentNumber, OpenOutcome) -> Answer,
    ) {
        let event = Event::DoorOpenIntent {
            purpose: intent.purpose.into(),
            tracking: intent.parcel.as_ref().map(|p| p.tracking.clone()),
            recipient: intent.parcel.as_ref().map(|p| p.recipient),
            announced: intent.parcel.as_ref().and_then(|p| p.announced),
            to: None,
            reason: None,
        };
        let actor = intent.actor;
        let taken = intent.taken;
        let written = self
            .store(move |store, now| {
                let mut event = NewEvent::new(event, actor).compartment(compartment);
                if let Some(parcel) = taken {
                    event = event.parcel(parcel);
                }
                store.events().record(now, &event)
            })
            .await;
        if let Err(e) = written {
            tracing::error!(compartment, "not opening: the intent could not be recorded");
            self.failed(StoreWork::OpenIntent, e).await;
            self.answer(answer(compartment, OpenOutcome::NotSent));
            return;
        }
        let sent = self.doors.open(compartment);
        let work = self.clone();
        tokio::spawn(async move {
            let outcome = match sent {
                Some(outcome) => outcome.await.unwrap_or(OpenOutcome::NoReply),
                None => OpenOutcome::NoReply,
            };
            work.answer(answer(compartment, outcome));
        });
    }

    /// A person's return: a compartment held and opened for it, a door
    /// that failed flagged, the parcel accepted with its receipt.
    async fn returning(&self, effect: ReturnEffect) {
        match effect {
            ReturnEffect::Place {
                parcel,
                size,
                exclude,
            } => {
                let views = match compartment_views(&self.service, self.doors.as_ref()).await {
                    Ok(views) => views,
                    Err(e) => {
                        self.failed(StoreWork::Reservation, e).await;
                        self.answer(Answer::Return(ReturnAnswer::NoRoom));
                        return;
                    }
                };
                let mut request = crate::domain::AllocationRequest::new(size);
                request.exclude = &exclude;
                let Some(compartment) = crate::domain::allocate(&views, &request) else {
                    self.answer(Answer::Return(ReturnAnswer::NoRoom));
                    return;
                };
                let held = self
                    .read(StoreWork::Reservation, false, move |store, now| {
                        store.compartments().reserve(compartment, now)
                    })
                    .await;
                if !held {
                    self.answer(Answer::Return(ReturnAnswer::NoRoom));
                    return;
                }
                let intent = Intent {
                    purpose: "return",
                    actor: "recipient".into(),
                    parcel: None,
                    taken: Some(parcel),
                };
                self.open(compartment, intent, |compartment, outcome| {
                    Answer::Return(ReturnAnswer::DoorOutcome {
                        compartment,
                        outcome,
                    })
                })
                .await;
            }
            ReturnEffect::DoorFailed {
                parcel,
                compartment,
                outcome,
            } => {
                self.write(StoreWork::DoorFailure, move |store, now| {
                    let reason = format!("door did not open for a return ({})", outcome.name());
                    let waiting = crate::domain::pickup::WaitingParcel {
                        parcel,
                        compartment,
                    };
                    store
                        .compartments()
                        .door_failed(&waiting, &reason, "recipient", now)
                })
                .await;
            }
            ReturnEffect::Record {
                parcel,
                compartment,
            } => {
                let locker = self.service.config().locker.id.clone();
                let receipt = self
                    .read(StoreWork::Collection, None, move |store, now| {
                        let accepted =
                            store
                                .parcels()
                                .accept_return(parcel, compartment, true, now)?;
                        let proof = crate::domain::receipt::Receipt {
                            locker,
                            courier: accepted.person,
                            company: accepted.carrier,
                            issued_at: now.0 / 1000,
                            deposited: vec![crate::domain::receipt::ReceiptLine {
                                tracking: accepted.tracking,
                                door: compartment,
                                at: now.0 / 1000,
                            }],
                            retrieved: Vec::new(),
                        };
                        let key = store
                            .couriers()
                            .receipt_key(&mut crate::app::system::OsEntropy)?;
                        Ok(Some(crate::domain::receipt::sign(&proof, &key)))
                    })
                    .await;
                self.answer(Answer::Return(ReturnAnswer::Recorded(receipt)));
            }
        }
    }

    /// The parcel went out of its door but the records did not take it:
    /// its code is held shut meanwhile, and the collection is written again
    /// every few seconds until the records take it.
    fn retry_collection(
        &self,
        parcel: crate::domain::pickup::ParcelId,
        with: crate::domain::pickup::CollectedWith,
    ) {
        self.answer(Answer::Pickup(PickupAnswer::CollectionNotRecorded(parcel)));
        let work = self.clone();
        tokio::spawn(async move {
            let mut pause = std::time::Duration::from_secs(2);
            loop {
                tokio::time::sleep(pause).await;
                let done = work
                    .store(move |store, now| {
                        match store.parcels().collect_with(parcel, with, now) {
                            // Recorded meanwhile (a restart, staff): done too.
                            Err(StoreError::Rule(_)) => Ok(()),
                            other => other,
                        }
                    })
                    .await;
                match done {
                    Ok(()) => {
                        tracing::info!(parcel, "the collection is recorded now");
                        work.answer(Answer::Pickup(PickupAnswer::CollectionRecorded(parcel)));
                        return;
                    }
                    Err(ServiceError::Stopped) => return,
                    Err(e) => {
                        tracing::warn!(parcel, error = %e, "the collection is still not recorded");
                        pause = (pause * 2).min(std::time::Duration::from_secs(30));
                    }
                }
            }
        });
    }

    /// Carries out one effect.
    pub async fn perform(&self, effect: Effect) {
        match effect {
            Effect::Pickup(effect) => self.pickup(effect).await,
            Effect::SavePreferLow { parcel } => {
                let saved = self
                    .write(StoreWork::Preference, move |store, now| {
                        store.recipients().prefer_low(parcel, "recipient", now)
                    })
                    .await;
                if saved {
                    self.answer(Answer::Pickup(PickupAnswer::PreferLowSaved));
                }
            }
            Effect::Return(effect) => self.returning(effect).await,
            Effect::RememberDisplay {
                parcel,
                large_text,
                high_contrast,
            } => {
                let remembered = self
                    .read(StoreWork::Preference, None, move |store, now| {
                        let mut recipients = store.recipients();
                        let before = recipients.display_of(parcel)?;
                        if large_text.is_some() || high_contrast.is_some() {
                            recipients.remember_display(
                                parcel,
                                large_text,
                                high_contrast,
                                "recipient",
                                now,
                            )?;
                        }
                        Ok(Some(before))
                    })
                    .await;
                if let Some(remembered) = remembered {
                    self.answer(Answer::Pickup(PickupAnswer::RememberedDisplay(remembered)));
                }
            }
            Effect::Dropoff { effect, courier } => self.dropoff(effect, courier).await,
            Effect::EndVisit {
                session,
                courier,
                names,
            } => {
                let locker = self.service.config().locker.id.clone();
                let summary = self
                    .read(
                        StoreWork::VisitEnd,
                        Default::default(),
                        move |store, now| {
                            records::end_session(
                                store,
                                &locker,
                                courier.as_ref(),
                                &session,
                                &names,
                                now,
                            )
                        },
                    )
                    .await;
                self.answer(Answer::Courier(CourierAnswer::VisitEnded(summary)));
            }
            Effect::SearchRecipients(query) => {
                let text = query.clone();
                let found = self
                    .read(StoreWork::CourierStep, Vec::new(), move |store, _| {
                        store.recipients().search(&text, SEARCH_LIMIT)
                    })
                    .await;
                self.answer(Answer::Courier(CourierAnswer::SearchResults {
                    query,
                    found,
                }));
            }
            Effect::NameRecipient(id) => {
                let found = self
                    .read(StoreWork::CourierStep, None, move |store, _| {
                        store.recipients().get(id)
                    })
                    .await;
                if let Some(recipient) = found {
                    self.answer(Answer::Courier(CourierAnswer::RecipientNamed(recipient)));
                }
            }
            Effect::CountFree => {
                if let Some(views) = self.views().await {
                    self.answer(Answer::Courier(CourierAnswer::Capacity(size_options(
                        &views,
                    ))));
                }
            }
            Effect::CheckStaffPin(pin) => {
                let config = self.service.config().clone();
                let opens = self
                    .read(StoreWork::StaffPin, None, move |store, _| {
                        admin::check_pin(&store.staff(), &config, &pin)
                    })
                    .await;
                self.answer(Answer::Staff(StaffAnswer::PinChecked(opens)));
            }
            Effect::RecordStaff { who, entry } => {
                self.write(StoreWork::StaffEntry, move |store, now| {
                    let event = NewEvent::new(entry.event(), who.actor());
                    store.events().record(now, &event).map(|_| ())
                })
                .await;
            }
            Effect::SaveAttempts {
                keypad,
                attempts,
                refused,
            } => {
                self.write(StoreWork::Attempts, move |store, now| {
                    store
                        .staff()
                        .save_attempts(keypad.name(), attempts, refused, now)
                })
                .await;
            }
            Effect::RefreshOverview => match self.service.overview().await {
                Ok(overview) => self.answer(Answer::Overview(overview)),
                Err(e) => self.failed(StoreWork::Overview, e).await,
            },
        }
    }

    async fn pickup(&self, effect: PickupEffect) {
        match effect {
            PickupEffect::IssueDelegate(parcels) => {
                let pin_length = self.service.config().policies.pin_length;
                let ids: Vec<i64> = parcels.iter().map(|p| p.parcel).collect();
                let code = self
                    .read(StoreWork::Delegation, None, move |store, now| {
                        store
                            .parcels()
                            .delegate(
                                &ids,
                                None,
                                pin_length,
                                &mut crate::app::system::OsEntropy,
                                "recipient",
                                now,
                            )
                            .map(Some)
                    })
                    .await;
                self.answer(Answer::Pickup(PickupAnswer::DelegateIssued(code)));
            }
            PickupEffect::LookUp(code) => {
                let lookup = self
                    .read(
                        StoreWork::PickupLookup,
                        CodeLookup::Unknown,
                        move |store, _| store.parcels().look_up_code(&code),
                    )
                    .await;
                self.answer(Answer::Pickup(PickupAnswer::LookedUp(lookup)));
            }
            PickupEffect::OpenDoor(compartment) => {
                let intent = Intent {
                    purpose: "pickup",
                    actor: "recipient".into(),
                    parcel: None,
                    taken: None,
                };
                self.open(compartment, intent, |compartment, outcome| {
                    Answer::Pickup(PickupAnswer::DoorOutcome {
                        compartment,
                        outcome,
                    })
                })
                .await
            }
            PickupEffect::RecordCollected(parcel, with) => {
                let recorded = self
                    .write(StoreWork::Collection, move |store, now| {
                        store.parcels().collect_with(parcel.parcel, with, now)
                    })
                    .await;
                if !recorded {
                    self.retry_collection(parcel.parcel, with);
                }
            }
            PickupEffect::RecordDoorFailure { parcel, outcome } => {
                self.write(StoreWork::DoorFailure, move |store, now| {
                    let reason = format!("door did not open at pickup ({})", outcome.name());
                    store
                        .compartments()
                        .door_failed(&parcel, &reason, "kiosk", now)
                })
                .await;
            }
            PickupEffect::RecordReport {
                compartment,
                parcel,
                kind,
            } => {
                self.write(StoreWork::Report, move |store, now| {
                    store
                        .reports()
                        .add(kind, Some(compartment), parcel, "recipient", now)
                        .map(|_| ())
                })
                .await;
            }
            // Shown by the view from the flow's state.
            PickupEffect::RemindToClose(_) => {}
            PickupEffect::WatchDoors(compartments) => {
                // The door system keeps watching every door (left-open
                // alarm, closing seen by the sensor); note the hand-over.
                self.write(StoreWork::OpenDoorsHandOver, move |store, now| {
                    let event = NewEvent::new(Event::PickupLeftDoorsOpen { compartments }, "kiosk");
                    store.events().record(now, &event).map(|_| ())
                })
                .await;
            }
        }
    }

    async fn dropoff(&self, effect: DropoffEffect, courier: i64) {
        use DropoffEffect as F;
        let door_answer = |compartment, outcome| {
            Answer::Courier(CourierAnswer::DoorOutcome {
                compartment,
                outcome,
            })
        };
        match effect {
            F::CheckLogin(code) => {
                let found = self
                    .read(StoreWork::CourierStep, None, move |store, _| {
                        store.couriers().by_credential(&code)
                    })
                    .await;
                self.answer(Answer::Courier(CourierAnswer::LoginChecked(found)));
            }
            F::LookUpParcel(tracking) => {
                let found = self
                    .read(
                        StoreWork::CourierStep,
                        ParcelMatch::Unknown,
                        move |store, _| store.parcels().match_tracking(&tracking),
                    )
                    .await;
                self.answer(Answer::Courier(CourierAnswer::ParcelLookedUp(found)));
            }
            F::FindCompartment {
                size,
                accessible,
                exclude,
            } => {
                let found = self.views().await.and_then(|views| {
                    let request = AllocationRequest {
                        size,
                        accessible,
                        exclude: &exclude,
                    };
                    allocate(&views, &request).and_then(|number| {
                        views
                            .iter()
                            .find(|v| v.number == number)
                            .map(|v| (number, v.size))
                    })
                });
                self.answer(Answer::Courier(CourierAnswer::CompartmentFound(found)));
            }
            F::OpenForDeposit {
                compartment,
                parcel,
            } => {
                // The disk is nearly full: its last room is kept for the
                // parcels already inside to be collected.
                if self.service.disk_low() {
                    tracing::warn!(compartment, "no deposit while the data disk is nearly full");
                    self.answer(door_answer(compartment, OpenOutcome::NotSent));
                    return;
                }
                // Held before the door opens, so that nobody else is
                // offered it meanwhile.
                let held = self
                    .read(StoreWork::Reservation, false, move |store, now| {
                        store.compartments().reserve(compartment, now)
                    })
                    .await;
                if !held {
                    tracing::warn!(compartment, "compartment was no longer free");
                }
                let intent = Intent {
                    purpose: "deposit",
                    actor: format!("courier:{courier}"),
                    parcel: Some(parcel),
                    taken: None,
                };
                self.open(compartment, intent, door_answer).await;
            }
            F::OpenForUndo(compartment) => {
                let intent = Intent {
                    purpose: "undo",
                    actor: format!("courier:{courier}"),
                    parcel: None,
                    taken: None,
                };
                self.open(compartment, intent, door_answer).await
            }
            F::OpenForTakeBack(parcel) => {
                let intent = Intent {
                    purpose: "take_back",
                    actor: format!("courier:{courier}"),
                    parcel: None,
                    taken: Some(parcel.parcel),
                };
                self.open(parcel.compartment, intent, door_answer).await
            }
            F::ListRetrievable(courier) => {
                let listed = self
                    .read(StoreWork::CourierStep, Vec::new(), move |store, _| {
                        store.parcels().retrievable_for(courier)
                    })
                    .await;
                self.answer(Answer::Courier(CourierAnswer::Retrievable(listed)));
            }
            F::EndSession(_) => unreachable!("the courier's visit sends EndVisit instead"),
            effect => {
                let settings = Settings::from(self.service.config());
                self.write(StoreWork::CourierStep, move |store, now| {
                    records::write(store, &effect, courier, &settings, now)
                })
                .await;
            }
        }
    }

    /// Every compartment as allocation sees it now; `None` (answered as a
    /// failure) when the store cannot say.
    async fn views(&self) -> Option<Vec<CompartmentView>> {
        match compartment_views(&self.service, self.doors.as_ref()).await {
            Ok(views) => Some(views),
            Err(e) => {
                self.failed(StoreWork::CourierStep, e).await;
                None
            }
        }
    }
}

/// Every compartment as allocation sees it right now: the stored state,
/// the door sensor, and whether its board answers.
pub async fn compartment_views(
    service: &Service,
    doors: &dyn DoorControl,
) -> Result<Vec<CompartmentView>, ServiceError> {
    let stored = service
        .compartments(|compartments| compartments.all())
        .await?;
    Ok(stored
        .into_iter()
        .map(|c| {
            let door = match doors.door(&c.board, c.channel) {
                Some(Door::Open) => DoorState::Open,
                Some(Door::Closed) => DoorState::Closed,
                None => DoorState::Unknown,
            };
            CompartmentView {
                number: c.number,
                size: c.size,
                position: c.position,
                state: c.state,
                door,
                board_online: !doors.board_offline(&c.board),
            }
        })
        .collect())
}

/// The size screen's choices: every standard size, how many of exactly
/// that size are free, and whether any compartment would take it.
pub fn size_options(views: &[CompartmentView]) -> Vec<SizeOption> {
    let choosable = crate::domain::allocation::available_sizes(views);
    SizeClass::STANDARD
        .iter()
        .map(|size| SizeOption {
            size: *size,
            free: views
                .iter()
                .filter(|v| v.is_available() && v.size.largest_standard_fit() == Some(*size))
                .count(),
            enabled: choosable.contains(size),
        })
        .collect()
}
