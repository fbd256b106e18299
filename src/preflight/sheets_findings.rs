//! The judgements of the Sheets-side checks as pure functions (key file contents, a token
//! result, a spreadsheet error, a header row, table and grid sizes → [`Finding`]), so each case
//! is table-tested without a network. `sheets.rs` gathers the inputs.

use std::path::Path;

use super::Finding;
use crate::config::MappingConfig;
use crate::sheets::responses::CellValue;
use crate::sheets::SheetsError;

/// Google's limit: cells over all tabs of one spreadsheet (rows × columns of each grid).
pub const MAX_SPREADSHEET_CELLS: u64 = 10_000_000;

/// A table as the sheet will hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableShape {
    /// Synced column names in sheet order.
    pub columns: Vec<String>,
    pub rows: u64,
}

/// A tab's current grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetShape {
    pub rows: u32,
    pub columns: u32,
}

const KEY_FIELDS: [&str; 3] = ["client_email", "private_key", "token_uri"];

/// Judge the key file: a pass naming its service account, or a failure that names the path
/// and what is wrong, never its contents.
pub fn inspect_key_file(
    path: &Path,
    contents: std::io::Result<String>,
) -> Result<Finding, Finding> {
    let check = "google.credentials_file";
    let shown = path.display();
    let needed = "a service-account key file (JSON with type \"service_account\", client_email, private_key, token_uri)";
    let new_key = format!("create a JSON key for the service account (Google Cloud console → IAM & Admin → Service accounts → Keys → Add key → JSON) and set google.credentials_file to its path (now {shown})");
    let fail = |found: String, fix: String| Finding::fail(check, found, needed, fix);
    let text = contents.map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => fail(format!("{shown} does not exist"), new_key.clone()),
        std::io::ErrorKind::PermissionDenied => fail(
            format!("{shown} is not readable by this user"),
            format!("let the user running sheetsync read {shown} (e.g. chmod 0400 and chown to that user)"),
        ),
        std::io::ErrorKind::InvalidData => fail(format!("{shown} is not text (UTF-8)"), new_key.clone()),
        _ => fail(format!("{shown} cannot be read: {error}"), new_key.clone()),
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        // Only the position: serde's message could quote part of the file.
        fail(
            format!(
                "{shown} is not JSON (error at line {}, column {})",
                error.line(),
                error.column()
            ),
            new_key.clone(),
        )
    })?;
    let Some(object) = json.as_object() else {
        return Err(fail(format!("{shown} is JSON but not an object"), new_key));
    };
    match object.get("type").and_then(|kind| kind.as_str()) {
        Some("service_account") | None => {}
        Some(other) => {
            let other: String = other.chars().take(40).collect();
            return Err(fail(
                format!("{shown} holds a `{other}` credential, not a service-account key"),
                new_key,
            ));
        }
    }
    let missing: Vec<&str> = KEY_FIELDS
        .iter()
        .copied()
        .filter(|field| {
            object
                .get(*field)
                .and_then(|value| value.as_str())
                .is_none_or(|value| value.trim().is_empty())
        })
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            format!(
                "{shown} is not a service-account key: it lacks {}",
                missing.join(", ")
            ),
            new_key,
        ));
    }
    let private_key = object["private_key"].as_str().unwrap_or_default();
    if !private_key.contains("PRIVATE KEY-----") {
        return Err(fail(
            format!("{shown}: private_key is not a PEM private key"),
            new_key,
        ));
    }
    let email = object["client_email"].as_str().unwrap_or_default();
    Ok(Finding::pass(
        check,
        format!("{shown}, service account {email}"),
    ))
}

/// The token check: a refused grant and an unreachable endpoint have different fixes.
pub fn token_finding(client_email: &str, result: Result<(), SheetsError>) -> Finding {
    let check = "google token";
    match result {
        Ok(()) => Finding::pass(check, format!("access token obtained for {client_email}")),
        Err(error) if error.is_transient() => Finding::fail(
            check,
            format!("no token for {client_email}: {error}"),
            "an access token from the key's token_uri",
            "check that this machine reaches the key's token_uri (DNS, proxy, firewall), then run check again",
        ),
        Err(error) => Finding::fail(
            check,
            format!("no token for {client_email}: {error}"),
            "an access token from the key's token_uri",
            format!("the key was refused: it may have been deleted or the service account disabled; create a new JSON key for {client_email} and point google.credentials_file at it, and check this machine's clock (tokens are refused when it is off by minutes)"),
        ),
    }
}

/// A failed `spreadsheets.get`: not found, not shared, or Google unreachable.
pub fn spreadsheet_error_finding(
    check: String,
    client_email: &str,
    mapping_names: &[&str],
    error: &SheetsError,
) -> Finding {
    let mappings = mapping_names.join(", ");
    let share = format!("the service account is {client_email}: share the spreadsheet with it as Editor (Share → add {client_email} → Editor)");
    let needed = format!("a spreadsheet {client_email} can open and edit");
    match error.status() {
        Some(404) => Finding::fail(
            check,
            format!("not found, or not shared with {client_email} ({error})"),
            needed,
            format!("check spreadsheet_id of mapping {mappings} (the id in the spreadsheet's URL: …/spreadsheets/d/<id>/edit); if it is right, {share}"),
        ),
        Some(403) => Finding::fail(
            check,
            format!("access denied to {client_email} ({error})"),
            needed,
            format!("{share}; if it is shared already, enable the Google Sheets API in the service account's Google Cloud project"),
        ),
        _ => Finding::fail(
            check,
            format!("not reachable: {error}"),
            needed,
            if error.is_transient() {
                "Google or the network is failing: check google.api_base and network access, then run check again".to_string()
            } else {
                format!("check google.api_base and spreadsheet_id of mapping {mappings}")
            },
        ),
    }
}

/// Row 1 against the synced columns: every synced column needs a header cell (matched by
/// name, in any order); other columns belong to people and are fine.
pub fn header_finding(
    prefix: &str,
    mapping: &MappingConfig,
    header: &[CellValue],
    synced: &[String],
) -> Finding {
    let check = format!("{prefix}: header");
    let names: Vec<String> = header.iter().map(header_text).collect();
    if names.iter().all(String::is_empty) {
        return Finding::pass(check, "row 1 is empty; sheetsync will write the header");
    }
    let missing: Vec<&String> = synced
        .iter()
        .filter(|column| !names.iter().any(|name| name == *column))
        .collect();
    let duplicated: Vec<&String> = synced
        .iter()
        .filter(|column| names.iter().filter(|name| name == column).count() > 1)
        .collect();
    let extra: Vec<&String> = names
        .iter()
        .filter(|name| !name.is_empty() && !synced.contains(name))
        .collect();
    if !missing.is_empty() {
        return Finding::fail(
            check,
            format!("row 1 of tab {} lacks {}", mapping.sheet, quoted(&missing)),
            "a header cell named after each synced column (any order; extra columns are fine)",
            format!(
                "type the missing names into empty cells of row 1, or clear row 1 so sheetsync writes the header, or leave them out of the `columns` of mapping {}",
                mapping.name
            ),
        );
    }
    if !duplicated.is_empty() {
        return Finding::fail(
            check,
            format!(
                "row 1 of tab {} names {} more than once",
                mapping.sheet,
                quoted(&duplicated)
            ),
            "one header cell per synced column",
            "rename or delete the duplicate header cells",
        );
    }
    let own = if extra.is_empty() {
        String::new()
    } else {
        format!(", plus {} of your own ({})", extra.len(), quoted(&extra))
    };
    Finding::pass(
        check,
        format!("all {} synced columns present{own}", synced.len()),
    )
}

fn header_text(cell: &CellValue) -> String {
    match cell {
        CellValue::Text(text) => text.trim().to_string(),
        CellValue::Number(number) => crate::sync::number_key_text(*number),
        CellValue::Bool(true) => "TRUE".into(),
        CellValue::Bool(false) => "FALSE".into(),
    }
}

fn quoted(names: &[&String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Will the table (header + rows, synced columns) fit in the spreadsheet next to its other tabs?
pub fn size_finding(
    prefix: &str,
    mapping: &MappingConfig,
    table: &TableShape,
    tab: Option<SheetShape>,
    other_cells: u64,
) -> Finding {
    let check = format!("{prefix}: size");
    let rows = table.rows + 1;
    let columns = table.columns.len() as u64;
    let table_cells = rows * columns;
    let limit = grouped(MAX_SPREADSHEET_CELLS);
    let needed = format!("at most {limit} cells in the spreadsheet (Google's limit, over every tab's rows × columns)");
    let shape = format!(
        "{} rows + header = {} rows × {columns} synced columns = {} cells",
        grouped(table.rows),
        grouped(rows),
        grouped(table_cells)
    );
    let fix = format!("sync fewer columns (the `columns` of mapping {}) or fewer rows, or give the table a spreadsheet of its own", mapping.name);
    if table_cells > MAX_SPREADSHEET_CELLS {
        return Finding::fail(
            check,
            format!("table {} needs {shape}", mapping.table),
            needed,
            fix,
        );
    }
    let tab_cells = match tab {
        Some(grid) => rows.max(u64::from(grid.rows)) * columns.max(u64::from(grid.columns)),
        None => table_cells,
    };
    let total = tab_cells + other_cells;
    if total > MAX_SPREADSHEET_CELLS {
        return Finding::fail(
            check,
            format!(
                "table {} needs {shape}; with the tab's grid that is {} cells, and the other tabs hold {}: {} in all",
                mapping.table,
                grouped(tab_cells),
                grouped(other_cells),
                grouped(total)
            ),
            needed,
            format!("{fix}, or delete unused tabs, rows or columns of the spreadsheet"),
        );
    }
    Finding::pass(
        check,
        format!(
            "{shape}; {} of {limit} cells in the spreadsheet",
            grouped(total)
        ),
    )
}

/// `10011001` → `10,011,001`.
fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
