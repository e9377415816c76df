//! The kiosk on a clock: [`Driver`] feeds inputs to the [`Kiosk`] at the
//! clock's time, hands its effects to the [`Executor`] and says what the
//! screen shows and when to wake it next. The UI hosts it on its event
//! loop (`ui::host`); [`Headless`] hosts it on a tokio task, for the
//! benchmarks and tests that need no window.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::executor::{Deliver, Work};
use super::{Executor, Input, Kiosk, KioskView, feeds};
use crate::app::Service;
use crate::app::system::{Clock, SystemClock};
use crate::domain::Timestamp;

/// What the host does after a step: show `view`, and send
/// [`Input::Tick`] after `wake_in` unless another input comes first.
#[derive(Debug, Clone)]
pub struct Step {
    pub view: KioskView,
    pub wake_in: Option<Duration>,
}

pub struct Driver {
    kiosk: Kiosk,
    executor: Executor,
    clock: Arc<dyn Clock>,
}

impl Driver {
    /// The kiosk of `service`, with its executor and its feeds (scans,
    /// doors) on `runtime`; their answers and reports go to `deliver`,
    /// which must hand them back to [`Driver::handle`] on the host.
    pub fn start(
        service: &Service,
        clock: Arc<dyn Clock>,
        runtime: &tokio::runtime::Handle,
        deliver: Deliver,
    ) -> Driver {
        let mut kiosk = Kiosk::new(service.config());
        kiosk.resume_attempts(service.kept_attempts(), clock.now());
        let work = Work::new(service.clone(), clock.clone(), deliver.clone());
        let executor = Executor::start(work, runtime);
        feeds::start(service, runtime, deliver);
        executor.run(kiosk.start());
        Driver {
            kiosk,
            executor,
            clock,
        }
    }

    /// One step of the kiosk.
    pub fn handle(&mut self, input: Input) -> Step {
        let now = self.clock.now();
        let effects = self.kiosk.handle(input, now);
        self.executor.run(effects);
        self.step_at(now)
    }

    /// The kiosk is asked to stop (SIGTERM from systemd, Ctrl-C): whoever
    /// has the screen leaves as if they had walked away, so a visit's
    /// records and its recipients' notifications are written; resolves
    /// once they are.
    pub fn stop(&mut self) -> tokio::sync::oneshot::Receiver<()> {
        self.handle(Input::Leave);
        self.executor.drained()
    }

    /// What shows now, without a step.
    pub fn current(&self) -> Step {
        self.step_at(self.clock.now())
    }

    fn step_at(&self, now: Timestamp) -> Step {
        Step {
            view: self.kiosk.view(now),
            // A millisecond late rather than early: the deadline has passed
            // when the tick arrives.
            wake_in: self
                .kiosk
                .poll_timeout(now)
                .map(|at| Duration::from_millis(now.millis_until(at).max(0) as u64 + 1)),
        }
    }
}

/// The kiosk on a tokio task, without a window.
#[derive(Clone)]
pub struct Headless {
    inputs: mpsc::UnboundedSender<Input>,
    stops: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl Headless {
    /// Starts the kiosk of `service` on `runtime`; `publish` gets every
    /// view, on the kiosk's task.
    pub fn spawn(
        service: &Service,
        runtime: &tokio::runtime::Handle,
        publish: impl Fn(&KioskView) + Send + 'static,
    ) -> Headless {
        let (inputs, mut received) = mpsc::unbounded_channel();
        let (stops, mut stop_asked) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
        let sender = inputs.clone();
        let deliver: Deliver = Arc::new(move |input| {
            let _ = sender.send(input);
        });
        let mut driver = Driver::start(service, Arc::new(SystemClock), runtime, deliver);
        runtime.spawn(async move {
            let mut step = driver.current();
            publish(&step.view);
            loop {
                // Nothing due: the sleep below is disabled, its length moot.
                let wait = step.wake_in.unwrap_or(Duration::from_secs(3600));
                let input = tokio::select! {
                    input = received.recv() => input,
                    _ = tokio::time::sleep(wait), if step.wake_in.is_some() => Some(Input::Tick),
                    Some(reply) = stop_asked.recv() => {
                        let drained = driver.stop();
                        tokio::spawn(async move {
                            let _ = drained.await;
                            let _ = reply.send(());
                        });
                        step = driver.current();
                        publish(&step.view);
                        continue;
                    }
                };
                let Some(input) = input else { break };
                step = driver.handle(input);
                publish(&step.view);
            }
        });
        Headless { inputs, stops }
    }

    /// Stops the kiosk as a SIGTERM does ([`Driver::stop`]); resolves once
    /// the visit's records are written.
    pub fn stop(&self) -> oneshot::Receiver<()> {
        let (reply, stopped) = oneshot::channel();
        let _ = self.stops.send(reply);
        stopped
    }

    pub fn send(&self, input: Input) {
        let _ = self.inputs.send(input);
    }
}
