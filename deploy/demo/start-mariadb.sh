#!/usr/bin/env bash
# A throwaway MariaDB for the demo: Debian's mariadbd with the settings of mysql-conf/mariadb.cnf
# (ROW binlog, FULL image and metadata), in DIR, on 127.0.0.1:PORT, as a plain background process.
#
# Usage: start-mariadb.sh PORT DIR      (prints "MARIADB_PID=…" on stdout when ready)
# Root is root@localhost with an empty password, reachable only from this machine.
set -euo pipefail
PORT="$1"
DIR="$(mkdir -p "$2" && cd "$2" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
CONF="$HERE/../../mysql-conf/mariadb.cnf"
command -v mariadbd >/dev/null || { echo "mariadbd not found: apt-get install -y mariadb-server" >&2; exit 1; }
if [ ! -d "$DIR/data/mysql" ]; then
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$DIR/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$DIR/install.log" 2>&1 \
    || { cat "$DIR/install.log" >&2; exit 1; }
fi
# The project's my.cnf fragment first, then what only a throwaway instance needs.
nohup mariadbd --defaults-file="$CONF" --user="$(id -un)" \
  --datadir="$DIR/data" --socket="$DIR/mysqld.sock" --pid-file="$DIR/mariadbd.pid" \
  --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve \
  --log-error="$DIR/mariadbd.err" --log-bin="$DIR/data/binlog" \
  --innodb-buffer-pool-size=128M >"$DIR/stdout.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  if mariadb --no-defaults -h127.0.0.1 -P"$PORT" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    echo "MARIADB_PID=$PID"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "mariadbd exited; its log:" >&2; tail -30 "$DIR/mariadbd.err" >&2; exit 1
  fi
  sleep 0.1
done
echo "timed out waiting for mariadbd; see $DIR/mariadbd.err" >&2
exit 1
