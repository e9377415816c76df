//! `locker-kiosk run`: open the locker's records, start the service, show
//! the UI.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use slint::ComponentHandle;

use super::GlobalArgs;
use crate::app::{Service, control, demo, system};
use crate::config::Config;
use crate::store::Store;
use crate::ui::{self, AppWindow, UiContext};

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Show the kiosk in a window instead of full screen (development)
    #[arg(long)]
    pub windowed: bool,
    /// How to reach the screen: winit needs a desktop (X11/Wayland); linuxkms drives the panel directly
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Measure and exit: time to the first frame, then memory (RSS) and CPU
    /// over SECONDS of leaving the kiosk alone
    #[arg(long, value_name = "SECONDS")]
    pub measure: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// SLINT_BACKEND if set, else a desktop when there is one, else linuxkms
    #[default]
    Auto,
    Winit,
    Linuxkms,
}

pub fn run(global: &GlobalArgs, args: &RunArgs) -> ExitCode {
    let (config, store) = match open_locker(global) {
        Ok(opened) => opened,
        Err(message) => {
            eprintln!("locker-kiosk: {message}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        locker = %config.locker.id,
        config = %config.source.describe(),
        database = %store.file().display(),
        "starting the kiosk"
    );
    match show_ui(config, store, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("locker-kiosk: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration and opens the store bound to it, seeding demo
/// data where the demo asks for it. Every error is a sentence for the
/// operator.
pub fn open_locker(global: &GlobalArgs) -> Result<(Config, Store), String> {
    open(global, global.demo)
}

/// The same for the staff commands (`admin`, `compartments`, `parcels`):
/// the records as they are, never the demo's fresh start.
pub fn open_records(global: &GlobalArgs) -> Result<(Config, Store), String> {
    open(global, false)
}

fn open(global: &GlobalArgs, fresh: bool) -> Result<(Config, Store), String> {
    let config = global
        .load_config()
        .map_err(|errors| format!("the configuration has errors:\n{errors}"))?;
    let data_dir = global.data_dir();
    if fresh {
        refuse_to_replace_real_records(&data_dir, &config)?;
    }
    let mut store = if fresh {
        Store::open_fresh(&data_dir)
    } else {
        Store::open(&data_dir)
    }
    .map_err(|e| e.to_string())?;
    let now = system::now();
    store
        .compartments()
        .sync_layout(&config, now)
        .map_err(|e| e.to_string())?;
    crate::app::data_dir::publish_receipt_key(&mut store, &data_dir)?;
    let blank = store.is_blank().map_err(|e| e.to_string())?;
    if config.is_demo_layout() && blank {
        demo::seed(&mut store, &config, now).map_err(|e| format!("seeding the demo data: {e}"))?;
        tracing::info!("demo data seeded: see README.md for the codes");
    }
    Ok((config, store))
}

/// The demo starts from fresh demo data. It replaces only an earlier
/// demo's database, never a locker's records (`--demo --data-dir` pointed
/// at a real data directory) nor a file it cannot read.
fn refuse_to_replace_real_records(data_dir: &Path, demo: &Config) -> Result<(), String> {
    let file = data_dir.join(crate::store::DATABASE_FILE);
    if !file.exists() {
        return Ok(());
    }
    let refusal = |what: String| {
        format!(
            "{} {what}: the demo starts from fresh demo data and would replace it.\nGive the demo a data directory of its own (--data-dir), or leave --data-dir out: the demo then keeps its data apart",
            file.display()
        )
    };
    match crate::store::inspect(&file) {
        Ok(found) => match found.locker_id {
            Some(id) if id != demo.locker.id => {
                Err(refusal(format!("holds the records of locker `{id}`")))
            }
            _ => Ok(()),
        },
        Err(e) => Err(refusal(format!("cannot be read as a demo database ({e})"))),
    }
}

fn show_ui(config: Config, store: Store, args: &RunArgs) -> Result<(), String> {
    select_backend(args.backend)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("kiosk-service")
        .build()
        .map_err(|e| format!("starting the service runtime: {e}"))?;
    let data_dir = store.file().parent().map(Path::to_path_buf);
    let backups = config.backups.clone();
    let context = UiContext {
        service: Service::start(store, config, runtime.handle()),
        runtime: runtime.handle().clone(),
    };
    if let (Some(schedule), Some(data_dir)) = (backups, data_dir.clone()) {
        let _entered = runtime.enter();
        crate::app::backups::spawn(&context.service, data_dir, schedule);
    }
    start_notifier(&context.service, runtime.handle());
    // Staff commands reach the running kiosk here; without it they need
    // the kiosk stopped, which is worth a warning, not a dark screen.
    if let Some(data_dir) = data_dir
        && let Err(e) = control::serve(context.service.clone(), &data_dir, runtime.handle())
    {
        tracing::warn!(error = %e, "no control socket: staff commands need the kiosk stopped");
    }
    let window = AppWindow::new().map_err(|e| format!("cannot open the screen: {e}"))?;
    ui::bind(&window, &context);
    let status = format!("showing locker {}", context.service.config().locker.id);
    ui::on_first_frame(&window, move || {
        super::measure::first_frame_drawn();
        super::systemd::ready(&status);
    });
    let _watchdog = super::systemd::start_watchdog();
    if !args.windowed {
        window.window().set_fullscreen(true);
        #[cfg(feature = "desktop")]
        fill_the_screen(&window);
    }
    stop_on_signals(runtime.handle().clone());
    let _measuring = args
        .measure
        .map(|seconds| super::measure::start(std::time::Duration::from_secs(seconds)));
    window.run().map_err(|e| format!("the screen stopped: {e}"))
}

/// The fleet link when `[fleet]` is configured; else recipients are
/// told by the locker itself when `[notifications]` is configured. A channel that cannot be set up is logged, and the
/// messages wait in the records until it can.
fn start_notifier(service: &Service, runtime: &tokio::runtime::Handle) {
    // With a fleet backend, the fleet tells recipients: the messages go
    // out with the outbox.
    if let Some(link) = crate::app::fleet::FleetLink::new(service) {
        let _entered = runtime.enter();
        link.spawn();
        return;
    }
    match crate::app::notifier::Notifier::new(service) {
        Ok(Some(notifier)) => {
            let _entered = runtime.enter();
            notifier.spawn();
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "recipients cannot be told: the notifications are not set up")
        }
    }
}

/// SIGTERM (systemd stopping the service) and SIGINT (Ctrl-C) stop the
/// kiosk the way walking away ends a visit: its records and notifications
/// are written before the process exits. A second signal is not waited on.
fn stop_on_signals(runtime: tokio::runtime::Handle) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
        Ok(signals) => signals,
        Err(e) => {
            tracing::warn!(error = %e, "no signal handling: a stop may cut a visit short");
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut signals = signals.forever();
            if let Some(signal) = signals.next() {
                tracing::info!(
                    signal,
                    "stopping: the visit on screen ends with its records"
                );
                super::systemd::stopping();
                ui::stop_gracefully(runtime);
            }
            if let Some(signal) = signals.next() {
                tracing::warn!(signal, "stopping at once");
                std::process::exit(1);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no signal handling: a stop may cut a visit short");
    }
}

/// Without a window manager (a bare X server on a panel) winit's full-screen
/// request only moves the window to the corner; it keeps its first size. So
/// on X11 the window is given the screen's size before it is shown.
#[cfg(feature = "desktop")]
fn fill_the_screen(window: &AppWindow) {
    use x11rb::connection::Connection;
    if std::env::var_os("DISPLAY").is_none() {
        return;
    }
    let (connection, screen) = match x11rb::connect(None) {
        Ok(connected) => connected,
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask the X server for the screen's size");
            return;
        }
    };
    let Some(root) = connection.setup().roots.get(screen) else {
        return;
    };
    window
        .window()
        .set_position(slint::PhysicalPosition::new(0, 0));
    window.window().set_size(slint::PhysicalSize::new(
        root.width_in_pixels.into(),
        root.height_in_pixels.into(),
    ));
}

fn select_backend(backend: Backend) -> Result<(), String> {
    let name = match backend {
        Backend::Auto => {
            if std::env::var_os("SLINT_BACKEND").is_some() {
                return Ok(());
            }
            let desktop = cfg!(feature = "desktop")
                && (std::env::var_os("WAYLAND_DISPLAY").is_some()
                    || std::env::var_os("DISPLAY").is_some());
            if desktop { "winit" } else { "linuxkms" }
        }
        Backend::Winit => "winit",
        Backend::Linuxkms => "linuxkms",
    };
    if name == "winit" && !cfg!(feature = "desktop") {
        return Err("this build drives only the panel (linuxkms): it has no desktop backend (the `desktop` feature)".into());
    }
    slint::BackendSelector::new()
        .backend_name(name.into())
        .renderer_name("software".into())
        .select()
        .map_err(|e| {
            format!(
                "cannot use the {name} backend: {e}\n(the kiosk needs a screen: a desktop session (DISPLAY or WAYLAND_DISPLAY) for winit, or the panel's /dev/dri device for linuxkms)"
            )
        })
}
