//! The control socket: how the staff commands reach a running kiosk, so
//! that an installer need not stop it. `<data dir>/control.sock`, a Unix
//! socket only the kiosk's own user may use (mode 0600, like the database
//! beside it). One request a connection: a line of JSON in, a line of JSON
//! out. The kiosk carries the request out on its store's thread, so the
//! store keeps its one writer.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::staff_commands::{StaffRequest, execute};
use super::{Service, system};

pub const SOCKET_FILE: &str = "control.sock";

/// A request is small; anything longer is not one.
const MAX_REQUEST: usize = 64 * 1024;
/// How long either side waits for the other.
const PATIENCE: Duration = Duration::from_secs(10);
/// Connections answered at once; an idle one holds up no other, and more
/// than this are told the kiosk is busy rather than left waiting.
const MAX_CONNECTIONS: usize = 8;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// Who the client says asks (`cli:<user>`). The kiosk checks it
    /// against the connection's user id ([`attributed`]).
    actor: String,
    request: StaffRequest,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok(String),
    Error(String),
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_FILE)
}

/// Listens on the control socket of `data_dir` (replacing a stale one
/// left by a kiosk that died) and answers each connection on a thread of
/// its own (at most [`MAX_CONNECTIONS`] at once) until the process ends.
pub fn serve(
    service: Service,
    data_dir: &Path,
    runtime: &tokio::runtime::Handle,
) -> std::io::Result<()> {
    let path = socket_path(data_dir);
    // We hold the data directory's lock: no other kiosk is listening here.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    tracing::info!(socket = %path.display(), "staff commands are taken on the control socket");
    let runtime = runtime.clone();
    let open = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(stream) => connected(&service, &runtime, &open, stream),
                    Err(e) => tracing::warn!(error = %e, "a control connection failed"),
                }
            }
        })?;
    Ok(())
}

/// One connection, on a thread of its own.
fn connected(
    service: &Service,
    runtime: &tokio::runtime::Handle,
    open: &Arc<AtomicUsize>,
    mut stream: UnixStream,
) {
    if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        open.fetch_sub(1, Ordering::SeqCst);
        let busy = Answer::Error("the kiosk is busy with other staff commands: try again".into());
        let mut reply = serde_json::to_vec(&busy).unwrap_or_default();
        reply.push(b'\n');
        let _ = stream.write_all(&reply);
        return;
    }
    let (service, runtime, open) = (service.clone(), runtime.clone(), open.clone());
    let spawned = std::thread::Builder::new()
        .name("control-conn".into())
        .spawn(move || {
            answer(&service, &runtime, stream);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread for a control connection");
    }
}

fn answer(service: &Service, runtime: &tokio::runtime::Handle, stream: UnixStream) {
    let peer = peer_uid(&stream);
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let _ = stream.set_write_timeout(Some(PATIENCE));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut line = Vec::new();
    let read = BufReader::new(stream)
        .take(MAX_REQUEST as u64 + 1)
        .read_until(b'\n', &mut line);
    let answer = match read {
        Ok(_) if line.len() > MAX_REQUEST => Answer::Error("the request is too long".into()),
        Ok(_) => match read_request(&line) {
            Ok((actor, request)) => {
                let envelope = Envelope {
                    actor: attributed(&actor, peer),
                    request,
                };
                runtime.block_on(carry_out(service, envelope))
            }
            Err(e) => Answer::Error(e),
        },
        Err(e) => Answer::Error(format!("reading the request failed: {e}")),
    };
    let mut reply = serde_json::to_vec(&answer).unwrap_or_default();
    reply.push(b'\n');
    let _ = writer.write_all(&reply);
}

/// One request line as a client sends it: who it says it is, and what it
/// asks. Fuzzed (`fuzz/`, and replayed in the suite).
pub fn read_request(line: &[u8]) -> Result<(String, StaffRequest), String> {
    if line.len() > MAX_REQUEST {
        return Err("the request is too long".into());
    }
    serde_json::from_slice::<Envelope>(line)
        .map(|envelope| (envelope.actor, envelope.request))
        .map_err(|e| {
            format!(
                "the kiosk did not understand the request ({e}); is this locker-kiosk the same version as the running kiosk?"
            )
        })
}

/// The user id of the process at the other end of `stream`.
fn peer_uid(stream: &UnixStream) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes of the sizes given.
    let done = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (done == 0).then_some(cred.uid)
}

/// Who the audit log names for a command: the account of the
/// connection's user id, never what the client claims. Root may name the
/// user it acts for (`sudo` sets `SUDO_USER`), as a `cli:` name only.
fn attributed(claimed: &str, peer: Option<u32>) -> String {
    let Some(uid) = peer else {
        return "cli:unknown".into();
    };
    let account = system::account_of(uid).unwrap_or_else(|| format!("uid{uid}"));
    match claimed.strip_prefix("cli:") {
        Some(name) if uid == 0 && is_account_name(name) => format!("cli:{name}"),
        _ => format!("cli:{account}"),
    }
}

fn is_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

async fn carry_out(service: &Service, envelope: Envelope) -> Answer {
    tracing::info!(actor = %envelope.actor, request = ?redacted(&envelope.request), "staff command from the control socket");
    let config = service.config().clone();
    let now = system::now();
    let result = service
        .call(move |store| {
            Ok(execute(
                store,
                &config,
                &envelope.request,
                &envelope.actor,
                now,
            ))
        })
        .await;
    match result {
        Ok(Ok(text)) => {
            service.records_changed_elsewhere();
            Answer::Ok(text)
        }
        Ok(Err(message)) => Answer::Error(message),
        Err(e) => Answer::Error(e.to_string()),
    }
}

/// The request without a PIN in it, for the log.
fn redacted(request: &StaffRequest) -> StaffRequest {
    match request {
        StaffRequest::SetAdminPin { staff, .. } => StaffRequest::SetAdminPin {
            pin: "…".into(),
            staff: staff.clone(),
        },
        StaffRequest::AddCourier {
            name,
            company,
            login_code,
            badge,
        } => StaffRequest::AddCourier {
            name: name.clone(),
            company: company.clone(),
            login_code: login_code.as_ref().map(|_| "…".into()),
            badge: badge.as_ref().map(|_| "…".into()),
        },
        other => other.clone(),
    }
}

/// What became of a request sent to a running kiosk.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// No kiosk listens on this data directory: carry it out yourself.
    NoKiosk,
    Answered(Result<String, String>),
}

/// Sends `request` to the kiosk running on `data_dir`, if one is.
pub fn send(data_dir: &Path, actor: &str, request: &StaffRequest) -> Sent {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        // No socket, or a stale one of a kiosk that is gone.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Sent::NoKiosk;
        }
        Err(e) => {
            return Sent::Answered(Err(format!(
                "cannot reach the running kiosk at {}: {e}",
                path.display()
            )));
        }
    };
    Sent::Answered(exchange(stream, actor, request).map_err(|e| {
        format!("the running kiosk did not answer ({e}); nothing may have changed: check with `locker-kiosk parcels list`")
    })
    .and_then(|answer| match answer {
        Answer::Ok(text) => Ok(text),
        Answer::Error(message) => Err(message),
    }))
}

fn exchange(
    mut stream: UnixStream,
    actor: &str,
    request: &StaffRequest,
) -> std::io::Result<Answer> {
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.set_write_timeout(Some(PATIENCE))?;
    let envelope = Envelope {
        actor: actor.into(),
        request: request.clone(),
    };
    let mut line = serde_json::to_vec(&envelope).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    serde_json::from_str(&reply).map_err(std::io::Error::other)
}
