//! Compartments: the layout comes from the configuration, the state is
//! ours. A compartment is held while a door opens for a deposit, given
//! back, flagged by a courier, or found faulty when its door did not open.

use rusqlite::{OptionalExtension, params};

use super::event::Event;
use super::events::{self, NewEvent};
use super::parcels::free_if_empty;
use super::{Compartments, Parcels, Reports, Result, StoreError, sql_error};
use crate::config::Config;
use crate::domain::pickup::{ProblemKind, WaitingParcel};
use crate::domain::{CompartmentNumber, CompartmentState, Position, SizeClass, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCompartment {
    pub number: CompartmentNumber,
    pub size: SizeClass,
    pub position: Position,
    pub board: String,
    pub channel: u16,
    pub state: CompartmentState,
}

const COLUMNS: &str = "number, size, col, row, height_mm, board, channel, state, state_reason";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCompartment> {
    let size: String = row.get(1)?;
    let state: String = row.get(7)?;
    Ok(StoredCompartment {
        number: row.get(0)?,
        size: size.parse().unwrap_or(SizeClass::S),
        position: Position {
            column: row.get(2)?,
            row: row.get(3)?,
            height_mm: row.get(4)?,
        },
        board: row.get(5)?,
        channel: row.get(6)?,
        state: CompartmentState::from_parts(&state, row.get(8)?).unwrap_or(
            CompartmentState::Faulty {
                reason: format!("unknown stored state `{state}`"),
            },
        ),
    })
}

impl Compartments<'_> {
    /// Binds the store to the configured locker and refreshes the layout.
    ///
    /// Refuses a database of another locker, and a layout that drops a
    /// compartment that still holds a parcel: either would lose track of a
    /// real parcel.
    pub fn sync_layout(&mut self, config: &Config, now: Timestamp) -> Result<()> {
        match self.meta("locker_id")? {
            Some(found) if found != config.locker.id => {
                return Err(StoreError::OtherLocker {
                    file: self.file.to_path_buf(),
                    found,
                    expected: config.locker.id.clone(),
                });
            }
            Some(_) => {}
            None => self.set_meta("locker_id", &config.locker.id)?,
        }
        let before = self.all()?;
        let tx = self.conn.transaction().map_err(sql_error(self.file))?;
        let result = (|| -> rusqlite::Result<Option<(u32, String)>> {
            // Out of the wiring index first, so that swapped channels do
            // not collide half-way.
            tx.execute("UPDATE compartments SET in_layout = 0", [])?;
            for c in &config.compartments {
                tx.execute(
                    "INSERT INTO compartments (number, size, board, channel, col, row, height_mm, in_layout, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)
                     ON CONFLICT (number) DO UPDATE SET size = excluded.size, board = excluded.board,
                         channel = excluded.channel, col = excluded.col, row = excluded.row,
                         height_mm = excluded.height_mm, in_layout = 1",
                    params![
                        c.number,
                        c.size.label(),
                        c.board,
                        c.channel,
                        c.position.column,
                        c.position.row,
                        c.position.height_mm,
                        now.0
                    ],
                )?;
            }
            tx.query_row(
                "SELECT c.number, p.tracking FROM compartments c JOIN parcels p ON p.compartment = c.number
                 WHERE c.in_layout = 0 AND p.status IN ('deposited', 'expired') LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })();
        match result {
            Ok(Some((number, tracking))) => {
                return Err(StoreError::LayoutDropsParcel { number, tracking });
            }
            Ok(None) => {}
            Err(e) => return Err(sql_error(self.file)(e)),
        }
        let changed: Vec<CompartmentNumber> = config
            .compartments
            .iter()
            .filter(|c| {
                !before.iter().any(|b| {
                    b.number == c.number
                        && b.size == c.size
                        && b.board == c.board
                        && b.channel == c.channel
                        && b.position == c.position
                })
            })
            .map(|c| c.number)
            .collect();
        let removed: Vec<CompartmentNumber> = before
            .iter()
            .filter(|b| config.compartment(b.number).is_none())
            .map(|b| b.number)
            .collect();
        if !changed.is_empty() || !removed.is_empty() {
            let layout = Event::LayoutChanged {
                source: config.source.describe(),
                added_or_changed: changed,
                removed,
            };
            let event = NewEvent::new(layout, "kiosk");
            events::insert(&tx, now, &event).map_err(sql_error(self.file))?;
        }
        tx.commit().map_err(sql_error(self.file))
    }

    /// The compartments of the current layout, by number.
    pub fn all(&self) -> Result<Vec<StoredCompartment>> {
        let sql = format!("SELECT {COLUMNS} FROM compartments WHERE in_layout = 1 ORDER BY number");
        let mut stmt = self.conn.prepare(&sql).map_err(sql_error(self.file))?;
        stmt.query_map([], from_row)
            .and_then(|rows| rows.collect())
            .map_err(sql_error(self.file))
    }

    pub fn get(&self, number: CompartmentNumber) -> Result<Option<StoredCompartment>> {
        let sql = format!("SELECT {COLUMNS} FROM compartments WHERE number = ?1 AND in_layout = 1");
        self.conn
            .query_row(&sql, [number], from_row)
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Changes a compartment's state and records who did it and why.
    pub fn set_state(
        &mut self,
        number: CompartmentNumber,
        state: &CompartmentState,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let current = self
            .get(number)?
            .ok_or_else(|| StoreError::NoSuchCompartment(number))?;
        let tx = self.conn.transaction().map_err(sql_error(self.file))?;
        tx.execute(
            "UPDATE compartments SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE number = ?1",
            params![number, state.name(), state.reason(), now.0],
        )
        .map_err(sql_error(self.file))?;
        let changed = Event::CompartmentState {
            from: current.state.name().into(),
            to: state.name().into(),
            reason: state.reason().map(Into::into),
        };
        let event = NewEvent::new(changed, actor).compartment(number);
        events::insert(&tx, now, &event).map_err(sql_error(self.file))?;
        tx.commit().map_err(sql_error(self.file))
    }

    /// Puts a compartment back in service: occupied when a parcel is still
    /// in it, else free. Returns the state it is in now.
    pub fn put_back_in_service(
        &mut self,
        number: CompartmentNumber,
        actor: &str,
        now: Timestamp,
    ) -> Result<CompartmentState> {
        let holds_parcel = self
            .other::<Parcels<'_>>()
            .in_locker()?
            .iter()
            .any(|p| p.compartment == Some(number));
        let state = if holds_parcel {
            CompartmentState::Occupied
        } else {
            CompartmentState::Free
        };
        self.set_state(number, &state, actor, now)?;
        Ok(state)
    }

    /// Holds a free compartment for a deposit whose door is opening, so
    /// that nobody else is given it. False when it is no longer free.
    pub fn reserve(&mut self, number: CompartmentNumber, now: Timestamp) -> Result<bool> {
        self.conn
            .execute(
                "UPDATE compartments SET state = 'reserved', updated_at = ?2
                 WHERE number = ?1 AND state = 'free' AND in_layout = 1",
                params![number, now.0],
            )
            .map(|changed| changed == 1)
            .map_err(sql_error(self.file))
    }

    /// Gives back a compartment held for a deposit that did not happen.
    pub fn release(&mut self, number: CompartmentNumber, now: Timestamp) -> Result<()> {
        let file = self.file;
        free_if_empty(self.conn, number, now).map_err(sql_error(file))
    }

    /// A courier found a compartment unusable: it leaves service with the
    /// reason (a door that does not open is faulty, a dirty or occupied one
    /// is out of service until staff look), and staff get a report.
    pub fn flag(
        &mut self,
        number: CompartmentNumber,
        problem: ProblemKind,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let state = match problem {
            ProblemKind::Dirty => CompartmentState::OutOfService {
                reason: "not empty or dirty (reported by a courier)".into(),
            },
            _ => CompartmentState::Faulty {
                reason: format!(
                    "{} (reported at drop-off)",
                    problem.name().replace('_', " ")
                ),
            },
        };
        self.set_state(number, &state, actor, now)?;
        self.other::<Reports<'_>>()
            .add(problem, Some(number), None, actor, now)
            .map(|_| ())
    }

    /// A door that did not open on a parcel in it: the compartment is
    /// faulty with `reason`, and staff get a report naming the parcel.
    pub fn door_failed(
        &mut self,
        parcel: &WaitingParcel,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let faulty = CompartmentState::Faulty {
            reason: reason.into(),
        };
        self.set_state(parcel.compartment, &faulty, actor, now)?;
        self.other::<Reports<'_>>()
            .add(
                ProblemKind::DoorDidNotOpen,
                Some(parcel.compartment),
                Some(parcel.parcel),
                actor,
                now,
            )
            .map(|_| ())
    }
}
