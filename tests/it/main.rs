//! The one integration-test binary: one scenario per module.

mod binlog_fixtures;
