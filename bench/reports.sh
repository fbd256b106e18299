#!/usr/bin/env bash
# Both published reports from fresh runs, in one command (about 50 minutes on 2 cores):
#   1. every benchmark (`./bench/run.sh`), then docs/BENCHMARKS.md from those results;
#   2. the long convergence profile (`./tests/converge-long.sh`, 30 minutes of both sides under
#      faults), which writes docs/RELIABILITY.md.
# Each report is written even when a figure misses its target or the run fails; the exit status
# is non-zero if either step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
./bench/run.sh || status=1
./bench/run.sh --report || status=1
./tests/converge-long.sh || status=1
exit "$status"
