#!/usr/bin/env bash
# Benchmark: the cost of durability. One run on the local RGW pair (region A -> region B):
#   20,000 x 1 KiB objects copied by `ferry sync` three ways, each into its own bucket:
#     memory    --no-state (plain in-memory run)
#     sqlite    --state FILE (the embedded store; what a plain `ferry sync` uses)
#     postgres  --state postgres://... (the multi-node store; one process here)
# and prints objects/s, state-store transactions per object (goal: <= 0.1) and throughput
# relative to the in-memory run (goal: the durable path costs under 10%).
#
#   bash bench/bench-durable.sh                 # full size
#   BENCH_N=2000 bash bench/bench-durable.sh    # quick check
# Environment: BENCH_N (20000), FERRY_BIN (default: Release build in build-release/),
#   BENCH_DIR (/tmp/ferry-bench), FERRY_TEST_S3_* / FERRY_TEST_PG_URL (use those servers).
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
N=${BENCH_N:-20000}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fd$(date +%s)
log() { ferry_log bench-durable "$@"; }

bash scripts/install-deps.sh build rgw pg bench
if [ -z "${FERRY_BIN:-}" ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j2 --target ferry >&2
  FERRY_BIN=$FERRY_ROOT/build-release/src/cli/ferry
fi
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/durable.XXXXXX")
buckets_a=(); buckets_b=(); RGW_STARTED=0; PG_STARTED=0
cleanup() {
  set +e
  for b in "${buckets_b[@]}"; do drop_bucket b "$b"; done
  for b in "${buckets_a[@]}"; do drop_bucket a "$b"; done
  [ -n "${SCHEMA:-}" ] && psql "$PG_BASE" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
  rm -rf "$WORK"
  [ "$RGW_STARTED" = 1 ] && bash scripts/rgw-stop.sh
  [ "$PG_STARTED" = 1 ] && bash scripts/pg-stop.sh
}
trap cleanup EXIT

rgw_up
if [ -n "${FERRY_TEST_PG_URL:-}" ]; then
  PG_BASE=$FERRY_TEST_PG_URL
else
  load_kv <(bash scripts/pg-start.sh)
  PG_BASE=$PG_URL
fi
SCHEMA=ferry_bench_$$
psql "$PG_BASE" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
ferry() { "$FERRY_BIN" --config "$CONFIG" "$@"; }

log "generating and uploading $N x 1 KiB (not timed)"
python3 - "$WORK/src" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "p%03d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "o%06d" % i), "wb") as f:
        f.write(os.urandom(1024))
PY
SRC=$ID-src; make_bucket a "$SRC"; buckets_a+=("$SRC")
ferry cp "$WORK/src" "ra:$SRC" --no-progress >/dev/null 2>&1
rm -rf "$WORK/src"

rows=()
base_rate=""
for mode in memory sqlite postgres; do
  dst=$ID-$mode; make_bucket b "$dst"; buckets_b+=("$dst")
  args=(--no-state)
  case $mode in
    sqlite) args=(--state "$WORK/state.db") ;;
    postgres) args=(--state "$PG_BASE?options=-csearch_path%3D$SCHEMA") ;;
  esac
  log "$mode: ferry sync ra:$SRC rb:$dst ${args[*]}"
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
    "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$dst" "${args[@]}" --json --no-progress \
    > "$WORK/out.json" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r wall user sys rss < "$WORK/time"
  count=$(count_objects b "$dst")
  [ "$count" = "$N" ] || { log "FAIL: $count of $N objects in $dst"; exit 1; }
  tx=$(python3 -c "import json; print(json.load(open('$WORK/out.json')).get('state_transactions', 0))")
  rate=$(awk -v n="$N" -v w="$wall" 'BEGIN{printf "%.0f", n/w}')
  [ -n "$base_rate" ] || base_rate=$rate
  rows+=("| $mode | $wall | $(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}') | $((rss / 1024)) | $rate | $tx | $(awk -v t="$tx" -v n="$N" 'BEGIN{printf "%.4f", t/n}') | $(awk -v r="$rate" -v b="$base_rate" 'BEGIN{printf "%.2f", r/b}') |")
done

echo "RGW A -> B, $N x 1 KiB, $(nproc) cores$(server_setup); $("$FERRY_BIN" --version); $(date +%F)"
echo
echo "| state store | wall s | CPU s | peak RSS MiB | objects/s | transactions | tx/object | throughput vs memory |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
