//! sheetsync's integration tests: one binary, one scenario per file, against a real MariaDB
//! (`sheetsync_testbed`) and the Sheets emulator. Waits are bounded polls, never fixed sleeps.

mod check;
mod sheets_client;
mod sheets_quota;
mod sheets_retry;
mod sheets_support;
mod support;
