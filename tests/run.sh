#!/usr/bin/env bash
# sheetsync's one test command. On a fresh Debian machine it installs what is missing
# (mariadb-server, python3-venv, ca-certificates, nodejs, chromium, prometheus), then runs everything:
#   1. cargo fmt --check and cargo clippy -D warnings (the code standard),
#   2. every Rust test of the workspace: unit tests, the test bed, the Sheets emulator's tests,
#      and the integration scenarios against a real MariaDB and the emulator,
#   3. the Apps Script's Node tests (the real script against the real webhook router, and against the real service on MariaDB),
#   4. the real-client proof: Google's own Python clients against the emulator.
# Every server a test starts listens on 127.0.0.1 only and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s ===\n' "$*"; }

install_packages() {
  local missing=()
  [ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing+=(mariadb-server)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  [ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  command -v node >/dev/null || missing+=(nodejs)
  # The status page is tested in headless Chromium; promtool checks deploy/'s Prometheus files.
  command -v chromium >/dev/null || missing+=(chromium)
  command -v promtool >/dev/null || missing+=(prometheus)
  # The demo's headless check talks to the emulator with curl.
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    section "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_packages

section "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

section "Rust tests (unit, test bed, emulator, integration against MariaDB)"
cargo test --workspace 2>&1

section "Apps Script: the real script in Node, against the webhook router and the real service on MariaDB"
./tests/run-apps-script.sh

if [ -x tests/real-clients/run.sh ]; then
  section "real clients: google-api-python-client and gspread against the emulator"
  tests/real-clients/run.sh
fi

section "the demo, headless: a MySQL update reaches the grid page, a grid edit reaches MySQL"
./deploy/demo.sh --check
