//! The one integration-test binary: one scenario per module.

mod binlog_fixtures;
mod binlog_purged;
mod binlog_reconnect;
mod binlog_settings;
mod binlog_support;
mod binlog_throughput;
mod binlog_transactions;
mod binlog_types;
