//! The row guard: a marker on the tab's last grid row that fails a flush whole when people
//! inserted or deleted rows above it since the writer last knew where it was.
//!
//! Why: the writer places changes by row number, and the grid guard (`guard.rs`) only sees a
//! grid that got shorter. A person who deletes a row and adds one at the bottom, or inserts a
//! row in the middle, moves every row below by one while the grid keeps (or grows) its size;
//! a flush planned before their `onChange` report arrives would write each change one row off.
//!
//! How: Sheets has no conditional write, but row developer metadata moves with its row when
//! rows above it are inserted or deleted, and goes when its row is deleted (Google's
//! `DeveloperMetadata` reference), and a metadata id is unique in a spreadsheet. So each synced
//! tab carries one entry, key [`ROW_GUARD_KEY`], id [`row_guard_id`], on its last grid row, and
//! a flush opens with two requests per tab:
//!
//! 1. `deleteDeveloperMetadata` of that id *at the row the writer believes it is on*
//!    (`EXACT_LOCATION`): removes it only if it has not moved;
//! 2. `createDeveloperMetadata` of the same id on that row: succeeds when (1) removed it, and
//!    is refused when the entry still exists elsewhere — rows moved above it. A refusal fails
//!    the whole batch, so nothing is written; the writer reads the tab again and plans anew.
//!
//! Where the writer does not know the marker (first flush, or it was deleted) the head creates
//! it on the last grid row instead, unguarded. After the tab's own requests, which may delete
//! rows above the marker or its row ([`follow`]), the flush moves it to the tab's new last grid
//! row ([`place_row_guard`]). Not caught: a sort (it moves values, not rows), a row moved within the data (one delete and
//! one insert above the marker leave it in place), and a deleted last grid row (the marker goes
//! with it; the rows above did not move, and the next read finds no marker).

use crate::sheets::model::{
    CreateDeveloperMetadataRequest, DataFilter, DeleteDeveloperMetadataRequest, DeveloperMetadata,
    DeveloperMetadataLocation, DeveloperMetadataLookup, Dimension, DimensionRange, Request,
    UpdateDeveloperMetadataRequest, Visibility,
};
use crate::sync::layout::TabLayout;

/// The metadata key of the row guard's marker.
pub const ROW_GUARD_KEY: &str = "sheetsync.row-guard";

/// Largest metadata id (ids are positive 32-bit integers).
const MAX_ID: u64 = i32::MAX as u64;

/// The marker's metadata id for the tab `sheet_id`: fixed, so a restarted writer and the guard
/// name the same entry; distinct for every sheet id below 2³¹ − 1 (a multiplication modulo the
/// prime 2³¹ − 1), and spread over the whole range so that it is unlikely to meet the small ids
/// people's own scripts choose.
pub fn row_guard_id(sheet_id: i64) -> i64 {
    let sheet = sheet_id.unsigned_abs() % MAX_ID;
    let mixed = (sheet * 1_103_515_245 + 12_345) % MAX_ID;
    // 0 ..= 2³¹ − 2, shifted into 1 ..= 2³¹ − 1.
    i64::try_from(mixed + 1).unwrap_or(1)
}

fn marker(sheet_id: i64, row: u32) -> DeveloperMetadata {
    DeveloperMetadata {
        metadata_id: Some(row_guard_id(sheet_id)),
        metadata_key: Some(ROW_GUARD_KEY.into()),
        location: Some(row_location(sheet_id, row)),
        visibility: Some(Visibility::Document),
        ..DeveloperMetadata::default()
    }
}

fn row_location(sheet_id: i64, row: u32) -> DeveloperMetadataLocation {
    DeveloperMetadataLocation {
        dimension_range: Some(DimensionRange::rows(sheet_id, row, row + 1)),
        ..DeveloperMetadataLocation::default()
    }
}

fn delete(lookup: DeveloperMetadataLookup) -> Request {
    Request::DeleteDeveloperMetadata(DeleteDeveloperMetadataRequest {
        data_filter: DataFilter {
            developer_metadata_lookup: Some(lookup),
            ..DataFilter::default()
        },
    })
}

fn create(sheet_id: i64, row: u32) -> Request {
    Request::CreateDeveloperMetadata(CreateDeveloperMetadataRequest {
        developer_metadata: marker(sheet_id, row),
    })
}

/// The guard requests for one tab; they go before anything that moves rows. Where the writer
/// knows the marker's row: delete it there, create it there (refused if it moved). Where it
/// does not (no marker was found): create it on the last grid row — refused if a marker exists
/// after all, which a fresh read then finds.
pub fn row_guard(layout: &TabLayout) -> Vec<Request> {
    match layout.row_guard {
        Some(row) => {
            let lookup = DeveloperMetadataLookup {
                metadata_id: Some(row_guard_id(layout.sheet_id)),
                metadata_location: Some(row_location(layout.sheet_id, row)),
                location_matching_strategy: Some("EXACT_LOCATION".into()),
                ..DeveloperMetadataLookup::default()
            };
            vec![delete(lookup), create(layout.sheet_id, row)]
        }
        None => placed_row(layout)
            .map(|row| vec![create(layout.sheet_id, row)])
            .unwrap_or_default(),
    }
}

/// The marker's row once [`row_guard`] ran (before the plan's requests).
pub fn head_row(layout: &TabLayout) -> Option<u32> {
    layout.row_guard.or_else(|| placed_row(layout))
}

/// Where the marker is after `requests` ran, from `row` on tab `sheet_id`: rows deleted above
/// move it up, rows inserted at or above it move it down, appended rows do not move it; `None`
/// when they delete its row (the marker goes with it).
pub fn follow(row: u32, sheet_id: i64, requests: &[Request]) -> Option<u32> {
    let on_rows =
        |range: &DimensionRange| range.sheet_id == sheet_id && range.dimension == Dimension::Rows;
    let mut row = row;
    for request in requests {
        match request {
            Request::DeleteDimension(delete) if on_rows(&delete.range) => {
                let start = delete.range.start_index.unwrap_or(0);
                let end = delete.range.end_index.unwrap_or(u32::MAX);
                if (start..end).contains(&row) {
                    return None;
                }
                if row >= end {
                    row -= end - start;
                }
            }
            Request::InsertDimension(insert) if on_rows(&insert.range) => {
                let start = insert.range.start_index.unwrap_or(0);
                let end = insert.range.end_index.unwrap_or(start);
                if row >= start {
                    row += end.saturating_sub(start);
                }
            }
            _ => {}
        }
    }
    Some(row)
}

/// The requests that put the marker on the last grid row of `layout` as the flush leaves it,
/// from `row`, where the plan's requests left it ([`follow`]; `None`: they deleted it). An
/// existing marker is moved (`updateDeveloperMetadata` of its location), a deleted one created
/// again: neither relies on what Sheets does with a request that matches nothing. The caller
/// records the new place ([`placed_row`]) once the batch was applied.
pub fn place_row_guard(row: Option<u32>, layout: &TabLayout) -> Vec<Request> {
    let Some(last) = placed_row(layout) else {
        return Vec::new();
    };
    match row {
        Some(row) if row == last => Vec::new(),
        Some(_) => vec![Request::UpdateDeveloperMetadata(
            UpdateDeveloperMetadataRequest {
                data_filters: vec![DataFilter {
                    developer_metadata_lookup: Some(DeveloperMetadataLookup {
                        metadata_id: Some(row_guard_id(layout.sheet_id)),
                        ..DeveloperMetadataLookup::default()
                    }),
                    ..DataFilter::default()
                }],
                developer_metadata: DeveloperMetadata {
                    location: Some(row_location(layout.sheet_id, last)),
                    ..DeveloperMetadata::default()
                },
                fields: "location".into(),
            },
        )],
        None => vec![create(layout.sheet_id, last)],
    }
}

/// Where [`place_row_guard`] puts the marker: the last grid row.
pub fn placed_row(layout: &TabLayout) -> Option<u32> {
    layout.grid_rows.checked_sub(1)
}

/// Whether a batch failed on one of its first `guards` requests (the grid and row guards): the
/// tab's rows changed under the plan, nothing was applied, and it is planned again from a fresh
/// read. Google names the failing request as `Invalid requests[i].<kind>: …`.
pub fn refused_by_guard(error: &crate::sheets::SheetsError, guards: usize) -> bool {
    if error.is_sheet_changed() {
        return true;
    }
    matches!(error, crate::sheets::SheetsError::Http { status: 400, message, .. }
        if failed_request(message).is_some_and(|index| index < guards))
}

/// The index in `Invalid requests[i].…`, if the message starts so.
fn failed_request(message: &str) -> Option<usize> {
    let rest = message.strip_prefix("Invalid requests[")?;
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheets::SheetsError;

    #[test]
    fn ids_are_positive_distinct_and_fixed() {
        let mut seen = std::collections::HashSet::new();
        for sheet_id in (0..10_000).chain([i64::from(i32::MAX) - 1, 1_234_567_890]) {
            let id = row_guard_id(sheet_id);
            assert!((1..=i64::from(i32::MAX)).contains(&id), "{sheet_id} → {id}");
            assert!(seen.insert(id), "{sheet_id} → {id} twice");
        }
        assert_eq!(row_guard_id(0), row_guard_id(0));
        assert!(
            row_guard_id(0) > 1_000,
            "far from the small ids people pick"
        );
    }

    #[test]
    fn the_guard_deletes_the_marker_only_where_it_was_then_creates_it_there() {
        let mut layout = TabLayout::empty(7, "People", 40, 3);
        layout.row_guard = Some(11);
        assert_eq!(head_row(&layout), Some(11));
        let json = serde_json::to_value(row_guard(&layout)).expect("json");
        let lookup = &json[0]["deleteDeveloperMetadata"]["dataFilter"]["developerMetadataLookup"];
        assert_eq!(lookup["metadataId"], row_guard_id(7), "{json}");
        assert_eq!(
            lookup["locationMatchingStrategy"], "EXACT_LOCATION",
            "{json}"
        );
        let range = &lookup["metadataLocation"]["dimensionRange"];
        assert_eq!(
            (
                &range["sheetId"],
                &range["dimension"],
                &range["startIndex"],
                &range["endIndex"]
            ),
            (&7.into(), &"ROWS".into(), &11.into(), &12.into()),
            "{json}"
        );
        let created = &json[1]["createDeveloperMetadata"]["developerMetadata"];
        assert_eq!(created["metadataId"], row_guard_id(7), "{json}");
        assert_eq!(created["metadataKey"], ROW_GUARD_KEY, "{json}");
        assert_eq!(
            created["location"]["dimensionRange"]["startIndex"], 11,
            "{json}"
        );
        assert_eq!(created["visibility"], "DOCUMENT", "{json}");
    }

    #[test]
    fn an_unknown_marker_is_created_on_the_last_grid_row() {
        let layout = TabLayout::empty(7, "People", 40, 3);
        let json = serde_json::to_value(row_guard(&layout)).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
        let created = &json[0]["createDeveloperMetadata"]["developerMetadata"];
        assert_eq!(
            created["location"]["dimensionRange"]["startIndex"], 39,
            "{json}"
        );
        assert_eq!(head_row(&layout), Some(39));
        assert!(row_guard(&TabLayout::empty(7, "People", 0, 3)).is_empty());
    }

    #[test]
    fn the_marker_follows_the_plans_row_deletes_and_inserts() {
        let delete = |sheet_id, start, end| {
            Request::DeleteDimension(crate::sheets::model::DeleteDimensionRequest {
                range: DimensionRange::rows(sheet_id, start, end),
            })
        };
        let insert = |start, end| {
            Request::InsertDimension(crate::sheets::model::InsertDimensionRequest {
                range: DimensionRange::rows(7, start, end),
                inherit_from_before: None,
            })
        };
        let append = Request::AppendDimension(crate::sheets::model::AppendDimensionRequest {
            sheet_id: 7,
            dimension: Dimension::Rows,
            length: 10,
        });
        // (requests, where the marker ends from row 20)
        let cases = [
            (vec![], Some(20)),
            (vec![delete(7, 2, 5)], Some(17)),
            (vec![delete(7, 2, 5), delete(7, 10, 11)], Some(16)),
            (vec![delete(7, 20, 21)], None),
            (vec![delete(7, 15, 30)], None),
            (vec![delete(7, 21, 30)], Some(20)),
            (vec![delete(8, 2, 5)], Some(20)),
            (vec![append.clone()], Some(20)),
            (vec![insert(20, 22), append], Some(22)),
            (vec![insert(21, 22)], Some(20)),
        ];
        for (requests, ends) in cases {
            assert_eq!(follow(20, 7, &requests), ends, "{requests:?}");
        }
    }

    #[test]
    fn placing_moves_the_marker_or_creates_it_again_on_the_last_grid_row() {
        let layout = TabLayout::empty(7, "People", 40, 3);
        assert!(
            place_row_guard(Some(39), &layout).is_empty(),
            "already there"
        );
        let json = serde_json::to_value(place_row_guard(Some(12), &layout)).expect("json");
        let update = &json[0]["updateDeveloperMetadata"];
        assert_eq!(
            update["dataFilters"][0]["developerMetadataLookup"]["metadataId"],
            row_guard_id(7),
            "{json}"
        );
        assert_eq!(update["fields"], "location", "{json}");
        assert_eq!(
            update["developerMetadata"]["location"]["dimensionRange"]["startIndex"], 39,
            "{json}"
        );
        let json = serde_json::to_value(place_row_guard(None, &layout)).expect("json");
        let created = &json[0]["createDeveloperMetadata"]["developerMetadata"];
        assert_eq!(
            created["location"]["dimensionRange"]["startIndex"], 39,
            "{json}"
        );
        assert_eq!(placed_row(&layout), Some(39));
        assert!(place_row_guard(None, &TabLayout::empty(7, "People", 0, 3)).is_empty());
    }

    #[test]
    fn a_refusal_of_a_guard_request_means_the_rows_changed() {
        let http = |message: &str| SheetsError::Http {
            status: 400,
            google_status: "INVALID_ARGUMENT".into(),
            message: message.into(),
            retry_after: None,
        };
        let exists =
            "Invalid requests[2].createDeveloperMetadata: Developer metadata with ID 5 already exists.";
        // (error, guard requests at the head of the batch, refused by a guard)
        let cases = [
            (http(exists), 3, true),
            (http(exists), 2, false),
            (
                http("Invalid requests[0].deleteDeveloperMetadata: bad range"),
                1,
                true,
            ),
            (http("Invalid requests[9].updateCells: bad"), 3, false),
            (
                http("Invalid requests[x].createDeveloperMetadata: ?"),
                3,
                false,
            ),
            (http("something else"), 3, false),
            // The grid guard is recognised wherever it sits.
            (
                http("Invalid requests[4].copyPaste: Range (A9) exceeds grid limits"),
                0,
                true,
            ),
        ];
        for (error, guards, refused) in cases {
            assert_eq!(
                refused_by_guard(&error, guards),
                refused,
                "{error} / {guards}"
            );
        }
        let server = SheetsError::Http {
            status: 500,
            google_status: String::new(),
            message: exists.into(),
            retry_after: None,
        };
        assert!(!refused_by_guard(&server, 3), "only a 400 is a refusal");
    }
}
