#!/usr/bin/env bash
# Run Google's own Python clients (google-auth, google-api-python-client, gspread) against the
# Sheets emulator: creates the venv when missing, builds and starts the emulator on a free port,
# runs pytest on this directory, and always stops the emulator.
#
#   tests/real-clients/run.sh [pytest arguments...]
#
# Environment: EMULATOR_LIFETIME_SECS (default 600) bounds how long the emulator can live.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
# Quiet and idempotent: a no-op when the pinned versions are installed.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

cargo build --quiet --manifest-path "$repo/Cargo.toml" -p sheets-emulator
target_dir="$(cargo metadata --manifest-path "$repo/Cargo.toml" --format-version 1 --no-deps \
    | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
emulator="$target_dir/debug/sheets-emulator"

work="$(mktemp -d)"
emulator_pid=""
cleanup() {
    if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$emulator" --listen 127.0.0.1:0 --key-out "$work/service-account.json" \
    --exit-after-secs "${EMULATOR_LIFETIME_SECS:-600}" >"$work/stdout" 2>"$work/stderr" &
emulator_pid=$!

# Wait (bounded, 30 s) for the two lines the emulator prints once it is listening.
for _ in $(seq 1 600); do
    if grep -q '^service-account key file: ' "$work/stdout" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
        echo "sheets-emulator exited early:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.05
done
SHEETS_EMULATOR_URL="$(sed -n 's/^sheets-emulator listening on //p' "$work/stdout")"
SHEETS_EMULATOR_KEY_FILE="$(sed -n 's/^service-account key file: //p' "$work/stdout")"
if [[ -z "$SHEETS_EMULATOR_URL" || -z "$SHEETS_EMULATOR_KEY_FILE" ]]; then
    echo "sheets-emulator did not print its URL and key file:" >&2
    cat "$work/stdout" "$work/stderr" >&2
    exit 1
fi
export SHEETS_EMULATOR_URL SHEETS_EMULATOR_KEY_FILE
echo "emulator at $SHEETS_EMULATOR_URL, key file $SHEETS_EMULATOR_KEY_FILE"

cd "$here"
"$venv/bin/python" -m pytest -p no:cacheprovider "$here" "$@"
