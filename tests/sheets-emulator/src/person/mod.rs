//! The emulator plays a person at the spreadsheet, with sheetsync's Apps Script installed.
//!
//! A person call changes the spreadsheet as someone in the Sheets UI would, then does what the
//! script's trigger does for that event: builds the message (`message.rs`, a port of
//! `apps-script/Message.js`), signs it and sends it to the configured webhook, queues what must
//! be retried and writes keys returned for new rows (`delivery.rs`, `keys.rs`, ports of
//! `Delivery.js`). The caller gets every POST's status and body back. The script is the
//! reference: `apps-script/test/emulator-person.test.js` runs the real script and this module
//! on the same edits and requires byte-identical bodies (delivery id and times aside).
//!
//! # Admin API (no authentication; JSON in and out; errors in Google's envelope)
//! | call | body → answer |
//! |---|---|
//! | `POST /_emulator/person/webhook` | `{"url","secret","key_columns":["id"],"sheets":[],"user":null}` (the script's `setup()` and its `KEY_COLUMNS`/`SHEETS` properties) → the settings without the secret |
//! | `GET`, `DELETE /_emulator/person/webhook` | the settings (`{"configured":false}` when none) / forget them |
//! | `POST /_emulator/person/spreadsheets` | `{"spreadsheet_id"?,"title"?,"time_zone"?,"sheets":[{"title","sheet_id"?,"rows":[[…]]}]}` → `{"spreadsheet_id","sheets":[{"title","sheet_id"}]}`; no message (the script is not installed yet) |
//! | `POST /_emulator/person/edit` | `{"spreadsheet_id","sheet","cell":"C2"` (or `"row","column"`, 1-based)`,"value":v` or `"values":[[…]]`, `"user"?}` → Outcome. One `onEdit` for the rectangle; a single cell carries Google's old value, a paste none |
//! | `POST /_emulator/person/add-row` | `{"spreadsheet_id","sheet","values":{"customer":"Linus"},"row"?,"user"?}` → Outcome. Typed cell by cell, left to right, key empty: one `onEdit` each; a key the webhook returns is written before the next cell |
//! | `POST /_emulator/person/delete-rows`, `…/insert-rows` | `{"spreadsheet_id","sheet","row":5,"count"?:1,"user"?}` → Outcome (`onChange` `REMOVE_ROW` / `INSERT_ROW`) |
//! | `POST /_emulator/person/sort` | `{"spreadsheet_id","sheet","column":"name"` (or a letter)`,"descending"?,"first_row"?:2,"last_row"?}` → Outcome (`onChange` `OTHER`) |
//! | `POST /_emulator/person/retry` | the one-minute retry trigger → Outcome |
//! | `GET /_emulator/person/queue` | `{"queued":[{"delivery_id","kind"}]}` |
//! | `GET /_emulator/grid/{spreadsheet_id}` | the live, editable grid page (`grid.rs`) |
//! | `GET /_emulator/grid/{spreadsheet_id}/data` | the tabs' formatted values and notes, for the page |
//!
//! Outcome: `{"delivery_ids":[…],"deliveries":[{"delivery_id","kind","request_body","timestamp",
//! "signature","status","body","outcome":"answered|kept_for_retry|refused|lost"}],
//! "keys_written":[{"sheet","row","column","value"}],"log":[…],"queued":N}` — `status` 0 means
//! the request did not complete; `log` says why an event sent nothing.
//!
//! In Rust the same calls are methods of [`Person`], reached as `running.state.person()`.

mod actions;
mod delivery;
mod error;
mod grid;
mod js_json;
mod keys;
mod message;
mod routes;
mod seed;
mod signing;
mod sort;

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

pub use actions::{AddRow, Edit, RowSpan};
pub use delivery::{DeliveryOutcome, DeliveryReport, Outcome, Queued};
pub use error::PersonError;
pub use keys::KeyWritten;
pub use routes::routes;
pub use seed::{CreatedSheet, CreatedSpreadsheet, NewSheet, NewSpreadsheet};
pub use signing::signature;
pub use sort::Sort;

use crate::api::model::Sheet;
use crate::api::Store;
use crate::EmulatorState;
use delivery::Outbox;
use message::{Context, EditEvent, Settings};

/// Where the script sends, and its settings.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
    /// Script property `KEY_COLUMNS` (default `id`).
    #[serde(default = "default_key_columns")]
    pub key_columns: Vec<String>,
    /// Script property `SHEETS`: the tabs whose edits are sent (default: all).
    #[serde(default)]
    pub sheets: Vec<String>,
    /// The editor's email for calls that name none (default: Google does not reveal it).
    #[serde(default)]
    pub user: Option<String>,
}

fn default_key_columns() -> Vec<String> {
    vec!["id".into()]
}

impl WebhookTarget {
    pub fn new(url: &str, secret: &str) -> WebhookTarget {
        WebhookTarget {
            url: url.into(),
            secret: secret.into(),
            key_columns: default_key_columns(),
            sheets: Vec::new(),
            user: None,
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            key_columns: self.key_columns.clone(),
            sheets: self.sheets.clone(),
        }
    }

    /// What may be shown: everything but the secret.
    pub fn view(&self) -> WebhookView {
        WebhookView {
            configured: true,
            url: self.url.clone(),
            key_columns: self.key_columns.clone(),
            sheets: self.sheets.clone(),
            user: self.user.clone(),
            secret_set: !self.secret.is_empty(),
        }
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("key_columns", &self.key_columns)
            .field("sheets", &self.sheets)
            .field("user", &self.user)
            .finish()
    }
}

/// The webhook settings as the admin API shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookView {
    pub configured: bool,
    pub url: String,
    pub key_columns: Vec<String>,
    pub sheets: Vec<String>,
    pub user: Option<String>,
    pub secret_set: bool,
}

/// The person's lasting state: the script's settings and its delivery queue.
#[derive(Default)]
pub struct PersonState {
    target: Mutex<Option<WebhookTarget>>,
    outbox: Outbox,
}

impl PersonState {
    fn lock_target(&self) -> MutexGuard<'_, Option<WebhookTarget>> {
        self.target
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The person at one emulator: every admin call of the table above as a method.
pub struct Person<'a> {
    store: &'a Store,
    state: &'a PersonState,
}

impl EmulatorState {
    /// The person at this emulator's spreadsheets.
    pub fn person(&self) -> Person<'_> {
        Person {
            store: &self.store,
            state: &self.control.person,
        }
    }
}

impl Person<'_> {
    /// The script's `setup(url, secret)`: where to send, and how.
    pub fn configure_webhook(&self, target: WebhookTarget) -> Result<WebhookView, PersonError> {
        let url_ok = target.url.starts_with("http://") || target.url.starts_with("https://");
        if !url_ok || target.secret.is_empty() || target.key_columns.is_empty() {
            return Err(PersonError::invalid(
                "`url` must be http(s)://…, `secret` and `key_columns` non-empty",
            ));
        }
        let view = target.view();
        *self.state.lock_target() = Some(target);
        Ok(view)
    }

    pub fn clear_webhook(&self) {
        *self.state.lock_target() = None;
    }

    pub fn webhook(&self) -> Option<WebhookView> {
        self.state.lock_target().as_ref().map(WebhookTarget::view)
    }

    /// A spreadsheet with a chosen id and typed rows; sends nothing.
    pub fn create_spreadsheet(
        &self,
        request: &NewSpreadsheet,
    ) -> Result<CreatedSpreadsheet, PersonError> {
        seed::create(self.store, request)
    }

    /// Type one cell or paste a block: one `onEdit`.
    pub async fn edit(&self, request: &Edit) -> Result<Outcome, PersonError> {
        let target = self.target()?;
        let (changed, event) = actions::edit(self.store, request)?;
        let user = request.user.as_deref().or(target.user.as_deref());
        let mut outcome = Outcome::default();
        let spreadsheet_id = request.spreadsheet_id.as_str();
        self.after_edit(
            &target,
            spreadsheet_id,
            &changed.sheet,
            &event,
            user,
            &mut outcome,
        )
        .await;
        Ok(outcome)
    }

    /// Type a new row cell by cell (key empty): one `onEdit` per cell, in header order.
    pub async fn add_row(&self, request: &AddRow) -> Result<Outcome, PersonError> {
        self.target()?;
        let cells = actions::new_row_cells(self.store, request)?;
        let mut outcome = Outcome::default();
        for (row, column, value) in cells {
            let edit = Edit {
                spreadsheet_id: request.spreadsheet_id.clone(),
                sheet: request.sheet.clone(),
                row: Some(row),
                column: Some(column),
                value: Some(value),
                user: request.user.clone(),
                ..Edit::default()
            };
            outcome.absorb(self.edit(&edit).await?);
        }
        Ok(outcome)
    }

    /// Delete rows: `onChange` `REMOVE_ROW`.
    pub async fn delete_rows(&self, request: &RowSpan) -> Result<Outcome, PersonError> {
        let target = self.target()?;
        let changed = actions::delete_rows(self.store, request)?;
        let user = request.user.as_deref();
        Ok(self
            .after_structure(
                &target,
                &request.spreadsheet_id,
                &changed.sheet,
                "REMOVE_ROW",
                user,
            )
            .await)
    }

    /// Insert blank rows: `onChange` `INSERT_ROW`.
    pub async fn insert_rows(&self, request: &RowSpan) -> Result<Outcome, PersonError> {
        let target = self.target()?;
        let changed = actions::insert_rows(self.store, request)?;
        let user = request.user.as_deref();
        Ok(self
            .after_structure(
                &target,
                &request.spreadsheet_id,
                &changed.sheet,
                "INSERT_ROW",
                user,
            )
            .await)
    }

    /// Sort a range: `onChange` `OTHER` (how sorts and moves arrive).
    pub async fn sort(&self, request: &Sort) -> Result<Outcome, PersonError> {
        let target = self.target()?;
        let changed = sort::sort(self.store, request)?;
        let user = request.user.as_deref();
        Ok(self
            .after_structure(
                &target,
                &request.spreadsheet_id,
                &changed.sheet,
                "OTHER",
                user,
            )
            .await)
    }

    /// The one-minute trigger: send what is queued.
    pub async fn retry(&self) -> Result<Outcome, PersonError> {
        let target = self.target()?;
        Ok(self.state.outbox.retry(self.store, &target).await)
    }

    /// Deliveries waiting for a retry, oldest first.
    pub fn queued(&self) -> Vec<Queued> {
        self.state.outbox.queued()
    }

    fn target(&self) -> Result<WebhookTarget, PersonError> {
        self.state
            .lock_target()
            .clone()
            .ok_or(PersonError::NoWebhook)
    }

    /// `onEditInstalled`.
    async fn after_edit(
        &self,
        target: &WebhookTarget,
        spreadsheet_id: &str,
        sheet: &Sheet,
        event: &EditEvent,
        user: Option<&str>,
        outcome: &mut Outcome,
    ) {
        let settings = target.settings();
        if !settings.is_synced(&sheet.title) {
            outcome.log.push(not_synced(sheet));
            outcome.queued = self.queued().len();
            return;
        }
        let now = signing::iso_time(signing::now_milliseconds());
        let context = Context {
            spreadsheet_id,
            sheet,
            settings: &settings,
            user,
            now: &now,
        };
        match message::edit_messages(&context, event, &mut signing::uuid) {
            Ok(messages) => {
                let outbox = &self.state.outbox;
                outbox.deliver(self.store, target, messages, outcome).await;
            }
            Err(not_sent) => {
                outcome.log.push(not_sent.reason());
                outcome.queued = self.queued().len();
            }
        }
    }

    /// `onChangeInstalled` for a change that moves rows.
    async fn after_structure(
        &self,
        target: &WebhookTarget,
        spreadsheet_id: &str,
        sheet: &Sheet,
        change_type: &str,
        user: Option<&str>,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let settings = target.settings();
        let now = signing::iso_time(signing::now_milliseconds());
        let context = Context {
            spreadsheet_id,
            sheet,
            settings: &settings,
            user: user.or(target.user.as_deref()),
            now: &now,
        };
        let built = if settings.is_synced(&sheet.title) {
            message::structure_message(&context, change_type, signing::uuid())
                .map_err(|not_sent| not_sent.reason())
        } else {
            Err(not_synced(sheet))
        };
        match built {
            Ok(message) => {
                let outbox = &self.state.outbox;
                outbox
                    .deliver(self.store, target, vec![message], &mut outcome)
                    .await;
            }
            Err(reason) => {
                outcome.log.push(reason);
                outcome.queued = self.queued().len();
            }
        }
        outcome
    }
}

fn not_synced(sheet: &Sheet) -> String {
    message::NotSent::TabNotSynced {
        sheet: sheet.title.clone(),
    }
    .reason()
}
