#!/usr/bin/env bash
# Benchmark: one `ferry worker` serving four capabilities at once, on one executor and its
# budgets, between the two gateways of one RGW pair (region A -> region B). Four runs are
# queued into one state store before the worker starts:
#   replicate   every version of BENCH_REP_KEYS keys x BENCH_REP_MIB MiB (`replicate --detach`)
#   unpack      a compressed sync of BENCH_LOG_MIB MiB of text packed with --pack-only
#   restore     BENCH_BK_MIB MiB backed up, restored (`restore --prefix "" --detach`)
#   cache warm  BENCH_CACHE_MIB MiB warmed into a cache bucket (`cache warm --detach`)
# The worker runs with --memory BENCH_MEMORY and --concurrency BENCH_CONCURRENCY until every run
# is done. Reported: its wall, CPU and peak RSS (VmHWM), the servers' CPU meanwhile, the most
# HTTP requests it had in flight at once (ferry_http_requests_in_flight_peak), the most of its
# buffer budget in use at once (ferry_executor_memory_bytes_peak), and per run a
# check of its bytes at the destination. The goals: peak RSS <= --memory + 96 MiB, requests in
# flight <= --concurrency. Then, for scale, each run alone in a worker of its own (same flags).
#
#   bash bench/bench-mixed-worker.sh
#
# Environment: BENCH_REP_KEYS (8), BENCH_REP_MIB (48), BENCH_LOG_MIB (200), BENCH_BK_MIB (256),
#   BENCH_CACHE_MIB (256), BENCH_MEMORY (256MiB), BENCH_CONCURRENCY (32), BENCH_ALONE (1: also
#   each run alone), BENCH_DIR (/tmp/ferry-bench), FERRY_BIN (default: a Release build in
#   build-release/). Prints a markdown table on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
FERRY_ROOT=$PWD
# shellcheck source=scripts/lib/common.sh
source "$FERRY_ROOT/scripts/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$FERRY_ROOT/bench/lib/measure.sh"

REP_KEYS=${BENCH_REP_KEYS:-8}
REP_MIB=${BENCH_REP_MIB:-48}
LOG_MIB=${BENCH_LOG_MIB:-200}
BK_MIB=${BENCH_BK_MIB:-256}
CACHE_MIB=${BENCH_CACHE_MIB:-256}
MEMORY=${BENCH_MEMORY:-256MiB}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
ID=fmx$(date +%s)
log() { ferry_log bench "$@"; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/install-deps.sh build rgw bench
ensure_ferry_bin

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/mixed.XXXXXX")
buckets=()  # "a NAME" / "b NAME": deleted at exit
cleanup() {
  local b
  set +e
  for b in "${buckets[@]}"; do purge_bucket $b; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rgw_up
CONFIG=$WORK/ferry.toml
write_ferry_config "$CONFIG"
export_ferry_keys
bucket() { make_bucket "$1" "$2"; buckets+=("$1 $2"); }
versioned() { bucket "$1" "$2"; "aws_$1" s3api put-bucket-versioning --bucket "$2" --versioning-configuration Status=Enabled; }
ferry() { "$FERRY_BIN" --config "$CONFIG" "$@"; }

# The sources, once
log "generating the sources"
versioned a "$ID-rep"
mkdir -p "$WORK/gen/rep" "$WORK/logs" "$WORK/bk" "$WORK/hot"
for i in $(seq 1 "$REP_KEYS"); do
  head -c $((REP_MIB << 20)) /dev/urandom > "$WORK/gen/rep/k$i"
  aws_a s3 cp --quiet "$WORK/gen/rep/k$i" "s3://$ID-rep/k$i"
done
rm -rf "$WORK/gen"
python3 - "$WORK/logs" "$LOG_MIB" <<'PY'
import os, random, sys
out, mib = sys.argv[1], int(sys.argv[2])
random.seed(7)
words = ["GET", "PUT", "200", "404", "503", "/api/v1/items", "/static/app.js", "user", "ok", "slow"]
per_file = 2 << 20
for f in range(max(1, mib * (1 << 20) // per_file)):
    with open(os.path.join(out, "log%04d.txt" % f), "w") as fh:
        n = 0
        while n < per_file:
            line = "%d %s\n" % (f * 1000000 + n, " ".join(random.choice(words) for _ in range(12)))
            fh.write(line)
            n += len(line)
PY
for i in $(seq 1 $((BK_MIB / 4))); do head -c $((4 << 20)) /dev/urandom > "$WORK/bk/f$i"; done
for i in $(seq 1 $((CACHE_MIB / 4))); do head -c $((4 << 20)) /dev/urandom > "$WORK/hot/o$i"; done
bucket a "$ID-bk"
bucket a "$ID-csrc"
ferry sync "$WORK/hot" "ra:$ID-csrc/hot" --no-state --no-progress >/dev/null 2>&1
ferry backup "$WORK/bk" "ra:$ID-bk/b" --state "$WORK/backup.db" >/dev/null 2>&1
rm -rf "$WORK/hot"

# queue NAME RUNS...: a state store with the runs asked for (rep, unpack, restore, warm), queued
# into destinations of their own (their names in $WORK/NAME.dst)
queue() {
  local name=$1 state=$WORK/$1.db run
  shift
  cp "$WORK/backup.db" "$state"  # the backup's catalog, for the restore
  : > "$WORK/$name.dst"
  for run in "$@"; do
    case $run in
      rep)
        versioned b "$ID-$name-rep"
        { cat "$CONFIG"; printf '\n[[replication.rules]]\nid = "all"\ndestinations = ["rb:%s"]\n' "$ID-$name-rep"; } > "$WORK/$name.toml"
        "$FERRY_BIN" --config "$WORK/$name.toml" replicate "ra:$ID-rep" --state "$state" --detach 2>/dev/null ;;
      unpack)
        bucket b "$ID-$name-logs"; bucket b "$ID-$name-stg"
        ferry sync "$WORK/logs" "rb:$ID-$name-logs" --compress --staging "rb:$ID-$name-stg/s" \
          --pack-only --state "$state" --no-progress >/dev/null 2>&1 ;;
      restore)
        bucket b "$ID-$name-rst"
        ferry restore "ra:$ID-bk/b" --prefix "" --to "rb:$ID-$name-rst" --state "$state" --detach 2>/dev/null ;;
      warm)
        bucket b "$ID-$name-cache"
        ferry cache warm "ra:$ID-csrc" --prefix hot/ --cache "rb:$ID-$name-cache" --ttl 1h \
          --state "$state" --detach 2>/dev/null ;;
    esac
    echo "$run" >> "$WORK/$name.dst"
  done
}

unfinished() { "$FERRY_BIN" jobs list --state "$1" | grep -c -v ': done;' || true; }
# serve NAME: one worker on NAME's store until every run is done; sets W_WALL, W_CPU, W_RSS
# (MiB), W_SERVERS, W_PEAK (requests in flight at once), W_DEAD
serve() {
  local name=$1 state=$WORK/$1.db conf=$CONFIG pid start ticks_before hz stat
  [ -f "$WORK/$name.toml" ] && conf=$WORK/$name.toml
  settle
  hz=$(getconf CLK_TCK)
  ticks_before=$(server_ticks)
  start=$(date +%s.%N)
  "$FERRY_BIN" --config "$conf" --metrics-file "$WORK/$name.prom" worker --state "$state" \
    --memory "$MEMORY" --concurrency "$CONCURRENCY" 2>"$WORK/$name.err" &
  pid=$!
  while [ "$(unfinished "$state")" != 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  W_WALL=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  W_RSS=$(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 ))
  stat=$(sed 's/.*) //' "/proc/$pid/stat")
  W_CPU=$(echo "$stat" | awk -v h="$hz" '{ printf "%.2f", ($12 + $13) / h }')
  W_SERVERS=$(awk -v a="$ticks_before" -v b="$(server_ticks)" -v h="$hz" 'BEGIN { printf "%.2f", (b - a) / h }')
  kill -INT "$pid"; wait "$pid" || true
  W_PEAK=$(awk '$1 == "ferry_http_requests_in_flight_peak" {print $2}' "$WORK/$name.prom")
  W_BUDGET=$(awk '$1 == "ferry_executor_memory_bytes_peak" {printf "%d", $2 / 1048576}' "$WORK/$name.prom")
  W_DEAD=$("$FERRY_BIN" jobs dlq --state "$state" | grep -c . || true)
}

# checks NAME: each run's bytes at its destination
checks() {
  local name=$1 run out=() n
  while read -r run; do
    case $run in
      rep) n=$(aws_b s3api list-object-versions --bucket "$ID-$name-rep" \
             --query "length(Versions[?Size==\`$((REP_MIB << 20))\`])" --output text)
           [ "$n" = "$REP_KEYS" ] && out+=("rep ok") || out+=("rep FAILED ($n versions)") ;;
      unpack) rm -rf "$WORK/back"; ferry sync "rb:$ID-$name-logs" "$WORK/back" --no-state --no-progress >/dev/null 2>&1
           diff -rq "$WORK/logs" "$WORK/back" >/dev/null && out+=("unpack ok") || out+=("unpack FAILED") ;;
      restore) rm -rf "$WORK/back"; ferry sync "rb:$ID-$name-rst" "$WORK/back" --no-state --no-progress >/dev/null 2>&1
           diff -rq "$WORK/bk" "$WORK/back" >/dev/null && out+=("restore ok") || out+=("restore FAILED") ;;
      warm) n=$(count_objects b "$ID-$name-cache")
           [ "$n" = $((CACHE_MIB / 4)) ] && out+=("warm ok") || out+=("warm FAILED ($n objects)") ;;
    esac
  done < "$WORK/$name.dst"
  rm -rf "$WORK/back"
  local IFS=,
  echo "${out[*]}"
}

ROWS=()
row() { # NAME RUNS...
  local name=$1
  log "worker: $*"
  queue "$@"
  serve "$name"
  local goal_rss="no" goal_req="no"
  [ "$W_RSS" -le $(( ${MEMORY%MiB} + 96 )) ] && goal_rss=yes
  [ -n "$W_PEAK" ] && [ "${W_PEAK%.*}" -le "$CONCURRENCY" ] && goal_req=yes
  ROWS+=("| ${*:2} | $W_WALL | $W_CPU | $W_RSS ($goal_rss) | ${W_BUDGET:-n/a} | ${W_PEAK:-n/a} ($goal_req) | $W_SERVERS | $W_DEAD | $(checks "$name") |")
}
row mixed rep unpack restore warm
if [ "${BENCH_ALONE:-1}" = 1 ]; then
  row alone-rep rep
  row alone-unpack unpack
  row alone-restore restore
  row alone-warm warm
fi

echo "one ferry worker, --memory $MEMORY --concurrency $CONCURRENCY: replicate $REP_KEYS x $REP_MIB MiB versions, unpack of $LOG_MIB MiB of logs, restore of $BK_MIB MiB, cache warm of $CACHE_MIB MiB$(server_setup)"
echo
echo "| runs served | wall s | CPU s | peak RSS MiB (<= memory + 96) | budget's peak MiB | requests in flight at most (<= concurrency) | servers' CPU s | dead jobs | checks |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
