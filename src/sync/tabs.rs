//! Reading what a spreadsheet's tabs hold: creates missing tabs, then reads each tab's header
//! row and key column(s) into a [`TabLayout`].
//!
//! Consumes the spreadsheet id and the tabs' [`TabSpec`]s; produces one layout per spec, in
//! order. Costs: one `developerMetadata:search` for the row guards' markers, one
//! `spreadsheets.get`, one `values.batchGet` of the header rows and one of the key columns (four
//! reads however many tabs), plus one write when a tab must be created.
//! Guarantees: a tab is created at most once even if the answer to its creation is lost (the
//! layout is read again before retrying), and a key column missing from the header reads as a
//! tab without rows (the writer then adds the header and appends). The markers are read first:
//! rows people move after that read move the marker away from where the layout says it is, so
//! the next flush's row guard refuses it (`plan/row_guard.rs`) rather than trusting keys read
//! after the move with a marker place read before it, or the other way round.

use tokio_util::sync::CancellationToken;

use super::layout::TabLayout;
use super::plan::row_guard::{row_guard_id, ROW_GUARD_KEY};
use super::plan::TabSpec;
use crate::sheets::a1::{column_letters, quote_sheet_title};
use crate::sheets::model::{AddSheetRequest, Request, SheetProperties};
use crate::sheets::responses::Spreadsheet;
use crate::sheets::{SheetsClient, SheetsError};

/// Grid size Google gives a new tab.
const NEW_TAB_ROWS: u32 = 1000;
const NEW_TAB_COLUMNS: u32 = 26;

/// Reads (and where needed creates) the tabs of `specs`.
pub async fn load_layouts(
    client: &SheetsClient,
    spreadsheet_id: &str,
    specs: &[TabSpec],
    cancel: &CancellationToken,
) -> Result<Vec<TabLayout>, SheetsError> {
    let markers = client
        .search_developer_metadata(spreadsheet_id, ROW_GUARD_KEY, cancel)
        .await?;
    let mut spreadsheet = client.get_spreadsheet(spreadsheet_id, None, cancel).await?;
    let missing: Vec<&TabSpec> = specs
        .iter()
        .filter(|spec| find_tab(&spreadsheet, &spec.title).is_none())
        .collect();
    if !missing.is_empty() {
        let requests: Vec<Request> = missing
            .iter()
            .map(|spec| {
                Request::AddSheet(AddSheetRequest {
                    properties: SheetProperties {
                        title: Some(spec.title.clone()),
                        ..SheetProperties::default()
                    },
                })
            })
            .collect();
        // Not idempotent, so one attempt: whatever happened, the next read tells.
        if let Err(error) = client
            .batch_update_once(spreadsheet_id, &requests, cancel)
            .await
        {
            tracing::warn!(%error, spreadsheet_id, "creating missing tabs failed; reading the spreadsheet again");
            if !error.is_transient() {
                return Err(error);
            }
        }
        spreadsheet = client.get_spreadsheet(spreadsheet_id, None, cancel).await?;
    }
    let mut tabs = Vec::with_capacity(specs.len());
    for spec in specs {
        let Some((sheet_id, rows, columns)) = find_tab(&spreadsheet, &spec.title) else {
            return Err(SheetsError::Http {
                status: 404,
                google_status: "NOT_FOUND".into(),
                message: format!(
                    "tab `{}` of spreadsheet {spreadsheet_id} could not be created",
                    spec.title
                ),
                retry_after: None,
            });
        };
        tabs.push((sheet_id, rows, columns));
    }
    let header_ranges: Vec<String> = specs
        .iter()
        .map(|spec| format!("{}!1:1", quote_sheet_title(&spec.title)))
        .collect();
    let headers = client
        .batch_get_values(spreadsheet_id, &header_ranges, cancel)
        .await?;
    let headers: Vec<Vec<serde_json::Value>> = headers
        .into_iter()
        .map(|range| {
            range
                .values
                .into_iter()
                .next()
                .unwrap_or_default()
                .into_iter()
                .map(|cell| serde_json::to_value(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    // Key column ranges, for the tabs whose header names every key column.
    let mut key_ranges = Vec::new();
    let mut key_range_of: Vec<Option<(usize, usize)>> = Vec::with_capacity(specs.len());
    for (spec, header) in specs.iter().zip(&headers) {
        let empty = TabLayout::from_values(0, &spec.title, 0, 0, header, &[]);
        let columns: Option<Vec<u32>> = spec
            .key_columns
            .iter()
            .map(|name| empty.column(name))
            .collect();
        match columns {
            Some(columns) if !columns.is_empty() => {
                let first = key_ranges.len();
                for column in columns {
                    let letters = column_letters(column);
                    key_ranges.push(format!(
                        "{}!{letters}2:{letters}",
                        quote_sheet_title(&spec.title)
                    ));
                }
                key_range_of.push(Some((first, key_ranges.len())));
            }
            _ => key_range_of.push(None),
        }
    }
    let key_values = if key_ranges.is_empty() {
        Vec::new()
    } else {
        client
            .batch_get_values(spreadsheet_id, &key_ranges, cancel)
            .await?
    };
    let mut layouts = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let (sheet_id, rows, columns) = tabs[index];
        let key_columns: Vec<Vec<serde_json::Value>> = match key_range_of[index] {
            None => Vec::new(),
            Some((first, end)) => key_values
                .get(first..end)
                .unwrap_or_default()
                .iter()
                .map(|range| {
                    range
                        .values
                        .iter()
                        .map(|row| {
                            row.first()
                                .map(|cell| serde_json::to_value(cell).unwrap_or_default())
                                .unwrap_or(serde_json::Value::Null)
                        })
                        .collect()
                })
                .collect(),
        };
        let mut layout = TabLayout::from_values(
            sheet_id,
            &spec.title,
            rows,
            columns,
            &headers[index],
            &key_columns,
        );
        layout.row_guard = marker_row(&markers, sheet_id);
        layouts.push(layout);
    }
    Ok(layouts)
}

/// The grid row of the row guard's marker of tab `sheet_id`, if it is on one of its rows.
fn marker_row(
    markers: &[crate::sheets::responses::MatchedDeveloperMetadata],
    sheet_id: i64,
) -> Option<u32> {
    markers.iter().find_map(|matched| {
        let metadata = &matched.developer_metadata;
        if metadata.metadata_id != Some(row_guard_id(sheet_id))
            || metadata.metadata_key.as_deref() != Some(ROW_GUARD_KEY)
        {
            return None;
        }
        let range = metadata.location.as_ref()?.dimension_range.as_ref()?;
        // proto3 JSON leaves out a 0.
        let start = range.start_index.unwrap_or(0);
        (range.sheet_id == sheet_id
            && range.dimension == crate::sheets::model::Dimension::Rows
            && range.end_index == Some(start + 1))
        .then_some(start)
    })
}

/// (sheet id, grid rows, grid columns) of the tab titled `title`.
fn find_tab(spreadsheet: &Spreadsheet, title: &str) -> Option<(i64, u32, u32)> {
    spreadsheet.sheets.iter().find_map(|sheet| {
        let properties = &sheet.properties;
        (properties.title.as_deref() == Some(title)).then(|| {
            let grid = properties.grid_properties.as_ref();
            (
                properties.sheet_id.unwrap_or_default(),
                grid.and_then(|grid| grid.row_count).unwrap_or(NEW_TAB_ROWS),
                grid.and_then(|grid| grid.column_count)
                    .unwrap_or(NEW_TAB_COLUMNS),
            )
        })
    })
}
