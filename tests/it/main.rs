//! sheetsync's integration tests: one binary, one scenario per file, against a real MariaDB
//! (`sheetsync_testbed`) and the Sheets emulator. Waits are bounded polls, never fixed sleeps.

mod binlog_fixtures;
mod binlog_purged;
mod binlog_reconnect;
mod binlog_settings;
mod binlog_support;
mod binlog_throughput;
mod binlog_transactions;
mod binlog_types;
mod cells;
mod check;
mod check_sheets;
mod check_sheets_tabs;
mod grants;
mod mysql_conf;
mod sheets_client;
mod sheets_quota;
mod sheets_retry;
mod sheets_support;
mod snapshot_values;
mod support;
mod sync_faults;
mod sync_kill;
mod sync_mariadb_restart;
mod sync_purged;
mod sync_rows;
mod sync_schema;
mod sync_structure;
mod sync_support;
mod sync_two_spreadsheets;
mod sync_types;
mod webhook_security;
mod webhook_support;
