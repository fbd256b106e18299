//! sheetsync's integration tests: one binary, one scenario per file, against a real MariaDB
//! (`sheetsync_testbed`) and the Sheets emulator. Waits are bounded polls, never fixed sleeps.

mod apply_concurrent_insert;
mod apply_conflicts;
mod apply_deadlock;
mod apply_echo;
mod apply_least_privilege;
mod apply_mysql_down;
mod apply_new_row;
mod apply_paste;
mod apply_reconcile;
mod apply_single_edit;
mod apply_sql_literal;
mod apply_startup;
mod apply_structure;
mod apply_structure_sheets;
mod apply_support;
mod apply_type_errors;
mod binlog_fixtures;
mod binlog_purged;
mod binlog_reconnect;
mod binlog_settings;
mod binlog_support;
mod binlog_throughput;
mod binlog_transactions;
mod binlog_types;
mod check;
mod grants;
mod mysql_conf;
mod sheets_client;
mod sheets_quota;
mod sheets_retry;
mod sheets_support;
mod support;
mod webhook_security;
mod webhook_support;
