#!/usr/bin/env bash
# sheetsync's benchmarks (issue 3's targets), separate from the tests.
#
#   ./bench/run.sh [--quick] [NAME...]   build in release mode, run the benchmarks (all by default:
#                                        freshness-sparse freshness-sustained burst-statement
#                                        burst-transactions decode memory memory-transaction webhook),
#                                        append JSON lines to
#                                        target/bench/results.jsonl and print a table
#   ./bench/run.sh --report              write docs/BENCHMARKS.md from target/bench/results.jsonl
#
# Needs what ./tests/run.sh installs (mariadb-server, python3-venv). Makes bench/.venv with the
# decode baseline (python-mysql-replication, pinned in bench/requirements.txt) when missing.
# Exit status: 0 when every target was met, 1 when one was missed or a benchmark failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

report=false
for argument in "$@"; do
    if [[ "$argument" == "--report" ]]; then
        report=true
    fi
done

cargo build --release --quiet -p sheetsync -p sheetsync-bench
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
runner="$target_dir/release/sheetsync-bench"
results="$target_dir/bench/results.jsonl"

if $report; then
    exec "$runner" --report --results "$results" --report-file "$repo/docs/BENCHMARKS.md"
fi

venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
# Quiet and idempotent: a no-op when the pinned versions are installed.
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

export BENCH_PYTHON="$venv/bin/python"
export BENCH_COMMAND="./bench/run.sh${*:+ $*}"
exec "$runner" --results "$results" "$@"
