//! A renamed column (`ALTER TABLE … RENAME COLUMN`, DESIGN §2.8): the header cell follows, so
//! the column keeps its place, its data and whatever people put around it.

use super::{Change, TabLayout};
use crate::cell::header_cell;
use crate::sheets::model::{GridCoordinate, Request, RowData, UpdateCellsRequest};

impl TabLayout {
    /// The request renaming header `from` to `to` (none when `from` is not in the header, or
    /// `to` already is), with the layout updated to match.
    pub fn rename_column(&mut self, from: &str, to: &str) -> Vec<Request> {
        if self.header.contains_key(to) {
            return Vec::new();
        }
        let Some(column) = self.header.remove(from) else {
            return Vec::new();
        };
        self.header.insert(to.to_string(), column);
        self.record(Change::Renamed {
            from: from.to_string(),
            to: to.to_string(),
            column,
        });
        vec![Request::UpdateCells(UpdateCellsRequest {
            rows: vec![RowData {
                values: vec![header_cell(to)],
            }],
            fields: "userEnteredValue".into(),
            start: Some(GridCoordinate {
                sheet_id: self.sheet_id,
                row_index: 0,
                column_index: column,
            }),
            range: None,
        })]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_rename_moves_the_header_name_and_keeps_the_column() {
        let mut layout = TabLayout::from_values(
            7,
            "Orders",
            10,
            5,
            &[json!("id"), json!("old"), json!("total")],
            &[vec![json!(1)]],
        );
        let requests = layout.rename_column("old", "new");
        assert_eq!(requests.len(), 1);
        assert_eq!(layout.column("new"), Some(1));
        assert_eq!(layout.column("old"), None);
        assert!(
            layout.rename_column("old", "newer").is_empty(),
            "from is gone"
        );
        assert!(layout.rename_column("id", "total").is_empty(), "to exists");
        assert_eq!(layout.column("id"), Some(0));
    }
}
