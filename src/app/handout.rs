//! Items handed out to named people, from the staff's side: an import
//! file read and checked as a whole, compartments reserved for it, and
//! the register of every item for the organisation's asset records.
//! Loading the items is a maintenance tab (`maintenance::loading`).

use crate::config::Config;
use crate::domain::codes::pickup_qr_payload;
use crate::domain::handout::{Header, ItemRow, RowError, place};
use crate::domain::{CompartmentView, DoorState, Timestamp, rfc3339};
use crate::store::{NewItem, Store, StoreError};

use super::system;

/// The most errors an import names before it stops listing.
const ERRORS_SHOWN: usize = 20;

/// Reads an import (CSV, with a header row); every bad row is named with
/// its line, and any error means nothing is imported.
pub fn read_import(text: &str) -> Result<Vec<ItemRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => return Err("the file is empty: expected a header row".into()),
        Some(Err(e)) => return Err(format!("line 1: {e}")),
        Some(Ok(names)) => {
            let names: Vec<String> = names.iter().map(str::to_string).collect();
            Header::read(&names).map_err(|e| e.to_string())?
        }
    };
    let mut rows = Vec::new();
    let mut errors: Vec<RowError> = Vec::new();
    for record in records {
        let row = match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields: Vec<String> = record.iter().map(str::to_string).collect();
                if fields.iter().all(|f| f.is_empty()) {
                    continue;
                }
                header.row(line, &fields)
            }
            Err(e) => Err(RowError {
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            }),
        };
        match row {
            Ok(row) => rows.push(row),
            Err(error) => errors.push(error),
        }
    }
    let mut tags: Vec<(&str, u64)> = Vec::new();
    for row in &rows {
        if let Some(tag) = &row.asset_tag {
            match tags.iter().find(|(t, _)| *t == tag) {
                Some((_, first)) => errors.push(RowError {
                    line: row.line,
                    message: format!("asset tag {tag} is on line {first} already"),
                }),
                None => tags.push((tag, row.line)),
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        let mut lines: Vec<String> = errors
            .iter()
            .take(ERRORS_SHOWN)
            .map(ToString::to_string)
            .collect();
        if errors.len() > ERRORS_SHOWN {
            lines.push(format!("and {} more", errors.len() - ERRORS_SHOWN));
        }
        lines.push("nothing was imported".into());
        return Err(lines.join("\n"));
    }
    if rows.is_empty() {
        return Err("the file has a header but no items".into());
    }
    Ok(rows)
}

/// Imports `text`: checks it, gives every item a compartment and holds
/// them, or changes nothing. The answer lists the doors to load.
pub fn import(
    store: &mut Store,
    text: &str,
    dry_run: bool,
    actor: &str,
    now: Timestamp,
) -> Result<String, String> {
    let rows = read_import(text)?;
    let mut deadlines = Vec::with_capacity(rows.len());
    for row in &rows {
        let deadline = match row.deadline {
            None => None,
            Some(d) => {
                let at = system::local_timestamp(d.year, d.month, d.day, d.hour, d.minute)
                    .ok_or_else(|| {
                        format!(
                            "line {}: that deadline does not exist here; nothing was imported",
                            row.line
                        )
                    })?;
                if at <= now {
                    return Err(format!(
                        "line {}: the deadline {} has passed; nothing was imported",
                        row.line,
                        system::local_time(at)
                    ));
                }
                Some(at)
            }
        };
        deadlines.push(deadline);
    }
    let error = |e: StoreError| e.to_string();
    // The records' view of the doors: an import may run with the kiosk
    // stopped, so a door's sensor and its board are not asked.
    let views: Vec<CompartmentView> = store
        .compartments()
        .all()
        .map_err(error)?
        .into_iter()
        .map(|c| CompartmentView {
            number: c.number,
            size: c.size,
            position: c.position,
            state: c.state,
            door: DoorState::Unknown,
            board_online: true,
        })
        .collect();
    let asking: Vec<(&ItemRow, bool)> = rows.iter().map(|r| (r, false)).collect();
    let doors = place(&asking, &views).map_err(|e| e.to_string())?;
    let items: Vec<NewItem<'_>> = rows
        .iter()
        .zip(&doors)
        .zip(&deadlines)
        .map(|((row, door), deadline)| NewItem {
            row,
            compartment: *door,
            deadline: *deadline,
        })
        .collect();
    let mut out = String::new();
    if !dry_run {
        store
            .parcels()
            .reserve_items(&items, actor, now)
            .map_err(error)?;
    }
    out.push_str(&format!(
        "{} {} item{}:\n{:>4}  {:<24} {:<24} {:<12} deadline\n",
        if dry_run { "Would reserve" } else { "Reserved" },
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        "door",
        "person",
        "item",
        "asset tag"
    ));
    for item in &items {
        out.push_str(&format!(
            "{:>4}  {:<24} {:<24} {:<12} {}\n",
            item.compartment,
            item.row.person,
            item.row.item,
            item.row.asset_tag.as_deref().unwrap_or("-"),
            item.deadline
                .map_or("storage period".to_string(), system::local_time)
        ));
    }
    if !dry_run {
        out.push_str(
            "Load them in maintenance (Load items): each person is sent their code once their door is closed.\n",
        );
    }
    Ok(out)
}

/// Every item ever imported as CSV, for the organisation's asset
/// register: who, what, which door, and when it was loaded and handed
/// over (times in UTC, RFC 3339).
pub fn register_csv(store: &mut Store) -> Result<String, String> {
    let rows = store.parcels().register().map_err(|e| e.to_string())?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let time = |t: Option<Timestamp>| t.map_or(String::new(), |t| rfc3339(t.0));
    let header = [
        "item_id",
        "person",
        "contact",
        "item",
        "asset_tag",
        "door",
        "status",
        "imported_at",
        "loaded_at",
        "deadline",
        "handed_over_at",
        "handed_over_with",
    ];
    let csv_error = |e: csv::Error| e.to_string();
    writer.write_record(header).map_err(csv_error)?;
    for row in rows {
        let collected = row.status == "collected";
        let handed_over = collected.then_some(row.closed_at).flatten();
        let with = match (collected, row.collected_with) {
            (true, with) => with.unwrap_or_else(|| "code".into()),
            (false, _) => String::new(),
        };
        writer
            .write_record([
                row.parcel.to_string(),
                row.person,
                row.contact,
                row.item,
                row.asset_tag.unwrap_or_default(),
                row.compartment.map_or(String::new(), |c| c.to_string()),
                status_word(&row.status).to_string(),
                time(row.imported_at),
                time(row.loaded_at),
                time(row.deadline),
                time(handed_over),
                with,
            ])
            .map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// An item's status in the register's words.
fn status_word(status: &str) -> &str {
    match status {
        "announced" => "to_load",
        "deposited" => "waiting",
        "collected" => "handed_over",
        "cancelled" => "cancelled",
        other => other,
    }
}

/// The codes no message has delivered yet (no channel reaches the
/// person, or it has not gone out), as slips to print and hand out: one
/// per message, with the items, their doors, the PIN, the QR's text and
/// the deadline. With `mark_delivered` each is then recorded delivered
/// (channel `paper`), and its code kept only as hashes from then on.
pub fn slips(
    store: &mut Store,
    config: &Config,
    mark_delivered: bool,
    now: Timestamp,
) -> Result<String, String> {
    let error = |e: StoreError| e.to_string();
    let messages = store.deliveries().codes_on_paper().map_err(error)?;
    if messages.is_empty() {
        return Ok("No code waits to be handed out.\n".into());
    }
    let mut out = String::new();
    for message in &messages {
        let Some(code) = &message.code else { continue };
        out.push_str(&format!("{}\n{}\n", "-".repeat(60), message.recipient.name));
        for parcel in &message.parcels {
            let what = match &parcel.item {
                Some(item) => format!("{item} ({})", parcel.tracking),
                None => parcel.tracking.clone(),
            };
            match parcel.compartment {
                Some(door) => out.push_str(&format!("  {what}, door {door}\n")),
                None => out.push_str(&format!("  {what}\n")),
            }
        }
        out.push_str(&format!(
            "  At {}: type the code {} on the screen,\n  or scan the QR code made from {}\n",
            config.locker.name,
            code.pin,
            pickup_qr_payload(&config.locker.id, &code.qr_token)
        ));
        if let Some(deadline) = message.expires_at {
            out.push_str(&format!("  Collect by {}\n", system::local_time(deadline)));
        }
    }
    out.push_str(&format!("{}\n", "-".repeat(60)));
    if mark_delivered {
        for message in &messages {
            let mut deliveries = store.deliveries();
            deliveries
                .took(message.message, "paper", now)
                .map_err(error)?;
            deliveries.finished(message.message, now).map_err(error)?;
        }
        out.push_str(&format!(
            "{} recorded as handed out on paper.\n",
            messages.len()
        ));
    }
    Ok(out)
}
