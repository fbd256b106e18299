#!/usr/bin/env bash
# Runs the Apps Script's Node tests against the real webhook router and the real service.
#   1. builds examples/webhook-recorder (the real sheetsync::webhook::router with a recording Apply),
#      the Sheets emulator, the `sheetsync` binary and examples/apps-script-bed (MariaDB, the
#      emulator and `sheetsync run`, for apps-script/test/service.test.js),
#   2. runs `node --test apps-script/test/` (Node 18+; the tests start the servers themselves).
# Needs node, cargo and mariadbd; on Debian, installs nodejs and mariadb-server when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null || missing+=(nodejs)
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing+=(mariadb-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "node $(node --version) is too old: the tests need Node 18+ (node:test, fetch)" >&2
  exit 1
fi

cargo build -p sheetsync --example webhook-recorder --quiet
# Built here, before any test starts a recorder: a test that compiled it itself could outlive a
# recorder's lifetime on a cold machine.
cargo build -p sheets-emulator --bin sheets-emulator --quiet
cargo build -p sheetsync --bin sheetsync --example apps-script-bed --quiet
target_directory=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
export WEBHOOK_RECORDER="$target_directory/debug/examples/webhook-recorder"
export SHEETS_EMULATOR="$target_directory/debug/sheets-emulator"
export SHEETSYNC_BIN="$target_directory/debug/sheetsync"
export APPS_SCRIPT_BED="$target_directory/debug/examples/apps-script-bed"
# The glob leaves out the harness module, which is not a test file.
node --test apps-script/test/*.test.js
