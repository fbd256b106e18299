#!/usr/bin/env bash
# The sheetsync demo: one command, nothing to configure.
#
#   ./deploy/demo.sh            start everything, print the URLs, run until Ctrl-C
#   ./deploy/demo.sh --check    the same, headless: prove a database update reaches the grid
#                               page and a grid edit reaches MySQL, then stop (CI runs this)
#
# It starts, all on 127.0.0.1 and in a temporary directory removed on exit:
#   - a throwaway MariaDB (deploy/demo/start-mariadb.sh, the settings of mysql-conf/mariadb.cnf)
#     with a sample `shop.orders` table, sheetsync's schema (mysql-conf/schema.sql) and a
#     `sheetsync` user with exactly the grants of mysql-conf/grants.sql;
#   - the Sheets API emulator with a sample spreadsheet `demo`, serving a live, editable grid
#     page whose edits are signed and posted to sheetsync's webhook as the Apps Script would;
#   - `sheetsync run` with a generated config.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
need() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! command -v "$1" >/dev/null; then
    say "installing $2 (needed by the demo)"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
  fi
}
need mariadbd mariadb-server
need curl curl
[ "$CHECK" = 1 ] && need chromium chromium

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d -t sheetsync-demo-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # mariadbd is not this shell's child: wait for it by polling.
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK" || true; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building sheetsync and the Sheets emulator (first time: a few minutes)"
cargo build -q -p sheetsync --bin sheetsync && cargo build -q -p sheets-emulator --bin sheets-emulator
BIN="$ROOT/target/debug"

DB_PORT=$(free_port); EMULATOR_PORT=$(free_port); WEBHOOK_PORT=$(free_port); ADMIN_PORT=$(free_port)
SECRET="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$SECRET" >"$WORK/webhook-secret"
PASSWORD="demo-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"

say "starting MariaDB on 127.0.0.1:$DB_PORT"
eval "$(deploy/demo/start-mariadb.sh "$DB_PORT" "$WORK/mariadb")"
PIDS+=("$MARIADB_PID")
SQL=(mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot)
"${SQL[@]}" <<SQL
CREATE DATABASE shop;
CREATE TABLE shop.orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  customer VARCHAR(60) NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
  ordered_on DATE NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);
INSERT INTO shop.orders (customer, total, status, ordered_on) VALUES
  ('Ada Lovelace', 120.50, 'paid', '2026-11-02'), ('Grace Hopper', 75.00, 'new', '2026-11-03'),
  ('Alan Turing', 310.25, 'shipped', '2026-11-05'), ('Katherine Johnson', 42.10, 'new', '2026-11-08'),
  ('Edsger Dijkstra', 18.99, 'paid', '2026-11-12'), ('Barbara Liskov', 260.00, 'new', '2026-11-15');
SQL
"${SQL[@]}" <mysql-conf/schema.sql
sed "s/'change-me'/'$PASSWORD'/" mysql-conf/grants.sql | "${SQL[@]}"

say "starting the Sheets emulator on 127.0.0.1:$EMULATOR_PORT"
"$BIN/sheets-emulator" --listen "127.0.0.1:$EMULATOR_PORT" --key-out "$WORK/service-account.json" \
  --webhook-url "http://127.0.0.1:$WEBHOOK_PORT/webhook" --webhook-secret-file "$WORK/webhook-secret" \
  >"$WORK/emulator.log" 2>&1 &
PIDS+=("$!")
EMULATOR="http://127.0.0.1:$EMULATOR_PORT"
for _ in $(seq 1 100); do [ -s "$WORK/service-account.json" ] && curl -sf "$EMULATOR/_emulator/summary" >/dev/null && break; sleep 0.1; done
curl -sf "$EMULATOR/_emulator/person/spreadsheets" -H 'content-type: application/json' \
  -d '{"spreadsheet_id":"demo","title":"sheetsync demo","sheets":[{"title":"Orders","rows":[]}]}' >/dev/null

cat >"$WORK/sheetsync.toml" <<TOML
[mysql]
url = "mysql://sheetsync:$PASSWORD@127.0.0.1:$DB_PORT"
server_id = 7001
[google]
credentials_file = "$WORK/service-account.json"
api_base = "$EMULATOR"
[webhook]
listen = "127.0.0.1:$WEBHOOK_PORT"
secret_file = "$WORK/webhook-secret"
[metrics]
listen = "127.0.0.1:$ADMIN_PORT"
[[mapping]]
name = "orders"
table = "shop.orders"
spreadsheet_id = "demo"
sheet = "Orders"
TOML

say "starting sheetsync"
"$BIN/sheetsync" run --config "$WORK/sheetsync.toml" >"$WORK/sheetsync.log" 2>&1 &
SHEETSYNC_PID=$!
PIDS+=("$SHEETSYNC_PID")
ready=0
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null; then ready=1; break; fi
  kill -0 "$SHEETSYNC_PID" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != 1 ]; then say "sheetsync did not become ready; its log:"; tail -40 "$WORK/sheetsync.log" >&2; exit 1; fi

GRID="$EMULATOR/_emulator/grid/demo"
if [ "$CHECK" = 0 ]; then
  cat <<TEXT

  sheetsync is running.

  The spreadsheet (live, editable; edits go through the signed webhook like the Apps Script's):
      $GRID
  The status page (lag, flushes, quota, conflicts):
      http://127.0.0.1:$ADMIN_PORT/
  Change a row and watch the cell change:
      mariadb --no-defaults -h127.0.0.1 -P$DB_PORT -uroot shop -e "UPDATE orders SET status = 'shipped' WHERE id = 2"
  Logs: $WORK/sheetsync.log

  Ctrl-C stops everything.
TEXT
  wait "$SHEETSYNC_PID"
  exit $?
fi

# --check: both directions, through the real pages, headless.
grid_has() { curl -sf "$GRID/data" | grep -q "$1"; }
wait_until() { local what="$1"; shift; for _ in $(seq 1 200); do "$@" && return 0; sleep 0.1; done; say "FAILED: $what"; tail -30 "$WORK/sheetsync.log" >&2; exit 1; }
dom() { chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=4000 --dump-dom "$1" 2>/dev/null; }

wait_until "the initial load reaches the grid" grid_has "Barbara Liskov"
"${SQL[@]}" shop -e "UPDATE orders SET customer = 'Grace B. Hopper' WHERE id = 2"
wait_until "a database update reaches the grid data" grid_has "Grace B. Hopper"
dom_shows_update() { dom "$GRID" | grep -q "Grace B. Hopper"; }
wait_until "a database update shows on the grid page (Chromium)" dom_shows_update
say "ok: a MySQL update appeared on the grid page"

dom "$GRID?sheet=Orders&edit=B2&value=Ada%20King" >/dev/null
mysql_has_edit() { [ "$("${SQL[@]}" -N shop -e 'SELECT customer FROM orders WHERE id = 1')" = "Ada King" ]; }
wait_until "a grid edit reaches MySQL" mysql_has_edit
say "ok: an edit typed in the grid page appeared in MySQL"
kill -TERM "$SHEETSYNC_PID"
wait "$SHEETSYNC_PID" || { say "FAILED: sheetsync did not exit 0 on SIGTERM"; exit 1; }
say "ok: sheetsync stopped cleanly on SIGTERM"
