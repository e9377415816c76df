//! `locker-kiosk audit verify` and `locker-kiosk audit export`: the
//! tamper-evident log checked and taken out, also while the kiosk runs.

use std::io::Write;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use super::GlobalArgs;
use crate::domain::Timestamp;
use crate::store::audit::{self, ExportFormat};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every link of the log's hash chain and that no history was cut off; names the first broken entry
    Verify,
    /// Write the log (with each entry's chain value) to stdout
    Export {
        /// Only entries at or after this time (UTC): 2026-12-01, 2026-12-01T08:30, or milliseconds since the epoch
        #[arg(long, value_parser = parse_time)]
        since: Option<Timestamp>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

pub fn run(global: &GlobalArgs, command: &AuditCommand) -> ExitCode {
    let data_dir = global.data_dir();
    match command {
        AuditCommand::Verify => match audit::verify_at(&data_dir) {
            Ok(found) if found.intact() => {
                println!("{}", found.describe());
                ExitCode::SUCCESS
            }
            Ok(found) => {
                eprintln!("locker-kiosk audit verify: {}", found.describe());
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("locker-kiosk audit verify: {e}");
                ExitCode::FAILURE
            }
        },
        AuditCommand::Export { since, format } => {
            let format = match format {
                Format::Csv => ExportFormat::Csv,
                Format::Jsonl => ExportFormat::Jsonl,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let result = audit::export_at(&data_dir, *since, format, &mut out);
            match result.and_then(|count| {
                out.flush()
                    .map(|_| count)
                    .map_err(|source| crate::store::StoreError::Io {
                        path: "-".into(),
                        source,
                    })
            }) {
                Ok(count) => {
                    eprintln!("exported {count} entries");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("locker-kiosk audit export: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// A UTC date, date and time, or milliseconds since the epoch.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    let bad = || {
        format!(
            "`{text}` is not a time: write 2026-12-01, 2026-12-01T08:30 or 2026-12-01T08:30:15 (UTC)"
        )
    };
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00"));
    let numbers = |part: &str, sep: char| -> Option<Vec<i64>> {
        part.split(sep).map(|n| n.parse().ok()).collect()
    };
    let date = numbers(date, '-').ok_or_else(bad)?;
    let time = numbers(time.trim_end_matches('Z'), ':').ok_or_else(bad)?;
    let ([year, month, day], [hour, minute, rest @ ..]) = (date.as_slice(), time.as_slice()) else {
        return Err(bad());
    };
    let second = rest.first().copied().unwrap_or(0);
    if !(1..=12).contains(month)
        || !(1..=31).contains(day)
        || *hour > 23
        || *minute > 59
        || second > 59
    {
        return Err(bad());
    }
    // Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
    let (y, m) = if *month <= 2 {
        (year - 1, month + 9)
    } else {
        (*year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(Timestamp(
        ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_utc() {
        assert_eq!(parse_time("1970-01-01"), Ok(Timestamp(0)));
        assert_eq!(parse_time("2026-12-01"), Ok(Timestamp(1_796_083_200_000)));
        assert_eq!(
            parse_time("2026-12-01T08:30:15"),
            Ok(Timestamp(
                1_796_083_200_000 + (8 * 3600 + 30 * 60 + 15) * 1000
            ))
        );
        assert_eq!(
            parse_time("1796083200000"),
            Ok(Timestamp(1_796_083_200_000))
        );
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
