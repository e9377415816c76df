//! The application service's core: the store on a worker thread of its
//! own, reached by message. The UI thread and the async tasks hand it
//! closures and await the answer; none of them ever waits on SQLite.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::oneshot;

use crate::config::{CameraDevice, Config, ScannerConfig};
use crate::domain::codes::Attempts;
use crate::domain::pickup::OpenOutcome;
use crate::domain::{CompartmentNumber, CompartmentState};
use crate::hardware::doors::DoorSystem;
pub use crate::scanning::camera::CameraStatus;
use crate::scanning::camera::Scanner;
use crate::scanning::serial::SerialScanner;
use crate::scanning::wedge::WedgeDetector;
use crate::scanning::{ScanEvent, ScanSink, ScanSource};
use crate::store::{self, Closure, Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// One method per aggregate of the store: `f` gets that aggregate's
/// handle and nothing else.
macro_rules! aggregates {
    ($($(#[$doc:meta])* $name:ident: $handle:ident;)*) => {$(
        $(#[$doc])*
        pub async fn $name<R, F>(&self, f: F) -> Result<R, ServiceError>
        where
            R: Send + 'static,
            F: FnOnce(&mut store::$handle<'_>) -> Result<R, StoreError> + Send + 'static,
        {
            self.call(move |store| f(&mut store.$name())).await
        }
    )*};
}

/// A cheap handle; clone it into every task that needs the store.
#[derive(Clone)]
pub struct Service {
    jobs: mpsc::Sender<Job>,
    config: Arc<Config>,
    doors: Arc<DoorSystem>,
    scans: ScanSink,
    camera: Option<Arc<Scanner>>,
    serial_scanners: Arc<Vec<SerialScanner>>,
    wedge: Arc<Mutex<WedgeDetector>>,
    /// Counts the changes made to the records outside the kiosk's own
    /// flows (staff commands): the screen reads its counts again.
    changed_elsewhere: Arc<tokio::sync::watch::Sender<u64>>,
    /// What the keypads had counted of wrong codes when the kiosk
    /// started, by keypad.
    kept_attempts: Arc<Vec<(String, Attempts)>>,
    /// Set by the store's worker: it runs on its disk reserve.
    disk_low: Arc<std::sync::atomic::AtomicBool>,
    /// How the fleet link stands (`[fleet]`), set by the link.
    fleet: Arc<tokio::sync::watch::Sender<super::fleet::LinkStatus>>,
    /// The newest event's id, after each piece of store work.
    newest_event: Arc<tokio::sync::watch::Sender<i64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database worker has stopped")]
    Stopped,
}

/// What the home screen's status strip needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    pub compartments: usize,
    pub free: usize,
    pub occupied: usize,
    pub faulty: usize,
    pub out_of_service: usize,
    pub parcels_waiting: usize,
    pub outbox_pending: u64,
    /// Lock boards that do not answer: their compartments cannot be used.
    pub boards_offline: Vec<String>,
    /// The whole locker is out of service: nobody collects or delivers.
    pub closed: Option<Closure>,
}

impl Overview {
    pub fn read(store: &mut Store) -> Result<Overview, StoreError> {
        let compartments = store.compartments().all()?;
        let count = |f: &dyn Fn(&CompartmentState) -> bool| {
            compartments.iter().filter(|c| f(&c.state)).count()
        };
        Ok(Overview {
            compartments: compartments.len(),
            free: count(&|s| *s == CompartmentState::Free),
            occupied: count(&|s| *s == CompartmentState::Occupied),
            faulty: count(&|s| matches!(s, CompartmentState::Faulty { .. })),
            out_of_service: count(&|s| matches!(s, CompartmentState::OutOfService { .. })),
            parcels_waiting: store.parcels().in_locker()?.len(),
            outbox_pending: store.events().outbox_pending()?,
            boards_offline: Vec::new(),
            closed: store.staff().closure()?,
        })
    }

    pub fn is_full(&self) -> bool {
        self.compartments > 0 && self.free == 0
    }
}

impl Service {
    /// Moves the store onto its worker thread, starts the lock boards, and
    /// records what the doors do in the event log (on `runtime`).
    pub fn start(
        mut store: Store,
        mut config: Config,
        runtime: &tokio::runtime::Handle,
    ) -> Service {
        // Staff may have chosen another default language in maintenance.
        match store.staff().default_language() {
            Ok(Some(language)) if config.languages.available.contains(&language) => {
                config.languages.default = language;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reading the default language failed"),
        }
        // A restart must not clear a lockout: read before the first touch.
        let kept_attempts = store.staff().all_attempts().unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading the keypads' wrong-code counts failed");
            Vec::new()
        });
        // Door actions a crash or power cut left unfinished, settled
        // before anyone is served (see reconcile.rs).
        let settings = crate::app::kiosk::records::Settings::from(&config);
        if let Err(e) =
            crate::app::reconcile::reconcile(&mut store, &settings, super::system::now())
        {
            tracing::error!(error = %e, "settling the door actions left unfinished failed");
        }
        // The time the kiosk was down is given back to the parcels
        // waiting through it (see outages.rs).
        if let Err(e) =
            crate::app::outages::settle_downtime(&mut store, &settings, super::system::now())
        {
            tracing::error!(error = %e, "giving back the time the kiosk was down failed");
        }
        let doors = Arc::new(DoorSystem::start(
            &config.boards,
            &config.compartments,
            &config.doors,
        ));
        let (jobs, queue) = mpsc::channel::<Job>();
        let newest_event = Arc::new(tokio::sync::watch::Sender::new(
            store.events().newest_id().unwrap_or_default(),
        ));
        let newest_for_worker = newest_event.clone();
        let disk_low = Arc::new(std::sync::atomic::AtomicBool::new(store.disk_low()));
        let disk_low_flag = disk_low.clone();
        thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let mut store = store;
                for job in queue {
                    store.mind_space(super::system::now());
                    disk_low_flag.store(store.disk_low(), std::sync::atomic::Ordering::Relaxed);
                    job(&mut store);
                    // The log's head, beside the database, after each
                    // piece of work: a later rollback is then seen.
                    if let Err(e) = store.anchor_log() {
                        tracing::warn!(error = %e, "could not write the audit log's head");
                    }
                    // The fleet link waits on this, not on a timer.
                    if let Ok(id) = store.events().newest_id() {
                        newest_for_worker.send_if_modified(|n| std::mem::replace(n, id) != id);
                    }
                }
                tracing::debug!("store worker stopped");
            })
            .expect("spawning the store worker thread");
        // Shut until the flows listen (`take_scans`): a code already in
        // front of the camera must not be spent before they do.
        let scans = ScanSink::shut();
        let camera = start_camera(&config, &scans);
        let serial_scanners = config
            .scanners
            .iter()
            .filter_map(|scanner| match scanner {
                ScannerConfig::Serial { port, baud } => {
                    Some(SerialScanner::start(port, *baud, scans.clone()))
                }
                // Keystrokes reach the UI, which hands bursts to `scanned`.
                ScannerConfig::KeyboardWedge => None,
            })
            .collect();
        let service = Service {
            jobs,
            config: Arc::new(config),
            doors,
            scans,
            camera,
            serial_scanners: Arc::new(serial_scanners),
            wedge: Arc::default(),
            changed_elsewhere: Arc::new(tokio::sync::watch::Sender::new(0)),
            kept_attempts: Arc::new(kept_attempts),
            disk_low,
            fleet: Arc::new(tokio::sync::watch::channel(Default::default()).0),
            newest_event,
        };
        runtime.spawn(super::door_log::record_door_events(
            service.clone(),
            service.doors.subscribe(),
        ));
        runtime.spawn(super::outages::keep_alive(service.clone()));
        service
    }

    pub fn doors(&self) -> &DoorSystem {
        &self.doors
    }

    /// What the keypads had counted of wrong codes when the kiosk started.
    pub fn kept_attempts(&self) -> &[(String, Attempts)] {
        &self.kept_attempts
    }

    /// The store runs on its disk reserve (the data disk is nearly full):
    /// parcels inside can be collected, new deposits wait for room.
    /// How the fleet link stands; its default when there is none.
    pub fn fleet_status(&self) -> super::fleet::LinkStatus {
        self.fleet.borrow().clone()
    }

    /// Changes whenever an event is recorded: the fleet link publishes
    /// on it rather than asking the store on a timer.
    pub fn newest_event(&self) -> tokio::sync::watch::Receiver<i64> {
        self.newest_event.subscribe()
    }

    /// For the fleet link to say how it stands.
    pub(super) fn fleet_status_sender(
        &self,
    ) -> Arc<tokio::sync::watch::Sender<super::fleet::LinkStatus>> {
        self.fleet.clone()
    }

    pub fn disk_low(&self) -> bool {
        self.disk_low.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The door system, shared: for the kiosk's executor.
    pub fn door_system(&self) -> Arc<DoorSystem> {
        self.doors.clone()
    }

    /// Opens a compartment's door and waits for what its sensor saw; a
    /// door system that cannot take the command counts as no reply.
    pub async fn open_door(&self, compartment: CompartmentNumber) -> OpenOutcome {
        match self.doors.open(compartment) {
            Ok(answer) => answer.await.unwrap_or(OpenOutcome::NoReply),
            Err(e) => {
                tracing::error!(error = %e, "cannot open compartment {compartment}");
                OpenOutcome::NoReply
            }
        }
    }

    /// Every scan, from the camera and the scanners.
    pub fn scans(&self) -> Option<tokio::sync::broadcast::Receiver<ScanEvent>> {
        Some(self.scans.subscribe())
    }

    /// From now on scans reach the flows: call once every flow subscribed
    /// (the UI does, when bound).
    pub fn take_scans(&self) {
        self.scans.open();
    }

    /// Where scans go: for a frame source or scanner started outside the
    /// service (benchmarks, tests).
    pub fn scan_sink(&self) -> ScanSink {
        self.scans.clone()
    }

    /// A scan read elsewhere (a keyboard-wedge scanner's burst, seen by the UI).
    pub fn scanned(&self, text: String, source: ScanSource) {
        self.scans.publish(ScanEvent::new(text, source));
    }

    /// A key from a physical keyboard: keyboard-wedge scanners type their
    /// codes, much faster than a person; a burst is a scan.
    pub fn key_typed(&self, text: &str) {
        let burst = self
            .wedge
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .key(text, std::time::Instant::now());
        if let Some(scan) = burst {
            self.scanned(scan, ScanSource::Keyboard);
        }
    }

    /// The newest small picture from the camera, for the home screen.
    pub fn camera_preview(&self) -> Option<crate::scanning::camera::Preview> {
        self.camera.as_ref().map(|c| c.preview())
    }

    /// The camera's status and its changes; `None` without a camera.
    pub fn camera_status(&self) -> Option<tokio::sync::watch::Receiver<CameraStatus>> {
        self.camera.as_ref().map(|c| c.status())
    }

    /// Whether a keyboard-wedge scanner is configured.
    pub fn keyboard_scanner(&self) -> bool {
        self.config
            .scanners
            .iter()
            .any(|s| matches!(s, ScannerConfig::KeyboardWedge))
    }

    /// The serial scanners, for their status.
    pub fn serial_scanners(&self) -> &[SerialScanner] {
        &self.serial_scanners
    }

    /// Says that the records changed outside the kiosk's flows (a staff
    /// command from the control socket).
    pub fn records_changed_elsewhere(&self) {
        self.changed_elsewhere.send_modify(|count| *count += 1);
    }

    /// Each change [`Service::records_changed_elsewhere`] says.
    pub fn watch_records(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed_elsewhere.subscribe()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs `f` on the store's thread with the whole store: for work that
    /// spans aggregates in one go (a courier visit's end, the overview).
    /// Everything else goes through the narrow handle of its aggregate
    /// ([`Service::parcels`] and the others).
    pub async fn call<R, F>(&self, f: F) -> Result<R, ServiceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        self.jobs.send(job).map_err(|_| ServiceError::Stopped)?;
        Ok(answer.await.map_err(|_| ServiceError::Stopped)??)
    }

    aggregates! {
        /// Runs `f` on the store's thread with the compartments only.
        compartments: Compartments;
        /// Runs `f` on the store's thread with the parcels and codes only.
        parcels: Parcels;
        /// Runs `f` on the store's thread with the couriers only.
        couriers: Couriers;
        /// Runs `f` on the store's thread with the resident directory only.
        recipients: Recipients;
        /// Runs `f` on the store's thread with staff PINs and settings only.
        staff: Staff;
        /// Runs `f` on the store's thread with the event log only.
        events: Events;
        /// Runs `f` on the store's thread with the reports only.
        reports: Reports;
        /// Runs `f` on the store's thread with the messages to recipients only.
        deliveries: Deliveries;
        /// Runs `f` on the store's thread with the fleet's commands seen only.
        fleet_commands: FleetCommands;
    }

    pub async fn overview(&self) -> Result<Overview, ServiceError> {
        let mut overview = self.call(Overview::read).await?;
        overview.boards_offline = self
            .config
            .boards
            .iter()
            .filter(|b| self.doors.board_offline(&b.id))
            .map(|b| b.id.clone())
            .collect();
        Ok(overview)
    }
}

/// Frames a second asked of the camera: enough for a code held up to it,
/// little enough to leave the CPU idle.
const CAMERA_FPS: u32 = 15;

/// The same code held in view counts once within this time.
const SCAN_HOLD_OFF: std::time::Duration = std::time::Duration::from_millis(1500);

/// Starts decoding camera frames, when a camera is configured. Without one
/// the kiosk works with typed codes and scanners (and says so).
fn start_camera(config: &Config, sink: &ScanSink) -> Option<Arc<Scanner>> {
    match &config.camera.device {
        CameraDevice::None => None,
        CameraDevice::Replay(dir) => {
            let mut scanner = Scanner::start(SCAN_HOLD_OFF, sink.clone());
            match scanner.replay(dir, CAMERA_FPS) {
                Ok(count) => {
                    tracing::info!(images = count, dir = %dir.display(), "replaying images as camera frames")
                }
                Err(e) => tracing::error!(error = %e, "camera replay unavailable"),
            }
            Some(Arc::new(scanner))
        }
        CameraDevice::Device(path) => {
            let mut scanner = Scanner::start(SCAN_HOLD_OFF, sink.clone());
            scanner.camera(path, config.camera.width, config.camera.height, CAMERA_FPS);
            Some(Arc::new(scanner))
        }
    }
}
