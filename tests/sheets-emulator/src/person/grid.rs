//! The live grid page for the demo: one self-contained HTML page (`grid.html`, inline CSS and
//! JavaScript, nothing fetched from elsewhere) and the JSON it polls every 500 ms.
//!
//! Consumes the store; produces the page and `{"spreadsheet_id","title","webhook","sheets":[{
//! "title","sheet_id","row_count","column_count","rows":[["formatted",…]],"notes":[{"row",
//! "column","note"}],"truncated"}]}` (rows and columns 1-based in notes). Guarantees: the page
//! edits only through `POST /_emulator/person/edit` and the other person calls, so an edit in
//! the page reaches the webhook exactly as an Apps Script edit does; it shows the webhook's
//! answer and the cells' notes (where the service explains a refused value); values are shown
//! as text, never interpreted as HTML.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::api::render::formatted_value;
use crate::error::ApiError;
use crate::SharedState;

const PAGE: &str = include_str!("grid.html");
/// Rows sent to the page per tab: a demo grid, not a 100,000-row viewer.
const MAX_GRID_ROWS: usize = 1000;

pub async fn page(
    State(state): State<SharedState>,
    Path(spreadsheet_id): Path<String>,
) -> Response {
    if state.store.sheet_titles(&spreadsheet_id).is_none() {
        return ApiError::not_found(format!("no spreadsheet {spreadsheet_id:?}")).into_response();
    }
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE)).into_response()
}

pub async fn data(
    State(state): State<SharedState>,
    Path(spreadsheet_id): Path<String>,
) -> Response {
    let webhook = state
        .person()
        .webhook()
        .map(|view| json!({ "configured": true, "url": view.url }))
        .unwrap_or_else(|| json!({ "configured": false }));
    let sheets = state.store.read(&spreadsheet_id, |spreadsheet| {
        let sheets: Vec<Value> = spreadsheet
            .sheets
            .iter()
            .map(|sheet| {
                let used = (sheet.used_row_end() as usize).min(MAX_GRID_ROWS);
                let mut notes = Vec::new();
                let rows: Vec<Value> = sheet.rows[..used.min(sheet.rows.len())]
                    .iter()
                    .enumerate()
                    .map(|(row, cells)| {
                        let mut texts: Vec<String> = cells
                            .iter()
                            .enumerate()
                            .map(|(column, cell)| {
                                if let Some(note) = &cell.note {
                                    notes.push(
                                        json!({"row": row + 1, "column": column + 1, "note": note}),
                                    );
                                }
                                formatted_value(cell).unwrap_or_default()
                            })
                            .collect();
                        while texts.last().is_some_and(String::is_empty) {
                            texts.pop();
                        }
                        json!(texts)
                    })
                    .collect();
                json!({
                    "title": sheet.title,
                    "sheet_id": sheet.sheet_id,
                    "row_count": sheet.row_count,
                    "column_count": sheet.column_count,
                    "rows": rows,
                    "notes": notes,
                    "truncated": (sheet.used_row_end() as usize) > MAX_GRID_ROWS,
                })
            })
            .collect();
        Ok((spreadsheet.title.clone(), sheets))
    });
    match sheets {
        Ok((title, sheets)) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({
                "spreadsheet_id": spreadsheet_id,
                "title": title,
                "webhook": webhook,
                "sheets": sheets,
            })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}
