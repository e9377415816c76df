//! Commands from the fleet, by id: each is carried out at most once, and
//! a repeat is answered with the first answer.

use rusqlite::{OptionalExtension, params};

use super::{Event, FleetCommands, NewEvent, Result, events, sql_error};
use crate::domain::Timestamp;

impl FleetCommands<'_> {
    /// The first answer to command `id`, if it was seen before:
    /// `(applied, message)`.
    pub fn seen(&self, id: &str) -> Result<Option<(bool, String)>> {
        self.conn
            .query_row(
                "SELECT outcome = 'applied', message FROM fleet_commands WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql_error(self.file))
    }

    /// Records command `id`'s outcome, and audits it, once. A command
    /// without a readable id (malformed, forged) is audited only.
    pub fn record(
        &mut self,
        id: Option<&str>,
        command: Option<&str>,
        applied: bool,
        message: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = self.file;
        let tx = self.conn.transaction().map_err(sql_error(file))?;
        let outcome = if applied { "applied" } else { "refused" };
        if let Some(id) = id {
            tx.execute(
                "INSERT OR IGNORE INTO fleet_commands (id, kind, received_at, outcome, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, command.unwrap_or("unknown"), now.0, outcome, message],
            )
            .map_err(sql_error(file))?;
        }
        let event = Event::FleetCommand {
            id: id.map(str::to_owned),
            command: command.map(str::to_owned),
            outcome: outcome.into(),
            message: message.into(),
        };
        events::insert(&tx, now, &NewEvent::new(event, actor)).map_err(sql_error(file))?;
        tx.commit().map_err(sql_error(file))
    }
}
