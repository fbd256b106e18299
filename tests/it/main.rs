//! sheetsync's integration tests: one binary, one scenario per file, against a real MariaDB
//! (`sheetsync_testbed`) and the Sheets emulator. Waits are bounded polls, never fixed sleeps.

mod check;
mod grants;
mod mysql_conf;
mod support;
mod webhook_security;
mod webhook_support;
