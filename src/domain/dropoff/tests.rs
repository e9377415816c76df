//! The courier's visit, step by step, with the time given by hand.

use super::*;
use DropoffEffect as F;
use DropoffEvent as E;

const T0: Timestamp = Timestamp(5_000_000);

fn logged_in() -> DropoffFlow {
    let mut f = DropoffFlow::new(LockoutPolicy::default());
    assert_eq!(
        f.handle(E::LoginEntered("4711".into()), T0),
        vec![F::CheckLogin("4711".into())]
    );
    assert!(f.handle(E::LoginChecked(Some(1)), T0).is_empty());
    f
}

fn draft(tracking: &str) -> ParcelDraft {
    ParcelDraft {
        tracking: tracking.into(),
        recipient: 9,
        accessible: false,
        announced: None,
        size_hint: None,
    }
}

/// Logs in and brings one unannounced parcel to the size screen.
fn at_size_screen() -> DropoffFlow {
    let mut f = logged_in();
    assert_eq!(
        f.handle(E::ParcelScanned("1Z999".into()), T0),
        vec![F::LookUpParcel("1Z999".into())]
    );
    f.handle(E::ParcelLookedUp(ParcelMatch::Unknown), T0);
    assert!(matches!(f.state(), DropoffState::ChooseRecipient { .. }));
    f.handle(
        E::RecipientChosen {
            recipient: 9,
            accessible: false,
        },
        T0,
    );
    f
}

fn find(size: SizeClass, exclude: Vec<CompartmentNumber>) -> DropoffEffect {
    F::FindCompartment {
        size,
        accessible: false,
        exclude,
    }
}

#[test]
fn a_full_deposit() {
    let mut f = at_size_screen();
    assert_eq!(
        f.handle(E::SizeChosen(SizeClass::M), T0),
        vec![find(SizeClass::M, vec![])]
    );
    assert_eq!(
        f.handle(E::CompartmentFound(Some((12, SizeClass::M))), T0),
        vec![F::OpenForDeposit {
            compartment: 12,
            parcel: draft("1Z999")
        }]
    );
    assert!(f.handle(E::DoorOutcome(OpenOutcome::Opened), T0).is_empty());
    // A different door closing is not this deposit.
    assert!(f.handle(E::DoorClosed { compartment: 3 }, T0).is_empty());
    let deposit = Deposit {
        parcel: draft("1Z999"),
        compartment: 12,
        at: T0,
    };
    assert_eq!(
        f.handle(E::DoorClosed { compartment: 12 }, T0),
        vec![F::RecordDeposit {
            deposit: deposit.clone(),
            courier: 1,
            confirmed: true
        }]
    );
    let effects = f.handle(E::Finish, T0);
    let DropoffState::Finished { session } = f.state() else {
        panic!("not finished: {:?}", f.state());
    };
    assert_eq!(session.deposits, vec![deposit]);
    assert_eq!(effects, vec![F::EndSession(session.clone())]);
}

#[test]
fn announced_parcels_skip_the_recipient_search() {
    let mut f = logged_in();
    f.handle(E::ParcelScanned("00340123450000000018".into()), T0);
    f.handle(
        E::ParcelLookedUp(ParcelMatch::Announced {
            parcel: 4,
            recipient: 9,
            accessible: true,
            size: Some(SizeClass::L),
        }),
        T0,
    );
    let DropoffState::ChooseSize { parcel, .. } = f.state() else {
        panic!("{:?}", f.state());
    };
    assert_eq!(parcel.announced, Some(4));
    assert_eq!(parcel.size_hint, Some(SizeClass::L));
    assert!(parcel.accessible);
}

#[test]
fn a_parcel_scanned_twice_is_refused() {
    let mut f = logged_in();
    f.handle(E::ParcelScanned("X".into()), T0);
    f.handle(
        E::ParcelLookedUp(ParcelMatch::AlreadyInLocker { compartment: 5 }),
        T0,
    );
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::AlreadyInLocker { compartment: 5 }),
            ..
        }
    ));
}

#[test]
fn a_door_that_did_not_open_is_flagged_and_replaced() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    assert_eq!(
        f.handle(E::DoorOutcome(OpenOutcome::Jammed), T0),
        vec![
            F::Flag {
                compartment: 1,
                problem: ProblemKind::DoorDidNotOpen
            },
            find(SizeClass::S, vec![1])
        ]
    );
}

#[test]
fn doesnt_fit_asks_for_the_next_size_up() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    assert_eq!(
        f.handle(E::DoesNotFit, T0),
        vec![F::Release(1), find(SizeClass::M, vec![1])]
    );
    f.handle(E::CompartmentFound(Some((2, SizeClass::Xl))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    assert_eq!(f.handle(E::DoesNotFit, T0), vec![F::Release(2)]);
    assert!(matches!(
        f.state(),
        DropoffState::ChooseSize {
            notice: Some(DropoffNotice::NothingBigger),
            ..
        }
    ));
}

#[test]
fn dirty_compartment_is_flagged_and_replaced_by_same_size() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::L), T0);
    f.handle(E::CompartmentFound(Some((7, SizeClass::L))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::AlreadyOpen), T0);
    assert_eq!(
        f.handle(E::CompartmentDirty, T0),
        vec![
            F::Flag {
                compartment: 7,
                problem: ProblemKind::Dirty
            },
            find(SizeClass::L, vec![7])
        ]
    );
}

#[test]
fn a_full_locker_says_so() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::Xl), T0);
    f.handle(E::CompartmentFound(None), T0);
    assert!(matches!(
        f.state(),
        DropoffState::ChooseSize {
            notice: Some(DropoffNotice::NoRoom {
                size: SizeClass::Xl
            }),
            ..
        }
    ));
}

#[test]
fn leaving_with_an_open_door_records_an_unconfirmed_deposit() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    assert_eq!(
        f.handle(E::Leave, T0),
        vec![
            F::RecordDeposit {
                deposit: Deposit {
                    parcel: draft("1Z999"),
                    compartment: 1,
                    at: T0,
                },
                courier: 1,
                confirmed: false
            },
            F::WatchDoors(vec![1]),
            F::EndSession(Session {
                to_close: Vec::new(),
                courier: 1,
                deposits: vec![Deposit {
                    parcel: draft("1Z999"),
                    compartment: 1,
                    at: T0,
                }],
                retrieved: vec![],
            })
        ]
    );
    assert_eq!(f.state(), &DropoffState::Login { notice: None });
}

#[test]
fn leaving_while_a_door_opens_releases_and_watches_it() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    assert_eq!(
        f.handle(E::Leave, T0),
        vec![F::Release(1), F::WatchDoors(vec![1])]
    );
}

/// Deposits one unannounced parcel in compartment 12.
fn with_one_deposit() -> DropoffFlow {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::M), T0);
    f.handle(E::CompartmentFound(Some((12, SizeClass::M))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    f.handle(E::DoorClosed { compartment: 12 }, T0);
    f
}

#[test]
fn leaving_from_any_step_reports_the_visits_deposits() {
    let mut f = with_one_deposit();
    f.handle(E::ParcelScanned("X".into()), T0);
    f.handle(E::ParcelLookedUp(ParcelMatch::Unknown), T0);
    let effects = f.handle(E::Leave, T0);
    assert!(
        matches!(&effects[..], [F::EndSession(session)] if session.deposits.len() == 1),
        "{effects:?}"
    );
}

#[test]
fn a_deposit_made_in_error_is_undone_once_its_door_opens() {
    let mut f = with_one_deposit();
    // Only this session's deposits can be undone.
    assert!(f.handle(E::Undo { compartment: 3 }, T0).is_empty());
    assert_eq!(
        f.handle(E::Undo { compartment: 12 }, T0),
        vec![F::OpenForUndo(12)]
    );
    assert_eq!(
        f.handle(E::DoorOutcome(OpenOutcome::Opened), T0),
        vec![F::CancelDeposit {
            deposit: Deposit {
                parcel: draft("1Z999"),
                compartment: 12,
                at: T0
            },
            courier: 1
        }]
    );
    let DropoffState::ScanParcel { session, notice } = f.state() else {
        panic!("{:?}", f.state());
    };
    assert!(session.deposits.is_empty());
    assert_eq!(notice, &Some(DropoffNotice::Undone { compartment: 12 }));
}

#[test]
fn an_undo_whose_door_stays_shut_keeps_the_deposit() {
    let mut f = with_one_deposit();
    f.handle(E::Undo { compartment: 12 }, T0);
    assert!(f.handle(E::DoorOutcome(OpenOutcome::Jammed), T0).is_empty());
    let DropoffState::ScanParcel { session, notice } = f.state() else {
        panic!("{:?}", f.state());
    };
    assert_eq!(session.deposits.len(), 1);
    assert_eq!(notice, &Some(DropoffNotice::UndoFailed { compartment: 12 }));
}

#[test]
fn a_full_locker_is_said_before_any_door_and_recorded() {
    let mut f = at_size_screen();
    assert_eq!(
        f.handle(E::LockerFull, T0),
        vec![F::RecordLockerFull {
            tracking: "1Z999".into(),
            courier: 1
        }]
    );
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::LockerFull),
            ..
        }
    ));
}

#[test]
fn back_keeps_the_parcel_with_the_courier() {
    let mut f = at_size_screen();
    assert!(f.handle(E::BackToScan, T0).is_empty());
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel { notice: None, .. }
    ));
    f.handle(E::TrackingRefused(TrackingProblem::BadCheckDigit), T0);
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::InvalidTracking(
                TrackingProblem::BadCheckDigit
            )),
            ..
        }
    ));
}

#[test]
fn a_door_not_opened_for_want_of_records_keeps_the_parcel_with_the_courier() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    // Not flagged (the door is sound), not tried elsewhere, given back.
    assert_eq!(
        f.handle(E::DoorOutcome(OpenOutcome::NotSent), T0),
        vec![F::Release(1)]
    );
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::NotRecorded),
            ..
        }
    ));
}

#[test]
fn a_door_the_courier_says_did_not_open_is_replaced_but_not_called_faulty() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    // Its sensor saw it open: staff are told of the disagreement, and the
    // door is one to close.
    assert_eq!(
        f.handle(E::DoorDidNotOpen, T0),
        vec![
            F::Release(1),
            F::RecordSensorDisagreement { compartment: 1 },
            find(SizeClass::S, vec![1])
        ]
    );
    assert_eq!(f.state().session().unwrap().to_close, vec![1]);
}

#[test]
fn a_door_left_behind_is_one_to_close_until_its_sensor_sees_it_shut() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    f.handle(E::DoesNotFit, T0);
    f.handle(E::CompartmentFound(Some((7, SizeClass::M))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    assert_eq!(f.state().session().unwrap().to_close, vec![1]);
    // The parcel goes into door 7; door 1 is still open.
    f.handle(E::DoorClosed { compartment: 7 }, T0);
    assert!(matches!(f.state(), DropoffState::ScanParcel { .. }));
    assert_eq!(f.state().session().unwrap().to_close, vec![1]);
    f.handle(E::DoorClosed { compartment: 1 }, T0);
    assert!(f.state().session().unwrap().to_close.is_empty());
}

#[test]
fn leaving_with_a_door_to_close_hands_it_to_the_watcher() {
    let mut f = at_size_screen();
    f.handle(E::SizeChosen(SizeClass::S), T0);
    f.handle(E::CompartmentFound(Some((1, SizeClass::S))), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    f.handle(E::CompartmentDirty, T0);
    let effects = f.handle(E::Leave, T0);
    assert!(effects.contains(&F::WatchDoors(vec![1])), "{effects:?}");
}

fn to_take_back(parcel: i64, compartment: u32) -> Retrievable {
    Retrievable {
        parcel: WaitingParcel {
            parcel,
            compartment,
        },
        tracking: format!("TRACK{parcel}"),
    }
}

#[test]
fn retrieval_goes_door_by_door_and_a_closed_door_is_a_parcel_taken() {
    let mut f = logged_in();
    assert_eq!(f.handle(E::StartRetrieval, T0), vec![F::ListRetrievable(1)]);
    let (a, b) = (to_take_back(10, 4), to_take_back(11, 6));
    assert_eq!(
        f.handle(E::RetrievableListed(vec![a.clone(), b.clone()]), T0),
        vec![F::OpenForTakeBack(a.parcel)]
    );
    // Open: nothing recorded until the courier closes the door.
    assert_eq!(f.handle(E::DoorOutcome(OpenOutcome::Opened), T0), vec![]);
    assert_eq!(
        f.handle(E::DoorClosed { compartment: 4 }, T0),
        vec![
            F::RecordRetrieved {
                parcel: a.parcel,
                courier: 1
            },
            F::OpenForTakeBack(b.parcel)
        ]
    );
    assert_eq!(
        f.handle(E::DoorOutcome(OpenOutcome::NoReply), T0),
        vec![F::RecordDoorFailure {
            parcel: b.parcel,
            outcome: OpenOutcome::NoReply
        }]
    );
    // The end is confirmed with what the courier now has.
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::TakenBack { count: 1 }),
            ..
        }
    ));
}

#[test]
fn an_empty_compartment_or_a_door_that_did_not_open_is_said_at_the_door_step() {
    let mut f = logged_in();
    f.handle(E::StartRetrieval, T0);
    let (a, b) = (to_take_back(10, 4), to_take_back(11, 6));
    f.handle(E::RetrievableListed(vec![a.clone(), b.clone()]), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    // Empty: reported and recorded missing, the door to close, on to the next.
    assert_eq!(
        f.handle(E::ParcelNotThere, T0),
        vec![
            F::RecordMissing {
                parcel: a.parcel,
                courier: 1
            },
            F::OpenForTakeBack(b.parcel)
        ]
    );
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    // "Didn't open" though its sensor saw it open: for staff, not faulty;
    // the parcel stays for the next visit.
    assert_eq!(
        f.handle(E::DoorDidNotOpen, T0),
        vec![F::RecordSensorDisagreement { compartment: 6 }]
    );
    let DropoffState::ScanParcel { session, notice } = f.state() else {
        panic!("{:?}", f.state());
    };
    assert_eq!(notice, &Some(DropoffNotice::NothingToRetrieve));
    assert_eq!(session.to_close, vec![4, 6]);
    assert!(session.retrieved.is_empty());
}

#[test]
fn leaving_with_a_take_back_door_open_records_the_parcel_taken() {
    let mut f = logged_in();
    f.handle(E::StartRetrieval, T0);
    let a = to_take_back(10, 4);
    f.handle(E::RetrievableListed(vec![a.clone()]), T0);
    f.handle(E::DoorOutcome(OpenOutcome::Opened), T0);
    let effects = f.handle(E::Leave, T0);
    assert!(
        effects.contains(&F::RecordRetrieved {
            parcel: a.parcel,
            courier: 1
        }),
        "{effects:?}"
    );
    assert!(effects.contains(&F::WatchDoors(vec![4])), "{effects:?}");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, F::EndSession(s) if s.retrieved == vec![a.parcel])),
        "{effects:?}"
    );
}

#[test]
fn nothing_to_retrieve_says_so() {
    let mut f = logged_in();
    f.handle(E::StartRetrieval, T0);
    f.handle(E::RetrievableListed(vec![]), T0);
    assert!(matches!(
        f.state(),
        DropoffState::ScanParcel {
            notice: Some(DropoffNotice::NothingToRetrieve),
            ..
        }
    ));
}

#[test]
fn wrong_courier_codes_lock_out() {
    let mut f = DropoffFlow::new(LockoutPolicy {
        max_attempts: 2,
        ..LockoutPolicy::default()
    });
    f.handle(E::LoginEntered("1111".into()), T0);
    f.handle(E::LoginChecked(None), T0);
    assert_eq!(
        f.state(),
        &DropoffState::Login {
            notice: Some(DropoffNotice::WrongCode { attempts_left: 1 })
        }
    );
    f.handle(E::LoginEntered("2222".into()), T0);
    f.handle(E::LoginChecked(None), T0);
    assert!(matches!(f.state(), DropoffState::LockedOut { .. }));
    assert!(f.handle(E::LoginEntered("4711".into()), T0).is_empty());
}

#[test]
fn a_lockout_names_its_end_and_gives_the_login_back_then() {
    let mut f = DropoffFlow::new(LockoutPolicy {
        max_attempts: 1,
        ..LockoutPolicy::default()
    });
    assert_eq!(f.deadline(), None, "nothing is due at the login");
    f.handle(E::LoginEntered("1111".into()), T0);
    f.handle(E::LoginChecked(None), T0);
    let Some(until) = f.deadline() else {
        panic!("a lockout has an end: {:?}", f.state());
    };
    assert!(until > T0);
    f.handle(E::Tick, Timestamp(until.0 - 1));
    assert!(matches!(f.state(), DropoffState::LockedOut { .. }));
    f.handle(E::Tick, until);
    assert_eq!(f.state(), &DropoffState::Login { notice: None });
    assert_eq!(f.deadline(), None);
    assert_eq!(
        f.handle(E::LoginEntered("4711".into()), until),
        vec![F::CheckLogin("4711".into())]
    );
}

#[test]
fn next_bigger_walks_the_standard_sizes() {
    assert_eq!(next_bigger(SizeClass::S), Some(SizeClass::M));
    assert_eq!(next_bigger(SizeClass::L), Some(SizeClass::Xl));
    assert_eq!(next_bigger(SizeClass::Xl), None);
    let custom = SizeClass::Custom(crate::domain::Dimensions::new(400, 300, 600));
    assert_eq!(next_bigger(custom), Some(SizeClass::L));
}

#[test]
fn job_request_matches_find_effect() {
    let job = Job {
        parcel: draft("x"),
        size: SizeClass::M,
        tried: vec![3],
    };
    let request = job.request();
    assert_eq!(request.size, SizeClass::M);
    assert_eq!(request.exclude, &[3]);
}
