//! Table tests of the Sheets-side judgements (no network): key files, tokens, spreadsheet
//! errors, headers, sizes. The real binary against the emulator is in `tests/it/check_sheets.rs`.

use std::path::Path;

use super::sheets_findings::*;
use crate::config::Config;
use crate::sheets::responses::CellValue;
use crate::sheets::SheetsError;

const PEM: &str = "-----BEGIN PRIVATE KEY-----\\nMIIsecretmaterial\\n-----END PRIVATE KEY-----\\n";

fn mapping() -> crate::config::MappingConfig {
    let text = "[mysql]\nurl = \"mysql://u@h:1\"\nserver_id = 1\n[[mapping]]\ntable = \"shop.orders\"\nspreadsheet_id = \"s\"\nsheet = \"Orders\"\n";
    Config::from_toml(text).expect("config").mappings.remove(0)
}

#[test]
fn key_files() {
    let path = Path::new("/keys/sa.json");
    let good = format!(
        r#"{{"type":"service_account","client_email":"sync@p.iam.gserviceaccount.com","private_key":"{PEM}","token_uri":"https://oauth2.googleapis.com/token"}}"#
    );
    let finding = inspect_key_file(path, Ok(good)).expect("a good key");
    assert_eq!(
        finding.found,
        "/keys/sa.json, service account sync@p.iam.gserviceaccount.com"
    );
    let io = |kind| Err(std::io::Error::from(kind));
    let cases: Vec<(std::io::Result<String>, &str)> = vec![
        (
            io(std::io::ErrorKind::NotFound),
            "/keys/sa.json does not exist",
        ),
        (
            io(std::io::ErrorKind::PermissionDenied),
            "is not readable by this user",
        ),
        (io(std::io::ErrorKind::InvalidData), "is not text"),
        (
            Ok(format!("{{\"private_key\": \"{PEM}\" oops")),
            "is not JSON (error at line 1, column",
        ),
        (Ok("[1]".into()), "JSON but not an object"),
        (
            Ok(r#"{"type":"authorized_user","client_secret":"MIIsecretmaterial"}"#.into()),
            "holds a `authorized_user` credential",
        ),
        (
            Ok(format!(r#"{{"private_key":"{PEM}","token_uri":" "}}"#)),
            "it lacks client_email, token_uri",
        ),
        (
            Ok(
                r#"{"client_email":"a@b","private_key":"MIIsecretmaterial","token_uri":"t"}"#
                    .into(),
            ),
            "private_key is not a PEM private key",
        ),
    ];
    for (contents, expected) in cases {
        let finding = inspect_key_file(path, contents).expect_err(expected);
        assert!(!finding.passed);
        let all = format!("{} {} {}", finding.found, finding.needed, finding.fix);
        assert!(
            finding.found.contains(expected),
            "`{expected}` not in {all}"
        );
        assert!(!all.contains("MIIsecretmaterial"), "{all}");
        assert!(all.contains("/keys/sa.json"), "{all}");
    }
}

#[test]
fn tokens() {
    let email = "sync@p.iam.gserviceaccount.com";
    assert!(token_finding(email, Ok(())).passed);
    let refused = token_finding(
        email,
        Err(SheetsError::Auth {
            message: "invalid_grant: Invalid JWT Signature.".into(),
            transient: false,
        }),
    );
    assert!(!refused.passed);
    assert!(refused.found.contains("invalid_grant"), "{refused:?}");
    assert!(
        refused.fix.contains("create a new JSON key for sync@p"),
        "{refused:?}"
    );
    let unreachable = token_finding(
        email,
        Err(SheetsError::Auth {
            message: "connection refused".into(),
            transient: true,
        }),
    );
    assert!(
        unreachable.fix.contains("reaches the key's token_uri"),
        "{unreachable:?}"
    );
}

#[test]
fn spreadsheet_errors() {
    let email = "sync@p.iam.gserviceaccount.com";
    let http = |status, google_status: &str| SheetsError::Http {
        status,
        google_status: google_status.into(),
        message: "m".into(),
        retry_after: None,
    };
    let cases = [
        (
            http(404, "NOT_FOUND"),
            "not found, or not shared with sync@p",
            "share the spreadsheet with it as Editor",
        ),
        (
            http(403, "PERMISSION_DENIED"),
            "access denied to sync@p",
            "enable the Google Sheets API",
        ),
        (http(503, "UNAVAILABLE"), "not reachable", "run check again"),
        (
            http(400, "INVALID_ARGUMENT"),
            "not reachable",
            "check google.api_base and spreadsheet_id of mapping orders",
        ),
        (
            SheetsError::Transport("reset".into()),
            "not reachable",
            "run check again",
        ),
    ];
    for (error, found, fix) in cases {
        let finding = spreadsheet_error_finding("spreadsheet s".into(), email, &["orders"], &error);
        assert!(!finding.passed);
        assert!(finding.found.contains(found), "{finding:?}");
        assert!(finding.fix.contains(fix), "{finding:?}");
    }
}

#[test]
fn headers() {
    let text = |names: &[&str]| -> Vec<CellValue> {
        names
            .iter()
            .map(|name| CellValue::Text(name.to_string()))
            .collect()
    };
    let synced: Vec<String> = ["id", "customer", "total"].map(String::from).to_vec();
    let cases: Vec<(Vec<CellValue>, bool, &str)> = vec![
        (
            text(&["id", "customer", "total"]),
            true,
            "all 3 synced columns present",
        ),
        (
            text(&["total", "notes", "id", " customer "]),
            true,
            "plus 1 of your own (`notes`)",
        ),
        (vec![], true, "row 1 is empty"),
        (text(&["", ""]), true, "row 1 is empty"),
        (text(&["id", "name"]), false, "lacks `customer`, `total`"),
        (
            text(&["id", "customer", "total", "id"]),
            false,
            "names `id` more than once",
        ),
        (
            vec![CellValue::Number(1.0), CellValue::Bool(true)],
            false,
            "lacks `id`, `customer`, `total`",
        ),
    ];
    for (header, passes, expected) in cases {
        let finding = header_finding("mapping orders", &mapping(), &header, &synced);
        assert_eq!(finding.passed, passes, "{finding:?}");
        assert!(finding.found.contains(expected), "{finding:?}");
        assert_eq!(finding.check, "mapping orders: header");
    }
}

#[test]
fn sizes() {
    let table = |rows, columns: usize| TableShape {
        columns: (0..columns).map(|index| format!("c{index}")).collect(),
        rows,
    };
    let grid = |rows, columns| Some(SheetShape { rows, columns });
    let cases: Vec<(TableShape, Option<SheetShape>, u64, bool, &str)> = vec![
        (
            table(3, 3),
            None,
            0,
            true,
            "3 rows + header = 4 rows × 3 synced columns = 12 cells; 12 of 10,000,000",
        ),
        (
            table(3, 3),
            grid(1000, 26),
            26_000,
            true,
            "52,000 of 10,000,000",
        ),
        (
            table(9_999_999, 1),
            None,
            0,
            true,
            "10,000,000 of 10,000,000",
        ),
        (
            table(10_000, 1001),
            None,
            0,
            false,
            "10,001 rows × 1001 synced columns = 10,011,001 cells",
        ),
        (
            table(10, 3),
            None,
            9_999_990,
            false,
            "the other tabs hold 9,999,990: 10,000,023 in all",
        ),
        (
            table(10, 3),
            grid(5_000, 2_001),
            0,
            false,
            "with the tab's grid that is 10,005,000 cells",
        ),
    ];
    for (table, tab, others, passes, expected) in cases {
        let finding = size_finding("mapping orders", &mapping(), &table, tab, others);
        assert_eq!(finding.passed, passes, "{finding:?}");
        assert!(
            finding.found.contains(expected),
            "`{expected}` in {finding:?}"
        );
        if !passes {
            assert!(
                finding.fix.contains("the `columns` of mapping orders"),
                "{finding:?}"
            );
        }
    }
}
