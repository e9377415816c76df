//! Handing items out to named people: an office's laptops, badges and
//! gifts, loaded by staff and collected with a code. What a row of the
//! import says, checked field by field, and the compartments a batch is
//! given, all or none.
//!
//! Reading the CSV itself is the application's; here a row is its fields
//! and its line number, so that every error names the line.

use super::allocation::{AllocationRequest, allocate};
use super::compartment::{CompartmentNumber, CompartmentView, SizeClass};

/// The columns of an import, in any order; `asset_tag`, `deadline` and
/// `badge` (the text of the person's staff badge QR, to collect with it)
/// may be left out.
pub const COLUMNS: [&str; 7] = [
    "person",
    "contact",
    "item",
    "size",
    "asset_tag",
    "deadline",
    "badge",
];

/// How the person is told their code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Email(String),
    /// For a webhook to an SMS gateway.
    Phone(String),
}

/// A deadline as written: a day in the locker's local time, and the time
/// of day (the day's end when only the date is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDeadline {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

/// One item for one person, as the import says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// The line of the file, for errors and the report.
    pub line: u64,
    pub person: String,
    pub contact: Contact,
    pub item: String,
    pub size: SizeClass,
    pub asset_tag: Option<String>,
    pub deadline: Option<LocalDeadline>,
    /// The person's staff badge: they may collect with it.
    pub badge: Option<String>,
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Where each column is, from the header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    at: [Option<usize>; 7],
}

impl Header {
    /// Reads the header row: names are matched without case, every
    /// column but `asset_tag` and `deadline` must be there, and nothing
    /// unknown may be.
    pub fn read(names: &[String]) -> Result<Header, RowError> {
        let mut at = [None; 7];
        for (index, name) in names.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
                return Err(RowError {
                    line: 1,
                    message: format!(
                        "unknown column `{name}`: the columns are {}",
                        COLUMNS.join(",")
                    ),
                });
            };
            if at[column].replace(index).is_some() {
                return Err(RowError {
                    line: 1,
                    message: format!("column `{name}` is there twice"),
                });
            }
        }
        if let Some(missing) = COLUMNS[..4].iter().zip(at).find(|(_, a)| a.is_none()) {
            return Err(RowError {
                line: 1,
                message: format!(
                    "column `{}` is missing: the header is {}",
                    missing.0,
                    COLUMNS.join(",")
                ),
            });
        }
        Ok(Header { at })
    }

    /// Checks one row's fields into an item.
    pub fn row(&self, line: u64, fields: &[String]) -> Result<ItemRow, RowError> {
        let error = |message: String| RowError { line, message };
        let field = |column: usize| {
            self.at[column]
                .and_then(|index| fields.get(index))
                .map(|text| text.trim())
                .filter(|text| !text.is_empty())
        };
        let required = |column: usize| {
            field(column).ok_or_else(|| error(format!("`{}` is empty", COLUMNS[column])))
        };
        let person = required(0)?;
        let contact = contact(required(1)?).map_err(&error)?;
        let item = required(2)?;
        let size = required(3)?
            .parse::<SizeClass>()
            .map_err(|e| error(e.to_string()))?;
        let asset_tag = field(4).map(str::to_string);
        let deadline = field(5).map(deadline).transpose().map_err(&error)?;
        let badge = field(6).map(str::to_string);
        for (name, text) in [("person", person), ("item", item)] {
            if text.chars().count() > 80 {
                return Err(error(format!("`{name}` is longer than 80 characters")));
            }
        }
        Ok(ItemRow {
            line,
            person: person.to_string(),
            contact,
            item: item.to_string(),
            size,
            asset_tag,
            deadline,
            badge,
        })
    }
}

/// An email address (something@domain) or a phone number (digits, with
/// an optional leading `+` and spaces, dashes or brackets between).
pub fn contact(text: &str) -> Result<Contact, String> {
    if let Some((local, domain)) = text.split_once('@') {
        let fine = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.contains(char::is_whitespace);
        return if fine {
            Ok(Contact::Email(text.to_string()))
        } else {
            Err(format!("`{text}` is not an email address"))
        };
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let shape = text
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -()/".contains(c) || (c == '+' && i == 0));
    if shape && (6..=15).contains(&digits) {
        Ok(Contact::Phone(text.split_whitespace().collect()))
    } else {
        Err(format!(
            "`{text}` is neither an email address nor a phone number"
        ))
    }
}

/// `YYYY-MM-DD` (the day's end) or `YYYY-MM-DD HH:MM`.
pub fn deadline(text: &str) -> Result<LocalDeadline, String> {
    let wrong = || format!("deadline `{text}`: expected YYYY-MM-DD or YYYY-MM-DD HH:MM");
    let (date, time) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
    let (year, month, day) = (
        next().ok_or_else(wrong)?,
        next().ok_or_else(wrong)?,
        next().ok_or_else(wrong)?,
    );
    let (hour, minute) = match time {
        None => (23, 59),
        Some(time) => {
            let (h, m) = time.split_once(':').ok_or_else(wrong)?;
            (
                h.parse().map_err(|_| wrong())?,
                m.parse().map_err(|_| wrong())?,
            )
        }
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    };
    if !(2000..=9999).contains(&year) || day == 0 || day > days_in_month || hour > 23 || minute > 59
    {
        return Err(wrong());
    }
    Ok(LocalDeadline {
        year: year as i32,
        month,
        day,
        hour,
        minute,
    })
}

/// The locker has too few compartments for a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the locker has too few free compartments: line {line} ({item}, size {size}) finds none left; nothing was imported"
)]
pub struct NotEnoughRoom {
    pub line: u64,
    pub item: String,
    pub size: SizeClass,
}

/// A compartment for every row, in order (the smallest that fits, as for
/// a courier's parcel, reachable ones for those who asked), or the first
/// row that finds none.
pub fn place(
    rows: &[(&ItemRow, bool)],
    compartments: &[CompartmentView],
) -> Result<Vec<CompartmentNumber>, NotEnoughRoom> {
    let mut taken: Vec<CompartmentNumber> = Vec::with_capacity(rows.len());
    // The biggest first, so that small items do not use up what only a
    // big one fits in; the answer is in the rows' order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(rows[i].0.size.dimensions().volume()));
    let mut placed = vec![0; rows.len()];
    for i in order {
        let (row, accessible) = rows[i];
        let request = AllocationRequest {
            size: row.size,
            accessible,
            exclude: &taken,
        };
        let Some(number) = allocate(compartments, &request) else {
            return Err(NotEnoughRoom {
                line: row.line,
                item: row.item.clone(),
                size: row.size,
            });
        };
        taken.push(number);
        placed[i] = number;
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::compartment::{CompartmentState, DoorState, Position};

    fn strings(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| f.to_string()).collect()
    }

    fn full_header() -> Header {
        Header::read(&strings(&COLUMNS[..6])).unwrap()
    }

    #[test]
    fn a_full_row_reads_into_an_item() {
        let row = full_header()
            .row(
                2,
                &strings(&[
                    " Anna Weber ",
                    "anna@example.com",
                    "Laptop",
                    "m",
                    "IT-4711",
                    "2026-12-24",
                ]),
            )
            .unwrap();
        assert_eq!(row.person, "Anna Weber");
        assert_eq!(row.contact, Contact::Email("anna@example.com".into()));
        assert_eq!(row.size, SizeClass::M);
        assert_eq!(row.asset_tag.as_deref(), Some("IT-4711"));
        let deadline = row.deadline.unwrap();
        assert_eq!((deadline.day, deadline.hour, deadline.minute), (24, 23, 59));
    }

    #[test]
    fn asset_tag_and_deadline_may_be_left_out_or_empty() {
        let header = Header::read(&strings(&["Item", "size", "PERSON", "contact"])).unwrap();
        let row = header
            .row(3, &strings(&["Gift", "s", "Bo", "+49 170 1234567"]))
            .unwrap();
        assert_eq!(row.contact, Contact::Phone("+491701234567".into()));
        assert_eq!((row.asset_tag, row.deadline), (None, None));
        let row = full_header()
            .row(4, &strings(&["Bo", "bo@x.org", "Gift", "S", "", " "]))
            .unwrap();
        assert_eq!((row.asset_tag, row.deadline), (None, None));
    }

    #[test]
    fn every_bad_field_names_its_line() {
        let header = full_header();
        let cases = [
            (&["", "a@b.de", "x", "S", "", ""], "`person` is empty"),
            (
                &["A", "not mail@", "x", "S", "", ""],
                "not an email address",
            ),
            (&["A", "12", "x", "S", "", ""], "neither an email address"),
            (&["A", "a@b.de", "x", "huge", "", ""], "unknown size"),
            (&["A", "a@b.de", "x", "S", "", "24.12.2026"], "YYYY-MM-DD"),
            (&["A", "a@b.de", "x", "S", "", "2026-02-30"], "YYYY-MM-DD"),
            (
                &["A", "a@b.de", "x", "S", "", "2026-12-24 25:00"],
                "YYYY-MM-DD",
            ),
        ];
        for (fields, expected) in cases {
            let error = header.row(7, &strings(fields)).unwrap_err();
            assert_eq!(error.line, 7);
            assert!(error.to_string().starts_with("line 7: "), "{error}");
            assert!(error.message.contains(expected), "{error}");
        }
    }

    #[test]
    fn a_header_must_name_the_required_columns_once_and_nothing_else() {
        let missing = Header::read(&strings(&["person", "item", "size"])).unwrap_err();
        assert!(
            missing.message.contains("`contact` is missing"),
            "{missing}"
        );
        let unknown = Header::read(&strings(&["person", "contact", "item", "size", "colour"]));
        assert!(
            unknown
                .unwrap_err()
                .message
                .contains("unknown column `colour`")
        );
        let twice = Header::read(&strings(&["person", "contact", "item", "size", "Size"]));
        assert!(twice.unwrap_err().message.contains("twice"));
    }

    fn free(number: CompartmentNumber, size: SizeClass, height_mm: u32) -> CompartmentView {
        CompartmentView {
            number,
            size,
            position: Position {
                column: 0,
                row: number,
                height_mm,
            },
            state: CompartmentState::Free,
            door: DoorState::Closed,
            board_online: true,
        }
    }

    fn item(line: u64, size: SizeClass) -> ItemRow {
        ItemRow {
            line,
            person: "P".into(),
            contact: Contact::Email("p@x.org".into()),
            item: format!("item {line}"),
            size,
            asset_tag: None,
            deadline: None,
            badge: None,
        }
    }

    #[test]
    fn a_batch_gets_the_smallest_fitting_doors_and_big_items_are_placed_first() {
        let doors = [
            free(1, SizeClass::S, 1500),
            free(2, SizeClass::L, 1500),
            free(3, SizeClass::M, 1500),
            free(4, SizeClass::M, 600),
        ];
        // An S item listed before the M ones must not take door 3 or 4
        // while door 1 fits it; the M items then find both M doors.
        let (a, b, c) = (
            item(2, SizeClass::S),
            item(3, SizeClass::M),
            item(4, SizeClass::M),
        );
        let rows = [(&a, false), (&b, false), (&c, true)];
        assert_eq!(place(&rows, &doors), Ok(vec![1, 3, 4]));
    }

    #[test]
    fn a_batch_that_does_not_fit_names_the_first_item_left_over() {
        let doors = [free(1, SizeClass::M, 1500), free(2, SizeClass::S, 1500)];
        let (a, b) = (item(2, SizeClass::M), item(3, SizeClass::M));
        let error = place(&[(&a, false), (&b, false)], &doors).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.to_string().contains("nothing was imported"));
    }
}
