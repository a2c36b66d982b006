#!/usr/bin/env bash
# Benchmark: `ferry verify` against `rclone check` on the same pairs of buckets (region A ->
# region B on one RGW pair), in ONE run (compare within a run, as ratios).
#
#   bash bench/bench-verify.sh                                   # 5000 x 16 KiB, 2 x 512 MiB
#   BENCH_SMALL_N=500 BENCH_BIG_MB=64 bash bench/bench-verify.sh # small, quick
#
# Pairs (made once, not timed):
#   small  BENCH_SMALL_N x 16 KiB uploaded to A by rclone, copied A -> B by rclone: plain MD5
#          ETags on both sides (both tools decide from the listings).
#   big    BENCH_BIG_N x BENCH_BIG_MB MiB uploaded to A by rclone with 16 MiB chunks, copied
#          A -> B by rclone with 8 MiB chunks: two multipart layouts of the same bytes. ferry
#          reads one side and reproduces the other's ETag; rclone compares the MD5 it recorded
#          in x-amz-meta-md5chksum (a HEAD per object).
#   big-download  the big pair again, both tools reading both sides (--download).
# Rows: ferry = ferry verify SRC DST; rclone = rclone check SRC DST --combined FILE
# (--checkers 32, its usual setting for many objects). Each timed with /usr/bin/time (wall s,
# user + sys CPU s, peak RSS). A row is ok when the tool exits 0 and reports every object
# identical ("=" lines). Requests: what RGW's usage log counted for the pair's two buckets
# during the run (bench/lib/usage.sh; both tools, "n/a" without the usage log), and ferry's own
# count from its --metrics-file (ferry's requests column). Rows come in pairs on the same
# buckets, ferry first; the ratio columns are each row's / ferry's. The small pair also has
# a row of ferry listing each side in up to 4 key ranges (--list-ranges 4), to show what the key
# ranges bring.
#
# Environment: BENCH_SMALL_N (5000), BENCH_BIG_N (2), BENCH_BIG_MB (512), BENCH_WORKLOADS
# ("small big big-download"), BENCH_DIR (/tmp/ferry-bench), FERRY_BIN (default: Release build in
# build-release/), FERRY_TEST_S3_* (use that running pair; else scripts/rgw-start.sh starts one).
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"
# shellcheck source=bench/lib/usage.sh
source "$FERRY_ROOT/bench/lib/usage.sh"

SMALL_N=${BENCH_SMALL_N:-5000}
SMALL_KB=16
BIG_N=${BENCH_BIG_N:-2}
BIG_MB=${BENCH_BIG_MB:-512}
WORKLOADS=${BENCH_WORKLOADS:-small big big-download}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fv$(date +%s)

log() { ferry_log bench-verify "$@"; }
die() { log "ERROR: $*"; exit 1; }
has_workload() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/verify.XXXXXX")
buckets_a=() buckets_b=()
RGW_STARTED=0
cleanup() {
  local rc=$?
  set +e
  if [ -n "${S3_ENDPOINT:-}" ]; then
    log "deleting the bench buckets"
    for b in "${buckets_b[@]}"; do drop_bucket b "$b"; done
    for b in "${buckets_a[@]}"; do drop_bucket a "$b"; done
  fi
  [ "$rc" = 0 ] && rm -rf "$WORK" || log "logs kept in $WORK"
  if [ "$RGW_STARTED" = 1 ] && [ "${BENCH_KEEP_RGW:-0}" != 1 ]; then bash scripts/rgw-stop.sh; fi
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

# ------------------------------------------------------------------ the pairs (not timed)
SRC_SMALL=$ID-small-a DST_SMALL=$ID-small-b SRC_BIG=$ID-big-a DST_BIG=$ID-big-b
if has_workload small; then
  log "generating $SMALL_N x $SMALL_KB KiB"
  mkdir -p "$WORK/gen-small"
  head -c $((SMALL_N * SMALL_KB * 1024)) /dev/urandom \
    | split -b $((SMALL_KB * 1024)) -a 6 -d - "$WORK/gen-small/obj-"
  make_bucket a "$SRC_SMALL"; buckets_a+=("$SRC_SMALL")
  make_bucket b "$DST_SMALL"; buckets_b+=("$DST_SMALL")
  "${RCLONE[@]}" copy "$WORK/gen-small" "ra:$SRC_SMALL" --transfers 32 --checkers 32 >&2
  "${RCLONE[@]}" copy "ra:$SRC_SMALL" "rb:$DST_SMALL" --transfers 32 --checkers 32 >&2
  rm -rf "$WORK/gen-small"
fi
if has_workload big || has_workload big-download; then
  log "generating $BIG_N x $BIG_MB MiB"
  mkdir -p "$WORK/gen-big"
  for i in $(seq 1 "$BIG_N"); do head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > "$WORK/gen-big/big-$i.bin"; done
  make_bucket a "$SRC_BIG"; buckets_a+=("$SRC_BIG")
  make_bucket b "$DST_BIG"; buckets_b+=("$DST_BIG")
  "${RCLONE[@]}" copy "$WORK/gen-big" "ra:$SRC_BIG" --transfers 2 --s3-upload-concurrency 8 \
    --s3-chunk-size 16M --s3-upload-cutoff 16M >&2
  "${RCLONE[@]}" copy "ra:$SRC_BIG" "rb:$DST_BIG" --transfers 2 --s3-upload-concurrency 8 \
    --s3-chunk-size 8M --s3-upload-cutoff 8M >&2
  rm -rf "$WORK/gen-big"
fi

# ------------------------------------------------------------------ measuring
R_GROUP=() R_TOOL=() R_WALL=() R_CPU=() R_RSS=() R_SRV=() R_CHECK=() R_REQ=() R_OPS=()

# ops_during BEFORE AFTER: RGW's count of requests between two usage snapshots, or n/a
ops_during() {
  if [ -z "$1" ] || [ -z "$2" ]; then echo n/a; else echo $(($2 - $1)); fi
}

# record GROUP TOOL REPORT EXPECTED RC REQUESTS OPS
record() {
  local check=ok same
  same=$(grep -c '^= ' "$3" || true)
  if [ "$5" != 0 ]; then check="FAIL (exit $5)"
  elif [ "$same" != "$4" ]; then check="FAIL ($same of $4 identical)"; fi
  R_GROUP+=("$1") R_TOOL+=("$2") R_WALL+=("$T_WALL") R_CPU+=("$T_CPU") R_RSS+=("$((T_RSS / 1024))")
  R_SRV+=("$T_SERVERS") R_CHECK+=("$check") R_REQ+=("$6") R_OPS+=("$7")
  log "$1 / $2: wall $T_WALL s, CPU $T_CPU s, peak RSS $((T_RSS / 1024)) MiB, requests $7 (RGW) $6 (ferry's count), check: $check"
}
# requests in a ferry metrics file: the sum of ferry_s3_requests_total
requests_of() {
  awk '/^ferry_s3_requests_total/ { n += $NF } END { printf "%d", n }' "$1" 2>/dev/null || echo n/a
}

# run_ferry GROUP TOOL SRC DST EXPECTED ARGS...: one timed ferry verify, recorded
run_ferry() {
  local g=$1 tool=$2 src=$3 dst=$4 n=$5 rc before after
  shift 5
  sleep 2  # the usage log is flushed every second
  before=$(usage_snapshot "a:$src" "b:$dst")
  rc=0
  timed "$WORK/$g-$tool.log" "$FERRY_BIN" --config "$CONFIG" --metrics-file "$WORK/$g-$tool.prom" \
    verify "ra:$src" "rb:$dst" --combined "$WORK/$g-$tool.txt" "$@" || rc=$?
  sleep 2
  after=$(usage_snapshot "a:$src" "b:$dst")
  record "$g" "$tool" "$WORK/$g-$tool.txt" "$n" "$rc" "$(requests_of "$WORK/$g-$tool.prom")" \
    "$(ops_during "$before" "$after")"
}

run_pair() {  # run_pair GROUP SRC DST EXPECTED [--download]
  local g=$1 src=$2 dst=$3 n=$4 rc before after
  shift 4
  local fl=() rl=(--checkers 32)
  if [ "${1:-}" = --download ]; then fl=(--download) rl+=(--download); fi
  run_ferry "$g" ferry "$src" "$dst" "$n" "${fl[@]}"
  if [ "$n" -gt 1000 ]; then
    run_ferry "$g" "ferry --list-ranges 4" "$src" "$dst" "$n" "${fl[@]}" --list-ranges 4
  fi
  sleep 2
  before=$(usage_snapshot "a:$src" "b:$dst")
  rc=0
  timed "$WORK/$g-rclone.log" "${RCLONE[@]}" check "ra:$src" "rb:$dst" \
    --combined "$WORK/$g-rclone.txt" "${rl[@]}" || rc=$?
  sleep 2
  after=$(usage_snapshot "a:$src" "b:$dst")
  record "$g" rclone "$WORK/$g-rclone.txt" "$n" "$rc" n/a "$(ops_during "$before" "$after")"
}

has_workload small && run_pair "$SMALL_N × $SMALL_KB KiB" "$SRC_SMALL" "$DST_SMALL" "$SMALL_N"
has_workload big && run_pair "$BIG_N × $BIG_MB MiB, two layouts" "$SRC_BIG" "$DST_BIG" "$BIG_N"
has_workload big-download && run_pair "$BIG_N × $BIG_MB MiB, --download" "$SRC_BIG" "$DST_BIG" \
  "$BIG_N" --download

# ------------------------------------------------------------------ report
first_line() { local out; out=$("$@" 2>/dev/null) || true; echo "${out%%$'\n'*}"; }
echo
echo "verify, RGW A vs B on $(nproc) cores$(server_setup); $(first_line "$FERRY_BIN" --version), $(first_line "${RCLONE[@]}" version); $(date -u +%F)"
echo
echo "| pair | tool | wall s | CPU s | peak RSS MiB | servers' CPU s | wall / ferry | CPU / ferry | check | requests (RGW) | requests (ferry's count) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
report_rows > "$WORK/rows"
i=0
while IFS= read -r row; do echo "$row ${R_OPS[$i]} | ${R_REQ[$i]} |"; i=$((i + 1)); done < "$WORK/rows"
echo
[ "$FAILURES" = 0 ] || { log "$FAILURES run(s) failed"; exit 1; }
