//! Items handed out to named people (an office's laptops and gifts):
//! imported from CSV by the real binary (a bad row or a full locker
//! imports nothing), held across a restart, loaded door by door in
//! maintenance through the real UI, service, store and simulated boards
//! (a jammed door leaves its item waiting), collected with the code each
//! person is sent, and listed in the register for the asset records.

use crate::common;

use crate::common::{enter_maintenance, in_store, on_sim_board, page, press, pump_until, staff};
use locker_kiosk::app::admin::DEMO_ADMIN_PIN;
use locker_kiosk::app::kiosk::records::Settings;
use locker_kiosk::config::Config;
use locker_kiosk::domain::pickup::{CodeInput, CodeLookup};
use locker_kiosk::domain::{CompartmentNumber, CompartmentState, ParcelStatus};
use locker_kiosk::scanning::ScanSource;
use locker_kiosk::store::{Event, IssuedCode, Store};
use locker_kiosk::ui::{
    AppWindow, DoorProgress, Kiosk, LoadStep, MaintenanceLoading, Page, PickupNotice,
};
use slint::{ComponentHandle, Model};

const OFFICE: &str = "\
person,contact,item,size,asset_tag,deadline,badge
Anna Weber,anna.weber@example.com,Laptop,M,IT-4711,,
Bo Lindqvist,+46 70 123 45 67,Laptop,M,IT-4712,2099-01-31,EMP-0042
Chiara Rossi,chiara@example.com,Headset,S,,,EMP-0077
";

fn reserved(store: &mut Store) -> Vec<CompartmentNumber> {
    store
        .compartments()
        .all()
        .unwrap()
        .into_iter()
        .filter(|c| c.state == CompartmentState::Reserved)
        .map(|c| c.number)
        .collect()
}

#[test]
fn staff_import_items_and_a_bad_row_or_a_full_locker_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::demo_store(dir.path()));
    let file = dir.path().join("office.csv");
    let import = |text: &str| {
        std::fs::write(&file, text).unwrap();
        staff(
            dir.path(),
            &["parcels", "import", file.to_str().unwrap()],
            "",
        )
    };

    // Two bad rows: each named by its line, and nothing is held.
    let bad = OFFICE
        .replace("Bo Lindqvist,+46", "Bo Lindqvist,call me +46")
        .replace("Headset,S", "Headset,huge");
    let (code, _, err) = import(&bad);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("line 3: `call me +46 70 123 45 67` is neither"),
        "{err}"
    );
    assert!(err.contains("line 4: unknown size `huge`"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    // A deadline already past, and an asset tag twice.
    let (code, _, err) = import(&OFFICE.replace("2099-01-31", "2001-01-31"));
    assert_eq!(code, 1);
    assert!(
        err.contains("line 3: the deadline 2001-01-31 23:59 has passed"),
        "{err}"
    );
    let (code, _, err) = import(&OFFICE.replace("IT-4712", "IT-4711"));
    assert_eq!(code, 1);
    assert!(
        err.contains("line 3: asset tag IT-4711 is on line 2 already"),
        "{err}"
    );
    // More XL items than the locker has XL doors.
    let mut crowd = String::from("person,contact,item,size\n");
    for i in 0..30 {
        crowd.push_str(&format!("P{i},p{i}@example.com,Desk lamp,XL\n"));
    }
    let (code, _, err) = import(&crowd);
    assert_eq!(code, 1);
    assert!(err.contains("too few free compartments"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    {
        let mut store = Store::open(dir.path()).unwrap();
        assert!(reserved(&mut store).is_empty());
        assert!(store.parcels().items_to_load().unwrap().is_empty());
    }

    // A dry run shows the doors and holds nothing.
    std::fs::write(&file, OFFICE).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = staff(dir.path(), &["parcels", "import", path, "--dry-run"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Would reserve 3 items"), "{out}");
    assert!(reserved(&mut Store::open(dir.path()).unwrap()).is_empty());

    // The file: three doors held, the smallest that fit, and the
    // people in the directory.
    let (code, out, err) = import(OFFICE);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Reserved 3 items"), "{out}");
    assert!(
        out.contains("Anna Weber") && out.contains("IT-4712"),
        "{out}"
    );
    assert!(out.contains("2099-01-31 23:59"), "{out}");
    let mut store = Store::open(dir.path()).unwrap();
    let held = reserved(&mut store);
    assert_eq!(held.len(), 3);
    let items = store.parcels().items_to_load().unwrap();
    let sizes: Vec<String> = items
        .iter()
        .map(|i| {
            let c = store.compartments().get(i.compartment).unwrap().unwrap();
            format!("{} {}", i.item, c.size)
        })
        .collect();
    assert!(sizes.contains(&"Headset S".to_string()), "{sizes:?}");
    assert_eq!(
        sizes.iter().filter(|s| *s == "Laptop M").count(),
        2,
        "{sizes:?}"
    );

    // A restart keeps them held: nothing was opened for them yet.
    let settings = Settings::from(&Config::demo());
    let settled = locker_kiosk::app::reconcile::reconcile(
        &mut store,
        &settings,
        locker_kiosk::app::system::now(),
    )
    .unwrap();
    assert!(settled.is_empty(), "{settled:?}");
    assert_eq!(reserved(&mut store), held);
    drop(store);

    // The same asset tag again: it is waiting already.
    let (code, _, err) =
        import("person,contact,item,size,asset_tag\nEve,eve@example.com,Laptop,M,IT-4711\n");
    assert_eq!(code, 1);
    assert!(err.contains("asset tag IT-4711 is already"), "{err}");

    let (code, register, _) = staff(dir.path(), &["parcels", "register"], "");
    assert_eq!(code, 0);
    let lines: Vec<&str> = register.lines().collect();
    assert_eq!(
        lines[0],
        "item_id,person,contact,item,asset_tag,door,status,imported_at,loaded_at,deadline,handed_over_at,handed_over_with"
    );
    assert_eq!(lines.len(), 4, "{register}");
    assert!(
        lines[2].contains("Bo Lindqvist,+46701234567,Laptop,IT-4712,"),
        "{register}"
    );
    assert!(
        lines.iter().skip(1).all(|l| l.contains(",to_load,")),
        "{register}"
    );
}

/// The board and channel of `compartment`, for the simulated person.
fn close_door(service: &locker_kiosk::app::Service, compartment: CompartmentNumber) {
    let (board, channel) = service.doors().place_of(compartment).unwrap();
    on_sim_board(service, &board, move |sim, address| {
        sim.close(address, channel);
    });
}

/// Whether the parcel `tracking` is recorded collected: for a wait that
/// pumps the UI's event loop meanwhile, as the kiosk runs on it.
fn collected(
    runtime: tokio::runtime::Handle,
    service: locker_kiosk::app::Service,
    tracking: &'static str,
) -> impl Fn(&AppWindow) -> bool + 'static {
    move |w| {
        page(w) == Page::PickupDone
            && runtime
                .block_on(service.parcels(move |p| p.by_tracking(tracking)))
                .unwrap()
                .is_some_and(|p| p.status == ParcelStatus::Collected)
    }
}

/// Whether the pickup screen shows `door` open (its sensor saw it).
fn door_open(window: &AppWindow, door: CompartmentNumber) -> bool {
    window
        .global::<Kiosk>()
        .get_pickup_doors()
        .iter()
        .any(|d| d.compartment == door as i32 && d.progress == DoorProgress::Open)
}

fn step(window: &AppWindow) -> LoadStep {
    window.global::<MaintenanceLoading>().get_step()
}

fn items_left(window: &AppWindow) -> Vec<(i32, String)> {
    window
        .global::<MaintenanceLoading>()
        .get_items()
        .iter()
        .map(|l| (l.door, l.item.to_string()))
        .collect()
}

#[test]
fn staff_load_items_door_by_door_and_each_person_collects_with_their_code() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let now = locker_kiosk::app::system::now();
    locker_kiosk::app::handout::import(&mut store, OFFICE, false, "cli:it", now).unwrap();
    let items = store.parcels().items_to_load().unwrap();
    let door_of = |item: &str, person: &str| {
        items
            .iter()
            .find(|i| i.item == item && i.person == person)
            .unwrap()
            .compartment
    };
    let (anna, bo, chiara) = (
        door_of("Laptop", "Anna Weber"),
        door_of("Laptop", "Bo Lindqvist"),
        door_of("Headset", "Chiara Rossi"),
    );
    let (runtime, service, window) = common::staff_kiosk(store, |_| {});
    enter_maintenance(&window, DEMO_ADMIN_PIN);
    pump_until(&window, "the items to load", 5, |w| {
        items_left(w).len() == 3
    });

    // Door by door: the next item's door opens (the list is in door
    // order), stays "open" until the door is closed, and then the item is
    // loaded. Anna's laptop first, from its line in the list.
    press(&window, "Load items");
    assert_eq!(
        items_left(&window)[0].0 as u32,
        chiara,
        "the S door is the lowest number"
    );
    let first = anna;
    press(&window, &format!("Open door {anna} for Laptop"));
    pump_until(&window, "the door open", 5, |w| step(w) == LoadStep::Open);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(step(&window), LoadStep::Open, "waits for the door to close");
    close_door(&service, first);
    pump_until(&window, "loaded", 5, |w| step(w) == LoadStep::Loaded);
    pump_until(&window, "two left", 5, |w| items_left(w).len() == 2);
    assert_eq!(window.global::<MaintenanceLoading>().get_loaded_count(), 1);

    // A jammed door: the item waits; once freed, a retry loads it.
    let jammed = bo;
    let (board, channel) = service.doors().place_of(jammed).unwrap();
    on_sim_board(&service, &board, move |sim, address| {
        sim.set_jammed(address, channel, true)
    });
    press(&window, &format!("Open door {jammed} for Laptop"));
    pump_until(&window, "did not open", 5, |w| {
        step(w) == LoadStep::DidNotOpen
    });
    assert_eq!(items_left(&window).len(), 2, "the item still waits");
    on_sim_board(&service, &board, move |sim, address| {
        sim.set_jammed(address, channel, false)
    });
    press(&window, &format!("Open door {jammed} for Laptop"));
    pump_until(&window, "the door open", 5, |w| step(w) == LoadStep::Open);
    close_door(&service, jammed);
    pump_until(&window, "loaded", 5, |w| step(w) == LoadStep::Loaded);

    // Chiara's headset is not coming: off the list, its door free.
    pump_until(&window, "one left", 5, |w| items_left(w).len() == 1);
    assert_eq!(items_left(&window)[0].0 as u32, chiara);
    press(&window, "Take Headset off the list");
    pump_until(&window, "none left", 5, |w| items_left(w).is_empty());
    let state = in_store(&runtime, &service, move |s| {
        s.compartments().get(chiara).unwrap().unwrap().state
    });
    assert_eq!(state, CompartmentState::Free);

    // Each person is sent a message naming the item, its door and their
    // own code; the code is waiting to be delivered.
    let codes: Vec<(i64, Option<String>, u32, IssuedCode)> = in_store(&runtime, &service, |s| {
        let messages = s
            .events()
            .recent(Some("recipient_notification"), 10)
            .unwrap();
        messages
            .iter()
            .map(|m| {
                let Some(Event::RecipientNotification {
                    recipient,
                    code,
                    parcels,
                    ..
                }) = m.event()
                else {
                    panic!("{m:?}")
                };
                let issued = s
                    .parcels()
                    .undelivered_code(code.unwrap())
                    .unwrap()
                    .unwrap();
                (
                    recipient,
                    parcels[0].item.clone(),
                    parcels[0].compartment.unwrap(),
                    issued,
                )
            })
            .collect()
    });
    assert_eq!(codes.len(), 2);
    assert!(codes.iter().all(|c| c.1.as_deref() == Some("Laptop")));
    let mut doors: Vec<u32> = codes.iter().map(|c| c.2).collect();
    doors.sort();
    let mut expected = vec![anna, bo];
    expected.sort();
    assert_eq!(doors, expected);
    assert_ne!(codes[0].3.pin, codes[1].3.pin);
    // A day before Anna's deadline she is reminded, her item named.
    let reminded = in_store(&runtime, &service, move |s| {
        let later = locker_kiosk::app::system::now().plus_secs(50 * 3600);
        s.deliveries().queue_reminders(later, 24).unwrap();
        let reminder = s
            .events()
            .recent(Some("recipient_notification"), 1)
            .unwrap();
        reminder[0].detail.clone()
    });
    assert_eq!(reminded["reason"], "reminder");
    assert_eq!(reminded["parcels"][0]["item"], "Laptop", "{reminded}");

    // Anna collects with her code: her door opens, and the register says
    // who took which asset from which door, and when.
    let anna_code = codes.iter().find(|c| c.2 == anna).unwrap().3.pin.clone();
    press(&window, "Leave maintenance");
    pump_until(&window, "home", 5, |w| page(w) == Page::Home);
    press(&window, "Pick up a parcel");
    for digit in anna_code.chars() {
        press(&window, &digit.to_string());
    }
    press(&window, "Open");
    pump_until(&window, "her door open", 5, move |w| door_open(w, anna));
    close_door(&service, anna);
    let handed_over = collected(runtime.handle().clone(), service.clone(), "IT-4711");
    pump_until(&window, "the laptop handed over", 5, handed_over);
    let register = in_store(&runtime, &service, |s| {
        locker_kiosk::app::handout::register_csv(s).unwrap()
    });
    let anna_line = register
        .lines()
        .find(|l| l.contains("IT-4711"))
        .unwrap()
        .to_string();
    let fields: Vec<&str> = anna_line.split(',').collect();
    assert_eq!(
        fields[1..7],
        [
            "Anna Weber",
            "anna.weber@example.com",
            "Laptop",
            "IT-4711",
            &anna.to_string(),
            "handed_over"
        ],
        "{register}"
    );
    assert!(
        fields[8].ends_with('Z') && fields[10].ends_with('Z'),
        "{register}"
    );
    assert!(
        register.contains(",IT-4712,") && register.contains(",waiting,"),
        "{register}"
    );
    assert!(
        register.contains("Chiara Rossi") && register.contains(",cancelled,"),
        "{register}"
    );

    // Bo has no email, and this locker no SMS gateway: his code goes on
    // paper. Anna's is spent, so hers is not printed.
    let bo_pin = codes.iter().find(|c| c.2 == bo).unwrap().3.pin.clone();
    let (slips, left) = in_store(&runtime, &service, |s| {
        let slips = locker_kiosk::app::handout::slips(
            s,
            &Config::demo(),
            true,
            locker_kiosk::app::system::now(),
        )
        .unwrap();
        (slips, s.deliveries().codes_on_paper().unwrap().len())
    });
    assert!(slips.contains("Bo Lindqvist"), "{slips}");
    assert!(
        slips.contains(&format!("Laptop (IT-4712), door {bo}")),
        "{slips}"
    );
    assert!(
        slips.contains(&format!("type the code {bo_pin}")),
        "{slips}"
    );
    assert!(slips.contains("LK1:"), "{slips}");
    assert!(slips.contains("Collect by 2099-01-31 23:59"), "{slips}");
    assert!(!slips.contains("Anna Weber"), "{slips}");
    assert!(
        slips.contains("1 recorded as handed out on paper"),
        "{slips}"
    );
    assert_eq!(left, 0, "handed out: no slip again");
    let opens = in_store(&runtime, &service, move |s| {
        s.parcels().look_up_code(&CodeInput::Pin(bo_pin)).unwrap()
    });
    assert!(matches!(opens, CodeLookup::Valid(_)), "{opens:?}");

    // Bo collects with his staff badge instead; a badge nobody holds is
    // no try, and Chiara's badge finds nothing waiting for her.
    let scan = |text: &str| service.scanned(text.into(), ScanSource::Serial);
    scan("VISITOR-9");
    for _ in 0..10 {
        slint::platform::update_timers_and_animations();
        std::thread::sleep(std::time::Duration::from_millis(100));
        eprintln!(
            "DEBUG page {:?} notice {:?}",
            page(&window),
            window.global::<Kiosk>().get_pickup_notice()
        );
    }
    pump_until(&window, "not a code", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::NotAPickupCode
    });
    scan("EMP-0077");
    pump_until(&window, "nothing waiting", 5, |w| {
        w.global::<Kiosk>().get_pickup_notice() == PickupNotice::NothingWaiting
    });
    assert_eq!(
        window.global::<Kiosk>().get_attempts_left(),
        0,
        "no try counted"
    );
    scan("EMP-0042");
    pump_until(&window, "his door open", 5, move |w| door_open(w, bo));
    close_door(&service, bo);
    let handed_over = collected(runtime.handle().clone(), service.clone(), "IT-4712");
    pump_until(&window, "Bo's laptop handed over", 5, handed_over);
    let (with, register) = in_store(&runtime, &service, |s| {
        let collected = s.events().recent(Some("parcel_collected"), 1).unwrap();
        (
            collected[0].detail["with"].clone(),
            locker_kiosk::app::handout::register_csv(s).unwrap(),
        )
    });
    assert_eq!(with, "badge");
    assert!(
        register.lines().any(|l| l.contains(",IT-4712,")
            && l.contains(",handed_over,")
            && l.ends_with(",badge")),
        "{register}"
    );
    assert!(
        register
            .lines()
            .any(|l| l.contains(",IT-4711,") && l.ends_with(",code")),
        "{register}"
    );

    // Nothing is left on paper: both codes are spent.
    let (slips, left) = in_store(&runtime, &service, |s| {
        let slips = locker_kiosk::app::handout::slips(
            s,
            &Config::demo(),
            false,
            locker_kiosk::app::system::now(),
        )
        .unwrap();
        (slips, s.deliveries().codes_on_paper().unwrap().len())
    });
    assert_eq!(slips, "No code waits to be handed out.\n");
    assert_eq!(left, 0);
}
