//! Data → Sort range, as a person does it: whole rows of the range reordered by one column.
//!
//! Consumes the sort request; produces the tab after the sort. Guarantees Google's order
//! (numbers, then text case-insensitively, then booleans; empty cells last in both directions),
//! a stable sort, and one atomic store write that moves values, notes and formats together and
//! leaves row metadata where it was (a sort moves cell contents, not rows).

use serde::Deserialize;

use super::actions::{sheet_mut, snapshot, Changed};
use super::error::PersonError;
use super::message::{last_column, last_row, read_header};
use crate::api::a1;
use crate::api::model::{Cell, CellValue};
use crate::api::Store;
use crate::error::ApiError;

/// Data → Sort range: rows `first_row..=last_row` (default: 2 to the last row with a value)
/// reordered by one column, named by its header or its letter. Empty cells sort last either
/// way; otherwise numbers, then text (case-insensitive), then booleans.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    pub spreadsheet_id: String,
    pub sheet: String,
    pub column: String,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub first_row: Option<u32>,
    #[serde(default)]
    pub last_row: Option<u32>,
    #[serde(default)]
    pub user: Option<String>,
}

/// Sort rows in place: whole rows move (values, notes and formats); row metadata stays put.
pub fn sort(store: &Store, request: &Sort) -> Result<Changed, PersonError> {
    let sheet = snapshot(store, &request.spreadsheet_id, &request.sheet)?;
    let header = read_header(&sheet, last_column(&sheet));
    let column = match header.iter().position(|name| *name == request.column) {
        Some(index) => index as u32,
        None => a1::column_from_letters(&request.column).ok_or_else(|| {
            PersonError::invalid(format!(
                "column {:?} is neither a header name nor a column letter",
                request.column
            ))
        })?,
    };
    let first = request.first_row.unwrap_or(2).max(1);
    let last = request.last_row.unwrap_or_else(|| last_row(&sheet));
    let descending = request.descending;
    let sheet = store.write(&request.spreadsheet_id, |spreadsheet, _| {
        let sheet = sheet_mut(spreadsheet, &request.sheet)?;
        if last > sheet.row_count {
            return Err(ApiError::invalid_argument(format!(
                "row {last} is outside the tab's {} rows",
                sheet.row_count
            )));
        }
        if first < last {
            let (start, end) = (first as usize - 1, last as usize);
            if sheet.rows.len() < end {
                sheet.rows.resize_with(end, Default::default);
            }
            sheet.rows[start..end].sort_by(|a, b| {
                let value =
                    |row: &[Cell]| row.get(column as usize).and_then(|cell| cell.value.clone());
                compare_for_sort(
                    value(a.as_slice()).as_ref(),
                    value(b.as_slice()).as_ref(),
                    descending,
                )
            });
        }
        Ok(sheet.clone())
    })?;
    Ok(Changed { sheet })
}

/// Google's sort order: numbers < text (case-insensitive) < booleans; empty cells always last.
fn compare_for_sort(
    a: Option<&CellValue>,
    b: Option<&CellValue>,
    descending: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |value: &CellValue| match value {
        CellValue::Number(_) => 0,
        CellValue::Text(_) | CellValue::Formula(_) => 1,
        CellValue::Bool(_) => 2,
    };
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => (a, b),
    };
    let order = rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (CellValue::Number(x), CellValue::Number(y)) => x.total_cmp(y),
        (CellValue::Bool(x), CellValue::Bool(y)) => x.cmp(y),
        (
            CellValue::Text(x) | CellValue::Formula(x),
            CellValue::Text(y) | CellValue::Formula(y),
        ) => x.to_lowercase().cmp(&y.to_lowercase()),
        _ => Ordering::Equal,
    });
    if descending {
        order.reverse()
    } else {
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn sort_order_is_numbers_text_booleans_then_empty() {
        let number = CellValue::Number(2.0);
        let text = CellValue::Text("b".into());
        let upper = CellValue::Text("B".into());
        let flag = CellValue::Bool(false);
        assert_eq!(
            compare_for_sort(Some(&number), Some(&text), false),
            Ordering::Less
        );
        assert_eq!(
            compare_for_sort(Some(&text), Some(&flag), false),
            Ordering::Less
        );
        assert_eq!(
            compare_for_sort(Some(&text), Some(&upper), false),
            Ordering::Equal
        );
        assert_eq!(
            compare_for_sort(None, Some(&number), false),
            Ordering::Greater
        );
        assert_eq!(
            compare_for_sort(None, Some(&number), true),
            Ordering::Greater,
            "empty last even descending"
        );
        assert_eq!(
            compare_for_sort(Some(&number), Some(&text), true),
            Ordering::Greater
        );
    }
}
