//! The messages the Apps Script builds for an edit or a structure change: a line-by-line port
//! of `apps-script/Message.js` (`buildEditMessages_`, `buildStructureMessage_`).
//!
//! Consumes a snapshot of the tab as it is after the person's change, the event (the edited
//! rectangle and Google's `e.oldValue`), and the script's settings; produces the messages as
//! [`Js`] values, or the reason the script would send nothing. Guarantees: the same fields, in
//! the same order, with the same values as the script (`apps-script/test/emulator-person.test.js`
//! compares the bodies byte for byte), so the webhook cannot tell the emulator from the script.
//! Deviations that cannot be helped: the emulator does not evaluate formulas (the script would
//! send a formula's result; the emulator sends its text) and a date in the header row is sent
//! as its serial number (the script would send JavaScript's long date text).

use crate::api::model::{CellValue, Sheet};

use super::js_json::{number_text, Js};

/// The protocol version the script speaks (`SHEETSYNC_PROTOCOL_VERSION`).
pub const PROTOCOL_VERSION: f64 = 1.0;
/// Bigger pastes are split so no message nears the service's limits (`MAX_ROWS_PER_MESSAGE`).
pub const MAX_ROWS_PER_MESSAGE: usize = 500;

/// The script's settings that shape messages (script properties `KEY_COLUMNS`, `SHEETS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub key_columns: Vec<String>,
    /// Tabs whose edits are sent; empty means every tab.
    pub sheets: Vec<String>,
}

impl Settings {
    /// `isSyncedSheet_`.
    pub fn is_synced(&self, title: &str) -> bool {
        self.sheets.is_empty() || self.sheets.iter().any(|sheet| sheet == title)
    }
}

/// What the trigger knows besides the sheet.
pub struct Context<'a> {
    pub spreadsheet_id: &'a str,
    pub sheet: &'a Sheet,
    pub settings: &'a Settings,
    /// The editor's email when Google reveals it.
    pub user: Option<&'a str>,
    /// `now_().toISOString()`.
    pub now: &'a str,
}

/// An `onEdit` event: the edited rectangle (1-based, like `e.range`) and `e.oldValue`.
#[derive(Debug, Clone, PartialEq)]
pub struct EditEvent {
    pub first_row: u32,
    pub first_column: u32,
    pub rows: u32,
    pub columns: u32,
    /// Google's `e.oldValue`: only for a single cell, `None` when that cell was empty.
    pub old_value: Option<String>,
}

/// Why the script sends nothing for an event (it logs these, or returns silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSent {
    TabNotSynced {
        sheet: String,
    },
    EmptyTab {
        sheet: String,
    },
    NoHeaderedColumn,
    KeyColumnsMissing {
        key_columns: Vec<String>,
        sheet: String,
    },
    NothingToSend,
}

impl NotSent {
    pub fn reason(&self) -> String {
        match self {
            NotSent::TabNotSynced { sheet } => {
                format!("tab {sheet:?} is not among the synced tabs (SHEETS)")
            }
            NotSent::EmptyTab { sheet } => format!("tab {sheet:?} holds no values"),
            NotSent::NoHeaderedColumn => "the edit touched no column with a header".into(),
            NotSent::KeyColumnsMissing { key_columns, sheet } => format!(
                "key column(s) {} not in the header of {sheet}; nothing sent",
                key_columns.join(", ")
            ),
            NotSent::NothingToSend => {
                "only empty cells of rows that were never synced were edited".into()
            }
        }
    }
}

/// `buildEditMessages_`: usually one message, several for pastes over 500 rows.
pub fn edit_messages(
    context: &Context,
    event: &EditEvent,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<Js>, NotSent> {
    let sheet = context.sheet;
    let last_column = last_column(sheet);
    if last_column < 1 {
        return Err(NotSent::EmptyTab {
            sheet: sheet.title.clone(),
        });
    }
    let header = read_header(sheet, last_column);
    let first_row = event.first_row;
    let last_row = first_row + event.rows.max(1) - 1;
    let first_column = event.first_column;
    let last_edited_column = (first_column + event.columns.max(1) - 1).min(last_column);
    // Only columns with a header name are synced; anything right of the header is the user's.
    let columns: Vec<u32> = (first_column..=last_edited_column)
        .filter(|column| !header[*column as usize - 1].is_empty())
        .collect();
    if columns.is_empty() {
        return Err(NotSent::NoHeaderedColumn);
    }
    let header_edited = first_row == 1;
    let mut rows = Vec::new();
    let data_first_row = first_row.max(2);
    if last_row >= data_first_row {
        let key_indexes =
            key_column_indexes(&header, &context.settings.key_columns).ok_or_else(|| {
                NotSent::KeyColumnsMissing {
                    key_columns: context.settings.key_columns.clone(),
                    sheet: sheet.title.clone(),
                }
            })?;
        let single_cell = event.rows == 1 && event.columns == 1;
        let old_value = single_cell.then(|| event.old_value.clone().unwrap_or_default());
        let range = RowRange {
            first: data_first_row,
            last: last_row,
        };
        rows = read_edited_rows(sheet, &header, &columns, &key_indexes, range, old_value);
    }
    if rows.is_empty() && !header_edited {
        return Err(NotSent::NothingToSend);
    }
    let header_json = Js::Array(header.iter().cloned().map(Js::Text).collect());
    let mut messages = Vec::new();
    let mut start = 0;
    while start == 0 || start < rows.len() {
        let end = (start + MAX_ROWS_PER_MESSAGE).min(rows.len());
        let mut message = envelope(context, "edit", new_id());
        message.insert("edited_at", Js::text(context.now));
        message.insert("header", header_json.clone());
        message.insert("header_edited", Js::Bool(header_edited && start == 0));
        message.insert("rows", Js::Array(rows[start..end].to_vec()));
        messages.push(message);
        start += MAX_ROWS_PER_MESSAGE;
    }
    Ok(messages)
}

struct RowRange {
    first: u32,
    last: u32,
}

/// `readEditedRows_`: one row object per edited row that is not empty on both sides.
fn read_edited_rows(
    sheet: &Sheet,
    header: &[String],
    columns: &[u32],
    key_indexes: &[u32],
    range: RowRange,
    old_value: Option<String>,
) -> Vec<Js> {
    let mut rows = Vec::new();
    for row in range.first..=range.last {
        let mut key = Js::object();
        let mut key_empty = true;
        for index in key_indexes {
            let value = cell_js(value_at(sheet, row, *index));
            key_empty = key_empty && value == Js::Null;
            key.insert(header[*index as usize - 1].clone(), value);
        }
        let mut cells = Js::object();
        let mut cells_empty = true;
        for column in columns {
            let value = cell_js(value_at(sheet, row, *column));
            cells_empty = cells_empty && value == Js::Null;
            cells.insert(header[*column as usize - 1].clone(), value);
        }
        if key_empty && cells_empty {
            continue; // clearing cells of a row that was never synced changes nothing
        }
        let mut object = Js::object();
        object.insert("row", Js::Number(f64::from(row)));
        object.insert("key", key);
        object.insert("values", cells);
        if let Some(old_value) = &old_value {
            let mut old = Js::object();
            old.insert(
                header[columns[0] as usize - 1].clone(),
                Js::text(old_value.clone()),
            );
            object.insert("old_values", old);
        }
        rows.push(object);
    }
    rows
}

/// `buildStructureMessage_` for a change the caller already knows moves rows.
pub fn structure_message(
    context: &Context,
    change_type: &str,
    delivery_id: String,
) -> Result<Js, NotSent> {
    let sheet = context.sheet;
    let last_column = last_column(sheet);
    let header = if last_column > 0 {
        read_header(sheet, last_column)
    } else {
        Vec::new()
    };
    let key_indexes =
        key_column_indexes(&header, &context.settings.key_columns).ok_or_else(|| {
            NotSent::KeyColumnsMissing {
                key_columns: context.settings.key_columns.clone(),
                sheet: sheet.title.clone(),
            }
        })?;
    let keys = (2..=last_row(sheet))
        .map(|row| {
            Js::Array(
                key_indexes
                    .iter()
                    .map(|index| cell_js(value_at(sheet, row, *index)))
                    .collect(),
            )
        })
        .collect();
    let mut message = envelope(context, "structure", delivery_id);
    message.insert("change_type", Js::text(change_type));
    message.insert("changed_at", Js::text(context.now));
    let key_columns = context.settings.key_columns.iter().cloned();
    message.insert(
        "key_columns",
        Js::Array(key_columns.map(Js::Text).collect()),
    );
    message.insert("keys", Js::Array(keys));
    Ok(message)
}

fn envelope(context: &Context, kind: &str, delivery_id: String) -> Js {
    let mut message = Js::object();
    message.insert("version", Js::Number(PROTOCOL_VERSION));
    message.insert("delivery_id", Js::Text(delivery_id));
    message.insert("kind", Js::text(kind));
    message.insert("spreadsheet_id", Js::text(context.spreadsheet_id));
    message.insert("sheet", Js::text(context.sheet.title.clone()));
    message.insert("sheet_id", Js::Number(context.sheet.sheet_id as f64));
    message.insert("sent_at", Js::text(context.now));
    let user = context.user.filter(|user| !user.is_empty());
    message.insert("user", user.map_or(Js::Null, Js::text));
    message
}

/// A cell's value, 1-based like Apps Script's `getRange(row, column)`.
pub fn value_at(sheet: &Sheet, row: u32, column: u32) -> Option<&CellValue> {
    if row == 0 || column == 0 {
        return None;
    }
    sheet
        .cell(row - 1, column - 1)
        .and_then(|cell| cell.value.as_ref())
}

/// `Sheet.getLastColumn()`: the last column holding a value anywhere, 0 for an empty tab.
pub fn last_column(sheet: &Sheet) -> u32 {
    sheet
        .rows
        .iter()
        .filter_map(|cells| cells.iter().rposition(|cell| cell.value.is_some()))
        .map(|index| index as u32 + 1)
        .max()
        .unwrap_or(0)
}

/// `Sheet.getLastRow()`: the last row holding a value, 0 for an empty tab.
pub fn last_row(sheet: &Sheet) -> u32 {
    sheet.used_row_end()
}

/// `readHeader_`: row 1 as text, empty cells as "".
pub fn read_header(sheet: &Sheet, last_column: u32) -> Vec<String> {
    (1..=last_column)
        .map(|column| match value_at(sheet, 1, column) {
            None => String::new(),
            Some(CellValue::Number(number)) => number_text(*number),
            Some(CellValue::Bool(flag)) => flag.to_string(),
            Some(CellValue::Text(text) | CellValue::Formula(text)) => text.clone(),
        })
        .collect()
}

/// `keyColumnIndexes_`: 1-based column of each key column, `None` when one is missing.
pub fn key_column_indexes(header: &[String], key_columns: &[String]) -> Option<Vec<u32>> {
    if key_columns.is_empty() {
        return None;
    }
    key_columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|column| column == name)
                .map(|index| index as u32 + 1)
        })
        .collect()
}

/// `cellValue_`: null when empty, numbers (dates are serial numbers already), booleans, text.
pub fn cell_js(value: Option<&CellValue>) -> Js {
    match value {
        None => Js::Null,
        Some(CellValue::Number(number)) if number.is_finite() => Js::Number(*number),
        Some(CellValue::Number(number)) => Js::Text(number_text(*number)),
        Some(CellValue::Bool(flag)) => Js::Bool(*flag),
        Some(CellValue::Text(text)) if text.is_empty() => Js::Null,
        Some(CellValue::Text(text) | CellValue::Formula(text)) => Js::Text(text.clone()),
    }
}

/// Google's `e.oldValue` for a cell that held a value: the value as text, booleans as
/// `TRUE`/`FALSE` (what Google sends for a checkbox), dates as their serial number, a formula
/// as its text (the emulator does not evaluate formulas).
pub fn event_text(value: &CellValue) -> String {
    match value {
        CellValue::Number(number) => number_text(*number),
        CellValue::Bool(true) => "TRUE".into(),
        CellValue::Bool(false) => "FALSE".into(),
        CellValue::Text(text) | CellValue::Formula(text) => text.clone(),
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
