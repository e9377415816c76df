//! The binary as an operator uses it.

use crate::common;

use crate::common::{binary, staff};
use locker_kiosk::domain::maintenance::PinHolder;
use locker_kiosk::store::{DATABASE_FILE, Store};

fn output(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("running locker-kiosk");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_the_subcommands() {
    let (code, stdout, _) = output(binary().arg("--help"));
    assert_eq!(code, 0);
    for subcommand in ["run", "doctor", "doors", "sim"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(subcommand)),
            "{subcommand} missing from:\n{stdout}"
        );
    }
}

#[test]
fn doctor_passes_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = output(
        binary()
            .args(["doctor", "--demo", "--data-dir"])
            .arg(dir.path()),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("OK    config: built-in demo"), "{stdout}");
    assert!(stdout.contains("OK    lock board A"), "{stdout}");
    assert!(stdout.contains("OK    camera: none configured"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn doctor_checks_an_existing_database_while_the_kiosk_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let _running = common::seeded_store(dir.path());
    let (code, stdout, _) = output(
        binary()
            .args(["doctor", "--demo", "--data-dir"])
            .arg(dir.path()),
    );
    assert_eq!(code, 0, "{stdout}");
    let expected = format!(
        "is intact, schema v{}",
        locker_kiosk::store::migrations::LATEST_VERSION
    );
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn doctor_fails_on_a_broken_config_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("locker.toml");
    std::fs::write(&config, "[locker]\nid = \"x\"\nname = \"X\"\nbogus = 1\n").unwrap();
    let (code, stdout, _) = output(
        binary()
            .args(["doctor", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data")),
    );
    assert_ne!(code, 0);
    let expected = format!("FAIL  config: {}:4:", config.display());
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn doctor_fails_on_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DATABASE_FILE), b"definitely not sqlite").unwrap();
    let (code, stdout, _) = output(
        binary()
            .args(["doctor", "--demo", "--data-dir"])
            .arg(dir.path()),
    );
    assert_ne!(code, 0);
    assert!(stdout.contains("FAIL  database:"), "{stdout}");
    assert!(stdout.contains("is damaged"), "{stdout}");
}

#[test]
fn doctor_fails_on_a_missing_serial_port() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/locker-kiosk.example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("/dev/ttyUSB0", "/dev/does-not-exist-0");
    let config = dir.path().join("locker.toml");
    std::fs::write(&config, text).unwrap();
    let (code, stdout, _) = output(
        binary()
            .args(["doctor", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data")),
    );
    assert_ne!(code, 0);
    assert!(
        stdout.contains("FAIL  lock board left: cannot open /dev/does-not-exist-0"),
        "{stdout}"
    );
}

#[test]
fn a_second_kiosk_on_the_same_data_exits_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    let (code, _, stderr) = output(
        binary()
            .args(["--demo", "--data-dir"])
            .arg(dir.path())
            .arg("run"),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another locker-kiosk"), "{stderr}");
    assert!(
        stderr.contains("already using the data directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("process {}", std::process::id())),
        "{stderr}"
    );
}

#[test]
fn the_demo_never_replaces_a_real_lockers_records() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/hardware/layouts/demo-24.toml"
    ))
    .unwrap()
    .replace("id = \"demo-1\"", "id = \"lobby-3\"");
    let config = locker_kiosk::config::Config::parse(
        &text,
        locker_kiosk::config::ConfigSource::File("lobby.toml".into()),
    )
    .unwrap();
    {
        let mut store = Store::open(dir.path()).unwrap();
        store
            .compartments()
            .sync_layout(&config, crate::common::NOW)
            .unwrap();
    }
    let file = dir.path().join(DATABASE_FILE);
    let before = std::fs::read(&file).unwrap();
    let (code, _, stderr) = output(
        binary()
            .args(["--demo", "--data-dir"])
            .arg(dir.path())
            .arg("run"),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds the records of locker `lobby-3`"),
        "{stderr}"
    );
    assert!(stderr.contains("a data directory of its own"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), before, "left as it was");
    let found = locker_kiosk::store::inspect(&file).unwrap();
    assert_eq!(found.locker_id.as_deref(), Some("lobby-3"));
}

#[test]
fn run_refuses_a_damaged_database_instead_of_starting_empty() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(DATABASE_FILE);
    std::fs::write(&file, b"definitely not sqlite").unwrap();
    let config = dir.path().join("locker.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/hardware/layouts/demo-24.toml"),
        &config,
    )
    .unwrap();
    let (code, _, stderr) = output(
        binary()
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path()),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"definitely not sqlite");
}

#[test]
fn log_lines_can_be_json() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    // Fails fast on the lock, after logging has started.
    let (_, _, stderr) = output(
        binary()
            .args(["--log-json", "--demo", "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "debug"),
    );
    assert!(stderr.contains("another locker-kiosk"), "{stderr}");
}

#[test]
fn screenshots_render_every_screen_at_every_panel_size() {
    let (code, list, _) = output(binary().args(["screenshot", "--screen", "list"]));
    assert_eq!(code, 0);
    let screens: Vec<&str> = list.lines().collect();
    assert!(
        screens.contains(&"home") && screens.contains(&"pickup-doors"),
        "{list}"
    );
    let dir = tempfile::tempdir().unwrap();
    let renders: Vec<(&str, &str)> = ["800x480", "1280x800", "1080x1920"]
        .into_iter()
        .flat_map(|size| screens.iter().map(move |screen| (*screen, size)))
        .collect();
    // One render per core at a time (this test has the machine to itself:
    // .config/nextest.toml).
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    for batch in renders.chunks(cores) {
        let children: Vec<_> = batch
            .iter()
            .map(|(screen, size)| {
                let out = dir.path().join(format!("{screen}-{size}.png"));
                binary()
                    .args(["screenshot", "--screen", screen, "--size", size, "--out"])
                    .arg(&out)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for ((screen, size), child) in batch.iter().zip(children) {
            let done = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&done.stderr);
            assert!(done.status.success(), "{screen} {size}: {stderr}");
        }
    }
    for (screen, size) in renders {
        {
            let out = dir.path().join(format!("{screen}-{size}.png"));
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let (w, h) = (reader.info().width, reader.info().height);
            assert_eq!(format!("{w}x{h}"), size);
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut pixels).unwrap();
            // Something was drawn: more than the background colour.
            // (Counted until there are enough: this crate is unoptimised.)
            let mut distinct = std::collections::HashSet::new();
            for pixel in pixels.chunks(3) {
                distinct.insert(pixel);
                if distinct.len() > 10 {
                    break;
                }
            }
            assert!(distinct.len() > 10, "{screen} {size} looks blank");
        }
    }
    let (code, _, stderr) = output(binary().args(["screenshot", "--screen", "nope"]));
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown screen"), "{stderr}");
}

#[test]
fn decode_prints_one_line_or_one_json_object_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(64, 64, image::Luma([255u8]))
        .save(&blank)
        .unwrap();
    let (code, stdout, _) = output(binary().arg("decode").arg(&blank));
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("{}\tnone", blank.display()));
    let (code, stdout, _) = output(binary().args(["decode", "--json"]).arg(&blank));
    assert_eq!(code, 0);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["kind"], "unknown");
    assert!(line["symbology"].is_null() && line["micros"].is_u64());
    let (code, _, stderr) = output(binary().arg("decode").arg(dir.path().join("missing.png")));
    assert_ne!(code, 0);
    assert!(stderr.contains("missing.png"), "{stderr}");
}

#[test]
fn run_options_work_without_the_subcommand_and_a_missing_screen_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = output(
        binary()
            .args(["--windowed", "--backend", "winit", "--demo", "--data-dir"])
            .arg(dir.path())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY"),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot use the winit backend"), "{stderr}");
    assert!(stderr.contains("the kiosk needs a screen"), "{stderr}");
}

#[test]
fn verify_receipt_checks_a_proof_of_delivery_against_the_lockers_key() {
    use locker_kiosk::domain::receipt::{self, Receipt, ReceiptLine};
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::demo_store(dir.path());
    let public = locker_kiosk::app::data_dir::publish_receipt_key(&mut store, dir.path()).unwrap();
    let secret = store
        .couriers()
        .receipt_key(&mut locker_kiosk::app::system::OsEntropy)
        .unwrap();
    drop(store);
    let proof = Receipt {
        locker: "demo-1".into(),
        courier: "Dana Driver".into(),
        company: "Demo Parcel Co".into(),
        issued_at: 1_795_641_296,
        deposited: vec![ReceiptLine {
            tracking: "1Z999AA10123456784".into(),
            door: 14,
            at: 1_795_641_200,
        }],
        retrieved: vec![],
    };
    let text = receipt::sign(&proof, &secret);

    let (code, stdout, _) = output(
        binary()
            .args(["verify-receipt", "--show-key", "--data-dir"])
            .arg(dir.path()),
    );
    assert_eq!((code, stdout.trim()), (0, public.as_str()));

    let (code, stdout, stderr) = output(
        binary()
            .args(["verify-receipt", &text, "--data-dir"])
            .arg(dir.path()),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("valid: signed by locker demo-1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deposited: 1Z999AA10123456784 in door 14 at 2026-11-25 21:13:20 UTC"),
        "{stdout}"
    );

    // Another locker's key, or a changed receipt: refused, saying why.
    let (code, _, stderr) = output(binary().args([
        "verify-receipt",
        &text,
        "--key",
        &receipt::to_hex(&receipt::public_key(&[1; 32])),
    ]));
    assert_eq!(code, 1);
    assert!(stderr.contains("signature does not match"), "{stderr}");
    let forged = receipt::sign(
        &Receipt {
            courier: "Mallory".into(),
            ..proof
        },
        &[1; 32],
    );
    let spliced = format!(
        "{}.{}",
        forged.rsplit_once('.').unwrap().0,
        text.rsplit_once('.').unwrap().1
    );
    let (code, _, stderr) = output(
        binary()
            .args(["verify-receipt", &spliced, "--data-dir"])
            .arg(dir.path()),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("signature does not match"), "{stderr}");
}

#[test]
fn the_camera_can_be_chosen_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = output(
        binary()
            .args(["doctor", "--demo", "--camera", "/dev/video97", "--data-dir"])
            .arg(dir.path()),
    );
    assert_ne!(code, 0);
    assert!(
        stdout.contains("FAIL  camera: /dev/video97 does not exist: is the camera plugged in?"),
        "{stdout}"
    );
    let (code, _, stderr) = output(binary().args(["doctor", "--demo", "--camera", "video0"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("must be `none`, a device path such as /dev/video0, or replay:DIR"),
        "{stderr}"
    );
}

#[test]
fn staff_manage_compartments_parcels_and_the_admin_pin_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::seeded_store(dir.path()));
    let dir = dir.path();

    let (code, out, _) = staff(dir, &["compartments", "list"], "");
    assert_eq!(code, 0);
    assert!(
        out.lines().any(|l| l.contains("  2  S")
            && l.contains("occupied")
            && l.contains("1Z999AA10123456784")),
        "{out}"
    );
    let (code, out, _) = staff(
        dir,
        &["compartments", "disable", "5", "--reason", "hinge broken"],
        "",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "compartment 5 is out of service: hinge broken")
    );
    let (_, out, _) = staff(dir, &["compartments", "list"], "");
    assert!(
        out.lines().any(|l| l.contains("  5  M")
            && l.contains("out_of_service")
            && l.contains("hinge broken")),
        "{out}"
    );
    let (code, out, _) = staff(dir, &["compartments", "enable", "5"], "");
    assert_eq!(
        (code, out.trim()),
        (0, "compartment 5 is back in service (free)")
    );
    let (code, _, err) = staff(dir, &["compartments", "disable", "99", "--reason", "x"], "");
    assert_eq!(code, 1);
    assert!(err.contains("there is no compartment 99"), "{err}");

    let (code, out, _) = staff(dir, &["parcels", "list"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("TBA123456789000") && out.contains("Bob Brown"),
        "{out}"
    );
    let (_, out, _) = staff(dir, &["parcels", "show", "TBA123456789000"], "");
    assert!(
        out.contains("compartment: 16") && out.contains("parcel_deposited"),
        "{out}"
    );
    // The demo data was seeded months before today: the three waiting
    // parcels are past their storage time; a second run finds none.
    let (code, out, _) = staff(dir, &["parcels", "expire-run"], "");
    assert_eq!((code, out.lines().next()), (0, Some("3 parcels expired")));
    let (_, out, _) = staff(dir, &["parcels", "expire-run"], "");
    assert_eq!(out.lines().next(), Some("0 parcels expired"));

    // The admin PIN: weak and mismatched ones refused, a good one stored
    // only as an argon2id hash.
    let (code, _, err) = staff(dir, &["admin", "set-pin"], "123456\n123456\n");
    assert_eq!(code, 1);
    assert!(err.contains("too easy to guess"), "{err}");
    let (code, _, err) = staff(dir, &["admin", "set-pin"], "4718093\n4718094\n");
    assert_eq!(code, 1);
    assert!(err.contains("differ"), "{err}");
    let (code, out, _) = staff(dir, &["admin", "set-pin"], "4718093\n4718093\n");
    assert_eq!((code, out.trim()), (0, "admin PIN set"));

    // Staff members with PINs of their own: named in the log; one PIN
    // names one person; a PIN taken away opens nothing.
    let set_staff = ["admin", "set-pin", "--staff", " Sam Lee "];
    let (code, _, err) = staff(dir, &set_staff, "4718093\n4718093\n");
    assert_eq!(code, 1);
    assert!(err.contains("already someone else's"), "{err}");
    let (code, out, err) = staff(dir, &set_staff, "5820417\n5820417\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("as staff:Sam Lee"), "{out}");
    let set_kim = ["admin", "set-pin", "--staff", "Kim"];
    assert_eq!(staff(dir, &set_kim, "6931528\n6931528\n").0, 0);
    let (code, _, err) = staff(
        dir,
        &["admin", "set-pin", "--staff", "a:b"],
        "7042639\n7042639\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("letters, digits"), "{err}");
    let (_, out, _) = staff(dir, &["admin", "staff"], "");
    let listed: Vec<&str> = out.lines().map(|l| l.split("  ").next().unwrap()).collect();
    assert_eq!(listed, ["shared admin PIN: set", "Kim", "Sam Lee"], "{out}");
    assert_eq!(staff(dir, &["admin", "remove-staff", "Kim"], "").0, 0);
    let (code, _, err) = staff(dir, &["admin", "remove-staff", "Kim"], "");
    assert_eq!(code, 1);
    assert!(err.contains("no staff member `Kim`"), "{err}");

    let mut store = Store::open(dir).unwrap();
    let staff = store.staff();
    let hash = staff.site_pin_hash().unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("4718093"));
    let staff_hash = &staff.pins().unwrap()[0].pin_hash;
    assert!(staff_hash.starts_with("$argon2id$") && !staff_hash.contains("5820417"));
    let config = locker_kiosk::config::Config::demo();
    let opens = |pin: &str| locker_kiosk::app::admin::check_pin(&staff, &config, pin).unwrap();
    assert_eq!(opens("4718093"), Some(PinHolder::Site));
    assert_eq!(opens("5820417"), Some(PinHolder::Staff("Sam Lee".into())));
    assert_eq!(opens("6931528"), None, "Kim's PIN was taken away");
    assert_eq!(opens(locker_kiosk::app::admin::DEMO_ADMIN_PIN), None);
    // Every change is in the audit log, by the command line's user.
    let actors: Vec<(String, String)> = store
        .events()
        .recent(None, 8)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .collect();
    for logged in ["admin_pin_set", "staff_pin_set", "staff_pin_removed"] {
        assert!(
            actors
                .iter()
                .any(|(kind, actor)| kind == logged && actor.starts_with("cli:")),
            "{logged}: {actors:?}"
        );
    }
    let changes = store
        .events()
        .recent(Some("compartment_state"), 10)
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|e| e.actor.starts_with("cli:")));
    assert_eq!(changes[1].detail["reason"], "hinge broken");
}

/// Couriers from the command line: a weak or taken code is refused, a new
/// courier logs in with theirs, and a revoked one logs in no more (code
/// and badge), with both changes in the audit log under the user's name.
#[test]
fn staff_add_and_revoke_couriers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    drop(common::seeded_store(dir.path()));
    let dir = dir.path();
    let add = |code: &str| {
        staff(
            dir,
            &[
                "couriers",
                "add",
                "Kim Kurier",
                "--company",
                "Demo Parcel Co",
            ],
            &format!("{code}\n{code}\n"),
        )
    };
    let (status, _, err) = add("1234");
    assert_eq!(status, 1);
    assert!(err.contains("too easy to guess"), "{err}");
    let (status, _, err) = add("4711");
    assert_eq!(status, 1);
    assert!(err.contains("already has that code"), "{err}");
    let (status, out, _) = add("4937");
    assert_eq!(
        (status, out.trim()),
        (0, "courier 3 added: Kim Kurier (Demo Parcel Co)")
    );

    let (status, out, _) = staff(dir, &["couriers", "revoke", "1"], "");
    assert_eq!(status, 0, "{out}");
    let (status, _, err) = staff(dir, &["couriers", "revoke", "1"], "");
    assert_eq!(status, 1);
    assert!(err.contains("no active courier has id 1"), "{err}");
    let (_, out, _) = staff(dir, &["couriers", "list"], "");
    assert!(
        out.lines()
            .any(|l| l.contains("Dana Driver") && l.ends_with("revoked")),
        "{out}"
    );
    assert!(!out.contains("4937"), "codes are never listed: {out}");

    let mut store = locker_kiosk::store::Store::open(dir).unwrap();
    let couriers = store.couriers();
    assert_eq!(couriers.by_credential("4711").unwrap(), None);
    assert_eq!(couriers.by_credential("LKC1:demo-1:DANA").unwrap(), None);
    assert_eq!(couriers.by_credential("4937").unwrap().unwrap().id, 3);
    let revoked = store.events().recent(Some("courier_revoked"), 1).unwrap();
    assert!(revoked[0].actor.starts_with("cli:"), "{}", revoked[0].actor);
    assert_eq!(revoked[0].detail["name"], "Dana Driver");
    let added = store.events().recent(Some("courier_added"), 1).unwrap();
    assert_eq!(added[0].detail["courier"], 3);
}
