#!/usr/bin/env bash
# Benchmark: a listing-bound run. A no-change re-sync of many small objects from region A to
# region B on one RGW pair costs only listings and comparisons, so it measures how fast each
# tool lists. All tools run in ONE run on the same buckets (compare within a run, as ratios).
#
#   bash bench/bench-list.sh                       # 50,000 objects in 50 folders
#   BENCH_LIST_N=3000 bash bench/bench-list.sh     # quick check of the harness
#
# Data (not timed): BENCH_LIST_N x 1 KiB objects, keys "dir-NN/obj-NNNNNNN" spread over
# BENCH_LIST_DIRS folders (rclone lists folders in parallel; ferry splits key ranges), uploaded
# to a bucket in region A with rclone, then copied to a bucket in region B with ferry. Every
# tool then re-syncs A -> B and must find nothing to do:
#   ferry            ferry sync ra:SRC rb:DST  (its defaults: durable, 4 listers, 10,000-key chunks)
#   ferry-listers-1  the same with --listers 1 (one listing job at a time: the sequential baseline)
#   ferry-no-state   ferry sync --no-state      (in memory: one merged listing stream)
#   rclone           rclone sync ra:SRC rb:DST --checksum --checkers 32 (ETags, no HEAD per object)
#   aws              aws s3 sync s3://SRC DIR, then aws s3 sync DIR s3://DST, both with nothing to
#                    do (DIR filled untimed first: aws cannot sync between two endpoints); summed
# Each round runs every tool once per round trip time in BENCH_LIST_RTTS (ms, default "0 20"):
# for a non-zero one, the tools reach both gateways through bench/lib/delay_proxy.py, which
# delays every byte by half of it each way (listing across regions, where latency, not the
# server's CPU, bounds a sequential listing).
# Each command is timed with /usr/bin/time (wall, user+sys CPU, peak RSS). A tool that copies or
# deletes anything, fails, or leaves B with another object count makes the row say FAIL.
#
# Environment: BENCH_LIST_N (50000), BENCH_LIST_DIRS (50), BENCH_LIST_RTTS ("0 20"), BENCH_TOOLS (default
#   "ferry ferry-listers-1 ferry-no-state rclone aws"), BENCH_DIR (/tmp/ferry-bench), FERRY_BIN
#   (default: build Release into build-release/), BENCH_KEEP_RGW=1, FERRY_TEST_S3_* (use that pair).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

N=${BENCH_LIST_N:-50000}
DIRS=${BENCH_LIST_DIRS:-50}
TOOLS=${BENCH_TOOLS:-ferry ferry-listers-1 ferry-no-state rclone aws}
RTTS=${BENCH_LIST_RTTS:-0 20}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fl$(date +%s)

log() { ferry_log bench-list "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
if [ -z "${FERRY_BIN:-}" ]; then
  log "building ferry (Release, build-release/)"
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j2 --target ferry >&2
  FERRY_BIN=$FERRY_ROOT/build-release/src/cli/ferry
fi

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/list.XXXXXX")
SRC=$ID-src
DST=$ID-dst
RGW_STARTED=0
made_a=0 made_b=0
PROXIES=()
cleanup() {
  local rc=$?
  set +e
  if [ -n "${DIRECT_A:-}" ]; then S3_ENDPOINT=$DIRECT_A S3_ENDPOINT_B=$DIRECT_B; fi
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    # emptied by ferry first (DeleteObjects, 1,000 keys a request): `aws s3 rb --force`
    # deletes one object per request, which takes minutes for this many
    mkdir -p "$WORK/empty"
    if [ -f "${CONFIG:-}" ]; then
      write_ferry_config "$CONFIG"  # the direct endpoints again
      [ "$made_b" = 0 ] || "$FERRY_BIN" --config "$CONFIG" sync "$WORK/empty" "rb:$DST" --delete \
        --no-state --no-progress >/dev/null 2>&1
      [ "$made_a" = 0 ] || "$FERRY_BIN" --config "$CONFIG" sync "$WORK/empty" "ra:$SRC" --delete \
        --no-state --no-progress >/dev/null 2>&1
    fi
    [ "$made_b" = 0 ] || drop_bucket b "$DST"
    [ "$made_a" = 0 ] || drop_bucket a "$SRC"
  fi
  for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then bash scripts/rgw-stop.sh; fi
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rgw_up
export_rclone_remotes
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
RCLONE=(env -u AWS_CA_BUNDLE rclone)
aws_argv a; AWS_A=("${AWS_ARGV[@]}")
aws_argv b; AWS_B=("${AWS_ARGV[@]}")
has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }

# ------------------------------------------------------------------ data (not timed)
log "generating $N x 1 KiB in $DIRS folders"
[ $((N % DIRS)) = 0 ] || die "BENCH_LIST_N must be a multiple of BENCH_LIST_DIRS"
for d in $(seq -w 0 $((DIRS - 1))); do
  mkdir -p "$WORK/gen/dir-$d"
  head -c $((N / DIRS * 1024)) /dev/urandom | split -b 1024 -a 7 -d - "$WORK/gen/dir-$d/obj-"
done
make_bucket a "$SRC"; made_a=1
make_bucket b "$DST"; made_b=1
log "uploading to ra:$SRC (rclone)"
"${RCLONE[@]}" copy "$WORK/gen" "ra:$SRC" --transfers 64 --checkers 32 >&2
rm -rf "$WORK/gen"
log "copying to rb:$DST (ferry)"
"$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$DST" --no-progress --no-state >&2
[ "$(count_objects b "$DST")" = "$N" ] || die "rb:$DST does not hold $N objects"
if has_tool aws; then
  log "filling the aws folder (aws s3 sync, not timed)"
  "${AWS_A[@]}" s3 sync --only-show-errors "s3://$SRC" "$WORK/aws" >&2
fi

# ------------------------------------------------------------------ measuring
R_GROUP=() R_TOOL=() R_WALL=() R_CPU=() R_RSS=() R_CHECK=()
record() { # TOOL WALL CPU RSS_KIB CHECK
  R_GROUP+=("$RTT") R_TOOL+=("$1") R_WALL+=("$2") R_CPU+=("$3") R_RSS+=("$(( $4 / 1024 ))") R_CHECK+=("$5")
  log "rtt $RTT ms, $1: wall $2 s, CPU $3 s, peak RSS $(( $4 / 1024 )) MiB, check: $5"
}
# ferry_check LOG: ok when the JSON summary says nothing was copied or deleted
ferry_check() {
  python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])
bad = j["objects_copied"] or j["objects_deleted"] or j["objects_failed"] or not j["ok"]
print("FAIL (did work)" if bad else "ok")
PY
}
run_ferry() { # NAME FLAGS...
  local name=$1 rc=0 check
  shift
  log "rtt $RTT ms, $name: ra:$SRC -> rb:$DST"
  timed "$WORK/$name.log" "$FERRY_BIN" --config "$CONFIG" sync "ra:$SRC" "rb:$DST" --no-progress \
    --json "$@" || rc=$?
  if [ "$rc" = 0 ]; then check=$(ferry_check "$WORK/$name.log"); else check="FAIL (exit $rc)"; fi
  record "$name" "$T_WALL" "$T_CPU" "$T_RSS" "$check"
}
# use_endpoints A B: point ferry's config, rclone and aws at these endpoints
use_endpoints() {
  S3_ENDPOINT=$1 S3_ENDPOINT_B=$2
  write_ferry_config "$CONFIG"
  export_rclone_remotes
  aws_argv a; AWS_A=("${AWS_ARGV[@]}")
  aws_argv b; AWS_B=("${AWS_ARGV[@]}")
}
DIRECT_A=$S3_ENDPOINT DIRECT_B=$S3_ENDPOINT_B
# start_proxy TARGET_URL ONE_WAY_MS: starts a delay proxy; sets PROXY_URL
start_proxy() {
  local target=${1#http://} port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 "$FERRY_ROOT/bench/lib/delay_proxy.py" "$port" "$target" "$2" > "$WORK/proxy-$port.out" &
  PROXIES+=($!)
  for _ in $(seq 50); do grep -q ready "$WORK/proxy-$port.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$WORK/proxy-$port.out" || die "delay proxy to $target did not start"
  PROXY_URL=http://127.0.0.1:$port
}

for RTT in $RTTS; do
  if [ "$RTT" = 0 ]; then
    use_endpoints "$DIRECT_A" "$DIRECT_B"
  else
    half=$(awk -v r="$RTT" 'BEGIN { print r / 2 }')
    start_proxy "$DIRECT_A" "$half"; pa=$PROXY_URL
    start_proxy "$DIRECT_B" "$half"; pb=$PROXY_URL
    use_endpoints "$pa" "$pb"
  fi
  if has_tool ferry; then run_ferry ferry; fi
  if has_tool ferry-listers-1; then run_ferry ferry-listers-1 --listers 1; fi
  if has_tool ferry-no-state; then run_ferry ferry-no-state --no-state; fi
  if has_tool rclone; then
    rc=0
    log "rtt $RTT ms, rclone: ra:$SRC -> rb:$DST"
    timed "$WORK/rclone.log" "${RCLONE[@]}" sync "ra:$SRC" "rb:$DST" --checksum --checkers 32 \
      --transfers 32 -v || rc=$?
    check=ok
    if [ "$rc" != 0 ]; then check="FAIL (exit $rc)"
    elif grep -qE "INFO  : .*: (Copied|Deleted)" "$WORK/rclone.log"; then check="FAIL (did work)"; fi
    record rclone "$T_WALL" "$T_CPU" "$T_RSS" "$check"
  fi
  if has_tool aws; then
    rc=0
    log "rtt $RTT ms, aws: s3://$SRC -> folder -> s3://$DST"
    timed "$WORK/aws1.log" "${AWS_A[@]}" s3 sync "s3://$SRC" "$WORK/aws" || rc=$?
    w1=$T_WALL c1=$T_CPU r1=$T_RSS
    if [ "$rc" = 0 ]; then timed "$WORK/aws2.log" "${AWS_B[@]}" s3 sync "$WORK/aws" "s3://$DST" || rc=$?; fi
    check=ok
    if [ "$rc" != 0 ]; then check="FAIL (exit $rc)"
    elif grep -qE "^(download|upload|copy|delete):" "$WORK/aws1.log" "$WORK/aws2.log"; then check="FAIL (did work)"; fi
    record aws "$(awk -v a="$w1" -v b="$T_WALL" 'BEGIN { printf "%.2f", a + b }')" \
      "$(awk -v a="$c1" -v b="$T_CPU" 'BEGIN { printf "%.2f", a + b }')" "$(( r1 > T_RSS ? r1 : T_RSS ))" "$check"
  fi
done
use_endpoints "$DIRECT_A" "$DIRECT_B"
[ "$(count_objects b "$DST")" = "$N" ] || die "rb:$DST no longer holds $N objects"

# ------------------------------------------------------------------ report
echo
echo "No-change re-sync of $N objects in $DIRS folders, RGW A -> B, $(nproc) cores$(server_setup); $(date -u +%F)"
echo
echo "| RTT ms | tool | wall s | CPU s | peak RSS MiB | wall / ferry | CPU / ferry | check |"
echo "|---:|---|---:|---:|---:|---:|---:|---|"
report_rows
failures=$FAILURES
echo
[ "$failures" = 0 ] || die "$failures run(s) failed or did work"
