//! Reports raised at the kiosk by recipients and couriers (missing,
//! damaged, door did not open, dirty), for the staff.

use rusqlite::{OptionalExtension, params};

use super::event::Event;
use super::events::{self, NewEvent};
use super::{Reports, Result, StoreError, sql_error};
use crate::domain::pickup::ProblemKind;
use crate::domain::{CompartmentNumber, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub kind: String,
    pub compartment: Option<CompartmentNumber>,
    pub parcel: Option<i64>,
}

/// A report raised at the kiosk, with what staff did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub kind: String,
    pub compartment: Option<CompartmentNumber>,
    pub tracking: Option<String>,
    pub reported_by: String,
    pub created_at: Timestamp,
    pub handled: Option<(Timestamp, String)>,
}

impl Reports<'_> {
    /// Records a report and its event together. A parcel reported missing
    /// is recorded as missing (`parcels::mark_missing`).
    pub fn add(
        &mut self,
        kind: ProblemKind,
        compartment: Option<CompartmentNumber>,
        parcel: Option<i64>,
        reported_by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO reports (kind, compartment, parcel_id, reported_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.name(), compartment, parcel, reported_by, now.0],
        )
        .map_err(&sql)?;
        let id = tx.last_insert_rowid();
        if let (ProblemKind::Missing, Some(parcel)) = (kind, parcel) {
            super::parcels::mark_missing(&tx, file, parcel, now)?;
        }
        let raised = Event::ReportRaised {
            report: id,
            kind: kind.name().into(),
        };
        let mut event = NewEvent::new(raised, reported_by);
        event.compartment = compartment;
        event.parcel = parcel;
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(id)
    }

    /// Reports not yet handled, oldest first.
    pub fn open(&self) -> Result<Vec<Report>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, compartment, parcel_id FROM reports WHERE handled_at IS NULL ORDER BY id")
            .map_err(sql_error(self.file))?;
        stmt.query_map([], |r| {
            Ok(Report {
                id: r.get(0)?,
                kind: r.get(1)?,
                compartment: r.get(2)?,
                parcel: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }

    /// Reports raised at the kiosk, newest first: those still open, or
    /// also the handled ones.
    pub fn rows(&self, include_handled: bool, limit: u32) -> Result<Vec<ReportRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.kind, r.compartment, p.tracking, r.reported_by, r.created_at,
                        r.handled_at, r.handled_by
                 FROM reports r LEFT JOIN parcels p ON p.id = r.parcel_id
                 WHERE ?1 OR r.handled_at IS NULL
                 ORDER BY r.handled_at IS NOT NULL, r.id DESC LIMIT ?2",
            )
            .map_err(sql_error(self.file))?;
        stmt.query_map(params![include_handled, limit], |r| {
            let handled_at: Option<i64> = r.get(6)?;
            let handled_by: Option<String> = r.get(7)?;
            Ok(ReportRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                compartment: r.get(2)?,
                tracking: r.get(3)?,
                reported_by: r.get(4)?,
                created_at: Timestamp(r.get(5)?),
                handled: handled_at.map(|at| (Timestamp(at), handled_by.unwrap_or_default())),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(self.file))
    }

    /// Staff dealt with a report.
    pub fn mark_handled(&mut self, report: i64, actor: &str, now: Timestamp) -> Result<()> {
        let file = self.file;
        let sql = sql_error(file);
        let tx = self.conn.transaction().map_err(&sql)?;
        let found: Option<(String, Option<u32>, Option<i64>)> = tx
            .query_row(
                "SELECT kind, compartment, parcel_id FROM reports WHERE id = ?1 AND handled_at IS NULL",
                [report],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(&sql)?;
        let Some((kind, compartment, parcel)) = found else {
            return Err(StoreError::Rule(format!(
                "report {report} is not open (handled already, or no such report)"
            )));
        };
        tx.execute(
            "UPDATE reports SET handled_at = ?2, handled_by = ?3 WHERE id = ?1",
            params![report, now.0, actor],
        )
        .map_err(&sql)?;
        let handled = Event::ReportHandled { report, kind };
        let mut event = NewEvent::new(handled, actor);
        event.compartment = compartment;
        event.parcel = parcel;
        events::insert(&tx, now, &event).map_err(&sql)?;
        tx.commit().map_err(&sql)
    }
}
