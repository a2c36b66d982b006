#!/usr/bin/env bash
# Benchmark: what the intake's durable acknowledgement costs. `ferry serve` answers 200 to a
# notification (or deletes the SQS message) once EventRecorder::Record returned, and Record
# returns once the commit of its jobs is on disk: on SQLite (WAL) that commit runs with
# synchronous=FULL, a sync of the log per call, while the worker's many small commits keep
# synchronous=NORMAL (serve/record.h, state/sql_session.h TransactDurable).
# Measures, through the real EventRecorder on an SQLite store in BENCH_DIR (so: on that disk):
#   events recorded per second and the mean time per call, 1 and 10 events a call, with the
#   recording commit synced (FULL, what ferry does) and not (NORMAL, what it did);
#   a worker's small commits (lease renewals) per second, NORMAL and FULL: what FULL for the
#   whole store would cost every worker transaction.
# Prints two markdown tables on stdout (the figures in docs/design/serve.md come from here).
#
#   bash bench/bench-record.sh                    # 2,000 calls per case
#   BENCH_CALLS=200 bash bench/bench-record.sh    # quick check
# Environment: BENCH_CALLS (2000), BENCH_DIR (/tmp/ferry-bench: the disk measured),
#   BENCH_BIN (the test program serve_record_durability_test; default: built Release into
#   build-release/).
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
log() { ferry_log bench-record "$@"; }

BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
export BENCH_CALLS=${BENCH_CALLS:-2000}
if [ -z "${BENCH_BIN:-}" ]; then
  bash scripts/install-deps.sh build
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j2 --target serve_record_durability_test >&2
  BENCH_BIN=$FERRY_ROOT/build-release/src/serve/serve_record_durability_test
fi
mkdir -p "$BENCH_DIR"
export BENCH_DIR
fs=$(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 " on " $1 }')
log "recording events into SQLite under $BENCH_DIR ($fs), $BENCH_CALLS calls per case"
echo "Disk: $BENCH_DIR ($fs); $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
"$BENCH_BIN" --gtest_also_run_disabled_tests --gtest_filter='RecordBench.*' 2>&1 |
  grep -E '^\||^$'
