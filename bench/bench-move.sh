#!/usr/bin/env bash
# Benchmark: `ferry move` against `rclone move`, N small files of a local folder moved into
# region A of the RGW pair, in ONE run (compare within a run, as ratios). What a durable move
# (--state: its source deletes as move-sources jobs of a delete phase, docs/design/guards.md)
# costs beside the in-memory one, per key.
#
#   bash bench/bench-move.sh                    # 2000 x 8 KiB
#   BENCH_N=300 bash bench/bench-move.sh        # quick
#
# Rows, each from its own fresh copy of the folder into its own bucket:
#   ferry          ferry move DIR ra:BUCKET/ (in memory; its defaults)
#   ferry --state  ferry move DIR ra:BUCKET/ --state WORK/move.db (durable, SQLite)
#   rclone         rclone move DIR ra:BUCKET --transfers 32 --checkers 32
# Each row is checked: the bucket holds N objects and the folder no file. Wall, CPU of the
# tool's processes, peak RSS, and the gateways' CPU meanwhile (bench/lib/measure.sh).
# An untimed move runs first (the gateways' first writes); BENCH_ROUNDS=K (default 1) repeats
# the three rows K times, each round starting with the next tool.
# Environment: BENCH_N (2000), BENCH_KB (8), BENCH_ROUNDS (1), FERRY_BIN (default: Release build in
# build-release/), BENCH_DIR (/tmp/ferry-bench), FERRY_TEST_S3_* (use that pair, else
# scripts/rgw-start.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
N=${BENCH_N:-2000}
KB=${BENCH_KB:-8}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=mv$(date +%s)
log() { ferry_log bench-move "$@"; }
die() { log "$*"; exit 1; }

bash scripts/install-deps.sh build rgw bench >/dev/null
ensure_ferry_bin
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/move.XXXXXX")
buckets=(); RGW_STARTED=0
cleanup() {
  set +e
  for b in "${buckets[@]}"; do drop_bucket a "$b"; done
  rm -rf "$WORK"
  [ "$RGW_STARTED" = 1 ] && bash scripts/rgw-stop.sh
}
trap cleanup EXIT
rgw_up
CONF=$WORK/ferry.toml
write_ferry_config "$CONF"
export_ferry_keys
export_rclone_remotes

# the source folder, made once and copied fresh for each row (a move empties it)
mkdir -p "$WORK/master"
for i in $(seq 1 "$N"); do head -c $((KB * 1024)) /dev/urandom > "$WORK/master/f$i"; done

R_GROUP=(); R_TOOL=(); R_WALL=(); R_CPU=(); R_RSS=(); R_SRV=(); R_CHECK=()
row() { # row TOOL CMD...: DIR and BUCKET set by the caller
  local tool=$1 check=ok objects left; shift
  timed "$WORK/$tool.log" "$@" || check="FAIL (exit)"
  objects=$("$FERRY_BIN" --config "$CONF" ls "ra:$BUCKET" 2>/dev/null | wc -l)
  left=$(find "$DIR" -type f | wc -l)
  if [ "$objects" != "$N" ] || [ "$left" != 0 ]; then
    check="FAIL ($objects objects at A, $left files left)"
  fi
  R_GROUP+=("$N x $KB KiB, folder -> A, round $ROUND"); R_TOOL+=("$tool"); R_WALL+=("$T_WALL"); R_CPU+=("$T_CPU")
  R_RSS+=("$((T_RSS / 1024))"); R_SRV+=("$T_SERVERS"); R_CHECK+=("$check")
  log "$tool: ${T_WALL} s wall, ${T_CPU} CPU-s, servers ${T_SERVERS} CPU-s: $check"
}
fresh() { # fresh NAME: DIR a copy of the folder, BUCKET a new bucket at A
  DIR=$WORK/$1; rm -rf "$DIR"; cp -r "$WORK/master" "$DIR"
  BUCKET=$ID-$1; make_bucket a "$BUCKET"; buckets+=("$BUCKET")
}
run_tool() { # run_tool ferry|durable|rclone ROUND
  fresh "$1-$2"
  case $1 in
    ferry) row ferry "$FERRY_BIN" --config "$CONF" move "$DIR" "ra:$BUCKET/" --no-progress ;;
    durable) row "ferry --state" "$FERRY_BIN" --config "$CONF" move "$DIR" "ra:$BUCKET/" \
               --no-progress --state "$WORK/move-$2.db" ;;
    rclone) row rclone env -u AWS_CA_BUNDLE rclone move "$DIR" "ra:$BUCKET" --transfers 32 \
              --checkers 32 ;;
  esac
}
# an untimed move first: the gateways' first writes of a run (their caches, the pools' first
# objects) are paid by it, not by the first row
fresh warm
"$FERRY_BIN" --config "$CONF" move "$DIR" "ra:$BUCKET/" --no-progress > /dev/null 2>&1
order=(ferry durable rclone)
for ((round = 1; round <= ${BENCH_ROUNDS:-1}; round++)); do
  ROUND=$round
  for t in "${order[@]}"; do run_tool "$t" "$round"; done
  order=("${order[@]:1}" "${order[0]}")  # the next round starts with the next tool
done

echo "### ferry move against rclone move ($(date +%F), $(nproc) cores$(server_setup))"
echo
echo "| objects | tool | wall s | CPU s | peak RSS MiB | gateways' CPU s | wall / ferry | CPU / ferry | check |"
echo "|---|---|---|---|---|---|---|---|---|"
report_rows
[ "$FAILURES" = 0 ] || exit 1
