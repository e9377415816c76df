//! `locker-kiosk doctor`: one line per check, OK or FAIL with a reason.
//! It changes nothing, and works while the kiosk is running.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::GlobalArgs;
use crate::config::{BoardPort, CameraDevice, Config, ScannerConfig};
use crate::hardware::doors::DoorSystem;
use crate::store::{self, DATABASE_FILE, migrations};

/// One check's outcome: what was checked, and OK or FAIL with why.
pub struct Check {
    pub name: String,
    pub result: Result<String, String>,
}

impl Check {
    fn new(name: impl Into<String>, result: Result<String, String>) -> Self {
        Self {
            name: name.into(),
            result,
        }
    }
}

pub fn doctor(global: &GlobalArgs) -> ExitCode {
    let checks = run_checks(global);
    let mut failed = 0;
    for check in &checks {
        match &check.result {
            Ok(detail) => println!("OK    {}: {detail}", check.name),
            Err(reason) => {
                failed += 1;
                println!("FAIL  {}: {reason}", check.name);
            }
        }
    }
    if failed == 0 {
        println!("all {} checks passed", checks.len());
        ExitCode::SUCCESS
    } else {
        println!("{failed} of {} checks failed", checks.len());
        ExitCode::FAILURE
    }
}

pub fn run_checks(global: &GlobalArgs) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = match global.load_config() {
        Ok(config) => {
            checks.push(Check::new(
                "config",
                Ok(format!(
                    "{}: locker `{}`, {} compartments on {} boards",
                    config.source.describe(),
                    config.locker.id,
                    config.compartments.len(),
                    config.boards.len()
                )),
            ));
            Some(config)
        }
        Err(errors) => {
            for error in errors.0 {
                checks.push(Check::new("config", Err(error.to_string())));
            }
            None
        }
    };
    let data_dir = global.data_dir();
    checks.push(Check::new("data directory", check_data_dir(&data_dir)));
    if data_dir.is_dir() {
        checks.push(Check::new("disk space", check_disk_space(&data_dir)));
    }
    checks.push(Check::new(
        "database",
        check_database(&data_dir.join(DATABASE_FILE), config.as_ref()),
    ));
    if data_dir.join(DATABASE_FILE).exists() {
        checks.push(Check::new("audit log", check_audit_log(&data_dir)));
    }
    if let Some(config) = &config {
        check_hardware(config, &mut checks);
        check_links(config, &mut checks);
    }
    checks
}

/// How recipients are told and the fleet reached: the secret files are
/// readable and each server answers on its port (within 3 s). A locker
/// with neither works alone; that is said, not failed.
fn check_links(config: &Config, checks: &mut Vec<Check>) {
    let reachable = |host: &str, port: u16| -> Result<(), String> {
        use std::net::ToSocketAddrs;
        let address = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host} has no address"))?;
        std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(3))
            .map(drop)
            .map_err(|e| format!("{host}:{port} does not answer: {e}"))
    };
    let secret = |path: &Option<std::path::PathBuf>| -> Result<(), String> {
        match path {
            Some(path) => crate::notify::read_credentials(path)
                .map(drop)
                .map_err(|e| e.to_string()),
            None => Ok(()),
        }
    };
    let n = &config.notifications;
    if let Some(email) = &n.email {
        let result = secret(&email.credentials)
            .and_then(|()| reachable(&email.server, email.port))
            .map(|()| {
                format!(
                    "{}:{} ({:?}) answers",
                    email.server, email.port, email.security
                )
            });
        checks.push(Check::new("email", result));
    }
    if let Some(webhook) = &n.webhook {
        let readable = match &webhook.token_file {
            Some(path) => std::fs::read_to_string(path)
                .map(|_| format!("{} (token readable)", webhook.url))
                .map_err(|e| format!("{}: {e}", path.display())),
            None => Ok(webhook.url.clone()),
        };
        checks.push(Check::new("webhook", readable));
    }
    match &config.fleet {
        Some(fleet) => {
            let result = secret(&fleet.credentials).and_then(|()| {
                let endpoints = fleet.endpoints();
                let answering: Vec<String> = endpoints
                    .iter()
                    .filter(|(host, port)| reachable(host, *port).is_ok())
                    .map(|(host, port)| format!("{host}:{port}"))
                    .collect();
                if answering.is_empty() {
                    Err(format!(
                        "no broker answers ({}); events wait in the outbox",
                        endpoints
                            .iter()
                            .map(|(h, p)| format!("{h}:{p}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                } else {
                    Ok(format!(
                        "{} answers; {} operator keys",
                        answering.join(", "),
                        fleet.operator_keys.len()
                    ))
                }
            });
            checks.push(Check::new("fleet", result));
        }
        None if !n.any() => checks.push(Check::new(
            "recipients told",
            Ok("no email, webhook or fleet set up: messages wait in the outbox".into()),
        )),
        None => {}
    }
}

/// Room on the data disk, and the reserve held back for pickups.
fn check_disk_space(dir: &Path) -> Result<String, String> {
    use crate::store::disk::free_bytes;
    use crate::store::reserve::{RESERVE_BYTES, RESERVE_FILE};
    let free = free_bytes(dir)
        .ok_or_else(|| format!("cannot read the free space of {}", dir.display()))?;
    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    let reserve = dir.join(RESERVE_FILE);
    let held = std::fs::metadata(&reserve).is_ok_and(|m| m.len() >= RESERVE_BYTES);
    if !held && dir.join(DATABASE_FILE).exists() {
        return Err(format!(
            "{:.1} MiB free, and the {:.0} MiB reserve for pickups is not held ({}): free some space on the data disk",
            mib(free),
            mib(RESERVE_BYTES),
            reserve.display()
        ));
    }
    Ok(format!(
        "{:.1} MiB free{}",
        mib(free),
        if held {
            ", reserve for pickups held"
        } else {
            ""
        }
    ))
}

fn check_data_dir(dir: &Path) -> Result<String, String> {
    if dir.is_dir() {
        let probe = dir.join(".doctor-probe");
        std::fs::write(&probe, b"")
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| format!("{} is not writable: {e}", dir.display()))?;
        return Ok(format!("{} is writable", dir.display()));
    }
    let ancestor = dir
        .ancestors()
        .find(|a| a.exists())
        .ok_or_else(|| format!("{} has no existing parent", dir.display()))?;
    if !ancestor.is_dir() {
        return Err(format!("{} is not a directory", ancestor.display()));
    }
    Ok(format!("{} will be created at first start", dir.display()))
}

fn check_database(file: &Path, config: Option<&Config>) -> Result<String, String> {
    if !file.exists() {
        return Ok(format!("{} will be created at first start", file.display()));
    }
    let inspection = store::inspect(file).map_err(|e| e.to_string())?;
    if let (Some(config), Some(found)) = (config, &inspection.locker_id)
        && *found != config.locker.id
    {
        return Err(format!(
            "{} belongs to locker `{found}`, but the configuration is for `{}`",
            file.display(),
            config.locker.id
        ));
    }
    let migration = if inspection.version < migrations::LATEST_VERSION {
        format!(
            ", will be migrated to v{} at start",
            migrations::LATEST_VERSION
        )
    } else {
        String::new()
    };
    // Closed on purpose, so not a failure; but whoever runs the doctor
    // on a locker nobody can use should read why at once.
    let closed = match &inspection.out_of_service {
        Some(closure) => format!(
            "; the whole locker is out of service since {} ({}, by {}): \
             `locker-kiosk locker back-in-service` puts it back",
            crate::app::system::local_time(closure.since),
            closure.reason,
            closure.by
        ),
        None => String::new(),
    };
    Ok(format!(
        "{} is intact, schema v{}{migration}{closed}",
        file.display(),
        inspection.version
    ))
}

/// The log's hash chain and its end (see store/audit.rs); a database
/// not yet migrated to the chain is said, not failed.
fn check_audit_log(data_dir: &Path) -> Result<String, String> {
    let version = store::inspect(&data_dir.join(DATABASE_FILE))
        .map_err(|e| e.to_string())?
        .version;
    if version < 8 {
        return Ok(format!("chained at the next start (schema v{version})"));
    }
    let found = store::audit::verify_at(data_dir).map_err(|e| e.to_string())?;
    if found.intact() {
        Ok(found.describe())
    } else {
        Err(found.describe())
    }
}

fn check_hardware(config: &Config, checks: &mut Vec<Check>) {
    let doors = DoorSystem::start(&config.boards, &config.compartments, &config.doors);
    // Three polls' worth: a first reply, or enough silence to call it.
    doors.wait_first_poll(config.doors.reply_timeout * 3 + Duration::from_secs(1));
    for board in &config.boards {
        let name = format!("lock board {}", board.id);
        let status = doors.board_status(&board.id);
        let (online, port, port_error) = status.map_or((false, String::new(), None), |s| {
            (s.online, s.port, s.port_error)
        });
        let what = format!(
            "{} at address {}, {} channels",
            board.protocol, board.address, board.channels
        );
        let result = match (&board.port, online, port_error) {
            (BoardPort::Simulated, true, _) => Ok(format!("{what}, simulated in-process, answers")),
            (_, true, _) => Ok(format!("{what} on {port} ({} baud) answers", board.baud)),
            (_, false, Some(error)) => Err(error),
            (_, false, None) => Err(format!(
                "{what} on {port} does not answer: check its address switches, wiring, power and baud rate ({})",
                board.baud
            )),
        };
        checks.push(Check::new(name, result));
    }
    let camera = match &config.camera.device {
        CameraDevice::None => Ok(
            "none configured: camera scanning is off; typed codes and scanners still work".into(),
        ),
        CameraDevice::Device(path) if path.exists() => Ok(format!(
            "{} present ({}x{} asked)",
            path.display(),
            config.camera.width,
            config.camera.height
        )),
        CameraDevice::Device(path) => Err(format!(
            "{} does not exist: is the camera plugged in?",
            path.display()
        )),
        CameraDevice::Replay(dir) => {
            image_count(dir).map(|n| format!("replaying {n} images from {}", dir.display()))
        }
    };
    checks.push(Check::new("camera", camera));
    for (index, scanner) in config.scanners.iter().enumerate() {
        let name = format!("scanner {}", index + 1);
        let result = match scanner {
            ScannerConfig::KeyboardWedge => {
                Ok("keyboard-wedge scanner: recognised by its typing speed".into())
            }
            ScannerConfig::Serial { port, baud } => {
                open_serial(port).map(|_| format!("{} opens ({baud} baud)", port.display()))
            }
        };
        checks.push(Check::new(name, result));
    }
}

/// Opens a serial device without waiting for carrier detect and closes it.
fn open_serial(path: &Path) -> Result<(), String> {
    const O_NONBLOCK: i32 = 0o4000;
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map(|_| ())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

fn image_count(dir: &Path) -> Result<usize, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let count = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            [".png", ".jpg", ".jpeg", ".pgm"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .count();
    if count == 0 {
        Err(format!("{} holds no images", dir.display()))
    } else {
        Ok(count)
    }
}
