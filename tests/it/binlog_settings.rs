//! A server whose binlog settings make row capture impossible is refused with the precise
//! setting, the value needed and the value found.

use sheetsync::binlog::{BinlogError, BinlogSource, SourceOptions};
use sheetsync_testbed::MariaDb;

use crate::binlog_support::replica_server_id;

async fn refusal(extra_argument: &str) -> BinlogError {
    let server = MariaDb::start_with(&[extra_argument]).expect("own MariaDB");
    let options = SourceOptions::new(server.root_url(), replica_server_id());
    match BinlogSource::start(options).await {
        Ok(_) => panic!("{extra_argument}: the source must refuse this server"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn statement_format_is_refused() {
    let error = refusal("--binlog-format=STATEMENT").await;
    assert!(
        matches!(&error, BinlogError::InvalidSystemSetting { setting, expected, actual }
            if setting == "binlog_format" && expected == "ROW" && actual == "STATEMENT"),
        "{error}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn minimal_row_metadata_is_refused() {
    let error = refusal("--binlog-row-metadata=MINIMAL").await;
    assert!(
        matches!(&error, BinlogError::InvalidSystemSetting { setting, expected, actual }
            if setting == "binlog_row_metadata" && expected == "FULL" && actual == "MINIMAL"),
        "{error}"
    );
}

#[tokio::test]
async fn compressed_binlog_is_refused() {
    let error = refusal("--log-bin-compress=ON").await;
    assert!(
        matches!(&error, BinlogError::InvalidSystemSetting { setting, expected, actual }
            if setting == "log_bin_compress" && expected == "OFF" && actual == "ON"),
        "{error}"
    );
}
