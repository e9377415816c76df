//! The kiosk driver on its own: inputs in, effects and views out, with
//! the time given by hand. No store, no doors, no window.

use super::*;
use crate::domain::dropoff::ParcelDraft;
use crate::domain::pickup::{CodeInput, WaitingParcel};
use crate::scanning::ScanSource;

const START: Timestamp = Timestamp(1_780_000_000_000);

/// The demo kiosk and a clock turned by hand.
struct Bench {
    kiosk: Kiosk,
    now: Timestamp,
}

impl Bench {
    fn new() -> Bench {
        let mut kiosk = Kiosk::new(&Config::demo());
        assert_eq!(kiosk.start(), vec![Effect::RefreshOverview]);
        Bench { kiosk, now: START }
    }

    fn at(&mut self, secs: f64) -> &mut Self {
        self.now = Timestamp(START.0 + (secs * 1000.0) as i64);
        self
    }

    fn send(&mut self, input: Input) -> Vec<Effect> {
        self.kiosk.handle(input, self.now)
    }

    fn typed(&mut self, text: &str) {
        for key in text.chars() {
            self.send(Input::Key(key.to_string()));
        }
    }

    fn view(&self) -> KioskView {
        self.kiosk.view(self.now)
    }

    /// Ticks whenever the kiosk asked to be woken, up to `secs`.
    fn run_until(&mut self, secs: f64) -> Vec<Effect> {
        let end = Timestamp(START.0 + (secs * 1000.0) as i64);
        let mut effects = Vec::new();
        while let Some(wake) = self.kiosk.poll_timeout(self.now) {
            if wake > end {
                break;
            }
            self.now = wake.max(self.now);
            effects.extend(self.send(Input::Tick));
        }
        self.now = end;
        effects
    }
}

fn scan(text: &str) -> Input {
    Input::Scanned(ScanEvent::new(text.into(), ScanSource::Serial))
}

fn alice() -> WaitingParcel {
    WaitingParcel {
        parcel: 1,
        compartment: 2,
    }
}

#[test]
fn an_idle_kiosk_at_home_asks_for_no_wake_up() {
    let bench = Bench::new();
    assert_eq!(bench.view().page, Page::Home);
    assert_eq!(bench.kiosk.poll_timeout(bench.now), None);
}

#[test]
fn a_pickup_from_the_typed_code_to_thank_you_and_home() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    assert_eq!(bench.view().page, Page::PickupCode, "within the touch");
    bench.typed("583920");
    assert_eq!(bench.view().typed, "583920");
    let effects = bench.send(Input::Enter);
    assert_eq!(
        effects,
        vec![Effect::Pickup(PickupEffect::LookUp(CodeInput::Pin(
            "583920".into()
        )))]
    );
    assert_eq!(bench.view().typed, "", "submitted");
    assert_eq!(bench.view().pickup.notice, CodeNotice::Checking);

    let effects = bench
        .at(0.1)
        .send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
            CodeLookup::Valid(vec![alice()]),
        ))));
    assert_eq!(
        effects,
        vec![
            Effect::RememberDisplay {
                parcel: alice().parcel,
                large_text: None,
                high_contrast: None
            },
            Effect::Pickup(PickupEffect::OpenDoor(2))
        ]
    );
    assert_eq!(bench.view().page, Page::PickupDoors);
    let effects = bench
        .at(0.5)
        .send(Input::Answer(Answer::Pickup(PickupAnswer::DoorOutcome {
            compartment: 2,
            outcome: OpenOutcome::Opened,
        })));
    assert_eq!(
        effects,
        vec![Effect::Pickup(PickupEffect::RecordCollected(
            alice(),
            crate::domain::pickup::CollectedWith::Code
        ))]
    );
    // While the door is open nothing is due before its close reminder.
    assert_eq!(
        bench.kiosk.poll_timeout(bench.now),
        Some(Timestamp(START.0 + 30_500))
    );
    bench.at(3.0).send(Input::DoorClosed(2));
    assert_eq!(bench.view().page, Page::PickupDone);

    // "Thank you" for five seconds, then home: the visit is over and the
    // locker's state is read again.
    let effects = bench.run_until(7.9);
    assert!(effects.is_empty());
    assert_eq!(bench.view().page, Page::PickupDone);
    let effects = bench.run_until(8.1);
    assert_eq!(effects, vec![Effect::RefreshOverview]);
    assert_eq!(bench.view().page, Page::Home);
    assert_eq!(bench.view().visits_ended, 1);
    assert_eq!(bench.kiosk.poll_timeout(bench.now), None);
}

#[test]
fn nobody_touching_the_screen_ends_the_visit_after_the_idle_timeout() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    bench.typed("58");
    bench.at(30.0).send(Input::Touch);
    bench.run_until(89.9);
    assert_eq!(
        bench.view().page,
        Page::PickupCode,
        "60 s after the last touch"
    );
    bench.run_until(90.1);
    assert_eq!(bench.view().page, Page::Home);
    assert_eq!(bench.view().typed, "", "what was typed goes with the visit");
}

#[test]
fn a_language_chosen_at_home_lasts_the_whole_visit_and_no_longer() {
    let mut bench = Bench::new();
    bench.send(Input::LanguageChosen("de".into()));
    bench.send(Input::PickupChosen);
    assert_eq!(bench.view().language, "de");
    bench.send(Input::Leave);
    assert_eq!(bench.view().page, Page::Home);
    assert_eq!(bench.view().language, "en", "the next person starts afresh");

    bench.send(Input::LanguageChosen("es".into()));
    bench.send(Input::DeliverChosen);
    assert_eq!(bench.view().page, Page::CourierLogin);
    assert_eq!(bench.view().language, "es");
}

#[test]
fn a_recipients_display_is_remembered_and_met_again_once_their_code_is_known() {
    let mut bench = Bench::new();
    // Alice chose larger text at home: remembered with her code.
    bench.send(Input::DisplayToggled(DisplayChoice::LargeText));
    bench.send(Input::PickupChosen);
    let effects = bench.send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
        CodeLookup::Valid(vec![alice()]),
    ))));
    assert_eq!(
        effects[0],
        Effect::RememberDisplay {
            parcel: alice().parcel,
            large_text: Some(true),
            high_contrast: None
        }
    );
    bench.send(Input::Leave);
    assert!(
        !bench.view().display.large_text,
        "the next person starts plain"
    );

    // Next visit she touches nothing: once her code is known, her larger
    // text and high contrast come back; a choice made now wins.
    bench.send(Input::DisplayToggled(DisplayChoice::HighContrast));
    bench.send(Input::DisplayToggled(DisplayChoice::HighContrast));
    bench.send(Input::PickupChosen);
    let remembered = crate::store::DisplayPreferences {
        large_text: true,
        high_contrast: true,
    };
    bench.send(Input::Answer(Answer::Pickup(
        PickupAnswer::RememberedDisplay(remembered),
    )));
    let display = bench.view().display;
    assert!(display.large_text, "remembered");
    assert!(
        !display.high_contrast,
        "switched off this visit: not overridden"
    );
}

#[test]
fn display_choices_made_at_home_last_the_whole_visit_in_every_flow() {
    let mut bench = Bench::new();
    let chosen = Display {
        large_text: true,
        high_contrast: true,
        prefer_low: true,
        large_text_chosen: true,
        high_contrast_chosen: true,
        speech: false,
    };
    for flow in [Input::PickupChosen, Input::DeliverChosen] {
        bench.send(Input::DisplayToggled(DisplayChoice::LargeText));
        bench.send(Input::DisplayToggled(DisplayChoice::HighContrast));
        bench.send(Input::DisplayToggled(DisplayChoice::PreferLow));
        assert_eq!(bench.view().display, chosen);
        bench.send(flow);
        assert_ne!(bench.view().page, Page::Home);
        assert_eq!(bench.view().display, chosen, "kept when the flow starts");
        bench.send(Input::Leave);
        assert_eq!(bench.view().page, Page::Home);
        assert_eq!(
            bench.view().display,
            Display::default(),
            "the next person starts afresh"
        );
    }
}

#[test]
fn choices_made_at_home_by_someone_who_walked_away_are_forgotten() {
    let mut bench = Bench::new();
    assert_eq!(bench.kiosk.poll_timeout(bench.now), None);
    bench.send(Input::LanguageChosen("de".into()));
    bench.send(Input::DisplayToggled(DisplayChoice::LargeText));
    assert!(bench.kiosk.poll_timeout(bench.now).is_some());
    bench.run_until(59.0);
    assert_eq!(bench.view().language, "de");
    assert!(bench.view().display.large_text);
    bench.run_until(61.0);
    assert_eq!(bench.view().language, "en");
    assert_eq!(bench.view().display, Display::default());
    assert_eq!(bench.kiosk.poll_timeout(bench.now), None, "asleep again");
}

#[test]
fn a_code_shown_to_the_camera_belongs_to_the_person_at_the_screen() {
    let mut bench = Bench::new();
    // A courier is logging in: a recipient's QR held up behind them is
    // not theirs to take.
    bench.send(Input::DeliverChosen);
    let effects = bench.send(scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"));
    assert!(effects.is_empty());
    assert_eq!(bench.kiosk.owner(), Owner::Courier);
    assert_eq!(bench.view().page, Page::CourierLogin);
    bench.send(Input::Leave);

    // A recipient is at the code screen: a courier's badge is ignored.
    bench.send(Input::PickupChosen);
    assert!(bench.send(scan("LKC1:demo-1:DANA")).is_empty());
    assert_eq!(bench.view().page, Page::PickupCode);
    bench.send(Input::Leave);

    // Staff in maintenance: every scan is a test scan.
    bench.send(Input::MaintenanceRequested);
    assert!(
        bench
            .send(scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"))
            .is_empty()
    );
    assert!(bench.send(scan("LKC1:demo-1:DANA")).is_empty());
    assert_eq!(bench.view().page, Page::MaintenancePin);
    bench.send(Input::Leave);

    // Nobody at the screen: a pickup QR starts a pickup without a touch.
    let effects = bench.send(scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"));
    assert_eq!(
        effects,
        vec![Effect::Pickup(PickupEffect::LookUp(CodeInput::QrToken(
            "DEMOALICEAAAAAAAAAAAAAAAAA".into()
        )))]
    );
    assert_eq!(bench.kiosk.owner(), Owner::Recipient);
}

#[test]
fn a_locker_out_of_service_starts_no_visit_but_lets_staff_in_and_a_visit_finish() {
    let mut bench = Bench::new();
    // A recipient is at the code screen when staff close the locker from
    // afar: their visit goes on.
    bench.send(Input::PickupChosen);
    let closed = Overview {
        closed: Some(crate::store::Closure {
            reason: "flooded".into(),
            since: START,
            by: "cli:root".into(),
        }),
        ..Overview::default()
    };
    bench.send(Input::Answer(Answer::Overview(closed)));
    assert!(bench.kiosk.out_of_service());
    assert_eq!(bench.view().page, Page::PickupCode);
    bench.send(Input::Leave);

    // Then nobody starts one: no button, no code, no badge.
    for input in [
        Input::PickupChosen,
        Input::DeliverChosen,
        scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"),
        scan("LKC1:demo-1:DANA"),
    ] {
        assert!(bench.send(input.clone()).is_empty(), "{input:?}");
        assert_eq!(bench.view().page, Page::Home, "{input:?}");
        assert_eq!(bench.kiosk.owner(), Owner::Nobody);
    }
    // Staff still come in.
    bench.send(Input::MaintenanceRequested);
    assert_eq!(bench.view().page, Page::MaintenancePin);
    bench.send(Input::Leave);

    // Back in service: a code starts a pickup again.
    bench.send(Input::Answer(Answer::Overview(Overview::default())));
    assert!(
        !bench
            .send(scan("LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA"))
            .is_empty()
    );
    assert_eq!(bench.kiosk.owner(), Owner::Recipient);
}

#[test]
fn a_badge_at_home_logs_the_courier_in_and_a_foreign_code_is_named() {
    let mut bench = Bench::new();
    let effects = bench.send(scan("LKC1:demo-1:DANA"));
    assert_eq!(
        effects,
        vec![Effect::Dropoff {
            effect: DropoffEffect::CheckLogin("LKC1:demo-1:DANA".into()),
            courier: 0
        }]
    );
    assert_eq!(bench.view().page, Page::CourierLogin);
    bench.send(Input::Leave);

    // Another locker's QR at home: said on the code screen.
    bench.send(scan("LK1:other-7:AAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(bench.view().page, Page::PickupCode);
    assert_eq!(bench.view().pickup.notice, CodeNotice::OtherLocker);
}

#[test]
fn each_screen_starts_with_an_empty_field_and_secrets_are_dots() {
    let mut bench = Bench::new();
    bench.send(Input::DeliverChosen);
    bench.typed("47119999999");
    assert_eq!(bench.view().typed, "••••••••", "8 digits at most, hidden");
    bench.send(Input::Leave);
    bench.send(Input::PickupChosen);
    assert_eq!(bench.view().typed, "");
    bench.typed("12");
    bench.send(Input::Erase);
    assert_eq!(bench.view().typed, "1");
}

/// A courier logged in, at the door with a parcel for Deniz in it.
fn courier_at_an_open_door(bench: &mut Bench) {
    courier_logged_in(bench);
    bench.typed("9400111899223197428497");
    bench.send(Input::Enter);
    let effects = bench.send(Input::Answer(Answer::Courier(
        CourierAnswer::ParcelLookedUp(ParcelMatch::Announced {
            parcel: 7,
            recipient: 4,
            accessible: false,
            size: Some(SizeClass::M),
        }),
    )));
    assert!(effects.contains(&Effect::NameRecipient(4)));
    assert!(effects.contains(&Effect::CountFree));
    assert_eq!(bench.view().page, Page::CourierSize);
    bench.send(Input::SizeChosen(SizeClass::M));
    assert_eq!(
        bench.view().page,
        Page::CourierDoor,
        "finding a compartment"
    );
    let effects = bench.send(Input::Answer(Answer::Courier(
        CourierAnswer::CompartmentFound(Some((14, SizeClass::M))),
    )));
    assert_eq!(
        effects,
        vec![Effect::Dropoff {
            effect: DropoffEffect::OpenForDeposit {
                compartment: 14,
                parcel: ParcelDraft {
                    tracking: "9400111899223197428497".into(),
                    recipient: 4,
                    accessible: false,
                    announced: Some(7),
                    size_hint: Some(SizeClass::M),
                },
            },
            courier: 1
        }]
    );
    bench.send(Input::Answer(Answer::Courier(CourierAnswer::DoorOutcome {
        compartment: 14,
        outcome: OpenOutcome::Opened,
    })));
    assert_eq!(bench.view().courier.door, Some((14, DoorStep::Open)));
}

#[test]
fn a_courier_leaving_mid_deposit_records_the_deposit_before_the_visit_ends() {
    let mut bench = Bench::new();
    courier_at_an_open_door(&mut bench);
    let effects = bench.send(Input::Leave);
    let deposit = effects
        .iter()
        .position(|e| {
            matches!(
                e,
                Effect::Dropoff {
                    effect: DropoffEffect::RecordDeposit {
                        confirmed: false,
                        ..
                    },
                    ..
                }
            )
        })
        .expect("the parcel in the open door is recorded");
    let end = effects
        .iter()
        .position(|e| matches!(e, Effect::EndVisit { .. }))
        .expect("the visit is reported");
    assert!(deposit < end, "{effects:?}");
    assert_eq!(effects.last(), Some(&Effect::RefreshOverview));
    assert_eq!(bench.view().page, Page::Home);
}

#[test]
fn staff_are_locked_out_after_wrong_pins_and_maintenance_closes_when_idle() {
    let mut bench = Bench::new();
    bench.send(Input::MaintenanceRequested);
    assert_eq!(bench.view().page, Page::MaintenancePin);
    let wrong = Input::Answer(Answer::Staff(StaffAnswer::PinChecked(None)));
    for left in (1..5).rev() {
        bench.typed("111111");
        assert_eq!(bench.view().typed, "••••••");
        assert_eq!(
            bench.send(Input::Enter),
            vec![Effect::CheckStaffPin("111111".into())]
        );
        assert_eq!(bench.view().staff.notice, PinNotice::Checking);
        bench.send(wrong.clone());
        assert_eq!(
            bench.view().staff.notice,
            PinNotice::WrongPin {
                attempts_left: left
            }
        );
    }
    bench.typed("111111");
    bench.send(Input::Enter);
    bench.send(wrong);
    assert_eq!(
        bench.view().staff.notice,
        PinNotice::LockedOut { seconds: 60 }
    );
    bench.typed("123456");
    assert!(bench.send(Input::Enter).is_empty(), "nothing is checked");
    bench.run_until(30.5);
    assert_eq!(
        bench.view().staff.notice,
        PinNotice::LockedOut { seconds: 30 }
    );
    bench.send(Input::Touch);
    bench.run_until(61.0);
    assert_eq!(bench.view().staff.notice, PinNotice::None);

    // In with the right PIN; five minutes without a touch close it.
    bench.typed("123456");
    bench.send(Input::Enter);
    let effects = bench.send(Input::Answer(Answer::Staff(StaffAnswer::PinChecked(Some(
        PinHolder::Staff("Sam".into()),
    )))));
    // The right PIN clears the count, also in the records.
    assert_eq!(
        effects,
        vec![
            Effect::RecordStaff {
                who: PinHolder::Staff("Sam".into()),
                entry: StaffEntry::Entered
            },
            Effect::SaveAttempts {
                keypad: Keypad::Maintenance,
                attempts: Attempts::default(),
                refused: false
            }
        ]
    );
    assert_eq!(bench.view().page, Page::Maintenance);
    bench.at(100.0).send(Input::Touch);
    assert!(bench.run_until(399.0).is_empty());
    assert_eq!(bench.view().page, Page::Maintenance);
    let effects = bench.run_until(401.0);
    assert_eq!(
        effects,
        vec![
            Effect::RecordStaff {
                who: PinHolder::Staff("Sam".into()),
                entry: StaffEntry::Left
            },
            Effect::RefreshOverview
        ]
    );
    assert_eq!(bench.view().page, Page::Home);
}

#[test]
fn a_failed_store_write_is_shown_until_the_state_is_read_again() {
    let mut bench = Bench::new();
    bench.send(Input::Answer(Answer::StoreFailed(StoreWork::Collection)));
    assert!(bench.view().records_problem);
    bench.send(Input::Answer(Answer::Overview(Overview::default())));
    assert!(!bench.view().records_problem);
}

#[test]
fn closing_a_door_is_activity_and_keeps_the_visit_open() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    bench.typed("246813");
    bench.send(Input::Enter);
    let bob = |parcel, compartment| WaitingParcel {
        parcel,
        compartment,
    };
    bench.send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
        CodeLookup::Valid(vec![bob(2, 10), bob(3, 16)]),
    ))));
    for door in [10, 16] {
        bench.send(Input::Answer(Answer::Pickup(PickupAnswer::DoorOutcome {
            compartment: door,
            outcome: OpenOutcome::Opened,
        })));
    }
    // Bob empties door 10 slowly and closes it 50 s in; door 16 is open.
    bench.at(50.0).send(Input::DoorClosed(10));
    bench.run_until(100.0);
    assert_eq!(
        bench.view().page,
        Page::PickupDoors,
        "idle counts from the door"
    );
    bench.run_until(110.5);
    assert_eq!(bench.view().page, Page::Home);
}

#[test]
fn a_courier_lockout_counts_down_and_gives_the_login_back() {
    let mut bench = Bench::new();
    bench.send(Input::DeliverChosen);
    for _ in 0..5 {
        bench.typed("1111");
        bench.send(Input::Enter);
        bench.send(Input::Answer(Answer::Courier(CourierAnswer::LoginChecked(
            None,
        ))));
    }
    assert_eq!(
        bench.view().courier.notice,
        CourierNotice::LockedOut { seconds: 60 }
    );
    bench.run_until(30.5);
    assert_eq!(
        bench.view().courier.notice,
        CourierNotice::LockedOut { seconds: 30 }
    );
    bench.send(Input::Touch);
    bench.run_until(61.0);
    assert_eq!(bench.view().page, Page::CourierLogin);
    assert_eq!(bench.view().courier.notice, CourierNotice::None);
    // The lockout is over: the kiosk wakes for nothing but the warning
    // before the idle timeout.
    assert_eq!(
        bench.kiosk.poll_timeout(bench.now),
        Some(Timestamp(START.0 + 30_500 + 60_000 - IDLE_WARNING_MS))
    );
}

/// A courier logged in, on the scan screen.
fn courier_logged_in(bench: &mut Bench) {
    bench.send(Input::DeliverChosen);
    bench.typed("4711");
    bench.send(Input::Enter);
    let dana = Courier {
        id: 1,
        name: "Dana Driver".into(),
        company: "Demo Parcel Co".into(),
    };
    bench.send(Input::Answer(Answer::Courier(CourierAnswer::LoginChecked(
        Some(dana),
    ))));
    assert_eq!(bench.view().page, Page::CourierScan);
}

#[test]
fn a_tracking_number_refused_stays_in_the_field_to_be_corrected() {
    let mut bench = Bench::new();
    courier_logged_in(&mut bench);
    // One digit mistyped: the check digit does not match.
    bench.typed("9400111899223197428498");
    assert!(bench.send(Input::Enter).is_empty(), "nothing is looked up");
    assert_eq!(
        bench.view().courier.notice,
        CourierNotice::Flow(DropoffNotice::InvalidTracking(
            TrackingProblem::BadCheckDigit
        ))
    );
    assert_eq!(bench.view().typed, "9400111899223197428498", "kept");
    bench.send(Input::Erase);
    bench.typed("7");
    let effects = bench.send(Input::Enter);
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Dropoff {
                effect: DropoffEffect::LookUpParcel(number),
                ..
            } if number == "9400111899223197428497"
        )),
        "{effects:?}"
    );
    assert_eq!(
        bench.view().typed,
        "",
        "an accepted number leaves the field"
    );
}

#[test]
fn a_short_code_costs_no_try_and_typing_again_puts_a_notice_away() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    bench.typed("2468");
    assert!(bench.send(Input::Enter).is_empty(), "nothing is looked up");
    assert_eq!(
        bench.view().pickup.notice,
        CodeNotice::TooShort { length: 6 }
    );
    assert_eq!(bench.view().typed, "2468", "the digits stay");
    bench.typed("13");
    assert_eq!(bench.view().pickup.notice, CodeNotice::None);
    let effects = bench.send(Input::Enter);
    assert!(!effects.is_empty(), "a whole code is looked up");
    bench.send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
        CodeLookup::Unknown,
    ))));
    assert!(matches!(
        bench.view().pickup.notice,
        CodeNotice::Flow(PickupNotice::WrongCode { .. })
    ));
    bench.typed("1");
    assert_eq!(bench.view().pickup.notice, CodeNotice::None);
}

#[test]
fn a_visit_nobody_touches_asks_still_there_before_it_ends() {
    let mut bench = Bench::new();
    courier_logged_in(&mut bench);
    bench.run_until(44.0);
    assert_eq!(bench.view().idle_warning, None, "not yet");
    bench.run_until(45.5);
    assert_eq!(bench.view().idle_warning, Some(15));
    bench.run_until(50.2);
    assert_eq!(bench.view().idle_warning, Some(10), "counts down");
    // A touch keeps the visit, and the question goes.
    bench.send(Input::Touch);
    assert_eq!(bench.view().idle_warning, None);
    assert_eq!(bench.view().page, Page::CourierScan);
    bench.run_until(110.5);
    assert_eq!(bench.view().idle_warning, None);
    assert_eq!(bench.view().page, Page::Home, "ended after the warning");
}

#[test]
fn wrong_codes_are_kept_and_a_restart_resumes_the_lockout_before_any_code() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    let mut saved = Vec::new();
    for _ in 0..5 {
        bench.typed("111222");
        bench.send(Input::Enter);
        let answer = Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(CodeLookup::Unknown)));
        saved.extend(bench.send(answer).into_iter().filter_map(|e| match e {
            Effect::SaveAttempts {
                keypad: Keypad::Pickup,
                attempts,
                refused: true,
            } => Some(attempts),
            _ => None,
        }));
    }
    assert_eq!(saved.len(), 5, "each wrong code kept and audited");
    let locked = saved[4];
    assert_eq!(locked.lockouts, 1);
    assert!(locked.locked_until.is_some());

    // A new kiosk on the same records carries the lockout on: the right
    // code is not even looked up.
    let mut kiosk = Kiosk::new(&Config::demo());
    let now = bench.now;
    kiosk.resume_attempts(&[("pickup".into(), locked)], now);
    kiosk.start();
    kiosk.handle(Input::PickupChosen, now);
    for key in "583920".chars() {
        kiosk.handle(Input::Key(key.to_string()), now);
    }
    let effects = kiosk.handle(Input::Enter, now);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Pickup(PickupEffect::LookUp(_)))),
        "{effects:?}"
    );
    assert!(matches!(
        kiosk.view(now).pickup.notice,
        CodeNotice::LockedOut { seconds } if seconds > 50
    ));
}

#[test]
fn a_collection_not_yet_recorded_keeps_its_code_from_opening_the_door_again() {
    let mut bench = Bench::new();
    bench.send(Input::PickupChosen);
    bench.typed("583920");
    bench.send(Input::Enter);
    bench.send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
        CodeLookup::Valid(vec![alice()]),
    ))));
    bench.send(Input::Answer(Answer::Pickup(PickupAnswer::DoorOutcome {
        compartment: 2,
        outcome: OpenOutcome::Opened,
    })));
    // The records did not take the collection: the executor retries.
    bench.send(Input::Answer(Answer::Pickup(
        PickupAnswer::CollectionNotRecorded(alice().parcel),
    )));
    bench.send(Input::DoorClosed(2));
    bench.send(Input::Leave);
    assert_eq!(bench.view().page, Page::Home);

    // The same code again; the records still say "waiting".
    bench.send(Input::PickupChosen);
    bench.typed("583920");
    bench.send(Input::Enter);
    let effects = bench.send(Input::Answer(Answer::Pickup(PickupAnswer::LookedUp(
        CodeLookup::Valid(vec![alice()]),
    ))));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Pickup(PickupEffect::OpenDoor(_)))),
        "{effects:?}"
    );
    assert_eq!(
        bench.view().pickup.notice,
        CodeNotice::Flow(crate::domain::pickup::Notice::AlreadyUsed)
    );

    // Recorded at last: the code is spent in the records themselves.
    bench.send(Input::Answer(Answer::Pickup(
        PickupAnswer::CollectionRecorded(alice().parcel),
    )));
    assert!(!bench.view().records_problem);
}
