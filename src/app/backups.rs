//! Scheduled backups (`[backups]` in the configuration): a copy of the
//! records into the backup directory every `every_hours`, through SQLite's
//! online backup (the kiosk keeps working meanwhile), named by its time,
//! the newest `keep` kept and older ones deleted. A restart does not put
//! the next one off: it is due `every` after the newest copy there.
//! Each copy, and each failure, is an event in the log.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Service;
use crate::config::BackupSchedule;
use crate::domain::Timestamp;
use crate::store::{self, Event, NewEvent};

const PREFIX: &str = "locker-";
const SUFFIX: &str = ".backup";

/// `locker-20261203-014501.backup`: sorts by time.
pub fn file_name(at: Timestamp) -> String {
    let text = crate::domain::utc_text(at.0.div_euclid(1000));
    // "2026-12-03 01:45:01 UTC"
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    format!("{PREFIX}{}-{}{SUFFIX}", &digits[..8], &digits[8..14])
}

/// The backups in `dir`, oldest first.
pub fn existing(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    found.sort();
    found
}

/// Makes one backup now and deletes the oldest beyond `keep`; the new
/// file and those deleted.
pub fn run_once(
    data_dir: &Path,
    schedule: &BackupSchedule,
    now: Timestamp,
) -> Result<(PathBuf, Vec<PathBuf>), String> {
    if !schedule.dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&schedule.dir)
            .map_err(|e| format!("{}: {e}", schedule.dir.display()))?;
    }
    let target = schedule.dir.join(file_name(now));
    store::backup(data_dir, &target).map_err(|e| e.to_string())?;
    let all = existing(&schedule.dir);
    let surplus = all.len().saturating_sub(schedule.keep as usize);
    let mut deleted = Vec::new();
    for old in all.into_iter().take(surplus) {
        match std::fs::remove_file(&old) {
            Ok(()) => deleted.push(old),
            Err(e) => {
                tracing::warn!(file = %old.display(), error = %e, "could not delete an old backup")
            }
        }
    }
    Ok((target, deleted))
}

/// How long until the next backup is due: `every` after the newest one in
/// the directory, at once when there is none (or it is older).
pub fn due_in(schedule: &BackupSchedule, now: SystemTime) -> Duration {
    let newest = existing(&schedule.dir)
        .last()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok());
    match newest {
        Some(at) => (at + schedule.every)
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
        None => Duration::ZERO,
    }
}

/// Runs the schedule for as long as the kiosk runs.
pub fn spawn(service: &Service, data_dir: PathBuf, schedule: BackupSchedule) {
    let service = service.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(due_in(&schedule, SystemTime::now())).await;
            let (dir, plan) = (data_dir.clone(), schedule.clone());
            let now = super::system::now();
            let made = tokio::task::spawn_blocking(move || run_once(&dir, &plan, now))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let event = match made {
                Ok((file, deleted)) => {
                    tracing::info!(file = %file.display(), deleted = deleted.len(), "backup made");
                    Event::BackupMade {
                        file: file.display().to_string(),
                        deleted: deleted.len(),
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "the scheduled backup failed");
                    Event::BackupFailed { error }
                }
            };
            let failed = matches!(event, Event::BackupFailed { .. });
            let recorded = service
                .events(move |events| events.record(now, &NewEvent::new(event, "kiosk")))
                .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "recording the backup failed");
            }
            if failed {
                // Not again at once: an hour, or the schedule if shorter.
                tokio::time::sleep(schedule.every.min(Duration::from_secs(3600))).await;
            }
        }
    });
}
