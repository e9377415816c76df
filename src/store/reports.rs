//! Reports raised at the kiosk by recipients and couriers (missing,
//! damaged, door did not open, dirty), for the staff.

use rusqlite::params;

use super::event::Event;
use super::events::{self, NewEvent};
use super::{Result, Store, sql_error};
use crate::domain::pickup::ProblemKind;
use crate::domain::{CompartmentNumber, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub kind: String,
    pub compartment: Option<CompartmentNumber>,
    pub parcel: Option<i64>,
}

impl Store {
    /// Records a report and its event together.
    pub fn add_report(
        &mut self,
        kind: ProblemKind,
        compartment: Option<CompartmentNumber>,
        parcel: Option<i64>,
        reported_by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let file = self.file.clone();
        let sql = sql_error(&file);
        let tx = self.conn.transaction().map_err(&sql)?;
        tx.execute(
            "INSERT INTO reports (kind, compartment, parcel_id, reported_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.name(), compartment, parcel, reported_by, now.0],
        )
        .map_err(&sql)?;
        let id = tx.last_insert_rowid();
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
    pub fn open_reports(&self) -> Result<Vec<Report>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, compartment, parcel_id FROM reports WHERE handled_at IS NULL ORDER BY id")
            .map_err(sql_error(&self.file))?;
        stmt.query_map([], |r| {
            Ok(Report {
                id: r.get(0)?,
                kind: r.get(1)?,
                compartment: r.get(2)?,
                parcel: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error(&self.file))
    }
}
