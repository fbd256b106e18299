//! Schema changes reaching a writer (DESIGN §2.8): a renamed column renames its header at the
//! next flush; added and dropped columns need nothing (they appear in, or vanish from, the row
//! images); a truncated, dropped or renamed table stalls its mapping with a plain reason.

use std::sync::Arc;

use super::Writer;
use crate::metrics::DefiniteErrorKind;
use crate::status::MappingState;
use crate::sync::ddl::SchemaChange;

impl Writer {
    pub(super) fn schema_change(&mut self, tab: usize, change: SchemaChange) {
        let Some(state) = self.tabs.get_mut(tab) else {
            return;
        };
        let status = self.status.clone();
        let stall = |reason: String| {
            tracing::error!(mapping = %state.mapping, %reason, "mapping stopped");
            match &status {
                Some(status) => {
                    status.record_error(&state.mapping, DefiniteErrorKind::Schema, reason.clone());
                    status.set_state(&state.mapping, MappingState::Stalled { reason: reason.clone() });
                }
                None => metrics::counter!(crate::metrics::DEFINITE_ERRORS_TOTAL, "kind" => DefiniteErrorKind::Schema.label()).increment(1),
            }
            reason
        };
        match change {
            SchemaChange::RenameColumn { from, to } => {
                for column in &mut state.spec.columns {
                    if column.as_ref() == from {
                        *column = Arc::from(to.as_str());
                    }
                }
                for column in &mut state.spec.key_columns {
                    if column.as_ref() == from {
                        *column = Arc::from(to.as_str());
                    }
                }
                self.renames.push((tab, from, to));
            }
            SchemaChange::AddColumn(name) => {
                // The router passes ADD COLUMN only for mappings of every column. The planner
                // writes the spec's columns only, so the new one joins the spec: it gets a
                // header cell at the right at the next flush, and its values from then on.
                if !state
                    .spec
                    .columns
                    .iter()
                    .any(|column| column.as_ref() == name)
                {
                    state.spec.columns.push(Arc::from(name.as_str()));
                }
            }
            SchemaChange::DropColumn(_) => {
                // Its values simply stop arriving; the sheet column stays (DESIGN §2.8).
            }
            SchemaChange::Truncate => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was truncated; run `sheetsync snapshot --mapping {}` to reload the tab",
                    state.mapping, state.mapping
                )));
            }
            SchemaChange::DropTable => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was dropped",
                    state.mapping
                )));
            }
            SchemaChange::RenameTable { to } => {
                state.stalled = Some(stall(format!(
                    "table of mapping `{}` was renamed to {to}; update the mapping's `table`",
                    state.mapping
                )));
            }
        }
    }
}
